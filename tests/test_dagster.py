"""The Dagster code location: definitions load, a plan file's partition materializes into the
curated datasets with its asset checks recorded, and the sensor follows the raw folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from dagster import (
    AddDynamicPartitionsRequest,
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    DagsterInstance,
    DeleteDynamicPartitionsRequest,
    SensorResult,
    build_sensor_context,
    materialize,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from khsyt.datasets import PER_PLAN, SCHEMAS
from khsyt.extract import partition_key
from pipeline.assets import CHECKS, CURATED, curated_datasets, parsed_plans, plan_files, units
from pipeline.definitions import defs
from pipeline.io_managers import PlanModelIOManager
from pipeline.resources import PlanStore
from pipeline.sensors import raw_files_sensor

pytestmark = pytest.mark.slow

FILES = ("001_174c7ea9301aa0d6.pdf", "003_453ccdb535033752.txt")
KEYS = tuple(partition_key(f) for f in FILES)
CHECK_NAMES = {spec.name for spec in CHECKS}


def _sensor(instance: DagsterInstance, store: PlanStore, cursor: str | None = None):
    with build_sensor_context(instance=instance, resources={"store": store}, cursor=cursor) as ctx:
        return raw_files_sensor(ctx)


def _apply(instance: DagsterInstance, result: SensorResult) -> None:
    """Do what the sensor daemon does with the sensor's partition requests."""
    for req in result.dynamic_partitions_requests:
        if isinstance(req, AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
        elif isinstance(req, DeleteDynamicPartitionsRequest):
            for k in req.partition_keys:
                instance.delete_dynamic_partition(req.partitions_def_name, k)


@pytest.fixture(scope="module")
def env(raw_dir, tmp_path_factory):
    """A raw folder with two sample plans, an ephemeral instance, the sensor's first tick
    applied and both partitions materialized once."""
    tmp = tmp_path_factory.mktemp("dagster")
    raw, curated = tmp / "raw", tmp / "curated"
    raw.mkdir()
    for f in FILES:
        shutil.copy(raw_dir / f, raw / f)
    store = PlanStore(raw_dir=str(raw), curated_dir=str(curated), ocr=False)
    instance = DagsterInstance.ephemeral()
    first = _sensor(instance, store)
    _apply(instance, first)
    results = {
        k: materialize([parsed_plans, curated_datasets], partition_key=k, instance=instance,
                       resources={"store": store}, raise_on_error=False)
        for k in KEYS
    }
    yield {"raw": raw, "curated": curated, "store": store, "instance": instance, "first_tick": first,
           "results": results}
    instance.dispose()


def test_definitions_load_and_validate():
    defs.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"parsed_plans", "units", *CURATED} <= keys
    assert "plan_documents" not in keys  # read and parsed in one step
    assert defs.resolve_job_def("ingest_plans").partitions_def.name == plan_files.name
    assert defs.resolve_job_def("refresh_units") is not None
    assert {s.name for s in defs.sensors} == {"raw_files_sensor", "units_sensor"}
    assert {c.name for c in graph.asset_check_keys} == CHECK_NAMES
    assert isinstance(defs.resources["store"], PlanStore)


def test_first_sensor_tick_adds_partitions_and_requests_runs(env):
    first = env["first_tick"]
    assert isinstance(first, SensorResult)
    adds = [r for r in first.dynamic_partitions_requests if isinstance(r, AddDynamicPartitionsRequest)]
    assert len(adds) == 1 and adds[0].partitions_def_name == "plan_files"
    assert sorted(adds[0].partition_keys) == sorted(KEYS)
    # both new files in one batch run over the range of their partitions
    (req,) = first.run_requests
    assert req.partition_key is None
    assert (req.tags[ASSET_PARTITION_RANGE_START_TAG], req.tags[ASSET_PARTITION_RANGE_END_TAG]) == tuple(sorted(KEYS))
    assert sorted(json.loads(first.cursor)) == sorted(KEYS)
    partitions = env["instance"].get_dynamic_partitions("plan_files")
    assert sorted(partitions) == sorted(KEYS)
    for k in partitions:
        assert "." not in k and "/" not in k and k


@pytest.mark.parametrize("key", KEYS)
def test_partition_materializes_into_the_curated_datasets(env, key):
    result = env["results"][key]
    assert result.success
    curated = env["curated"]
    for name in PER_PLAN:
        f = curated / name / f"{key}.parquet"
        assert f.exists(), f
        assert set(pd.read_parquet(f)["plan_id"]) == {pd.read_parquet(curated / "plans" / f"{key}.parquet")
                                                       ["plan_id"].iloc[0]}
    assert not (curated / "rejects" / f"{key}.parquet").exists()
    for name in SCHEMAS:  # every dataset has at least its empty file, so readers never fail
        assert (curated / name / "_empty.parquet").exists()
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"parsed_plans", *CURATED}
    assert all(e.materialization.partition == key for e in result.get_asset_materialization_events())


@pytest.mark.parametrize("key", KEYS)
def test_metadata_reports_the_task_count(env, key):
    result = env["results"][key]
    n = len(pd.read_parquet(env["curated"] / "tasks" / f"{key}.parquet"))
    assert n > 10
    meta = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    for asset in ("parsed_plans", "plans", "tasks"):
        assert meta[asset]["task_count"].value == n, asset
    assert meta["pages"]["dagster/row_count"].value == len(pd.read_parquet(env["curated"] / "pages" / f"{key}.parquet"))
    assert meta["tasks"]["dagster/row_count"].value == n
    plan_id = pd.read_parquet(env["curated"] / "plans" / f"{key}.parquet")["plan_id"].iloc[0]
    assert meta["parsed_plans"]["plan_id"].value == plan_id
    # how the file was read is part of the same report (read and parsed in one step)
    pages = pd.read_parquet(env["curated"] / "pages" / f"{key}.parquet")
    assert meta["parsed_plans"]["page_count"].value == len(pages)
    assert sum(meta["parsed_plans"]["pages_by_method"].value.values()) == len(pages)
    assert meta["parsed_plans"]["source_path"].value.endswith(FILES[KEYS.index(key)])
    assert result.output_for_node("parsed_plans")[key].plan["n_tasks"] == n
    # the per-plan report shows how each table was read; the tables dataset holds the same rows
    tables = pd.read_parquet(env["curated"] / "tables" / f"{key}.parquet")
    assert meta["tables"]["dagster/row_count"].value == len(tables) and tables["is_task_table"].any()
    for report in (meta["parsed_plans"]["tables"].value, meta["tables"]["report"].value):
        assert "header → role ← evidence" in report and "header:" in report


@pytest.mark.parametrize("key", KEYS)
def test_asset_checks_pass_and_are_recorded(env, key):
    result = env["results"][key]
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == CHECK_NAMES
    failed = {n: e.metadata for n, e in evaluations.items() if not e.passed}
    # units outside the registry are a warning that lists them, never a silent pass
    tasks = pd.read_parquet(env["curated"] / "tasks" / f"{key}.parquet")
    unknown = sorted({u for us in tasks["unknown_units"] for u in us})
    assert evaluations["units_known"].passed == (not unknown)
    assert evaluations["units_known"].metadata["unknown_units"].value == unknown
    failed.pop("units_known", None)
    assert not failed, failed
    # evaluated per partition: the evaluation names this plan file
    assert {e.partition for e in evaluations.values()} == {key}
    assert evaluations["plan_has_tasks"].metadata["task_count"].value > 10
    # The instance holds the evaluations of this run.
    storage = env["instance"].event_log_storage
    check_keys = [AssetCheckKey(AssetKey(s.asset_key.path), s.name) for s in CHECKS]
    records = storage.get_latest_asset_check_execution_by_key(check_keys)
    assert set(records) == set(check_keys)
    history = storage.get_asset_check_execution_history(
        AssetCheckKey(AssetKey("tasks"), "unique_task_ids"), limit=10)
    mine = [r for r in history if r.run_id == result.run_id]
    assert len(mine) == 1 and mine[0].status.value == "SUCCEEDED"
    assert mine[0].partition == key


def test_units_asset_builds_from_the_curated_tasks(env):
    result = materialize([units], instance=env["instance"], resources={"store": env["store"]})
    assert result.success
    table = pd.read_parquet(env["curated"] / "units" / "units.parquet")
    assert set(table["province"]) == {"Đồng Nai", "Bắc Giang"}
    assert table["tasks_led"].sum() > 20
    assert (table.groupby(["province", "unit"]).size() == 1).all()
    events = {e.asset_key.to_user_string(): e.materialization.metadata
              for e in result.get_asset_materialization_events()}
    assert set(events) == {"units", "plan_versions", "review_queue"}
    assert events["units"]["dagster/row_count"].value == len(table)
    versions = pd.read_parquet(env["curated"] / "plan_versions" / "plan_versions.parquet")
    assert events["plan_versions"]["documents"].value == versions["document_key"].nunique() == 2
    assert versions.groupby("document_key")["preferred"].sum().eq(1).all()
    queue = pd.read_parquet(env["curated"] / "review_queue" / "review_queue.parquet")
    assert events["review_queue"]["dagster/row_count"].value == len(queue)
    assert events["review_queue"]["by_kind"].value == queue["kind"].value_counts().sort_index().to_dict()


def test_rejected_file_materializes_a_rejects_row_and_a_failed_check(env, tmp_path):
    raw, store, instance = env["raw"], env["store"], env["instance"]
    bad = raw / "broken.pdf"
    bad.write_bytes(os.urandom(2048))
    key = partition_key(bad)
    instance.add_dynamic_partitions("plan_files", [key])
    try:
        result = materialize([parsed_plans, curated_datasets], partition_key=key,
                             instance=instance, resources={"store": store}, raise_on_error=False)
        # the rejects row is data, and the partition fails with the reason (red in the UI)
        assert not result.success
        (failure,) = [e for e in result.all_events if e.is_step_failure]
        assert "rejected at" in failure.step_failure_data.user_failure_data.description
        rejects = pd.read_parquet(env["curated"] / "rejects" / f"{key}.parquet")
        assert list(rejects["partition_key"]) == [key]
        assert rejects["stage"].iloc[0] and rejects["reason"].iloc[0]
        assert not (env["curated"] / "plans" / f"{key}.parquet").exists()
        checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert checks["file_readable"].passed is False
        assert checks["file_readable"].severity == AssetCheckSeverity.ERROR
        assert checks["file_readable"].partition == key
        assert rejects["reason"].iloc[0] in checks["file_readable"].metadata["reason"].value
    finally:
        bad.unlink()
        instance.delete_dynamic_partition("plan_files", key)
        for name in (*PER_PLAN, "rejects"):
            (env["curated"] / name / f"{key}.parquet").unlink(missing_ok=True)


def test_batch_run_fails_the_check_of_the_rejected_partition_itself(env):
    """In a run over a range of partitions a rejected file fails ``file_readable`` on its own
    partition (as a single-partition run does), the run goes on, and the combined result of
    the check names it; the good plan of the batch is published."""
    raw, store, instance = env["raw"], env["store"], env["instance"]
    bad = raw / "zz_broken.pdf"
    bad.write_bytes(os.urandom(2048))
    key = partition_key(bad)
    instance.add_dynamic_partitions("plan_files", [key])
    good = instance.get_dynamic_partitions("plan_files")[-2]
    try:
        io = PlanModelIOManager(base_dir=str(raw.parent / "models"))
        result = materialize([parsed_plans, curated_datasets], instance=instance,
                             resources={"store": store, "io_manager": io}, raise_on_error=False,
                             tags={ASSET_PARTITION_RANGE_START_TAG: good, ASSET_PARTITION_RANGE_END_TAG: key})
        assert result.success
        evals = [e for e in result.get_asset_check_evaluations() if e.check_name == "file_readable"]
        per_partition = [e for e in evals if e.partition is not None]
        assert [(e.partition, e.passed, e.severity) for e in per_partition] == [(key, False, AssetCheckSeverity.ERROR)]
        assert "rejected at" in per_partition[0].metadata["reason"].value
        (combined,) = [e for e in evals if e.partition is None]
        assert combined.passed is False and combined.metadata["failed_partitions"].value == [key]
        assert (env["curated"] / "rejects" / f"{key}.parquet").exists()
        assert (env["curated"] / "plans" / f"{good}.parquet").exists()
    finally:
        bad.unlink()
        instance.delete_dynamic_partition("plan_files", key)
        for name in (*PER_PLAN, "rejects"):
            (env["curated"] / name / f"{key}.parquet").unlink(missing_ok=True)


def test_sensor_skips_when_nothing_changed_and_retires_deleted_files(env):
    instance, store, curated = env["instance"], env["store"], env["curated"]
    cursor = env["first_tick"].cursor
    again = _sensor(instance, store, cursor)
    assert isinstance(again, SensorResult) and again.skip_reason is not None
    assert again.run_requests == [] and again.dynamic_partitions_requests == []

    gone_name, kept_name = FILES[1], FILES[0]
    gone, kept = partition_key(gone_name), partition_key(kept_name)
    assert (curated / "tasks" / f"{gone}.parquet").exists()
    (env["raw"] / gone_name).unlink()
    result = _sensor(instance, store, cursor)
    assert isinstance(result, SensorResult)
    # Its rows are retired from every dataset at once; the other plan's rows stay.
    for name in (*PER_PLAN, "rejects"):
        assert not (curated / name / f"{gone}.parquet").exists(), name
    for name in PER_PLAN:
        assert (curated / name / f"{kept}.parquet").exists(), name
    deletes = [r for r in result.dynamic_partitions_requests if isinstance(r, DeleteDynamicPartitionsRequest)]
    assert len(deletes) == 1 and list(deletes[0].partition_keys) == [gone]
    assert result.run_requests == []  # the kept file did not change
    assert sorted(json.loads(result.cursor)) == [kept]
    _apply(instance, result)
    assert instance.get_dynamic_partitions("plan_files") == [kept]


def test_sensor_requests_a_run_for_a_changed_file(raw_dir, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    name = FILES[1]
    shutil.copy(raw_dir / name, raw / name)
    store = PlanStore(raw_dir=str(raw), curated_dir=str(tmp_path / "curated"), ocr=False)
    with DagsterInstance.ephemeral() as instance:
        first = _sensor(instance, store)
        _apply(instance, first)
        path = raw / name
        path.write_bytes(path.read_bytes() + b"\n")
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
        second = _sensor(instance, store, first.cursor)
        assert isinstance(second, SensorResult)
        assert [r.partition_key for r in second.run_requests] == [partition_key(name)]
        assert second.run_requests[0].run_key != first.run_requests[0].run_key
        assert second.dynamic_partitions_requests == []  # the partition exists already


def test_plan_store_finds_files_by_partition_key(raw_dir, tmp_path):
    store = PlanStore(raw_dir=str(raw_dir), curated_dir=str(tmp_path), ocr=False)
    assert store.path_for("003_453ccdb535033752_txt") == raw_dir / "003_453ccdb535033752.txt"
    assert store.path_for("nope_pdf") is None
    assert store.settings().ocr is False
    assert isinstance(store.raw, Path) and store.curated == tmp_path


def test_sensor_without_cursor_skips_files_already_published(env):
    """After `make run` the first tick of a fresh sensor must not re-extract plans whose
    published rows come from the same bytes."""
    instance, store = env["instance"], env["store"]
    result = _sensor(instance, store, cursor=None)
    assert isinstance(result, SensorResult)
    assert result.run_requests == []
    assert json.loads(result.cursor)  # but it remembers every file it saw
