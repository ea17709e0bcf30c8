"""The one Definitions object of the khsyt code location (``dagster dev`` loads it)."""

from __future__ import annotations

from dagster import Definitions

from .assets import curated_datasets, parsed_plans, plan_documents, units
from .io_managers import PlanModelIOManager
from .resources import PlanStore
from .sensors import daily_ingest, ingest_plans, raw_files_sensor, refresh_units, units_sensor

defs = Definitions(
    assets=[plan_documents, parsed_plans, curated_datasets, units],
    jobs=[ingest_plans, refresh_units],
    sensors=[raw_files_sensor, units_sensor],
    schedules=[daily_ingest],
    resources={"store": PlanStore(), "io_manager": PlanModelIOManager()},
)
