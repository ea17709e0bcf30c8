"""The data the task-table chain passes from step to step: grid slots with their source
cell, pieces of a table (one per page), logical tables and their rows.

Every slot remembers the cell it came from (:class:`SourceCell`: page, row and column in
that page's table, and its box when the source has geometry), so that every published
task can be traced to the cells it was read from.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from extractors.model import Table

from ..columns import ColumnRole


@dataclass(frozen=True)
class SourceCell:
    """One cell a task was read from.  Boxes are None for sources without geometry."""

    page: int
    row: int
    col: int
    role: str | None = None
    x0: float | None = None
    top: float | None = None
    x1: float | None = None
    bottom: float | None = None

    def as_dict(self) -> dict:
        return {"page": self.page, "row": self.row, "col": self.col, "role": self.role,
                "x0": self.x0, "top": self.top, "x1": self.x1, "bottom": self.bottom}


@dataclass(frozen=True)
class Slot:
    """What one grid position of a row holds."""

    text: str = ""
    starts: bool = True  # a cell starts here (False: covered by a span from above or the left)
    from_above: bool = False
    col_span: int = 1
    confidence: float | None = None
    bold: bool | None = None
    source: SourceCell | None = None

    @property
    def filled(self) -> bool:
        return self.starts and bool(self.text.strip())


@dataclass
class Piece:
    """The part of a logical table printed on one page (one Table of the model)."""

    page: int
    table: Table
    index_on_page: int  # 1-based position among the page's tables
    rows: list[list[Slot]]  # data rows (header rows removed)
    continued: bool  # continues the previous piece (a page break, no heading between)


@dataclass
class LogicalTable:
    """A task table as printed over one or more pages."""

    roles: list[str | None]
    table_id: str = ""  # "p<page>-t<k>" of its first piece: stable within the plan
    header: str = ""  # the first header row's text, to recognise it repeated with OCR damage
    headers: list[str] = field(default_factory=list)  # each column's header text
    hint: list[str | None] = field(default_factory=list)  # roles read off the header cells alone
    columns: list[ColumnRole] = field(default_factory=list)  # final roles with their evidence
    segments: list[Piece] = field(default_factory=list)
    #: piece index -> (code, title) of a heading printed between two pieces
    sections_before: dict[int, tuple[str | None, str]] = field(default_factory=dict)
    header_rows_dropped: int = 0  # repeated header / column-number rows met inside the table


@dataclass
class Row:
    """One row on its way through the chain.

    ``kind``: "data" (a task), "section" (a group row: ``section`` holds its code and
    title), "heading" (a heading printed between two pieces).  ``values``/``sources`` are
    set by the fill-down step: each column's text and the cells it came from."""

    page: int
    slots: list[Slot]
    at_break: bool = False  # the first data row of a piece that continues the previous one
    spans_known: bool = True  # False: the source cannot show merged cells (text, TSV)
    kind: str = "data"
    section: tuple[str | None, str | None] | None = None
    page_end: int | None = None
    extra_sources: list[SourceCell] = field(default_factory=list)  # cells joined from a continuation
    values: list[str] = field(default_factory=list)
    sources: list[list[SourceCell]] = field(default_factory=list)
    filled_down: int = 0  # how many of its values were copied from a row above
    joined: int = 0  # rows continued over a page break that were joined to this one

    def texts(self) -> list[str]:
        return [s.text if s.starts else "" for s in self.slots]

    def with_slot(self, j: int, slot: Slot) -> Row:
        slots = list(self.slots)
        slots[j] = slot
        return replace(self, slots=slots)
