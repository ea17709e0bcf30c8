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
import time
from pathlib import Path
from typing import TYPE_CHECKING

from khsyt import datasets
from khsyt.extract import Settings, list_plan_files, partition_key, sha256_of
from khsyt.objectstore import is_url
from khsyt.storage import storage_for

from .freshness import BATCH_SIZE, contiguous_batches, published_state, range_tags, stale

if TYPE_CHECKING:  # Dagster is imported only when there is work (see nothing_to_do)
    from dagster import DagsterInstance

    from .io_managers import PlanModelIOManager
    from .resources import PlanStore


def nothing_to_do(raw: Path, curated: Path | str, settings: Settings) -> str | None:
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



def run(store: PlanStore, instance: DagsterInstance, batch_size: int = BATCH_SIZE, force: bool = False,
        io_manager: PlanModelIOManager | None = None) -> tuple[int, int]:
    """Repair, register, retire and extract what changed; returns (plan files processed, runs failed)."""
    from dagster import materialize

    from .assets import compacted_datasets, curated_datasets, parsed_plans, plan_documents, plan_files, units
    from .io_managers import PlanModelIOManager
    from .recovery import fail_crashed_runs

    for run_id in fail_crashed_runs(instance):
        print(f"run {run_id} had crashed: marked failed")
    datasets.ensure_dirs(store.curated)
    for k in datasets.repair(store.curated):
        print(f"repaired an interrupted publication of {k}")
    files = store.index()
    register_partitions(instance, sorted(files))
    known = set(instance.get_dynamic_partitions(plan_files.name))
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
        res = materialize([plan_documents, parsed_plans, curated_datasets], instance=instance, resources=resources,
                          tags=range_tags(first, last), raise_on_error=False)
        ok += n if res.success else 0
        failed += not res.success
        print(f"{'ok    ' if res.success else 'FAILED'} {first} … {last} ({n} plan files)" if n > 1 else
              f"{'ok    ' if res.success else 'FAILED'} {first}")
    if todo or gone or not storage_for(store.curated).exists("units/units.parquet"):
        materialize([units, compacted_datasets], instance=instance, resources={"store": store})
    return ok, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", default="data/raw")
    ap.add_argument("--curated", default="data/curated")
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--no-ocr", action="store_true", help="never OCR (image-only pages are rejected)")
    ap.add_argument("--batch", type=int, default=BATCH_SIZE, help=f"plan files per run (default {BATCH_SIZE})")
    ap.add_argument("--force", action="store_true", help="extract every plan file, even unchanged ones")
    ap.add_argument("--models", default=os.environ.get("KHSYT_MODELS", ".dagster_home/plan_models"),
                    help="folder or s3:// prefix for the stored page models")
    a = ap.parse_args(argv)
    if not a.force and not is_url(a.raw) and not is_url(a.curated):
        report = nothing_to_do(Path(a.raw), Path(a.curated), Settings(ocr=not a.no_ocr, ocr_dpi=a.dpi))
        if report:
            print(report)
            return 0
    from .io_managers import PlanModelIOManager
    from .resources import PlanStore

    store = PlanStore(raw_dir=a.raw, curated_dir=a.curated, ocr=not a.no_ocr, ocr_dpi=a.dpi)
    ok, failed = run(store, open_instance(), batch_size=a.batch, force=a.force,
                     io_manager=PlanModelIOManager(base_dir=a.models))
    print(f"{ok} plan files processed, {failed} runs failed; datasets in {a.curated}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
