"""Orientation: a page is put upright whichever way it was scanned, and never turned against a
confident OSD.  Test images are a rendered sample scan page turned by 0/90/180/270 degrees:
the landscape appendix page (data/raw/001_174c7ea9301aa0d6.scan200.pdf, page 2) and the
portrait body page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from extractors.grid import find_tables
from extractors.ocr import ocr_image
from extractors.ocr_engine import Orientation, TesseractEngine, ocr_available
from extractors.raster import (
    GEOMETRIC_CONFIDENCE,
    OSD_CONFIDENT,
    detect_orientation,
    prepare,
    render_page,
    rotate_right_angle,
)

SCAN = Path(__file__).resolve().parents[1] / "data" / "raw" / "001_174c7ea9301aa0d6.scan200.pdf"
DPI = 200


needs_tesseract = pytest.mark.skipif(not ocr_available(), reason="Tesseract not installed")


@dataclass(frozen=True)
class FixedOsd:
    """An engine whose OSD always gives one answer (and that reads nothing)."""

    answer: Orientation | None
    version: str = "fixed"

    def check_available(self) -> None:
        pass

    def image_to_words(self, image, psm, dpi):  # pragma: no cover - not called here
        return []

    def osd(self, image, dpi):
        return self.answer


@pytest.fixture(scope="module")
def landscape() -> np.ndarray:
    return render_page(SCAN, 2, DPI)


def test_a_confident_osd_is_never_overruled_by_the_geometric_test() -> None:
    page = np.full((400, 600), 255, np.uint8)
    # the geometric test (forced here) says "sideways", OSD is sure the page is upright
    got = detect_orientation(page, DPI, FixedOsd(Orientation(0, OSD_CONFIDENT + 5)), direction=-0.6)
    assert (got.rotate, got.source) == (0, "osd")
    # a weak OSD answer on the other axis does not overrule a clear geometric verdict
    got = detect_orientation(page, DPI, FixedOsd(Orientation(0, 6.0)), direction=-0.6)
    assert (got.rotate, got.source) == (90, "geometry")
    # without OSD the clear geometry decides; an upright page needs no OSD call at all
    got = detect_orientation(page, DPI, FixedOsd(None), direction=0.6)
    assert (got.rotate, got.confidence, got.source) == (0, GEOMETRIC_CONFIDENCE, "geometry")


@needs_tesseract
def test_upright_landscape_page_is_not_turned(landscape: np.ndarray) -> None:
    engine = TesseractEngine()
    assert landscape.shape[1] > landscape.shape[0]  # landscape as rendered
    assert prepare(landscape, DPI, engine).rotation == 0
    # even when the geometric test is made to vote "sideways", the confident OSD keeps it upright
    got = detect_orientation(landscape, DPI, engine, direction=-0.6)
    assert got.rotate == 0 and got.source == "osd" and got.confidence >= OSD_CONFIDENT


@needs_tesseract
@pytest.mark.parametrize("turned_by", [90, 270])
def test_sideways_landscape_page_is_put_upright(landscape: np.ndarray, turned_by: int) -> None:
    prep = prepare(rotate_right_angle(landscape, turned_by), DPI, TesseractEngine())
    assert (prep.rotation + turned_by) % 360 == 0
    assert prep.gray.shape == landscape.shape
    assert prep.osd_confident


@needs_tesseract
def test_upside_down_landscape_page_is_read_the_right_way_up(landscape: np.ndarray) -> None:
    table_top = find_tables(prepare(landscape, DPI, None, rotation=0).ink, DPI)[0].bbox[1]
    top = landscape[: table_top - 10]  # the title lines above the table: fast
    upright = ocr_image(top, DPI, TesseractEngine(), 2)
    page = ocr_image(rotate_right_angle(top, 180), DPI, TesseractEngine(), 2)
    assert upright.rotation == 0 and page.rotation == 180
    assert page.confidence is not None and upright.confidence is not None
    assert page.confidence >= upright.confidence - 3  # read as well as the upright page
    assert [ln.text for ln in page.lines][:2] == [ln.text for ln in upright.lines][:2]
