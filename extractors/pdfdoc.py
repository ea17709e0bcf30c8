"""A PDF, whatever is inside it → Document.

Per page: the text layer when it is usable; legacy-font (TCVN3/VNI) characters decoded
to Unicode first; OCR for pages whose text layer is missing or still not Vietnamese.  A
PDF can mix all three (typed body, legacy-font annex, scanned signed appendix).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import ExtractionError, OcrUnavailable
from .model import Document, Page
from .pdf import extract_pdf

#: Pages OCRed first to decide whether a scan is a Vietnamese document at all.
PROBE_PAGES = 3


def _vietnamese(pages: list[Page]) -> bool:
    from .text_quality import text_layer_quality

    return text_layer_quality("\n".join(pg.text() for pg in pages)).reason != "not_vietnamese"


def extract_pdf_document(
    path: Path,
    *,
    ocr: bool = True,
    dpi: int = 300,
    workers: int | None = None,
    cache_dir: Path | None = None,
    model: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Document:
    from .legacy_pdf import legacy_fix_page
    from .text_quality import text_layer_usable

    def fallback(p: Path, numbers: list[int]) -> dict[int, Page]:
        if not ocr:
            raise OcrUnavailable(
                f"pages {numbers} have no usable text layer and OCR is switched off"
            )
        from .ocr import ocr_pdf_pages
        from .ocr_engine import engine_for
        from .raster import count_pages

        engine = engine_for(model)
        probe, rest = numbers[:PROBE_PAGES], numbers[PROBE_PAGES:]
        pages = ocr_pdf_pages(p, probe, dpi=dpi, workers=workers, cache_dir=cache_dir, engine=engine,
                              progress=progress)
        if rest and len(numbers) == count_pages(p) and not _vietnamese(pages):
            # a scan with no text layer at all whose first pages are not Vietnamese is no plan:
            # say so now rather than after OCRing every page
            raise ExtractionError(f"not a plan: the first {len(probe)} pages (OCR) are not Vietnamese text; "
                                  f"the other {len(rest)} pages were not read", stage="parse")
        pages += ocr_pdf_pages(p, rest, dpi=dpi, workers=workers, cache_dir=cache_dir, engine=engine,
                               progress=progress) if rest else []
        return {pg.number: pg for pg in pages}

    doc = extract_pdf(path, ocr_fallback=fallback, text_usable=text_layer_usable, page_transform=legacy_fix_page)
    if not doc.pages:
        raise ExtractionError("PDF has no pages", stage="open")
    return doc
