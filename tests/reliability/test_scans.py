"""Scans: a clearly non-plan scan is rejected from its first pages, and a poster-sized page
is rendered at a lower dpi instead of allocating a giant bitmap (real Tesseract, real pdfium)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from khsyt.cli import EXIT_ALL_REJECTED

from .bad_inputs import pdf
from .harness import run

ENGLISH = [
    "The quarterly report of the sales department",
    "Revenue grew by twelve percent in the third quarter",
    "while operating costs stayed within the budget.",
    "Customer satisfaction surveys were sent in October",
    "and the results will be presented next month.",
]


def _tesseract_ok() -> bool:
    from extractors.errors import OcrUnavailable
    from extractors.ocr_engine import TesseractEngine

    try:
        TesseractEngine().check_available()
    except OcrUnavailable:
        return False
    return True


@pytest.mark.ocr
@pytest.mark.skipif(not _tesseract_ok(), reason="Tesseract with Vietnamese data not installed")
def test_an_english_scan_is_rejected_after_its_first_pages(tmp_path):
    import cv2
    from PIL import Image

    dpi = 150
    pages = []
    for k in range(8):
        img = np.full((int(11.69 * dpi), int(8.27 * dpi)), 255, np.uint8)
        for i, line in enumerate(ENGLISH):
            cv2.putText(img, f"{line} ({k + 1})", (60, 150 + 60 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
        pages.append(Image.fromarray(img))
    src = tmp_path / "in"
    src.mkdir()
    scan = src / "report.pdf"
    pages[0].save(scan, save_all=True, append_images=pages[1:], resolution=dpi)
    cache = tmp_path / "cache"
    child = run(["-m", "khsyt.cli", "extract", str(scan), "--out", str(tmp_path / "out"), "--dpi", str(dpi),
                 "--workers", "1", "--cache-dir", str(cache)], timeout=180)
    print(f"\nEnglish 8-page scan: {child.seconds:.1f} s, peak RSS {child.peak_rss_mb:.0f} MB")
    assert child.returncode == EXIT_ALL_REJECTED, child.output  # its one file was rejected
    assert "not a plan: the first 3 pages (OCR) are not Vietnamese text" in child.output, child.output
    assert len(list(cache.rglob("*.json"))) == 3, "more pages than the probe were OCRed"


def test_a_poster_page_is_rendered_at_a_lower_dpi(tmp_path):
    from extractors.limits import current
    from extractors.raster import page_render_dpi, render_page

    poster = pdf([{"size": (60 * 72, 60 * 72), "text": ["x"]}], tmp_path / "poster.pdf")
    dpi = page_render_dpi(poster, 1, 300)
    assert dpi < 300
    img = render_page(poster, 1, 300)
    assert img.shape[0] * img.shape[1] <= current().render_megapixels * 1e6 * 1.01
    a4 = pdf([{"size": (595, 842), "text": ["x"]}], tmp_path / "a4.pdf")
    assert page_render_dpi(a4, 1, 300) == 300


def test_a_scanned_page_is_read_at_its_own_resolution(tmp_path):
    """A scan is never interpolated past its own pixels (the real scans' rules were measured at
    their own resolution): a 200-dpi scan asked at 300 is read at 200, a 600-dpi one at 300, a
    fax-like 100-dpi one brought up to SCAN_MIN_DPI; a page whose image is a logo is no scan."""
    from extractors.raster import SCAN_MIN_DPI, load_page, page_render_dpi

    def scan(name: str, dpi: int) -> Path:
        return pdf([{"size": (595, 842), "image": (595 * dpi // 72, 842 * dpi // 72)}], tmp_path / name)

    s200 = scan("s200.pdf", 200)
    assert page_render_dpi(s200, 1, 300) == 200
    assert page_render_dpi(s200, 1, 150) == 150  # a lower resolution asked for is honoured
    img, dpi = load_page(s200, 1, 300)
    assert dpi == 200 and abs(img.shape[1] - 595 * 200 / 72) <= 2
    assert page_render_dpi(scan("s600.pdf", 600), 1, 300) == 300
    assert page_render_dpi(scan("s100.pdf", 100), 1, 300) == SCAN_MIN_DPI
    # a landscape scan placed turned by 90 degrees on a portrait page: its width runs down the page
    turned = pdf([{"size": (595, 842), "image": (842 * 200 // 72, 595 * 200 // 72), "image_cm": "0 842 -595 0 595 0"}],
                 tmp_path / "turned.pdf")
    assert page_render_dpi(turned, 1, 300) == 200
    strips = pdf([{"size": (595, 842), "image": (1653, 1170), "image_at": (0, 421, 595, 421)}], tmp_path / "half.pdf")
    assert page_render_dpi(strips, 1, 300) == 300  # half the page is no scan
    logo = pdf([{"size": (595, 842), "text": ["x"], "image": (100, 100), "image_at": (50, 700, 60, 60)}],
               tmp_path / "logo.pdf")
    assert page_render_dpi(logo, 1, 300) == 300
