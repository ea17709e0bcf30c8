"""The embedded profile's event storage (pipeline/instance_storage.py) keeps what Dagster's own
SQLite storage keeps: a batch run over a range of partitions leaves the same materialized
partitions, latest materializations, asset records and check executions in both."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSpec,
    AssetKey,
    DagsterInstance,
    DynamicPartitionsDefinition,
    MaterializeResult,
    PreviewWarning,
    materialize,
    multi_asset,
)
from dagster import AssetSpec as Spec
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from pipeline.instance_storage import BatchedSqliteEventLogStorage, last_per_column

parts = DynamicPartitionsDefinition(name="parts")
KEYS = [f"p{i:02d}" for i in range(12)]
with warnings.catch_warnings():  # partitioned checks are a Dagster preview feature
    warnings.simplefilter("ignore", PreviewWarning)
    CHECKS = [AssetCheckSpec("left_ok", asset="left"), AssetCheckSpec("left_each", asset="left", partitions_def=parts)]


@multi_asset(specs=[Spec("left", partitions_def=parts), Spec("right", partitions_def=parts)],
             check_specs=CHECKS, partitions_def=parts, can_subset=False)
def pair(context):
    for key in context.partition_keys:
        context.add_asset_metadata({"n": int(key[1:])}, asset_key="left", partition_key=key)
    yield MaterializeResult(asset_key="left")
    yield MaterializeResult(asset_key="right")
    yield AssetCheckResult(asset_key="left", check_name="left_ok", passed=True)
    for key in context.partition_keys:  # one evaluation per partition (failed on odd ones)
        yield AssetCheckEvaluation(asset_key=AssetKey("left"), check_name="left_each", passed=int(key[1:]) % 2 == 0,
                                   partition=key, metadata={}, blocking=False)
    yield AssetCheckResult(asset_key="left", check_name="left_each", passed=False)  # the run's combined result


def _instance(home: Path, batched: bool) -> DagsterInstance:
    home.mkdir(parents=True)
    storage = (f"storage:\n  custom:\n    module: pipeline.instance_storage\n    class: BatchedSqliteStorage\n"
               f"    config:\n      base_dir: {home / 'storage'}\n") if batched else \
        f"storage:\n  sqlite:\n    base_dir: {home / 'storage'}\n"
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n" + storage)
    return DagsterInstance.from_config(str(home))


def _state(instance: DagsterInstance) -> dict:
    out = {}
    for name in ("left", "right"):
        key = AssetKey(name)
        records = instance.fetch_materializations(key, limit=1000).records  # newest first
        latest = records[0]
        (asset_record,) = instance.get_asset_records([key])
        entry = asset_record.asset_entry
        out[name] = {
            "partitions": sorted(instance.get_materialized_partitions(key)),
            "latest": (latest.partition_key, dict(latest.asset_materialization.metadata)),
            "asset_record_is_latest": entry.last_materialization_record.storage_id == latest.storage_id,
            "last_run_is_latest": entry.last_run_id == latest.run_id,
            "events": len(records),
        }
    storage = instance.event_log_storage
    check = AssetCheckKey(AssetKey("left"), "left_ok")
    out["check"] = [r.status.value for r in storage.get_asset_check_execution_history(check, 10)]
    each = AssetCheckKey(AssetKey("left"), "left_each")
    history = storage.get_asset_check_execution_history(each, 100)
    out["each"] = sorted((r.partition or "", r.status.value) for r in history)
    return out


@pytest.fixture(autouse=True)
def _batches(monkeypatch):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", os.environ.get("DAGSTER_EVENT_BATCH_SIZE", "1000"))


def test_batched_storage_keeps_what_dagsters_sqlite_storage_keeps(tmp_path):
    states = {}
    for batched in (False, True):
        with _instance(tmp_path / str(batched), batched) as instance:
            if batched:
                assert isinstance(instance.event_log_storage, BatchedSqliteEventLogStorage)
            instance.add_dynamic_partitions("parts", KEYS)
            for first, last in ((KEYS[0], KEYS[5]), (KEYS[3], KEYS[-1])):  # the second run overlaps the first
                res = materialize([pair], instance=instance, tags={ASSET_PARTITION_RANGE_START_TAG: first,
                                                                   ASSET_PARTITION_RANGE_END_TAG: last})
                assert res.success
            states[batched] = _state(instance)
    assert states[True] == states[False]
    assert states[True]["left"]["partitions"] == KEYS
    partition, meta = states[True]["left"]["latest"]
    assert partition in KEYS[3:] and meta["n"].value == int(partition[1:])  # from the second run
    assert states[True]["left"]["asset_record_is_latest"] and states[True]["left"]["last_run_is_latest"]
    assert states[True]["left"]["events"] == 6 + 9
    assert ("p03", "FAILED") in states[True]["each"] and ("p04", "SUCCEEDED") in states[True]["each"]


def test_last_per_column_keeps_the_last_event_of_each_kind_per_asset():
    class Event:
        def __init__(self, asset: str, kind: str) -> None:
            self.dagster_event_type, self._asset = kind, asset

        def get_dagster_event(self):
            return self

        @property
        def asset_key(self):
            return AssetKey(self._asset)

    batch = [Event("a", "PLANNED"), Event("b", "PLANNED"), Event("a", "MAT"), Event("a", "PLANNED"),
             Event("a", "MAT"), Event("b", "MAT")]
    kept = last_per_column(batch, list(range(10, 16)))
    assert [i for _, i in kept] == [11, 13, 14, 15]  # b planned, a planned, a materialized, b materialized


def test_event_log_commits_without_fsync_in_wal_mode(tmp_path):
    """The event log's connections: WAL journal (Dagster's), synchronous NORMAL (ours)."""
    with _instance(tmp_path / "home", batched=True) as instance:
        instance.add_dynamic_partitions("parts", KEYS[:2])
        storage = instance.event_log_storage
        with storage.index_connection() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def _schema(db: Path) -> tuple[list, list, str]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        master = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall())
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    return master, version, mode


def test_run_databases_are_made_as_dagsters_initdb_makes_them(tmp_path):
    """A run's event database comes from a copy of one made by Dagster's ``_initdb``: the same
    tables, indexes, alembic stamp and WAL mode as the run databases of Dagster's own storage,
    one copy per run, and the run's events read back."""
    dbs = {}
    for batched in (False, True):
        with _instance(tmp_path / str(batched), batched) as instance:
            instance.add_dynamic_partitions("parts", KEYS[:4])
            runs = [materialize([pair], instance=instance, tags={ASSET_PARTITION_RANGE_START_TAG: KEYS[0],
                                                                 ASSET_PARTITION_RANGE_END_TAG: KEYS[i]})
                    for i in (1, 3)]
            assert all(r.success for r in runs)
            assert [len(instance.all_logs(r.run_id)) > 10 for r in runs] == [True, True]
            if batched:
                assert instance.event_log_storage._template is not None  # the copy was used
            dbs[batched] = [tmp_path / str(batched) / "storage" / "history" / "runs" / f"{r.run_id}.db" for r in runs]
    assert all(p.exists() for ps in dbs.values() for p in ps)
    assert _schema(dbs[True][0]) == _schema(dbs[True][1]) == _schema(dbs[False][0])
    assert _schema(dbs[True][0])[2] == "wal"
    runs_dir = tmp_path / "True" / "storage" / "history" / "runs"
    leftovers = [p.name for p in runs_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_dynamic_partitions_read_from_memory_follow_every_writer(tmp_path):
    """The partition keys are answered from memory only while nothing was committed to the
    index since: keys added or deleted by this instance, by another instance on the same
    folder (another process: the daemon's sensor) and a delete-then-add of the same number of
    keys are all seen."""
    with _instance(tmp_path / "home", batched=True) as mine:
        storage = mine.event_log_storage
        mine.add_dynamic_partitions("parts", KEYS[:3])
        assert mine.get_dynamic_partitions("parts") == KEYS[:3]
        calls = []
        real = SqliteEventLogStorage.get_dynamic_partitions

        def counted(self, name):
            calls.append(name)
            return real(self, name)

        SqliteEventLogStorage.get_dynamic_partitions = counted
        try:
            assert [mine.get_dynamic_partitions("parts") for _ in range(3)] == [KEYS[:3]] * 3
            assert calls == []  # from memory
            assert storage.has_dynamic_partition("parts", KEYS[1]) and not storage.has_dynamic_partition("parts", "x")
            other = DagsterInstance.from_config(str(tmp_path / "home"))
            other.add_dynamic_partitions("parts", [KEYS[3]])
            assert mine.get_dynamic_partitions("parts") == KEYS[:4] and storage.has_dynamic_partition("parts", KEYS[3])
            other.delete_dynamic_partition("parts", KEYS[3])
            other.add_dynamic_partitions("parts", [KEYS[4]])  # same count, the newest id reused
            assert mine.get_dynamic_partitions("parts") == [*KEYS[:3], KEYS[4]]
            other.dispose()
            mine.delete_dynamic_partition("parts", KEYS[0])
            assert mine.get_dynamic_partitions("parts") == [*KEYS[1:3], KEYS[4]]
            assert len(calls) == 3
        finally:
            SqliteEventLogStorage.get_dynamic_partitions = real
