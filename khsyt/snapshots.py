"""The documented view of a local curated folder, switched whole: one atomic rename makes
every dataset's documented files move from one consistent state to the next.

A plan is committed by its manifest (:mod:`khsyt.datasets`), but readers glob the documented
folders (``tasks/*.parquet`` joined with ``plans/*.parquet``), one file per plan and dataset.
Bringing those files in line one rename at a time leaves a moment — or, after a kill, the time
until the next run — where a plan's new ``plans`` row meets its old ``tasks``.  On a local
disk the documented folders are therefore symbolic links into one immutable snapshot::

    <OUT>/tasks     -> _current/tasks            (every documented dataset: DOCUMENTED)
    <OUT>/_current  -> _snapshots/<id>           (the switch)
    <OUT>/_snapshots/<id>/tasks/<key>.parquet    hard link of _generations/<key>/<gen>/tasks.parquet
    <OUT>/_snapshots/<id>/tasks/_empty.parquet   hard link of _empty/tasks.parquet
    <OUT>/_snapshots/<id>/units/units.parquet    hard link of _whole/units.parquet
    <OUT>/_snapshots/<id>/_index.json            the generation of every plan it shows

:func:`publish` builds a new snapshot from the manifests (hard links: one ``link`` per file,
no bytes copied), fsyncs its folders, then switches ``_current`` with one ``rename`` of a new
symbolic link and fsyncs the root.  Readers resolve ``tasks`` → ``_current`` → one snapshot
when they open the folder, so a glob sees one snapshot whole.  The previous snapshot is kept
(a reader that listed it a moment ago can still open its files); older ones are deleted.

Costing one link per file, a snapshot is built once per batch, not per plan: at the end of a
``khsyt extract`` run and of a Dagster publication step (:func:`khsyt.cross_plan.write_cross_plan`
and the ``curated_datasets`` asset call it), and by :func:`khsyt.datasets.repair`.  ``make run``
(``pipeline.ingest``) defers its batch runs' switches to the cross-plan run after them: one
switch per ingest, as in the CLI.  A plan stays
*pending* (``_pending/<key>.json``) from the start of its publication until a snapshot shows
it, so a run killed between a plan's manifest switch and the snapshot switch leaves the
documented view showing the old plan whole, and the next run's repair publishes the snapshot.

Whole-file datasets (``units``, ``plan_versions``, ``review_queue``, rebuilt across plans after
each run) are written to ``_whole/<name>.parquet`` and join the snapshot, so that they switch
with the plans they were computed from.  ``compacted/`` is not in it: a derived copy rebuilt after
each ingest, it has its own link and switch (:mod:`khsyt.compaction`).

**Migration.**  A folder written before this layout has real folders ``tasks/`` etc.
:func:`ensure_layout` (run by ``ensure_dirs``, ``repair`` and every publication) converts it,
idempotently and safely under a kill at any point: it adopts every plan that has documented
files but no manifest (a generation of hard links and a manifest, through the ordinary
publication), copies the whole-file datasets to ``_whole/``, publishes a snapshot, then swaps
each real folder with its link in one ``renameat2(RENAME_EXCHANGE)`` (readers see the old
folder or the link, never neither) and empties the old folder, now ``.<name>.migrating``: files
whose rows live on in a manifest are deleted, anything else is kept in ``_migrated/<name>/``.

Object storage has no symbolic links: there the documented files are kept in line one by one
(:mod:`khsyt.datasets`) and the consistent view is :func:`khsyt.datasets.read_dataset`.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from .storage import LocalStorage

SNAPSHOTS, CURRENT, WHOLE_DIR, EMPTY_DIR, MIGRATED = "_snapshots", "_current", "_whole", "_empty", "_migrated"
#: The cross-plan readers' copy of every plan's current rows (``datasets.current_rows``).
ROWS_CACHE = "_rows"
INDEX = "_index.json"
#: The lock of the view: building and switching a snapshot, writing a whole-file dataset,
#: migrating, and removing a killed writer's temporary files there.
VIEW_LOCK = "_view"


def enabled(st: Any) -> bool:
    """Whether ``st`` is a storage with links (a local folder), where the view is a snapshot."""
    return bool(getattr(st, "symlinks", False))


def active(st: Any) -> bool:
    """Whether the folder is in the snapshot layout (``_current`` exists as a link)."""
    return enabled(st) and st.is_link(CURRENT)


def _aside(name: str) -> str:
    """Where a real folder replaced by its link waits to be emptied."""
    return f".{name}.migrating"


def layout_ok(st: LocalStorage) -> bool:
    """Every documented folder a link, ``_current`` a link, no migration left half done
    (a few ``lstat`` calls: run before every publication)."""
    from .datasets import DOCUMENTED, SCHEMAS

    if not st.is_link(CURRENT):
        return False
    for name in DOCUMENTED:
        if not st.is_link(name) or st.exists(_aside(name)) or st.is_link(_aside(name)):
            return False
    return all(st.exists(f"{EMPTY_DIR}/{name}.parquet") for name in SCHEMAS)


def ensure_layout(st: LocalStorage) -> None:
    """Bring a local folder into the snapshot layout (a new folder, or the migration in the
    module docstring); nothing to do — and no lock taken — when it already is."""
    if not enabled(st) or layout_ok(st):
        return
    with st.lock(VIEW_LOCK):
        if not layout_ok(st):
            _migrate(st)


def _migrate(st: LocalStorage) -> None:
    from . import datasets as ds

    st.root.mkdir(parents=True, exist_ok=True)
    for name, schema in ds.SCHEMAS.items():
        if not st.exists(f"{EMPTY_DIR}/{name}.parquet"):
            st.write_parquet(f"{EMPTY_DIR}/{name}.parquet", schema.empty_table())
    real = [n for n in ds.DOCUMENTED if st.is_dir(n)]
    if real:
        # an older layout: its documented files are the plans' only copy unless a manifest
        # holds them; an interrupted older publication is completed in place first
        for key in ds.pending_keys(st):
            man = ds.manifest(st, key)
            if man is not None and man["files"]:
                ds.sync_documented(st, key, man, tuple(n for n in real if n in ds.PUBLISHED))
        _adopt(st, [n for n in real if n in ds.PUBLISHED])
        for name in ds.WHOLE:
            src = f"{name}/{name}.parquet"
            if name in real and st.exists(src) and not st.exists(f"{WHOLE_DIR}/{name}.parquet"):
                st.publish_copy(src, f"{WHOLE_DIR}/{name}.parquet")
    _build_and_switch(st)
    for name in ds.DOCUMENTED:
        if not st.is_link(name) or st.is_link(_aside(name)):
            link_folder(st, name, f"{CURRENT}/{name}")
        if st.is_dir(_aside(name)):
            _empty_old_folder(st, name)


def link_folder(st: LocalStorage, name: str, target: str) -> None:
    """Make ``name`` a link to ``target`` by one atomic rename.  A real folder there (an older
    layout) is swapped with the link by ``renameat2(RENAME_EXCHANGE)`` — without that call it is
    moved aside first, and the name is missing for an instant — and is left at
    ``.<name>.migrating`` for the caller to empty."""
    aside = _aside(name)
    if st.is_link(aside):  # a link made for an exchange that did not happen
        st.remove(aside)
    if not st.is_dir(name):
        st.point(name, target)
        return
    st.point(aside, target)
    if not st.exchange(aside, name):
        st.remove(aside)
        st.move(name, aside)
        st.point(name, target)


def _adopt(st: LocalStorage, names: list[str]) -> None:
    """Give every plan of the old folders that has no manifest one (its files hard-linked
    into a generation): from here on the manifests hold every plan."""
    from . import datasets as ds

    keys = set()
    for name in names:
        keys.update(n[:-8] for n in st.listdir(name) if n.endswith(".parquet") and not n.startswith(("_", ".")))
    for key in sorted(keys):
        if not ds.KEY_RE.fullmatch(key) or ds.manifest(st, key) is not None:
            continue
        files = {n: f"{n}/{key}.parquet" for n in ds.PUBLISHED if n in names and st.exists(f"{n}/{key}.parquet")}
        info: dict[str, Any] = {"plan_id": None, "source_sha256": None, "source_path": None, "rejected_sha256": None}
        if "plans" in files:
            rows = st.read_parquet(files["plans"]).to_pylist()
            if rows:
                info.update({k: rows[0].get(k) for k in ("plan_id", "source_sha256", "source_path")})
        if "rejects" in files:
            rows = st.read_parquet(files["rejects"]).to_pylist()
            if rows:
                info["rejected_sha256"] = rows[0].get("source_sha256")
        ds.publish_generation(st, key, dict(files), info)


def _empty_old_folder(st: LocalStorage, name: str) -> None:
    """The old real folder after its exchange: delete what lives on elsewhere, keep the rest."""
    from . import datasets as ds

    aside = _aside(name)
    for f in st.listdir(aside):
        rel = f"{aside}/{f}"
        key = f[:-8] if f.endswith(".parquet") else None
        carried = (f == "_empty.parquet" or f.endswith(".tmp")
                   or (name in ds.WHOLE and f == f"{name}.parquet" and st.exists(f"{WHOLE_DIR}/{f}"))
                   or (name in ds.PUBLISHED and key and ds.KEY_RE.fullmatch(key) and ds.manifest(st, key)))
        if carried:
            st.remove(rel)
        else:
            st.move(rel, f"{MIGRATED}/{name}/{f}")
    st.remove_tree(aside)


def publish(out_or_st: Any) -> str | None:
    """Build a snapshot of the committed state and switch the documented view to it; the
    snapshot id (None on storage without links, where there is no snapshot)."""
    from .storage import storage_for

    st = storage_for(out_or_st)
    if not enabled(st):
        return None
    ensure_layout(st)
    with st.lock(VIEW_LOCK):
        return _build_and_switch(st)


def _build_and_switch(st: LocalStorage) -> str:
    from . import datasets as ds

    marks = ds.pending_keys(st)  # listed first: a mark written later stays for the next snapshot
    sid = f"{time.time_ns():019d}-{secrets.token_hex(3)}"
    base = f"{SNAPSHOTS}/{sid}"
    pairs = [(f"{EMPTY_DIR}/{name}.parquet", f"{base}/{name}/_empty.parquet") for name in ds.SCHEMAS]
    pairs += [(whole_path(name), f"{base}/{name}/{name}.parquet") for name in ds.WHOLE if st.exists(whole_path(name))]
    included: dict[str, str | None] = {}
    for key in ds.manifest_keys(st):
        man = ds.manifest(st, key)
        included[key] = ds.live_generation(man)
        if included[key] is not None:
            pairs += [(rel, f"{base}/{name}/{key}.parquet") for name, rel in sorted(man["files"].items())]
    try:
        st.link_many(pairs)
    except FileNotFoundError:  # a publication deleted a generation just read: plan by plan
        for key in included:
            included[key] = _link_plan(st, base, key)
    st.write_bytes(f"{base}/{INDEX}", json.dumps(included, sort_keys=True).encode())
    for name in st.listdir(base):
        if st.is_dir(f"{base}/{name}"):
            st.fsync_dir(f"{base}/{name}")
    st.fsync_dir(base)
    st.fsync_dir(SNAPSHOTS)
    previous = (st.readlink(CURRENT) or "").rsplit("/", 1)[-1]
    if st.is_dir(CURRENT):  # a copy made without keeping links (cp -rL): a stale copy of a snapshot
        st.remove_tree(CURRENT)
    st.point(CURRENT, base)
    for snap in st.listdir(SNAPSHOTS):
        if snap not in (sid, previous):
            st.remove_tree(f"{SNAPSHOTS}/{snap}")
    tmps = ds._tmp_listing(st)
    for key in marks:  # the plans this snapshot shows as committed are no longer pending
        with st.lock(key):
            man = ds.manifest(st, key)
            if ds.live_generation(man) == included.get(key):
                ds.finish(st, key, man)
                ds.clear_pending(st, key, tmps)
    return sid


def _link_plan(st: LocalStorage, base: str, key: str) -> str | None:
    """Link one plan's files as its manifest names them; the generation linked (None when
    the plan has no files).  A concurrent publication may delete the generation just read:
    then read the manifest again."""
    from . import datasets as ds

    for _attempt in range(20):
        for name in ds.PUBLISHED:
            st.remove(f"{base}/{name}/{key}.parquet")
        man = ds.manifest(st, key)
        gen = ds.live_generation(man)
        if gen is None:
            return None
        try:
            st.link_many([(rel, f"{base}/{name}/{key}.parquet") for name, rel in sorted(man["files"].items())])
            return gen
        except FileNotFoundError:
            continue
    raise RuntimeError(f"the manifest of {key} kept changing while a snapshot was built")


def whole_path(name: str) -> str:
    """Where a whole-file dataset is written on local storage (it enters the next snapshot)."""
    return f"{WHOLE_DIR}/{name}.parquet"


def clean_leftovers(st: LocalStorage) -> list[str]:
    """Temporary files a killed writer left in the root (a link being switched), in
    ``_whole`` (a cross-plan dataset being written), ``_empty`` and ``_rows``; removed under
    the view lock, which every writer of those folders holds (a ``_rows`` writer does not: it
    loses nothing but its copy when its temporary goes)."""
    def tmps() -> list[str]:
        return [f"{d}/{n}" if d else n for d in ("", WHOLE_DIR, EMPTY_DIR, ROWS_CACHE) for n in st.listdir(d)
                if n.startswith(".") and n.endswith(".tmp")]

    if not enabled(st) or not tmps():
        return []
    with st.lock(VIEW_LOCK):
        found = tmps()
        for rel in found:
            st.remove(rel)
    return found
