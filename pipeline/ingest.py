"""Run the main job on every plan file in the raw folder, in process, against the local
Dagster instance (``DAGSTER_HOME``; SQLite under the repository): ``python -m pipeline.ingest``.

This is what ``make run`` does: the same assets, checks and run history that ``dagster dev``
shows, without a server to start first.  It prints one line per file (tasks and review flags,
or why the file was rejected) and a summary; Dagster's own event log goes to the console
only with ``-v``.

Several raw folders can share one instance: partitions whose file is gone are retired only
when their published rows came from *this* raw folder, so ingesting another folder never
deletes the main folder's partitions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from dagster import DagsterInstance, materialize

from khsyt import datasets
from khsyt.extract import list_plan_files, partition_key

from .assets import curated_datasets, parsed_plans, plan_documents, plan_files, units
from .recovery import fail_crashed_runs
from .resources import PlanStore

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def open_instance() -> DagsterInstance:
    """The local instance, opened under a file lock: two `make run` started at once on a
    new instance would otherwise both create its SQLite schema and stamp two migration heads."""
    import fcntl

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


def _inside(path: str, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


def gone_partitions(store: PlanStore, known: set[str], keys: set[str]) -> list[str]:
    """Known partitions to retire: not in the folder now, and published from this folder."""
    sources = _source_paths(store)
    return sorted(k for k in known - keys if k in sources and _inside(sources[k], store.raw))


def outcome_line(key: str, res) -> str:
    """One line for a partition's run, from the events it recorded."""
    meta = {}
    for e in res.get_asset_materialization_events():
        meta[e.asset_key.to_user_string()] = {k: v.value for k, v in e.materialization.metadata.items()}
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


def run(store: PlanStore, instance: DagsterInstance, verbose: bool = False, echo=print) -> tuple[int, int]:
    """Materialize every plan file's partition, then the cross-plan datasets.

    Returns (files published, files rejected or failed)."""
    for run_id in fail_crashed_runs(instance):
        echo(f"run {run_id} had crashed: marked failed")
    datasets.ensure_dirs(store.curated)
    for k in datasets.repair(store.curated):
        echo(f"repaired an interrupted publication of {k}")
    files = list_plan_files(store.raw)
    keys = [partition_key(p, store.raw) for p in files]
    known = set(instance.get_dynamic_partitions(plan_files.name))
    register_partitions(instance, keys)
    for gone in gone_partitions(store, known, set(keys)):
        datasets.retire(store.curated, gone)
        instance.delete_dynamic_partition(plan_files.name, gone)
        echo(f"retired  {gone}: its file is no longer in {store.raw}")
    run_config = {} if verbose else QUIET_LOGS
    ok = failed = 0
    for k in keys:
        res = materialize([plan_documents, parsed_plans, curated_datasets], partition_key=k, instance=instance,
                          resources={"store": store}, raise_on_error=False, run_config=run_config)
        ok += res.success
        failed += not res.success
        echo(outcome_line(k, res))
    cross = materialize([units], instance=instance, resources={"store": store}, run_config=run_config,
                        raise_on_error=False)
    if cross.success:
        q = {e.asset_key.to_user_string(): e.materialization.metadata for e in cross.get_asset_materialization_events()}
        docs = q["plan_versions"]["documents"].value
        items = q["review_queue"]["dagster/row_count"].value
        echo(f"{docs} distinct documents in {ok} files; review queue: {items} items (make review)")
    else:
        echo("FAILED   cross-plan datasets (units, plan_versions, review_queue): see the Dagster UI")
        failed += 1
    return ok, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", default="data/raw")
    ap.add_argument("--curated", default="data/curated")
    ap.add_argument("--corrections", default="data/corrections")
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("-v", "--verbose", action="store_true", help="show Dagster's event log (DEBUG) on the console")
    a = ap.parse_args(argv)
    if not Path(a.raw).is_dir():
        print(f"no such folder: {a.raw}", file=sys.stderr)
        return 3
    store = PlanStore(raw_dir=a.raw, curated_dir=a.curated, corrections_dir=a.corrections, ocr_dpi=a.dpi)
    crashed = []

    def echo(line: str) -> None:
        print(line, flush=True)
        if line.startswith("FAILED"):
            crashed.append(line)

    with open_instance() as instance:
        ok, failed = run(store, instance, verbose=a.verbose, echo=echo)
    print(f"{ok} plan files published, {failed - len(crashed)} rejected, {len(crashed)} failed; "
          f"datasets in {a.curated}")
    # a rejected file is data (its reason is in `rejects` and in the UI); a crash or nothing published is not
    return 1 if crashed or (failed and not ok) else 0


if __name__ == "__main__":
    sys.exit(main())
