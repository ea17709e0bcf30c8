"""The task-table chain, end to end, and the account it gives of each table.

    stitch_tables → table_rows → join_continued_rows → fill_down → assign_sections → to_records

Each step is a pure function with its own settings (see :mod:`.stitch` and
:mod:`.transforms`); :func:`parse_tables` runs them and returns, with the task rows, one
:class:`TableReport` per logical table: what each column was taken for and why, what was
joined or filled down, what could not be placed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractors.model import Document

from ..records import TaskRow
from .model import LogicalTable
from .stitch import DEFAULT_STITCH, StitchSettings, stitch_tables
from .transforms import (
    assign_sections,
    fill_down,
    item_styles,
    join_continued_rows,
    table_rows,
    to_records,
)


@dataclass
class ColumnReport:
    col: int
    header: str
    role: str | None
    evidence: str


@dataclass
class TableReport:
    """What the parser did with one logical table (the ``tables`` dataset row)."""

    table_id: str
    pages: list[int]
    is_task_table: bool
    rows: int = 0  # data rows read (after header rows were dropped)
    tasks: int = 0
    columns: list[ColumnReport] = field(default_factory=list)
    rows_joined: int = 0  # rows continued over a page break, joined to the row before
    cells_filled_down: int = 0
    header_rows_dropped: int = 0
    group_rows: int = 0
    columns_without_role: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _columns(lt: LogicalTable) -> list[ColumnReport]:
    return [ColumnReport(c.col, c.header, c.role, c.evidence) for c in lt.columns]


def run_chain(lt: LogicalTable, seq_start: int = 1, table_index: int = 0) -> tuple[list[TaskRow], TableReport]:
    """One logical task table → its task rows and its report."""
    rows, dropped = table_rows(lt)
    styles = item_styles(rows, lt.roles)
    joined = join_continued_rows(rows, lt.roles, styles)
    filled = fill_down(joined, lt.roles)
    data = assign_sections(filled)
    tasks = to_records(data, lt, seq_start, table_index)
    report = TableReport(
        table_id=lt.table_id, pages=sorted({s.page for s in lt.segments}), is_task_table=True,
        rows=sum(1 for r in rows if r.kind == "data"), tasks=len(tasks), columns=_columns(lt),
        rows_joined=sum(r.joined for r in joined),
        cells_filled_down=sum(r.filled_down for r in data), header_rows_dropped=dropped,
        group_rows=sum(1 for r in joined if r.kind == "section"),
    )
    report.columns_without_role = [c.header or f"column {c.col + 1}" for c in lt.columns if c.role is None]
    for c in lt.columns:
        # a known role without a task field (a person column, notes) is reported in
        # ``columns``; a column nobody could read is a reason to review the plan
        if c.role is None and any(t.extra.get(c.header or f"column {c.col + 1}") for t in tasks):
            report.warnings.append(f"column {c.col + 1} '{c.header}' has no role: its text is kept in tasks.extra")
    if not tasks:
        report.warnings.append("a task table gave no task")
    return tasks, report


def other_table_report(lt: LogicalTable) -> TableReport:
    """The report of a table with a header that is not a task table (kept so a reviewer
    sees what was left out and why)."""
    rows = sum(len(s.rows) for s in lt.segments)
    r = TableReport(table_id=lt.table_id, pages=sorted({s.page for s in lt.segments}), is_task_table=False,
                    rows=rows, columns=_columns(lt))
    r.columns_without_role = [c.header or f"column {c.col + 1}" for c in lt.columns if c.role is None]
    r.warnings.append("not a task table: no task column with units, a deadline or a product")
    return r


def parse_tables(doc: Document, seq_start: int = 1,
                 st: StitchSettings = DEFAULT_STITCH) -> tuple[list[TaskRow], list[TableReport]]:
    """All task rows of all task tables, and a report per table with a header."""
    task_tables, others = stitch_tables(doc, st)
    tasks: list[TaskRow] = []
    reports: list[TableReport] = []
    for i, lt in enumerate(task_tables):
        rows, rep = run_chain(lt, seq_start + len(tasks), table_index=i)
        tasks.extend(rows)
        reports.append(rep)
    reports.extend(other_table_report(lt) for lt in others)
    reports.sort(key=lambda r: (r.pages[0] if r.pages else 0, r.table_id))
    return tasks, reports
