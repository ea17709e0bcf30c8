"""PDF text layer → Document, through pdfplumber.

Tables come from the ruling lines (pdfplumber's lattice finder); each cell's text is the
characters inside it, so a merged cell is read once and carries its row/column span,
computed from where its edges fall on the table's grid.  Text outside tables becomes
Lines, split where a wide horizontal gap shows two columns side by side (the header block
and the signature block are laid out that way).  Pages whose text layer cannot be trusted
are handed to the OCR extractor, so a PDF may mix both.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from pathlib import Path

import pdfplumber
from pdfplumber.page import Page as PlumberPage

from .errors import ExtractionError
from .limits import check_image, check_page_size, check_pages, check_time
from .model import COLUMN_GAP, BBox, Block, Cell, Document, Line, Page, Table, clean_text

#: Snap tolerance (points) when mapping cell edges to grid lines.
EDGE_TOL = 2.0

OcrFallback = Callable[[Path, list[int]], dict[int, Page]]


def join_cell_lines(text: str | None) -> str:
    """Join the visual lines of a cell with spaces; a line that ends in a word-internal
    hyphen ("Kế hoạch-", "2020-") joins without one, since the hyphen belongs to the word."""
    if not text:
        return ""
    parts = [p.strip() for p in text.split("\n") if p.strip()]
    out = ""
    for p in parts:
        if not out:
            out = p
        elif out.endswith("-") and len(out) > 1 and out[-2].isalnum():
            out += p
        else:
            out += " " + p
    return clean_text(out)


def _cluster(values: list[float], tol: float = EDGE_TOL) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


def _index(edges: list[float], v: float) -> int:
    i = bisect.bisect_left(edges, v - EDGE_TOL)
    return min(i, len(edges) - 1)


def table_from_plumber(ptable) -> Table | None:
    """Build a model Table from a pdfplumber Table: grid lines from every cell edge,
    spans from how many grid intervals a cell covers."""
    cells_bb = ptable.cells
    if not cells_bb:
        return None
    xs = _cluster([c[0] for c in cells_bb] + [c[2] for c in cells_bb])
    ys = _cluster([c[1] for c in cells_bb] + [c[3] for c in cells_bb])
    n_cols, n_rows = len(xs) - 1, len(ys) - 1
    if n_cols < 1 or n_rows < 1:
        return None
    texts = {}
    for row in ptable.rows:
        for bb in row.cells:
            if bb is not None:
                texts[bb] = None
    # Text of each cell: pdfplumber's extract() aligns texts with row.cells.
    extracted = ptable.extract()
    for row, row_texts in zip(ptable.rows, extracted, strict=False):
        for bb, txt in zip(row.cells, row_texts, strict=False):
            if bb is not None:
                texts[bb] = txt
    cells: list[Cell] = []
    seen: set[tuple[int, int]] = set()
    for bb in cells_bb:
        r0, r1 = _index(ys, bb[1]), _index(ys, bb[3])
        c0, c1 = _index(xs, bb[0]), _index(xs, bb[2])
        if (r0, c0) in seen:
            continue
        seen.add((r0, c0))
        cells.append(
            Cell(
                row=r0,
                col=c0,
                row_span=max(1, r1 - r0),
                col_span=max(1, c1 - c0),
                text=join_cell_lines(texts.get(bb)),
                bbox=BBox(*bb),
            )
        )
    cells.sort(key=lambda c: (c.row, c.col))
    x0, top, x1, bottom = ptable.bbox
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, bbox=BBox(x0, top, x1, bottom))


def _is_bold(chars: list[dict]) -> bool | None:
    letters = [c for c in chars if c.get("text", "").strip()]
    if not letters:
        return None
    return all("bold" in c.get("fontname", "").lower() for c in letters)


def _split_columns(line: dict) -> list[Line]:
    """Split one pdfplumber text line where a wide gap separates two text columns."""
    chars = [c for c in line.get("chars", []) if c.get("text")]
    if not chars:
        return []
    groups: list[list[dict]] = [[chars[0]]]
    for prev, ch in zip(chars, chars[1:], strict=False):
        if ch["x0"] - prev["x1"] > COLUMN_GAP:
            groups.append([ch])
        else:
            groups[-1].append(ch)
    out = []
    for g in groups:
        text = ""
        last = None
        for ch in g:
            if last is not None and ch["x0"] - last["x1"] > 0.15 * max(ch.get("size", 10), 1) and not (
                text.endswith(" ") or ch["text"] == " "
            ):
                text += " "
            text += ch["text"]
            last = ch
        text = clean_text(text)
        if text:
            bb = BBox(g[0]["x0"], min(c["top"] for c in g), g[-1]["x1"], max(c["bottom"] for c in g))
            out.append(Line(text=text, bbox=bb, bold=_is_bold(g)))
    return out


def page_from_plumber(ppage: PlumberPage, number: int) -> Page:
    """One pdfplumber page → model Page with blocks in reading order (top to bottom)."""
    tables = []
    for t in ppage.find_tables():
        mt = table_from_plumber(t)
        if mt is not None and (mt.n_rows > 1 or mt.n_cols > 1):
            tables.append(mt)

    def outside(obj: dict) -> bool:
        if obj.get("object_type") != "char":
            return True
        cx = (obj["x0"] + obj["x1"]) / 2
        cy = (obj["top"] + obj["bottom"]) / 2
        return not any(
            t.bbox and t.bbox.x0 <= cx <= t.bbox.x1 and t.bbox.top <= cy <= t.bbox.bottom for t in tables
        )

    free = ppage.filter(outside) if tables else ppage
    lines: list[Line] = []
    for tl in free.extract_text_lines(return_chars=True, keep_blank_chars=True):
        lines.extend(_split_columns(tl))
    blocks: list[Block] = [*lines, *tables]
    blocks.sort(key=lambda b: (round(b.bbox.top, 1), b.bbox.x0) if b.bbox else (0, 0))
    return Page(
        number=number,
        blocks=blocks,
        width=float(ppage.width),
        height=float(ppage.height),
        method="text_layer",
    )


def check_page(ppage: PlumberPage, number: int) -> None:
    """Page size and embedded image pixels within their limits (extractors/limits.py)."""
    check_time()
    check_page_size(float(ppage.width), float(ppage.height), number)
    for img in ppage.images:
        w, h = img.get("srcsize") or (0, 0)
        check_image(int(w or 0), int(h or 0), f"an image on page {number}")


def extract_pdf(
    path: Path,
    *,
    ocr_fallback: OcrFallback | None = None,
    text_usable: Callable[[str], bool] | None = None,
    page_transform: Callable[[PlumberPage], PlumberPage] | None = None,
) -> Document:
    """Read every page's text layer; pages judged unusable go to ``ocr_fallback``.

    ``page_transform`` lets the legacy-font decoder rewrite a page's characters before
    anything is built from them.  Without an OCR fallback an unusable page stays as read
    and the caller decides (the pipeline rejects such a file rather than keep garbage).
    """
    path = Path(path)
    try:
        pdf = pdfplumber.open(path)
    except Exception as exc:  # pdfminer raises many types for damaged files
        causes = f"{type(exc).__name__} {exc!r} {exc.__cause__!r} {exc.__context__!r}"
        if "Password" in causes or "Encrypt" in causes:
            raise ExtractionError("encrypted PDF: it cannot be read without its password", stage="open") from exc
        detail = str(exc) or repr(exc.__cause__ or exc.__context__ or exc)
        raise ExtractionError(f"cannot open PDF: {type(exc).__name__}: {detail}", stage="open") from exc
    pages: list[Page] = []
    unusable: list[int] = []
    try:
        if len(pdf.pages) == 0:
            raise ExtractionError("PDF has no pages", stage="open")
        check_pages(len(pdf.pages))
        for i, ppage in enumerate(pdf.pages, start=1):
            check_page(ppage, i)
            try:
                transformed = page_transform(ppage) if page_transform is not None else ppage
                page = page_from_plumber(transformed, i)
                if transformed is not ppage:  # characters were rewritten (legacy font decoded)
                    page.method = "legacy_font"
            except ExtractionError:
                raise
            except Exception as exc:
                raise ExtractionError(f"page {i}: {type(exc).__name__}: {exc}", stage="text_layer") from exc
            if text_usable is not None and not text_usable(page.text()):
                unusable.append(i)
            pages.append(page)
    finally:
        pdf.close()
    if unusable and ocr_fallback is not None:
        replaced = ocr_fallback(path, unusable)
        pages = [replaced.get(p.number, p) for p in pages]
    return Document(source_path=str(path), source_format="pdf", pages=pages)
