"""The source region of a published row: its page rendered as an image, with its cells boxed.

Boxes come from the task's ``source_cells`` (page, row, col, role and the cell's box in PDF
points from the top-left, as pdfplumber measures them).  For rows published before the
extractors recorded cells, the boxes are found again on the page's text layer by searching the
first words of the task text and of its lead-unit and deadline cells (the hit nearest the task
text is kept).  Files without pages to render (converted text, Word) have no image; the
workbench shows their page text with the same values highlighted instead.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..document_key import fold, task_text

#: Rendering scale (1 = 72 dpi); 1.6 keeps a landscape A4 page readable on a laptop screen.
RENDER_SCALE = 1.6
#: How many leading words of a cell are searched for on the page (longer runs cross line breaks).
SEARCH_WORDS = 5
#: How many folded characters of a value must open a table cell's text for the cell to be its box.
CELL_PREFIX = 40
COLOURS = {"task": (255, 200, 0), "lead_units": (220, 40, 40), "deadline": (30, 120, 220), "other": (0, 160, 80)}


@dataclass
class Box:
    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    role: str = "other"


def boxes_of(task: dict[str, Any]) -> list[Box]:
    """The task's recorded cell boxes (``source_cells``), when the extractor gave them."""
    out = []
    for c in task.get("source_cells") or []:
        if None not in (c.get("x0"), c.get("top"), c.get("x1"), c.get("bottom"), c.get("page")):
            out.append(Box(int(c["page"]), float(c["x0"]), float(c["top"]), float(c["x1"]), float(c["bottom"]),
                           _role(c.get("role"))))
    return out


def _role(role: str | None) -> str:
    r = (role or "").lower()
    if "lead" in r or "chu_tri" in r:
        return "lead_units"
    if "deadline" in r or "time" in r:
        return "deadline"
    if r in ("task", "activity", "objective", "solution"):
        return "task"
    return "other"


def _lead_pattern(text: str | None) -> str | None:
    """A regex for the first words of a cell, any whitespace (line breaks too) between them."""
    words = [w for w in re.sub(r"\s+", " ", text or "").strip(" -•+").split(" ") if w][:SEARCH_WORDS]
    if sum(len(w) for w in words) < 3:
        return None
    return r"\s+".join(re.escape(w) for w in words)


def _find(page, cells: list[tuple], text: str | None, anchor: float | None) -> tuple | None:
    """The box of a cell value on the page: the table cell whose text starts the same way
    (nearest the task's row when several do), else a text search of its first words."""
    want = fold(text)[:CELL_PREFIX]
    if len(want) < 3:
        return None
    hits = [bbox for bbox, cell_text in cells if want in cell_text]
    if hits:
        return hits[0] if anchor is None else min(hits, key=lambda b: abs(b[1] - anchor))
    pattern = _lead_pattern(text)
    found = page.search(pattern, regex=True) if pattern else []
    if not found:
        return None
    h = found[0] if anchor is None else min(found, key=lambda h: abs(h["top"] - anchor))
    return (h["x0"], h["top"], h["x1"], h["bottom"])


def search_boxes(pdf_path: Path, page: int, task: dict[str, Any]) -> list[Box]:
    """Boxes found again on a text-layer page (fallback when ``source_cells`` is empty)."""
    import pdfplumber

    with pdfplumber.open(pdf_path) as pdf:
        if not 1 <= page <= len(pdf.pages):
            return []
        p = pdf.pages[page - 1]
        cells = []  # (bbox, folded text) of every table cell on the page
        for t in p.find_tables():
            for c in t.cells:
                if c:
                    cells.append((c, fold(p.crop(c).extract_text() or "")))
        found: list[Box] = []
        anchor = None
        for role, text in (("task", task_text(task)), ("lead_units", task.get("lead_units_raw")),
                           ("deadline", task.get("deadline_raw"))):
            box = _find(p, cells, text, anchor)
            if box is None:
                continue
            if anchor is None:
                anchor = box[1]
            found.append(Box(page, *box, role))
        return found


def render_page(pdf_path: Path, page: int, boxes: list[Box]) -> bytes:
    """PNG of one PDF page with the boxes drawn over it (translucent fill, solid outline)."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        if not 1 <= page <= len(pdf):
            raise ValueError(f"page {page} not in 1..{len(pdf)}")
        img = pdf[page - 1].render(scale=RENDER_SCALE).to_pil().convert("RGBA")
    finally:
        pdf.close()
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    pad = 2
    for b in boxes:
        if b.page != page:
            continue
        colour = COLOURS.get(b.role, COLOURS["other"])
        rect = [b.x0 * RENDER_SCALE - pad, b.top * RENDER_SCALE - pad, b.x1 * RENDER_SCALE + pad,
                b.bottom * RENDER_SCALE + pad]
        draw.rectangle(rect, fill=(*colour, 60), outline=(*colour, 255), width=3)
    out = io.BytesIO()
    Image.alpha_composite(img, overlay).convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def task_boxes(pdf_path: Path, page: int, task: dict[str, Any]) -> list[Box]:
    recorded = [b for b in boxes_of(task) if b.page == page]
    return recorded or search_boxes(pdf_path, page, task)
