"""Parsed plan → the rows of every curated dataset, with the normalised columns filled.

The parsers give raw text; here each task gets its canonical units, deadline milestones,
budget in million VND and reform area, and the plan its current province and legal
references.  Columns and types are the contract written down in docs/datasets.md.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from extractors.model import Document
from parsers.areas import classify_area
from parsers.deadlines import parse_deadlines
from parsers.legal_refs import find_legal_refs
from parsers.numbers import parse_budget_million_vnd
from parsers.provinces import current_province
from parsers.records import ParsedPlan, TaskRow
from parsers.units import normalize_units

from .document_key import document_key, task_text
from .results import Extracted

#: Below this mean OCR confidence (0-100) a task or a field is flagged for review.
LOW_CONFIDENCE = 60.0


def _units(raw: str | None, province: str | None, issuer_level: str | None = None) -> tuple[list[str], list[str]]:
    matches = normalize_units(raw, province=province, issuer_level=issuer_level)
    return [m.name for m in matches], [m.name for m in matches if not m.known]


def _deadlines(raw: str | None, period: tuple[int, int] | None, year: int | None) -> list[dict[str, Any]]:
    out = []
    for m in parse_deadlines(raw, plan_period=period, default_year=year):
        out.append({"label": m.label, "kind": m.kind, "start": m.start, "end": m.end, "recurrence": m.recurrence})
    return out


def task_row(plan_id: str, t: TaskRow, province: str | None, period: tuple[int, int] | None,
             year: int | None, issuer_level: str | None = None) -> dict[str, Any]:
    lead, lead_unknown = _units(t.lead_units_raw, province, issuer_level)
    coord, coord_unknown = _units(t.coordinating_units_raw, province, issuer_level)
    mon, mon_unknown = _units(t.monitoring_units_raw, province, issuer_level)
    return {
        "plan_id": plan_id,
        "task_id": f"{plan_id}-{t.seq:04d}",
        "seq": t.seq,
        "source": t.source,
        "section_code": t.section_code,
        "section_title": t.section_title,
        "item": t.item,
        "objective": t.objective,
        "task": t.task,
        "activity": t.activity,
        "solution": t.solution,
        "product": t.product,
        "lead_units_raw": t.lead_units_raw,
        "coordinating_units_raw": t.coordinating_units_raw,
        "monitoring_units_raw": t.monitoring_units_raw,
        "deadline_raw": t.deadline_raw,
        "budget_raw": t.budget_raw,
        "budget_million_vnd": parse_budget_million_vnd(t.budget_raw),
        "page_start": t.page_start,
        "page_end": t.page_end,
        "lead_units": lead,
        "coordinating_units": coord,
        "monitoring_units": mon,
        "unknown_units": sorted(set(lead_unknown + coord_unknown + mon_unknown)),
        "deadlines": _deadlines(t.deadline_raw, period, year),
        "area": classify_area(t.section_title, " ".join(x for x in (t.objective, t.task, t.activity) if x)),
        "ocr_confidence": t.confidence,
        "low_confidence": t.confidence is not None and t.confidence < LOW_CONFIDENCE,
        "table_id": t.table_id,
        "source_cells": list(t.source_cells),
        "extra": sorted(t.extra.items()),
    }


def table_rows(plan_id: str, parsed: ParsedPlan) -> list[dict[str, Any]]:
    """One row per table with a header: the parser's account of it (``tables`` dataset)."""
    out = []
    for r in parsed.tables:
        row = asdict(r)
        row["plan_id"] = plan_id
        out.append(row)
    return out


def page_rows(plan_id: str, doc: Document) -> list[dict[str, Any]]:
    return [
        {
            "plan_id": plan_id,
            "page": p.number,
            "method": p.method,
            "rotation": p.rotation,
            "text": p.text(),
            "ocr_confidence": p.confidence,
            "n_tables": len(p.tables),
        }
        for p in doc.pages
    ]


def legal_ref_rows(plan_id: str, doc: Document) -> list[dict[str, Any]]:
    text = "\n".join(p.text() for p in doc.pages)
    rows = []
    for r in find_legal_refs(text):
        rows.append({
            "plan_id": plan_id,
            "doc_type": r.doc_type,
            "number": r.number,
            "year": r.year,
            "issuer_code": r.issuer_code,
            "issue_date": r.issue_date,
            "raw": r.raw,
            "sentence": r.sentence,
        })
    return rows


def normalise_plan(doc: Document, parsed: ParsedPlan, *, plan_id: str, source_path: str, sha256: str,
                   extracted_at: datetime, version: str) -> Extracted:
    m = parsed.meta
    period = (m.plan_period_start, m.plan_period_end) if m.plan_period_start and m.plan_period_end else None
    ocr_confs = [p.confidence for p in doc.pages if p.confidence is not None]
    plan = {
        "plan_id": plan_id,
        "source_path": source_path,
        "source_sha256": sha256,
        "source_format": doc.source_format,
        "pages": len(doc.pages),
        "province": m.province,
        "province_current": current_province(m.province),
        "issuer": m.issuer,
        "issuer_level": m.issuer_level,
        "doc_type": m.doc_type,
        "doc_number": m.doc_number,
        "doc_symbol": m.doc_symbol,
        "issue_date": m.issue_date,
        "issue_date_precision": m.issue_date_precision,
        "plan_year": m.plan_year,
        "plan_period_start": m.plan_period_start,
        "plan_period_end": m.plan_period_end,
        "title": m.title,
        "signer_name": m.signer_name,
        "signer_title": m.signer_title,
        "has_appendix": parsed.has_appendix,
        "n_tasks": len(parsed.tasks),
        "ocr_pages": sum(1 for p in doc.pages if p.method == "ocr"),
        "ocr_confidence": sum(ocr_confs) / len(ocr_confs) if ocr_confs else None,
        "low_confidence_fields": sorted(m.low_confidence),
        "corrected_fields": [],
        "extracted_at": extracted_at,
        "pipeline_version": version,
    }
    tasks = [task_row(plan_id, t, m.province, period, m.plan_year, m.issuer_level) for t in parsed.tasks]
    plan["document_key"] = document_key(plan, (task_text(t) for t in tasks))
    return Extracted(plan=plan, tasks=tasks, pages=page_rows(plan_id, doc), legal_refs=legal_ref_rows(plan_id, doc),
                     tables=table_rows(plan_id, parsed), warnings=parsed.warnings,
                     low_confidence=dict(m.low_confidence))
