"""The embedded instance's SQLite storage, with asset events written in batches.

Dagster's SQLite event log opens a new engine, connection and transaction (a commit, so a
journal fsync) for every event it stores, twice for an asset event (the run's own database and
the cross-run index).  A batch run of 50 plans logs a few hundred asset events (one
``ASSET_MATERIALIZATION_PLANNED`` and one ``ASSET_MATERIALIZATION`` per asset partition), so
that connection churn, not the pipeline, was most of Dagster's cost per plan.

Dagster already hands such events over in batches when ``DAGSTER_EVENT_BATCH_SIZE`` is set
(the planned events of a run, the materializations of one output over its partitions);
Postgres (``dagster-postgres``) stores a batch in one statement, SQLite's base class stores it
one event at a time.  ``BatchedSqliteEventLogStorage.store_event_batch`` writes a batch of asset
events in one transaction per database, with the same rows (events, asset keys, event tags) as
one-by-one storage.  ``dagster.yaml`` selects it (``storage: custom:``); the databases it
writes are the standard SQLite ones under the same folders, so ``dagster dev`` and an instance
that used ``storage: sqlite:`` before read them unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData

#: Events per batch when the caller has not chosen (Dagster's batching is off at 0).
EVENT_BATCH_SIZE = "1000"


def enable_event_batches() -> None:
    """Turn on Dagster's event batching for this process (``DAGSTER_EVENT_BATCH_SIZE``), unless set."""
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log storage whose ``store_event_batch`` writes asset events in one
    transaction per database (run shard, index shard) instead of two per event."""

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,
                          config_value: Mapping[str, Any]) -> BatchedSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        batchable = [e for e in events if e.is_dagster_event and e.dagster_event_type in ASSET_EVENTS
                     and not e.get_dagster_event().is_asset_failed_to_materialize
                     and e.get_dagster_event().asset_key is not None]
        ids_batched = {id(e) for e in batchable}
        others = [e for e in events if id(e) not in ids_batched]
        by_run: dict[str, list[EventLogEntry]] = {}
        for e in batchable:
            by_run.setdefault(e.run_id, []).append(e)
        for run_id, batch in by_run.items():
            statements = [self.prepare_insert_event(e) for e in batch]
            with self.run_connection(run_id) as conn:
                for st in statements:
                    conn.execute(st)
            with self.index_transaction() as conn:
                ids = []
                for st in statements:
                    with db_result(conn, st) as result:
                        ids.append(result.inserted_primary_key[0])
                self._store_asset_event_tags(conn, batch, ids)
                for e, event_id in zip(batch, ids, strict=True):
                    self._store_asset_event(conn, e, event_id)
        for e in others:  # check planning, failures: as Dagster stores them
            self.store_event(e)


class BatchedSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, event log, schedules under ``base_dir``) with the
    batched event log above."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = BatchedSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,
                          config_value: Mapping[str, Any]) -> BatchedSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
