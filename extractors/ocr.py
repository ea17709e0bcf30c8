"""OCR of image-only PDF pages into the page model (Page -> Line | Table -> Cell).

Per page: render -> upright/deskew/binarise (raster) -> ruled grids (grid) -> read every table
cell on its own and the free text around the tables -> Page(method="ocr").  The output fills the
model the way the text-layer extractor does: physical lines of free text in reading order, one
Table per ruled grid with merged cells once at their top-left position, bboxes in PDF points.

Why cells are read one by one: a page-level segmentation happily reads a line straight across
a column rule, mixing two cells.  Calling Tesseract once per cell would cost ~0.1 s of process
start-up each, so the cell crops are stacked into one tall strip, read in a single call, and the
words are mapped back to their cells by position.

Pages are processed in a process pool (or, with one worker, in the calling process); each worker
renders only its own page, so memory stays bounded by (workers x one page image) whatever the
document length.  Results are cached as JSON
per (file hash, page, dpi, engine version, code version, options), so a re-run does no OCR.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from rapidfuzz import fuzz

from extractors.digit_reader import (
    DATE_BLANKS,
    HEADER_FRACTION,
    HEADER_PAGES,
    NUMBER_BLANK,
    crop_points,
    digit_reader_for,
    reread_blanks,
    symbol_box,
)
from extractors.errors import ExtractionError, OcrUnavailable
from extractors.glyph_digits import glyph_reader_for
from extractors.grid import TableGrid, find_tables_and_rules
from extractors.model import (
    COLUMN_GAP,
    BBox,
    Cell,
    Line,
    LineWord,
    Page,
    Reread,
    Table,
    clean_text,
    page_from_dict,
    page_to_dict,
)
from extractors.ocr_correct import (
    DEFAULT_LEXICON,
    GLYPH_SPLITS,
    PagePhrases,
    correct_phrases,
    correct_tokens,
    load_lexicon,
)
from extractors.ocr_engine import OcrEngine, TesseractEngine, Word
from extractors.ocr_words import keep_positions, repair_tones
from extractors.raster import (
    DEFAULT_DPI,
    Prepared,
    count_pages,
    load_page,
    prepare,
    rotate_right_angle,
    rotate_small,
)
from extractors.unread_ink import covered_mask, unread_around, unread_rows

log = logging.getLogger("khsyt.ocr")
#: Loads the page's red channel on demand (raster.red_dropout; None for a grey page): only pages
#: with a signer block need it, so it is not rendered for the others.
RedChannel = Callable[[], "np.ndarray | None"]

# Bump when a change here or in raster/grid alters the output, so cached pages are re-read.
CODE_VERSION = "ocr-34"
CACHE_ENV = "KHSYT_CACHE_DIR"
PSM_CELLS = 6  # the stacked cell strip is one uniform column of text
PSM_LINE = 7  # a band read again as one text line
PSM_PAGE = 3  # free text: full layout analysis (two-column header block, signature block)
# Below this mean word confidence the page may be upside down: read it turned by 180 too.
RETRY_CONFIDENCE = 55.0
# A second reading of a line replaces the first when its mean confidence is this much higher.
RECHECK_GAIN = 3.0
MAX_STRIP_HEIGHT = 16000  # px; Leptonica and memory stay comfortable below this
# Words further apart than this on one line belong to two text columns (as in extractors/pdf.py).


@dataclass(frozen=True)
class OcrOptions:
    """Knobs of the page reader (defaults chosen by bench/bench_ocr.py; see bench/RESULTS.md)."""

    image: str = "gray"  # "gray": grey levels kept around the ink (sharper glyph edges); "binary"
    # "page": one engine pass over the whole page, words assigned to cells by their boxes;
    # "strip": every cell cropped and read in a stacked strip (the former way; see bench/RESULTS.md)
    cells: str = "page"
    # cells with ink that the page pass left empty (layout analysis skips lone digits), and
    # cells read with a mean word confidence below this, are read again on their own (strip);
    # the more confident reading is kept
    cell_reread_conf: float = 85.0
    ocr_dpi: int = 300  # images are handed to the engine at most at this resolution
    psm_cells: int = PSM_CELLS
    psm_page: int = PSM_PAGE
    # lines read with less mean confidence are read again; 0 = off.  91 before the page pass;
    # 80 reads the same (CER 0.22 % on five sample scan pages) for 15 % less CPU
    recheck_conf: float = 80.0
    correct: bool = True  # lexicon post-correction of doubtful words (extractors.ocr_correct)
    correct_max_conf: float = 93.0  # ... only where some word of the term was read below this
    # a misread tone repaired (extractors.ocr_words) only in words read below this (a confident
    # reading is what was printed, misprints included); > 100 = always.  Scan 200 exact_task:
    # 0.801 at 93, 0.814 always (two more repairs, one misprint "mỗi" made "mối")
    tone_max_conf: float = 93.0
    lexicon_path: str | None = None  # None: extractors/data/ocr_lexicon.txt
    signer_pass: bool = True  # read the signer block again on its own (see _reread_signer_block)
    title_pass: bool = True  # ... and for the lost second line of its title (_reread_under_title)
    name_pass: bool = True  # ... and the lost first word of the signer's name (_reread_name_line)
    symbol_pass: bool = True  # read a header's printed symbol alone when its words were unsure (_reread_symbol)
    number_pass: bool = True  # look again for a header number line the page pass lost (_reread_number_line)
    agency_pass: bool = True  # ... and for a lost line of the header's left column (_reread_agency_lines)
    # a word pair read better elsewhere on the page replaces a one-off reading of its letters
    # (extractors.ocr_correct.PagePhrases)
    harmonise: bool = True
    # second recogniser of the handwritten header blanks (extractors/digit_reader.py): "auto"
    # (when installed), "rapidocr" or "none"
    digit_reader: str = "auto"
    # third reader of the handwritten blanks, trained on handwritten digits
    # (extractors/glyph_digits.py): "auto" (when its samples are installed), "mnist" or "none"
    glyph_reader: str = "auto"


# --------------------------------------------------------------------------- helpers


def _words_scaled(engine: OcrEngine, img: np.ndarray, psm: int, dpi: int, ocr_dpi: int) -> list[Word]:
    """Read ``img`` reduced to ``ocr_dpi`` (cheaper for the engine's layout analysis), with the
    word boxes mapped back to ``img`` pixels."""
    if ocr_dpi >= dpi:
        return engine.image_to_words(img, psm, dpi)
    f = ocr_dpi / dpi
    small = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    words = engine.image_to_words(small, psm, ocr_dpi)
    return [Word(w.text, tuple(int(round(v / f)) for v in w.bbox), w.conf, w.block, w.par, w.line)  # type: ignore[arg-type]
            for w in words]


def _bbox_pt(x0: float, y0: float, x1: float, y1: float, k: float) -> BBox:
    return BBox(round(x0 * k, 2), round(y0 * k, 2), round(x1 * k, 2), round(y1 * k, 2))


def _mean(values: Sequence[float]) -> float | None:
    return round(float(np.mean(values)), 2) if values else None


def _is_noise(w: Word) -> bool:
    """Dust and rule fragments: punctuation-only readings with very low confidence, and bars
    (a leftover piece of a rule).  Bullets "-" and final periods are often read with middling
    confidence; they are kept."""
    if any(ch.isalnum() for ch in w.text):
        return False
    return w.conf < 30 or set(w.text) <= set("|¦[]_")


def _is_noise_line(ws: list[Word]) -> bool:
    """A line without a single letter or digit is a rule, an underline or dust, unless the
    engine is sure of it; a line of which not one word was read with even moderate confidence
    is a signature, a stamp or a smudge, not text (readings with some confident words are kept,
    with their confidence, for the parsers to judge)."""
    confs = [w.conf for w in ws]
    if max(confs) < 50 and float(np.mean(confs)) < 30:
        return True
    return not any(ch.isalnum() for w in ws for ch in w.text) and float(np.mean(confs)) < 60


def _group_lines(words: list[Word], column_gap: float) -> list[list[Word]]:
    """Words grouped by the engine's (block, paragraph, line) ids, each line left to right, and
    cut where two words are more than ``column_gap`` pixels apart.

    That is the text-layer extractor's rule (extractors/model.py, COLUMN_GAP): the two columns of
    the header block ("UBND TỈNH …" | "CỘNG HÒA …") and of the signature block ("Nơi nhận:" |
    "GIÁM ĐỐC") are separate Lines side by side.  Tesseract sometimes strings such a pair into
    one line, even when their sizes differ (the last recipient and the signer's name).
    """
    groups: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        groups.setdefault((w.block, w.par, w.line), []).append(w)
    out: list[list[Word]] = []
    for g in groups.values():
        g = sorted(g, key=lambda w: w.bbox[0])
        cur = [g[0]]
        for w in g[1:]:
            if w.bbox[0] - cur[-1].bbox[2] > column_gap:
                out.append(cur)
                cur = []
            cur.append(w)
        out.append(cur)
    return out


def _line_box(ws: list[Word]) -> tuple[int, int, int, int]:
    return (min(w.bbox[0] for w in ws), min(w.bbox[1] for w in ws),
            max(w.bbox[2] for w in ws), max(w.bbox[3] for w in ws))


def _join(ws: list[Word]) -> str:
    return clean_text(" ".join(w.text for w in ws))


# --------------------------------------------------------------------------- cells


@dataclass
class _Crop:
    index: int  # index of the cell in the flat cell list
    x0: int  # page pixel coords of the crop's top-left
    y0: int
    img: np.ndarray
    strip_y: int = 0  # where it sits in the strip
    inner: tuple[int, int, int, int] | None = None  # the cell inside its rules (page pixels)


def _cell_crops(text_ink: np.ndarray, dpi: int, grids: list[TableGrid],
                image: np.ndarray) -> tuple[list[Any], list[_Crop]]:
    """Crop every cell inside its rules, tight around its text; cells without text ink (rules
    removed) are empty and are not read."""
    flat = []
    crops = []
    for ti, g in enumerate(grids):
        inset = g.line_thickness // 2 + max(2, int(round(dpi * 0.012)))
        min_ink = max(3, int((dpi / 100.0) ** 2 * 4))
        for c in g.cells:
            idx = len(flat)
            flat.append((ti, c))
            x0, y0, x1, y1 = c.x0 + inset, c.y0 + inset, c.x1 - inset, c.y1 - inset
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            ink = text_ink[y0:y1, x0:x1]
            if int(np.count_nonzero(ink)) < min_ink:
                continue
            ys, xs = np.nonzero(ink)
            pad = max(2, int(dpi * 0.01))
            cx0, cy0 = max(0, int(xs.min()) - pad), max(0, int(ys.min()) - pad)
            cx1, cy1 = min(ink.shape[1], int(xs.max()) + 1 + pad), min(ink.shape[0], int(ys.max()) + 1 + pad)
            crops.append(_Crop(index=idx, x0=x0 + cx0, y0=y0 + cy0,
                               img=image[y0 + cy0: y0 + cy1, x0 + cx0: x0 + cx1], inner=(x0, y0, x1, y1)))
    return flat, crops


def _read_strips(crops: list[_Crop], engine: OcrEngine, dpi: int, opts: OcrOptions) -> dict[int, list[Word]]:
    """Stack crops into strips, read each strip once, return words per cell index in page pixels."""
    out: dict[int, list[Word]] = {}
    if not crops:
        return out
    margin = max(10, int(dpi * 0.06))
    gap = max(20, int(dpi * 0.12))
    strips: list[list[_Crop]] = [[]]
    height = margin
    for cr in crops:
        h = cr.img.shape[0]
        if strips[-1] and height + h + gap > MAX_STRIP_HEIGHT:
            strips.append([])
            height = margin
        cr.strip_y = height
        strips[-1].append(cr)
        height += h + gap
    for strip in strips:
        width = max(cr.img.shape[1] for cr in strip) + 2 * margin
        total = strip[-1].strip_y + strip[-1].img.shape[0] + margin
        canvas = np.full((total, width), 255, dtype=np.uint8)
        for cr in strip:
            h, w = cr.img.shape
            canvas[cr.strip_y: cr.strip_y + h, margin: margin + w] = cr.img
        words = _words_scaled(engine, canvas, opts.psm_cells, dpi, opts.ocr_dpi)
        starts = np.array([cr.strip_y for cr in strip])
        for w in words:
            cy = (w.bbox[1] + w.bbox[3]) / 2
            k = int(np.searchsorted(starts, cy, side="right")) - 1
            if k < 0:
                continue
            cr = strip[k]
            if cy > cr.strip_y + cr.img.shape[0] + gap / 2:
                continue
            dx, dy = cr.x0 - margin, cr.y0 - cr.strip_y
            out.setdefault(cr.index, []).append(w.moved(dx, dy))
    return out


def assign_words_to_cells(words: list[Word], cells: list[tuple[int, int, int, int]],
                          tables: list[tuple[int, int, int, int]]) -> tuple[dict[int, list[Word]], list[Word]]:
    """Words of a page pass → words per cell (index into ``cells``) and the free words.

    A word belongs to the cell its box overlaps most.  A word inside a table's box that
    overlaps no cell (a reading on a removed rule) goes to the nearest cell, so that nothing
    read in a table is lost or leaks into the free text; words outside every table are free.
    """
    per_cell: dict[int, list[Word]] = {}
    free: list[Word] = []
    if not words:
        return per_cell, free
    wb = np.array([w.bbox for w in words], dtype=np.int64).reshape(-1, 4)
    cb = np.array(cells, dtype=np.int64).reshape(-1, 4)
    tb = np.array(tables, dtype=np.int64).reshape(-1, 4)

    def overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # areas, len(a) x len(b)
        w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
        h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
        return np.clip(w, 0, None) * np.clip(h, 0, None)

    areas = overlap(wb, cb) if len(cb) else np.zeros((len(wb), 0), np.int64)
    in_table = overlap(wb, tb).max(axis=1) > 0 if len(tb) else np.zeros(len(wb), bool)
    cx, cy = (wb[:, 0] + wb[:, 2]) / 2, (wb[:, 1] + wb[:, 3]) / 2
    for i, w in enumerate(words):
        best = int(areas[i].argmax()) if areas.shape[1] and areas[i].max() > 0 else -1
        if best < 0 and in_table[i] and len(cb):
            # distance from the word's centre to each cell's box
            dx = np.maximum.reduce([cb[:, 0] - cx[i], np.zeros(len(cb)), cx[i] - cb[:, 2]])
            dy = np.maximum.reduce([cb[:, 1] - cy[i], np.zeros(len(cb)), cy[i] - cb[:, 3]])
            best = int((dx + dy).argmin())
        if best >= 0:
            per_cell.setdefault(best, []).append(w)
        else:
            free.append(w)
    return per_cell, free


def visual_lines(words: list[Word]) -> list[list[Word]]:
    """Words of one cell regrouped into visual lines by vertical overlap, top to bottom, each
    left to right, renumbered as one engine line each.  The page pass's own line ids may cut a
    cell's line in two (a layout block boundary) or run across cells."""
    out: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.bbox[1] + w.bbox[3]) / 2):
        cy = (w.bbox[1] + w.bbox[3]) / 2
        if out:
            top = min(x.bbox[1] for x in out[-1])
            bottom = max(x.bbox[3] for x in out[-1])
            if top <= cy <= bottom:
                out[-1].append(w)
                continue
        out.append([w])
    return [[Word(w.text, w.bbox, w.conf, 1, 1, n + 1) for w in sorted(ln, key=lambda w: w.bbox[0])]
            for n, ln in enumerate(out)]


def _doubtful_cell_crops(cell_words: dict[int, list[Word]], crops: list[_Crop], opts: OcrOptions) -> list[_Crop]:
    """Cells to read again on their own after the page pass: cells with ink that the page pass
    left empty (its layout analysis skips lone digits and short marks in narrow columns), and
    cells read with a mean word confidence below ``opts.cell_reread_conf``."""
    return [cr for cr in crops
            if cr.index not in cell_words
            or float(np.mean([w.conf for w in cell_words[cr.index]])) < opts.cell_reread_conf]


def _apply_cell_rereads(cell_words: dict[int, list[Word]], again: dict[int, list[Word]]) -> set[int]:
    """Keep a cell's second reading when the page pass had nothing there or when it is clearly
    more confident; returns the cells whose words were replaced."""
    changed = set()
    for idx, new in again.items():
        new = [w for w in new if not _is_noise(w)]
        old = cell_words.get(idx)
        if not new:
            continue
        if old is None or float(np.mean([w.conf for w in new])) >= float(np.mean([w.conf for w in old])) + RECHECK_GAIN:
            cell_words[idx] = new
            changed.add(idx)
    return changed


def _attested(lines: list[_TextLine], opts: OcrOptions) -> frozenset[str]:
    """Words of the page read with confidence (punctuation stripped): evidence that such a word
    is printed there, which a post-correction of a doubtful reading of it must respect."""
    return frozenset(w.text.strip(".,;:()[]\"'") for ln in lines for w in ln.words if w.conf >= opts.correct_max_conf)


def _harmonised(lines: list[_TextLine]) -> list[_TextLine]:
    """Lines with one-off misreadings of a word pair put right by the page's other readings of
    it (ocr_correct.PagePhrases): on real scans the same indicator words recur in a table's
    cells, and the accents lost in one cell ("phục hôi") are read right in another."""
    # a cell's lines are one text: its pairs run across the line breaks
    texts: dict[object, tuple[list[str], list[float]]] = {}
    for n, ln in enumerate(lines):
        tokens, confs = texts.setdefault(("cell", ln.cell) if ln.cell is not None else n, ([], []))
        tokens.extend(w.text for w in ln.words)
        confs.extend(w.conf for w in ln.words)
    phrases = PagePhrases(list(texts.values()))
    out = []
    for ln in lines:
        texts = phrases.harmonise([w.text for w in ln.words], [w.conf for w in ln.words])
        if texts != [w.text for w in ln.words]:
            ln = _TextLine([w if t == w.text else Word(t, w.bbox, w.conf, w.block, w.par, w.line)
                            for w, t in zip(ln.words, texts, strict=True)], ln.cell, ln.clip)
        out.append(ln)
    return out


def _corrected(ws: list[Word], opts: OcrOptions, line_start: bool,
               attested: frozenset[str] = frozenset()) -> list[Word]:
    """Words of one line after lexicon post-correction (same words, possibly new texts)."""
    if not opts.correct or not ws:
        return ws
    lex = load_lexicon(opts.lexicon_path or DEFAULT_LEXICON)
    tokens: list[str] = []
    owner: list[int] = []
    for i, w in enumerate(ws):  # a re-read word may hold several tokens
        for t in w.text.split():
            tokens.append(t)
            owner.append(i)
    fixed = correct_tokens(tokens, [ws[i].conf for i in owner], lex, opts.correct_max_conf, line_start, attested,
                           opts.tone_max_conf)
    texts: list[list[str]] = [[] for _ in ws]
    for i, t in zip(owner, fixed, strict=True):
        texts[i].append(t)
    out = [w if " ".join(t) == w.text else Word(" ".join(x for x in t if x), w.bbox, w.conf, w.block, w.par, w.line)
           for w, t in zip(ws, texts, strict=True)]
    return [w for w in out if w.text]  # a speck read as a lone "." is gone


def _across_lines(lines: list[list[Word]], opts: OcrOptions) -> list[list[Word]]:
    """The word repairs that need the next word (a lexicon term, a speck read as a full stop, a
    misread tone) once more over a cell's lines as one run of text: a line break inside a cell
    is not the end of a phrase ("sửa đối, bổ" / "sung").  (In the 2,744 text fields of the
    sample and dev2 gold, a full stop inside a cell is never followed by a lower-case word.)"""
    if not opts.correct or len(lines) < 2:
        return lines
    read, owner = [], []
    for li, ws in enumerate(lines):
        for wi, w in enumerate(ws):
            read.append(w.text)
            owner.append((li, wi))
    confs = [lines[li][wi].conf for li, wi in owner]
    tokens = list(read)
    correct_phrases(tokens, confs, load_lexicon(opts.lexicon_path or DEFAULT_LEXICON), opts.correct_max_conf)
    gate = [c < opts.tone_max_conf for c in confs]
    fixed = repair_tones(keep_positions(tokens), gate)
    out = [list(ws) for ws in lines]
    for (li, wi), old, new in zip(owner, read, fixed, strict=True):
        if new != old:
            w = out[li][wi]
            out[li][wi] = Word(new, w.bbox, w.conf, w.block, w.par, w.line)
    return [[w for w in ws if w.text] for ws in out]


# --------------------------------------------------------------------------- page


@dataclass
class _PageResult:
    page: Page
    n_words: int


def _ocr_input(prep: Prepared, opts: OcrOptions, rules: np.ndarray) -> np.ndarray:
    """The image the engine reads: paper made pure white (dust, noise, background and ruling
    lines removed), with either the original grey levels around the ink or plain black ink."""
    if opts.image == "binary":
        out = 255 - prep.ink
    else:
        keep = cv2.dilate(prep.ink, np.ones((3, 3), np.uint8))
        out = cv2.bitwise_or(prep.gray, cv2.compare(keep, 0, cv2.CMP_EQ))  # paper (255) where no ink
    return cv2.bitwise_or(out, cv2.compare(rules, 0, cv2.CMP_GT))


@dataclass
class _TextLine:
    """One line of text as read: a free-text line (``cell`` None) or a line inside a cell."""

    words: list[Word]
    cell: int | None = None
    clip: tuple[int, int, int, int] | None = None  # where a re-read crop may extend (page px)

    @property
    def conf(self) -> float:
        return float(np.mean([w.conf for w in self.words]))


_STRAY_MARKS = frozenset(".,'`‘’·:;")
_LEADING_MARKS = ".'`·‘"


def _without_stray_marks(ws: list[Word]) -> list[Word]:
    """Dust next to text is read as punctuation: a lone mark between two words ("nâng . cấp"),
    a mark glued to the front of a word (".bồi dưỡng", "'việc"), or a dash glued to the first
    word of a line ("-mềm, cơ sở dữ liệu", which would read as a new bullet).  Printed text has
    none of these (a period follows a word, a bullet dash is followed by a space), so they are
    dropped.  Except a colon spaced before a capital, which is typed so ("Nhiệm vụ 1 : Xây
    dựng …" in 003, French-style spacing)."""
    out = []
    for i, w in enumerate(ws):
        if 0 < i < len(ws) - 1 and set(w.text) <= _STRAY_MARKS \
                and not (w.text == ":" and ws[i + 1].text[:1].isupper()):
            continue
        text = w.text
        if len(text) > 1 and text[0] in _LEADING_MARKS and (text[1].isalpha() or (i == 0 and text[1] == "-")):
            text = text.lstrip(_LEADING_MARKS)
        elif i == 0 and len(text) > 1 and text[0] in "-_" and text[1].islower():
            text = text[1:]
        if text != w.text:
            w = Word(text, w.bbox, w.conf, w.block, w.par, w.line)
        out.append(w)
    return out


_ROMAN_ONES = re.compile(r"^([IHlL|]{1,4})([.,)]?)$")


def _verify_roman_ones(line: list[Word], ink: np.ndarray, dpi: int) -> list[Word]:
    """Count the strokes of a leading "I", "II", "III" in the image instead of trusting the
    reading: Tesseract drops or merges the stems of bold serif numerals ("II." for "III.",
    "H." for "II.", "L." for "I.") and section codes hang on them.  The middle band of the
    word's box has neither serifs nor the period, so each stem is one run of ink columns."""
    if not line:
        return line
    w = line[0]
    m = _ROMAN_ONES.match(w.text)
    if not m or (len(line) == 1 and not m.group(2) and len(w.text) == 1 and w.text in "lL|"):
        return line
    x0, y0, x1, y1 = w.bbox
    h = y1 - y0
    band = ink[y0 + int(0.3 * h): y0 + int(0.7 * h) + 1, x0: x1 + 1]
    if band.size == 0:
        return line
    cols = (band > 0).mean(axis=0) > 0.6
    min_width = max(2, int(dpi * 0.006))
    runs, width = 0, 0
    for filled in [*cols.tolist(), False]:
        if filled:
            width += 1
        else:
            runs += width >= min_width
            width = 0
    if not 1 <= runs <= 3:
        return line
    punct = "." if m.group(2) == "," else m.group(2)
    text = "I" * runs + punct
    if text == w.text:
        return line
    return [Word(text, w.bbox, w.conf, w.block, w.par, w.line), *line[1:]]


def _lines_of(words: list[Word], column_gap: float, cell: int | None,
              clip: tuple[int, int, int, int] | None) -> list[_TextLine]:
    words = [w for w in words if not _is_noise(w)]
    lines = [_without_stray_marks(ws) for ws in _group_lines(words, column_gap) if not _is_noise_line(ws)]
    return [_TextLine(ws, cell, clip) for ws in sorted(lines, key=lambda ws: _line_box(ws)[1]) if ws]


def _doubtful(line: _TextLine, opts: OcrOptions) -> bool:
    return line.conf < opts.recheck_conf and any(ch.isalnum() for w in line.words for ch in w.text)


def _recheck_crops(lines: list[_TextLine], alt_image: np.ndarray, opts: OcrOptions) -> list[_Crop]:
    """Second opinion on doubtful lines: each one is re-read, on its own, from the other
    rendering of the page (binary if the first reading used grey levels); the crops' index is
    the line's index.

    Grey levels read best overall, but light strokes (accents of bold capitals: "GLAM ĐOC" for
    "GIÁM ĐỐC") can fall under Tesseract's own threshold; the binary image keeps them.  A line
    is re-read whole because a word alone loses the context the recogniser relies on, and on
    its own because Tesseract strings side-by-side columns of different sizes into one line.
    """
    hh, ww = alt_image.shape
    crops = []
    for i, line in enumerate(lines):
        if not _doubtful(line, opts):
            continue
        x0, y0, x1, y1 = _line_box(line.words)
        h = max(1, y1 - y0)
        px, py = int(0.3 * h) + 2, int(0.35 * h) + 2
        bx0, by0, bx1, by1 = line.clip or (0, 0, ww, hh)
        cx0, cy0 = max(bx0, x0 - px), max(by0, y0 - py)
        cx1, cy1 = min(bx1, x1 + px), min(by1, y1 + py)
        if cx1 - cx0 >= 3 and cy1 - cy0 >= 3:
            crops.append(_Crop(index=i, x0=cx0, y0=cy0, img=alt_image[cy0:cy1, cx0:cx1]))
    return crops


def _apply_rechecks(lines: list[_TextLine], again: dict[int, list[Word]]) -> None:
    """Keep the clearly more confident second reading of a line."""
    for i, new in again.items():
        new = [w for w in new if not _is_noise(w)]
        if not new:
            continue
        old = lines[i]
        old_len = sum(len(w.text) for w in old.words)
        new_len = sum(len(w.text) for w in new)
        conf = float(np.mean([w.conf for w in new]))
        # same words, similar length, clearly more confident: a second reading that splits or
        # joins words ("SởNộivụ") or drops letters is not trusted
        if (conf >= old.conf + RECHECK_GAIN and len(new) == len(old.words)
                and 0.8 * old_len <= new_len <= 1.25 * old_len):
            # one line by construction: renumber so that the words stay one line
            b = old.words[0]
            lines[i] = _TextLine([Word(w.text, w.bbox, w.conf, b.block, b.par, b.line)
                                  for w in sorted(new, key=lambda w: w.bbox[0])], old.cell, old.clip)


def _second_readings(cell_crops: list[_Crop], line_crops: list[_Crop], engine: OcrEngine, dpi: int,
                     opts: OcrOptions) -> tuple[dict[int, list[Word]], dict[int, list[Word]]]:
    """Doubtful cells and doubtful lines read in one strip: one engine call (one process start and
    model load) instead of two.  Returns words per cell index and per line index."""
    offset = 1 + max((cr.index for cr in cell_crops), default=0)
    shifted = [replace(cr, index=cr.index + offset) for cr in line_crops]
    got = _read_strips([*[replace(cr) for cr in cell_crops], *shifted], engine, dpi, replace(opts, psm_cells=PSM_CELLS))
    cells = {i: ws for i, ws in got.items() if i < offset}
    lines = {i - offset: ws for i, ws in got.items() if i >= offset}
    return cells, lines


# --------------------------------------------------------------------------- passes over a band

def _band_lines(image: np.ndarray, box: tuple[int, int, int, int], engine: OcrEngine, dpi: int,
                opts: OcrOptions, min_word_conf: float = 0.0, psm: int = PSM_CELLS) -> list[_TextLine]:
    """The lines of ``box`` (page pixels) of ``image`` read again as one uniform block (psm 6;
    ``psm`` 7 for one line), in page coordinates: the second passes over a part of the page
    that the page pass's layout analysis lost (a signer block, a number line, an agency line, a
    title's second line)."""
    x0, y0, x1, y1 = box
    words = [w.moved(x0, y0) for w in _words_scaled(engine, image[y0:y1, x0:x1], psm, dpi, opts.ocr_dpi)
             if w.conf >= min_word_conf]
    return _lines_of(words, COLUMN_GAP * dpi / 72.0, None, None)


def _read_over(line: _TextLine, lines: list[_TextLine]) -> list[_TextLine]:
    """The free-text lines of ``lines`` on the same text line as ``line`` (what a second pass's
    line would replace or duplicate)."""
    box = _line_box(line.words)
    return [old for old in lines if old.cell is None and _boxes_share_a_line(box, _line_box(old.words))]


def _lowest(lines: list[_TextLine]) -> _TextLine:
    """The line of ``lines`` that starts lowest on the page."""
    return max(lines, key=lambda ln: _line_box(ln.words)[1])


def _letter_count(line: _TextLine) -> int:
    """How many letters a line's words hold (a stroke or speck read as a line has few)."""
    return sum(ch.isalpha() for wd in line.words for ch in wd.text)


def _header_lines(lines: list[_TextLine], page_height: int) -> list[_TextLine]:
    """The free-text lines in the header part of the page (digit_reader.HEADER_FRACTION)."""
    return [ln for ln in lines if ln.cell is None and _line_box(ln.words)[1] < HEADER_FRACTION * page_height]


# --------------------------------------------------------------------------- signer block

#: Titles that head a signer block ("KT. GIÁM ĐỐC", "TL. GIÁM ĐỐC / CHÁNH VĂN PHÒNG" ...),
#: matched without diacritics: the stamp and the signature damage exactly these lines.
_SIGNER_OFFICES = ("giam doc", "chanh van phong", "truong phong", "chu tich", "hieu truong", "vien truong",
                   "thu truong", "bo truong")
_SIGNER_TITLE = re.compile(rf"^.{{0,6}}?\b(pho )?({'|'.join(_SIGNER_OFFICES)})\W*$")
_SIGNER_TITLE_LETTERS = tuple(t.replace(" ", "") for o in _SIGNER_OFFICES for t in (o, f"pho {o}"))
_RECIPIENTS = re.compile(r"^\W*noi nhan\b")
SIGNER_BLOCK_IN = (2.6, 2.4)  # height below the anchor, width of the block (inches)


#: A line is also a signer title when its letters are this close (rapidfuzz ratio) to one of
#: those titles' ("GIÁM ĐÓ": a stamp over the last letter)
SIGNER_TITLE_LIKE = 85.0


def _signer_titles(lines: list[_TextLine]) -> list[_TextLine]:
    """The free-text lines that read as a signer title (:data:`_SIGNER_TITLE`,
    :data:`SIGNER_TITLE_LIKE`)."""
    from extractors.text_quality import fold

    def title_like(text: str) -> bool:
        folded = fold(text)
        if _SIGNER_TITLE.search(folded):
            return True
        letters = re.sub(r"[^a-z]", "", folded)
        return any(fuzz.ratio(letters, t) >= SIGNER_TITLE_LIKE for t in _SIGNER_TITLE_LETTERS)

    return [ln for ln in lines if ln.cell is None and title_like(_join(ln.words))]


def _signer_region(lines: list[_TextLine], shape: tuple[int, int], dpi: int) -> tuple[int, int, int, int] | None:
    """Where the signer block is: around the lowest signer title the page pass read, or, when it
    read none (a stamp over it), to the right of the recipients list ("Nơi nhận:"), which is
    printed in plain type beside the block and survives."""
    from extractors.text_quality import fold

    hh, ww = shape
    free = [ln for ln in lines if ln.cell is None]
    titles = _signer_titles(lines)
    if titles:
        x0, y0, x1, _ = _line_box(_lowest(titles).words)
        cx = (x0 + x1) / 2
        half = SIGNER_BLOCK_IN[1] * dpi / 2
        return (max(0, int(cx - half)), max(0, int(y0 - 0.3 * dpi)),
                min(ww, int(cx + half)), min(hh, int(y0 + SIGNER_BLOCK_IN[0] * dpi)))
    anchors = [ln for ln in free if _RECIPIENTS.match(fold(_join(ln.words)))]
    if not anchors:
        return None
    x0, y0, x1, _ = _line_box(max(anchors, key=lambda ln: _line_box(ln.words)[1]).words)
    return (max(int(ww * 0.45), x1), max(0, int(y0 - 0.6 * dpi)), ww, min(hh, int(y0 + SIGNER_BLOCK_IN[0] * dpi)))


def _reread_signer_block(lines: list[_TextLine], prep: Prepared, engine: OcrEngine,
                         opts: OcrOptions, red: RedChannel | None = None) -> list[_TextLine]:
    """Second reading of the signer block, as one uniform block (psm 6) from the grey page with
    nothing removed: the page pass, with its layout analysis and speck removal, loses the
    printed name under a stamp and a signature ("Hà Văn Phúc" read at 96 this way, missing from
    the page pass on real scans).  A line of the second reading replaces the page-pass lines
    it overlaps when it is more confident, and is added where the page pass had nothing.

    On a colour page the block is also read from its red channel (``red``: raster.red_dropout),
    where a red stamp fades into the paper ("CHÁNH VĂN PHÒNG" under the stamp's ring); per line
    the more confident of the two readings is kept."""
    dpi = prep.dpi
    region = _signer_region(lines, prep.gray.shape, dpi)
    if region is None:
        return lines
    x0, y0, x1, y1 = region
    if x1 - x0 < dpi // 2 or y1 - y0 < dpi // 4:
        return lines
    images = _grey_and_red(prep, red)
    new: list[_TextLine] = []
    for image in images:
        # strokes of the signature and the stamp read as words at single-digit confidence
        new += [ln for ln in _band_lines(image, region, engine, dpi, opts, min_word_conf=SIGNER_MIN_WORD_CONF)
                if ln.conf >= SIGNER_MIN_CONF and _letter_count(ln) > 0]
    out = list(lines)
    for ln in new:
        over = _read_over(ln, out)
        if all(old.conf < ln.conf for old in over):
            out = [old for old in out if not any(old is o for o in over)]
            out.append(ln)
    return out


#: The band under a signer title read again as one line, in heights of the title line: from
#: this far below its top (a second title line printed or stamped close under the first
#: touches it: "PHÓ GIÁM ĐỐC" under "KT. GIÁM ĐỐC") to this far below its bottom, and this far
#: left of it (the second line is the wider: "PHÓ")
UNDER_TITLE_FROM, UNDER_TITLE_TO, UNDER_TITLE_LEFT, UNDER_TITLE_RIGHT = 0.4, 1.2, 3.0, 2.0
#: ... a reading kept only with this mean word confidence (strokes of the stamp and the
#: signature read there at 20-45 on the 20 real scans, the title's second line at 60-88)
UNDER_TITLE_MIN_CONF = 50.0
UNDER_TITLE_MIN_LETTERS = 4


def _reread_under_title(lines: list[_TextLine], prep: Prepared, engine: OcrEngine,
                        opts: OcrOptions) -> list[_TextLine]:
    """The second line of a signer title that the page pass lost, read again as one line (psm 7)
    from the grey page.

    A deputy's title is two lines, "KT. GIÁM ĐỐC" over "PHÓ GIÁM ĐỐC", often the second stamped
    in red close under the first: the two touch, and the page pass and the block pass read only
    the first, so the block's title lost its second line (9uV_2275, dQP_2242, kwa_179 of the
    real scans).  Read alone, the band under the lowest title gives it back ("PHÓ GIÁM ĐỐC" at
    85-93).  As in the block pass, the line replaces what was read there when it is the more
    confident; the parser judges what it says (parsers.signers)."""
    titles = _signer_titles(lines)
    if not titles:
        return lines
    title = _lowest(titles)
    x0, y0, x1, y1 = _line_box(title.words)
    th = max(1, y1 - y0)
    h, w = prep.gray.shape
    band = (max(0, int(x0 - UNDER_TITLE_LEFT * th)), int(y0 + UNDER_TITLE_FROM * th),
            min(w, int(x1 + UNDER_TITLE_RIGHT * th)), min(h, int(y1 + UNDER_TITLE_TO * th)))
    if band[3] - band[1] < th // 2:
        return lines
    found = [ln for ln in _band_lines(prep.gray, band, engine, prep.dpi, opts, psm=PSM_LINE)
             if ln.conf >= UNDER_TITLE_MIN_CONF
             and _letter_count(ln) >= UNDER_TITLE_MIN_LETTERS]
    if not found:
        return lines
    line = found[0]
    over = [old for old in _read_over(line, lines) if old is not title]
    if any(old.conf >= line.conf for old in over):
        return lines
    return [*(old for old in lines if not any(old is o for o in over)), line]


#: A name-like line of the signer block is read again when this share of its left band is ink
#: no word accounts for (P7f_11's "Hoàng Anh", its "Lê" touching the stamp's ring: 0.26; names
#: read whole on the 20 real scans: 0-0.08)
NAME_UNREAD_LEFT = 0.10
NAME_BAND_LEFT, NAME_BAND_PAD = 4.0, 0.25  # line heights left of the name, above and below it
NAME_WORD_CONF = 90.0  # a word the band reads before the name is kept only this sure
_NAME_WORD = re.compile(r"^[A-ZĐÀ-Ỹ][a-zà-ỹđ]+$")


def _reread_name_line(lines: list[_TextLine], prep: Prepared, engine: OcrEngine, opts: OcrOptions,
                      red: RedChannel | None = None) -> list[_TextLine]:
    """The first word of the signer's name that the page pass lost beside a stamp, read again:
    the band left of the lowest capitalised line of the signer block, as one line (psm 7),
    from the grey page and, on a colour page, from its red channel, where a red stamp's ring
    fades into the paper.  A reading is taken only when it ends with the words the page pass
    read there and adds, before them, capitalised words read at :data:`NAME_WORD_CONF` or
    more; only where unread ink lies left of the line (:data:`NAME_UNREAD_LEFT`)."""
    h, w = prep.gray.shape
    names = [ln for ln in lines if ln.cell is None and _line_box(ln.words)[0] > w / 2
             and _line_box(ln.words)[1] > h / 2 and all(_NAME_WORD.match(wd.text) for wd in ln.words)]
    if not names:
        return lines
    name = _lowest(names)
    x0, y0, x1, y1 = _line_box(name.words)
    lh = max(1, y1 - y0)
    covered = covered_mask(prep.ink.shape, [wd.bbox for ln in lines for wd in ln.words])
    if unread_around(prep.ink, covered, (x0, y0, x1, y1))[0] <= NAME_UNREAD_LEFT:
        return lines
    band = (max(0, int(x0 - NAME_BAND_LEFT * lh)), max(0, int(y0 - NAME_BAND_PAD * lh)),
            min(w, int(x1 + NAME_BAND_PAD * lh)), min(h, int(y1 + NAME_BAND_PAD * lh)))
    images = _grey_and_red(prep, red)
    read = [wd.text for wd in name.words]
    for image in images:
        words = [wd for ln in _band_lines(image, band, engine, prep.dpi, opts, psm=PSM_LINE) for wd in ln.words]
        if len(words) <= len(read) or [wd.text for wd in words[-len(read):]] != read:
            continue
        added = []
        for wd in reversed(words[:-len(read)]):
            if wd.conf < NAME_WORD_CONF or not _NAME_WORD.match(wd.text):
                break
            added.insert(0, wd)
        if added:
            return [*(ln for ln in lines if ln is not name), _TextLine([*added, *words[-len(read):]])]
    return lines


#: The band searched for a number line the page pass missed, in heights of the date line:
#: from above its top to below its bottom (the number sits level with the date or a line
#: above it, in the left column).
NUMBER_BAND_ABOVE, NUMBER_BAND_BELOW = 2.5, 1.0


def _reread_number_line(lines: list[_TextLine], prep: Prepared, engine: OcrEngine,
                        opts: OcrOptions) -> list[_TextLine]:
    """A header's "Số: … /SYMBOL" line that the page pass lost, read again from the left column
    level with the date line.

    The handwritten number in its blank throws Tesseract's layout analysis, which on real scans
    drops the whole line, printed symbol included (dQP_2242, Nsh_2231: a date line "ngày … tháng
    … năm …" in the header, no number line).  Read as one block (psm 6) from the grey page, the
    band left of the date line gives it back (Nsh: "Số:9924/SYT-TCCB" at 56); a line is added
    only when it reads as a number line, is no noise line (dQP's "Số:22/19/SYT-NVY" at 25 is:
    taken, its blank's second readings agreed on a wrong "22421") and the page pass had nothing
    there, so a typed header, whose number line the page pass reads, costs nothing."""
    dpi = prep.dpi
    h, w = prep.gray.shape
    texts = [(ln, _join(ln.words)) for ln in _header_lines(lines, h)]
    if any(NUMBER_BLANK.search(t) for _, t in texts):
        return lines
    date = next((ln for ln, t in texts if DATE_BLANKS.search(t)), None)
    if date is None:
        return lines
    dx0, dy0, _dx1, dy1 = _line_box(date.words)
    lh = max(1, dy1 - dy0)
    x0, x1 = int(0.02 * w), dx0 - int(COLUMN_GAP * dpi / 72.0)
    y0, y1 = max(0, int(dy0 - NUMBER_BAND_ABOVE * lh)), min(h, int(dy1 + NUMBER_BAND_BELOW * lh))
    if x1 - x0 < dpi // 2:
        return lines
    found = next((ln for ln in _band_lines(prep.gray, (x0, y0, x1, y1), engine, dpi, opts)
                  if NUMBER_BLANK.search(_join(ln.words))), None)
    if found is None or _read_over(found, lines):
        return lines
    return [*lines, found]


#: The band between the left column's lowest agency line and its number line is read again
#: when it holds a run of rows, at least this many line heights high, each with more than this
#: share of its width in ink no word accounts for: a lost line (AQr_2193's bold, underlined
#: "SỞ Y TẾ": 0.52 heights), not the underline of a line read (at most 0.16 on the 20 real
#: scans of tests/fixtures/realscans)
AGENCY_MIN_RUN, AGENCY_ROW_INK = 0.35, 0.02
AGENCY_MIN_CONF = 60.0  # a line read there below this is a stroke or a speck, not an agency line
AGENCY_BAND_ABOVE = 0.2  # line heights of the line above kept in the crop (tone marks reach up)


def _longest_run(flags: np.ndarray) -> int:
    """The length of the longest run of True in ``flags``."""
    padded = np.concatenate(([0], flags.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max()) if edges.size else 0


def _reread_agency_lines(lines: list[_TextLine], prep: Prepared, engine: OcrEngine,
                         opts: OcrOptions) -> list[_TextLine]:
    """A line of the header's left column that the page pass lost, between the last agency line
    it read and the number line, read again as one block (psm 6) from the grey page.

    Tesseract's layout analysis drops a bold line whose underline touches its letters (AQr_2193:
    "SỞ Y TẾ" under "UBND TỈNH KIÊN GIANG", so the issuer became the province's committee);
    read alone, the band gives it back ("SỞ Y TÉ" at 78-92).  Only where the band holds ink no
    word accounts for (:data:`AGENCY_MIN_RUN`), so a header read whole costs nothing."""
    h, w = prep.gray.shape
    head = _header_lines(lines, h)
    number = next((ln for ln in head if NUMBER_BLANK.search(_join(ln.words))), None)
    if number is None:
        return lines
    nx0, ny0, _nx1, _ = _line_box(number.words)
    right = min((b[0] for b in (_line_box(ln.words) for ln in head) if b[0] > 0.4 * w), default=w // 2)
    left_col = [b for b in (_line_box(ln.words) for ln in head) if b[3] <= ny0 and b[2] <= right]
    if not left_col:
        return lines
    ax0, ay0, _ax1, ay1 = max(left_col, key=lambda b: b[3])
    lh = max(1, ay1 - ay0)
    x0, x1 = max(0, min(ax0, nx0) - lh), right - int(COLUMN_GAP * prep.dpi / 72.0 / 2)
    y0, y1 = ay1 + 1, ny0 - 1
    if y1 - y0 < 0.8 * lh or x1 - x0 < prep.dpi // 2:
        return lines
    shares = unread_rows(prep.ink, [wd.bbox for ln in lines for wd in ln.words], (x0, y0, x1, y1))
    if _longest_run(shares > AGENCY_ROW_INK) < AGENCY_MIN_RUN * lh:
        return lines
    top = max(0, int(ay1 - AGENCY_BAND_ABOVE * lh))
    found = [ln for ln in _band_lines(prep.gray, (x0, top, x1, y1), engine, prep.dpi, opts)
             if ln.conf >= AGENCY_MIN_CONF and _letter_count(ln) >= 2]
    return [*lines, *(ln for ln in found if not _read_over(ln, lines))]


def _reread_symbol(page: Page, gray: np.ndarray, dpi: int, engine: OcrEngine, opts: OcrOptions) -> None:
    """The printed symbol of the header's number line read alone, as one line (psm 7), kept as
    the line's ``symbol`` reread (view "alone") for the parser to judge: the page pass glues it
    to the handwritten number in one word whose confidence the handwriting drags down
    ("Số:22#2/SYT-NVY" at 50, "/SYT-NVY" alone at 92).  Only the first number line of the
    header, only a symbol read less than sure (digit_reader.symbol_box)."""
    for line in page.lines:
        if line.bbox is None or line.bbox.top > HEADER_FRACTION * page.height or not NUMBER_BLANK.search(line.text):
            continue
        box = symbol_box(line)
        if box is None:
            return
        words = _words_scaled(engine, crop_points(gray, box, dpi), PSM_LINE, dpi, opts.ocr_dpi)
        if words:
            text = "".join(w.text for w in words)
            line.rereads = [*(line.rereads or []), Reread("symbol", text, float(np.mean([w.conf for w in words])),
                                                          engine.version, box, view="alone")]
        return


def _grey_and_red(prep: Prepared, red: RedChannel | None) -> list[np.ndarray]:
    """The images a part of the page is read again from: the grey page, and on a colour page
    its red channel too (a red stamp fades into the paper there)."""
    dropped = _aligned_red(red, prep) if red is not None else None
    return [prep.gray] if dropped is None else [prep.gray, dropped]


def _aligned_red(red: RedChannel, prep: Prepared) -> np.ndarray | None:
    """The page's red channel (None for a grey page) turned and deskewed as the grey page was."""
    img = red()
    if img is None:
        return None
    img = rotate_right_angle(img, prep.rotation)
    if abs(prep.skew) >= 0.05:
        img = rotate_small(img, prep.skew)
    return img if img.shape == prep.gray.shape else None


SIGNER_MIN_CONF = 60.0  # a second-pass line below this is a signature or a stamp's ring text
SIGNER_MIN_WORD_CONF = 20.0


def _boxes_share_a_line(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Two line boxes on the same text line (half the smaller height overlaps) that overlap
    horizontally."""
    v = min(a[3], b[3]) - max(a[1], b[1])
    h = min(a[2], b[2]) - max(a[0], b[0])
    return v > 0.5 * min(a[3] - a[1], b[3] - b[1]) and h > 0


def _read_page(prep: Prepared, engine: OcrEngine, page_number: int, opts: OcrOptions,
               red: RedChannel | None = None) -> _PageResult:
    dpi = prep.dpi
    k = 72.0 / dpi
    red = cache(red) if red is not None else None  # rendered once for the passes that read it
    grids, rules = find_tables_and_rules(prep.ink, dpi)
    image = _ocr_input(prep, opts, rules)
    text_ink = cv2.bitwise_and(prep.ink, cv2.bitwise_not(rules)) if grids else prep.ink  # no cells: unused
    flat, crops = _cell_crops(text_ink, dpi, grids, image)
    if opts.cells == "page":
        # one pass: the engine sees each table whole (context keeps dot-below accents and ";"),
        # and its words are put into the cells their boxes fall in
        words = _words_scaled(engine, image, opts.psm_page, dpi, opts.ocr_dpi)
        cell_words, free_words = assign_words_to_cells(
            words, [(gc.x0, gc.y0, gc.x1, gc.y1) for _, gc in flat], [g.bbox for g in grids])
        cell_words = {i: [w for ln in visual_lines(ws) for w in ln] for i, ws in cell_words.items()}
        reread = _doubtful_cell_crops(cell_words, crops, opts)
    else:
        reread = []
        cell_words = _read_strips(crops, engine, dpi, opts)
        # free text: the page with the tables blanked out
        free = image.copy()
        for g in grids:
            x0, y0, x1, y1 = g.bbox
            pad = g.line_thickness + 2
            free[max(0, y0 - pad): y1 + pad, max(0, x0 - pad): x1 + pad] = 255
        free_words = _words_scaled(engine, free, opts.psm_page, dpi, opts.ocr_dpi)

    inner = {cr.index: cr.inner for cr in crops}

    def cell_lines(idx: int, words: list[Word]) -> list[_TextLine]:
        gc = flat[idx][1]
        return _lines_of(words, float("inf"), idx, inner.get(idx) or (gc.x0, gc.y0, gc.x1, gc.y1))

    lines: list[_TextLine] = []
    for idx, words in cell_words.items():
        lines.extend(cell_lines(idx, words))
    lines.extend(_lines_of(free_words, COLUMN_GAP * dpi / 72.0, None, None))
    reread_idx = {cr.index for cr in reread}
    line_crops: list[_Crop] = []
    if opts.recheck_conf > 0 and any(_doubtful(ln, opts) for ln in lines):  # the other image only then
        alt = _ocr_input(prep, replace(opts, image="binary" if opts.image != "binary" else "gray"), rules)
        line_crops = [cr for cr in _recheck_crops(lines, alt, opts) if lines[cr.index].cell not in reread_idx]
    if reread or line_crops:
        cells_again, lines_again = _second_readings(reread, line_crops, engine, dpi, opts)
        _apply_rechecks(lines, lines_again)
        changed = _apply_cell_rereads(cell_words, cells_again)
        if changed:
            lines = [ln for ln in lines if ln.cell not in changed]
            for idx in sorted(changed):
                lines.extend(cell_lines(idx, cell_words[idx]))

    if opts.signer_pass:
        lines = _reread_signer_block(lines, prep, engine, opts, red)
    if opts.title_pass:
        lines = _reread_under_title(lines, prep, engine, opts)
    if opts.name_pass:
        lines = _reread_name_line(lines, prep, engine, opts, red)
    if opts.number_pass and page_number <= HEADER_PAGES:
        lines = _reread_number_line(lines, prep, engine, opts)
    if opts.agency_pass and page_number <= HEADER_PAGES:
        lines = _reread_agency_lines(lines, prep, engine, opts)

    if opts.harmonise:
        lines = _harmonised(lines)
    attested = _attested(lines, opts)
    all_confs: list[float] = []
    blocks: list[tuple[float, float, Line | Table]] = []
    per_cell: dict[int, list[_TextLine]] = {}
    for line in lines:
        if line.cell is not None:
            per_cell.setdefault(line.cell, []).append(line)
    tables_cells: dict[int, list[Cell]] = {}
    for idx, (ti, gc) in enumerate(flat):
        cell_lines = _across_lines([_corrected(_verify_roman_ones(ln.words, prep.ink, dpi) if n == 0 else ln.words,
                                               opts, n == 0, attested)
                                    for n, ln in enumerate(per_cell.get(idx, []))], opts)
        confs = [w.conf for ws in cell_lines for w in ws]
        all_confs.extend(confs)
        tables_cells.setdefault(ti, []).append(
            Cell(row=gc.row, col=gc.col, text=clean_text(" ".join(_join(ws) for ws in cell_lines)),
                 row_span=gc.row_span, col_span=gc.col_span,
                 bbox=_bbox_pt(gc.x0, gc.y0, gc.x1, gc.y1, k), confidence=_mean(confs))
        )
    for ti, g in enumerate(grids):
        x0, y0, x1, y1 = g.bbox
        table = Table(n_rows=g.n_rows, n_cols=g.n_cols, cells=tables_cells.get(ti, []),
                      bbox=_bbox_pt(x0, y0, x1, y1, k))
        blocks.append((y0, x0, table))

    covered = covered_mask(prep.ink.shape, [w.bbox for ln in lines for w in ln.words] + [g.bbox for g in grids])
    for line in lines:
        if line.cell is not None:
            continue
        ws = _corrected(_verify_roman_ones(line.words, prep.ink, dpi), opts, True, attested)
        text = _join(ws)
        if not text:
            continue
        b = _line_box(ws)
        confs = [w.conf for w in ws]
        all_confs.extend(confs)
        line_words = [LineWord(w.text, round(w.conf, 2), _bbox_pt(*w.bbox, k)) for w in ws if w.text]
        blocks.append((b[1], b[0], Line(text=text, bbox=_bbox_pt(*b, k), confidence=_mean(confs),
                                        words=line_words, unread_ink=unread_around(prep.ink, covered, b))))

    blocks.sort(key=lambda t: (t[0], t[1]))
    h, w = prep.gray.shape
    page = Page(
        number=page_number,
        blocks=[b for _, _, b in blocks],
        width=round(w * k, 2),
        height=round(h * k, 2),
        method="ocr",
        rotation=prep.rotation,
        confidence=_mean(all_confs),
    )
    if page_number <= HEADER_PAGES:
        reader, glyphs = digit_reader_for(opts.digit_reader), glyph_reader_for(opts.glyph_reader)
        if reader is not None or glyphs is not None:
            reread_blanks(page.lines, prep.gray, dpi, page.height, reader, glyphs)
        if opts.symbol_pass:
            _reread_symbol(page, prep.gray, dpi, engine, opts)
    return _PageResult(page=page, n_words=len(all_confs))


def ocr_image(gray: np.ndarray, dpi: int, engine: OcrEngine, page_number: int = 1,
              options: OcrOptions | None = None, red: RedChannel | None = None) -> Page:
    """OCR one grayscale page image (already rendered) into a Page.  ``red`` loads the same
    page's red channel for reading a signer block under a red stamp (None: grey only).

    When the result is poor, the page may be upside down (or sideways the other way) in a way
    the orientation test could not tell: read it turned by 180 degrees more and keep the more
    confident reading — unless a confident OSD chose the orientation (a poor reading of a page
    that OSD read the right way up is a poor scan, not a turned one).
    """
    opts = options or OcrOptions()
    prep = prepare(gray, dpi, engine)
    result = _read_page(prep, engine, page_number, opts, red)
    conf = result.page.confidence
    if result.n_words >= 5 and conf is not None and conf < RETRY_CONFIDENCE and not prep.osd_confident:
        alt_prep = prepare(gray, dpi, engine, rotation=(prep.rotation + 180) % 360)
        alt = _read_page(alt_prep, engine, page_number, opts, red)
        if (alt.page.confidence or 0) > conf + 5:
            return alt.page
    return result.page


# --------------------------------------------------------------------------- cache


def _default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env) / "ocr"
    return Path(__file__).resolve().parents[1] / ".cache" / "ocr"


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _options_key(opts: OcrOptions) -> str:
    """Everything besides the engine that changes the output: options and the content of the
    post-correction's data (the lexicon, the glyph splits)."""
    lex = ""
    if opts.correct:
        try:
            lex = hashlib.sha256(Path(opts.lexicon_path or DEFAULT_LEXICON).read_bytes()
                                 + GLYPH_SPLITS.read_bytes()).hexdigest()
        except OSError:
            lex = "missing"
    reader, glyphs = digit_reader_for(opts.digit_reader), glyph_reader_for(opts.glyph_reader)
    return (f"{opts!r}|{lex}|{reader.version if reader is not None else 'no digit reader'}"
            f"|{glyphs.version if glyphs is not None else 'no glyph reader'}")


def _cache_path(cache_dir: Path, sha: str, page: int, dpi: int, engine_version: str, options_key: str) -> Path:
    key = hashlib.sha256(f"{engine_version}|{CODE_VERSION}|{options_key}".encode()).hexdigest()[:16]
    return cache_dir / sha[:2] / f"{sha}_p{page:04d}_{dpi}dpi_{key}.json"


def _cache_load(path: Path) -> Page | None:
    try:
        with open(path, encoding="utf-8") as f:
            return page_from_dict(json.load(f))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or corrupt: just OCR again


def _cache_store(path: Path, page: Page) -> None:
    """Write then rename, so a crash never leaves a half-written cache entry."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(page_to_dict(page), f, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs time


# --------------------------------------------------------------------------- workers


def _worker_init() -> None:
    # Tesseract's OpenMP threads fight the process pool for the same cores.
    os.environ["OMP_THREAD_LIMIT"] = "1"


def _ocr_one(path: str, page_number: int, dpi: int, engine: OcrEngine, opts: OcrOptions) -> dict[str, Any]:
    """Worker entry: render and read one page.  Returns the page as a dict (cheap to pickle), or
    the error as a dict: an ExtractionError's ``stage`` would not survive pickling."""
    try:
        gray, page_dpi = load_page(path, page_number, dpi)

        def red() -> np.ndarray | None:
            return load_page(path, page_number, dpi, red=True)[0]

        page = ocr_image(gray, page_dpi, engine, page_number, opts, red)
    except ExtractionError as e:
        return {"error": e.reason, "stage": e.stage, "unavailable": isinstance(e, OcrUnavailable)}
    return {"page": page_to_dict(page)}


def ocr_pdf_pages(
    path: str | Path,
    page_numbers: list[int] | None = None,
    dpi: int = DEFAULT_DPI,
    workers: int | None = None,
    cache_dir: Path | None = None,
    engine: OcrEngine | None = None,
    options: OcrOptions | None = None,
    use_cache: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[Page]:
    """OCR the given 1-based pages (default: all) of a PDF into Pages, in the order asked.
    An image file (extractors/image.py) works too: its frames are its pages, read at their own
    resolution (``dpi`` is then only part of the cache key).

    Raises OcrUnavailable when the engine cannot run, ExtractionError when the file cannot be
    rendered.  ``workers`` defaults to the number of CPUs (capped by the number of pages);
    ``cache_dir`` to $KHSYT_CACHE_DIR/ocr or <repo>/.cache/ocr.  The cache key covers the file's
    content, page, dpi, engine version, CODE_VERSION, the options and the lexicon's content.
    More than one worker starts a spawn process pool, so a script calling this at import time
    needs the usual ``if __name__ == "__main__":`` guard.

    Each page read (or served from the cache) is reported as one line to ``progress`` and to
    the ``khsyt.ocr`` logger: an OCR of a long scan takes minutes and should not look hung.
    """
    opts = options or OcrOptions()
    path = Path(path)
    engine = engine or TesseractEngine()
    n_pages = count_pages(path)
    pages = list(range(1, n_pages + 1)) if page_numbers is None else list(page_numbers)
    bad = [p for p in pages if not 1 <= p <= n_pages]
    if bad:
        raise ExtractionError(f"pages {bad} out of range 1..{n_pages}", stage="ocr")
    cache_root = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    sha = file_sha256(path)

    results: dict[int, Page] = {}
    todo: list[int] = []
    engine_version: str | None = None
    okey = _options_key(opts)
    unique = list(dict.fromkeys(pages))
    report = _Progress(path.name, len(unique), progress)
    for p in unique:
        if use_cache:
            engine_version = engine_version or engine.version
            cached = _cache_load(_cache_path(cache_root, sha, p, dpi, engine_version, okey))
            if cached is not None:
                results[p] = cached
                report.page(cached, cached=True)
                continue
        todo.append(p)

    if todo:
        engine.check_available()
        engine_version = engine_version or engine.version
        n_workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
        for p, page in _run_pages(str(path), todo, dpi, engine, opts, n_workers):
            results[p] = page
            report.page(page, cached=False)
            if use_cache:  # as soon as a page is done: an interrupted run keeps what it read
                _cache_store(_cache_path(cache_root, sha, p, dpi, engine_version, okey), page)
    return [results[p] for p in pages]


class _Progress:
    """One line per page done: file, page, count, rate, confidence."""

    def __init__(self, name: str, total: int, sink: Callable[[str], None] | None) -> None:
        self.name, self.total, self.sink = name, total, sink
        self.done = 0
        self.t0 = time.monotonic()

    def page(self, page: Page, cached: bool) -> None:
        self.done += 1
        conf = f"{page.confidence:.0f}" if page.confidence is not None else "-"
        how = "cached" if cached else f"{(time.monotonic() - self.t0) / self.done:.1f} s/page"
        msg = f"OCR {self.name}: page {page.number} done ({self.done}/{self.total}, {how}, confidence {conf})"
        log.info(msg)
        if self.sink is not None:
            self.sink(msg)


def _run_pages(path: str, pages: list[int], dpi: int, engine: OcrEngine, opts: OcrOptions,
               n_workers: int) -> Iterator[tuple[int, Page]]:
    """Read pages, yielding each page as it is done; the first failure fails the file.

    One worker reads in this process (no start-up cost, works from any __main__); more use a
    spawn-based pool (safe under threaded hosts such as Dagster, where fork is not)."""
    if n_workers == 1:
        for p in pages:
            yield p, _page_or_raise(p, _ocr_one(path, p, dpi, engine, opts))
        return
    ctx = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=_worker_init) as pool:
            futures = {pool.submit(_ocr_one, path, p, dpi, engine, opts): p for p in pages}
            try:
                for fut in as_completed(futures):
                    yield futures[fut], _page_or_raise(futures[fut], fut.result())
            finally:
                for f in futures:
                    f.cancel()
    except ExtractionError:
        raise
    except Exception as e:  # a crashed worker (BrokenProcessPool, MemoryError ...) fails the file
        raise ExtractionError(f"OCR failed: {type(e).__name__}: {e}", stage="ocr") from e


def _page_or_raise(page_number: int, res: dict[str, Any]) -> Page:
    if "error" in res:
        if res["unavailable"]:
            raise OcrUnavailable(res["error"])
        raise ExtractionError(f"page {page_number}: {res['error']}", stage=res["stage"])
    return page_from_dict(res["page"])
