"""Run the main job on every plan file in the raw folder, in process, against the local
Dagster instance (``DAGSTER_HOME``; SQLite under the repository): ``python -m pipeline.ingest``.

This is what ``make run`` does: the same assets, checks and run history that ``dagster dev``
shows, without a server to start first.  Only plan files whose published rows are missing or
stale (other bytes, another pipeline version or settings) are extracted, in batch runs of up
to ``--batch`` plan files each, so that Dagster's per-run cost is paid once per batch.
"""

from __future__ import annotations

import argparse
import os
import sys

from dagster import DagsterInstance, materialize

from khsyt import datasets

from .assets import compacted_datasets, curated_datasets, parsed_plans, plan_documents, plan_files, units
from .freshness import BATCH_SIZE, contiguous_batches, published_state, range_tags, stale
from .io_managers import PlanModelIOManager
from .resources import PlanStore

PER_PLAN_ASSETS = [plan_documents, parsed_plans, curated_datasets]


def run(store: PlanStore, instance: DagsterInstance, batch_size: int = BATCH_SIZE, force: bool = False,
        io_manager: PlanModelIOManager | None = None) -> tuple[int, int]:
    """Register, retire and extract what changed; returns (plan files processed, runs failed)."""
    files = store.index()
    known = set(instance.get_dynamic_partitions(plan_files.name))
    instance.add_dynamic_partitions(plan_files.name, [k for k in sorted(files) if k not in known])
    gone = sorted(known - set(files))
    for k in gone:
        datasets.retire(store.curated, k)
        instance.delete_dynamic_partition(plan_files.name, k)
    todo = sorted(files) if force else stale(sorted(files), store.settings().fingerprint(),
                                             published_state(store.curated), store.sha256)
    print(f"{len(files)} plan files, {len(files) - len(todo)} up to date, {len(todo)} to extract, "
          f"{len(gone)} retired")
    resources = {"store": store, "io_manager": io_manager or PlanModelIOManager()}
    ok = failed = 0
    order = instance.get_dynamic_partitions(plan_files.name)
    for first, last in contiguous_batches(order, todo, batch_size):
        n = order.index(last) - order.index(first) + 1
        res = materialize(PER_PLAN_ASSETS, instance=instance, resources=resources,
                          tags=range_tags(first, last), raise_on_error=False)
        ok += n if res.success else 0
        failed += not res.success
        print(f"{'ok    ' if res.success else 'FAILED'} {first} … {last} ({n} plan files)" if n > 1 else
              f"{'ok    ' if res.success else 'FAILED'} {first}")
    if todo or gone or not (store.curated / "units" / "units.parquet").exists():
        materialize([units, compacted_datasets], instance=instance, resources={"store": store})
    return ok, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", default="data/raw")
    ap.add_argument("--curated", default="data/curated")
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--batch", type=int, default=BATCH_SIZE, help=f"plan files per run (default {BATCH_SIZE})")
    ap.add_argument("--force", action="store_true", help="extract every plan file, even unchanged ones")
    ap.add_argument("--models", default=os.environ.get("KHSYT_MODELS", ".dagster_home/plan_models"),
                    help="folder or s3:// prefix for the stored page models")
    a = ap.parse_args(argv)
    store = PlanStore(raw_dir=a.raw, curated_dir=a.curated, ocr_dpi=a.dpi)
    ok, failed = run(store, DagsterInstance.get(), batch_size=a.batch, force=a.force,
                     io_manager=PlanModelIOManager(base_dir=a.models))
    print(f"{ok} plan files processed, {failed} runs failed; datasets in {a.curated}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
