"""Document → ParsedPlan: metadata, appendix task rows and body tasks, in document order."""

from __future__ import annotations

import re

from extractors.model import Document, Line

from .appendix import parse_appendix_tables
from .body import bulleted_tasks, labelled_tasks, paragraphs
from .metadata import parse_metadata
from .records import ParsedPlan

APPENDIX_HEADING = re.compile(r"^\s*PHỤ\s*LỤC\b")


def parse_document(doc: Document) -> ParsedPlan:
    meta = parse_metadata(doc)
    appendix_tasks, tables = parse_appendix_tables(doc)
    n_tables = sum(1 for t in tables if t.is_task_table)
    paras = paragraphs(doc)
    body = labelled_tasks(paras)
    if not appendix_tasks and not body:
        body = bulleted_tasks(paras)
    tasks = body + appendix_tasks
    for i, t in enumerate(tasks, start=1):
        t.seq = i
    has_heading = any(isinstance(b, Line) and APPENDIX_HEADING.match(b.text) for _, b in doc.blocks())
    warnings = []
    if has_heading and not appendix_tasks:
        warnings.append("the plan has a PHỤ LỤC heading but no task table was recognised")
    for t in tables:  # what a task table could not place is a reason to review the plan
        if t.is_task_table:
            warnings.extend(f"table {t.table_id}: {w}" for w in t.warnings)
    return ParsedPlan(meta=meta, tasks=tasks, has_appendix=bool(n_tables) or has_heading, warnings=warnings,
                      tables=tables)
