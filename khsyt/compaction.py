"""Compaction: every per-plan dataset republished as a few large Parquet files.

The per-plan files stay the unit of publication (a plan is replaced whole, a deleted file's rows
retired by removing its files), but at tens of thousands of plans a reader globbing them opens
tens of thousands of files.  ``compact`` writes, beside them, one copy of each dataset
partitioned by province and plan year and sorted by plan, so that DuckDB and pandas read
``<curated>/compacted/<dataset>/**/*.parquet`` (hive-style ``province_key=…/year=…`` folders) in a
few large reads:

    duckdb.sql("SELECT … FROM read_parquet('data/curated/compacted/tasks/**/*.parquet') t …")

The compacted copy is a derived view of the per-plan files (an asset in the Dagster job, after
each ingest).  It is rebuilt **incrementally**: ``compacted/_compaction.json`` records, per plan
file, a stamp of its per-plan files (size and modification time or ETag, from one listing per
dataset) and the output partition its rows went to; a compaction rebuilds only the partitions
(province, year) that a new, changed or retired plan file was or is in, from the per-plan files
of those partitions, and leaves the others untouched.  Each rebuilt partition's files are
replaced whole (written beside, renamed into place), then files of partitions that no longer
exist are removed, and the state is written last: an interrupted compaction is redone from the
old state by the next one (rebuilding a partition from the same files gives the same rows).
Another compaction version, schema version or a missing state means a full rebuild.  Row
order within a file: ``plan_id``, then the dataset's own order.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

import duckdb
import pyarrow as pa

from .datasets import PER_PLAN, SCHEMA_VERSION, SCHEMAS
from .objectstore import FsspecStorage

COMPACTED = "compacted"
#: Extra sort keys after plan_id, so that a plan's rows keep their reading order.
ORDER = {"plans": "", "tasks": ", seq", "pages": ", page", "legal_refs": ", raw", "tables": ", table_id", "rejects": ""}
#: Rows per Parquet row group: large enough for fast scans, small enough to skip by plan.
ROW_GROUP = 100_000
#: Raise when the compacted layout or its rows change: the next compaction is then a full rebuild.
COMPACTION_VERSION = "2"
STATE = f"{COMPACTED}/_compaction.json"
#: The folder of rejected files' rows (they have no plan, hence no province or year).
REJECTED = ("rejected", 0)
#: The partition key of a per-plan file, from the ``filename`` column of read_parquet.
KEY_OF_FILE = "regexp_extract(filename, '([^/]+)[.]parquet$', 1)"


def province_key(name: str | None) -> str:
    """A folder-safe ASCII key of a province name ("Hòa Bình" → "hoa_binh"; none → "unknown")."""
    if not name:
        return "unknown"
    s = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_") or "unknown"


def _stamps(store: FsspecStorage, name: str) -> dict[str, str]:
    """partition key → change stamp of ``<name>/<key>.parquet`` (one listing of the folder)."""
    out: dict[str, str] = {}
    if store.local:
        try:
            entries = list(os.scandir(store.path(name)))
        except FileNotFoundError:
            return out
        for e in entries:
            if e.name.endswith(".parquet") and not e.name.startswith(("_", ".")):
                st = e.stat()  # follows a symbolic link to the published file
                out[e.name[:-8]] = f"{st.st_size}:{st.st_mtime_ns}"
        return out
    try:
        entries = store.fs.ls(store.path(name), detail=True, refresh=True)
    except FileNotFoundError:
        return out
    for info in entries:
        base = info["name"].rstrip("/").rsplit("/", 1)[-1]
        if base.endswith(".parquet") and not base.startswith(("_", ".")):
            tag = info.get("ETag") or info.get("LastModified") or info.get("mtime")
            out[base[:-8]] = f"{info.get('size')}:{tag}"
    return out


def _load_state(store: FsspecStorage) -> dict | None:
    try:
        state = json.loads(store.read_bytes(STATE))
    except (FileNotFoundError, ValueError):
        return None
    if state.get("version") != COMPACTION_VERSION or state.get("schema_version") != SCHEMA_VERSION:
        return None
    return state


def compact(curated: str | Path, datasets: tuple[str, ...] = (*PER_PLAN, "rejects"),
            full: bool = False) -> dict[str, int]:
    """Bring ``<curated>/compacted/`` up to date with the per-plan files, rebuilding only the
    partitions touched since the last compaction (all of them with ``full`` or no state);
    returns rows per dataset in the rebuilt partitions, and ``partitions_rebuilt`` and
    ``partitions`` (how many output partitions there are)."""
    store = FsspecStorage(str(curated))
    stamps = {name: _stamps(store, name) for name in datasets}
    keys = sorted({k for s in stamps.values() for k in s})
    current = {k: "|".join(stamps[n].get(k, "") for n in datasets) for k in keys}
    state = None if full else _load_state(store)
    if state is not None and state.get("datasets") != list(datasets):
        state = None
    previous = state["plans"] if state is not None else {}
    changed = [k for k in keys if previous.get(k, {}).get("stamp") != current[k]]
    retired = [k for k in previous if k not in current]

    con = duckdb.connect()
    if not store.local:
        con.register_filesystem(store.fs)
    con.create_function("province_key", province_key, ["VARCHAR"], "VARCHAR")
    # where each plan file's rows go: unchanged ones from the state, changed ones from their plans file
    where = {k: tuple(v["partition"]) if v["partition"] else None for k, v in previous.items() if k in current}
    with_plan = [k for k in changed if k in stamps.get("plans", {})]
    for k in changed:
        where[k] = None
    if with_plan:
        files = _file_list(store.uri(f"plans/{k}.parquet") for k in with_plan)
        for k, prov, year in con.execute(
                f"SELECT {KEY_OF_FILE}, province_key(province), coalesce(plan_year, 0) "
                f"FROM read_parquet({files}, filename=true, union_by_name=true)").fetchall():
            where[k] = (prov, int(year))
    touched = {tuple(previous[k]["partition"]) for k in (*changed, *retired)
               if k in previous and previous[k]["partition"]}
    touched |= {where[k] for k in changed if where[k]}
    if state is None:
        touched = {p for p in where.values() if p}
    rebuild_rejects = state is None or bool(changed or retired)  # one small folder: all of it
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="khsyt-compact-") as staging:
        members = [k for k, p in where.items() if p in touched]
        con.register("keys", pa.table({
            "k_partition_key": members,
            "k_province_key": [where[k][0] for k in members],
            "k_year": pa.array([where[k][1] for k in members], pa.int32())}))
        for name in datasets:
            cols = ", ".join(f'd."{f.name}"' for f in SCHEMAS[name])
            counts[name] = 0
            if name == "rejects":
                if not rebuild_rejects:
                    continue
                files = [store.uri(f"rejects/{k}.parquet") for k in sorted(stamps[name])]
                select = (f"SELECT {cols}, 'rejected' AS province_key, 0 AS year "
                          f"FROM read_parquet({_file_list(files)}, union_by_name=true) d")
                order = "partition_key"
                parts = {REJECTED}
            else:
                files = [store.uri(f"{name}/{k}.parquet") for k in members if k in stamps[name]]
                select = (f"SELECT {cols}, k.k_province_key AS province_key, k.k_year AS year "
                          f"FROM read_parquet({_file_list(files)}, filename=true, union_by_name=true) d "
                          f"JOIN keys k ON k.k_partition_key = "
                          f"{KEY_OF_FILE.replace('filename', 'd.filename')}")
                order = "plan_id" + ORDER[name]
                parts = touched
            out = Path(staging) / name
            if files:
                counts[name] = con.execute(f"SELECT count(*) FROM ({select})").fetchone()[0]
                if counts[name]:
                    con.execute(f"COPY ({select} ORDER BY province_key, year, {order}) TO '{out}' "
                                f"(FORMAT PARQUET, PARTITION_BY (province_key, year), ROW_GROUP_SIZE {ROW_GROUP}, "
                                f"FILENAME_PATTERN 'data_{{i}}', OVERWRITE_OR_IGNORE)")
            _publish(store, out, f"{COMPACTED}/{name}", parts, everything=state is None)
    con.close()
    store.write_bytes(STATE, json.dumps({
        "version": COMPACTION_VERSION, "schema_version": SCHEMA_VERSION, "datasets": list(datasets),
        "plans": {k: {"stamp": current[k], "partition": list(where[k]) if where.get(k) else None} for k in keys},
    }, ensure_ascii=False, sort_keys=True).encode())
    counts["partitions_rebuilt"] = len(touched)
    counts["partitions"] = len({p for p in where.values() if p})
    return counts


def _file_list(files) -> str:
    """A DuckDB list literal of file paths (COPY takes no prepared parameters)."""
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def _partition_of(rel: str) -> tuple[str, str] | None:
    """(province key, year) of a compacted file's path ``province_key=…/year=…/data_0.parquet``,
    by the folders' values (legal_refs has a ``year`` column of its own, so DuckDB names its
    folder ``year_1=…``)."""
    parts = rel.split("/")
    if len(parts) != 3 or "=" not in parts[0] or "=" not in parts[1]:
        return None
    return parts[0].split("=", 1)[1], parts[1].split("=", 1)[1]


def _publish(store: FsspecStorage, staged: Path, dest: str, parts: set[tuple[str, int]],
             everything: bool = False) -> None:
    """Replace the partitions ``parts`` of ``dest`` by the staged files (each file whole), then
    remove the files of those partitions (of every partition with ``everything``) no longer made."""
    new = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*.parquet")) if staged.is_dir() else []
    for rel in new:
        store.write_bytes(f"{dest}/{rel}", (staged / rel).read_bytes())
    wanted = {(prov, str(year)) for prov, year in parts}
    old = {rel for rel in store.glob(f"{dest}/**/*.parquet")
           if everything or _partition_of(rel[len(dest) + 1:]) in wanted} - {f"{dest}/{rel}" for rel in new}
    for rel in old:
        store.remove(rel)
    if store.local:  # drop partition folders left empty
        root = Path(store.path(dest)) if store.exists(dest) else None
        for d in sorted(root.rglob("*"), reverse=True) if root else []:
            if d.is_dir() and not any(d.iterdir()):
                shutil.rmtree(d, ignore_errors=True)
