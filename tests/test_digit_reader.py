"""The second recogniser of handwritten header blanks (extractors/digit_reader.py): where the
blanks are, how its output is decoded, and the installed model on real and drawn digits."""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from extractors.digit_reader import blank_boxes, ctc_digits, digit_reader_for, reread_blanks
from extractors.model import BBox, Line, LineWord, Page, Reread, page_from_dict, page_to_dict

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
    assert set(boxes) == {"day", "month"}
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
    assert [r.field for r in number.rereads] == ["number"] and [r.field for r in date_line.rereads] == ["day", "month"]
    assert body.rereads is None and low.rereads is None
    assert number.rereads[0] == Reread("number", "18", 88.0, "fake", number.rereads[0].bbox)
    assert len(fake.shapes) == 3 and all(h > 12 * 200 / 72 for h, _ in fake.shapes)  # taller than the line


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
