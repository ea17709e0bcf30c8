"""Linear cost: one listing of the raw folder per run, batch runs over ranges of partitions,
re-runs that extract nothing when nothing changed, and page models stored as JSON."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

import pipeline.resources as resources_mod
from khsyt.datasets import SCHEMAS
from khsyt.extract import Settings, partition_key, read_document, sha256_of
from pipeline import ingest
from pipeline.freshness import contiguous_batches, published_state, range_tags, stale
from pipeline.io_managers import PlanModelIOManager, dumps, loads
from pipeline.resources import PlanStore

TEXTS = ("000_c01f5def24a8cc1f.txt", "003_453ccdb535033752.txt", "004_07b90c17cd1837c6.txt")


def test_contiguous_batches_cover_exactly_the_wanted_keys():
    order = list("abcdefgh")
    assert contiguous_batches(order, "abcdefgh", size=3) == [("a", "c"), ("d", "f"), ("g", "h")]
    # a range never spans a key that is not wanted
    assert contiguous_batches(order, "abdgh", size=10) == [("a", "b"), ("d", "d"), ("g", "h")]
    assert contiguous_batches(order, "", size=3) == []
    assert contiguous_batches(order, "xh", size=3) == [("h", "h")]


def test_plan_store_lists_the_raw_folder_once_for_many_lookups(raw_dir, tmp_path, monkeypatch):
    calls = []
    real = resources_mod.list_plan_files
    monkeypatch.setattr(resources_mod, "list_plan_files", lambda root: calls.append(root) or real(root))
    store = PlanStore(raw_dir=str(raw_dir), curated_dir=str(tmp_path), ocr=False)
    keys = [partition_key(p) for p in sorted(raw_dir.iterdir()) if p.suffix in (".pdf", ".txt")]
    assert len(keys) >= 10
    for k in keys:
        assert store.path_for(k).exists()
    assert len(calls) == 1
    assert store.path_for("nope_pdf") is None  # an unknown key refreshes the index once
    assert len(calls) == 2


def test_page_model_round_trips_through_json(raw_dir):
    path = raw_dir / TEXTS[1]
    doc = read_document(path, Settings(ocr=False), sha256_of(path))
    data = dumps(doc)
    assert json.loads(gzip.decompress(data))["__dc__"] == "extractors.model:Document"
    assert loads(data) == doc
    assert dumps(loads(data)) == data


def test_parsed_plan_round_trips_through_json(raw_dir):
    from khsyt.extract import parse_plan

    path = raw_dir / TEXTS[1]
    res = parse_plan(read_document(path, Settings(ocr=False), sha256_of(path)), key=partition_key(path))
    data = dumps(res)
    assert json.loads(gzip.decompress(data))["__dc__"] == "khsyt.results:Extracted"
    back = loads(data)
    assert back == res and isinstance(back.plan["extracted_at"], type(res.plan["extracted_at"]))
    assert dumps(back) == data
    with pytest.raises(ValueError, match="refusing"):  # a stored object naming a class outside the project
        loads(gzip.compress(json.dumps({"__dc__": "subprocess:Popen", "args": ["true"]}).encode()))


@pytest.mark.slow
def test_downstream_step_of_the_same_run_gets_the_value_without_reading_it_back(raw_dir, tmp_path, monkeypatch):
    """In one process and one run, curated_datasets gets the parsed plans parsed_plans returned
    (no decoding of the files just written); a later run of curated_datasets alone reads the
    stored files, and publishes the same rows."""
    from dagster import materialize

    import pipeline.io_managers as io_mod
    from pipeline.assets import curated_datasets, parsed_plans

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    for f in TEXTS[:2]:
        shutil.copy(raw_dir / f, raw / f)
    store = PlanStore(raw_dir=str(raw), curated_dir=str(curated), ocr=False)
    io = PlanModelIOManager(base_dir=str(tmp_path / "models"))
    reads: list[int] = []
    real_loads = io_mod.loads
    monkeypatch.setattr(io_mod, "loads", lambda data: reads.append(1) or real_loads(data))
    keys = sorted(store.index())
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("plan_files", keys)
        tags = range_tags(keys[0], keys[-1])
        first = materialize([parsed_plans, curated_datasets], instance=instance, tags=tags,
                            resources={"store": store, "io_manager": io})
        assert first.success and reads == []
        assert len(list((tmp_path / "models" / "parsed_plans").glob("*.json.gz"))) == 2
        rows = pd.read_parquet(curated / "tasks").sort_values("task_id").reset_index(drop=True)
        again = materialize([parsed_plans, curated_datasets], instance=instance, tags=tags,
                            selection=[k.to_user_string() for k in curated_datasets.keys],
                            resources={"store": store, "io_manager": io})
        assert again.success and len(reads) == 2
        assert pd.read_parquet(curated / "tasks").sort_values("task_id").reset_index(drop=True).equals(rows)
    assert not io_mod._HANDOFF  # every value handed over was taken


def _runs(instance: DagsterInstance) -> list:
    return instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]))


@pytest.mark.slow
def test_ingest_batches_plans_and_skips_unchanged_ones(raw_dir, tmp_path):
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    for f in TEXTS:
        shutil.copy(raw_dir / f, raw / f)
    store = PlanStore(raw_dir=str(raw), curated_dir=str(curated), ocr=False)
    io = PlanModelIOManager(base_dir=str(tmp_path / "models"))
    with DagsterInstance.ephemeral() as instance:
        assert ingest.run(store, instance, batch_size=2, io_manager=io) == (3, 0)
        runs = _runs(instance)
        assert len(runs) == 3  # two batch runs (2 + 1 plans) and the units rebuild
        plans = pd.read_parquet(curated / "plans")
        assert len(plans) == 3 and set(plans["extraction_fingerprint"]) == {store.settings().fingerprint()}
        # parsed plans are JSON files, one per partition
        assert len(list((tmp_path / "models" / "parsed_plans").glob("*.json.gz"))) == 3

        # the compacted copy holds the same rows, in a few files partitioned by province and year
        con = duckdb.connect()
        for name in ("plans", "tasks", "pages", "legal_refs"):
            per_plan = con.sql(f"SELECT * FROM '{curated}/{name}/*.parquet' ORDER BY ALL").fetchall()
            cols = ", ".join(f'"{c}"' for c in SCHEMAS[name].names)
            compacted = con.sql(f"SELECT {cols} FROM read_parquet('{curated}/compacted/{name}/**/*.parquet') "
                                "ORDER BY ALL").fetchall()
            assert compacted == per_plan, name
        folders = {p.parent.relative_to(curated / "compacted" / "tasks").as_posix()
                   for p in (curated / "compacted" / "tasks").rglob("*.parquet")}
        assert folders == {"province_key=thanh_hoa/year=2024", "province_key=bac_giang/year=2023",
                           "province_key=quang_ngai/year=2021"}

        # nothing new: no run at all
        assert ingest.run(PlanStore(raw_dir=str(raw), curated_dir=str(curated), ocr=False), instance,
                          io_manager=io) == (0, 0)
        assert len(_runs(instance)) == 3
        # and the command itself answers without loading Dagster at all
        code = ("import sys; from pipeline.ingest import main; "
                f"rc = main(['--raw', {str(raw)!r}, '--curated', {str(curated)!r}, '--no-ocr']); "
                "print(rc, 'dagster' in sys.modules)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
        assert out.stdout.splitlines()[-2:] == ["3 plan files, 3 up to date, nothing to extract or retire",
                                                "0 False"], out.stdout + out.stderr

        # one file changed: only it is extracted again
        changed = raw / TEXTS[1]
        changed.write_bytes(changed.read_bytes() + b"\n")
        fresh = PlanStore(raw_dir=str(raw), curated_dir=str(curated), ocr=False)
        assert stale(sorted(fresh.index()), fresh.settings().fingerprint(), published_state(curated),
                     fresh.sha256) == [partition_key(changed)]
        assert ingest.run(fresh, instance, io_manager=io) == (1, 0)
        new_sha = pd.read_parquet(curated / "plans" / f"{partition_key(changed)}.parquet")["source_sha256"].iloc[0]
        assert new_sha == sha256_of(changed)

        # a deleted file: its rows leave the per-plan files and the compacted copy
        (raw / TEXTS[0]).unlink()
        assert ingest.run(PlanStore(raw_dir=str(raw), curated_dir=str(curated), ocr=False), instance,
                          io_manager=io) == (0, 0)
        assert not list((curated / "compacted" / "tasks").glob("province_key=thanh_hoa*"))
        assert con.execute(f"SELECT count(DISTINCT plan_id) FROM '{curated}/compacted/tasks/**/*.parquet'").fetchone() \
            == (2,)

        # other settings (a new fingerprint): every plan is stale
        other = PlanStore(raw_dir=str(raw), curated_dir=str(curated), ocr=False, ocr_dpi=200)
        assert len(stale(sorted(other.index()), other.settings().fingerprint(), published_state(curated),
                         other.sha256)) == 2


@pytest.mark.slow
@pytest.mark.parametrize("cross_fails", [False, True])
def test_ingest_switches_the_documented_view_once_after_its_batches(raw_dir, tmp_path, monkeypatch, cross_fails):
    """The ingest's batch runs commit their plans and leave the switch to the cross-plan run
    after them: one snapshot per ingest, showing every plan with the units built from them,
    no plan left pending; when the cross-plan run fails the batches' plans are shown anyway."""
    from khsyt import cross_plan, datasets, snapshots

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    for f in TEXTS:
        shutil.copy(raw_dir / f, raw / f)
    switches: list[list[str]] = []
    real = snapshots.publish

    def spy(out):
        sid = real(out)
        st = datasets.storage_for(curated)
        switches.append(sorted(json.loads(st.read_bytes(f"_snapshots/{sid}/_index.json"))))
        return sid

    monkeypatch.setattr(snapshots, "publish", spy)
    if cross_fails:
        def broken(*a, **k):
            raise RuntimeError("cross-plan step down")
        monkeypatch.setattr(cross_plan, "build_units", broken)
    store = PlanStore(raw_dir=str(raw), curated_dir=str(curated), ocr=False)
    with DagsterInstance.ephemeral() as instance:
        ok, failed = ingest.run(store, instance, batch_size=1, io_manager=PlanModelIOManager(
            base_dir=str(tmp_path / "models")), echo=lambda _line: None)
    assert (ok, failed) == (3, int(cross_fails))
    keys = sorted(partition_key(raw / f) for f in TEXTS)
    assert switches[-1] == keys and len(switches) == 1 + (not switches[0])  # an empty first view at most
    assert len(pd.read_parquet(curated / "plans")) == 3
    assert datasets.pending_keys(datasets.storage_for(curated)) == []
    assert (curated / "units" / "units.parquet").exists() is not cross_fails


def _compacted_files(curated: Path) -> dict[str, int]:
    """compacted file → its inode and modification time (a rewritten file gets both anew)."""
    return {p.relative_to(curated).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in (curated / "compacted").rglob("*.parquet")}


def _same_rows(curated: Path) -> None:
    con = duckdb.connect()
    for name in ("plans", "tasks", "pages", "legal_refs", "tables"):
        per_plan = con.sql(f"SELECT * FROM '{curated}/{name}/*.parquet' ORDER BY ALL").fetchall()
        cols = ", ".join(f'"{c}"' for c in SCHEMAS[name].names)
        compacted = con.sql(f"SELECT {cols} FROM read_parquet('{curated}/compacted/{name}/**/*.parquet') "
                            "ORDER BY ALL").fetchall()
        assert compacted == per_plan, name


def test_compaction_rebuilds_only_the_partitions_of_changed_plans(raw_dir, tmp_path):
    from khsyt import datasets
    from khsyt.cli import main as cli
    from khsyt.compaction import compact, province_key

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    for name in TEXTS:
        shutil.copy(raw_dir / name, raw / name)
    assert cli(["extract", str(raw), "--out", str(curated), "--no-ocr"]) == 0
    first = compact(curated)
    assert first["partitions_rebuilt"] == first["partitions"] == 3
    _same_rows(curated)
    before = _compacted_files(curated)

    # nothing changed: nothing rewritten
    assert compact(curated)["partitions_rebuilt"] == 0
    assert _compacted_files(curated) == before

    # one plan file changed: only its province/year partition is rewritten, in every dataset
    changed = raw / TEXTS[1]
    changed.write_bytes(changed.read_bytes() + "\n\nBản sao số 2.\n".encode())
    assert cli(["extract", str(changed), "--out", str(curated), "--no-ocr", "--add"]) == 0
    assert datasets.published_keys(curated) == {partition_key(raw / n) for n in TEXTS}
    assert compact(curated)["partitions_rebuilt"] == 1
    _same_rows(curated)
    after = _compacted_files(curated)
    rewritten = {f for f in after if after[f] != before.get(f)}
    plan = pd.read_parquet(curated / "plans" / f"{partition_key(changed)}.parquet").iloc[0]
    folder = (f"province_key={province_key(plan['province'])}", f"{plan['plan_year']}")
    assert len(rewritten) == 5 and {(f.split("/")[2], f.split("/")[3].split("=")[1]) for f in rewritten} == {folder}
    assert {f for f in before if before[f] == after.get(f)} == set(before) - rewritten

    # a retired plan: its partition goes, the others stay as they were
    gone = partition_key(raw / TEXTS[0])
    province = pd.read_parquet(curated / "plans" / f"{gone}.parquet")["province"].iloc[0]
    datasets.retire(curated, gone)
    datasets.publish_view(curated)  # the documented folders follow (once per batch)
    assert compact(curated)["partitions"] == 2
    _same_rows(curated)
    final = _compacted_files(curated)
    assert {f for f in after if f not in final} and all(after[f] == final[f] for f in final), province

    # a full rebuild gives the same rows and files
    assert compact(curated, full=True)["partitions_rebuilt"] == 2
    _same_rows(curated)
    assert set(_compacted_files(curated)) == set(final)


def test_a_local_compacted_copy_is_switched_whole(raw_dir, tmp_path):
    """compacted is a link to one rebuild; a real compacted/ folder of an older release is
    swapped for the link; a partial rebuild recompacts only its datasets and carries the
    others; only the current and the previous rebuild stay."""
    import os
    import shutil

    import duckdb

    from khsyt.cli import main
    from khsyt.compaction import REBUILDS, compact

    curated = tmp_path / "curated"
    assert main(["extract", str(raw_dir / "001_174c7ea9301aa0d6.txt"), str(raw_dir / "003_453ccdb535033752.txt"),
                 "--no-ocr", "-q", "--out", str(curated)]) == 0
    first = compact(curated)
    old = (curated / "compacted").resolve()
    (curated / "compacted").unlink()
    shutil.copytree(old, curated / "compacted")  # as an older release left it: a real folder
    assert compact(curated, ("tasks",))["tasks"] == first["tasks"]
    assert (curated / "compacted").is_symlink() and not list(curated.glob(".*"))
    con = duckdb.connect()
    for name in ("plans", "tasks", "pages"):
        got = con.execute(f"SELECT count(*) FROM read_parquet('{curated}/compacted/{name}/**/*.parquet')").fetchone()[0]
        assert got == first[name] > 0, name
    compact(curated)
    compact(curated)
    assert len(os.listdir(curated / REBUILDS)) == 2
    assert con.execute(f"SELECT count(*) FROM read_parquet('{curated}/compacted/tasks/**/*.parquet') t "
                   f"JOIN read_parquet('{curated}/compacted/plans/**/*.parquet') p USING (plan_id)").fetchone()[0] \
        == first["tasks"]


def test_compaction_lists_again_when_a_plan_is_republished_under_it(raw_dir, tmp_path, monkeypatch):
    """Another run republishes a plan between the compaction's listing of the manifests and its
    reading of the files (the old generation is deleted): the compaction lists again and
    compacts the new plan, instead of failing on "No files found" (seen with two ingests at once)."""
    import duckdb

    from khsyt import compaction
    from khsyt.cli import main as cli

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    for name in TEXTS[:2]:
        shutil.copy(raw_dir / name, raw / name)
    assert cli(["extract", str(raw), "--out", str(curated), "--no-ocr", "-q"]) == 0
    listed = compaction._sources
    republished = []

    def list_then_republish(store, name):
        out = listed(store, name)
        if name == "plans" and not republished:  # the other run, right after this listing
            changed = raw / TEXTS[1]
            changed.write_bytes(changed.read_bytes() + "\n\nBản sao số 2.\n".encode())
            assert cli(["extract", str(changed), "--out", str(curated), "--no-ocr", "--add", "-q"]) == 0
            republished.append(changed)
        return out

    monkeypatch.setattr(compaction, "_sources", list_then_republish)
    counts = compaction.compact(curated)
    assert republished and counts["plans"] == 2
    hashes = {r[0] for r in duckdb.sql(
        f"SELECT source_sha256 FROM read_parquet('{curated}/compacted/plans/**/*.parquet')").fetchall()}
    from khsyt.extract import sha256_of
    assert sha256_of(raw / TEXTS[1]) in hashes


def test_cross_plan_rows_are_read_again_only_for_plans_published_since(raw_dir, tmp_path, monkeypatch):
    """``current_rows`` keeps every plan's rows in one file per dataset: after one plan is
    republished, a rebuild reads that plan's new file and no other; a retired plan's rows
    leave; the rows always equal a read of every per-plan file; a damaged copy is rebuilt."""
    import pyarrow.parquet as pq

    from khsyt import datasets
    from khsyt.extract import extract_plan
    from khsyt.storage import LocalStorage

    out = tmp_path / "cur"
    keys = []
    for f in TEXTS:
        keys.append(partition_key(raw_dir / f))
        datasets.write_plan(out, keys[-1], extract_plan(raw_dir / f, Settings(ocr=False)))

    def direct(name: str) -> list[dict]:  # every per-plan file read, no copy
        st = datasets.storage_for(out)
        return [{**r, "partition_key": k} for k in sorted(datasets.published_keys(st))
                for r in st.read_parquet(datasets._current_files(st, k)[name]).to_pylist()]

    def rows(name: str) -> list[dict]:
        t = datasets.current_rows(out, name)
        return t.select([c for c in t.column_names if c != "_source"]).to_pylist()

    reads: list[str] = []
    real = LocalStorage.read_parquet
    monkeypatch.setattr(LocalStorage, "read_parquet", lambda self, rel, columns=None: (
        reads.append(rel), real(self, rel, columns))[1])
    assert rows("tasks") == direct("tasks") and len(reads) == 1 + 3 + 3  # the copy tried, 3 plan files
    reads.clear()
    assert rows("tasks") == direct("tasks") and len(reads) == 1 + 3  # the copy only (and direct's own 3)
    datasets.write_plan(out, keys[1], extract_plan(raw_dir / TEXTS[1], Settings(ocr=False)))  # a new generation
    reads.clear()
    assert rows("tasks") == direct("tasks")
    assert [r for r in reads if "/_generations/" in f"/{r}"][:1] == [datasets._current_files(
        datasets.storage_for(out), keys[1])["tasks"]]  # only the republished plan's file, then direct's
    datasets.retire(out, keys[0])
    assert {r["partition_key"] for r in rows("tasks")} == set(keys[1:]) and rows("tasks") == direct("tasks")
    (out / datasets.ROWS_CACHE / "tasks.parquet").write_bytes(b"not parquet")
    assert rows("tasks") == direct("tasks")
    assert pq.read_schema(out / datasets.ROWS_CACHE / "tasks.parquet").names[-1] == "_source"
    assert datasets.read_rows(out, "tasks", ["task_id"]) == [{"task_id": r["task_id"], "partition_key": r[
        "partition_key"]} for r in direct("tasks")]
