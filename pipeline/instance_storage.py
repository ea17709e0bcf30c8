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

import atexit
import os
import secrets
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy.event
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData, serialize_value
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool, QueuePool

#: Events per batch when the caller has not chosen (Dagster's batching is off at 0).
EVENT_BATCH_SIZE = "1000"


def enable_event_batches() -> None:
    """Turn on Dagster's event batching for this process (``DAGSTER_EVENT_BATCH_SIZE``), unless set."""
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)


#: SQLAlchemy engines kept per storage (the databases of the last runs and the index), each
#: with its SQLite connection open.
ENGINES_KEPT = 8


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log storage whose ``store_event_batch`` writes asset events in one
    transaction per database (run shard, index shard) instead of two per event.

    The rows of a batch go in as one statement executed for many rows (the index returns
    their ids in order).  Two more savings, same rows: within a batch the ``asset_keys`` row of an asset (its last
    materialization, last run, last event time) is written once, from the last events that
    set each column, not once per event (each write serialised the whole event again); and
    the SQLAlchemy engine of a database is built once and its connection kept open, not built,
    connected and disposed for every event as in Dagster's SQLite storage (closing the last
    connection of a WAL database checkpoints it); its connections commit without an fsync
    (``EVENT_LOG_SYNC``)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        if EVENT_LOG_SYNC not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"KHSYT_EVENT_LOG_SYNC={EVENT_LOG_SYNC!r}: expected NORMAL, FULL or EXTRA")
        self._engines: OrderedDict[tuple[int, str], Any] = OrderedDict()
        self._tables_seen: set[str] = set()
        self._template: bytes | None = None
        self._partition_lists: dict[str, tuple[tuple[str, int, int], tuple[str, ...]]] = {}
        self._partition_writes = 0
        super().__init__(base_dir, inst_data=inst_data)
        _OPEN.add(self)  # closed at exit: the last close of a WAL database checkpoints it

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,
                          config_value: Mapping[str, Any]) -> BatchedSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str):
        key = (os.getpid(), shard)  # an engine is not carried over a fork
        engine = self._engines.pop(key, None)
        if engine is None:
            # one connection kept open per database (calls are serialised by _db_lock): closing
            # the last connection to a WAL database checkpoints it, an fsync'd copy per event
            engine = create_engine(self.conn_string_for_shard(shard), poolclass=QueuePool, pool_size=1,
                                   max_overflow=2, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            sqlalchemy.event.listen(engine, "connect", _event_log_pragmas)
        self._engines[key] = engine
        while len(self._engines) > ENGINES_KEPT:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """Dagster's ``_connect`` (lock, schema on first use, one transaction) on a kept engine."""
        with self._db_lock:
            if shard not in self._initialized_dbs and self._created_from_template(shard):
                self._initialized_dbs.add(shard)
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _created_from_template(self, shard: str) -> bool:
        """Create a new run's database as a copy of an empty one made by Dagster's own
        ``_initdb`` (tables, indexes, WAL mode, the alembic stamp), once per process.

        ``_initdb`` inspects the alembic scripts and creates every table and index for each run:
        1.4 % of a 1,000-plan ingest, one run per batch.  The copy is the same bytes; it is
        linked into place (never over an existing file: another process may have made it) and
        only for a run shard that does not exist yet, else Dagster's ``_initdb`` runs."""
        path = self.path_for_shard(shard)
        if shard == INDEX_SHARD_NAME or os.path.exists(path):
            return False
        if self._template is None:
            made = os.path.join(self._base_dir, f".template-{os.getpid()}-{secrets.token_hex(4)}.db")
            engine = create_engine(self.conn_string_for_shard(os.path.basename(made)[:-3]), poolclass=NullPool)
            try:
                self._initdb(engine)
            finally:
                engine.dispose()  # the last connection closed: WAL checkpointed and removed
            with open(made, "rb") as fh:
                self._template = fh.read()
            os.remove(made)
        tmp = os.path.join(self._base_dir, f".{shard}-{secrets.token_hex(4)}.db.tmp")
        with open(tmp, "wb") as fh:
            fh.write(self._template)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            os.remove(tmp)
        return True

    def _partitions_stamp(self) -> tuple[str, int, int]:
        """What the dynamic partitions of the index were read under: the connection, SQLite's
        ``data_version`` on it (it changes when any other connection, of any process, commits to
        the database) and this storage's own count of partition writes (its own connection's
        commits do not change ``data_version``)."""
        with self.index_connection() as conn:
            token = conn.connection.info.setdefault("khsyt_connection", secrets.token_hex(8))
            return token, conn.exec_driver_sql("PRAGMA data_version").scalar(), self._partition_writes

    def _cached_partitions(self, partitions_def_name: str) -> tuple[str, ...] | None:
        hit = self._partition_lists.get(partitions_def_name)
        return hit[1] if hit is not None and hit[0] == self._partitions_stamp() else None

    def get_dynamic_partitions(self, partitions_def_name: str) -> Sequence[str]:
        """Dagster's query, answered again from memory while nothing was committed to the index
        since: Dagster asks for every key of the partitions definition several times per run
        (each asset's planned events, the range of the run), O(plans) per run."""
        keys = self._cached_partitions(partitions_def_name)
        if keys is None:
            stamp = self._partitions_stamp()  # read first: a commit after it only makes it stale
            keys = tuple(super().get_dynamic_partitions(partitions_def_name))
            self._partition_lists[partitions_def_name] = (stamp, keys)
        return list(keys)

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        keys = self._cached_partitions(partitions_def_name)
        return partition_key in keys if keys is not None else super().has_dynamic_partition(
            partitions_def_name, partition_key)

    def add_dynamic_partitions(self, partitions_def_name: str, partition_keys: Sequence[str]) -> None:
        self._partition_writes += 1
        self._partition_lists.clear()
        super().add_dynamic_partitions(partitions_def_name, partition_keys)

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        self._partition_writes += 1
        self._partition_lists.clear()
        super().delete_dynamic_partition(partitions_def_name, partition_key)

    def has_table(self, table_name: str) -> bool:
        """Whether the index has a table; a table once found is not looked up again (tables
        are only added by migrations; a wipe forgets what was seen)."""
        if table_name in self._tables_seen:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables_seen.add(table_name)
        return found

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._tables_seen.clear()
        self._partition_writes += 1
        self._partition_lists.clear()
        self._dispose_engines()  # no connection left on a database file the wipe deletes
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()

    def _store_asset_check_evaluation_planned(self, event: EventLogEntry, event_id: int | None) -> None:
        """Dagster's rows of a planned check (one per partition of the run), with the event
        serialised once for all of them instead of once per partition."""
        planned = event.get_dagster_event().event_specific_data
        keys = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        common = {"asset_key": planned.asset_key.to_string(), "check_name": planned.check_name,
                  "run_id": event.run_id, "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
                  "evaluation_event": serialize_value(event),
                  "evaluation_event_timestamp": self._event_insert_timestamp(event),
                  "evaluation_event_storage_id": event_id}
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert(), [{**common, "partition": k} for k in keys])

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
            rows = [self._event_to_row(e) for e in batch]  # what prepare_insert_event inserts
            with self.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.insert(), rows)  # one compiled statement, many rows
            with self.index_transaction() as conn:
                inserted = conn.execute(SqlEventLogStorageTable.insert().returning(
                    SqlEventLogStorageTable.c.id, sort_by_parameter_order=True), rows)
                ids = [row[0] for row in inserted]
                self._store_asset_event_tags(conn, batch, ids)
                for e, event_id in last_per_column(batch, ids):
                    self._store_asset_event(conn, e, event_id)
        for e in others:  # check planning, failures: as Dagster stores them
            self.store_event(e)


#: Storages with kept connections, closed when the process exits.
_OPEN: weakref.WeakSet[BatchedSqliteEventLogStorage] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for storage in list(_OPEN):
        storage._dispose_engines()


#: ``synchronous`` of the event log's SQLite connections (``KHSYT_EVENT_LOG_SYNC=FULL`` restores
#: SQLite's default).  The databases are in WAL mode, where NORMAL stays consistent after any
#: crash and commits without an fsync (the WAL is synced at checkpoints): a machine crash or
#: power loss may lose the run history's last events, never corrupt it.  A commit per check
#: evaluation (three databases each) was, with its fsyncs, a tenth of a 1,000-plan ingest.
#: The run storage (``runs.db``: which runs exist and their status) and the curated datasets'
#: publication keep their own syncing.
EVENT_LOG_SYNC = os.environ.get("KHSYT_EVENT_LOG_SYNC", "NORMAL").upper()


def _event_log_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA synchronous={EVENT_LOG_SYNC}")
    cursor.close()


def last_per_column(batch: Sequence[EventLogEntry], ids: Sequence[int]) -> list[tuple[EventLogEntry, int]]:
    """The events of a batch whose ``asset_keys`` writes, in batch order, leave that table as
    writing every event would: per asset, the last event of each kind (materialization,
    planned, observation).  Each kind sets the same columns every time, and a later write of
    a column replaces an earlier one, so only the last of a kind can leave a value."""
    last: dict[tuple[str, Any], int] = {}
    for i, e in enumerate(batch):
        last[(e.get_dagster_event().asset_key.to_string(), e.dagster_event_type)] = i
    return [(batch[i], ids[i]) for i in sorted(last.values())]


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
