"""The page model as the PDF and text extractors fill it.

PDF facts below were read off the sample PDFs themselves (their text layer and a rendering
of the pages): the appendix header rows, the full-width section row of 001 and the lead
unit and deadline cells of 004 that span several rows.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from conftest import SAMPLE_IDS

from extractors.errors import ExtractionError
from extractors.model import Document, Line, Table, clean_text
from extractors.pdf import extract_pdf, join_cell_lines
from extractors.text import extract_text_file, parse_text, strip_markup

#: Header row of each sample's appendix table, as printed in the PDF.
APPENDIX_HEADERS = {
    "000_c01f5def24a8cc1f": ["Nhiệm vụ chung", "Nhiệm vụ cụ thể", "Sản phẩm", "Cơ quan chủ trì",
                             "Cơ quan phối hợp", "Thời gian hoàn thành"],
    "001_174c7ea9301aa0d6": ["STT", "Nội dung thực hiện", "Giải pháp thực hiện", "Phân công thực hiện",
                             "Thời gian thực hiện"],
    "003_453ccdb535033752": ["TT", "1- Mục tiêu", "2- Nhiệm vụ", "3- Hoạt động", "4- Kết quả/ Sản phẩm",
                             "5-Chủ trì", "6-Phối hợp", "7-Thời gian", "8- Kinh phí (triệu đồng)"],
    "004_07b90c17cd1837c6": ["TT", "Nhiệm vụ", "Đơn vị thực hiện", "Đơn vị phối hợp", "Thời gian thực hiện"],
}


def _all_texts(doc: Document):
    for page in doc.pages:
        for b in page.blocks:
            if isinstance(b, Line):
                yield b.text
            else:
                for c in b.cells:
                    yield c.text


def _cell_with(table: Table, prefix: str):
    hits = [c for c in table.cells if c.text.startswith(prefix)]
    assert len(hits) == 1, f"expected one cell starting with {prefix!r}, got {[c.text for c in hits]}"
    return hits[0]


# --------------------------------------------------------------------------- PDF text layer


@pytest.mark.parametrize("doc_id", sorted(APPENDIX_HEADERS))
def test_pdf_appendix_tables_are_on_landscape_pages_with_the_header_row(pdf_docs, doc_id):
    doc = pdf_docs[doc_id]
    table_pages = [p for p in doc.pages if p.tables]
    assert table_pages, "the appendix tables were not found"
    for page in doc.pages:
        landscape = page.width > page.height
        # The body is portrait and has no ruled table; every appendix page is landscape.
        assert bool(page.tables) == landscape, f"page {page.number}: landscape={landscape}, tables={len(page.tables)}"
        assert page.method == "text_layer"
    tables = [t for p in table_pages for t in p.tables]
    for t in tables:
        # The header row repeats at the top of every page's table.
        assert t.text_rows()[0] == APPENDIX_HEADERS[doc_id]
        assert t.n_cols == len(APPENDIX_HEADERS[doc_id])
    assert len(tables) >= 4


def test_pdf_without_appendix_has_no_tables(pdf_docs):
    doc = pdf_docs["002_5402a99ec6066c4b"]
    assert all(p.width < p.height and not p.tables for p in doc.pages)
    assert len(doc.pages) == 6


def test_pdf_section_row_is_one_cell_spanning_all_columns(pdf_docs):
    page = pdf_docs["001_174c7ea9301aa0d6"].pages[1]
    table = page.tables[0]
    cell = _cell_with(table, "1. Công tác chỉ đạo, điều hành")
    assert (cell.col_span, cell.row_span) == (table.n_cols, 1) == (5, 1)
    assert cell.col == 0
    # Positions under the span hold no cell of their own.
    assert all(table.cell_at(cell.row, c) is None for c in range(1, table.n_cols))
    assert table.text_rows()[cell.row] == ["1. Công tác chỉ đạo, điều hành", "", "", "", ""]
    # Every full-width row of the 001 appendix is a numbered section row.
    wide = [c.text for p in pdf_docs["001_174c7ea9301aa0d6"].pages for t in p.tables for c in t.cells
            if c.col_span == t.n_cols]
    assert [w.split(".")[0] for w in wide] == [str(i) for i in range(1, 9)]


def test_pdf_section_cell_spans_the_rows_of_its_tasks(pdf_docs):
    table = pdf_docs["000_c01f5def24a8cc1f"].pages[7].tables[0]
    cell = _cell_with(table, "I. Cải cách thể chế")
    assert (cell.row, cell.col, cell.row_span, cell.col_span) == (1, 0, 4, 1)
    task_starts = [table.cell_at(r, 1).text[:2] for r in range(1, 5)]
    assert task_starts == ["1.", "2.", "3.", "4."]
    assert all(table.cell_at(r, 0) is None for r in range(2, 5))


def test_pdf_unit_and_deadline_cells_span_rows(pdf_docs):
    page = pdf_docs["004_07b90c17cd1837c6"].pages[18]
    table = page.tables[0]
    lead = _cell_with(table, "Phòng Kế hoạch - Tài chính; Văn phòng Sở")
    coord = _cell_with(table, "Các Phòng chức năng và các đơn vị trực thuộc có liên quan")
    deadline = _cell_with(table, "Sau khi quy hoạch được phê duyệt")
    assert (lead.row, lead.col, lead.row_span) == (1, 2, 3)
    assert (coord.row, coord.col, coord.row_span) == (1, 3, 3)
    assert (deadline.row, deadline.col, deadline.row_span) == (1, 4, 2)
    # The third row prints its own deadline under the two-row span.
    assert table.text_rows()[3][4] == "Hàng năm"
    assert table.text_rows()[2][2:] == ["", "", ""]
    # The "Chỉ tiêu 3.1." heading line is a Line placed before its table in reading order.
    kinds = [(type(b).__name__, b.text if isinstance(b, Line) else None) for b in page.blocks]
    heading = next(i for i, (k, t) in enumerate(kinds) if k == "Line" and t.startswith("Chỉ tiêu 3.1."))
    assert kinds[heading + 1][0] == "Table"


def test_pdf_cell_text_joins_visual_lines(pdf_docs):
    # The long deadline cell of 000 is printed over 7 visual lines in a narrow column.
    table = pdf_docs["000_c01f5def24a8cc1f"].pages[7].tables[0]
    assert table.cell_at(4, 5).text == (
        "- Kế hoạch: Chậm nhất trong Quý I/2024. - Báo cáo kết quả thực hiện: Tháng 11/2024."
    )
    assert join_cell_lines("Kế hoạch số 6136/KH-\nSYT ngày\n 27/12/2021") == "Kế hoạch số 6136/KH-SYT ngày 27/12/2021"
    assert join_cell_lines("giai đoạn 2021 -\n2025") == "giai đoạn 2021 - 2025"
    assert join_cell_lines(None) == ""


@pytest.mark.parametrize("fmt", ["pdf", "txt"])
@pytest.mark.parametrize("doc_id", SAMPLE_IDS)
def test_all_text_is_nfc_and_collapsed(samples, doc_id, fmt):
    doc = samples.document(doc_id, fmt)
    texts = list(_all_texts(doc))
    assert len(texts) > 50
    for t in texts:
        assert unicodedata.is_normalized("NFC", t), t
        assert t == t.strip() and "  " not in t and "\n" not in t and "\u00a0" not in t, repr(t)


@pytest.mark.parametrize("doc_id", SAMPLE_IDS)
def test_pdf_header_block_columns_are_separate_lines(pdf_docs, doc_id):
    lines = pdf_docs[doc_id].pages[0].lines
    number = [ln for ln in lines if re.match(r"^Số\s*:.*/KH-SYT$", ln.text)]
    date = [ln for ln in lines if re.match(r"^[A-ZĐ][^,]+, ngày .*tháng .*năm \d{4}$", ln.text)]
    assert len(number) == 1 and len(date) == 1, [ln.text for ln in lines[:12]]
    number, date = number[0], date[0]
    assert "ngày" not in number.text and "Số" not in date.text
    # Side by side on one visual line: the number on the left, place and date on the right.
    assert abs(number.bbox.top - date.bbox.top) < 3
    assert number.bbox.x1 < date.bbox.x0


def test_pdf_header_lines_carry_weight_and_geometry(pdf_docs):
    lines = pdf_docs["003_453ccdb535033752"].pages[0].lines
    title = next(ln for ln in lines if ln.text == "KẾ HOẠCH")
    assert title.bold is True
    body = next(ln for ln in lines if ln.text.startswith("Thực hiện Kế hoạch số 6478/KH-UBND"))
    assert body.bold is False
    assert title.bbox.top < body.bbox.top
    # Blocks of a page are in reading order (top to bottom).
    tops = [round(b.bbox.top, 1) for b in pdf_docs["003_453ccdb535033752"].pages[0].blocks]
    assert tops == sorted(tops)


def test_pdf_damaged_file_raises_extraction_error(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n this is not really a pdf \n%%EOF")
    with pytest.raises(ExtractionError) as err:
        extract_pdf(bad)
    assert err.value.stage == "open"
    assert "cannot open PDF" in err.value.reason


# --------------------------------------------------------------------------- converted text


def test_text_tab_rows_become_a_grid_without_known_spans():
    pages = parse_text("Trước bảng\nSTT\tNội dung\tChủ trì\n1\tViệc một\tVăn phòng\n\tviệc tiếp\t\nSau bảng\n")
    blocks = pages[0].blocks
    assert [type(b).__name__ for b in blocks] == ["Line", "Table", "Line"]
    table = blocks[1]
    assert (table.n_rows, table.n_cols, table.spans_known) == (3, 3, False)
    assert table.text_rows() == [["STT", "Nội dung", "Chủ trì"], ["1", "Việc một", "Văn phòng"],
                                 ["", "việc tiếp", ""]]
    assert all(c.row_span == 1 and c.col_span == 1 for c in table.cells)


def test_text_markup_is_stripped_and_bold_is_kept():
    text = (
        "<b>1. Công tác chỉ đạo, điều hành</b>\n"
        "<p>Đoạn <b>văn</b> bản</p>\n"
        "<ul><li>Mục một</li><li>Mục hai</li></ul>\n"
        "## **KẾ HOẠCH**\n"
        "Một **chữ đậm** giữa câu\n"
        "STT\t<p>Nhiệm vụ</p>\t**Chủ trì**\n"
    )
    blocks = parse_text(text)[0].blocks
    lines = [b for b in blocks if isinstance(b, Line)]
    assert [(ln.text, ln.bold) for ln in lines] == [
        ("1. Công tác chỉ đạo, điều hành", True),
        ("Đoạn văn bản", None),
        ("Mục một Mục hai", None),
        ("KẾ HOẠCH", True),
        ("Một chữ đậm giữa câu", None),
    ]
    assert blocks[-1].text_rows() == [["STT", "Nhiệm vụ", "Chủ trì"]]
    assert strip_markup("  <b>A &amp; B</b> ") == ("A & B", True)


def test_text_markdown_pipe_table_becomes_a_grid():
    text = (
        "| TT | Nhiệm vụ | Thời gian |\n"
        "|---|:---:|---|\n"
        "| 1 | <b>Làm</b> việc A | Năm 2024 |\n"
        "| 2 | Làm việc B | |\n"
        "Dòng sau bảng\n"
    )
    blocks = parse_text(text)[0].blocks
    table = blocks[0]
    assert isinstance(table, Table) and table.spans_known is False
    assert table.text_rows() == [["TT", "Nhiệm vụ", "Thời gian"], ["1", "Làm việc A", "Năm 2024"],
                                 ["2", "Làm việc B", ""]]
    assert isinstance(blocks[1], Line) and blocks[1].text == "Dòng sau bảng"


def test_text_html_table_keeps_rowspan_and_colspan():
    text = (
        '<table><tr><th>TT</th><th>Nhiệm vụ</th><th>Chủ trì</th><th>Thời gian</th></tr>\n'
        '<tr><td colspan="4"><b>I. Cải cách thể chế</b></td></tr>\n'
        '<tr><td>1</td><td>Việc <br/>A</td><td rowspan="2">Văn phòng Sở</td><td>Quý I/2024</td></tr>\n'
        '<tr><td>2</td><td>Việc B</td><td>Quý II/2024</td></tr>\n'
        "</table>\n"
    )
    table = parse_text(text)[0].tables[0]
    assert table.spans_known is True
    assert (table.n_rows, table.n_cols) == (4, 4)
    section = table.cell_at(1, 0)
    assert (section.text, section.col_span, section.row_span) == ("I. Cải cách thể chế", 4, 1)
    lead = table.cell_at(2, 2)
    assert (lead.text, lead.row_span, lead.col_span) == ("Văn phòng Sở", 2, 1)
    # The cell under the row span is not a cell; the next one moves to its right.
    assert table.cell_at(3, 2) is None
    assert table.text_rows()[3] == ["2", "Việc B", "", "Quý II/2024"]
    assert table.cell_at(2, 1).text == "Việc A"


def test_text_is_nfc_and_form_feed_starts_a_page(tmp_path):
    nfd = unicodedata.normalize("NFD", "Kế hoạch cải cách hành chính\fTrang hai: Sở Y tế")
    assert not unicodedata.is_normalized("NFC", nfd)
    path = tmp_path / "plan.txt"
    path.write_bytes(b"\xef\xbb\xbf" + nfd.encode("utf-8"))  # with a UTF-8 BOM
    doc = extract_text_file(path)
    assert doc.source_format == "txt"
    assert [p.number for p in doc.pages] == [1, 2]
    assert [p.method for p in doc.pages] == ["text_file", "text_file"]
    assert doc.pages[0].lines[0].text == "Kế hoạch cải cách hành chính"
    assert doc.pages[1].lines[0].text == "Trang hai: Sở Y tế"
    assert all(unicodedata.is_normalized("NFC", t) for t in _all_texts(doc))


def test_text_extractor_rejects_non_utf8_and_binary(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Kế hoạch".encode("utf-16-le"))
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"abc\x00def" * 20)
    for path in (latin, binary):
        with pytest.raises(ExtractionError) as err:
            extract_text_file(path)
        assert err.value.stage == "decode"


@pytest.mark.parametrize("doc_id", SAMPLE_IDS)
def test_sample_text_files_lose_their_markup(txt_docs, raw_dir, doc_id):
    raw = (raw_dir / f"{doc_id}.txt").read_text(encoding="utf-8")
    texts = list(_all_texts(txt_docs[doc_id]))
    for t in texts:
        assert not re.search(r"</?(b|p|ul|li|br)\b", t, re.I), t
        assert "**" not in t, t
    if "\t" in raw:
        tables = [t for p in txt_docs[doc_id].pages for t in p.tables]
        assert tables and all(t.spans_known is False for t in tables)


def test_clean_text_normalises():
    assert clean_text(None) == ""
    assert clean_text("  a\u00a0 b\n c ") == "a b c"
    assert clean_text(unicodedata.normalize("NFD", "Thanh Hóa")) == "Thanh Hóa"


# --------------------------------------------------------------------------- web-page converter format


def test_pipe_block_cells_rows_and_group_rows():
    """Every cell between bare ``|`` lines, a row closed by an extra ``|``; a group row of
    one cell is padded, and a run of empty slots completes the row before it."""
    text = "\n".join([
        "Trước bảng", "", "|", "**TT**", "|", "**Nội dung/nhiệm", "vụ**", "|", "**Cơ quan**", "**chủ trì**", "|",
        "|", "|", "**I. Kinh", "tế số**", "|", "|", "|",
        "1", "|", "Tổ chức điều chỉnh, bổ sung", "quy hoạch *hạ* *tầng*", "|", "Sở Tài chính", "|",
        "", "", "|",  # blank lines between two pieces of one table
        "2", "|", "Việc hai", "|", "** **", "|", "", "Sau bảng",
    ])
    blocks = parse_text(text)[0].blocks
    assert [type(b).__name__ for b in blocks] == ["Line", "Table", "Line"]
    table = blocks[1]
    assert table.spans_known is False
    assert table.text_rows() == [
        ["TT", "Nội dung/nhiệm vụ", "Cơ quan chủ trì"],
        ["", "I. Kinh tế số", ""],
        ["1", "Tổ chức điều chỉnh, bổ sung quy hoạch hạ tầng", "Sở Tài chính"],
        ["2", "Việc hai", ""],
    ]
    assert table.cell_at(0, 2).bold and table.cell_at(1, 1).bold and not table.cell_at(2, 1).bold


def test_pipe_block_ends_at_prose_after_its_last_bar():
    """In a file without blank lines a table ends where a long run of prose follows a bar."""
    prose = [f"dòng văn bản số {k} của một đoạn dài viết liền không có dòng trống nào" for k in range(45)]
    text = "\n".join(["|", "Nơi nhận:", "- Như trên;", "|", "**BỘ TRƯỞNG**", "|", *prose, "|", "x", "|"])
    blocks = parse_text(text)[0].blocks
    assert isinstance(blocks[0], Table)
    assert blocks[0].text_rows() == [["Nơi nhận: - Như trên;", "BỘ TRƯỞNG"]]
    assert isinstance(blocks[1], Line) and blocks[1].text.startswith("dòng văn bản số 0")


def test_hard_wrapped_paragraphs_are_joined_and_headings_stay_apart():
    body = ("Triển khai thực hiện Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị về\n"
            "đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc\n"
            "gia; UBND thành phố ban hành Kế hoạch với những nội dung cụ thể như sau:\n")
    item = ("- Phát triển hạ tầng số, mạng viễn thông 5G băng rộng bảo đảm dung lượng lớn,\n"
            "tốc độ cao, công nghệ hiện đại; hạ tầng điện toán đám mây được tích hợp rộng\n"
            "rãi bảo đảm phát triển hài hòa.\n")
    text = ("**I. MỤC\nĐÍCH, YÊU CẦU**\n\n" + body + "\n" + item * 6 + "1.\nCông văn số 2359/BVHTTDL-VP ngày\n"
            "28/5/2025 về việc đôn đốc.\n**2. Yêu\ncầu**\n" + body * 4)
    lines = parse_text(text)[0].lines
    assert (lines[0].text, lines[0].bold) == ("I. MỤC ĐÍCH, YÊU CẦU", True)
    assert lines[1].text.startswith("Triển khai thực hiện") and lines[1].text.endswith("cụ thể như sau:")
    assert " về đột phá " in lines[1].text and lines[1].bold is None
    assert [ln.text for ln in lines[2:8]] == [item.replace("\n", " ").strip()] * 6
    assert lines[8].text == "1. Công văn số 2359/BVHTTDL-VP ngày 28/5/2025 về việc đôn đốc."
    assert (lines[9].text, lines[9].bold) == ("2. Yêu cầu", True)


def test_short_lines_of_a_plain_text_file_are_not_joined():
    """A file whose lines are whole paragraphs (the seeds) keeps one Line per line."""
    text = "KẾ HOẠCH\nCải cách hành chính năm 2024\n" + ("Một đoạn văn dài " * 10 + "\n") * 30
    lines = parse_text(text)[0].lines
    assert [ln.text for ln in lines[:2]] == ["KẾ HOẠCH", "Cải cách hành chính năm 2024"]


def test_dev2_converted_text_tables(dev2_dir):
    """The appendix tables of the converted web pages come out as grids with their header."""
    doc = extract_text_file(dev2_dir / "texts" / "dev2_hanoi-310.md")
    tables = [b for _, b in doc.blocks() if isinstance(b, Table)]
    header = tables[0].text_rows()
    assert header[0][0].startswith("ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI")
    assert header[1] == ["Số: 310/KH-UBND", "Hà Nội, ngày 24 tháng 11 năm 2025"]
    appendix = tables[-1].text_rows()
    assert appendix[0] == ["TT", "Nội dung/nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian thực hiện"]
    assert len(appendix) == 7 and appendix[2][4] == "Quý IV/2025- Quý II/2026"


# --------------------------------------------------------------------------- ids and serialisation


def test_model_items_have_ids_and_round_trip_through_dicts(dev2_dir):
    from extractors.model import document_from_dict, document_to_dict, page_from_dict, page_to_dict

    doc = extract_text_file(dev2_dir / "texts" / "dev2_bacninh-144.md")
    tables = [b for _, b in doc.blocks() if isinstance(b, Table)]
    assert tables[0].id == "p1-t1" and tables[0].cells[0].id == "p1-t1-r0c0"
    assert doc.pages[0].lines[0].id.startswith("p1-l")
    ids = [b.id for _, b in doc.blocks()]
    assert len(ids) == len(set(ids))
    page = doc.pages[0]
    again = page_from_dict(page_to_dict(page))
    assert again == page
    assert again.tables[0].spans_known is False  # the text source's flag survives
    assert any(c.bold for c in again.tables[-1].cells)
    assert document_from_dict(document_to_dict(doc)) == doc


def test_pandoc_grid_table_cells_over_several_lines():
    text = "\n".join([
        "Trước bảng",
        "+-----+----------------------+-------------+",
        "| TT  | Nội dung             | Chủ trì     |",
        "+=====+======================+=============+",
        "| 1   | Rà soát thủ tục hành | Sở Tư pháp  |",
        "|     | chính **nội bộ**     |             |",
        "+-----+----------------------+-------------+",
        "| 2   | Kiểm tra công vụ     | Sở Nội vụ   |",
        "+-----+----------------------+-------------+",
        "Sau bảng",
    ])
    blocks = parse_text(text)[0].blocks
    assert [type(b).__name__ for b in blocks] == ["Line", "Table", "Line"]
    assert blocks[1].text_rows() == [["TT", "Nội dung", "Chủ trì"],
                                     ["1", "Rà soát thủ tục hành chính nội bộ", "Sở Tư pháp"],
                                     ["2", "Kiểm tra công vụ", "Sở Nội vụ"]]


def test_pipe_block_over_a_signature_and_prose_is_split_before_the_next_table():
    """Without blank lines a signature table, the appendix heading and the appendix table
    read as one block; its first row is wider than the rows under it and ends in the
    appendix's bold header, which is where it is cut."""
    text = "\n".join([
        "|", "Nơi nhận:", "- Như trên;", "|", "**TM. ỦY BAN NHÂN DÂN**", "|",
        "**PHỤ LỤC**", "NHIỆM VỤ CHỦ YẾU", "|",
        "**TT**", "|", "**Nội dung**", "|", "**Chủ trì**", "|", "|",
        "1", "|", "Việc một", "|", "Sở A", "|", "|",
        "2", "|", "Việc hai", "|", "Sở B", "|", "|",
        "3", "|", "Việc ba", "|", "Sở C", "|",
    ])
    blocks = parse_text(text)[0].blocks
    kinds = [type(b).__name__ for b in blocks]
    assert kinds == ["Table", "Line", "Line", "Table"], kinds
    assert blocks[0].text_rows() == [["Nơi nhận: - Như trên;", "TM. ỦY BAN NHÂN DÂN"]]
    assert [blocks[1].text, blocks[2].text] == ["PHỤ LỤC", "NHIỆM VỤ CHỦ YẾU"]
    assert blocks[3].text_rows()[0] == ["TT", "Nội dung", "Chủ trì"] and len(blocks[3].text_rows()) == 4
