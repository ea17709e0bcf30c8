"""Page images for OCR: render, put upright, deskew, denoise, binarise.

Everything here works on numpy arrays (uint8, 0 = black) so it can be tested on synthetic images
and does not care where the page came from.  Thresholds are expressed in inches or points and
scaled by ``dpi``, so the same code serves 200- and 300-dpi scans.

Orientation is decided in steps because Tesseract's OSD costs about a second per call: a cheap
geometric test (is the row or the column projection of the ink sharper?) settles the axis, so the
common upright page needs no OSD; OSD is asked only for pages that look sideways or unclear, to
tell 90 from 270; an upside-down page (0 vs 180, which geometry cannot tell) reads as garbage,
so the OCR step re-reads a page turned by 180 degrees when its confidence is poor.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from extractors.errors import ExtractionError
from extractors.limits import render_dpi
from extractors.ocr_engine import OcrEngine, Orientation

DEFAULT_DPI = 300
# OSD confidences of real text pages are ~10-30; below this the answer is close to a coin toss.
OSD_MIN_CONFIDENCE = 5.0
# ... and from this confidence on OSD is never overruled by the geometric test (real text pages,
# upright or turned any way, score 14-19 on the sample scans).
OSD_CONFIDENT = 10.0
GEOMETRIC_CONFIDENCE = 50.0  # what detect_orientation reports for a clear-cut geometric answer
# |text_direction_score| above this settles the axis without OSD (upright pages score 0.25-0.75,
# sideways ones the negative of that).
DIRECTION_CLEAR = 0.15
# Skew beyond this is not scanner skew but a photo or a deliberately rotated insert; leave it.
MAX_SKEW_DEG = 5.0
# Ink points sampled for the projection profiles: 60 000 give the same angles to 0.01 degree as
# 150 000 (the skew test) at 40 % of the cost.
MAX_PROFILE_POINTS = 60_000
# A scanned page is read at its image's own resolution (never interpolated up past it: every
# real scan's rules were measured at its own resolution, and 200-dpi scans read at 300 came out
# with six confidently wrong header fields in twenty, against none at 200); one that is coarser
# than this is brought up to it.  (Tesseract wants ~150 dpi at least; no scan below 200 measured.)
SCAN_MIN_DPI = 150
# An image covering at least this share of the page makes the page a scan.
SCAN_COVERAGE = 0.8


@dataclass
class Prepared:
    """An upright, deskewed page image and what was done to get it."""

    gray: np.ndarray  # upright, deskewed grayscale, 0 = black
    ink: np.ndarray  # binary mask of the same size, 255 = ink (text and rules), specks removed
    rotation: int  # clockwise degrees applied (0/90/180/270)
    skew: float  # degrees of residual rotation removed (counter-clockwise positive)
    dpi: int
    #: the rotation is a confident OSD answer, which a later step must not turn against
    osd_confident: bool = False


@contextmanager
def _open_pdf(path: str | Path) -> Iterator[Any]:
    """The PDF opened with pypdfium2 and closed after use; a file pdfium cannot open is an
    ExtractionError of the render stage (one place for what every page reader needs)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as e:
        raise ExtractionError(f"cannot open PDF: {e}", stage="render") from e
    try:
        yield pdf
    finally:
        pdf.close()


def render_page(path: str | Path, page_number: int, dpi: int = DEFAULT_DPI, red: bool = False) -> np.ndarray:
    """Render one page (1-based) to grayscale, or with ``red`` its red channel (see
    :func:`red_dropout`; None for a grey page).  Opens the file itself so a worker process never holds more than the
    one page it works on."""
    with _open_pdf(path) as pdf:
        if not 1 <= page_number <= len(pdf):
            raise ExtractionError(f"page {page_number} out of range 1..{len(pdf)}", stage="render")
        page = pdf[page_number - 1]
        try:
            dpi = render_dpi(*page.get_size(), dpi)  # a poster-sized page: a lower dpi (limits.py)
            bitmap = page.render(scale=dpi / 72.0, grayscale=not red)
            arr = np.array(bitmap.to_numpy(), copy=True)
        finally:
            page.close()
    if red:
        return red_dropout(arr[:, :, 2::-1] if arr.ndim == 3 else arr)  # type: ignore[return-value]  # BGR(A)
    if arr.ndim == 3:  # some pdfium builds return BGR(A) even when asked for grey
        arr = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_BGR2GRAY)
    return arr


def red_dropout(rgb: np.ndarray) -> np.ndarray | None:
    """The red channel of an RGB page: red stamp ink is as light as the paper there, black
    print and blue signatures or handwriting stay dark — the scanner operator's "colour
    dropout", here for reading a name under a red stamp.  None for a grey page (all channels
    equal: nothing to drop)."""
    if rgb.ndim == 2 or not is_colour(rgb):
        return None
    return np.ascontiguousarray(rgb[:, :, 0])


def is_colour(rgb: np.ndarray) -> bool:
    """Whether an RGB image has colour at all (a grey scan stored as RGB has equal channels)."""
    return rgb.ndim == 3 and bool(np.abs(rgb[:, :, 0].astype(np.int16) - rgb[:, :, 1]).mean() > 1.0)


def scan_resolution(page: Any) -> float | None:
    """The resolution (dpi) of the image that makes up a scanned pdfium page, None when no
    image (or set of strips, as some scanners write) covers :data:`SCAN_COVERAGE` of it."""
    import pypdfium2.raw as pdfium_c

    w, h = page.get_size()
    page_area = max(w, 1.0) * max(h, 1.0)
    covered, best, best_area = 0.0, None, 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        x0, y0, x1, y1 = obj.get_bounds()
        bw, bh = max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
        px_w, px_h = obj.get_px_size()
        area = min(bw * bh, page_area)
        covered += area
        if area > best_area and px_w > 0 and px_h > 0:
            # pixels per inch over the area: the same for an image placed turned by 90 degrees
            best, best_area = 72.0 * math.sqrt(px_w * px_h / (bw * bh)), area
    return best if best is not None and covered >= SCAN_COVERAGE * page_area else None


def page_render_dpi(path: str | Path, page_number: int, dpi: int) -> int:
    """The dpi ``render_page`` will use for this page, so the OCR thresholds match the image:
    ``dpi``, or a scanned page's own resolution when lower (not below :data:`SCAN_MIN_DPI`),
    lowered again for a page larger than the render_megapixels limit allows."""
    with _open_pdf(path) as pdf:
        if not 1 <= page_number <= len(pdf):
            return dpi
        page = pdf[page_number - 1]
        try:
            w, h = page.get_size()
            native = scan_resolution(page)
        finally:
            page.close()
    if native is not None:
        dpi = min(dpi, max(int(round(native)), SCAN_MIN_DPI))
    return max(1, int(render_dpi(w, h, dpi)))


def load_page(path: str | Path, page_number: int, dpi: int = DEFAULT_DPI,
              red: bool = False) -> tuple[np.ndarray, int]:
    """Page ``page_number`` of a PDF rendered at ``dpi``, or frame ``page_number`` of an image
    file at its own resolution (extractors/image.py); grey image (with ``red``: the red channel)
    and the dpi it has."""
    from extractors.image import is_image, load_frame

    if is_image(path):
        return load_frame(path, page_number, red=red)
    dpi = page_render_dpi(path, page_number, dpi)  # a scan's own dpi; lower past render_megapixels
    return render_page(path, page_number, dpi, red=red), dpi


def count_pages(path: str | Path) -> int:
    from extractors.image import count_frames, is_image

    if is_image(path):
        return count_frames(path)
    with _open_pdf(path) as pdf:
        return len(pdf)


# --------------------------------------------------------------------------- binarisation


@dataclass(frozen=True)
class Labelled:
    """8-connected components of a mask: the label image, and every ink pixel with its label
    (in raster order: top to bottom, left to right within a row)."""

    n: int  # number of labels, background (0) included
    labels: np.ndarray  # int32 label per pixel
    xs: np.ndarray  # int32 column of each ink pixel
    ys: np.ndarray  # int32 row of each ink pixel
    point_labels: np.ndarray  # label of each ink pixel


def label(mask: np.ndarray) -> Labelled:
    """Components of ``mask`` (any non-zero pixel is ink), and the ink pixels with their labels.
    BBDT measured 3-4x faster than OpenCV's default pick on a sparse synthetic mask."""
    n, labels = cv2.connectedComponentsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_BBDT)
    pts = cv2.findNonZero(mask)
    if pts is None:
        empty = np.zeros(0, np.int32)
        return Labelled(n, labels, empty, empty, empty)
    pts = pts.reshape(-1, 2)
    xs, ys = pts[:, 0], pts[:, 1]
    return Labelled(n, labels, xs, ys, labels[ys, xs])


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """8-connected components with stats and centroids, exactly as
    cv2.connectedComponentsWithStats returns them (background row included).

    OpenCV's stats pass visits every pixel, paper included, and costs 2-4x the labelling on
    page masks (5 % ink); here the stats are summed over the ink pixels only (:func:`label`),
    which halves the cost of a page's components and gives the same numbers (integer sums,
    the same division for the centroids)."""
    return stats_of(label(mask), mask)


def stats_of(lab: Labelled, mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(n, labels, stats, centroids) of :func:`components` from ``mask`` labelled."""
    n, xs, ys, pl = lab.n, lab.xs, lab.ys, lab.point_labels
    h, w = mask.shape[:2]
    stats = np.zeros((n, 5), np.int32)
    cents = np.zeros((n, 2), np.float64)
    area = np.bincount(pl, minlength=n)
    if len(xs):
        left = np.full(n, w, np.int32)
        np.minimum.at(left, pl, xs)
        right = np.full(n, -1, np.int32)
        np.maximum.at(right, pl, xs)
        # points are in raster order: a label's first point is on its top row, its last on its bottom row
        top = np.zeros(n, np.int32)
        top[pl[::-1]] = ys[::-1]
        bottom = np.zeros(n, np.int32)
        bottom[pl] = ys
        stats[:, cv2.CC_STAT_LEFT] = left
        stats[:, cv2.CC_STAT_TOP] = top
        stats[:, cv2.CC_STAT_WIDTH] = right - left + 1
        stats[:, cv2.CC_STAT_HEIGHT] = bottom - top + 1
        stats[:, cv2.CC_STAT_AREA] = area
        with np.errstate(invalid="ignore", divide="ignore"):
            cents[:, 0] = np.bincount(pl, weights=xs, minlength=n) / area
            cents[:, 1] = np.bincount(pl, weights=ys, minlength=n) / area
    background = h * w - len(xs)
    stats[0] = 0
    stats[0, cv2.CC_STAT_AREA] = background
    cents[0] = 0.0
    if background:
        stats[0, :4] = cv2.boundingRect(cv2.compare(mask, 0, cv2.CMP_EQ))
        sum_x = h * (w * (w - 1) // 2) - int(xs.sum(dtype=np.int64))
        sum_y = w * (h * (h - 1) // 2) - int(ys.sum(dtype=np.int64))
        cents[0] = (sum_x / background, sum_y / background)
    return n, lab.labels, stats, cents


def keep_labelled(lab: Labelled, keep: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Mask (255) of the components whose ``keep[label]`` is true: drawn from the ink pixels,
    not by indexing the whole label image (a page is mostly paper)."""
    out = np.zeros(shape[:2], np.uint8)
    sel = keep[lab.point_labels]
    out[lab.ys[sel], lab.xs[sel]] = 255
    return out


def binarize(gray: np.ndarray, dpi: int) -> np.ndarray:
    """Ink mask (255 = ink).  Median blur removes JPEG ringing and salt noise; an adaptive
    threshold copes with uneven scanner illumination, and the global Otsu level keeps the light
    background blotches that an adaptive threshold alone turns into speckle out of the mask."""
    blurred = cv2.medianBlur(gray, 3)
    block = max(15, int(dpi / 10) | 1)
    adaptive = cv2.adaptiveThreshold(
        blurred, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, block, 12
    )
    otsu_level, _ = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Otsu sits between paper and ink; allow somewhat lighter strokes (blurred thin lines).
    level = min(250, otsu_level + 0.35 * (255 - otsu_level))
    # cv2 on uint8 masks: a third of the time of the numpy boolean expression at 300 dpi
    _, dark = cv2.threshold(blurred, np.ceil(level) - 1, 255, cv2.THRESH_BINARY_INV)
    return cv2.bitwise_and(adaptive, dark)


def remove_specks(ink: np.ndarray, dpi: int) -> np.ndarray:
    """Drop dust: small components that are far from anything bigger.

    Diacritics, i-dots and the dots of a colon are as small as dust, but they sit next to a
    letter, so a small component is kept when it lies within ~1/12 inch (about a letter width)
    of a component that is clearly text.  (At 1/25 inch the upper dot of "1:" was dropped and
    every "Nhiệm vụ 1:" read as "Nhiệm vụ 1.".)
    """
    lab = label(ink)
    n, pl = lab.n, lab.point_labels
    if n <= 1:
        return ink
    area = np.bincount(pl, minlength=n)
    small_area = max(4, int((dpi / 100.0) ** 2 * 6))  # ~ 54 px at 300 dpi
    small = area <= small_area
    small[0] = False
    small_idx = np.flatnonzero(small)
    if small_idx.size == 0:
        return ink
    on_small = small[pl]  # per ink pixel
    xs, ys, spl = lab.xs[on_small], lab.ys[on_small], pl[on_small]
    big = cv2.compare(ink, 0, cv2.CMP_NE)
    big[ys, xs] = 0
    r = max(2, int(dpi / 12))
    near = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1)))
    # centroids of the small components (the sums and division of cv2's stats)
    cx = np.bincount(spl, weights=xs, minlength=n)[small_idx] / area[small_idx]
    cy = np.bincount(spl, weights=ys, minlength=n)[small_idx] / area[small_idx]
    cx = np.clip(np.round(cx).astype(int), 0, ink.shape[1] - 1)
    cy = np.clip(np.round(cy).astype(int), 0, ink.shape[0] - 1)
    drop = np.zeros(n, dtype=bool)
    drop[small_idx[near[cy, cx] == 0]] = True
    if not drop.any():
        return ink
    gone = drop[spl]
    out = ink.copy()
    out[ys[gone], xs[gone]] = 0
    return out


# --------------------------------------------------------------------------- orientation


def _downscale(img: np.ndarray, dpi: int, target_dpi: int) -> tuple[np.ndarray, float]:
    if dpi <= target_dpi:
        return img, 1.0
    f = target_dpi / dpi
    return cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), f


def _remove_long_lines(ink: np.ndarray, dpi: int) -> np.ndarray:
    """Ink without table rules, so that rules do not vote for an orientation or a skew."""
    k = max(10, int(dpi * 0.5))
    h = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    v = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, k)))
    return cv2.subtract(ink, cv2.bitwise_or(h, v))


def _ink_points(ink: np.ndarray, dpi: int, target_dpi: int = 100) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Centred coordinates of (a deterministic sample of) the ink pixels at ~``target_dpi``,
    table rules removed, and the number of histogram bins that covers any rotation."""
    small, f = _downscale(ink, dpi, target_dpi)
    _, small = cv2.threshold(small, 64, 255, cv2.THRESH_BINARY)
    small = _remove_long_lines(small, max(1, int(round(dpi * f))))
    pts = cv2.findNonZero(small)  # row by row, as np.nonzero orders them, at a third of its cost
    if pts is None or len(pts) < 200:
        return None
    pts = pts.reshape(-1, 2)
    xs, ys = pts[:, 0], pts[:, 1]
    if len(xs) > MAX_PROFILE_POINTS:
        idx = np.random.default_rng(0).choice(len(xs), MAX_PROFILE_POINTS, replace=False)
        xs, ys = xs[idx], ys[idx]
    xs = xs.astype(np.float64) - small.shape[1] / 2.0
    ys = ys.astype(np.float64) - small.shape[0] / 2.0
    return xs, ys, int(small.shape[0] + small.shape[1])


class _Profiles:
    """Row-profile sharpness of a point set at any angle, with the work buffers kept between
    angles (a skew search scores ~60 angles of the same 60,000 points)."""

    def __init__(self, xs: np.ndarray, ys: np.ndarray, n_bins: int) -> None:
        self.xs, self.ys, self.n_bins = xs, ys, n_bins
        self._proj = np.empty_like(ys)
        self._tmp = np.empty_like(xs)
        self._bins = np.empty(len(ys), np.int64)
        self._seen: dict[float, float] = {}

    def score(self, deg: float) -> float:
        """Sharpness of the row profile after rotating by ``deg``: text lines aligned with the
        rows give tall peaks and empty gaps, i.e. large differences between neighbouring rows.
        (Integer arithmetic for the sum of squares: the same number as in floating point, where
        every partial sum is an integer far below 2**53.)"""
        key = float(deg)
        if key not in self._seen:
            t = np.deg2rad(deg)
            proj = np.multiply(self.ys, np.cos(t), out=self._proj)
            proj += np.multiply(self.xs, np.sin(t), out=self._tmp)
            proj += self.n_bins / 2
            np.copyto(self._bins, proj, casting="unsafe")  # truncation, as astype(int64)
            d = np.diff(np.bincount(self._bins, minlength=self.n_bins))
            self._seen[key] = float(np.dot(d, d))
        return self._seen[key]


#: Coarse step of the orientation test's angle search (degrees).  A text line's profile peak is
#: about a degree wide (line height over line length), so half a degree finds it; the test
#: needs no more than the coarse peak.  The skew search keeps its 0.25-degree start: a start of
#: 0.5 ended 0.02 degree off on a real scan, and the reading of that page moved with it.
DIRECTION_STEP = 0.5


def _best_angle(xs: np.ndarray, ys: np.ndarray, n_bins: int, max_deg: float,
                coarse: float = 0.25, refine: bool = True) -> tuple[float, float]:
    """Coarse-to-fine search of the angle with the sharpest row profile; (angle, score)."""
    profiles = _Profiles(xs, ys, n_bins)
    best = max(np.arange(-max_deg, max_deg + 1e-9, coarse), key=profiles.score)
    for step in (0.05, 0.01) if refine else ():
        cands = np.arange(best - 5 * step, best + 5 * step + 1e-9, step)
        best = max(cands, key=profiles.score)
    return float(best), profiles.score(best)


def text_direction_score(ink: np.ndarray, dpi: int) -> float:
    """> 0 when text lines run horizontally, < 0 when vertically (page sideways), ~0 when unsure.

    Compares the sharpest row profile with the sharpest column profile (each allowed a few
    degrees of skew): lines of text make one of them far sharper than the other.
    """
    pts = _ink_points(ink, dpi)
    if pts is None:
        return 0.0
    xs, ys, n_bins = pts
    _, horizontal = _best_angle(xs, ys, n_bins, MAX_SKEW_DEG, DIRECTION_STEP, refine=False)
    _, vertical = _best_angle(ys, -xs, n_bins, MAX_SKEW_DEG, DIRECTION_STEP, refine=False)
    total = horizontal + vertical
    return 0.0 if total <= 0 else (horizontal - vertical) / total


def rotate_right_angle(img: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate clockwise by 0/90/180/270 degrees."""
    rotation %= 360
    if rotation == 0:
        return img
    code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}[rotation]
    return cv2.rotate(img, code)


def detect_orientation(
    gray: np.ndarray,
    dpi: int,
    engine: OcrEngine | None,
    direction: float | None = None,
    force_osd: bool = False,
) -> Orientation:
    """Clockwise rotation making the page upright, with a confidence (0-100 scale of OSD; the
    geometric test reports 50 when it is clear-cut) and where the answer came from.

    OSD is asked only when the geometric test says sideways/unsure or ``force_osd`` is set.  A
    confident OSD (:data:`OSD_CONFIDENT`) is never overruled: the geometric test compares ink
    profiles, and an upright landscape form with tall narrow columns can look sideways to it,
    while OSD reads the characters themselves.  A weaker OSD answer (above
    :data:`OSD_MIN_CONFIDENCE`) is taken when it agrees with the geometry about the axis or the
    geometry is unsure.
    """
    score = text_direction_score(binarize(gray, dpi), dpi) if direction is None else direction
    geometric = 0 if score >= 0 else 90
    if score > DIRECTION_CLEAR and not force_osd:
        return Orientation(0, GEOMETRIC_CONFIDENCE, source="geometry")
    if engine is not None:
        small, f = _downscale(gray, dpi, 200)
        osd = engine.osd(small, int(round(dpi * f)))
        if osd is not None and osd.confidence >= OSD_CONFIDENT:
            return Orientation(osd.rotate, osd.confidence, source="osd")
        if osd is not None and osd.confidence >= OSD_MIN_CONFIDENCE:
            if (osd.rotate % 180 == geometric % 180) or abs(score) <= DIRECTION_CLEAR:
                return Orientation(osd.rotate, osd.confidence, source="osd")
    if score < -DIRECTION_CLEAR:
        # sideways but OSD could not say which way: 90; the OCR step re-reads the page turned
        # by 180 degrees more when the result is poor.
        return Orientation(90, 10.0, source="geometry")
    return Orientation(0, 10.0, source="geometry")


# --------------------------------------------------------------------------- skew


def estimate_skew(ink: np.ndarray, dpi: int, max_deg: float = MAX_SKEW_DEG) -> float:
    """Angle in degrees (counter-clockwise positive, as cv2.getRotationMatrix2D takes it) that
    straightens the text lines / table rules.

    Projection-profile search on ink point coordinates (no image rotations), coarse-to-fine to
    0.01 degree, at 150 dpi: enough resolution for the 0.1-degree accuracy the grid needs.
    """
    pts = _ink_points(ink, dpi, target_dpi=150)
    if pts is None:
        return 0.0
    xs, ys, n_bins = pts
    best, _ = _best_angle(xs, ys, n_bins, max_deg)
    # a page whose content is turned clockwise by a (as displayed) needs a counter-clockwise
    # rotation by a; the search reports the angle that aligns the rows.
    return -best


def rotate_small(img: np.ndarray, deg: float, fill: int = 255) -> np.ndarray:
    """Rotate by ``deg`` counter-clockwise around the centre, keeping the image size."""
    if abs(deg) < 1e-3:
        return img
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), deg, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=fill)


# --------------------------------------------------------------------------- pipeline


def prepare(
    gray: np.ndarray,
    dpi: int,
    engine: OcrEngine | None,
    rotation: int | None = None,
    force_osd: bool = False,
) -> Prepared:
    """Upright + deskew + binarise one page.  ``rotation`` skips orientation detection (used when
    the caller retries a page with another orientation)."""
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ExtractionError("page image must be 2-D uint8 grayscale", stage="preprocess")
    small_gray, f = _downscale(gray, dpi, 150)
    small_dpi = max(1, int(round(dpi * f)))
    small_ink = binarize(small_gray, small_dpi)
    if rotation is None:
        direction = text_direction_score(small_ink, small_dpi)
        found = detect_orientation(gray, dpi, engine, direction=direction, force_osd=force_osd)
        rotation = found.rotate
        osd_confident = found.source == "osd" and found.confidence >= OSD_CONFIDENT
    else:
        osd_confident = False
    gray = rotate_right_angle(gray, rotation)
    small_ink = rotate_right_angle(small_ink, rotation)
    skew = estimate_skew(small_ink, small_dpi)
    if abs(skew) >= 0.05:
        gray = rotate_small(gray, skew)
    ink = remove_specks(binarize(gray, dpi), dpi)
    return Prepared(gray=gray, ink=ink, rotation=rotation, skew=skew, dpi=dpi, osd_confident=osd_confident)
