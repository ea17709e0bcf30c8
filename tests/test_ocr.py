"""OCR extractor: text-layer triage, orientation, skew, grid, Tesseract reading, cache, errors.

Real inputs: the committed scan data/raw/001_174c7ea9301aa0d6.scan200.pdf (a 200-dpi scan of the
sample whose digital PDF is data/raw/001_174c7ea9301aa0d6.pdf).  Expectations are structural
(column counts, spans, that a page reads as Vietnamese close to its text layer), never exact OCR
strings, so that a Tesseract upgrade or another scan does not break them.  At most two pages are
OCR'd, at 200 dpi, and only once per session (module fixture).
"""

from __future__ import annotations

import dataclasses
import os
import unicodedata
from pathlib import Path

import cv2
import numpy as np
import pdfplumber
import pytest

from extractors.errors import OcrUnavailable
from extractors.grid import find_tables
from extractors.model import Line, Page, Table
from extractors.ocr import OcrOptions, ocr_image, ocr_pdf_pages, page_from_dict, page_to_dict
from extractors.ocr_correct import Lexicon, PagePhrases, base_letters, correct_tokens
from extractors.ocr_engine import TesseractEngine, ocr_available, words_from_tsv
from extractors.raster import estimate_skew, prepare, render_page, rotate_right_angle, rotate_small
from extractors.text_quality import text_layer_quality, text_layer_usable

REPO = Path(__file__).resolve().parents[1]
DOC_ID = "001_174c7ea9301aa0d6"
SCAN = REPO / "data" / "raw" / f"{DOC_ID}.scan200.pdf"
DIGITAL = REPO / "data" / "raw" / f"{DOC_ID}.pdf"
DPI = 200
BODY_PAGE = 1  # portrait page: header block, body text, signature
TABLE_PAGE = 2  # landscape appendix page: the ruled task table with full-width section rows


pytestmark = pytest.mark.ocr

needs_tesseract = pytest.mark.skipif(not ocr_available(), reason="Tesseract with Vietnamese data not installed")


def _digital_table(page_number: int):
    with pdfplumber.open(DIGITAL) as pdf:
        tables = pdf.pages[page_number - 1].find_tables()
        return [(len(t.rows), len(t.columns)) for t in tables]


@pytest.fixture(scope="module")
def ocr_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ocr-cache")


@pytest.fixture(scope="module")
def ocr_pages(ocr_cache: Path) -> list[Page]:
    """The body page and the appendix page, OCR'd once through the public entry point."""
    if not ocr_available():
        pytest.skip("Tesseract with Vietnamese data not installed")
    return ocr_pdf_pages(SCAN, [BODY_PAGE, TABLE_PAGE], dpi=DPI, workers=2, cache_dir=ocr_cache)


# --------------------------------------------------------------------------- text-layer triage


def test_scanned_page_has_no_usable_text_layer() -> None:
    with pdfplumber.open(SCAN) as scan, pdfplumber.open(DIGITAL) as digital:
        assert not text_layer_usable(scan.pages[0].extract_text() or "")
        assert text_layer_quality(scan.pages[0].extract_text() or "").reason == "empty"
        assert text_layer_usable(digital.pages[0].extract_text() or "")


def test_text_quality_rejects_legacy_and_diacritic_free_layers() -> None:
    unicode_text = "Kế hoạch cải cách hành chính năm 2024 của Sở Y tế; các phòng chức năng thực hiện"
    tcvn3 = "KÕ ho¹ch c¶i c¸ch hµnh chÝnh n¨m 2024 cña Së Y tÕ; c¸c phßng chøc n¨ng thùc hiÖn"
    no_marks = "Ke hoach cai cach hanh chinh nam 2024 cua So Y te; cac phong chuc nang thuc hien"
    cid = "(cid:12)(cid:45)(cid:77) (cid:3)(cid:9)(cid:11) " * 5
    assert text_layer_usable(unicode_text)
    assert text_layer_quality(tcvn3).reason == "legacy_encoding"
    assert text_layer_quality(no_marks).reason == "not_vietnamese"
    assert text_layer_quality(cid).reason == "broken_glyphs"
    assert not text_layer_usable("12")


# --------------------------------------------------------------------------- geometry


@pytest.fixture(scope="module")
def body_gray() -> np.ndarray:
    return render_page(SCAN, BODY_PAGE, DPI)


@needs_tesseract
def test_sideways_page_is_put_upright(body_gray: np.ndarray) -> None:
    engine = TesseractEngine()
    upright = prepare(body_gray, DPI, engine)
    for turned_by in (90, 270):
        turned = rotate_right_angle(body_gray, turned_by)
        prep = prepare(turned, DPI, engine)
        assert (prep.rotation + turned_by) % 360 == 0
        assert prep.gray.shape == upright.gray.shape
        # the result is the same page as the upright reading, not a mirror or a flip
        a = cv2.resize(prep.ink, None, fx=0.1, fy=0.1, interpolation=cv2.INTER_AREA).astype(float)
        b = cv2.resize(upright.ink, None, fx=0.1, fy=0.1, interpolation=cv2.INTER_AREA).astype(float)
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.8


def test_skew_is_measured_within_a_fifth_of_a_degree(body_gray: np.ndarray) -> None:
    prep = prepare(body_gray, DPI, engine=None, rotation=0)  # deskewed page
    for angle in (0.8, -0.8):
        tilted = rotate_small(prep.gray, angle)
        ink = 255 - cv2.threshold(tilted, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
        measured = estimate_skew(ink, DPI)
        assert abs(measured + angle) < 0.2  # the correction undoes the tilt


def test_grid_finds_appendix_table_with_its_columns_and_merged_rows() -> None:
    prep = prepare(render_page(SCAN, TABLE_PAGE, DPI), DPI, engine=None, rotation=0)
    tables = find_tables(prep.ink, DPI)
    (ref_rows, ref_cols), = _digital_table(TABLE_PAGE)
    assert len(tables) == 1
    t = tables[0]
    assert t.n_cols == 5 == ref_cols  # STT | Nội dung | Giải pháp | Phân công | Thời gian
    assert t.n_rows == ref_rows
    merged = [c for c in t.cells if c.col_span > 1]
    assert merged and all(c.col == 0 and c.col_span == t.n_cols for c in merged)  # section rows
    covered = sum(c.row_span * c.col_span for c in t.cells)
    assert covered == t.n_rows * t.n_cols  # cells tile the grid exactly


def test_grid_on_synthetic_table_with_broken_rules() -> None:
    """A 3x3 table whose top-left cell spans two rows and whose middle row's right cells are
    merged; rules have small gaps, as scans leave them."""
    dpi = 150
    img = np.zeros((600, 900), np.uint8)
    xs, ys = [50, 300, 600, 850], [50, 200, 350, 550]
    for y in ys:
        cv2.line(img, (xs[0], y), (xs[-1], y), 255, 2)
    for x in xs:
        cv2.line(img, (x, ys[0]), (x, ys[-1]), 255, 2)
    img[ys[1] - 3: ys[1] + 3, xs[0] + 2: xs[1] - 2] = 0  # col 0 spans rows 0-1
    img[ys[1] + 3: ys[2] - 3, xs[2] - 3: xs[2] + 3] = 0  # row 1: cols 1-2 merged
    for x in range(60, 840, 97):  # scan breaks in the rules
        img[ys[0] - 2: ys[0] + 3, x: x + 3] = 0
    (t,) = find_tables(img, dpi)
    assert (t.n_rows, t.n_cols) == (3, 3)
    spans = {(c.row, c.col): (c.row_span, c.col_span) for c in t.cells}
    assert spans[(0, 0)] == (2, 1)
    assert spans[(1, 1)] == (1, 2)
    assert spans[(2, 0)] == (1, 1) and len(t.cells) == 7


# --------------------------------------------------------------------------- reading


def _cer(page: Page, page_number: int) -> float:
    from bench.bench_ocr import page_cer, reference_words

    errors, total = page_cer(page, reference_words(DIGITAL, page_number))
    return errors / total


def test_ocr_pages_fill_the_model(ocr_pages: list[Page]) -> None:
    body, appendix = ocr_pages
    for page in ocr_pages:
        assert page.method == "ocr" and page.rotation == 0
        assert page.confidence is not None and 60 < page.confidence <= 100
        tops = [b.bbox.top for b in page.blocks]
        assert tops == sorted(tops)  # reading order: top to bottom
        for b in page.blocks:
            assert b.bbox is not None and 0 <= b.bbox.x0 < b.bbox.x1 <= page.width + 1
            texts = [b.text] if isinstance(b, Line) else [c.text for c in b.cells]
            assert all(t == unicodedata.normalize("NFC", t) and t == t.strip() for t in texts)
    assert (body.width, body.height) == pytest.approx((595, 842), abs=2)
    assert not body.tables and len(body.lines) > 20
    assert all(ln.bold is None and ln.confidence is not None for ln in body.lines)
    (table,) = appendix.tables
    assert (table.n_rows, table.n_cols) == _digital_table(TABLE_PAGE)[0]
    header = " ".join(c.text for c in table.cells if c.row == 0)
    assert "thực hiện" in header.lower()  # the header row is read as text
    # lines above the table come before it
    kinds = [type(b) for b in appendix.blocks]
    assert kinds.index(Table) > 0 and all(k is Line for k in kinds[: kinds.index(Table)])


def test_ocr_text_is_close_to_the_text_layer(ocr_pages: list[Page]) -> None:
    body, appendix = ocr_pages
    assert _cer(body, BODY_PAGE) < 0.03
    assert _cer(appendix, TABLE_PAGE) < 0.03


def test_cache_is_hit_on_second_call(ocr_pages: list[Page], ocr_cache: Path) -> None:
    @dataclasses.dataclass(frozen=True)
    class NoCallEngine(TesseractEngine):
        def image_to_words(self, image, psm, dpi):  # type: ignore[override]
            raise AssertionError("engine called although the page is cached")

        def osd(self, image, dpi):  # type: ignore[override]
            raise AssertionError("engine called although the page is cached")

    again = ocr_pdf_pages(SCAN, [BODY_PAGE, TABLE_PAGE], dpi=DPI, cache_dir=ocr_cache, engine=NoCallEngine())
    assert [page_to_dict(p) for p in again] == [page_to_dict(p) for p in ocr_pages]
    assert page_from_dict(page_to_dict(again[1])) == again[1]


def test_missing_tesseract_or_language_raises_ocr_unavailable(tmp_path: Path) -> None:
    with pytest.raises(OcrUnavailable, match="Tesseract not found"):
        bogus = TesseractEngine(tesseract_cmd="/nonexistent/tesseract")
        ocr_pdf_pages(SCAN, [1], dpi=DPI, cache_dir=tmp_path, engine=bogus)
    if ocr_available():
        with pytest.raises(OcrUnavailable, match="data missing"):
            TesseractEngine(lang="xyz").check_available()


@needs_tesseract
def test_upside_down_page_is_read_the_right_way_up(body_gray: np.ndarray) -> None:
    crop = body_gray[: body_gray.shape[0] // 3]  # header block and first paragraph: fast
    page = ocr_image(rotate_right_angle(crop, 180), DPI, TesseractEngine(), 1)
    assert page.rotation == 180
    assert page.confidence is not None and page.confidence > 80


# --------------------------------------------------------------------------- post-correction


def test_post_correction_fixes_only_doubtful_diacritics() -> None:
    lex = Lexicon.from_terms(["GIÁM ĐỐC", "sửa đổi, bổ sung", "Cổng thông tin điện tử"])
    assert base_letters("Cổng") == base_letters("Cống") == "cong"
    # a doubtful reading of a lexicon term is corrected, keeping the printed case
    assert correct_tokens(["GIÁM", "ĐỌC"], [95, 70], lex) == ["GIÁM", "ĐỐC"]
    assert correct_tokens(["trên", "Cống", "thông", "tin", "điện", "tử."], [96, 60, 96, 96, 96, 96], lex) == [
        "trên", "Cổng", "thông", "tin", "điện", "tử."]
    # a confident reading is what was printed (a misprint stays a misprint)
    assert correct_tokens(["GIÁM", "ĐỌC"], [96, 96], lex, max_conf=93) == ["GIÁM", "ĐỌC"]
    # other letters, digits or punctuation are never "corrected"
    assert correct_tokens(["GIÁM", "ĐỊNH"], [50, 50], lex) == ["GIÁM", "ĐỊNH"]
    # Roman section numerals misread as H
    assert correct_tokens(["H.", "Cải", "cách"], [90, 96, 96], lex)[0] == "II."
    assert correct_tokens(["VH"], [80], lex) == ["VII"]
    assert correct_tokens(["Hà", "Nội"], [80, 80], lex) == ["Hà", "Nội"]
    assert correct_tokens(["VỊ.", "Xây", "dựng"], [90, 96, 96], lex)[0] == "VI."
    assert correct_tokens(["Vì", "vậy"], [90, 96], lex) == ["Vì", "vậy"]


def test_a_term_after_a_slash_or_across_a_cell_line_end_is_corrected() -> None:
    """Read in 000's scan: "mới/sửa đối, bổ sung" (the term joined by a slash to the word
    before it) and "kiến nghị sửa đối, bổ" / "sung" (a cell's line end inside the term)."""
    from extractors.ocr import OcrOptions, _across_lines
    from extractors.ocr_engine import Word

    lex = Lexicon.from_terms(["sửa đổi, bổ sung"])
    assert correct_tokens(["mới/sửa", "đối,", "bổ", "sung,", "bãi", "bỏ"], [93, 97, 71, 97, 97, 97], lex,
                          max_conf=93) == ["mới/sửa", "đổi,", "bổ", "sung,", "bãi", "bỏ"]
    assert correct_tokens(["sửa", "đối,", "bổ", "sung/bãi"], [93, 90, 71, 97], lex, max_conf=93)[1] == "đổi,"
    # the same words read surely stay as read (a misprint stays a misprint)
    assert correct_tokens(["mới/sửa", "đối,", "bổ", "sung"], [97, 97, 97, 97], lex, max_conf=93)[1] == "đối,"

    def words(*spec: tuple[str, float]) -> list[Word]:
        return [Word(t, (0, 0, 1, 1), c) for t, c in spec]

    lines = [words(("kiến", 97), ("nghị", 97), ("sửa", 97), ("đối,", 94), ("bổ", 92)), words(("sung", 96), ("các", 96))]
    out = _across_lines(lines, OcrOptions())
    assert [w.text for w in out[0]] == ["kiến", "nghị", "sửa", "đổi,", "bổ"]
    assert [w.text for w in out[1]] == ["sung", "các"]


def test_a_lone_mark_between_words_is_dust_but_a_spaced_colon_before_a_capital_is_typed() -> None:
    from extractors.ocr import _without_stray_marks
    from extractors.ocr_engine import Word

    def texts(*ts: str) -> list[str]:
        return [w.text for w in _without_stray_marks([Word(t, (0, 0, 1, 1), 80.0) for t in ts])]

    assert texts("nâng", ".", "cấp") == texts("nâng", ":", "cấp") == ["nâng", "cấp"]
    assert texts("Nhiệm", "vụ", "1", ":", "Xây", "dựng") == ["Nhiệm", "vụ", "1", ":", "Xây", "dựng"]  # 003
    assert texts("lên", ".", "Cổng") == ["lên", "Cổng"]


def test_post_correction_of_abbreviations_and_fixed_rewrites() -> None:
    lex = Lexicon.from_terms(["QLHN", "TTYT", "TCHC", "TTHC", "BHXH", "chỉ cục => chi cục"])
    assert correct_tokens(["Phòng", "QUHN;"], [96, 70], lex, max_conf=93) == ["Phòng", "QLHN;"]
    assert correct_tokens(["Phòng", "QUHN"], [96, 96], lex, max_conf=93) == ["Phòng", "QUHN"]  # sure
    assert correct_tokens(["TXHC"], [50], lex) == ["TXHC"]  # TTHC or TCHC: ambiguous, left alone
    assert correct_tokens(["các", "phòng,", "chỉ", "cục,"], [96] * 4, lex) == ["các", "phòng,", "chi", "cục,"]
    # one capital read as two glyphs (extractors/data/ocr_glyph_splits.yaml): "CCHOG" in 000's scan
    splits = Lexicon.from_terms(["CCHC", "TTHC", "TTHCC"])
    assert correct_tokens(["về", "CCHOG,", "tập"], [96, 60, 96], splits, max_conf=93)[1] == "CCHC,"
    assert correct_tokens(["TTHOG"], [60], splits, max_conf=93) == ["TTHC"]
    assert correct_tokens(["CCHOG"], [96], splits, max_conf=93) == ["CCHOG"]  # read surely: as printed
    assert correct_tokens(["OCOP"], [40], Lexicon.from_terms(["CCOP", "OCOP"]), max_conf=93) == ["OCOP"]  # listed
    # and the readings that are never Vietnamese, from the default lexicon, whatever the confidence
    assert correct_tokens(["tỉnh", "giản", "biên", "chế"], [93.4, 96, 96, 96], max_conf=93)[0] == "tinh"
    assert correct_tokens(["tỉnh", "giảm", "20%"], [96, 96, 96], max_conf=93)[0] == "tỉnh"  # "the province's … fell"


def test_post_correction_never_rewrites_a_valid_abbreviation() -> None:
    """Issue 11: TTPC became TTHC and BXH became BHXH.  A token changes only when the correction
    is more likely than the reading."""
    lex = Lexicon.from_terms(["TTHC", "BHXH", "QLHN"])
    # read with middling confidence: more likely right than a misread of the listed TTHC
    assert correct_tokens(["Phòng", "TTPC;"], [96, 88], lex, max_conf=93) == ["Phòng", "TTPC;"]
    # a shorter abbreviation is not a misread longer one, however unsure the reading
    assert correct_tokens(["BXH"], [40], lex, max_conf=93) == ["BXH"]
    # the same word read with confidence elsewhere on the page is real
    assert correct_tokens(["TTPC"], [40], lex, max_conf=93, attested=frozenset({"TTPC"})) == ["TTPC"]
    # a listed abbreviation is never rewritten into a neighbour
    both = Lexicon.from_terms(["TTHC", "TTPC"])
    assert correct_tokens(["TTPC"], [30], both, max_conf=93) == ["TTPC"]
    # without confidences (text known to be OCR, nothing else known) abbreviations are left alone
    assert correct_tokens(["QUHN"], None, lex) == ["QUHN"]
    # the doubtful misread is still fixed
    assert correct_tokens(["TTHQ"], [45], lex, max_conf=93) == ["TTHC"]


def test_post_correction_restores_the_frame_words_of_a_written_date() -> None:
    lex = Lexicon.from_terms([])
    assert correct_tokens("Đồng Nai, ngày 16 thúng 4 năm 2020".split(), [96] * 8, lex) == \
        "Đồng Nai, ngày 16 tháng 4 năm 2020".split()
    assert correct_tokens("ngảy 03 THÁNG 12 năm 2017.".split(), [60] * 6, lex)[0] == "ngày"
    # only between a day and a month that a year follows, and only one letter off
    assert correct_tokens("16 thúng gạo năm 2020".split(), [96] * 5, lex)[1] == "thúng"
    assert correct_tokens("ngày 16 tuần 4 năm 2020".split(), [96] * 6, lex)[2] == "tuần"


def test_options_change_the_cache_key(ocr_cache: Path) -> None:
    from extractors.ocr import _options_key

    assert _options_key(OcrOptions()) != _options_key(OcrOptions(correct=False))


def test_default_lexicon_restores_the_section_heading_nội_dung() -> None:
    """vie_best_int read the heading of 002's scan as "II. NỘI DỤNG KẾ HOẠCH" (71 on DỤNG), and
    the body parser then found no task section; "dụng" stays where it is a word ("áp dụng")."""
    lex = Lexicon.load()
    assert correct_tokens(["II.", "NỘI", "DỤNG", "KẾ", "HOẠCH"], [95, 96, 71, 97, 96], lex, 93) == [
        "II.", "NỘI", "DUNG", "KẾ", "HOẠCH"]
    assert correct_tokens(["áp", "dụng", "hiệu", "quả"], [96, 70, 96, 96], lex, 93) == ["áp", "dụng", "hiệu", "quả"]


def test_page_phrases_put_a_one_off_misreading_right() -> None:
    """Lost accents are one-off readings: the same pair read right elsewhere on the page wins
    when it is more frequent, or as frequent and clearly more confident."""
    page = PagePhrases([
        (["phục", "hồi", "chức", "năng"], [97, 97, 97, 97]),
        (["hình,", "phục", "hồi"], [97, 97, 97]),
        (["thực", "hiện", "phục", "hôi"], [97, 97, 97, 96]),  # confident, but once against twice
        (["Số", "xã", "trạm", "y", "tế"], [81, 97, 93, 93, 97]),
        (["SỐ", "xã", "triển", "khai"], [45, 97, 68, 97]),
        (["SỞ", "Y", "TÉ"], [70, 70, 79]),
        (["Sở", "Y", "tế"], [93, 92, 97]),
        (["Trung", "tâm", "Y", "tế"], [97, 93, 93, 97]),
        (["cộng", "đồng"], [97, 97]),
        (["cộng", "đông."], [97, 87]),  # as frequent, ten points less sure
    ])
    assert page.harmonise(["thực", "hiện", "phục", "hôi"], [97, 97, 97, 96]) == ["thực", "hiện", "phục", "hồi"]
    assert page.harmonise(["cộng", "đông."], [97, 87]) == ["cộng", "đồng."]  # punctuation kept
    assert page.harmonise(["SỞ", "Y", "TÉ"], [70, 70, 79]) == ["SỞ", "Y", "TẾ"]  # case of the reading
    # a lone word in capitals among lower-case ones takes the case of a surer reading
    assert page.harmonise(["SỐ", "xã", "triển", "khai"], [45, 97, 68, 97]) == ["Số", "xã", "triển", "khai"]
    # what the page reads best is left alone, and so is a pair read nowhere else
    assert page.harmonise(["phục", "hồi", "chức", "năng"], [97] * 4) == ["phục", "hồi", "chức", "năng"]
    assert page.harmonise(["khai", "thác"], [60, 60]) == ["khai", "thác"]
    # two readings, once each, equally sure: no evidence either way
    even = PagePhrases([(["cơ", "sở"], [96, 96]), (["cơ", "số"], [96, 95])])
    assert even.harmonise(["cơ", "số"], [96, 95]) == ["cơ", "số"]
    # only into a dictionary word: never a word into a non-word by a misreading that recurs on
    # the page, nor two words side by side into two others
    recurring = PagePhrases([(["đồn", "đốc"], [96, 97])] * 2 + [(["đôn", "đốc"], [75, 97])])
    assert recurring.harmonise(["đôn", "đốc"], [75, 97]) == ["đôn", "đốc"]
    across = PagePhrases([(["công", "bố", "của"], [97, 97, 97])] * 2 + [(["nội", "bộ", "của"], [97, 97, 97])])
    assert across.harmonise(["nội", "bộ", "của"], [97, 97, 97]) == ["nội", "bộ", "của"]
    # the old and the new tone placement are one spelling each, not misreadings of each other
    tones = PagePhrases([(["Thanh", "Hóa"], [97, 97])] * 3 + [(["Thanh", "Hoá,"], [97, 95])])
    assert tones.harmonise(["Thanh", "Hoá,"], [97, 95]) == ["Thanh", "Hoá,"]
    # headings in capitals are not lowered by a lower-case reading elsewhere
    caps = PagePhrases([(["KẾ", "HOẠCH"], [96, 96]), (["kế", "hoạch"], [97, 97]), (["kế", "hoạch"], [97, 97])])
    assert caps.harmonise(["KẾ", "HOẠCH"], [96, 96]) == ["KẾ", "HOẠCH"]


def test_engine_output_is_parsed_from_tesseract_tsv() -> None:
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
           "1\t1\t0\t0\t0\t0\t0\t0\t800\t600\t-1\t\n"
           "5\t1\t2\t1\t3\t1\t10\t20\t30\t12\t96.5\tSở\n"
           "5\t1\t2\t1\t3\t2\t45\t20\t20\t12\t88\t \n")
    (w,) = words_from_tsv(tsv)
    assert (w.text, w.bbox, w.conf, w.block, w.par, w.line) == ("Sở", (10, 20, 40, 32), 96.5, 2, 1, 3)


@needs_tesseract
def test_in_process_api_reads_as_the_cli_does(body_gray: np.ndarray) -> None:
    """The in-process binding (tesserocr, linked to the system Tesseract) and one tesseract
    process per call read the same words; the binding is part of the engine version."""
    pytest.importorskip("tesserocr")
    api, cli = TesseractEngine(binding="api"), TesseractEngine(binding="cli")
    if ":api" not in api.version:
        pytest.skip("tesserocr is not linked to the system Tesseract (make setup builds it so)")
    crop = body_gray[: body_gray.shape[0] // 4]
    a = api.image_to_words(crop, 3, DPI)
    assert len(a) > 30 and a == cli.image_to_words(crop, 3, DPI)
    assert api.version != cli.version


_THREADS_AFTER_A_READ = """
import os, sys
import numpy as np, cv2
from extractors.ocr_engine import TesseractEngine
img = np.full((200, 800), 255, np.uint8)
cv2.putText(img, "Ke hoach 2026", (10, 120), cv2.FONT_HERSHEY_SIMPLEX, 2, 0, 4)
engine = TesseractEngine(binding="api")
before = len(os.listdir("/proc/self/task"))
engine.image_to_words(img, 6, 200)
print(before, len(os.listdir("/proc/self/task")), engine.version)
"""


@needs_tesseract
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads through /proc")
def test_in_process_tesseract_starts_no_openmp_threads() -> None:
    """Tesseract's OpenMP runtime reads its thread limit when the library loads; without one
    it starts a thread per core that spins beside the page pool (a page read in-process cost
    ~3x the CPU).  A fresh process that never set the limit must still read with one thread."""
    import subprocess
    import sys

    pytest.importorskip("tesserocr")
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", _THREADS_AFTER_A_READ], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    if ":api" not in out[2]:
        pytest.skip("tesserocr is not linked to the system Tesseract (make setup builds it so)")
    assert int(out[1]) == int(out[0])


def test_api_of_another_tesseract_release_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tesserocr wheel bundles its own Tesseract release, which reads differently from the
    one the settings were measured with: the engine then calls the CLI."""
    import types

    from extractors import ocr_engine

    fake = types.SimpleNamespace(tesseract_version=lambda: "tesseract 9.9.9\n leptonica-1.0")
    monkeypatch.setattr(ocr_engine, "_tesserocr", lambda: fake)
    ocr_engine._api_release.cache_clear()
    try:
        engine = TesseractEngine()
        assert not engine._uses_api() and ":cli:" in engine.version
    finally:
        ocr_engine._api_release.cache_clear()
