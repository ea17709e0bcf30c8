"""Images as inputs: JPEG (with an EXIF orientation), PNG and multi-page TIFF plans are read by
OCR like a scanned PDF.  Test images are made from a real scan (9uV_2275_SYT_NVY.pdf, header
block only, to keep the OCR short)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from extractors.errors import ExtractionError, OcrUnavailable
from extractors.image import count_frames, frame_dpi, load_frame
from extractors.ocr_engine import TesseractEngine
from extractors.raster import render_page
from khsyt.extract import Settings, list_plan_files, read_document

SCAN = Path(__file__).resolve().parent / "fixtures" / "realscans" / "9uV_2275_SYT_NVY.pdf"
DPI = 200


def _tesseract_ok() -> bool:
    try:
        TesseractEngine().check_available()
    except OcrUnavailable:
        return False
    return True


needs_tesseract = pytest.mark.skipif(not _tesseract_ok(), reason="Tesseract not installed")


@pytest.fixture(scope="module")
def header() -> np.ndarray:
    page = render_page(SCAN, 1, DPI)
    return page[: page.shape[0] // 4]  # the two-column header block and the first lines


def test_frame_resolution_is_the_stated_one_or_an_a4_estimate() -> None:
    assert frame_dpi((300, 300), (2480, 3508)) == 300
    assert frame_dpi((72, 72), (2480, 3508)) == 300  # a screen default: estimated from A4
    assert frame_dpi(None, (3000, 4000)) == 342  # a phone photo of a page
    assert frame_dpi((1, 1), (1654, 2339)) == 200


def test_exif_orientation_and_frames(tmp_path: Path, header: np.ndarray) -> None:
    im = Image.fromarray(header)
    # pixels stored turned, with the EXIF tag saying "rotate 90 clockwise to display" (6)
    stored = im.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    jpg = tmp_path / "plan.jpg"
    stored.save(jpg, dpi=(DPI, DPI), exif=exif, quality=90)
    gray, dpi = load_frame(jpg, 1)
    assert dpi == DPI and gray.shape == header.shape
    assert np.corrcoef(gray.ravel().astype(float), header.ravel().astype(float))[0, 1] > 0.9
    tif = tmp_path / "plan.tif"
    im.save(tif, save_all=True, append_images=[im.transpose(Image.Transpose.FLIP_TOP_BOTTOM)], dpi=(DPI, DPI))
    assert count_frames(tif) == 2 and load_frame(tif, 2)[0].shape == header.shape
    with pytest.raises(ExtractionError, match="out of range"):
        load_frame(tif, 3)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    with pytest.raises(ExtractionError, match="cannot open image"):
        count_frames(bad)


@needs_tesseract
def test_image_files_are_read_by_ocr(tmp_path: Path, header: np.ndarray) -> None:
    im = Image.fromarray(header)
    exif = Image.Exif()
    exif[0x0112] = 6
    im.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "a.jpg", dpi=(DPI, DPI), exif=exif, quality=92)
    im.save(tmp_path / "b.png", dpi=(DPI, DPI))
    im.save(tmp_path / "c.tiff", save_all=True, append_images=[im], dpi=(DPI, DPI), compression="tiff_lzw")
    assert [p.name for p in list_plan_files(tmp_path)] == ["a.jpg", "b.png", "c.tiff"]
    settings = Settings(cache_dir=tmp_path / "cache", ocr_workers=1)
    texts = []
    for name in ("a.jpg", "b.png", "c.tiff"):
        doc = read_document(tmp_path / name, settings, sha256="x")
        assert doc.source_format == "image"
        assert all(p.method == "ocr" and p.rotation == 0 for p in doc.pages)  # EXIF did the turning
        texts.append(doc.pages[0].text())
        assert "KIÊN GIANG" in texts[-1] and "người khuyết tật năm 2017" in texts[-1]
    assert len(read_document(tmp_path / "c.tiff", settings, sha256="x").pages) == 2
