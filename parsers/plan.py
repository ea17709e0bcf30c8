"""Document → ParsedPlan: metadata, appendix task rows and body tasks, in document order."""

from __future__ import annotations

import re
from datetime import date

from extractors.model import Document, Line

from ._text import load_yaml
from .appendix import parse_appendix_tables
from .body import bulleted_tasks, labelled_tasks, paragraphs
from .deadlines import parse_deadlines
from .metadata import check_issue_date, complete_period, parse_metadata
from .records import ParsedPlan, PlanMeta
from .textutil import fold

APPENDIX_HEADING = re.compile(r"^\s*PHỤ\s*LỤC\b")
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def lists_tasks(title: str | None) -> bool:
    """Does a heading name a list of tasks ("DANH MỤC CÁC NHIỆM VỤ, GIẢI PHÁP …")?  The task
    words are the task-section words of parsers/data/body_fields.yaml."""
    words = load_yaml("body_fields.yaml")["task_sections"]
    low = fold(title or "")
    return any(fold(w) in low for w in words)


def task_due_dates(meta: PlanMeta, deadline_texts: list[str | None]) -> list[date]:
    """The dated deadlines of the tasks (a day or "before" a day, with the year printed: a year
    filled in from the issue date would only repeat it), for the issue-date check."""
    period = (meta.plan_period_start, meta.plan_period_end) if meta.plan_period_start and meta.plan_period_end else None
    return [m.end for raw in deadline_texts if raw and YEAR.search(raw)
            for m in parse_deadlines(raw, plan_period=period, default_year=meta.plan_year)
            if m.kind in ("date", "before_date") and m.end is not None]


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
    check_issue_date(meta, task_due_dates(meta, [t.deadline_raw for t in tasks]))
    warnings = []
    if has_heading and not appendix_tasks:
        warnings.append("the plan has a PHỤ LỤC heading but no task table was recognised")
    for t in tables:  # what a task table could not place is a reason to review the plan
        if t.is_task_table:
            warnings.extend(f"table {t.table_id}: {w}" for w in t.warnings)
    return ParsedPlan(meta=meta, tasks=tasks, has_appendix=bool(n_tables) or has_heading, warnings=warnings,
                      tables=tables)
