"""The second recogniser of handwritten header blanks (extractors/digit_reader.py): where the
blanks are, how its output is decoded, and the installed model on real and drawn digits."""

from __future__ import annotations

import importlib.util
from datetime import date

import cv2
import numpy as np
import pytest

from extractors.digit_reader import blank_boxes, ctc_digits, digit_reader_for, ink_rows, reread_blanks
from extractors.model import BBox, Document, Line, LineWord, Page, Reread, page_from_dict, page_to_dict
from parsers.handwriting import DateReading, NumberReading, read_date, read_number
from parsers.metadata import parse_metadata
from tests.conftest import HEADER_BANDS, header_band

HAS_RAPID = importlib.util.find_spec("rapidocr_onnxruntime") is not None
needs_rapid = pytest.mark.skipif(not HAS_RAPID, reason="rapidocr-onnxruntime not installed (make setup)")


def _line(*words: tuple[str, float, float]) -> Line:
    """Words (text, x0, x1) on one line 100-112 pt down."""
    ws = [LineWord(t, 90.0, BBox(x0, 100, x1, 112)) for t, x0, x1 in words]
    return Line(" ".join(w.text for w in ws), BBox(ws[0].bbox.x0, 100, ws[-1].bbox.x1, 112), 90.0, words=ws)


def test_the_blanks_lie_between_the_printed_words() -> None:
    # "Số:" and "/SYT-NVY" apart, the handwriting between them
    (f, b), = blank_boxes(_line(("Số:", 100, 118), ("22#2", 122, 150), ("/SYT-NVY", 154, 200)))
    assert f == "number" and 118 <= b.x0 + 2 <= 122 and 150 <= b.x1 - 2 <= 154
    assert b.top < 100 and b.bottom > 112  # handwriting overflows the printed line
    # glued into one word ("Số:22#2/SYT-NVY"): the stretch between, by the characters' share
    (f, b), = blank_boxes(_line(("Số:22#2/SYT-NVY", 100, 250)))
    assert f == "number" and 125 < b.x0 < 135 and 160 < b.x1 < 175
    boxes = dict(blank_boxes(_line(("Kiên", 300, 320), ("Giang,", 322, 350), ("ngày", 352, 375), ("Ä", 380, 386),
                                   ("tháng", 405, 434), ("12", 437, 449), ("năm", 452, 470), ("2017", 473, 495))))
    assert set(boxes) == {"day", "month", "year"}  # a printed year misread ("2077") is read again too
    assert 470 <= boxes["year"].x0 <= 473 and 495 <= boxes["year"].x1 <= 498
    assert 370 < boxes["day"].x0 < 380 and 386 < boxes["day"].x1 < 405
    assert 430 < boxes["month"].x0 < 437 and 449 < boxes["month"].x1 < 455
    assert blank_boxes(_line(("Kính", 100, 120), ("gửi:", 122, 140))) == []


def test_ctc_decoding_keeps_digits_once_with_their_least_sure_probability() -> None:
    chars = ["", *"0123456789"]
    steps = [0, 3, 3, 0, 3, 0, 0, 5]  # "2", "2" again after a blank, "4"
    probs = np.full((len(steps), len(chars)), 0.01)
    for t, c in enumerate(steps):
        probs[t, c] = 0.9
    probs[2, 3] = 0.95  # a digit held over two steps keeps its best
    probs[7, 5] = 0.6
    assert ctc_digits(probs, chars) == ("224", 60.0)
    assert ctc_digits(np.eye(len(chars))[[0, 0]], chars) == ("", 0.0)


class _Fake:
    version = "fake"

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def read_digits(self, image: np.ndarray) -> tuple[str, float]:
        self.shapes.append(image.shape)
        return "18", 88.0


def test_only_the_first_blanks_of_the_header_are_read_again() -> None:
    number = _line(("Số:", 100, 118), ("22#2", 122, 150), ("/SYT-NVY", 154, 200))
    date_line = _line(("ngày", 352, 375), ("Ä", 380, 386), ("tháng", 405, 434), ("12", 437, 449), ("năm", 452, 470))
    body = _line(("ngày", 352, 375), ("27", 380, 386), ("tháng", 405, 434), ("11", 437, 449), ("năm", 452, 470))
    low = _line(("Số:", 100, 118), ("1", 122, 150), ("/GM-SYT", 154, 200))
    low.bbox = BBox(100, 700, 200, 712)  # a "Số:" line low on the page is no header line
    fake = _Fake()
    reread_blanks([number, date_line, body, low], np.full((2400, 1700), 255, np.uint8), 200, 842.0, fake)
    # each blank in two views: as the first reading placed its token, and the whole blank
    assert [(r.field, r.view) for r in number.rereads] == [("number", "token"), ("number", "blank_ink")]
    assert [r.field for r in date_line.rereads] == ["day", "day", "month", "month"]  # no year printed
    assert body.rereads is None and low.rereads is None
    assert number.rereads[0] == Reread("number", "18", 88.0, "fake", number.rereads[0].bbox)
    assert len(fake.shapes) == 6 and all(h > 12 * 200 / 72 for h, _ in fake.shapes[::2])  # taller than the line
    # the whole blank reaches from the printed word before to the one after
    day_token, day_blank = date_line.rereads[0].bbox, date_line.rereads[1].bbox
    assert (day_blank.x0, day_blank.x1) == (375, 405) and day_token.x0 > 375 and day_token.x1 < 405


class _Reads:
    """A reader that reads each crop as the next of ``texts``."""

    version = "fake"

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)

    def read_digits(self, image: np.ndarray) -> tuple[str, float]:
        return self.texts.pop(0), 95.0


def test_a_blank_whose_first_view_confirms_the_reading_is_read_once() -> None:
    date_line = _line(("ngày", 352, 375), ("06", 380, 392), ("tháng", 405, 434), ("12", 437, 449), ("năm", 452, 470),
                      ("2017", 473, 495))
    # the day's token view confirms "06" ("6" is the same number); the month's reads "18": the
    # whole blank is read as well; the printed year is confirmed
    reader = _Reads("6", "18", "12", "2017")
    reread_blanks([date_line], np.full((2400, 1700), 255, np.uint8), 200, 842.0, reader)
    assert [(r.field, r.view, r.text) for r in date_line.rereads] == [
        ("day", "token", "6"), ("month", "token", "18"), ("month", "blank_ink", "12"), ("year", "token", "2017")]
    assert reader.texts == []
    got = read_date(date_line.text, date_line.words, rereads=date_line.rereads)
    assert got.doubtful and got.reason == "month:disagree"  # the day agreed; the month read "18" stays in doubt


def test_the_classifier_reads_a_handwritten_blank_only_where_the_print_readers_left_it_open() -> None:
    lines = [_line(("Số:", 100, 118), ("22#2", 122, 150), ("/SYT-NVY", 154, 200)),
             _line(("ngày", 352, 375), ("06", 380, 392), ("tháng", 405, 434), ("12", 437, 449),
                   ("năm", 452, 470), ("2017", 473, 495))]
    # number: neither view "2275"/"2451" is the first reading's "22#2"; the day's blank view
    # confirms "06"; the month read "18", then "13"; the printed year is no handwriting
    reader, glyphs = _Reads("2275", "2451", "7", "06", "18", "13", "2017"), _Reads("2275", "12")
    reread_blanks(lines, np.full((2400, 1700), 255, np.uint8), 200, 842.0, reader, glyphs)
    assert [(r.field, r.view, r.text) for r in lines[0].rereads] == [
        ("number", "token", "2275"), ("number", "blank_ink", "2451"), ("number", "glyphs", "2275")]
    assert [(r.field, r.view) for r in lines[1].rereads] == [
        ("day", "token"), ("day", "blank_ink"), ("month", "token"), ("month", "blank_ink"), ("month", "glyphs"),
        ("year", "token")]
    assert reader.texts == [] and glyphs.texts == []
    # a blank the first reading left empty is blank, whatever the edges of the printed words look like
    empty = _line(("Số:", 100, 118), ("/KH-SYT", 154, 200))
    reread_blanks([empty], np.full((2400, 1700), 255, np.uint8), 200, 842.0, _Reads("7", "1"), _Reads())
    assert [r.view for r in empty.rereads] == ["token", "blank_ink"]
    # without the print reader, the classifier still reads
    alone = _line(("Số:", 100, 118), ("JU", 122, 150), ("/GM-SYT", 154, 200))
    reread_blanks([alone], np.full((2400, 1700), 255, np.uint8), 200, 842.0, None, _Reads("10"))
    assert [(r.view, r.text) for r in alone.rereads] == [("glyphs", "10")]


def test_second_readings_survive_the_cache_round_trip() -> None:
    ln = _line(("Số:", 100, 118), ("22#2", 122, 150), ("/SYT-NVY", 154, 200))
    ln.rereads = [Reread("number", "2275", 91.5, "fake", BBox(116, 94, 156, 116))]
    page = page_from_dict(page_to_dict(Page(1, blocks=[ln, _line(("x", 1, 2))], method="ocr")))
    assert page.lines[0].rereads == ln.rereads and page.lines[1].rereads is None


def test_no_reader_when_asked_for_none() -> None:
    assert digit_reader_for("none") is None
    assert (digit_reader_for("auto") is not None) is HAS_RAPID


@needs_rapid
def test_the_bundled_model_reads_drawn_digits_and_doubts_a_scribble() -> None:
    reader = digit_reader_for("rapidocr")
    assert "PP-OCRv4" in reader.version
    img = np.full((60, 160), 255, np.uint8)
    cv2.putText(img, "2242", (8, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    text, conf = reader.read_digits(img)
    assert (text, conf > 90) == ("2242", True)
    scribble = np.full((60, 160), 255, np.uint8)
    cv2.polylines(scribble, [np.array([[10, 40], [40, 10], [70, 45], [100, 12], [140, 40]], np.int32)], False, 0, 3)
    text, conf = reader.read_digits(scribble)
    assert text == "" or conf < 90
    assert reader.read_digits(np.zeros((2, 2), np.uint8)) == ("", 0.0)


def test_ink_rows_cut_the_paper_and_the_printed_rule_away() -> None:
    crop = np.full((90, 60), 255, np.uint8)
    crop[5:7, :] = 0  # the rule under the motto, across the crop
    cv2.putText(crop, "6", (15, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    out = ink_rows(crop)
    assert out.shape[1] == 60 and out.shape[0] < 45 and out.min() == 0  # the digit's rows, whole width
    assert (out > 128).all(axis=1).sum() < out.shape[0]  # no all-white image
    assert ink_rows(np.full((30, 30), 255, np.uint8)).shape == (30, 30)  # nothing to cut to


# --------------------------------------------------------------------------- real header bands

def _band(stem: str) -> tuple[list[Line], np.ndarray, dict]:
    """The header band of page 1 of a real scan (grey, as the OCR saw it) and its OCR'd header
    lines (tools/export_header_bands.py)."""
    lines, data = header_band(stem)
    return lines, cv2.imread(str(HEADER_BANDS / f"{stem}.png"), cv2.IMREAD_GRAYSCALE), data


def _judged(stem: str) -> tuple[NumberReading, DateReading, list[Line]]:
    lines, band, data = _band(stem)
    reread_blanks(lines, band, data["dpi"], data["page_height_pt"], digit_reader_for("rapidocr"))
    number = next(r for ln in lines if (r := read_number(ln.text, ln.words, ln.rereads)) is not None)
    when = next(r for ln in lines if (r := read_date(ln.text, ln.words, rereads=ln.rereads)) is not None)
    return number, when, lines


@needs_rapid
def test_real_blanks_a_stable_second_reading_stands_where_tesseract_read_strokes() -> None:
    # BeW_10: "10" by hand, Tesseract "Số:JU": both views of the second reader read "10"
    number, _, lines = _judged("BeW_10_gm_syt")
    assert (number.number, number.doubtful, number.reason) == ("10", False, "second_reader")
    meta = parse_metadata(Document("BeW_10_gm_syt.pdf", "pdf", [Page(1, blocks=lines, width=600, height=842)]))
    assert meta.doc_number == "10/GM-SYT" and "doc_number" not in meta.low_confidence
    # zmQ_2276: day "18" by hand, Tesseract "ngày4Ế"; D04_02: "01", Tesseract "0]"
    _, when, _ = _judged("zmQ_2276_TB_SYT")
    assert (when.value, when.precision, when.doubtful) == (date(2017, 12, 18), "day", False)
    _, when, _ = _judged("D04_02_dl_btc")
    assert (when.value, when.precision, when.doubtful) == (date(2018, 2, 1), "day", False)
    # U2Z_22: the printed year read "2077" by Tesseract (impossible), "2017" in both views
    _, when, _ = _judged("U2Z_22_gm_syt_2_")
    assert (when.value, when.precision, when.doubtful) == (date(2017, 9, 8), "day", False)


@needs_rapid
def test_real_blanks_unsure_digits_give_way_only_to_a_very_sure_stable_reading() -> None:
    # Kjk_05: "05" by hand, Tesseract "02" at 77 (unsure); both views "05" at 99+
    number, _, _ = _judged("Kjk_05_syt_nvy")
    assert (number.number, number.doubtful) == ("05", False)
    # QSx_29: "29" by hand, Tesseract "2 2" (one word at 0); the second reader "29" but not
    # sure enough to overrule: flagged, not published
    number, _, _ = _judged("QSx_29_SYT_KHTC")
    assert (number.number, number.doubtful) == (None, True)


@needs_rapid
def test_real_blanks_views_that_disagree_keep_the_field_flagged() -> None:
    # 9uV_2275: day "18" by hand, Tesseract "A" whose box holds only the "1": the token's view
    # reads "1", the whole blank more; number "2275", Tesseract "22#2" (three digits seen),
    # the second reader fewer or others: both flagged, the printed month and year kept
    number, when, lines = _judged("9uV_2275_SYT_NVY")
    views = {(r.field, r.view): r.text for ln in lines for r in ln.rereads or []}
    assert views[("day", "token")] == "1" and views[("day", "blank_ink")] != "1"
    assert (number.number, number.doubtful) == (None, True)
    assert (when.value, when.precision, when.doubtful) == (date(2017, 12, 1), "month", True)


def test_the_number_blank_is_found_before_any_symbol_ocr_may_spell() -> None:
    # the locator only needs a symbol's shape; which letters a symbol holds the parser judges
    for words in ((("Số:", 100, 118), ("2Ö", 122, 150), ("/SyT-NVD", 154, 200)),
                  (("Số:", 100, 118), ("12", 122, 150), ("/Kh-SYT", 154, 200)),
                  (("sẻ:", 100, 118), ("JU", 122, 150), ("/GM-SYT", 154, 200))):
        assert [f for f, _ in blank_boxes(_line(*words))] == ["number"], words
    assert blank_boxes(_line(("Số", 100, 118), ("lượng", 122, 150), ("3/4", 154, 200))) == []


def test_the_symbol_box_is_the_printed_symbol_of_an_unsure_number_line() -> None:
    """From the slash after the number blank to the line's end, padded; only when the words
    holding the symbol were read less than sure."""
    from extractors.digit_reader import SYMBOL_SURE, symbol_box
    from extractors.model import BBox, Line, LineWord

    glued = Line(text="Số:22#2/SYT-NVY", bbox=BBox(100, 90, 190, 102), confidence=50.0,
                 words=[LineWord("Số:22#2/SYT-NVY", 49.5, BBox(100, 90, 190, 102))])
    box = symbol_box(glued)
    assert box is not None and 140 < box.x0 < 150 and box.x1 > 190 and box.top < 90 and box.bottom > 102
    sure = Line(text="Số: 22 /SYT-NVY", bbox=BBox(100, 90, 190, 102), confidence=90.0,
                words=[LineWord("Số:", 93.0, BBox(100, 90, 118, 102)), LineWord("22", 40.0, BBox(122, 90, 140, 102)),
                       LineWord("/SYT-NVY", SYMBOL_SURE + 1, BBox(144, 90, 190, 102))])
    assert symbol_box(sure) is None  # the handwriting has its own word: the symbol's is sure
    assert symbol_box(Line(text="Kiên Giang, ngày 18 tháng 12", bbox=BBox(300, 90, 500, 102),
                           words=[LineWord("Kiên", 90.0, BBox(300, 90, 330, 102))])) is None
