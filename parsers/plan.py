"""Document → ParsedPlan: metadata, appendix task rows and body tasks, in document order."""

from __future__ import annotations

import re

from extractors.model import Document, Line

from ._text import load_yaml
from .appendix import parse_appendix_tables
from .body import bulleted_tasks, labelled_tasks, paragraphs
from .metadata import complete_period, parse_metadata
from .records import ParsedPlan
from .textutil import fold

APPENDIX_HEADING = re.compile(r"^\s*PHỤ\s*LỤC\b")


def lists_tasks(title: str | None) -> bool:
    """Does a heading name a list of tasks ("DANH MỤC CÁC NHIỆM VỤ, GIẢI PHÁP …")?  The task
    words are the task-section words of parsers/data/body_fields.yaml."""
    words = load_yaml("body_fields.yaml")["task_sections"]
    low = fold(title or "")
    return any(fold(w) in low for w in words)


def parse_document(doc: Document) -> ParsedPlan:
    meta = parse_metadata(doc)
    appendix_tasks, tables = parse_appendix_tables(doc)
    n_tables = sum(1 for t in tables if t.is_task_table)
    paras = paragraphs(doc)
    body = labelled_tasks(paras)
    lines = [b for _, b in doc.blocks() if isinstance(b, Line)]
    heads = [i for i, ln in enumerate(lines) if APPENDIX_HEADING.match(ln.text)]
    has_heading = bool(heads)
    # a PHỤ LỤC whose title names tasks ("NHIỆM VỤ CHỦ YẾU …") is a task appendix, read or not
    task_appendix = bool(n_tables) or any(lists_tasks(" ".join(ln.text for ln in lines[i:i + 3])) for i in heads)
    if not appendix_tasks and not body and not task_appendix:
        # unlabelled bullets are tasks only where the plan has no task table (DECISIONS: the
        # body bullets of a plan with a task appendix are its solutions, not its tasks)
        body = bulleted_tasks(paras)
    tasks = body + appendix_tasks
    for i, t in enumerate(tasks, start=1):
        t.seq = i
    complete_period(meta, [t.deadline_raw for t in tasks])
    warnings = []
    if has_heading and not appendix_tasks:
        warnings.append("the plan has a PHỤ LỤC heading but no task table was recognised")
    for t in tables:  # what a task table could not place is a reason to review the plan
        if t.is_task_table:
            warnings.extend(f"table {t.table_id}: {w}" for w in t.warnings)
    return ParsedPlan(meta=meta, tasks=tasks, has_appendix=bool(n_tables) or has_heading, warnings=warnings,
                      tables=tables)
