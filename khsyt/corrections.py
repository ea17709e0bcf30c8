"""Analysts' corrections: stored as data, re-applied every time a plan is published.

One append-only JSON-lines file per document in ``data/corrections/`` (named by the plan's
``document_key``), one record per decision: who, when, which value was seen (``old``), what
it should be (``new``) and why.  A record is anchored by what survives re-extraction — the
document key and the task's text fingerprint (plus its ``table_id``/row when the extractor
gave them) — never by a row number alone.

At publication (:func:`publish`, the single point where rows are written) each record is
matched against the fresh rows:

- the anchor is found and the field still holds ``old`` → the correction is applied and the
  field name is added to the row's ``corrected_fields``;
- the field already holds ``new`` → nothing to do (the extractor now gets it right);
- the anchor is gone or the field holds a third value → the record is **stale**: it is not
  applied, and the review queue lists it with the reason, for a human to redo or drop.

The latest record per (anchor, field) wins; ``accept`` records say a value was checked and
is right (they remove the item from the queue while the value stays what was accepted).
"""

from __future__ import annotations

import getpass
import json
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa

from .datasets import SCHEMAS, write_plan
from .document_key import task_fingerprint
from .results import Extracted, Rejected

#: Fields an analyst may correct, per dataset (identifiers and provenance are not corrections).
CORRECTABLE = {
    "tasks": ("section_code", "section_title", "item", "objective", "task", "activity", "solution", "product",
              "lead_units", "coordinating_units", "monitoring_units", "deadline_raw", "budget_million_vnd", "area"),
    "plans": ("province", "province_current", "issuer", "doc_number", "doc_symbol", "issue_date", "plan_year",
              "plan_period_start", "plan_period_end", "title", "signer_name", "signer_title"),
}
UNIT_FIELDS = ("lead_units", "coordinating_units", "monitoring_units")
ACTIONS = ("correct", "accept")


@dataclass
class Correction:
    document_key: str
    dataset: str  # "tasks" or "plans"
    field: str
    old: Any
    new: Any
    action: str = "correct"
    fingerprint: str | None = None  # task text fingerprint (tasks only)
    table_id: str | None = None
    row: int | None = None
    seq: int | None = None  # the task's seq when corrected: shown to people, not used to match
    plan_id: str | None = None  # the copy the analyst looked at
    who: str = ""
    why: str = ""
    when: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def anchor(self) -> tuple:
        return (self.dataset, self.fingerprint, self.table_id, self.row, self.field)


@dataclass
class Outcome:
    correction: Correction
    status: str  # "applied", "already", "stale"
    detail: str = ""
    plan_id: str | None = None
    task_id: str | None = None


# ---------------------------------------------------------------- values

def to_json_value(v: Any) -> Any:
    """A dataset value as JSON (dates as ISO text, numpy/arrow scalars as Python)."""
    if v is None:
        return None
    if isinstance(v, datetime | date):
        return v.isoformat()
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, list | tuple):
        return [to_json_value(x) for x in v]
    return v


def parse_value(dataset: str, name: str, text: Any) -> Any:
    """What an analyst typed (or a CSV cell) → the column's type.  Lists are split on ";"."""
    typ = SCHEMAS[dataset].field(name).type
    if isinstance(text, list):
        return [str(x).strip() for x in text if str(x).strip()]
    s = "" if text is None else str(text).strip()
    if pa.types.is_list(typ):
        return [p.strip() for p in re.split(r"[;\n]", s) if p.strip()]
    if not s:
        return None
    if pa.types.is_integer(typ):
        return int(s)
    if pa.types.is_floating(typ):
        return float(s.replace(",", "."))
    if pa.types.is_date(typ):
        return date.fromisoformat(s).isoformat()
    return s


def same(a: Any, b: Any) -> bool:
    return to_json_value(a) == to_json_value(b)


# ---------------------------------------------------------------- storage

def _file_for(corrections_dir: Path, document_key: str) -> Path:
    return Path(corrections_dir) / (re.sub(r"[^0-9A-Za-z_.-]+", "_", document_key).strip("_") + ".jsonl")


def append(corrections_dir: Path, c: Correction) -> Correction:
    """Add one record to its document's file (created on first use); never rewrites a line."""
    if c.dataset not in CORRECTABLE or c.field not in CORRECTABLE[c.dataset]:
        raise ValueError(f"{c.dataset}.{c.field} cannot be corrected; correctable: {CORRECTABLE.get(c.dataset)}")
    if c.action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}")
    c.when = c.when or datetime.now(UTC).isoformat(timespec="seconds")
    c.who = c.who or os.environ.get("KHSYT_REVIEWER") or getpass.getuser()
    c.old, c.new = to_json_value(c.old), to_json_value(c.new)
    path = _file_for(corrections_dir, c.document_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
    return c


def load(corrections_dir: Path | None, document_key: str | None = None) -> list[Correction]:
    """Every record (of one document), oldest first; the latest per anchor is the one that counts."""
    if corrections_dir is None or not Path(corrections_dir).is_dir():
        return []
    d = Path(corrections_dir)
    files = [_file_for(d, document_key)] if document_key else sorted(d.glob("*.jsonl"))
    out = []
    names = set(Correction.__dataclass_fields__)
    for f in files:
        if not f.exists():
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(Correction(**{k: v for k, v in json.loads(line).items() if k in names}))
    return out


def latest(records: Iterable[Correction]) -> list[Correction]:
    """The latest record per anchor.  A record made over an applied one (its ``old`` is the
    earlier ``new``) keeps the extracted value as its ``old``, so it still fits a fresh run."""
    last: dict[tuple, Correction] = {}
    for c in records:
        k = (c.document_key, *c.anchor)
        prev = last.get(k)
        if prev is not None and same(c.old, prev.new):
            c = replace(c, old=prev.old)
        last[k] = c
    return list(last.values())


# ---------------------------------------------------------------- matching and applying

def find_task(c: Correction, tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    hits = [t for t in tasks if task_fingerprint(t) == c.fingerprint]
    if len(hits) > 1 and c.table_id is not None:
        hits = [t for t in hits if t.get("table_id") == c.table_id and (c.row is None or _row_of(t) == c.row)]
    return hits[0] if len(hits) == 1 else None


def _row_of(task: dict[str, Any]) -> int | None:
    cells = task.get("source_cells") or []
    return cells[0].get("row") if cells else None


def evaluate(c: Correction, plan: dict[str, Any], tasks: list[dict[str, Any]]) -> tuple[Outcome, dict | None]:
    """Where a record lands in one copy's rows, and whether it still fits (no change made)."""
    row = plan if c.dataset == "plans" else find_task(c, tasks)
    base = {"plan_id": plan.get("plan_id"), "task_id": row.get("task_id") if row and c.dataset == "tasks" else None}
    if row is None:
        return Outcome(c, "stale", "task not found: its text changed or it was removed", **base), None
    current = row.get(c.field)
    if same(current, c.new):
        return Outcome(c, "already", "", **base), row
    if c.action == "correct" and same(current, c.old):
        return Outcome(c, "applied", "", **base), row
    what = "correction" if c.action == "correct" else "acceptance"
    return Outcome(c, "stale", f"value changed since the {what}: was {c.old!r}, now {to_json_value(current)!r}",
                   **base), None


def apply(result: Extracted, records: list[Correction]) -> tuple[Extracted, list[Outcome]]:
    """Apply the fitting records to a fresh extraction (in place); every record's outcome."""
    for row in (result.plan, *result.tasks):
        row["corrected_fields"] = list(row.get("corrected_fields") or [])
    outcomes = []
    for c in latest(records):
        out, row = evaluate(c, result.plan, result.tasks)
        if out.status == "applied" and c.action == "correct" and row is not None:
            old = row.get(c.field)
            row[c.field] = parse_value(c.dataset, c.field, c.new)
            if c.field in UNIT_FIELDS:
                dropped = set(old or []) - set(row[c.field])
                row["unknown_units"] = [u for u in (row.get("unknown_units") or []) if u not in dropped]
            if c.field not in row["corrected_fields"]:
                row["corrected_fields"].append(c.field)
        outcomes.append(out)
    result.plan["corrected_fields"] = sorted(result.plan["corrected_fields"])
    return result, outcomes


class Published(NamedTuple):
    """What one publication did: the corrections' outcomes and the schema of each file
    written from new rows, by dataset (``datasets.write_plan``)."""
    outcomes: list[Outcome]
    written: dict[str, pa.Schema]


def publish(out_dir: Path, key: str, result: Extracted | Rejected,
            corrections_dir: Path | None) -> Published:
    """Apply the document's corrections, then write the plan's rows: the one publication
    point of the CLI and the Dagster assets."""
    outcomes: list[Outcome] = []
    if isinstance(result, Extracted):
        result, outcomes = apply(result, load(corrections_dir, result.plan.get("document_key")))
    return Published(outcomes, write_plan(out_dir, key, result))


def status_of_all(corrections_dir: Path | None, plans: list[dict], tasks: list[dict],
                  preferred: set[str] | None = None) -> list[Outcome]:
    """Every latest record's status against the published rows (for the review queue).

    After publication an applied record's field holds ``new`` (status "already"); a record
    whose document is no longer published is stale.  Among a document's copies the
    ``preferred`` plan ids are tried first, so the outcome names the copy the queue shows.
    """
    by_key: dict[str, list[dict]] = {}
    for p in plans:
        by_key.setdefault(p.get("document_key") or "", []).append(p)
    tasks_of: dict[str, list[dict]] = {}
    for t in tasks:
        tasks_of.setdefault(t["plan_id"], []).append(t)
    out = []
    for c in latest(load(corrections_dir)):
        copies = sorted(by_key.get(c.document_key, []), key=lambda p: p["plan_id"] not in (preferred or ()))
        if not copies:
            out.append(Outcome(c, "stale", "no published plan has this document key any more"))
            continue
        results = [evaluate(c, p, tasks_of.get(p["plan_id"], []))[0] for p in copies]
        good = [r for r in results if r.status != "stale"]
        out.append(good[0] if good else results[0])
    return out


def new_correction(dataset: str, fieldname: str, new_text: Any, *, plan: dict, task: dict | None = None,
                   action: str = "correct", who: str = "", why: str = "") -> Correction:
    """A record for a value seen in the published rows (``old`` = what the row holds now)."""
    row = task if dataset == "tasks" else plan
    if row is None:
        raise ValueError("a task correction needs the task")
    old = row.get(fieldname)
    new = parse_value(dataset, fieldname, new_text) if action == "correct" else to_json_value(old)
    cells = (task or {}).get("source_cells") or []
    return Correction(
        document_key=plan["document_key"], dataset=dataset, field=fieldname, old=old, new=new, action=action,
        fingerprint=task_fingerprint(task) if task else None, table_id=(task or {}).get("table_id"),
        row=cells[0].get("row") if cells else None, seq=(task or {}).get("seq"), plan_id=plan.get("plan_id"),
        who=who, why=why)


def promote_unit_alias(raw: str, canonical: str, registry: Path | None = None) -> Path:
    """Add ``raw`` to the aliases of the registry unit ``canonical`` (parsers/data/units.yaml),
    editing the line in place so the analysts' comments and layout stay.  The registry is
    read once per process: the next run normalises every plan with the new alias."""
    import yaml

    from parsers._text import DATA_DIR

    path = Path(registry) if registry else Path(DATA_DIR) / "units.yaml"
    text = path.read_text(encoding="utf-8")
    units = (yaml.safe_load(text) or {}).get("units") or []
    entry = next((u for u in units if u.get("name") == canonical), None)
    if entry is None:
        raise ValueError(f"{canonical!r} is not a unit of {path}; add it there first")
    if raw in (entry.get("aliases") or []) or raw == canonical:
        return path
    lines = text.splitlines(keepends=True)
    name_line = re.compile(rf"\s*- name:\s*['\"]?{re.escape(canonical)}['\"]?\s*$")
    start = next(i for i, ln in enumerate(lines) if name_line.match(ln))
    for i in range(start + 1, len(lines)):
        m = re.match(r"(\s*aliases:\s*)\[(.*)\](\s*)$", lines[i])
        if m:
            items = [x for x in m.group(2).split(",") if x.strip()]
            forms = [*(x.strip() for x in items), json.dumps(raw, ensure_ascii=False)]
            lines[i] = f"{m.group(1)}[{', '.join(forms)}]\n"
            break
        if re.match(r"\s*- name:", lines[i]):
            indent = re.match(r"(\s*)-", lines[start]).group(1) + "  "
            lines.insert(i, f"{indent}aliases: [{json.dumps(raw, ensure_ascii=False)}]\n")
            break
    else:
        raise ValueError(f"could not find where to add the alias in {path}")
    new_text = "".join(lines)
    after = next(u for u in yaml.safe_load(new_text)["units"] if u.get("name") == canonical)
    if raw not in (after.get("aliases") or []):
        raise ValueError(f"the edit of {path} did not give the alias; registry left unchanged")
    path.write_text(new_text, encoding="utf-8")
    return path


def pending_keys(corrections_dir: Path | None, curated: Path) -> set[str]:
    """Partition keys whose published rows are older than a correction of their document:
    they need a publication for the correction to reach the datasets (the bytes may not
    have changed, so a freshness check on the file alone would skip them)."""
    records = load(corrections_dir)
    if not records:
        return set()
    from .cross_plan import read_rows

    newest: dict[str, datetime] = {}
    for c in records:
        when = datetime.fromisoformat(c.when)
        newest[c.document_key] = max(newest.get(c.document_key, when), when)
    out = set()
    for p in read_rows(curated, "plans", ["document_key", "extracted_at"]):
        when = newest.get(p.get("document_key") or "")
        if when is not None and (p["extracted_at"] is None or when > p["extracted_at"]):
            out.add(p["partition_key"])
    return out
