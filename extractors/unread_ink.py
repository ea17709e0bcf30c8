"""Ink the OCR did not account for, beside and under each line it read.

Tesseract drops what it cannot read: a short prefix half covered by a signature ("KT." before
"GIÁM ĐỐC"), a whole printed line under a stamp ("PHÓ GIÁM ĐỐC").  The text it returns is then
well formed and confident, and nothing in it says a piece is missing.  The page image does:
ink where no word was read.  Each OCR'd line gets the share of its neighbourhood that is ink
covered by no word of the page (``Line.unread_ink``): the band to its left on the same line
(``LEFT_BAND`` line heights) and the band under it (``BELOW_BAND`` line heights, across the
line's width).  Parsers read it as evidence, never knowing it came from an image: a title whose
prefix or second line may be lost is flagged for a human instead of published as read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: How far left of a line its left band reaches, and the gap kept from the line's first word,
#: in line heights (a prefix such as "KT." or "TM." is 1.5–2.5 heights wide).
LEFT_BAND, LEFT_GAP = 3.0, 0.3
#: How far under a line its lower band reaches, and the gap kept from the line, in line heights
#: (the next printed line starts within about one height).
BELOW_BAND, BELOW_GAP = 1.5, 0.2

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in page pixels


def covered_mask(shape: tuple[int, int], boxes: Sequence[Box]) -> np.ndarray:
    """True where some word (or table) the page pass read lies."""
    mask = np.zeros(shape, dtype=bool)
    for x0, y0, x1, y1 in boxes:
        mask[max(0, y0): max(0, y1 + 1), max(0, x0): max(0, x1 + 1)] = True
    return mask


def _share(ink: np.ndarray, covered: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> float:
    h, w = ink.shape
    y0, y1, x0, x1 = max(0, y0), min(h, y1), max(0, x0), min(w, x1)
    if y1 <= y0 or x1 <= x0:
        return 0.0
    band = (ink[y0:y1, x0:x1] > 0) & ~covered[y0:y1, x0:x1]
    return float(band.mean())


def unread_rows(ink: np.ndarray, boxes: Sequence[Box], region: Box) -> np.ndarray:
    """For each row of ``region`` (x0, y0, x1, y1, page pixels), the share of its width that is
    ink no box of ``boxes`` (the words read) covers: a lost line shows as a run of such rows."""
    x0, y0, x1, y1 = region
    covered = covered_mask((y1 - y0, x1 - x0), [(a - x0, b - y0, c - x0, d - y0) for a, b, c, d in boxes])
    return ((ink[y0:y1, x0:x1] > 0) & ~covered).mean(axis=1)


def unread_around(ink: np.ndarray, covered: np.ndarray, box: Box) -> tuple[float, float]:
    """(left, below): the share of unread ink in the line's left band and in the band under it."""
    x0, y0, x1, y1 = box
    lh = max(1, y1 - y0)
    left = _share(ink, covered, y0, y1, int(x0 - LEFT_BAND * lh), int(x0 - LEFT_GAP * lh))
    below = _share(ink, covered, int(y1 + BELOW_GAP * lh), int(y1 + BELOW_BAND * lh), x0, x1)
    return round(left, 3), round(below, 3)
