"""Ingestion triggers: a sensor watching data/raw and a daily catch-up schedule.

Both are on by default under ``dagster dev``.  The sensor's cursor remembers each file's
size and modification time: a new file gets a partition and a run, a changed file a new
run (its rows are replaced when the run publishes), a deleted file loses its partition and
its rows are retired from every curated dataset at once.
"""

import hashlib
import json
from pathlib import Path

from dagster import (
    AddDynamicPartitionsRequest,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    DeleteDynamicPartitionsRequest,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from khsyt import datasets
from khsyt.objectstore import FsspecStorage
from khsyt.storage import storage_for

from .assets import plan_files
from .freshness import contiguous_batches, published_state, range_tags, stale
from .recovery import fail_crashed_runs
from .resources import PlanStore

ingest_plans = define_asset_job(
    "ingest_plans",
    selection=["parsed_plans", "plans", "tasks", "pages", "legal_refs", "tables", "rejects"],
    description="Extract one plan file and publish its rows to the curated datasets.",
)
refresh_units = define_asset_job("refresh_units",
                                 selection=["units", "plan_versions", "review_queue", "compacted_datasets"],
                                 description="Rebuild the cross-plan datasets (units, plan_versions, review_queue) "
                                             "and the compacted datasets.")


def batch_requests(order: list[str], keys: list[str], stamps: dict[str, str]) -> list[RunRequest]:
    """Run requests covering ``keys``: one run per contiguous range of up to BATCH_SIZE plan files
    (in partition order), keyed by the files' stamps so that the same state is never run twice."""
    requests = []
    for first, last in contiguous_batches(order, keys):
        span = order[order.index(first): order.index(last) + 1]
        digest = hashlib.sha256("|".join(f"{k}:{stamps.get(k, '')}" for k in span).encode()).hexdigest()[:16]
        if first == last:
            requests.append(RunRequest(partition_key=first, run_key=f"{first}:{digest}"))
        else:
            requests.append(RunRequest(run_key=f"{first}..{last}:{digest}", tags=range_tags(first, last)))
    return requests


@sensor(job=ingest_plans, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Picks up new, changed and deleted files in the raw folder.")
def raw_files_sensor(context: SensorEvaluationContext, store: PlanStore):
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    repaired = datasets.repair(store.curated)  # finish publications a killed run left half done
    fail_crashed_runs(context.instance)
    if repaired:
        context.log.info(f"repaired interrupted publications: {repaired}")
    current = store.stamps()
    known = context.instance.get_dynamic_partitions(plan_files.name)
    known_set = set(known)
    new_keys = sorted(k for k in current if k not in known_set)
    touched = [k for k, fp in current.items() if previous.get(k) != fp]
    # A file whose size or time changed but whose published rows come from these very bytes
    # under the same pipeline and settings (e.g. the first tick after `make run`, or a copy
    # that kept the content) needs no run.
    state = published_state(store.curated) if touched else {}
    changed = stale(touched, store.settings().fingerprint(), state, store.sha256)
    gone = sorted(k for k in known if k not in current)
    for k in gone:
        datasets.retire(store.curated, k)
    if gone:  # the retired plans leave the documented folders together, in one switch
        datasets.publish_view(store.curated)
    if not (new_keys or changed or gone):
        return SensorResult(skip_reason="no new, changed or deleted plan files",
                            cursor=json.dumps(current, sort_keys=True))
    order = [k for k in known if k in current] + new_keys  # the order after this tick's requests
    requests = batch_requests(order, changed, current)
    context.log.info(f"new={len(new_keys)} changed={len(changed)} retired={len(gone)} runs={len(requests)}")
    return SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[
            *([AddDynamicPartitionsRequest(plan_files.name, new_keys)] if new_keys else []),
            *([DeleteDynamicPartitionsRequest(plan_files.name, gone)] if gone else []),
        ],
        cursor=json.dumps(current, sort_keys=True),
    )


@sensor(job=refresh_units, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="Rebuilds the units dataset when the published plans change.")
def units_sensor(context: SensorEvaluationContext, store: PlanStore):
    stamp = tasks_stamp(store)
    if stamp == (context.cursor or ""):
        return SkipReason("tasks unchanged")
    # a stable key (str hash() differs between processes): one rebuild per state of the tasks
    return SensorResult(run_requests=[RunRequest(run_key=hashlib.sha256(stamp.encode()).hexdigest()[:16])],
                        cursor=stamp)


def tasks_stamp(store: PlanStore) -> str:
    """The state of the published tasks files: name and modification time (ETag on object storage)."""
    st = storage_for(store.curated)
    if isinstance(st, FsspecStorage):
        try:
            entries = st.fs.ls(st.path("tasks"), detail=True, refresh=True)
        except FileNotFoundError:
            return ""
        return ",".join(sorted(f"{e['name'].rsplit('/', 1)[-1]}:{e.get('ETag') or e.get('mtime')}" for e in entries
                               if e["name"].endswith(".parquet")))
    d = Path(store.curated) / "tasks"
    return ",".join(sorted(f"{p.name}:{p.stat().st_mtime_ns}" for p in d.glob("*.parquet"))) if d.is_dir() else ""


@schedule(job=ingest_plans, cron_schedule="0 6 * * *", default_status=DefaultScheduleStatus.RUNNING,
          description="Daily catch-up: extracts every plan file whose published rows are missing or stale.")
def daily_ingest(context: ScheduleEvaluationContext, store: PlanStore):
    datasets.repair(store.curated)
    files = store.index()
    known = context.instance.get_dynamic_partitions(plan_files.name)
    todo = stale([k for k in known if k in files], store.settings().fingerprint(), published_state(store.curated),
                 store.sha256)
    stamps = {k: store.sha256(k) for k in todo}
    return batch_requests(known, todo, stamps) or SkipReason("every plan file is published and up to date")
