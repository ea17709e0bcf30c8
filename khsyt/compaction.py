"""Compaction: every per-plan dataset republished as a few large Parquet files.

The per-plan files stay the unit of publication (a plan is replaced whole, a deleted file's rows
retired by removing its files), but at tens of thousands of plans a reader globbing them opens
tens of thousands of files.  ``compact`` writes, beside them, one copy of each dataset
partitioned by province and plan year and sorted by plan, so that DuckDB and pandas read
``<curated>/compacted/<dataset>/**/*.parquet`` (hive-style ``province_key=…/year=…`` folders) in a
few large reads:

    duckdb.sql("SELECT … FROM read_parquet('data/curated/compacted/tasks/**/*.parquet') t …")

The compacted copy is a derived view of each plan's current files (an asset in the Dagster job,
after each ingest), brought up to date **incrementally**: ``compacted/_compaction.json`` records,
per plan file, its current files (generation paths from the manifests: a new publication is a
new path) and the output partition (province, year) its rows went to; a compaction rebuilds only
the partitions a new, changed or retired plan file was or is in, from the current files of those
partitions' plans.  On a local folder it is still switched whole, like the per-plan view
(:mod:`khsyt.snapshots`): a rebuild writes ``_compacted/<id>/<dataset>/…`` — the rebuilt
partitions, the untouched ones as hard links to the current rebuild's files, and the state —
then ``compacted``, a link to it, is replaced by one atomic rename (a real ``compacted/`` folder
of an older release is swapped with the link by ``renameat2``), so a reader sees one rebuild of
every dataset; the previous rebuild is kept for readers still listing it, older ones are
deleted.  On object storage each rebuilt partition's files are replaced whole, then the files of
those partitions no longer made are removed, and the state is written last (a reader during a
rebuild may see some partitions rebuilt and others not; an interrupted compaction is redone from
the old state).  Another compaction or schema version, or no state, means a full rebuild.  Row
order within a file: ``plan_id``, then the dataset's own order.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import time
import unicodedata
from pathlib import Path

import duckdb
import pyarrow as pa

from .datasets import PER_PLAN, SCHEMA_VERSION, SCHEMAS, current_files
from .objectstore import FsspecStorage
from .snapshots import VIEW_LOCK, link_folder
from .storage import LocalStorage

log = logging.getLogger("khsyt.compaction")

COMPACTED = "compacted"
#: The rebuilds of a local folder's compacted copy (``compacted`` links to one of them).
REBUILDS = "_compacted"
#: Extra sort keys after plan_id, so that a plan's rows keep their reading order.
ORDER = {"plans": "", "tasks": ", seq", "pages": ", page", "legal_refs": ", raw", "tables": ", table_id", "rejects": ""}
#: Rows per Parquet row group: large enough for fast scans, small enough to skip by plan.
ROW_GROUP = 100_000
#: Raise when the compacted layout or its rows change: the next compaction is then a full rebuild.
COMPACTION_VERSION = "2"
STATE = "_compaction.json"
#: The folder of rejected files' rows (they have no plan, hence no province or year).
REJECTED = ("rejected", 0)


def province_key(name: str | None) -> str:
    """A folder-safe ASCII key of a province name ("Hòa Bình" → "hoa_binh"; none → "unknown")."""
    if not name:
        return "unknown"
    s = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_") or "unknown"


def _sources(store: FsspecStorage, name: str) -> dict[str, str]:
    """partition key → relative path of the plan's current file of dataset ``name``, as its
    manifest names it (not the documented glob, which on a local folder shows the last switched
    snapshot — a rebuild right after a retirement must not see the retired plan)."""
    out = {}
    for rel in current_files(str(store.url), name):
        parts = rel.split("/")
        out[parts[1] if parts[0].startswith("_") and len(parts) > 2 else parts[-1][: -len(".parquet")]] = rel
    return out


def _file_list(files) -> str:
    """A DuckDB list literal of file paths (COPY takes no prepared parameters)."""
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def _load_state(store: FsspecStorage, datasets: tuple[str, ...]) -> dict | None:
    try:
        state = json.loads(store.read_bytes(f"{COMPACTED}/{STATE}"))
    except (FileNotFoundError, ValueError, OSError):
        return None
    if (state.get("version"), state.get("schema_version"), state.get("datasets")) != (
            COMPACTION_VERSION, SCHEMA_VERSION, list(datasets)):
        return None
    return state


def _partition_of(rel: str) -> tuple[str, str] | None:
    """(province key, year) of a compacted file's path ``province_key=…/year=…/data_0.parquet``
    relative to its dataset folder, by the folders' values (legal_refs has a ``year`` column of
    its own, so DuckDB names its folder ``year_1=…``)."""
    parts = rel.split("/")
    if len(parts) != 3 or "=" not in parts[0] or "=" not in parts[1]:
        return None
    return parts[0].split("=", 1)[1], parts[1].split("=", 1)[1]


#: A plan republished by another run while a compaction reads it deletes the generation the
#: compaction listed (DuckDB: "No files found"); the compaction then lists the manifests again
#: and starts over, at most this many times in all (the abandoned rebuild folder is older than
#: the next switched one and is deleted by the compaction after it).
MAX_ATTEMPTS = 4


def compact(curated: str | Path, datasets: tuple[str, ...] = (*PER_PLAN, "rejects"),
            full: bool = False) -> dict[str, int]:
    """Bring ``<curated>/compacted/`` up to date with each plan's current files, rebuilding only
    the partitions touched since the last compaction (all of them with ``full`` or no state);
    returns rows per dataset in the rebuilt partitions, ``partitions_rebuilt`` and
    ``partitions`` (how many output partitions there are)."""
    for _ in range(MAX_ATTEMPTS - 1):
        try:
            return _compact_once(curated, datasets, full)
        except (duckdb.IOException, FileNotFoundError) as exc:
            if not _source_vanished(exc):
                raise
            log.info("compaction: a source file was replaced while it was read; listing again (%s)", exc)
    return _compact_once(curated, datasets, full)


def _source_vanished(exc: Exception) -> bool:
    return isinstance(exc, FileNotFoundError) or "No files found" in str(exc) or "No such file" in str(exc)


def _compact_once(curated: str | Path, datasets: tuple[str, ...], full: bool) -> dict[str, int]:
    store = FsspecStorage(str(curated))
    sources = {name: _sources(store, name) for name in datasets}
    plan_files = sources["plans"] if "plans" in datasets else _sources(store, "plans")  # where rows go
    keys = sorted({k for s in sources.values() for k in s})
    current = {k: "|".join(sources[n].get(k, "") for n in datasets) for k in keys}
    state = None if full else _load_state(store, datasets)
    previous = state["plans"] if state is not None else {}
    changed = [k for k in keys if previous.get(k, {}).get("stamp") != current[k]]
    retired = [k for k in previous if k not in current]

    con = duckdb.connect()
    if not store.local:
        con.register_filesystem(store.fs)
    con.create_function("province_key", province_key, ["VARCHAR"], "VARCHAR")
    # where each plan file's rows go: unchanged ones from the state, changed ones from their plans file
    where = {k: tuple(v["partition"]) if v["partition"] else None for k, v in previous.items() if k in current}
    for k in changed:
        where[k] = None
    with_plan = [k for k in changed if k in plan_files]
    if with_plan:
        by_file = {store.uri(plan_files[k]): k for k in with_plan}
        for f, prov, year in con.execute(
                f"SELECT filename, province_key(province), coalesce(plan_year, 0) "
                f"FROM read_parquet({_file_list(by_file)}, filename=true, union_by_name=true)").fetchall():
            where[by_file[f]] = (prov, int(year))
    if state is None:
        touched = {p for p in where.values() if p}
    else:
        touched = {tuple(previous[k]["partition"]) for k in (*changed, *retired)
                   if k in previous and previous[k]["partition"]}
        touched |= {where[k] for k in changed if where[k]}
    rebuild_rejects = state is None or bool(changed or retired)  # one small folder: all of it
    members = [k for k, p in where.items() if p in touched]
    con.register("keys", pa.table({
        "k_partition_key": members,
        "k_province_key": [where[k][0] for k in members],
        "k_year": pa.array([where[k][1] for k in members], pa.int32())}))
    counts: dict[str, int] = {}
    local = LocalStorage(store.root) if store.local else None
    rid = f"{time.time_ns():019d}-{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory(prefix="khsyt-compact-") as tmp:
        # locally the rebuild is written in place, in a folder no reader sees until the switch
        staging = local.path(f"{REBUILDS}/{rid}") if local else Path(tmp)
        staging.mkdir(parents=True, exist_ok=True)
        for name in datasets:
            cols = ", ".join(f'd."{f.name}"' for f in SCHEMAS[name])
            counts[name] = 0
            if name == "rejects":
                rebuilt = {REJECTED} if rebuild_rejects else set()
                files = [store.uri(rel) for rel in sources[name].values()] if rebuild_rejects else []
                select = (f"SELECT {cols}, 'rejected' AS province_key, 0 AS year "
                          f"FROM read_parquet({_file_list(files)}, union_by_name=true) d")
                order = "partition_key"
            else:
                rebuilt = touched
                by_file = {store.uri(sources[name][k]): k for k in members if k in sources[name]}
                files = list(by_file)
                con.register("file_keys", pa.table({"f_file": files, "f_key": list(by_file.values())}))
                select = (f"SELECT {cols}, k.k_province_key AS province_key, k.k_year AS year "
                          f"FROM read_parquet({_file_list(files)}, filename=true, union_by_name=true) d "
                          f"JOIN file_keys f ON f.f_file = d.filename JOIN keys k ON k.k_partition_key = f.f_key")
                order = "plan_id" + ORDER[name]
            out = Path(staging) / name
            if files:  # COPY answers the rows it wrote: the files are read once, not counted first
                counts[name] = con.execute(
                    f"COPY ({select} ORDER BY province_key, year, {order}) TO '{out}' "
                    f"(FORMAT PARQUET, PARTITION_BY (province_key, year), ROW_GROUP_SIZE {ROW_GROUP}, "
                    f"FILENAME_PATTERN 'data_{{i}}', OVERWRITE_OR_IGNORE)").fetchone()[0]
                if not counts[name] and out.is_dir() and not any(out.iterdir()):
                    out.rmdir()  # no rows: no folder, as when nothing was written
            wanted = {(prov, str(year)) for prov, year in rebuilt}
            if local:
                if state is not None:
                    _carry_over(local, rid, name, wanted)
            else:
                _publish(store, out, f"{COMPACTED}/{name}", wanted, everything=state is None)
        con.close()
        body = json.dumps({
            "version": COMPACTION_VERSION, "schema_version": SCHEMA_VERSION, "datasets": list(datasets),
            "plans": {k: {"stamp": current[k], "partition": list(where[k]) if where.get(k) else None} for k in keys},
        }, ensure_ascii=False, sort_keys=True).encode()
        if local:
            local.write_bytes(f"{REBUILDS}/{rid}/{STATE}", body)
            _switch(local, rid, keep=[n for n in (*PER_PLAN, "rejects") if n not in datasets])
        else:
            store.write_bytes(f"{COMPACTED}/{STATE}", body)
    counts["partitions_rebuilt"] = len(touched)
    counts["partitions"] = len({p for p in where.values() if p})
    return counts


def _carry_over(st: LocalStorage, rid: str, name: str, rebuilt: set[tuple[str, str]]) -> None:
    """Hard-link into rebuild ``rid`` the current rebuild's files of dataset ``name`` whose
    partition was not rebuilt (the untouched partitions stay as they were, byte for byte)."""
    src = st.path(f"{COMPACTED}/{name}")
    pairs = []
    for root, _dirs, names in os.walk(src):
        for f in names:
            rel = (Path(root) / f).relative_to(src).as_posix()
            if f.endswith(".parquet") and _partition_of(rel) not in rebuilt:
                pairs.append((f"{COMPACTED}/{name}/{rel}", f"{REBUILDS}/{rid}/{name}/{rel}"))
    st.link_many(pairs)


def _switch(st: LocalStorage, rid: str, keep: list[str]) -> None:
    """Make ``compacted`` show rebuild ``rid`` (datasets in ``keep`` carried over from the
    current one as hard links), by one atomic rename; delete rebuilds older than both it and
    the previous one (a concurrent rebuild, newer, is not touched)."""
    new = f"{REBUILDS}/{rid}"
    current = st.path(COMPACTED)
    for name in keep:  # datasets this rebuild did not touch
        src = current / name
        for root, _dirs, names in os.walk(src):
            rel = Path(root).relative_to(current).as_posix()
            st.link_many([(f"{COMPACTED}/{rel}/{f}", f"{new}/{rel}/{f}") for f in names])
    for root, _dirs, _names in os.walk(st.path(new)):
        st.fsync_dir(Path(root).relative_to(st.root).as_posix())
    with st.lock(VIEW_LOCK):  # the lock under which the repair removes a killed switch's temporaries
        previous = (st.readlink(COMPACTED) or "").rsplit("/", 1)[-1]
        link_folder(st, COMPACTED, new)  # the real folder of an older release is swapped, then deleted
        st.remove_tree(f".{COMPACTED}.migrating")
        for old in st.listdir(REBUILDS):  # ids sort by time: a rebuild still being written is newer
            if old < min(rid, previous or rid):
                st.remove_tree(f"{REBUILDS}/{old}")


def _publish(store: FsspecStorage, staged: Path, dest: str, parts: set[tuple[str, str]],
             everything: bool = False) -> None:
    """Replace the partitions ``parts`` of ``dest`` by the staged files (each file whole), then
    remove the files of those partitions (of every partition with ``everything``) no longer made."""
    new = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*.parquet")) if staged.is_dir() else []
    for rel in new:
        store.write_bytes(f"{dest}/{rel}", (staged / rel).read_bytes())
    old = {rel for rel in store.glob(f"{dest}/**/*.parquet")
           if everything or _partition_of(rel[len(dest) + 1:]) in parts} - {f"{dest}/{rel}" for rel in new}
    for rel in old:
        store.remove(rel)
