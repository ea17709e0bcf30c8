"""extract_docx on real sample plans and on small documents built here.

Expected spans and headers were read off the same plans' digital PDFs (corpus digital.pdf,
first appendix page): e.g. in 000 the section cell "I. Cải cách thể chế" stands beside four
task rows, and in 003 "Cải cách thể chế" spans the eight columns after "I".
"""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn

from extractors.docx import extract_docx
from extractors.errors import ExtractionError
from extractors.model import Document, Line, Table, clean_text

FIXTURES = Path(__file__).parent / "fixtures" / "docx"
THANH_HOA = FIXTURES / "000_c01f5def24a8cc1f.docx"  # vMerge section cells, 6 columns
BAC_GIANG = FIXTURES / "003_453ccdb535033752.docx"  # gridSpan section rows + vMerge, 9 columns


@pytest.fixture(scope="module")
def thanh_hoa() -> Document:
    return extract_docx(THANH_HOA)


@pytest.fixture(scope="module")
def bac_giang() -> Document:
    return extract_docx(BAC_GIANG)


def _appendix(doc: Document) -> Table:
    return doc.pages[0].tables[-1]


def test_one_page_docx_method(thanh_hoa: Document) -> None:
    assert [p.number for p in thanh_hoa.pages] == [1]
    assert thanh_hoa.pages[0].method == "docx"
    assert thanh_hoa.source_format == "docx"
    assert len(thanh_hoa.sha256) == 64


def test_tables_and_columns(thanh_hoa: Document, bac_giang: Document) -> None:
    # the borderless header and signature blocks read as text lines (as in the PDF); the
    # appendix is ONE table although it fills 8 PDF pages
    assert [(t.n_rows, t.n_cols) for t in thanh_hoa.pages[0].tables] == [(38, 6)]
    assert [(t.n_rows, t.n_cols) for t in bac_giang.pages[0].tables] == [(42, 9)]
    texts = [ln.text for ln in bac_giang.pages[0].lines]
    assert "Số: 14/KH-SYT" in texts and "PHÓ GIÁM ĐỐC" in texts


def test_header_rows(thanh_hoa: Document, bac_giang: Document) -> None:
    assert _appendix(thanh_hoa).text_rows()[0] == [
        "Nhiệm vụ chung",
        "Nhiệm vụ cụ thể",
        "Sản phẩm",
        "Cơ quan chủ trì",
        "Cơ quan phối hợp",
        "Thời gian hoàn thành",
    ]
    assert _appendix(bac_giang).text_rows()[0] == [
        "TT",
        "1- Mục tiêu",
        "2- Nhiệm vụ",
        "3- Hoạt động",
        "4- Kết quả/ Sản phẩm",
        "5-Chủ trì",
        "6-Phối hợp",
        "7-Thời gian",
        "8- Kinh phí (triệu đồng)",
    ]
    # the header row repeats on every PDF page but is stored once in the DOCX
    header = _appendix(thanh_hoa).text_rows()[0]
    assert sum(row == header for row in _appendix(thanh_hoa).text_rows()) == 1


def test_section_cells_span_rows(thanh_hoa: Document) -> None:
    first_col = [(c.row, c.row_span, c.text) for c in _appendix(thanh_hoa).cells if c.col == 0]
    assert [(row, span) for row, span, _ in first_col] == [
        (0, 1), (1, 4), (5, 8), (13, 4), (17, 6), (23, 5), (28, 5), (33, 5)
    ]  # fmt: skip
    assert first_col[1][2] == "I. Cải cách thể chế"
    assert first_col[2][2] == "II. Cải cách thủ tục hành chính"


def test_gridspan_and_vmerge(bac_giang: Document) -> None:
    table = _appendix(bac_giang)
    section = table.cell_at(1, 1)
    assert section is not None and section.text == "Cải cách thể chế" and section.col_span == 8
    assert table.cell_at(1, 0).text == "I"
    objective = table.cell_at(2, 1)
    assert objective is not None and objective.text.startswith("Mục tiêu 1:") and objective.row_span == 2
    assert table.cell_at(3, 1) is None  # covered by the objective above
    assert table.cell_at(3, 2).text.startswith("Nhiệm vụ 2:")


@pytest.mark.parametrize("path", [THANH_HOA, BAC_GIANG], ids=lambda p: p.stem)
def test_spans_agree_with_python_docx_expansion(path: Path) -> None:
    """python-docx's Row.cells repeats a merged cell at every grid position it covers: our one
    cell per merge must cover exactly those positions, and nothing may overlap."""
    ours = extract_docx(path).pages[0].tables
    theirs = docx.Document(str(path)).tables
    theirs = theirs[len(theirs) - len(ours):]  # borderless layout tables became text lines
    for table, reference in zip(ours, theirs, strict=True):
        owner: dict[tuple[int, int], str] = {}
        for cell in table.cells:
            for r in range(cell.row, cell.row + cell.row_span):
                for c in range(cell.col, cell.col + cell.col_span):
                    assert (r, c) not in owner, f"overlap at {(r, c)}"
                    owner[(r, c)] = cell.text
        assert len(owner) == table.n_rows * table.n_cols
        for r, row in enumerate(reference.rows):
            for c, ref_cell in enumerate(row.cells):
                assert owner[(r, c)] == clean_text(" ".join(p.text for p in ref_cell.paragraphs))


def test_merged_text_not_repeated(thanh_hoa: Document, bac_giang: Document) -> None:
    for doc in (thanh_hoa, bac_giang):
        table = _appendix(doc)
        merged = [c for c in table.cells if c.row_span > 1 or c.col_span > 1]
        assert merged
        grid = table.grid()
        for cell in merged:
            covered = [
                grid[r][c]
                for r in range(cell.row, cell.row + cell.row_span)
                for c in range(cell.col, cell.col + cell.col_span)
                if (r, c) != (cell.row, cell.col)
            ]
            assert all(x is None for x in covered)
    # each section name of the Thanh Hóa appendix (a merged first-column cell) occurs once
    sections = [c.text for c in _appendix(thanh_hoa).cells if c.col == 0 and c.row_span > 1]
    all_texts = [c.text for c in _appendix(thanh_hoa).cells]
    assert len(sections) == 7 and all(all_texts.count(s) == 1 for s in sections)


def test_text_is_nfc_and_clean(thanh_hoa: Document, bac_giang: Document) -> None:
    for doc in (thanh_hoa, bac_giang):
        texts = [b.text for b in doc.pages[0].lines]
        texts += [c.text for t in doc.pages[0].tables for c in t.cells]
        assert texts
        for text in texts:
            assert text == unicodedata.normalize("NFC", text)
            assert text == clean_text(text)


def test_body_lines_in_order_with_bold(thanh_hoa: Document) -> None:
    blocks = thanh_hoa.pages[0].blocks
    lines = thanh_hoa.pages[0].lines
    assert "SỞ Y TẾ" in [ln.text for ln in lines[:4]]  # the borderless header block, as text
    lines = lines[[ln.text for ln in lines].index("KẾ HOẠCH"):]
    assert lines[0].text == "KẾ HOẠCH" and lines[0].bold is True
    assert lines[2].text.startswith("Thực hiện Quyết định số 3740/QĐ-UBND") and lines[2].bold is False
    assert all(line.text for line in lines)  # empty paragraphs are skipped
    texts = [b.text if isinstance(b, Line) else None for b in blocks]
    assert texts.index("PHỤ LỤC") < len(blocks) - 1 and isinstance(blocks[-1], Table)


# --------------------------------------------------------------------------- built documents


def _save(document: docx.document.Document, tmp_path: Path, name: str = "built.docx") -> Path:
    path = tmp_path / name
    document.save(str(path))
    return path


def test_legacy_font_runs_are_decoded(tmp_path: Path) -> None:
    d = docx.Document()
    for text, font in (
        ("KÕ ho¹ch c¶i c¸ch hµnh chÝnh", ".VnTime"),
        ("kÕ ho¹ch", ".VnTimeH"),
        ("Keá hoaïch caûi caùch", "VNI-Times"),
        ("Kế hoạch đã là Unicode", ".VnTime"),  # a wrongly named font must not corrupt Unicode
    ):
        d.add_paragraph().add_run(text).font.name = font
    table = d.add_table(rows=1, cols=1)
    table.style = "Table Grid"
    table.cell(0, 0).paragraphs[0].add_run("Së Y tÕ").font.name = ".VnArial"
    doc = extract_docx(_save(d, tmp_path))
    assert [line.text for line in doc.pages[0].lines] == [
        "Kế hoạch cải cách hành chính",
        "KẾ HOẠCH",
        "Kế hoạch cải cách",
        "Kế hoạch đã là Unicode",
    ]
    assert doc.pages[0].tables[0].cells[0].text == "Sở Y tế"


def test_visible_text_only(tmp_path: Path) -> None:
    d = docx.Document()
    p = d.add_paragraph()
    p.add_run("Shown ")
    p.add_run("hidden ").font.hidden = True
    p.add_run("kế hoạch").font.all_caps = True
    d.add_paragraph("   ")
    bold = d.add_paragraph()
    bold.add_run("Đậm").bold = True
    bold.add_run(" ")
    bold.add_run("cả dòng").bold = True
    doc = extract_docx(_save(d, tmp_path))
    lines = doc.pages[0].lines
    assert [(line.text, line.bold) for line in lines] == [("Shown KẾ HOẠCH", False), ("Đậm cả dòng", True)]


def test_tracked_changes_and_text_boxes(tmp_path: Path) -> None:
    """Insertions count, deletions do not; a text box (DrawingML with a VML fallback copy)
    is read once, after the paragraph that anchors it."""
    xml = (
        '<w:p xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
        ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
        ' xmlns:v="urn:schemas-microsoft-com:vml">'
        '<w:r><w:t xml:space="preserve">Neo </w:t></w:r>'
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>'
        "<w:p><w:r><w:t>Trong hộp</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><v:textbox><w:txbxContent><w:p><w:r><w:t>Trong hộp</w:t></w:r></w:p>"
        "</w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
        "<w:del><w:r><w:delText>xoá</w:delText></w:r></w:del><w:ins><w:r><w:t>thêm</w:t></w:r></w:ins></w:p>"
    )
    d = docx.Document()
    d.element.body.insert(0, parse_xml(xml))
    assert [line.text for line in extract_docx(_save(d, tmp_path)).pages[0].lines] == [
        "Neo thêm",
        "Trong hộp",
    ]


def test_automatic_list_numbers(tmp_path: Path) -> None:
    d = docx.Document()
    for text in ("Mục đích", "Yêu cầu"):
        d.add_paragraph(text, style="List Number")
    d.add_paragraph("Một ý", style="List Bullet")
    lines = [line.text for line in extract_docx(_save(d, tmp_path)).pages[0].lines]
    assert lines[:2] == ["1. Mục đích", "2. Yêu cầu"]
    assert lines[2].endswith("Một ý") and lines[2] != "Một ý"


def test_grid_before_and_nested_table(tmp_path: Path) -> None:
    d = docx.Document()
    table = d.add_table(rows=2, cols=3)
    table.style = "Table Grid"
    for r in range(2):
        for c in range(3):
            table.cell(r, c).text = f"r{r}c{c}"
    # second row starts one grid column late: drop its first cell, declare w:gridBefore=1
    tr = table.rows[1]._tr
    tr.remove(tr.tc_lst[0])
    tr_pr = tr.get_or_add_trPr()
    before = OxmlElement("w:gridBefore")
    before.set(qn("w:val"), "1")
    tr_pr.insert(0, before)
    nested = table.cell(0, 2).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "lồng 1"
    nested.cell(0, 1).text = "lồng 2"
    out = extract_docx(_save(d, tmp_path)).pages[0].tables
    assert len(out) == 1  # the nested table is flattened into its cell, not a block
    assert out[0].n_cols == 3
    assert out[0].text_rows() == [["r0c0", "r0c1", "r0c2 lồng 1 lồng 2"], ["", "r1c1", "r1c2"]]


def test_damaged_file_is_an_extraction_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ExtractionError) as info:
        extract_docx(bad)
    assert info.value.stage == "open"


def test_doc_needs_libreoffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    old = tmp_path / "old.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    with pytest.raises(ExtractionError) as info:
        extract_docx(old)
    assert info.value.stage == "convert" and "LibreOffice" in info.value.reason


def test_doc_is_converted_with_soffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in soffice that 'converts' by copying a sample: checks the call and the plumbing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "soffice"
    fake.write_text(
        "#!/bin/sh\n"
        'while [ $# -gt 0 ]; do [ "$1" = "--outdir" ] && out="$2"; shift; done\n'
        f'mkdir -p "$out" && cp "{THANH_HOA}" "$out/source.docx"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    old = tmp_path / "old.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    doc = extract_docx(old)
    assert doc.source_format == "doc" and doc.source_path == str(old)
    assert _appendix(doc).n_cols == 6
