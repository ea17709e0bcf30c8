"""A second recogniser for the handwritten blanks of a header: the number and the day.

Tesseract's print models do not read handwritten digits reliably, and reading the same crop
again with Tesseract (another segmentation mode, a digit whitelist) repeats its mistakes.  A
recogniser trained on other data gives an independent second opinion: where the two agree
the value can be trusted, where they differ it is flagged (parsers/handwriting.py decides).

The recogniser is plugged in behind :class:`DigitReader`, like the page engine behind
extractors/ocr_engine.OcrEngine.  The one provided, :class:`RapidDigitReader`, runs the PP-OCRv4
recognition model that the PyPI package ``rapidocr-onnxruntime`` ships inside its wheel (no
download at run time) on ONNX Runtime, decoding its output over the ten digits only; it is an
optional extra (``pip install 'khsyt[handwriting]'`` and, as ``make setup`` does,
``rapidocr-onnxruntime`` itself with ``--no-deps``: it asks for ``opencv-python``, which would
shadow the ``opencv-python-headless`` the project uses).  Without it nothing changes.

Only the blanks are read: the stretch of a header line between "Số:" and the "/" of the
symbol, and between "ngày" and "tháng" (and "tháng" and "năm"), located from the first
reading's word boxes, in the top part of the page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import cache
from typing import NamedTuple, Protocol

import cv2
import numpy as np

from .model import BBox, Line, LineWord, Reread

log = logging.getLogger("khsyt.ocr")

#: bump when the blanks are located or read differently: part of the OCR cache key
BLANKS_VERSION = "blanks-9"
#: the header (with its blanks) is on the first pages; later pages are not looked at
HEADER_PAGES = 2
#: only lines whose top is in this upper fraction of the page are header lines
HEADER_FRACTION = 0.45
#: the crop reaches this many line heights above and below the line (handwriting overflows)
PAD_ABOVE, PAD_BELOW = 0.5, 0.3
PAD_X_PT = 2.0  # points of margin left and right of the blank

# The blanks, on the words of a line joined by spaces.  Loose on purpose: the first reading of
# a handwritten blank is often garbage glued to its printed neighbours ("Số:22#2/SYT-NVY",
# "só::29+É /TB -SYT", "ngày4Ế tháng"); the parser judges what is read.
# The symbol after the "/" only has to look like one (a capital, letters, a dash, a capital:
# "SyT-NVD" too): which letters a symbol may hold is the parser's business (parsers/handwriting.py).
NUMBER_BLANK = re.compile(r"^\W{0,3}[Ss][^\s\d:./]{0,2}\s*[:.]*\s*(?P<number>.{0,14}?)\s*/\s*[A-ZĐ][^\W\d_]{0,7}"
                          r"\s*-\s*[A-ZĐ]")
DATE_BLANKS = re.compile(r"ngày\s*(?P<day>.{0,8}?)\s*tháng\s*(?P<month>.{0,8}?)\s*năm\b\s*(?P<year>[^\s.,;]{0,6})",
                          re.I)
#: the fields of each pattern: the year is printed, but a misread one ("2077") needs a second look too
_BLANK_FIELDS = ((NUMBER_BLANK, ("number",)), (DATE_BLANKS, ("day", "month", "year")))
#: a dark run across at least this share of a crop's width, at most this share of its height
#: thick, is a printed rule (the line under the motto), not handwriting
RULE_WIDTH, RULE_HEIGHT = 0.6, 0.12
INK_MARGIN = 0.15  # of the ink's height, kept above and below it in the "blank_ink" view


class DigitReader(Protocol):
    """A recogniser of a small image holding a few digits."""

    @property
    def version(self) -> str:
        """Names the recogniser and its model: part of the OCR cache key."""
        ...

    def read_digits(self, image: np.ndarray) -> tuple[str, float]:
        """The digits in ``image`` (grey, 0 = black) and its confidence 0-100 in the least sure
        of them; ("", 0.0) when it sees none."""
        ...


class RapidDigitReader:
    """PP-OCRv4 recognition (rapidocr-onnxruntime's bundled model), CTC-decoded over the digits."""

    def __init__(self) -> None:
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
        from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
        from rapidocr_onnxruntime.utils import read_yaml, update_model_path

        config = update_model_path(read_yaml(str(DEFAULT_CFG_PATH)))["Rec"]
        config["intra_op_num_threads"] = config["inter_op_num_threads"] = 1  # pages run in parallel
        self._rec = TextRecognizer(config)
        chars = self._rec.postprocess_op.character
        self._keep = [0] + [i for i, c in enumerate(chars) if c in "0123456789"]  # 0: the CTC blank
        self._chars = [chars[i] for i in self._keep]
        from importlib.metadata import version

        self._version = f"rapidocr-onnxruntime {version('rapidocr-onnxruntime')} PP-OCRv4 digits {BLANKS_VERSION}"

    @property
    def version(self) -> str:
        return self._version

    def read_digits(self, image: np.ndarray) -> tuple[str, float]:
        if image.size == 0 or min(image.shape[:2]) < 4:
            return "", 0.0
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
        _, height, width = self._rec.rec_image_shape
        h, w = bgr.shape[:2]
        batch = self._rec.resize_norm_img(bgr, max(width / height, w / h))[np.newaxis].astype(np.float32)
        probs = self._rec.session(batch)[0][0][:, self._keep]  # time steps x (blank + digits)
        return ctc_digits(probs, self._chars)


def ctc_digits(probs: np.ndarray, chars: Sequence[str]) -> tuple[str, float]:
    """Greedy CTC decoding of ``probs`` (time steps x classes, class 0 the blank): the text and
    100 x the probability of its least sure character (each at its most probable step)."""
    best = probs.argmax(axis=1)
    out: list[str] = []
    confs: list[float] = []
    prev = 0
    for t, c in enumerate(best):
        if c != 0 and c == prev:
            confs[-1] = max(confs[-1], float(probs[t, c]))
        elif c != 0:
            out.append(chars[c])
            confs.append(float(probs[t, c]))
        prev = c
    return "".join(out), round(100 * min(confs), 2) if confs else 0.0


@cache
def digit_reader_for(name: str) -> DigitReader | None:
    """The reader an OcrOptions.digit_reader names: "none"; "rapidocr"; "auto" = rapidocr when
    installed, else none."""
    if name == "none":
        return None
    try:
        return RapidDigitReader()
    except Exception as e:  # not installed (ImportError), or its runtime cannot start here
        if name == "auto":
            if not isinstance(e, ImportError):
                log.warning("the rapidocr digit reader cannot start (%s): handwriting has one reading", e)
            return None
        from .errors import OcrUnavailable

        raise OcrUnavailable(f"the rapidocr digit reader cannot start ({e}); install it with "
                             "pip install 'khsyt[handwriting]' (make setup)") from None


def _x_at(words: Sequence[LineWord], index: int) -> float:
    """The x (points) of character ``index`` of the words joined by spaces, interpolated within
    its word's box."""
    pos = 0
    for w in words:
        end = pos + len(w.text)
        if index <= end and w.bbox is not None:
            f = min(max((index - pos) / max(1, len(w.text)), 0.0), 1.0)
            return w.bbox.x0 + f * (w.bbox.x1 - w.bbox.x0)
        pos = end + 1
    last = words[-1].bbox
    return last.x1 if last is not None else 0.0


def _word_starts(words: Sequence[LineWord]) -> list[int]:
    out, pos = [], 0
    for w in words:
        out.append(pos)
        pos += len(w.text) + 1
    return out


def _blank_span(words: Sequence[LineWord], a: int, b: int) -> tuple[float, float]:
    """The x range (points) of the whole blank holding the characters ``a:b`` of the joined
    words: from the printed word before it to the printed word after it when the token is
    words of its own ("ngày", "A", "tháng": the handwriting may reach past the box the first
    reading gave its token), else (a token glued to its printed neighbour) the characters'
    share of the word."""
    starts = _word_starts(words)
    first = max(i for i, s in enumerate(starts) if s <= a)
    last = max(i for i, s in enumerate(starts) if s <= max(a, b - 1))
    own_start = starts[first] == a and first > 0
    own_end = starts[last] + len(words[last].text) == b and last + 1 < len(words)
    if a == b:  # read as nothing: between the words around the point
        own_start, own_end = first > 0 and starts[first] == a, starts[first] == a
        last = first - 1
    x0 = words[first - 1].bbox.x1 if own_start else _x_at(words, a) - PAD_X_PT
    x1 = words[last + 1].bbox.x0 if own_end and last + 1 < len(words) else _x_at(words, b) + PAD_X_PT
    return x0, max(x1, x0 + 2 * PAD_X_PT)


class Blank(NamedTuple):
    """One handwritten blank of a header line."""

    field: str  # "number", "day", "month", "year"
    token: BBox  # where the first reading put its token (points)
    blank: BBox  # the whole blank between the printed words (points)
    text: str  # what the first reading read there


def blank_spans(line: Line) -> list[Blank]:
    """The handwritten blanks of a header line: field, where the first reading put its token,
    the whole blank between the printed words (points), and the first reading's text."""
    ws = line.words
    if not ws or line.bbox is None or any(w.bbox is None for w in ws):
        return []
    joined = " ".join(w.text for w in ws)
    lh = line.bbox.bottom - line.bbox.top
    top, bottom = line.bbox.top - PAD_ABOVE * lh, line.bbox.bottom + PAD_BELOW * lh
    out = []
    for pattern, fields in _BLANK_FIELDS:
        m = pattern.search(joined)
        if not m:
            continue
        for f in fields:
            a, b = m.span(f)
            if f == "year" and a == b:
                continue  # no year printed: nothing to read again
            x0, x1 = _x_at(ws, a) - PAD_X_PT, _x_at(ws, b) + PAD_X_PT
            if b == a:  # read as nothing: the gap around the point
                x0, x1 = x0 - 2 * PAD_X_PT, x1 + 2 * PAD_X_PT
            bx0, bx1 = _blank_span(ws, a, b)
            out.append(Blank(f, BBox(x0, top, x1, bottom), BBox(min(bx0, x0), top, max(bx1, x1), bottom),
                             joined[a:b]))
    return out


#: a printed symbol read with its own words at least this sure needs no reading alone: the
#: parser doubts symbols below 60 (parsers/handwriting.MIN_SYMBOL_CONF)
SYMBOL_SURE = 80.0
SYMBOL_PAD = 0.3  # of the line's height, kept above and below the symbol and right of it


def symbol_box(line: Line) -> BBox | None:
    """Where the printed symbol of a header's number line is ("/SYT-NVY" of "Số: 2275/SYT-NVY",
    from its slash to the line's end, in points), when the words holding it were read less
    sure than :data:`SYMBOL_SURE`; else None.  Glued into one word with the handwritten number
    ("Số:22#2/SYT-NVY" at 50), a well-printed symbol shares the handwriting's low confidence;
    read alone it has its own (extractors.ocr._reread_symbol)."""
    ws = line.words
    if not ws or line.bbox is None or any(w.bbox is None for w in ws):
        return None
    joined = " ".join(w.text for w in ws)
    m = NUMBER_BLANK.search(joined)
    if not m:
        return None
    slash = joined.index("/", m.end("number"))
    starts = _word_starts(ws)
    first = max(i for i, s in enumerate(starts) if s <= slash)
    if min(w.conf for w in ws[first:]) >= SYMBOL_SURE:
        return None
    pad = SYMBOL_PAD * (line.bbox.bottom - line.bbox.top)
    return BBox(_x_at(ws, slash) - 1.0, line.bbox.top - pad, line.bbox.x1 + pad, line.bbox.bottom + pad)


def crop_points(gray: np.ndarray, box: BBox, dpi: int) -> np.ndarray:
    """The part of the page image ``gray`` (at ``dpi``) that ``box`` (page points) covers,
    clipped to the image."""
    k = dpi / 72.0
    y0, y1 = max(0, int(box.top * k)), min(gray.shape[0], int(box.bottom * k) + 1)
    x0, x1 = max(0, int(box.x0 * k)), min(gray.shape[1], int(box.x1 * k) + 1)
    return gray[y0:y1, x0:x1]


def blank_boxes(line: Line) -> list[tuple[str, BBox]]:
    """The handwritten blanks of a header line and where the first reading put them (points)."""
    return [(s.field, s.token) for s in blank_spans(line)]


def confirms(first: str, second: str) -> bool:
    """The second reading's digits are the first reading's ("02" and "2" alike): the judge then
    takes the agreement and never looks at another view, so that view need not be read."""
    digits = first.replace(" ", "").replace(".", "").strip(".,:;")
    return digits.isdigit() and second.isdigit() and int(digits) == int(second)


def ink_rows(crop: np.ndarray) -> np.ndarray:
    """The rows of ``crop`` (grey, 0 = black) that hold its ink, a margin kept, with printed
    rules across it whitened: the recogniser reads a line of text that fills its height, and
    a crop padded for handwriting that overflows the line is mostly paper."""
    if crop.size == 0:
        return crop
    h, w = crop.shape[:2]
    thr, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = (crop < min(thr, 200)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    out = crop.copy()
    rows: list[tuple[int, int]] = []
    for i in range(1, n):
        _, y, bw, bh, area = stats[i]
        if bw >= RULE_WIDTH * w and bh <= RULE_HEIGHT * h:
            out[labels == i] = 255
        elif area >= max(6, 0.002 * h * w):  # specks say nothing
            rows.append((y, y + bh))
    if not rows:
        return crop
    y0, y1 = min(r[0] for r in rows), max(r[1] for r in rows)
    m = int(INK_MARGIN * (y1 - y0)) + 2
    return out[max(0, y0 - m): y1 + m]


#: the blanks a pen fills in; the year is printed (its misreading is left to the second reader)
HANDWRITTEN = ("number", "day", "month")
#: what the first reading of a blank left empty holds (the judge takes it as blank, whatever
#: another reader sees there: the edges of the printed words beside it)
BLANK_MARKS = " .…_"


def reread_blanks(lines: Sequence[Line], gray: np.ndarray, dpi: int, page_height_pt: float,
                  reader: DigitReader | None, glyphs: DigitReader | None = None) -> None:
    """Give the first number line and the first date line of the header their second readings
    (``Line.rereads``), read from ``gray`` (the page image the line boxes refer to): each blank
    twice, as the first reading placed its token ("token") and as the whole blank between the
    printed words cut to its ink ("blank_ink"), so that the judge can tell a stable reading
    from one that a slightly different crop changes.  The second view is read only where the
    first does not confirm the first reading's digits (a printed "2017", a clear "05"): most
    blanks of a typed or clearly written header cost one read.  Where neither view confirms
    it and the first reading saw something, a handwritten blank is also read by ``glyphs``
    (extractors/glyph_digits.py: the marks classified one by one, view "glyphs") from the
    same crop as "blank_ink"."""
    seen: set[str] = set()
    for line in lines:
        if line.bbox is None or line.bbox.top > HEADER_FRACTION * page_height_pt:
            continue
        spans = [s for s in blank_spans(line) if s.field not in seen]
        if not spans:
            continue
        rereads = []
        for f, token, blank, first in spans:
            seen.add(f)
            if reader is not None:
                text, conf = reader.read_digits(crop_points(gray, token, dpi))
                rereads.append(Reread(f, text, conf, reader.version, token))
                if confirms(first, text):
                    continue
            inked = ink_rows(crop_points(gray, blank, dpi))
            if reader is not None:
                text, conf = reader.read_digits(inked)
                rereads.append(Reread(f, text, conf, reader.version, blank, view="blank_ink"))
                if confirms(first, text):
                    continue
            if glyphs is not None and f in HANDWRITTEN and first.strip(BLANK_MARKS):
                text, conf = glyphs.read_digits(inked)
                rereads.append(Reread(f, text, conf, glyphs.version, blank, view="glyphs"))
        line.rereads = rereads
