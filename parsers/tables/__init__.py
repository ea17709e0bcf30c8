"""Task tables as a chain of small pure steps (see :mod:`.chain`)."""

from .chain import TableReport, parse_tables, run_chain
from .stitch import find_task_tables

__all__ = ["TableReport", "find_task_tables", "parse_tables", "run_chain"]
