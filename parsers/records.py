"""Plain records the parsers produce from a Document; the dataset writer turns them into
Arrow tables.  Nothing here knows about files, Dagster or Parquet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class PlanMeta:
    province: str | None = None
    issuer: str | None = None
    issuer_level: str | None = None  # central | province | department | other
    doc_type: str | None = None  # type code of the document: KH, QĐ, CV, BC, TB …
    doc_number: str | None = None
    #: the symbol of the number as printed ("KH-SYT" of "179/KH-SYT", "KH/TU" of "07-KH/TU"), also
    #: when the number itself is blank or unsure; judged and flagged on its own
    doc_symbol: str | None = None
    issue_date: date | None = None
    issue_date_precision: str | None = None  # "day" | "month" | "year"
    plan_year: int | None = None
    plan_period_start: int | None = None
    plan_period_end: int | None = None
    title: str | None = None
    signer_name: str | None = None
    signer_title: str | None = None
    #: a KẾ HOẠCH block was found (a Quyết định or Công văn that carries a plan)
    plan_heading: bool = False
    #: the plan states its year/period (title or issuing sentence); else it is the issue year's
    period_stated: bool = False
    #: field name -> OCR confidence (0-100) of the line it was read from, when below trust.
    low_confidence: dict[str, float] = field(default_factory=dict)


@dataclass
class TaskRow:
    seq: int = 0
    source: str = "appendix"  # "appendix" | "body"
    section_code: str | None = None
    section_title: str | None = None
    item: str | None = None
    objective: str | None = None
    task: str | None = None
    activity: str | None = None
    solution: str | None = None
    product: str | None = None
    lead_units_raw: str | None = None
    coordinating_units_raw: str | None = None
    monitoring_units_raw: str | None = None
    deadline_raw: str | None = None
    budget_raw: str | None = None
    page_start: int | None = None
    page_end: int | None = None
    table_index: int | None = None  # which task table of the plan the row came from
    confidence: float | None = None  # mean OCR confidence of the row's cells
    #: header -> text of the row's cells in columns no field holds (no role, or a role such
    #: as "responsible_head" or "note" without a field): kept, not dropped
    extra: dict[str, str] = field(default_factory=dict)
    table_id: str | None = None  # "p<page>-t<k>" of the table's first piece
    #: the cells the row was read from: page, row, col, role, x0, top, x1, bottom
    source_cells: list[dict] = field(default_factory=list)


@dataclass
class ParsedPlan:
    meta: PlanMeta
    tasks: list[TaskRow]
    has_appendix: bool = False
    warnings: list[str] = field(default_factory=list)
    tables: list = field(default_factory=list)  # parsers.tables.TableReport per table with a header
