"""The one Definitions object of the khsyt code location (``dagster dev`` loads it).

One code base, two deployment profiles chosen by the environment:

- embedded (the default, ``make run`` / ``make ui``): local folders, the in-process/multiprocess
  executor, the SQLite instance of ``dagster.yaml``;
- production (``make serve``, docs/deployment.md): ``KHSYT_EXECUTOR=celery`` sends every step to
  Celery workers through the broker ``KHSYT_CELERY_BROKER``; the instance in
  ``deploy/production/dagster.yaml`` keeps runs and events in Postgres.  ``KHSYT_RAW``,
  ``KHSYT_CURATED`` and ``KHSYT_MODELS`` may be local folders every machine mounts or ``s3://…``.
"""

from __future__ import annotations

import os

from dagster import Definitions, ExecutorDefinition

from .assets import compacted_datasets, curated_datasets, parsed_plans, units
from .instance_storage import enable_event_batches
from .io_managers import PlanModelIOManager
from .resources import PlanStore
from .sensors import daily_ingest, ingest_plans, raw_files_sensor, refresh_units, units_sensor


def executor_from_env() -> ExecutorDefinition | None:
    """The Celery executor when ``KHSYT_EXECUTOR=celery``, else Dagster's default."""
    kind = os.environ.get("KHSYT_EXECUTOR", "").lower()
    if kind in ("", "default", "multiprocess"):
        return None
    if kind != "celery":
        raise ValueError(f"KHSYT_EXECUTOR={kind!r}: expected 'celery' or nothing")
    from dagster_celery import celery_executor

    return celery_executor.configured({
        "broker": {"env": "KHSYT_CELERY_BROKER"},
        "backend": {"env": "KHSYT_CELERY_BACKEND"},
    })


def store_from_env() -> PlanStore:
    return PlanStore(raw_dir=os.environ.get("KHSYT_RAW", "data/raw"),
                     curated_dir=os.environ.get("KHSYT_CURATED", "data/curated"))


enable_event_batches()  # the run workers the webserver and daemon launch load this module
defs = Definitions(
    assets=[parsed_plans, curated_datasets, units, compacted_datasets],
    jobs=[ingest_plans, refresh_units],
    sensors=[raw_files_sensor, units_sensor],
    schedules=[daily_ingest],
    resources={"store": store_from_env(),
               "io_manager": PlanModelIOManager(base_dir=os.environ.get("KHSYT_MODELS", ".dagster_home/plan_models"))},
    executor=executor_from_env(),
)
