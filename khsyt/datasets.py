"""Curated datasets: Arrow schemas (the contract in docs/datasets.md) and the publication
protocol that replaces a plan's rows in every dataset together, or not at all.

Each dataset is a directory of Parquet files, one file per plan file (named by its
partition key) — the documented paths readers glob.  Behind them (folders starting with
``_``, which pandas/pyarrow skip and a ``*.parquet`` glob does not enter):

- ``_generations/<key>/<gen>/<dataset>.parquet`` — immutable files of one publication;
- ``_manifest/<key>.json`` — the plan's current generation: **the commit point**, replaced
  by one fsync'd atomic rename;
- ``_pending/<key>.json`` — written before a publication starts, removed when it is done
  (on a local folder: when a snapshot of the documented view shows it).

Publishing a plan (under a per-plan lock): mark pending → write the new generation's files →
switch the manifest → delete other generations.  A crash before the switch leaves the old plan;
after it the new plan is committed.  Then the documented files are brought in line:

- on a local folder the documented folders are links into one snapshot of every dataset,
  rebuilt from the manifests once per batch and switched by one atomic rename
  (:mod:`khsyt.snapshots`): a reader of ``tasks/*.parquet`` joined with ``plans/*.parquet``
  sees the state of one snapshot whole, at every moment and after any kill;
- on object storage (no links) each documented file is replaced after the switch, one by one,
  and the mark cleared; there only :func:`read_dataset` is consistent at every moment.

:func:`repair`, which the CLI, the Dagster job and the sensor run before they publish, finds the
pending marks, completes what the manifests committed and (locally) publishes a new snapshot.
:func:`read_dataset` reads through the manifests: each plan as of its last commit.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import snapshots
from .results import Extracted, Rejected
from .storage import LocalStorage, PathEscapes, storage_for

#: Version of the datasets' contract (docs/datasets.md), in every file's Parquet metadata
#: (``schema_version``).  Raise it when a column is added, removed or changes type.
SCHEMA_VERSION = "4"

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
        ("document_key", pa.string()),
        ("source_path", pa.string()),
        ("source_sha256", pa.string()),
        ("source_format", pa.string()),
        ("pages", pa.int32()),
        ("province", pa.string()),
        ("province_current", pa.string()),
        ("issuer", pa.string()),
        ("issuer_level", pa.string()),
        ("doc_type", pa.string()),
        ("doc_number", pa.string()),
        ("doc_symbol", pa.string()),
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
        ("corrected_fields", pa.list_(pa.string())),
        ("extracted_at", pa.timestamp("us", tz="UTC")),
        ("pipeline_version", pa.string()),
        ("extraction_fingerprint", pa.string()),
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
        ("corrected_fields", pa.list_(pa.string())),
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
        ("extraction_fingerprint", pa.string()),
    ]),
}

#: Cross-plan datasets rebuilt from the per-plan ones after each run (one file each).
CROSS_PLAN: dict[str, pa.Schema] = {
    "plan_versions": pa.schema([
        ("document_key", pa.string()),
        ("plan_id", pa.string()),
        ("partition_key", pa.string()),
        ("source_path", pa.string()),
        ("source_format", pa.string()),
        ("ocr_pages", pa.int32()),
        ("n_tasks", pa.int32()),
        ("copies", pa.int32()),
        ("rank", pa.int32()),
        ("preferred", pa.bool_()),
    ]),
    "review_queue": pa.schema([
        ("item_id", pa.string()),
        ("kind", pa.string()),
        ("partition_key", pa.string()),
        ("plan_id", pa.string()),
        ("document_key", pa.string()),
        ("task_id", pa.string()),
        ("field", pa.string()),
        ("value", pa.string()),
        ("detail", pa.string()),
        ("page", pa.int32()),
    ]),
}


def versioned(schema_or_table):
    """The schema (or table) with ``schema_version`` in its Parquet key-value metadata."""
    return schema_or_table.replace_schema_metadata(
        {**(schema_or_table.schema.metadata or {}), b"schema_version": SCHEMA_VERSION}
    ) if isinstance(schema_or_table, pa.Table) else schema_or_table.with_metadata(
        {**(schema_or_table.metadata or {}), b"schema_version": SCHEMA_VERSION})


SCHEMAS = {name: versioned(schema) for name, schema in SCHEMAS.items()}
CROSS_PLAN = {name: versioned(schema) for name, schema in CROSS_PLAN.items()}

#: Datasets with one file per plan file.
PER_PLAN = ("plans", "tasks", "pages", "legal_refs", "tables")
#: Every dataset a publication of one plan file touches.
PUBLISHED = (*PER_PLAN, "rejects")
#: Datasets written whole, across plans, after each run (one file ``<name>/<name>.parquet``).
WHOLE = ("units", "plan_versions", "review_queue")
#: Every documented dataset folder (the links of a local folder's snapshot view).
DOCUMENTED = (*PUBLISHED, *WHOLE)

GENERATIONS, MANIFESTS, PENDING = "_generations", "_manifest", "_pending"
#: A partition key: letters, digits, "_" and "-", bounded; never path syntax.
KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def check_key(key: str) -> str:
    """The key itself, or PathEscapes when it could name a path outside a dataset folder."""
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        raise PathEscapes(f"partition key {key!r} is not a safe file name (letters, digits, '_', '-'; ≤ 128)")
    return key


def to_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = SCHEMAS[name]
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write one Parquet file durably: beside its destination, fsync'd, renamed into place."""
    path = Path(path)
    LocalStorage(path.parent).write_parquet(path.name, versioned(table))


def _visible(name: str, key: str) -> str:
    return f"{name}/{check_key(key)}.parquet"


def manifest(out_dir, key: str) -> dict[str, Any] | None:
    """The published state of one plan file (None when nothing is published through the protocol)."""
    st = storage_for(out_dir)
    rel = f"{MANIFESTS}/{check_key(key)}.json"
    try:
        return json.loads(st.read_bytes(rel))
    except FileNotFoundError:
        return None


def sync_documented(st, key: str, man: dict[str, Any] | None, names: tuple[str, ...] = PUBLISHED) -> None:
    """Make the documented per-dataset files of ``key`` equal to what the manifest names, one
    file at a time (object storage, and a local folder of the older layout being migrated)."""
    files = (man or {}).get("files", {})
    for name in names:
        dst = _visible(name, key)
        src = files.get(name)
        if src is None:
            st.remove(dst)
        elif not st.same(src, dst):
            st.publish_copy(src, dst)


def _collect(st, key: str, keep: str | None) -> None:
    for gen in st.listdir(f"{GENERATIONS}/{key}"):
        if gen != keep:
            st.remove_tree(f"{GENERATIONS}/{key}/{gen}")


def live_generation(man: dict[str, Any] | None) -> str | None:
    """The generation a manifest publishes (None: no manifest, or a retirement's tombstone)."""
    return man["generation"] if man and man.get("files") else None


def publish_generation(st, key: str, tables: dict[str, pa.Table | str], info: dict[str, Any]) -> None:
    """One publication of ``key`` (the protocol in the module docstring), under its lock.

    ``tables`` maps a dataset to its new rows, or to the relative path of an existing file
    to carry over unchanged; a dataset not in it has no file for this key afterwards.
    An empty ``tables`` retires the key.
    """
    check_key(key)
    with st.lock(key):
        gen = f"{time.time_ns():019d}-{secrets.token_hex(3)}"
        pending = f"{PENDING}/{key}.json"
        st.write_bytes(pending, json.dumps({"generation": gen}).encode())
        files: dict[str, str] = {}
        for name, table in tables.items():
            rel = f"{GENERATIONS}/{key}/{gen}/{name}.parquet"
            if isinstance(table, str):
                st.publish_copy(table, rel)
            else:
                st.write_parquet(rel, table)
            files[name] = rel
        man_rel = f"{MANIFESTS}/{key}.json"
        man = {"key": key, "generation": gen, "files": files, "published_at": datetime.now(UTC).isoformat(), **info}
        # the commit; a retirement commits a tombstone (no files), removed once it is carried out
        st.write_bytes(man_rel, json.dumps(man, ensure_ascii=False, sort_keys=True).encode())
        finish(st, key, man)
        if not snapshots.enabled(st):
            clear_pending(st, key)  # locally the mark stays until a snapshot shows the plan


def finish(st, key: str, man: dict[str, Any] | None) -> None:
    """Carry out a committed manifest: documented files (object storage), old generations,
    tombstone.  Without a manifest (a first publication, or a folder written before this
    protocol, interrupted before its commit) the documented files stay as they are."""
    if man is not None and not snapshots.enabled(st):
        sync_documented(st, key, man)
    gen = live_generation(man)
    _collect(st, key, gen)
    if man is not None and gen is None:
        st.remove(f"{MANIFESTS}/{key}.json")


def clear_pending(st, key: str, tmps: dict[str, list[str]] | None = None) -> None:
    """The plan is published (and, locally, shown by a snapshot): remove its mark and the
    temporary files a killed writer left beside its mark and manifest."""
    tmps = _tmp_listing(st) if tmps is None else tmps
    for folder in (MANIFESTS, PENDING):
        for f in tmps.get(folder, []):
            if f.startswith(f".{key}.json."):
                st.remove(f"{folder}/{f}")
    st.remove(f"{PENDING}/{key}.json")


def _tmp_listing(st, folders: tuple[str, ...] = (MANIFESTS, PENDING)) -> dict[str, list[str]]:
    return {n: [f for f in st.listdir(n) if f.startswith(".") and f.endswith(".tmp")] for n in folders}


def pending_keys(st) -> list[str]:
    """Keys with a pending mark (or a mark's temporary file): publications under way, killed,
    or (locally) not yet in a snapshot."""
    keys = set()
    for name in st.listdir(PENDING):
        m = re.fullmatch(r"\.?([A-Za-z0-9][A-Za-z0-9_-]*)\.json(?:\.[0-9a-f]+\.tmp)?", name)
        if m and KEY_RE.fullmatch(m.group(1)):
            keys.add(m.group(1))
    return sorted(keys)


def manifest_keys(st) -> list[str]:
    """Keys with a manifest (every plan published through the protocol)."""
    return sorted(k for k in (n[:-5] for n in st.listdir(MANIFESTS) if n.endswith(".json") and not n.startswith("."))
                  if KEY_RE.fullmatch(k))


def _legacy(st) -> bool:
    """Whether documented files without a manifest count as published: object storage and
    a local folder not yet migrated to the snapshot layout (where every plan has a manifest)."""
    return not snapshots.active(st)


def _current_files(st, key: str) -> dict[str, str]:
    """dataset → relative path of the file now published for ``key`` (manifest, else an
    older layout's documented file)."""
    man = manifest(st, key)
    if man is not None:
        return dict(man["files"])
    if not _legacy(st):
        return {}
    return {n: _visible(n, key) for n in PUBLISHED if st.exists(_visible(n, key))}


def write_plan(out_dir, key: str, result: Extracted | Rejected) -> dict[str, pa.Schema]:
    """Publish one plan file's rows in every dataset at once, replacing an earlier run's; the
    schema of each file written from new rows, by dataset (for :func:`schema_drift`).

    A rejected file keeps the rows of its last good extraction (nothing good is replaced
    by nothing); its rejects row says why the new version could not be read.
    """
    st = storage_for(out_dir)
    check_key(key)
    snapshots.ensure_layout(st)
    if isinstance(result, Rejected):
        prev = _current_files(st, key)
        old = manifest(st, key) or {}
        tables: dict[str, pa.Table | str] = {n: prev[n] for n in PER_PLAN if n in prev}
        tables["rejects"] = to_table("rejects", [result.as_row()])
        info = {k: old.get(k) for k in ("plan_id", "source_sha256", "source_path")}
        info["rejected_sha256"] = result.source_sha256
    else:
        tables = {
            "plans": to_table("plans", [result.plan]),
            "tasks": to_table("tasks", result.tasks),
            "pages": to_table("pages", result.pages),
            "legal_refs": to_table("legal_refs", result.legal_refs),
            "tables": to_table("tables", result.tables),
        }
        info = {"plan_id": result.plan["plan_id"], "source_sha256": result.plan["source_sha256"],
                "source_path": result.plan["source_path"], "rejected_sha256": None}
    publish_generation(st, key, tables, info)
    return {name: t.schema for name, t in tables.items() if isinstance(t, pa.Table)}


def retire(out_dir, key: str) -> None:
    """Remove every row of a plan file that no longer exists, in every dataset at once."""
    st = storage_for(out_dir)
    check_key(key)
    snapshots.ensure_layout(st)
    publish_generation(st, key, {}, {})


def repair(out_dir) -> list[str]:
    """Finish every interrupted publication (run at start-up and on every sensor tick).

    For each pending mark: complete what the manifest committed (the commit point decides:
    before it the old plan stays, after it the new one is completed), delete generations the
    manifest does not name and leftover temporary files; on a local folder, migrate an older
    layout and publish a snapshot of the documented view.  Returns the keys repaired; cheap
    (a few folder listings) when nothing was interrupted.
    """
    st = storage_for(out_dir)
    snapshots.ensure_layout(st)
    snapshots.clean_leftovers(st)
    keys = pending_keys(st)
    if not keys:
        return []
    legacy_dirs = () if snapshots.enabled(st) else PUBLISHED  # locally no writer leaves files there
    tmp_files = _tmp_listing(st, (*legacy_dirs, MANIFESTS, PENDING))
    for key in keys:
        with st.lock(key):
            if not st.exists(f"{PENDING}/{key}.json") and not any(
                    f.startswith(f".{key}.json.") for f in tmp_files[PENDING]):
                continue  # finished by its own process while this one waited for the lock
            for folder in legacy_dirs:
                for f in tmp_files[folder]:
                    if f.startswith(f".{key}.parquet."):
                        st.remove(f"{folder}/{f}")
            finish(st, key, manifest(st, key))
            if not snapshots.enabled(st):
                clear_pending(st, key, tmp_files)
    snapshots.publish(st)  # locally: shows the completed plans and clears their marks
    return keys


def published_keys(out_dir) -> set[str]:
    st = storage_for(out_dir)
    keys = set(manifest_keys(st))
    if not _legacy(st):
        return keys
    for name in PUBLISHED:
        keys.update(n[:-8] for n in st.listdir(name) if n.endswith(".parquet") and not n.startswith(("_", ".")))
    return keys


def published_sha256(out_dir) -> dict[str, str]:
    """partition key → SHA-256 of the file version whose plan rows are published."""
    st = storage_for(out_dir)
    out: dict[str, str] = {}
    for key in published_keys(st):
        man = manifest(st, key)
        if man is not None:
            if man.get("source_sha256"):
                out[key] = man["source_sha256"]
        elif _legacy(st) and st.exists(_visible("plans", key)):
            t = st.read_parquet(_visible("plans", key), columns=["source_sha256"])
            if t.num_rows:
                out[key] = t.column(0)[0].as_py()
    return out


def _read_each(st, name: str, read, keys: list[str] | None = None) -> list[tuple[str, Any]]:
    """(key, ``read(rel)``) for every plan's current file of dataset ``name`` (or those of
    ``keys``), through the manifests: each plan as of its last commit."""
    out = []
    for key in sorted(published_keys(st)) if keys is None else keys:
        for _attempt in range(5):  # a concurrent publication may collect the file just named
            rel = _current_files(st, key).get(name)
            if rel is None:
                break
            try:
                out.append((key, read(rel)))
                break
            except FileNotFoundError:
                continue
    return out


def current_files(out_dir, name: str) -> list[str]:
    """The relative paths of dataset ``name``'s current files, one per plan, as the manifests
    name them (for a reader that opens them itself, e.g. DuckDB; a concurrent publication
    may delete a generation after this listing — then list again)."""
    st = storage_for(out_dir)
    return [rel for key in sorted(published_keys(st)) if (rel := _current_files(st, key).get(name))]


def read_dataset(out_dir, name: str) -> pa.Table:
    """A whole per-plan dataset read through the manifests: every plan as of its last
    publication, even while another is being published (locally the documented glob shows
    the same once the batch's snapshot is switched in; on object storage once the
    publications are finished)."""
    st = storage_for(out_dir)
    parts = [SCHEMAS[name].empty_table(), *(t for _, t in _read_each(
        st, name, lambda rel: st.read_parquet(rel).cast(SCHEMAS[name])))]
    return pa.concat_tables(parts)


#: Where the cross-plan readers keep every plan's current rows of a dataset in one file
#: (``<name>.parquet``; derived data, rebuilt from the per-plan files whenever it is missing).
ROWS_CACHE = snapshots.ROWS_CACHE
#: The datasets kept there: what the cross-plan datasets read on every rebuild.
CACHED_ROWS = ("plans", "tasks", "rejects")
#: The schema metadata key listing the per-plan files a cache file holds the rows of.
_SOURCES = b"khsyt_sources"


def _rows_schema(name: str) -> pa.Schema:
    own = [f for f in SCHEMAS[name] if f.name != "partition_key"]
    return pa.schema([*own, pa.field("partition_key", pa.string()), pa.field("_source", pa.string())])


def _conform(table: pa.Table, name: str, key: str, rel: str) -> pa.Table:
    """A plan's file as the contract's columns (a column an older release lacks is null), with
    the plan file (the key it is published under) and the per-plan file it came from."""
    schema = _rows_schema(name)
    n = table.num_rows
    cols = [table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(n, f.type)
            for f in schema if f.name not in ("partition_key", "_source")]
    return pa.Table.from_arrays([*cols, pa.array([key] * n, pa.string()), pa.array([rel] * n, pa.string())],
                                schema=schema)


def current_rows(out_dir, name: str) -> pa.Table:
    """Every plan's current rows of dataset ``name`` (one of ``CACHED_ROWS``) through the
    manifests, with ``partition_key``, in plan-file order — read from the per-plan files only
    for the plans published since the last call.

    A cross-plan rebuild reads every plan's rows; at 1,000 plans that is 1,000 files per dataset
    each time one plan changes.  The rows of each per-plan file are kept in
    ``_rows/<name>.parquet`` under the file's path (a publication writes a new generation, never
    changes a file, so a kept path means the same rows); a rebuild reads that one file, drops the
    rows of files no manifest names any more and reads only the new files.  A cache that cannot
    be read (missing, another schema) is rebuilt; one that cannot be written (a read-only copy)
    is skipped."""
    st = storage_for(out_dir)
    schema = _rows_schema(name)
    current: dict[str, str] = {}  # per-plan file → plan file
    for key in sorted(published_keys(st)):
        if (rel := _current_files(st, key).get(name)) is not None:
            current[rel] = key
    cache_rel = f"{ROWS_CACHE}/{name}.parquet"
    try:
        cached = st.read_parquet(cache_rel)
        meta = cached.schema.metadata or {}
        held = set(json.loads(meta[_SOURCES]))
        if meta.get(b"schema_version") != SCHEMA_VERSION.encode() or not cached.schema.remove_metadata().equals(schema):
            raise ValueError("another schema")
    except (FileNotFoundError, KeyError, ValueError, OSError, pa.ArrowException):
        cached, held = schema.empty_table(), set()
    keep = [rel for rel in current if rel in held]
    parts = [cached.filter(pc.is_in(cached["_source"], pa.array(keep, pa.string())))] if keep else []
    fresh = [rel for rel in current if rel not in held]
    read = _read_each(st, name, lambda rel: (rel, st.read_parquet(rel)), keys=[current[rel] for rel in fresh])
    parts += [_conform(t, name, key, rel) for key, (rel, t) in read]
    table = pa.concat_tables([schema.empty_table(), *parts]).sort_by("partition_key")  # stable: file order kept
    if fresh or len(keep) != len(held):
        try:
            listed = {_SOURCES: json.dumps(sorted([*keep, *(rel for _, (rel, _t) in read)])).encode()}
            st.write_parquet(cache_rel, versioned(table.replace_schema_metadata(listed)))
        except OSError:  # a read-only copy of the folder, a temporary removed: read them again next time
            pass
    return table


def read_rows(out_dir, name: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Every row of a per-plan dataset through the manifests, with ``partition_key`` (the plan
    file it came from) added; a local folder or object storage alike.  A column a file lacks
    (an older release) is null.  ``CACHED_ROWS`` come from :func:`current_rows`."""
    want = list(columns or SCHEMAS[name].names)
    if name in CACHED_ROWS:
        try:
            return current_rows(out_dir, name).select(list(dict.fromkeys([*want, "partition_key"]))).to_pylist()
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass  # a file of an older release whose column type cannot be cast: read each file as it is
    st = storage_for(out_dir)
    fs = getattr(st, "fs", None)

    def read(rel: str) -> list[dict[str, Any]]:
        f = st.path(rel)
        have = pq.read_schema(f, filesystem=fs).names
        return pq.read_table(f, columns=[c for c in want if c in have], filesystem=fs).to_pylist()

    return [{**dict.fromkeys(want), **r, "partition_key": key} for key, part in _read_each(st, name, read)
            for r in part]


def publish_view(out_dir) -> str | None:
    """The end of a batch: switch the documented view of a local folder to what the manifests
    committed, in one rename (:mod:`khsyt.snapshots`); the snapshot id, None on object storage
    (whose documented files follow each publication)."""
    return snapshots.publish(out_dir)


def write_whole(out_dir, name: str, table: pa.Table) -> None:
    """Publish a whole-file dataset (``units``, ``plan_versions``, ``review_queue``): locally
    into ``_whole/``, shown by the next snapshot; on object storage at its documented path."""
    st = storage_for(out_dir)
    if not snapshots.enabled(st):
        st.write_parquet(f"{name}/{name}.parquet", versioned(table))
        return
    snapshots.ensure_layout(st)
    with st.lock(snapshots.VIEW_LOCK):
        st.write_parquet(snapshots.whole_path(name), versioned(table))


def ensure_dirs(out_dir) -> None:
    """Create every dataset directory with at least an empty file, so readers never fail
    on a dataset that has no rows yet (locally: the snapshot layout, migrating an older one)."""
    st = storage_for(out_dir)
    if snapshots.enabled(st):
        snapshots.ensure_layout(st)
        return
    for name, schema in SCHEMAS.items():
        rel = f"{name}/_empty.parquet"
        if not st.exists(rel):
            st.write_parquet(rel, schema.empty_table())


def schema_drift(out_dir: Path, key: str, written: Mapping[str, pa.Schema] | None = None) -> dict[str, str]:
    """Datasets whose file for ``key`` does not have the contract's schema (name → reason).

    ``written``: the schemas :func:`write_plan` just wrote for ``key``, by dataset; those files
    are judged by the table they were written from instead of reading their footers back
    (five reads per plan, 2 % of a large Dagster ingest); the others (a rejected version's
    carried-over files, an older release's) are read."""
    drift: dict[str, str] = {}
    st = storage_for(out_dir)
    current = _current_files(st, key)
    written = written or {}
    for name in PER_PLAN:
        rel = current.get(name)
        if name in written:
            got = written[name]
        elif rel is None or not st.exists(rel):
            continue
        else:
            got = st.read_schema(rel)
        want = SCHEMAS[name]
        if not got.remove_metadata().equals(want.remove_metadata()):
            missing = sorted(set(want.names) - set(got.names))
            extra = sorted(set(got.names) - set(want.names))
            changed = sorted(n for n in set(want.names) & set(got.names) if got.field(n).type != want.field(n).type)
            drift[name] = f"missing={missing} extra={extra} changed={changed}"
    return drift
