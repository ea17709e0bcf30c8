"""The ``units`` dataset: one row per (province, canonical unit) across all curated plans."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from parsers.units import normalize_units

from .datasets import read_rows

UNITS_SCHEMA = pa.schema([
    ("province", pa.string()),
    ("unit", pa.string()),
    ("kind", pa.string()),
    ("known", pa.bool_()),
    ("raw_spellings", pa.list_(pa.string())),
    ("tasks_led", pa.int32()),
    ("tasks_coordinated", pa.int32()),
    ("plans", pa.int32()),
])


def _read(curated: Path | str, name: str, columns: list[str]) -> list[dict]:
    """The columns of every plan's current rows (through the manifests, so a rebuild right
    after a publication sees it before the documented view is switched)."""
    return [{c: r[c] for c in columns} for r in read_rows(curated, name, columns)]


def build_units(curated: Path) -> pa.Table:
    plan_rows = _read(curated, "plans", ["plan_id", "province", "issuer_level"])
    plans = {p["plan_id"]: p["province"] for p in plan_rows}
    levels = {p["plan_id"]: p.get("issuer_level") for p in plan_rows}
    tasks = _read(curated, "tasks", ["plan_id", "lead_units_raw", "coordinating_units_raw", "monitoring_units_raw"])
    acc: dict[tuple[str | None, str], dict] = {}
    # Plans repeat the same unit lists over and over: normalise each distinct (text, province,
    # issuer level) once, so a rebuild costs a scan of the tasks plus work on the distinct strings only.
    memo: dict[tuple[str | None, str | None, str | None], list] = {}
    for t in tasks:
        province = plans.get(t["plan_id"])
        for field, counter in (("lead_units_raw", "tasks_led"), ("coordinating_units_raw", "tasks_coordinated"),
                               ("monitoring_units_raw", None)):
            seen: set[str] = set()
            key = (t[field], province, levels.get(t["plan_id"]))
            if key not in memo:
                memo[key] = normalize_units(t[field], province=province, issuer_level=key[2])
            for m in memo[key]:
                row = acc.setdefault((province, m.name), {
                    "province": province, "unit": m.name, "kind": m.kind, "known": m.known,
                    "raw_spellings": set(), "tasks_led": 0, "tasks_coordinated": 0, "plans": set()})
                row["raw_spellings"].add(m.raw)
                row["plans"].add(t["plan_id"])
                if counter and m.name not in seen:
                    row[counter] += 1
                seen.add(m.name)
    rows = []
    for r in acc.values():
        rows.append({**r, "raw_spellings": sorted(s for s in r["raw_spellings"] if s), "plans": len(r["plans"])})
    rows.sort(key=lambda r: (r["province"] or "", -r["tasks_led"], r["unit"]))
    return pa.Table.from_pylist(rows, schema=UNITS_SCHEMA)
