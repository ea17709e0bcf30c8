"""Compaction: every per-plan dataset republished as a few large Parquet files.

The per-plan files stay the unit of publication (a plan is replaced whole, a deleted file's rows
retired by removing its files), but at tens of thousands of plans a reader globbing them opens
tens of thousands of files.  ``compact`` writes, beside them, one copy of each dataset
partitioned by province and plan year and sorted by plan, so that DuckDB and pandas read
``<curated>/compacted/<dataset>/**/*.parquet`` (hive-style ``province_key=…/year=…`` folders) in a
few large reads:

    duckdb.sql("SELECT … FROM read_parquet('data/curated/compacted/tasks/**/*.parquet') t …")

The compacted copy is a derived view, rebuilt from each plan's current files (an asset in the
Dagster job, after each ingest).  On a local folder it is switched whole, like the per-plan view
(:mod:`khsyt.snapshots`): a rebuild writes ``_compacted/<id>/<dataset>/…``, then ``compacted`` — a
link to it — is replaced by one atomic rename (a real ``compacted/`` folder of an older release is
swapped with the link by ``renameat2``), so a reader sees one rebuild of every dataset; the
previous rebuild is kept for readers still listing it, older ones are deleted.  On object storage
each file is replaced whole, then files of partitions that no longer exist are removed (a reader
during a rebuild may see some partitions rebuilt and others not).  Row order within a file:
``plan_id``, then the dataset's own order.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
from pathlib import Path

import duckdb

from .datasets import PER_PLAN, SCHEMAS, current_files
from .objectstore import FsspecStorage
from .snapshots import VIEW_LOCK, link_folder
from .storage import LocalStorage

COMPACTED = "compacted"
#: The rebuilds of a local folder's compacted copy (``compacted`` links to one of them).
REBUILDS = "_compacted"
#: Extra sort keys after plan_id, so that a plan's rows keep their reading order.
ORDER = {"plans": "", "tasks": ", seq", "pages": ", page", "legal_refs": ", raw", "tables": ", table_id", "rejects": ""}
#: Rows per Parquet row group: large enough for fast scans, small enough to skip by plan.
ROW_GROUP = 100_000


def province_key(name: str | None) -> str:
    """A folder-safe ASCII key of a province name ("Hòa Bình" → "hoa_binh"; none → "unknown")."""
    if not name:
        return "unknown"
    s = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_") or "unknown"


def _sources(store: FsspecStorage, name: str) -> str | None:
    """A DuckDB list of the dataset's current files: every plan's as its manifest names it
    (not the documented glob, which on a local folder shows the last switched snapshot — a
    rebuild right after a retirement must not see the retired plan), plus the empty file
    that fixes the schema; None when there is none."""
    files = [store.uri(rel) for rel in current_files(str(store.url), name)]
    if store.exists(f"{name}/_empty.parquet"):
        files.append(store.uri(f"{name}/_empty.parquet"))
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]" if files else None


def compact(curated: str | Path, datasets: tuple[str, ...] = (*PER_PLAN, "rejects")) -> dict[str, int]:
    """Rebuild ``<curated>/compacted/`` from the per-plan files; returns rows per dataset."""
    store = FsspecStorage(str(curated))
    con = duckdb.connect()
    if not store.local:
        con.register_filesystem(store.fs)
    con.create_function("province_key", province_key, ["VARCHAR"], "VARCHAR")
    counts: dict[str, int] = {}
    local = LocalStorage(store.root) if store.local else None
    rid = f"{time.time_ns():019d}-{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory(prefix="khsyt-compact-") as tmp:
        # locally the rebuild is written in place, in a folder no reader sees until the switch
        staging = local.path(f"{REBUILDS}/{rid}") if local else Path(tmp)
        staging.mkdir(parents=True, exist_ok=True)
        plans = _sources(store, "plans")
        con.execute("CREATE TEMP TABLE keys (plan_id VARCHAR, province_key VARCHAR, year INTEGER)")
        if plans:
            con.execute(f"INSERT INTO keys SELECT plan_id, province_key(province), coalesce(plan_year, 0) "
                        f"FROM read_parquet({plans}, union_by_name=true)")
        for name in datasets:
            cols = ", ".join(f'd."{f.name}"' for f in SCHEMAS[name])
            files = _sources(store, name)
            if files is None:
                counts[name] = 0
                if not local:
                    _publish(store, Path(staging) / name, f"{COMPACTED}/{name}")
                continue
            src = f"read_parquet({files}, union_by_name=true)"
            if name == "rejects":  # rejected files have no plan: one folder
                select = f"SELECT {cols}, 'rejected' AS province_key, 0 AS year FROM {src} d"
                order = "partition_key"
            else:
                select = (f"SELECT {cols}, coalesce(k.province_key, 'unknown') AS province_key, "
                          f"coalesce(k.year, 0) AS year FROM {src} d "
                          f"LEFT JOIN keys k USING (plan_id)")
                order = "plan_id" + ORDER[name]
            out = Path(staging) / name
            n = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
            counts[name] = n
            if n:
                con.execute(f"COPY ({select} ORDER BY province_key, year, {order}) TO '{out}' "
                            f"(FORMAT PARQUET, PARTITION_BY (province_key, year), ROW_GROUP_SIZE {ROW_GROUP}, "
                            f"FILENAME_PATTERN 'data_{{i}}', OVERWRITE_OR_IGNORE)")
            if not local:
                _publish(store, out, f"{COMPACTED}/{name}")
        con.close()
        if local:
            _switch(local, rid, keep=[n for n in (*PER_PLAN, "rejects") if n not in datasets])
    return counts


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


def _publish(store: FsspecStorage, staged: Path, dest: str) -> None:
    """Replace ``dest`` by the staged files: each file whole, then the ones no longer made go."""
    new = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*.parquet")) if staged.is_dir() else []
    for rel in new:
        store.write_bytes(f"{dest}/{rel}", (staged / rel).read_bytes())
    old = set(store.glob(f"{dest}/**/*.parquet")) - {f"{dest}/{rel}" for rel in new}
    for rel in old:
        store.remove(rel)
    if store.local:  # drop partition folders left empty
        root = Path(store.path(dest)) if store.exists(dest) else None
        for d in sorted(root.rglob("*"), reverse=True) if root else []:
            if d.is_dir() and not any(d.iterdir()):
                shutil.rmtree(d, ignore_errors=True)
