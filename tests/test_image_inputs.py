"""Images as inputs: JPEG (with an EXIF orientation), PNG and multi-page TIFF plans are read by
OCR like a scanned PDF.  Test images are made from a real scan (9uV_2275_SYT_NVY.pdf, header
block only, to keep the OCR short)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from extractors.errors import ExtractionError
from extractors.image import count_frames, frame_dpi, load_frame
from extractors.ocr_engine import ocr_available
from extractors.raster import render_page
from khsyt.extract import Settings, list_plan_files, read_document

SCAN = Path(__file__).resolve().parent / "fixtures" / "realscans" / "9uV_2275_SYT_NVY.pdf"
DPI = 200


needs_tesseract = pytest.mark.skipif(not ocr_available(), reason="Tesseract not installed")


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


def test_red_dropout_fades_a_red_stamp_and_keeps_black_and_blue_ink() -> None:
    from extractors.raster import red_dropout

    page = np.full((40, 90, 3), 255, np.uint8)
    page[5:15, 5:25] = (20, 20, 20)  # black print
    page[5:15, 35:55] = (200, 30, 40)  # red stamp ink (RGB)
    page[5:15, 65:85] = (30, 40, 160)  # blue handwriting
    red = red_dropout(page)
    assert red is not None and red.shape == (40, 90)
    assert red[10, 10] < 60 and red[10, 75] < 60  # black and blue stay ink
    assert red[10, 45] > 180  # the stamp is nearly paper
    grey = np.repeat(page.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    assert red_dropout(grey) is None and red_dropout(grey[:, :, 0]) is None  # nothing to drop


@needs_tesseract
def test_cli_prints_a_progress_line_per_ocr_page(tmp_path: Path, header: np.ndarray, capsys) -> None:
    from khsyt.cli import main

    Image.fromarray(header).save(tmp_path / "scan.png", dpi=(DPI, DPI))
    main(["extract", str(tmp_path / "scan.png"), "--out", str(tmp_path / "out"),
          "--cache-dir", str(tmp_path / "cache"), "--workers", "1"])
    err = capsys.readouterr().err
    assert "OCR scan.png: page 1 done (1/1" in err
