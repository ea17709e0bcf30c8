"""Page-image helpers of extractors/raster.py that were rewritten for speed: they must give what
OpenCV itself gives, on a real page mask (the committed 200-dpi scan) and on the edge cases."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from extractors.raster import binarize, components, remove_specks, render_page

REPO = Path(__file__).resolve().parents[1]
SCAN = REPO / "data" / "raw" / "001_174c7ea9301aa0d6.scan200.pdf"
DPI = 200


@pytest.fixture(scope="module")
def page_ink() -> np.ndarray:
    """Ink mask of the scan's landscape appendix page (a ruled table, text, specks)."""
    return binarize(render_page(SCAN, 2, DPI), DPI)


def _opencv(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    return cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_BBDT)


def _assert_same(mask: np.ndarray) -> None:
    n, labels, stats, cents = components(mask)
    n0, labels0, stats0, cents0 = _opencv(mask)
    assert n == n0
    assert np.array_equal(labels, labels0)
    assert np.array_equal(stats, stats0)
    assert np.array_equal(cents, cents0)  # bit for bit: the same integer sums and division


def test_components_are_opencvs_on_a_page_mask(page_ink: np.ndarray) -> None:
    _assert_same(page_ink)
    # and on a sparse mask: the page's long horizontal strokes (what the grid finder labels)
    rules = cv2.morphologyEx(page_ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (60, 1)))
    assert 0 < np.count_nonzero(rules) < rules.size // 50
    _assert_same(rules)


def test_components_of_an_empty_and_a_full_mask() -> None:
    empty = np.zeros((37, 51), np.uint8)
    _assert_same(empty)
    one = empty.copy()
    one[5:9, 40:45] = 255
    one[30, 0] = 1  # any non-zero value is ink
    _assert_same(one)
    n, _, stats, _ = components(np.full((8, 9), 255, np.uint8))
    assert n == 2 and list(stats[1]) == [0, 0, 9, 8, 72]


def _remove_specks_reference(ink: np.ndarray, dpi: int) -> np.ndarray:
    """The speck rule written directly with OpenCV's stats (the former implementation)."""
    n, labels, stats, cents = _opencv(ink)
    small = stats[:, cv2.CC_STAT_AREA] <= max(4, int((dpi / 100.0) ** 2 * 6))
    small[0] = False
    big = np.where(small | (np.arange(n) == 0), 0, 255).astype(np.uint8)[labels]
    r = max(2, int(dpi / 12))
    near = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1)))
    out = ink.copy()
    for i in np.flatnonzero(small):
        cx = int(np.clip(np.round(cents[i, 0]), 0, ink.shape[1] - 1))
        cy = int(np.clip(np.round(cents[i, 1]), 0, ink.shape[0] - 1))
        if near[cy, cx] == 0:
            out[labels == i] = 0
    return out


def test_remove_specks_drops_dust_and_keeps_marks_beside_letters(page_ink: np.ndarray) -> None:
    cleaned = remove_specks(page_ink, DPI)
    assert np.array_equal(cleaned, _remove_specks_reference(page_ink, DPI))
    assert np.count_nonzero(page_ink) > np.count_nonzero(cleaned) > 0.98 * np.count_nonzero(page_ink)
    # synthetic: a letter-sized blob with a dot beside it, and a lone speck far away
    ink = np.zeros((200, 300), np.uint8)
    ink[100:130, 50:70] = 255  # a letter
    ink[90:93, 60:63] = 255  # its accent, 7 px above
    ink[20:23, 250:253] = 255  # dust, far from anything
    out = remove_specks(ink, DPI)
    assert out[91, 61] == 255 and out[110, 60] == 255
    assert out[21, 251] == 0
