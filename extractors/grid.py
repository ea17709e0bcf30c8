"""Table grids from ruling lines in a binarised page image.

A ruled table is recovered the way a reader sees it: long horizontal and vertical strokes are the
rules; the distinct rule positions give the grid's row and column separators; a cell is merged
(row_span/col_span > 1) where the separator between two grid positions is missing.  Only geometry
is produced here (pixel rectangles); reading the cells is the OCR module's job.

Scan noise is handled by closing small gaps along each rule before measuring it, by clustering
rule positions with a tolerance, and by calling a separator present when it covers most (not
all) of the edge between two grid positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from extractors.raster import components, keep_labelled, label, stats_of

# A separator is "present" between two grid positions when the rule covers this share of the
# edge; broken scan lines cover 70-100 %, text strokes crossing the edge far less.
SEPARATOR_COVERAGE = 0.55


@dataclass(frozen=True)
class GridCell:
    row: int
    col: int
    row_span: int
    col_span: int
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass
class TableGrid:
    """One ruled table: separator positions (pixels) and its cells (merged cells once)."""

    xs: list[int]  # column separators, left to right (len = n_cols + 1)
    ys: list[int]  # row separators, top to bottom (len = n_rows + 1)
    cells: list[GridCell] = field(default_factory=list)
    line_thickness: int = 3

    @property
    def n_rows(self) -> int:
        return len(self.ys) - 1

    @property
    def n_cols(self) -> int:
        return len(self.xs) - 1

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        return self.xs[0], self.ys[0], self.xs[-1], self.ys[-1]


def line_masks(ink: np.ndarray, dpi: int) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical rule masks (255 = rule).

    Opening with a long thin kernel keeps only strokes longer than any letter; a preceding
    closing along the same direction bridges the small breaks a scan leaves in thin rules.
    """
    min_len = max(20, int(dpi * 0.33))  # ~ 8 mm: longer than any glyph or word stroke
    gap = max(3, int(dpi * 0.02))  # bridge breaks of up to ~0.5 mm
    h_closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    h = cv2.morphologyEx(h_closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (min_len, 1)))
    v_closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, gap)))
    v = cv2.morphologyEx(v_closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, min_len)))
    h = _isolated(h, ink, dpi, horizontal=True)
    v = _isolated(v, ink, dpi, horizontal=False)
    # Rules of short rows / narrow columns (a row cut by the page break, a merged neighbour) are
    # shorter than min_len; keep a shorter stroke when both its ends meet a perpendicular rule,
    # which letter stems never do.
    short = max(8, int(dpi * 0.06))
    v = cv2.bitwise_or(v, _bridging(v_closed, h, short, dpi, vertical=True))
    h = cv2.bitwise_or(h, _bridging(h_closed, v, short, dpi, vertical=False))
    return h, v


def _isolated(mask: np.ndarray, ink: np.ndarray, dpi: int, horizontal: bool) -> np.ndarray:
    """Keep only strokes with clear paper on both sides.

    A line of bold text, closed along its baseline, also yields a long horizontal stroke; but
    right above it are the letters, while a rule has (mostly) blank paper on both sides.
    """
    lab = label(mask)
    n, _, stats, _ = stats_of(lab, mask)
    if n <= 1:
        return mask
    band = max(2, int(dpi * 0.012))
    off = 1
    hh, ww = ink.shape
    keep = np.zeros(n, dtype=bool)
    for i in range(1, n):
        x, y, w, h = stats[i, :4]
        if horizontal:
            a = ink[max(0, y - off - band): max(0, y - off), x: x + w]
            b = ink[min(hh, y + h + off): min(hh, y + h + off + band), x: x + w]
            fa = float((a.max(axis=0) > 0).mean()) if a.size else 0.0
            fb = float((b.max(axis=0) > 0).mean()) if b.size else 0.0
        else:
            a = ink[y: y + h, max(0, x - off - band): max(0, x - off)]
            b = ink[y: y + h, min(ww, x + w + off): min(ww, x + w + off + band)]
            fa = float((a.max(axis=1) > 0).mean()) if a.size else 0.0
            fb = float((b.max(axis=1) > 0).mean()) if b.size else 0.0
        keep[i] = max(fa, fb) < 0.35
    if keep[1:].all():
        return mask
    return keep_labelled(lab, keep, mask.shape)


def _bridging(closed: np.ndarray, perpendicular: np.ndarray, short: int, dpi: int,
              vertical: bool) -> np.ndarray:
    """Short strokes along one direction whose two ends touch rules of the other direction."""
    if not perpendicular.any():  # no rule to touch (a page of text): nothing can bridge
        return np.zeros_like(closed)
    kern = cv2.getStructuringElement(cv2.MORPH_RECT, (1, short) if vertical else (short, 1))
    cand = cv2.morphologyEx(closed, cv2.MORPH_OPEN, kern)
    lab = label(cand)
    n, _, stats, _ = stats_of(lab, cand)
    if n <= 1:
        return np.zeros_like(closed)
    reach = max(3, int(dpi * 0.015))
    near = cv2.dilate(perpendicular, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1)))
    x, y, w, h = (stats[1:, i] for i in range(4))
    hh, ww = closed.shape
    if vertical:
        thin = w <= max(3, int(dpi * 0.03))
        cx = np.clip(x + w // 2, 0, ww - 1)
        a = near[np.clip(y, 0, hh - 1), cx] > 0
        b = near[np.clip(y + h - 1, 0, hh - 1), cx] > 0
    else:
        thin = h <= max(3, int(dpi * 0.03))
        cy = np.clip(y + h // 2, 0, hh - 1)
        a = near[cy, np.clip(x, 0, ww - 1)] > 0
        b = near[cy, np.clip(x + w - 1, 0, ww - 1)] > 0
    keep = np.zeros(n, dtype=bool)
    keep[1:] = thin & a & b
    return keep_labelled(lab, keep, closed.shape)


@dataclass(frozen=True)
class _Segment:
    pos: float  # y for horizontal, x for vertical (centre of the stroke)
    start: int
    end: int
    thickness: int


def _segments(mask: np.ndarray, horizontal: bool) -> list[_Segment]:
    n, _, stats, cents = components(mask)
    out = []
    for i in range(1, n):
        x, y, w, h = stats[i, :4]
        if horizontal:
            out.append(_Segment(pos=float(cents[i][1]), start=int(x), end=int(x + w), thickness=int(h)))
        else:
            out.append(_Segment(pos=float(cents[i][0]), start=int(y), end=int(y + h), thickness=int(w)))
    return out


def _cluster_positions(segs: list[_Segment], tol: float) -> list[int]:
    """Distinct rule positions: segments within ``tol`` of each other are one rule (a rule broken
    by noise, or slightly tilted, yields several segments at nearly the same position)."""
    if not segs:
        return []
    items = sorted(segs, key=lambda s: s.pos)
    groups: list[list[_Segment]] = [[items[0]]]
    for s in items[1:]:
        if s.pos - groups[-1][-1].pos <= tol:
            groups[-1].append(s)
        else:
            groups.append([s])
    out = []
    for g in groups:
        weights = np.array([s.end - s.start for s in g], dtype=float)
        out.append(int(round(float(np.average([s.pos for s in g], weights=weights)))))
    return out


def _coverage(mask: np.ndarray, horizontal: bool, pos: int, a: int, b: int, half: int) -> float:
    """Share of the edge [a, b) at ``pos`` (± half) covered by rule pixels."""
    if b - a <= 0:
        return 0.0
    if horizontal:
        band = mask[max(0, pos - half): pos + half + 1, a:b]
        covered = band.max(axis=0) > 0 if band.size else np.zeros(0, bool)
    else:
        band = mask[a:b, max(0, pos - half): pos + half + 1]
        covered = band.max(axis=1) > 0 if band.size else np.zeros(0, bool)
    return float(covered.mean()) if covered.size else 0.0


def _edge_presence(mask: np.ndarray, horizontal: bool, pos: int, bounds: list[int], half: int,
                   margin: int) -> list[bool]:
    """For each interval between consecutive ``bounds``: is there a rule at ``pos``?  The ends of
    the interval (where crossing rules and their blur sit) are not counted."""
    res = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=False):
        lo, hi = a + margin, b - margin
        if hi <= lo:
            lo, hi = a, b
        res.append(_coverage(mask, horizontal, pos, lo, hi, half) >= SEPARATOR_COVERAGE)
    return res


def _build_cells(hsep: list[list[bool]], vsep: list[list[bool]], xs: list[int], ys: list[int]) -> list[GridCell]:
    """Greedy rectangles: grow right while no vertical separator, then down while the whole
    span has no horizontal separator below and no vertical one inside.

    ``hsep[k][c]``: rule at ys[k] over column c.  ``vsep[k][r]``: rule at xs[k] over row r.
    """
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    taken = np.zeros((n_rows, n_cols), dtype=bool)
    cells = []
    for r in range(n_rows):
        for c in range(n_cols):
            if taken[r, c]:
                continue
            c2 = c
            while c2 + 1 < n_cols and not vsep[c2 + 1][r] and not taken[r, c2 + 1]:
                c2 += 1
            r2 = r
            while r2 + 1 < n_rows:
                nxt = r2 + 1
                if any(hsep[nxt][cc] for cc in range(c, c2 + 1)):
                    break
                if any(vsep[k][nxt] for k in range(c + 1, c2 + 1)):
                    break
                if taken[nxt, c: c2 + 1].any():
                    break
                r2 = nxt
            taken[r: r2 + 1, c: c2 + 1] = True
            cells.append(GridCell(row=r, col=c, row_span=r2 - r + 1, col_span=c2 - c + 1,
                                  x0=xs[c], y0=ys[r], x1=xs[c2 + 1], y1=ys[r2 + 1]))
    return cells


def _drop_empty_edges(xs: list[int], ys: list[int], hsep: list[list[bool]], vsep: list[list[bool]]):
    """Remove separator positions with no rule anywhere along them (artefacts of clustering or
    of a rule that only belongs to a neighbouring table)."""
    keep_x = [i for i in range(len(xs)) if i in (0, len(xs) - 1) or any(vsep[i])]
    keep_y = [i for i in range(len(ys)) if i in (0, len(ys) - 1) or any(hsep[i])]
    return [xs[i] for i in keep_x], [ys[i] for i in keep_y]


def _table_from_region(hmask: np.ndarray, vmask: np.ndarray, region: tuple[int, int, int, int],
                       dpi: int) -> TableGrid | None:
    x0, y0, x1, y1 = region
    hs = [s for s in _segments(hmask[y0:y1, x0:x1], True)]
    vs = [s for s in _segments(vmask[y0:y1, x0:x1], False)]
    if len(hs) < 2 or len(vs) < 2:
        return None
    tol = max(4.0, dpi * 0.03)  # rules closer than ~0.75 mm are one rule (double lines, noise)
    ys = _cluster_positions(hs, tol)
    xs = _cluster_positions(vs, tol)
    # Open-sided tables: horizontal rules reaching beyond the outermost vertical rule imply an
    # outer column boundary (and vice versa).
    span_left = min(s.start for s in hs)
    span_right = max(s.end for s in hs)
    span_top = min(s.start for s in vs)
    span_bottom = max(s.end for s in vs)
    open_x = []
    if span_left < xs[0] - tol * 3:
        xs.insert(0, span_left)
        open_x.append(0)
    if span_right > xs[-1] + tol * 3:
        xs.append(span_right)
        open_x.append(len(xs) - 1)
    open_y = []
    if span_top < ys[0] - tol * 3:
        ys.insert(0, span_top)
        open_y.append(0)
    if span_bottom > ys[-1] + tol * 3:
        ys.append(span_bottom)
        open_y.append(len(ys) - 1)
    if len(xs) < 2 or len(ys) < 2:
        return None
    thickness = int(np.median([s.thickness for s in hs + vs]))
    half = max(2, thickness // 2 + int(dpi * 0.01) + 1)  # residual skew: a rule drifts a few px
    margin = max(3, thickness + int(dpi * 0.01))
    hm, vm = hmask[y0:y1, x0:x1], vmask[y0:y1, x0:x1]
    hsep = [_edge_presence(hm, True, y, xs, half, margin) for y in ys]
    vsep = [_edge_presence(vm, False, x, ys, half, margin) for x in xs]
    for k in open_x:
        vsep[k] = [True] * (len(ys) - 1)
    for k in open_y:
        hsep[k] = [True] * (len(xs) - 1)
    xs2, ys2 = _drop_empty_edges(xs, ys, hsep, vsep)
    if (xs2, ys2) != (xs, ys):
        xs, ys = xs2, ys2
        hsep = [_edge_presence(hm, True, y, xs, half, margin) for y in ys]
        vsep = [_edge_presence(vm, False, x, ys, half, margin) for x in xs]
    # the outer frame is the table's boundary even where it is broken
    vsep[0] = [True] * (len(ys) - 1)
    vsep[-1] = [True] * (len(ys) - 1)
    hsep[0] = [True] * (len(xs) - 1)
    hsep[-1] = [True] * (len(xs) - 1)
    min_cell = max(4, int(dpi * 0.04))
    if len(xs) < 2 or len(ys) < 2 or (xs[-1] - xs[0]) < min_cell or (ys[-1] - ys[0]) < min_cell:
        return None
    cells = _build_cells(hsep, vsep, xs, ys)
    grid = TableGrid(xs=[x + x0 for x in xs], ys=[y + y0 for y in ys], line_thickness=thickness)
    grid.cells = [GridCell(c.row, c.col, c.row_span, c.col_span, c.x0 + x0, c.y0 + y0, c.x1 + x0, c.y1 + y0)
                  for c in cells]
    return grid


def find_tables(ink: np.ndarray, dpi: int, work_dpi: int = 150) -> list[TableGrid]:
    """Ruled tables on a page, top to bottom, in pixel coordinates of ``ink``.

    Tables are the connected groups of rules that contain at least two horizontal and two
    vertical rules (so an underline or a box around one word is not a table) and at least two
    cells.  Rules are found on a copy reduced to ``work_dpi``: rules survive the reduction, the
    morphology is 4x cheaper, and the separators only need to be as exact as the cell inset.
    """
    return find_tables_and_rules(ink, dpi, work_dpi)[0]


def find_tables_and_rules(ink: np.ndarray, dpi: int, work_dpi: int = 150) -> tuple[list[TableGrid], np.ndarray]:
    """:func:`find_tables`, plus a full-resolution mask of every rule on the page (slightly
    widened): what to erase before reading text, so that a rule fragment inside a cell crop, or
    an underline, is not read as "_", "|" or "l"."""
    f = min(1.0, work_dpi / dpi)
    small = ink
    if f < 1.0:
        small = cv2.resize(ink, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        _, small = cv2.threshold(small, 60, 255, cv2.THRESH_BINARY)
    eff_dpi = int(round(dpi * f))
    hmask, vmask = line_masks(small, eff_dpi)
    grids = _find_tables(hmask, vmask, eff_dpi)
    rules = cv2.bitwise_or(hmask, vmask)
    if f < 1.0:
        grids = [_scale_grid(g, 1.0 / f, ink.shape) for g in grids]
        rules = cv2.resize(rules, (ink.shape[1], ink.shape[0]), interpolation=cv2.INTER_NEAREST)
    k = max(3, int(dpi * 0.01) * 2 + 1)
    rules = cv2.dilate(rules, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    return grids, rules


def _scale_grid(g: TableGrid, k: float, shape: tuple[int, ...]) -> TableGrid:
    hh, ww = shape[:2]

    def sx(v: int) -> int:
        return int(min(ww - 1, max(0, round(v * k))))

    def sy(v: int) -> int:
        return int(min(hh - 1, max(0, round(v * k))))

    return TableGrid(
        xs=[sx(x) for x in g.xs],
        ys=[sy(y) for y in g.ys],
        cells=[GridCell(c.row, c.col, c.row_span, c.col_span, sx(c.x0), sy(c.y0), sx(c.x1), sy(c.y1))
               for c in g.cells],
        line_thickness=max(1, int(round(g.line_thickness * k))),
    )


def _find_tables(hmask: np.ndarray, vmask: np.ndarray, dpi: int) -> list[TableGrid]:
    lines = cv2.bitwise_or(hmask, vmask)
    # join rules that almost touch (a vertical rule stopping 1 mm short of the frame)
    j = max(3, int(dpi * 0.03))
    joined = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (j, j)))
    n, _, stats, _ = components(joined)
    min_side = dpi * 0.3
    tables: list[TableGrid] = []
    h_img, w_img = hmask.shape
    for i in range(1, n):
        x, y, w, h = stats[i, :4]
        if w < min_side or h < min_side:
            continue
        pad = j
        region = (max(0, x - pad), max(0, y - pad), min(w_img, x + w + pad), min(h_img, y + h + pad))
        grid = _table_from_region(hmask, vmask, region, dpi)
        if grid is not None and len(grid.cells) >= 2:
            tables.append(grid)
    tables.sort(key=lambda t: (t.ys[0], t.xs[0]))
    return tables
