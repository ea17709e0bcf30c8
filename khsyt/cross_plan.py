"""Datasets built across plans after the per-plan files are published: ``units``,
``plan_versions`` (which copy of a document is preferred) and ``review_queue`` (what needs
a human look, over every plan).  The Dagster assets and the CLI both call these."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import snapshots
from .corrections import UNIT_FIELDS, status_of_all
from .datasets import CROSS_PLAN, read_rows, write_whole
from .document_key import copy_rank
from .flags import guessed_units
from .units_dataset import build_units


def build_plan_versions(plans: list[dict[str, Any]]) -> pa.Table:
    """One row per published copy; ``preferred`` marks one copy per ``document_key``."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for p in plans:
        groups[p.get("document_key") or f"plan:{p['plan_id']}"].append(p)
    rows = []
    for key, copies in sorted(groups.items()):
        for rank, p in enumerate(sorted(copies, key=copy_rank)):
            rows.append({"document_key": key, "plan_id": p["plan_id"], "partition_key": p["partition_key"],
                         "source_path": p.get("source_path"), "source_format": p.get("source_format"),
                         "ocr_pages": p.get("ocr_pages"), "n_tasks": p.get("n_tasks"), "copies": len(copies),
                         "rank": rank, "preferred": rank == 0})
    return pa.Table.from_pylist(rows, schema=CROSS_PLAN["plan_versions"])


def _item(kind: str, plan: dict | None, task: dict | None = None, field: str | None = None, value: Any = None,
          detail: str = "", partition_key: str | None = None, page: int | None = None) -> dict[str, Any]:
    pk = partition_key or (plan or {}).get("partition_key")
    ident = "\x1f".join(str(x) for x in (kind, pk, (task or {}).get("task_id"), field, value))
    return {"item_id": hashlib.sha256(ident.encode()).hexdigest()[:12], "kind": kind, "partition_key": pk,
            "plan_id": (plan or {}).get("plan_id"), "document_key": (plan or {}).get("document_key"),
            "task_id": (task or {}).get("task_id"), "field": field,
            "value": None if value is None else str(value), "detail": detail,
            "page": page if page is not None else (task or {}).get("page_start")}


def build_review_queue(curated: Path, corrections_dir: Path | None, versions: pa.Table | None = None) -> pa.Table:
    """What needs a look: rejects, stale corrections, and on the preferred copy of each
    document the low-confidence fields, tasks without a lead unit or deadline, unknown units
    units resolved by an approximate match and low-confidence tasks — minus what a correction
    or an acceptance already settled."""
    plans = read_rows(curated, "plans")
    tasks = read_rows(curated, "tasks")
    versions = versions if versions is not None else build_plan_versions(plans)
    preferred = {r["plan_id"] for r in versions.to_pylist() if r["preferred"]}
    outcomes = status_of_all(corrections_dir, plans, tasks, preferred)
    settled = {(o.plan_id, o.task_id, o.correction.field) for o in outcomes if o.status != "stale"}
    items = [_item("rejected", None, detail=f"[{r['stage']}] {r['reason']}", partition_key=r["partition_key"],
                   value=r["source_path"]) for r in read_rows(curated, "rejects")]
    by_plan = {p["plan_id"]: p for p in plans}
    for o in outcomes:
        if o.status == "stale":
            c = o.correction
            plan = by_plan.get(o.plan_id) or next((p for p in plans if p.get("document_key") == c.document_key), None)
            items.append(_item("stale_correction", plan, None, c.field, c.new,
                               f"{o.detail} (correction {c.id} by {c.who} on {c.when}; task seq {c.seq})"))
    for p in plans:
        if p["plan_id"] not in preferred:
            continue
        for f in p.get("low_confidence_fields") or []:
            if (p["plan_id"], None, f) not in settled:
                items.append(_item("low_confidence_field", p, None, f, p.get(f),
                                   "header field read with low confidence", page=1))
    for t in tasks:
        p = by_plan.get(t["plan_id"])
        if p is None or t["plan_id"] not in preferred:
            continue
        def open_(field: str, t: dict = t) -> bool:
            return (t["plan_id"], t["task_id"], field) not in settled
        if not t.get("lead_units") and open_("lead_units"):
            items.append(_item("no_lead_unit", p, t, "lead_units", t.get("lead_units_raw"), "task without a lead unit"))
        if not t.get("deadline_raw") and open_("deadline_raw"):
            items.append(_item("no_deadline", p, t, "deadline_raw", None, "task without a deadline"))
        for u in t.get("unknown_units") or []:
            field = next((f for f in UNIT_FIELDS if u in (t.get(f) or [])), "lead_units")
            if open_(field):
                items.append(_item("unknown_unit", p, t, field, u, "unit not in the registry"))
        for field, name, raw, score in guessed_units(t, p.get("province")):
            if open_(field):
                items.append(_item("unit_guess", p, t, field, name,
                                   f"'{raw}' read as '{name}' by an approximate match (score {score:.0f})"))
        if t.get("low_confidence") and open_("task"):
            items.append(_item("low_confidence_task", p, t, "task", t.get("task"), "OCR confidence below threshold"))
    return pa.Table.from_pylist(items, schema=CROSS_PLAN["review_queue"])


def write_cross_plan(curated: Path, corrections_dir: Path | None) -> dict[str, pa.Table]:
    """Rebuild and publish units, plan_versions and review_queue from the per-plan files."""
    versions = build_plan_versions(read_rows(curated, "plans"))
    tables = {"units": build_units(curated), "plan_versions": versions,
              "review_queue": build_review_queue(curated, corrections_dir, versions)}
    for name, table in tables.items():
        write_whole(curated, name, table)
    snapshots.publish(curated)  # the end of a batch: its plans and these files switch in together
    return tables
