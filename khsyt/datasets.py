"""Curated datasets: Arrow schemas (the contract in docs/datasets.md) and the writer.

Each dataset is a directory of Parquet files, one file per plan file (named by its
partition key), so that re-extracting a plan replaces exactly its rows and a deleted plan
file's rows are retired by deleting one file.  Every write goes to a temporary file in
the same directory and is renamed into place: a reader (DuckDB, pandas) sees the old file
or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .results import Extracted, Rejected

DEADLINE = pa.struct([
    ("label", pa.string()),
    ("kind", pa.string()),
    ("start", pa.date32()),
    ("end", pa.date32()),
    ("recurrence", pa.string()),
])
#: One cell a task row was read from (boxes null for sources without geometry).
SOURCE_CELL = pa.struct([
    ("page", pa.int32()),
    ("row", pa.int32()),
    ("col", pa.int32()),
    ("role", pa.string()),
    ("x0", pa.float64()),
    ("top", pa.float64()),
    ("x1", pa.float64()),
    ("bottom", pa.float64()),
])
#: One column of a table as the parser read it (the ``tables`` dataset).
TABLE_COLUMN = pa.struct([
    ("col", pa.int32()),
    ("header", pa.string()),
    ("role", pa.string()),
    ("evidence", pa.string()),
])

SCHEMAS: dict[str, pa.Schema] = {
    "plans": pa.schema([
        ("plan_id", pa.string()),
        ("source_path", pa.string()),
        ("source_sha256", pa.string()),
        ("source_format", pa.string()),
        ("pages", pa.int32()),
        ("province", pa.string()),
        ("province_current", pa.string()),
        ("issuer", pa.string()),
        ("doc_number", pa.string()),
        ("issue_date", pa.date32()),
        ("issue_date_precision", pa.string()),
        ("plan_year", pa.int32()),
        ("plan_period_start", pa.int32()),
        ("plan_period_end", pa.int32()),
        ("title", pa.string()),
        ("signer_name", pa.string()),
        ("signer_title", pa.string()),
        ("has_appendix", pa.bool_()),
        ("n_tasks", pa.int32()),
        ("ocr_pages", pa.int32()),
        ("ocr_confidence", pa.float64()),
        ("low_confidence_fields", pa.list_(pa.string())),
        ("extracted_at", pa.timestamp("us", tz="UTC")),
        ("pipeline_version", pa.string()),
    ]),
    "tasks": pa.schema([
        ("plan_id", pa.string()),
        ("task_id", pa.string()),
        ("seq", pa.int32()),
        ("source", pa.string()),
        ("section_code", pa.string()),
        ("section_title", pa.string()),
        ("item", pa.string()),
        ("objective", pa.string()),
        ("task", pa.string()),
        ("activity", pa.string()),
        ("solution", pa.string()),
        ("product", pa.string()),
        ("lead_units_raw", pa.string()),
        ("coordinating_units_raw", pa.string()),
        ("monitoring_units_raw", pa.string()),
        ("deadline_raw", pa.string()),
        ("budget_raw", pa.string()),
        ("budget_million_vnd", pa.float64()),
        ("page_start", pa.int32()),
        ("page_end", pa.int32()),
        ("lead_units", pa.list_(pa.string())),
        ("coordinating_units", pa.list_(pa.string())),
        ("monitoring_units", pa.list_(pa.string())),
        ("unknown_units", pa.list_(pa.string())),
        ("deadlines", pa.list_(DEADLINE)),
        ("area", pa.string()),
        ("ocr_confidence", pa.float64()),
        ("low_confidence", pa.bool_()),
        ("table_id", pa.string()),
        ("source_cells", pa.list_(SOURCE_CELL)),
        ("extra", pa.map_(pa.string(), pa.string())),
    ]),
    "pages": pa.schema([
        ("plan_id", pa.string()),
        ("page", pa.int32()),
        ("method", pa.string()),
        ("rotation", pa.int32()),
        ("text", pa.string()),
        ("ocr_confidence", pa.float64()),
        ("n_tables", pa.int32()),
    ]),
    "legal_refs": pa.schema([
        ("plan_id", pa.string()),
        ("doc_type", pa.string()),
        ("number", pa.string()),
        ("year", pa.int32()),
        ("issuer_code", pa.string()),
        ("issue_date", pa.date32()),
        ("raw", pa.string()),
        ("sentence", pa.string()),
    ]),
    "tables": pa.schema([
        ("plan_id", pa.string()),
        ("table_id", pa.string()),
        ("pages", pa.list_(pa.int32())),
        ("is_task_table", pa.bool_()),
        ("rows", pa.int32()),
        ("tasks", pa.int32()),
        ("columns", pa.list_(TABLE_COLUMN)),
        ("rows_joined", pa.int32()),
        ("cells_filled_down", pa.int32()),
        ("header_rows_dropped", pa.int32()),
        ("group_rows", pa.int32()),
        ("columns_without_role", pa.list_(pa.string())),
        ("warnings", pa.list_(pa.string())),
    ]),
    "rejects": pa.schema([
        ("source_path", pa.string()),
        ("source_sha256", pa.string()),
        ("partition_key", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("rejected_at", pa.timestamp("us", tz="UTC")),
        ("pipeline_version", pa.string()),
    ]),
}

#: Datasets with one file per plan file.
PER_PLAN = ("plans", "tasks", "pages", "legal_refs", "tables")


def to_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = SCHEMAS[name]
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write a Parquet file beside its destination, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove(out_dir: Path, name: str, key: str) -> None:
    (Path(out_dir) / name / f"{key}.parquet").unlink(missing_ok=True)


def write_plan(out_dir: Path, key: str, result: Extracted | Rejected) -> None:
    """Publish one plan file's rows, replacing what an earlier run wrote for the same file.

    A rejected file keeps the rows of its last good extraction (nothing good is replaced
    by nothing); its rejects row says why the new version could not be read.
    """
    out_dir = Path(out_dir)
    if isinstance(result, Rejected):
        write_atomic(to_table("rejects", [result.as_row()]), out_dir / "rejects" / f"{key}.parquet")
        return
    tables = {
        "plans": to_table("plans", [result.plan]),
        "tasks": to_table("tasks", result.tasks),
        "pages": to_table("pages", result.pages),
        "legal_refs": to_table("legal_refs", result.legal_refs),
        "tables": to_table("tables", result.tables),
    }
    for name, table in tables.items():
        write_atomic(table, out_dir / name / f"{key}.parquet")
    remove(out_dir, "rejects", key)


def retire(out_dir: Path, key: str) -> None:
    """Remove every row of a plan file that no longer exists."""
    for name in (*PER_PLAN, "rejects"):
        remove(out_dir, name, key)


def published_keys(out_dir: Path) -> set[str]:
    keys: set[str] = set()
    for name in (*PER_PLAN, "rejects"):
        d = Path(out_dir) / name
        if d.is_dir():
            keys.update(p.stem for p in d.glob("*.parquet") if not p.name.startswith("_"))
    return keys


def ensure_dirs(out_dir: Path) -> None:
    """Create every dataset directory with at least an empty file, so readers never fail
    on a dataset that has no rows yet."""
    for name, schema in SCHEMAS.items():
        d = Path(out_dir) / name
        d.mkdir(parents=True, exist_ok=True)
        empty = d / "_empty.parquet"
        if not empty.exists():
            write_atomic(schema.empty_table(), empty)


def schema_drift(out_dir: Path, key: str) -> dict[str, str]:
    """Datasets whose file for ``key`` does not have the contract's schema (name → reason)."""
    drift: dict[str, str] = {}
    for name in PER_PLAN:
        f = Path(out_dir) / name / f"{key}.parquet"
        if not f.exists():
            continue
        got = pq.read_schema(f)
        want = SCHEMAS[name]
        if not got.remove_metadata().equals(want.remove_metadata()):
            missing = sorted(set(want.names) - set(got.names))
            extra = sorted(set(got.names) - set(want.names))
            changed = sorted(n for n in set(want.names) & set(got.names) if got.field(n).type != want.field(n).type)
            drift[name] = f"missing={missing} extra={extra} changed={changed}"
    return drift
