"""Run the main job on every plan file in the raw folder, in process, against the local
Dagster instance (``DAGSTER_HOME``; SQLite under the repository): ``python -m pipeline.ingest``.

This is what ``make run`` does: the same assets, checks and run history that ``dagster dev``
shows, without a server to start first.  It prints one line per plan file (tasks and review
flags, or why the file was rejected) and a summary; Dagster's own event log goes to the console
only with ``-v``.  Several raw folders can share one instance: a partition whose file is gone is
retired only when its published rows came from *this* raw folder, so ingesting another folder
never deletes the main folder's partitions.  Plans with a correction newer than their published
rows are published again (corrections are re-applied at publication).  Only plan files whose
published rows are missing or stale (other bytes, another pipeline version or settings) are
extracted, in batch runs of up to ``--batch`` plan files each, so that Dagster's per-run cost is paid once per batch.
The batches' plans enter the documented view together with the cross-plan datasets built from
them, in the switch of the cross-plan run that follows (``VIEW_TAG``): one switch per ingest.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from khsyt import datasets
from khsyt.corrections import pending_keys
from khsyt.extract import Settings, list_plan_files, partition_key, sha256_of
from khsyt.objectstore import is_url
from khsyt.storage import storage_for

from .freshness import BATCH_SIZE, contiguous_batches, published_state, range_tags, stale

#: Dagster's console log off (its DEBUG event log is ~50 lines per file); ``-v`` brings it back.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}

if TYPE_CHECKING:  # Dagster is imported only when there is work (see nothing_to_do)
    from dagster import DagsterInstance

    from .io_managers import PlanModelIOManager
    from .resources import PlanStore


def nothing_to_do(raw: Path, curated: Path | str, settings: Settings,
                  corrections: Path | None = None) -> str | None:
    """A report when every plan file of a local raw folder is published from its current bytes
    under the current fingerprint, nothing published has lost its file, and the derived datasets
    exist — checked without loading Dagster, so a re-run with nothing new costs about a second.
    None when there is anything to do (the normal run then also recovers crashed runs)."""
    for k in datasets.repair(curated):
        print(f"repaired an interrupted publication of {k}")
    files = {partition_key(p, raw): p for p in list_plan_files(raw)}
    published = datasets.published_keys(curated)
    if published - set(files):
        return None
    if corrections is not None and pending_keys(corrections, Path(curated)):
        return None
    st = storage_for(curated)
    if not (st.exists("units/units.parquet") and st.exists("compacted")):
        return None
    if stale(sorted(files), settings.fingerprint(), published_state(curated), lambda k: sha256_of(files[k])):
        return None
    return f"{len(files)} plan files, {len(files)} up to date, nothing to extract or retire"

def open_instance() -> DagsterInstance:
    """The local instance, opened under a file lock: two `make run` started at once on a
    new instance would otherwise both create its SQLite schema and stamp two migration heads."""
    import fcntl

    from dagster import DagsterInstance

    from .assets import plan_files

    home = Path(os.environ.get("DAGSTER_HOME") or ".")
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".khsyt-instance.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        instance = DagsterInstance.get()
        instance.get_dynamic_partitions(plan_files.name)  # creates the storage while locked
        instance.get_run_records(limit=1)
        return instance


def register_partitions(instance: DagsterInstance, keys: list[str]) -> None:
    """Add the partitions not yet known, idempotently: another run registering the same
    keys at the same moment makes the insert fail on the unique constraint; then the keys
    are read again and only those still missing are added (a few tries)."""
    from .assets import plan_files

    for attempt in range(5):
        known = set(instance.get_dynamic_partitions(plan_files.name))
        missing = [k for k in dict.fromkeys(keys) if k not in known]
        if not missing:
            return
        try:
            instance.add_dynamic_partitions(plan_files.name, missing)
            return
        except Exception:  # IntegrityError of SQLite or Postgres, wrapped differently per storage
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))



def _source_paths(store: PlanStore) -> dict[str, str]:
    """partition key → source path of its published rows (plans or rejects) in this curated folder."""
    from khsyt.cross_plan import read_rows

    out = {r["partition_key"]: r["source_path"] for r in read_rows(store.curated, "rejects", ["source_path"])}
    out.update({r["partition_key"]: r["source_path"] for r in read_rows(store.curated, "plans", ["source_path"])})
    return out


def _inside(path: str, folder: str) -> bool:
    if "://" in folder or "://" in path:  # object storage: the raw prefix
        return path.startswith(folder.rstrip("/") + "/")
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, ValueError):
        return False


def gone_partitions(store: PlanStore, known: set[str], keys: set[str]) -> list[str]:
    """Known partitions to retire: not in the folder now, and published from this folder."""
    sources = _source_paths(store)
    return sorted(k for k in known - keys if k in sources and _inside(sources[k], store.raw_dir))


def outcome_lines(keys: list[str], res) -> list[str]:
    """One line per partition of a (batch) run, from the metadata its events recorded."""
    meta: dict[str, dict[str, dict]] = {}
    for e in res.get_asset_materialization_events():
        m = meta.setdefault(e.partition or "", {}).setdefault(e.asset_key.to_user_string(), {})
        m.update({k: v.value for k, v in e.materialization.metadata.items()})
    return [outcome_line(k, res, meta.get(k, {})) for k in keys]


def outcome_line(key: str, res, meta: dict[str, dict]) -> str:
    """One line for a partition: ok with tasks and flags, REJECTED with the reason, or FAILED."""
    rej = meta.get("rejects", {})
    if rej.get("rejected"):
        return f"REJECTED {key} [{rej.get('stage')}] {rej.get('reason')}"
    if not res.success:
        failure = next((e for e in res.all_events if e.is_step_failure), None)
        why = failure.step_failure_data.error.message.strip().splitlines()[0] if failure else "run failed"
        return f"FAILED   {key}: {why} (run {res.run_id[:8]}, see the Dagster UI)"
    report = meta.get("parsed_plans", {})
    flags = str(report.get("needs_review", "") or "")
    flags = "" if flags == "nothing flagged" else "; flags: " + "; ".join(ln.lstrip("- ") for ln in flags.splitlines())
    return f"ok       {key}: {report.get('task_count', '?')} tasks{flags}"


def run(store: PlanStore, instance: DagsterInstance, batch_size: int = BATCH_SIZE, force: bool = False,
        io_manager: PlanModelIOManager | None = None, verbose: bool = False, echo=print) -> tuple[int, int]:
    """Repair, register, retire and extract what changed; returns (plan files processed, runs failed)."""
    from dagster import materialize

    from .assets import VIEW_DEFERRED, VIEW_TAG, compacted_datasets, curated_datasets, parsed_plans, plan_files, units
    from .instance_storage import enable_event_batches
    from .io_managers import PlanModelIOManager
    from .recovery import HOST_TAG, fail_crashed_runs

    enable_event_batches()

    host = {HOST_TAG: socket.gethostname()}  # recovery judges only the runs of its own host

    for run_id in fail_crashed_runs(instance):
        echo(f"run {run_id} had crashed: marked failed")
    datasets.ensure_dirs(store.curated)
    for k in datasets.repair(store.curated):
        echo(f"repaired an interrupted publication of {k}")
    files = store.index()
    known = set(instance.get_dynamic_partitions(plan_files.name))
    register_partitions(instance, sorted(files))
    gone = gone_partitions(store, known, set(files))
    for k in gone:
        datasets.retire(store.curated, k)
        instance.delete_dynamic_partition(plan_files.name, k)
    todo = sorted(files) if force else stale(sorted(files), store.settings().fingerprint(),
                                             published_state(store.curated), store.sha256)
    corrected = sorted(pending_keys(store.corrections, store.curated) & set(files) - set(todo))
    todo = sorted({*todo, *corrected})
    echo(f"{len(files)} plan files, {len(files) - len(todo)} up to date, {len(todo)} to extract"
         + (f" ({len(corrected)} for corrections)" if corrected else "") + f", {len(gone)} retired")
    resources = {"store": store, "io_manager": io_manager or PlanModelIOManager()}
    run_config = {} if verbose else QUIET_LOGS
    ok = failed = 0
    order = instance.get_dynamic_partitions(plan_files.name)
    for first, last in contiguous_batches(order, todo, batch_size):
        span = order[order.index(first): order.index(last) + 1]
        res = materialize([parsed_plans, curated_datasets], instance=instance, resources=resources,
                          tags={**range_tags(first, last), **host, VIEW_TAG: VIEW_DEFERRED},
                          raise_on_error=False, run_config=run_config)
        ok += len(span) if res.success else 0
        failed += not res.success
        for line in outcome_lines(span, res):
            echo(line)
    if todo or gone or not storage_for(store.curated).exists("units/units.parquet"):
        cross = materialize([units, compacted_datasets], instance=instance, resources={"store": store},
                            run_config=run_config, raise_on_error=False, tags=host)
        if cross.success:
            q = {e.asset_key.to_user_string(): e.materialization.metadata
                 for e in cross.get_asset_materialization_events()}
            echo(f"{q['plan_versions']['documents'].value} distinct documents in {q['plan_versions']['files'].value} "
                 f"files; review queue: {q['review_queue']['dagster/row_count'].value} items (make review)")
        else:
            echo("FAILED   cross-plan datasets (units, plan_versions, review_queue, compacted): see the Dagster UI")
            failed += 1
            datasets.publish_view(store.curated)  # the batches' plans are shown all the same
    return ok, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", default="data/raw")
    ap.add_argument("--curated", default="data/curated")
    ap.add_argument("--corrections", default="data/corrections", help="analysts' corrections to re-apply")
    ap.add_argument("-v", "--verbose", action="store_true", help="show Dagster's event log (DEBUG) on the console")
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--no-ocr", action="store_true", help="never OCR (image-only pages are rejected)")
    ap.add_argument("--batch", type=int, default=BATCH_SIZE, help=f"plan files per run (default {BATCH_SIZE})")
    ap.add_argument("--force", action="store_true", help="extract every plan file, even unchanged ones")
    ap.add_argument("--models", default=os.environ.get("KHSYT_MODELS", ".dagster_home/plan_models"),
                    help="folder or s3:// prefix for the stored page models")
    a = ap.parse_args(argv)
    if not a.force and not is_url(a.raw) and not is_url(a.curated):
        if not Path(a.raw).is_dir():
            print(f"no such folder: {a.raw}", file=sys.stderr)
            return 3
        report = nothing_to_do(Path(a.raw), Path(a.curated), Settings(ocr=not a.no_ocr, ocr_dpi=a.dpi),
                               Path(a.corrections))
        if report:
            print(report)
            return 0
    from .io_managers import PlanModelIOManager
    from .resources import PlanStore

    store = PlanStore(raw_dir=a.raw, curated_dir=a.curated, corrections_dir=a.corrections, ocr=not a.no_ocr,
                      ocr_dpi=a.dpi)
    lines: list[str] = []

    def echo(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    ok, failed = run(store, open_instance(), batch_size=a.batch, force=a.force,
                     io_manager=PlanModelIOManager(base_dir=a.models), verbose=a.verbose, echo=echo)
    published = sum(ln.startswith("ok ") for ln in lines)
    rejected = sum(ln.startswith("REJECTED") for ln in lines)
    crashed = [ln for ln in lines if ln.startswith("FAILED")]
    print(f"{published} plan files published, {rejected} rejected, {len(crashed)} failed; datasets in {a.curated}")
    # a rejected file is data (its reason is in `rejects` and in the UI); a crash is not
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
