"""The page/table model shared by every extractor and every parser.

It is the one contract between the floors: an extractor (PDF text layer, OCR, DOCX,
converted text) turns a file into a :class:`Document`; parsers read only this model and
never learn where the text came from.  Coordinates are PDF points with the origin at the
top-left of the page as displayed (after any rotation was applied), so that "above" and
"below" mean the same thing for every source.  Sources without geometry (text files,
DOCX) leave ``bbox`` as ``None`` and rely on block order alone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

PageMethod = Literal["text_layer", "legacy_font", "ocr", "docx", "text_file"]

#: Gap (points) between two words of one visual line that separates two text columns (the
#: header and signature blocks are laid out side by side).  Every extractor with geometry
#: splits lines with it, so that a page reads the same from a text layer and from OCR.
COLUMN_GAP = 24.0


def clean_text(text: str | None) -> str:
    """NFC-normalise and collapse whitespace; every extractor passes its text through this."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    return " ".join(text.replace("\u00a0", " ").split())


@dataclass(frozen=True)
class BBox:
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True)
class LineWord:
    """One OCR word of a Line, with the engine's own confidence in it: a line's mean confidence
    is diluted by its printed words, while a handwritten number in it is judged by its own."""

    text: str
    conf: float  # 0-100
    bbox: BBox | None = None


@dataclass(frozen=True)
class Reread:
    """A second recogniser's reading of one handwritten blank of a Line ("Số: 2242 /…", the day
    of "ngày 11 tháng …"), digits only, with its own confidence, or of the printed symbol beside
    the number read alone (field "symbol", view "alone"): the header judge compares it with the
    first reading (extractors/digit_reader.py, extractors/ocr.py, parsers/handwriting.py)."""

    field: str  # "number", "day", "month", "symbol"
    text: str  # the digits read ("" when it saw none); the symbol's characters
    conf: float  # 0-100: the least confident of its digits
    engine: str  # the recogniser and its model ("rapidocr-onnxruntime 1.4.4 PP-OCRv4 digits")
    bbox: BBox | None = None  # the crop it read, in page points
    #: which view of the blank: "token" (where the first reading put its token), "blank_ink"
    #: (the whole blank between the printed words, its rows cut to the ink), "glyphs" (the
    #: handwritten-digit classifier) or "alone" (a symbol); two views that read the same digits
    #: are a stable reading (parsers/handwriting.py)
    view: str = "token"


@dataclass
class Line:
    """A line (or paragraph, for sources without geometry) of free text outside tables."""

    text: str
    bbox: BBox | None = None
    confidence: float | None = None  # mean OCR word confidence 0-100; None when not OCR
    bold: bool | None = None  # None when the source cannot tell
    #: OCR words in reading order (their texts joined by spaces are ``text``); None when not OCR
    words: list[LineWord] | None = None
    id: str | None = None  # "p<page>-l<k>", set by assign_ids
    #: second readings of its handwritten blanks; None when no second recogniser looked
    rereads: list[Reread] | None = None
    #: share of ink no word accounts for (left of the line, under it): see extractors/unread_ink.py;
    #: None when not OCR
    unread_ink: tuple[float, float] | None = None


@dataclass
class Cell:
    """One cell of a table grid.  A merged cell appears once, at its top-left position."""

    row: int
    col: int
    text: str
    row_span: int = 1
    col_span: int = 1
    bbox: BBox | None = None
    confidence: float | None = None
    bold: bool | None = None  # None when the source cannot tell
    id: str | None = None  # "p<page>-t<k>-r<row>c<col>", set by assign_ids


@dataclass
class Table:
    """A ruled grid on one page.  A table that runs over several pages is one Table per page;
    joining them is the parsers' job, since only they know what a repeated header means."""

    n_rows: int
    n_cols: int
    cells: list[Cell] = field(default_factory=list)
    bbox: BBox | None = None
    #: False when the source cannot represent merged cells (tab-separated or markdown
    #: text), so an empty cell may be a merged one shown empty; True when spans are real.
    spans_known: bool = True
    id: str | None = None  # "p<page>-t<k>": the k-th table of its page, set by assign_ids

    def cell_at(self, row: int, col: int) -> Cell | None:
        """The cell whose top-left is exactly (row, col); None for positions covered by a span."""
        for c in self.cells:
            if c.row == row and c.col == col:
                return c
        return None

    def grid(self) -> list[list[Cell | None]]:
        """Rows of cells by column; covered positions are ``None``."""
        g: list[list[Cell | None]] = [[None] * self.n_cols for _ in range(self.n_rows)]
        for c in self.cells:
            if 0 <= c.row < self.n_rows and 0 <= c.col < self.n_cols:
                g[c.row][c.col] = c
        return g

    def text_rows(self) -> list[list[str]]:
        """Rows of cell texts, empty string where nothing starts at that position."""
        return [[c.text if c else "" for c in row] for row in self.grid()]


Block = Line | Table


@dataclass
class Page:
    number: int  # 1-based
    blocks: list[Block] = field(default_factory=list)  # in reading order
    width: float | None = None
    height: float | None = None
    method: PageMethod = "text_layer"
    rotation: int = 0  # degrees applied to make the page upright
    confidence: float | None = None  # mean OCR confidence of the page, 0-100

    @property
    def lines(self) -> list[Line]:
        return [b for b in self.blocks if isinstance(b, Line)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def text(self) -> str:
        """Reading-order text: lines as they are, table cells row by row separated by tabs."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Line):
                out.append(b.text)
            else:
                out.extend("\t".join(r) for r in b.text_rows())
        return "\n".join(out)


@dataclass
class Document:
    source_path: str
    source_format: str  # "pdf", "txt", "md", "docx" ...
    pages: list[Page] = field(default_factory=list)
    sha256: str = ""

    def __post_init__(self) -> None:
        assign_ids(self.pages)

    def blocks(self) -> Iterator[tuple[int, Block]]:
        """Every block of the document with its page number, in reading order."""
        for p in self.pages:
            for b in p.blocks:
                yield p.number, b


# --------------------------------------------------------------------------- ids and serialisation


def assign_ids(pages: list[Page]) -> None:
    """Give every line, table and cell an id that is stable within its document and says
    where the item is: "p3-l2" (3rd page, 2nd line), "p3-t1" (its first table),
    "p3-t1-r4c2" (row 4, column 2 of that table, 0-based as in the grid)."""
    for page in pages:
        n_lines = n_tables = 0
        for b in page.blocks:
            if isinstance(b, Table):
                n_tables += 1
                b.id = f"p{page.number}-t{n_tables}"
                for c in b.cells:
                    c.id = f"{b.id}-r{c.row}c{c.col}"
            else:
                n_lines += 1
                b.id = f"p{page.number}-l{n_lines}"


def _bbox(v: dict[str, float] | None) -> BBox | None:
    return BBox(**v) if v else None


def _known(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``d`` that are fields of ``cls`` (a cache written by a newer or older
    version of the model still loads)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


def page_to_dict(page: Page) -> dict[str, Any]:
    """JSON-able form of a Page, every field kept (blocks tagged with their kind)."""
    d = asdict(page)
    d["blocks"] = [{"kind": "table" if isinstance(b, Table) else "line", **asdict(b)} for b in page.blocks]
    return d


def page_from_dict(d: dict[str, Any]) -> Page:
    """The Page :func:`page_to_dict` wrote."""
    blocks: list[Block] = []
    for b in d.get("blocks", []):
        if b.get("kind") == "table":
            cells = [Cell(**{**_known(Cell, c), "bbox": _bbox(c.get("bbox"))}) for c in b.get("cells", [])]
            blocks.append(Table(**{**_known(Table, b), "cells": cells, "bbox": _bbox(b.get("bbox"))}))
        else:
            words, rereads = b.get("words"), b.get("rereads")
            blocks.append(Line(**{**_known(Line, b), "bbox": _bbox(b.get("bbox")),
                                  "words": None if words is None else [
                                      LineWord(w["text"], w["conf"], _bbox(w.get("bbox"))) for w in words],
                                  "rereads": None if rereads is None else [
                                      Reread(**{**_known(Reread, r), "bbox": _bbox(r.get("bbox"))})
                                      for r in rereads],
                                  "unread_ink": None if b.get("unread_ink") is None else tuple(b["unread_ink"])}))
    return Page(**{**_known(Page, d), "blocks": blocks})


def document_to_dict(doc: Document) -> dict[str, Any]:
    return {"source_path": doc.source_path, "source_format": doc.source_format, "sha256": doc.sha256,
            "pages": [page_to_dict(p) for p in doc.pages]}


def document_from_dict(d: dict[str, Any]) -> Document:
    return Document(source_path=d["source_path"], source_format=d["source_format"], sha256=d.get("sha256", ""),
                    pages=[page_from_dict(p) for p in d.get("pages", [])])
