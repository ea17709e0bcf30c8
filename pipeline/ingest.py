"""Run the main job on every plan file in the raw folder, in process, against the local
Dagster instance (``DAGSTER_HOME``; SQLite under the repository): ``python -m pipeline.ingest``.

This is what ``make run`` does: the same assets, checks and run history that ``dagster dev``
shows, without a server to start first.
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


def run(store: PlanStore, instance: DagsterInstance) -> tuple[int, int]:
    for run_id in fail_crashed_runs(instance):
        print(f"run {run_id} had crashed: marked failed")
    datasets.ensure_dirs(store.curated)
    for k in datasets.repair(store.curated):
        print(f"repaired an interrupted publication of {k}")
    files = list_plan_files(store.raw)
    keys = [partition_key(p, store.raw) for p in files]
    register_partitions(instance, keys)
    known = set(instance.get_dynamic_partitions(plan_files.name))
    for gone in sorted(known - set(keys)):
        datasets.retire(store.curated, gone)
        instance.delete_dynamic_partition(plan_files.name, gone)
    ok = failed = 0
    for k in keys:
        res = materialize([plan_documents, parsed_plans, curated_datasets], partition_key=k, instance=instance,
                          resources={"store": store}, raise_on_error=False)
        ok += res.success
        failed += not res.success
        print(f"{'ok    ' if res.success else 'FAILED'} {k}")
    materialize([units], instance=instance, resources={"store": store})
    return ok, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", default="data/raw")
    ap.add_argument("--curated", default="data/curated")
    ap.add_argument("--dpi", type=int, default=300)
    a = ap.parse_args(argv)
    store = PlanStore(raw_dir=a.raw, curated_dir=a.curated, ocr_dpi=a.dpi)
    ok, failed = run(store, open_instance())
    print(f"{ok} plan files processed, {failed} runs failed; datasets in {a.curated}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
