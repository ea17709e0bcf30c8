"""Task tables (usually the PHỤ LỤC appendix) → one TaskRow per task.

The work is done by the chain in :mod:`parsers.tables`: pieces stitched across pages,
column roles from evidence, rows continued over a page break joined, merged cells filled
down, group rows and headings turned into sections, records with their source cells.
This module keeps the entry points the rest of the pipeline calls.
"""

from __future__ import annotations

from extractors.model import Document

from .records import TaskRow
from .tables import TableReport, find_task_tables, parse_tables, run_chain
from .tables.model import LogicalTable

__all__ = ["find_task_tables", "parse_appendix", "parse_appendix_tables", "parse_task_table"]


def parse_task_table(table: LogicalTable, seq_start: int = 1, table_index: int = 0) -> list[TaskRow]:
    return run_chain(table, seq_start, table_index)[0]


def parse_appendix_tables(doc: Document, seq_start: int = 1) -> tuple[list[TaskRow], list[TableReport]]:
    """All task rows of all task tables, and the report of every table with a header."""
    return parse_tables(doc, seq_start)


def parse_appendix(doc: Document, seq_start: int = 1) -> tuple[list[TaskRow], int]:
    """All task rows of all task tables, and how many task tables there were."""
    tasks, reports = parse_tables(doc, seq_start)
    return tasks, sum(1 for r in reports if r.is_task_table)
