"""Dagster under faults: a `make run` killed -9 in the middle of a publication, and two
`make run` at once on the same raw folder (real instance on SQLite, real processes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from khsyt import datasets

from .harness import REPO, glob_view, plan_states, run

FILES = ("001_174c7ea9301aa0d6.txt",)
pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path, raw_dir):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(raw_dir / FILES[0], raw / FILES[0])
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text().replace(
        "base_dir: .dagster_home", f"base_dir: {home}/.dagster_home"))
    return raw, tmp_path / "curated", home


def _ingest(raw: Path, curated: Path, home: Path, **env):
    return run(["-m", "pipeline.ingest", "--raw", str(raw), "--curated", str(curated)],
               env={"DAGSTER_HOME": str(home), **env}, timeout=300)


def _joined(curated: Path) -> dict:
    return plan_states(glob_view(curated, "plans"), glob_view(curated, "tasks"))


def test_a_killed_run_is_marked_failed_and_the_next_run_repairs(site):
    raw, curated, home = site
    # the writes that create the empty datasets and their first snapshot, counted on a new
    # folder; the 5th write after them is inside the first plan's publication
    log = curated.parent / "layout.log"
    made = run(["-c", f"from khsyt import datasets; datasets.ensure_dirs({str(curated.parent / 'x')!r})"],
               env={"KHSYT_COUNT_WRITES": str(log)})
    assert made.returncode == 0, made.output
    child = _ingest(raw, curated, home, KHSYT_KILL_AT=str(len(log.read_text().splitlines()) + 5))
    assert child.returncode == -9, child.output
    assert list((curated / "_pending").iterdir()), "the kill did not interrupt a publication"
    assert _joined(curated) == {}  # the documented view still shows no plan, whole
    with DagsterInstance.from_config(str(home)) as instance:
        started = instance.get_run_records(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED]))
        assert len(started) == 1, "the killed run should be left STARTED by Dagster itself"
        from pipeline.recovery import fail_crashed_runs

        assert fail_crashed_runs(instance, grace_seconds=0) == [started[0].dagster_run.run_id]
        assert instance.get_run_by_id(started[0].dagster_run.run_id).status == DagsterRunStatus.FAILURE
    again = _ingest(raw, curated, home)
    assert again.returncode == 0, again.output
    assert not list((curated / "_pending").iterdir())
    states = _joined(curated)
    assert sorted(Path(p).name for p in states) == [FILES[0]]
    assert _joined(curated) == plan_states(datasets.read_dataset(curated, "plans"),
                                           datasets.read_dataset(curated, "tasks"))


def test_two_runs_at_once(site, raw_dir):
    """Two `make run` at once, on a raw folder where two province sub-folders hold files of
    the same name: both succeed, three plans, each published once, partitions registered once."""
    import subprocess
    import sys

    from khsyt.extract import partition_key

    raw, curated, home = site
    for sub in ("thanh-hoa", "nghe-an"):
        (raw / sub).mkdir()
        shutil.copy(raw_dir / FILES[0], raw / sub / "kehoach.txt")
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO), "DAGSTER_HOME": str(home)}
    cmd = [sys.executable, "-m", "pipeline.ingest", "--raw", str(raw), "--curated", str(curated)]
    procs = [subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    files = [FILES[0], "thanh-hoa/kehoach.txt", "nghe-an/kehoach.txt"]
    assert sorted(Path(p).relative_to(raw).as_posix() for p in _joined(curated)) == sorted(files)
    assert not list((curated / "_pending").iterdir())
    with DagsterInstance.from_config(str(home)) as instance:
        assert sorted(instance.get_dynamic_partitions("plan_files")) == sorted(
            partition_key(raw / f, raw) for f in files)
