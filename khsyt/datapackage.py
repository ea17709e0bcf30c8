"""The machine-readable data dictionary: a Frictionless Data Package generated from the Arrow
schemas in :mod:`khsyt.datasets` (types) and the column tables of docs/datasets.md (meanings).

``python -m khsyt.datapackage --out docs/datapackage.json`` (``make datapackage``); a test
checks the committed file is what the code generates, and that every column is documented.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import __version__
from .datasets import CROSS_PLAN, PER_PLAN, SCHEMA_VERSION, SCHEMAS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "datasets.md"


def all_schemas() -> dict[str, pa.Schema]:
    from .units_dataset import UNITS_SCHEMA

    return {**SCHEMAS, "units": UNITS_SCHEMA, **CROSS_PLAN}


def frictionless_type(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "number"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "array"
    if pa.types.is_struct(t):
        return "object"
    return "any"


def documented_columns(md: str) -> dict[str, dict[str, str]]:
    """dataset → column → meaning, from the ``## name — …`` sections' tables."""
    out: dict[str, dict[str, str]] = {}
    current = None
    for line in md.splitlines():
        h = re.match(r"##\s+(\w+)\s+—", line)
        if h:
            current = out.setdefault(h.group(1), {})
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if current is None or len(cells) < 3 or cells[0] in ("column", "") or set(cells[0]) <= {"-"}:
            continue
        for name in (n.strip() for n in cells[0].split(",")):
            current[name] = cells[2]
    return out


def path_of(name: str) -> str:
    return f"{name}/*.parquet" if name in (*PER_PLAN, "rejects") else f"{name}/{name}.parquet"


def build(docs: Path = DOCS) -> dict[str, Any]:
    meanings = documented_columns(docs.read_text(encoding="utf-8"))
    resources = []
    for name, schema in all_schemas().items():
        doc = meanings.get(name, {})
        resources.append({
            "name": name,
            "path": path_of(name),
            "format": "parquet",
            "mediatype": "application/vnd.apache.parquet",
            "schema": {"fields": [{"name": f.name, "type": frictionless_type(f.type), "arrowType": str(f.type),
                                   "description": doc.get(f.name, "")} for f in schema]},
        })
    return {
        "name": "khsyt-curated",
        "title": "khsyt: Vietnamese provincial health-department plans as curated datasets",
        "version": SCHEMA_VERSION,
        "schema_version": SCHEMA_VERSION,
        "created_by": f"khsyt {__version__}",
        "description": "One Parquet folder per dataset; the contract is docs/datasets.md.",
        "resources": resources,
    }


def undocumented(docs: Path = DOCS) -> list[str]:
    """``dataset.column`` of every column without a line in docs/datasets.md."""
    meanings = documented_columns(docs.read_text(encoding="utf-8"))
    return [f"{n}.{f.name}" for n, s in all_schemas().items() for f in s if f.name not in meanings.get(n, {})]


def render(pkg: dict[str, Any]) -> str:
    return json.dumps(pkg, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/datapackage.json")
    a = ap.parse_args(argv)
    missing = undocumented()
    if missing:
        print("columns missing from docs/datasets.md: " + ", ".join(missing), file=sys.stderr)
        return 1
    Path(a.out).write_text(render(build()), encoding="utf-8")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
