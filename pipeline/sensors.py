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
from khsyt.extract import list_plan_files, partition_key, sha256_of

from .assets import plan_files
from .recovery import fail_crashed_runs
from .resources import PlanStore

ingest_plans = define_asset_job(
    "ingest_plans",
    selection=["plan_documents", "parsed_plans", "plans", "tasks", "pages", "legal_refs", "tables", "rejects"],
    description="Extract one plan file and publish its rows to the curated datasets.",
)
refresh_units = define_asset_job("refresh_units", selection=["units"],
                                 description="Rebuild the cross-plan units dataset.")


def scan(store: PlanStore) -> dict[str, tuple[Path, str]]:
    """partition key → (file, a cheap fingerprint: size and mtime) of every plan file."""
    out = {}
    for p in list_plan_files(store.raw):
        st = p.stat()
        out[partition_key(p, store.raw)] = (p, f"{st.st_size}:{st.st_mtime_ns}")
    return out


@sensor(job=ingest_plans, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
        description="Picks up new, changed and deleted files in the raw folder.")
def raw_files_sensor(context: SensorEvaluationContext, store: PlanStore):
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    repaired = datasets.repair(store.curated)  # finish publications a killed run left half done
    fail_crashed_runs(context.instance)
    if repaired:
        context.log.info(f"repaired interrupted publications: {repaired}")
    files = scan(store)
    current = {k: fp for k, (_, fp) in files.items()}
    known = set(context.instance.get_dynamic_partitions(plan_files.name))
    new_keys = sorted(k for k in current if k not in known)
    touched = [k for k, fp in current.items() if previous.get(k) != fp]
    # A file whose size or time changed but whose published rows come from these very bytes
    # (e.g. the first tick after `make run`, or a copy that kept the content) needs no run.
    published = published_hashes(store) if touched else {}
    changed = sorted(k for k in touched if published.get(k) != sha256_of(files[k][0]))
    gone = sorted(k for k in known if k not in current)
    for k in gone:
        datasets.retire(store.curated, k)
    if not (new_keys or changed or gone):
        return SensorResult(skip_reason="no new, changed or deleted plan files",
                            cursor=json.dumps(current, sort_keys=True))
    requests = [RunRequest(partition_key=k, run_key=f"{k}:{current[k]}") for k in changed]
    context.log.info(f"new={new_keys} changed={changed} retired={gone}")
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
    d = store.curated / "tasks"
    stamp = ",".join(sorted(f"{p.name}:{p.stat().st_mtime_ns}" for p in d.glob("*.parquet"))) if d.is_dir() else ""
    if stamp == (context.cursor or ""):
        return SkipReason("tasks unchanged")
    # a stable key (str hash() differs between processes): one rebuild per state of the tasks
    return SensorResult(run_requests=[RunRequest(run_key=hashlib.sha256(stamp.encode()).hexdigest()[:16])],
                        cursor=stamp)


@schedule(job=ingest_plans, cron_schedule="0 6 * * *", default_status=DefaultScheduleStatus.RUNNING,
          description="Daily catch-up: extracts every plan file whose published rows are missing or stale.")
def daily_ingest(context: ScheduleEvaluationContext, store: PlanStore):
    datasets.repair(store.curated)
    published = published_hashes(store)
    known = set(context.instance.get_dynamic_partitions(plan_files.name))
    requests = []
    for p in list_plan_files(store.raw):
        k = partition_key(p, store.raw)
        sha = sha256_of(p)
        if k in known and published.get(k) != sha:
            requests.append(RunRequest(partition_key=k, run_key=f"{k}:{sha}"))
    return requests or SkipReason("every plan file is published and up to date")


def published_hashes(store: PlanStore) -> dict[str, str]:
    """partition key → SHA-256 of the file version whose rows are published."""
    return datasets.published_sha256(store.curated)
