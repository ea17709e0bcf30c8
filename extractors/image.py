"""Image files (JPEG, PNG, TIFF — single or multi-page) → Document, through OCR.

Scanners save plans as multi-page TIFF or JPEG; phones save JPEG with the camera's orientation
in an EXIF tag instead of turning the pixels.  Each frame is put the way it is displayed
(Pillow's ``ImageOps.exif_transpose``), made grey, and read by the same OCR page reader as a
scanned PDF page (extractors/ocr.py), with the same cache and progress lines.

Resolution: the file's own dpi when it is plausible for a scan; phone photos and many JPEGs carry
72 or 96 (a screen default) or nothing, and then the resolution is estimated from the page being
A4 (the long side of the frame is 11.69 inches).  The OCR's thresholds scale with it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .errors import ExtractionError
from .limits import check_image, check_pages
from .model import Document

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff"})
A4_LONG_SIDE_IN = 11.69
MIN_DPI, MAX_DPI = 100, 1200
SCREEN_DPIS = frozenset({72, 96})  # written by software that knows nothing of the paper


def is_image(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def frame_dpi(stated: tuple[float, float] | None, size: tuple[int, int]) -> int:
    """The resolution to read a frame at: the stated one when plausible, else the A4 estimate."""
    if stated:
        d = int(round(float(stated[0] or 0)))
        if MIN_DPI <= d <= MAX_DPI and d not in SCREEN_DPIS:
            return d
    estimate = int(round(max(size) / A4_LONG_SIDE_IN))
    return max(MIN_DPI, min(600, estimate))


def _open(path: str | Path):
    """The image, its size checked against the ``image_pixels`` limit (extractors/limits.py)
    before any pixel is decoded; Pillow's own bomb check is left to that limit."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None
    try:
        im = Image.open(path)
    except (UnidentifiedImageError, OSError) as e:
        raise ExtractionError(f"cannot open image: {e}", stage="open") from e
    try:
        check_image(im.width, im.height, f"image {Path(path).name}")
    except ExtractionError:
        im.close()
        raise
    return im


def count_frames(path: str | Path) -> int:
    with _open(path) as im:
        n = int(getattr(im, "n_frames", 1))
    check_pages(n)
    return n


def load_frame(path: str | Path, page_number: int, red: bool = False) -> tuple[np.ndarray, int]:
    """Frame ``page_number`` (1-based) as displayed (EXIF orientation applied), grey (with
    ``red``: its red channel, raster.red_dropout), uint8, and the dpi to read it at."""
    from PIL import Image, ImageOps

    with _open(path) as im:
        n = int(getattr(im, "n_frames", 1))
        if not 1 <= page_number <= n:
            raise ExtractionError(f"page {page_number} out of range 1..{n}", stage="render")
        try:
            im.seek(page_number - 1)
            check_image(im.width, im.height, f"page {page_number} of {Path(path).name}")
            stated = im.info.get("dpi")
            frame = ImageOps.exif_transpose(im)
            if frame.mode not in ("L", "1"):
                # alpha over white first: a transparent PNG background is paper, not ink
                frame = frame.convert("RGBA")
                white = Image.new("RGBA", frame.size, (255, 255, 255, 255))
                frame = Image.alpha_composite(white, frame)
            if red:
                from .raster import red_dropout

                rgb = np.array(frame.convert("RGB"), dtype=np.uint8)
                return red_dropout(rgb), frame_dpi(stated, (rgb.shape[1], rgb.shape[0]))  # type: ignore[return-value]
            else:
                gray = np.array(frame.convert("L"), dtype=np.uint8, copy=True)
        except (OSError, ValueError) as e:
            raise ExtractionError(f"cannot decode image page {page_number}: {e}", stage="render") from e
    return gray, frame_dpi(stated, (gray.shape[1], gray.shape[0]))


def extract_image(
    path: Path,
    *,
    ocr: bool = True,
    workers: int | None = None,
    cache_dir: Path | None = None,
    model: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Document:
    """Every frame of an image file, OCR'd, as one Document (``source_format="image"``)."""
    from .errors import OcrUnavailable
    from .ocr import ocr_pdf_pages
    from .ocr_engine import engine_for

    if not ocr:
        raise OcrUnavailable("an image file can only be read by OCR, and OCR is switched off")
    pages = ocr_pdf_pages(path, None, workers=workers, cache_dir=cache_dir, engine=engine_for(model),
                          progress=progress)
    return Document(source_path=str(path), source_format="image", pages=pages)
