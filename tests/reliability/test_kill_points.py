"""Kill -9 between every pair of writes of a plan's publication, then check that readers
see the old plan or the new one — never a mix — and that the next run repairs the folder.

The writer counts its mutating operations (khsyt/storage.py); a child publishes with
``KHSYT_KILL_AT=i`` for every i from 1 to the number of operations a whole publication takes.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest

from khsyt import datasets
from khsyt.extract import Settings, extract_plan, partition_key

from .harness import glob_view, plan_states, run

TXT = "001_174c7ea9301aa0d6.txt"
OTHER = "002_5402a99ec6066c4b.txt"


def _leftovers(out: Path) -> list[str]:
    bad = [str(p.relative_to(out)) for p in out.rglob("*.tmp")]
    bad += [str(p.relative_to(out)) for p in (out / "_pending").glob("*")] if (out / "_pending").is_dir() else []
    gens = out / "_generations"
    if gens.is_dir():
        bad += [f"{k.name}: {len(list(k.iterdir()))} generations" for k in gens.iterdir() if len(list(k.iterdir())) > 1]
    return bad


def _state(out: Path, reader) -> dict:
    """Every plan with its tasks (the join checked), and the keys with a rejects row."""
    return {**plan_states(reader(out, "plans"), reader(out, "tasks")),
            "rejects": sorted(reader(out, "rejects").column("partition_key").to_pylist())}


@pytest.fixture(scope="module")
def versions(tmp_path_factory, raw_dir):
    """A curated folder holding two plans (version A of one of them), and the pickled
    results that replace it: version B (changed bytes), a rejection, a retirement."""
    root = tmp_path_factory.mktemp("kill")
    src = root / "in"
    src.mkdir()
    shutil.copy(raw_dir / TXT, src / TXT)
    shutil.copy(raw_dir / OTHER, src / OTHER)
    key = partition_key(src / TXT)
    base = root / "base"
    datasets.ensure_dirs(base)
    for f in (TXT, OTHER):
        datasets.write_plan(base, partition_key(f), extract_plan(src / f, Settings(ocr=False)))
    # version B: the same plan with one task row fewer (changed bytes → a new plan_id)
    text = (src / TXT).read_text(encoding="utf-8")
    (src / TXT).write_text(text + "\n", encoding="utf-8")
    new = extract_plan(src / TXT, Settings(ocr=False))
    new.tasks = new.tasks[:-1]
    new.plan["n_tasks"] = len(new.tasks)
    (src / TXT).write_bytes(b"\x00\xff" * 50)
    bad = extract_plan(src / TXT, Settings(ocr=False))
    results = {}
    for name, res in (("replace", new), ("reject", bad)):
        results[name] = root / f"{name}.pickle"
        results[name].write_bytes(pickle.dumps(res))
    results["retire"] = "retire"
    return base, key, results


@pytest.fixture(scope="module")
def server():
    """A forking publisher (publish_child.py --serve): call it with (kill_at, out, key, what)."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), "KHSYT_FSYNC": "0"}
    env.pop("KHSYT_KILL_AT", None)
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("publish_child.py")), "--serve"],
                            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(kill_at: int, out: Path, key: str, what) -> int:
        proc.stdin.write(f"{kill_at}\t{out}\t{key}\t{what}\n")
        proc.stdin.flush()
        return int(proc.stdout.readline())

    yield call
    proc.stdin.close()
    proc.wait(timeout=30)


def _publish_in_process(out: Path, key: str, what) -> None:
    if what == "retire":
        datasets.retire(out, key)
    else:
        datasets.write_plan(out, key, pickle.loads(Path(what).read_bytes()))


def _count_ops(base: Path, tmp: Path, key: str, what) -> int:
    out = tmp / "count"
    shutil.copytree(base, out)
    log = tmp / "ops.log"
    child = run(["tests/reliability/publish_child.py", str(out), key, str(what)],
                env={"KHSYT_COUNT_WRITES": str(log)})
    assert child.returncode == 0, child.output
    return len(log.read_text().splitlines())


@pytest.mark.parametrize("scenario", ["replace", "reject", "retire"])
def test_kill_between_every_pair_of_writes(versions, tmp_path, scenario, server, monkeypatch):
    monkeypatch.setenv("KHSYT_FSYNC", "0")  # kills, not power cuts: the renames are what matter
    base, key, results = versions
    what = results[scenario]
    before = _state(base, datasets.read_dataset)
    n = _count_ops(base, tmp_path, key, what)
    assert n >= 8, f"only {n} writes counted"
    outcomes = {"old": 0, "new": 0}
    glob_mixed = 0
    after = None
    for i in range(1, n + 1):
        out = tmp_path / f"k{i}"
        shutil.copytree(base, out)
        code = server(i, out, key, what)
        assert code == -9, f"kill point {i}: exit {code}"
        # Through the manifests, right after the kill: the old state or the new one, whole.
        seen = _state(out, datasets.read_dataset)
        try:  # the documented glob can lag the manifest only between the switch and the repair
            if _state(out, glob_view) != seen:
                glob_mixed += 1
        except AssertionError:
            glob_mixed += 1
        # The next run's start-up check repairs; then the documented glob agrees.
        datasets.repair(out)
        assert _leftovers(out) == []
        repaired = _state(out, glob_view)
        assert repaired == seen, f"kill point {i}: repair changed the committed state"
        if seen == before:
            outcomes["old"] += 1
        else:
            outcomes["new"] += 1
            after = after or seen
            assert seen == after
        if i in (1, n // 2, n):  # and publishing again completes it
            _publish_in_process(out, key, what)
            final = _state(out, glob_view)
            assert final == _state(out, datasets.read_dataset) != before
            assert _leftovers(out) == []
        shutil.rmtree(out)
    print(f"\n{scenario}: {n} kill points: {outcomes['old']} old, {outcomes['new']} new, 0 mixed through the "
          f"manifests; the glob lagged at {glob_mixed} before the repair")
    assert outcomes["old"] and outcomes["new"] and outcomes["old"] + outcomes["new"] == n
    if scenario == "reject":  # the good rows stay, a rejects row is added
        final = _state(tmp_path / "count", glob_view)
        assert final["rejects"] == [key] and {k: v for k, v in final.items() if k != "rejects"} == \
            {k: v for k, v in before.items() if k != "rejects"}


def test_no_process_ever_writes_outside(tmp_path):
    from khsyt.storage import PathEscapes

    out = tmp_path / "cur"
    datasets.ensure_dirs(out)
    for key in ("../../../escaped", "a/b", "..", "", "x" * 300, "ke\u0301"):
        with pytest.raises(PathEscapes):
            datasets.retire(out, key)
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", out / "plans" / "link")
    from khsyt.storage import LocalStorage

    with pytest.raises(PathEscapes):
        LocalStorage(out).write_bytes("plans/link/x.parquet", b"x")
    assert list((tmp_path / "outside").iterdir()) == []


def _cli(args: list[str], **env):
    return run(["-m", "khsyt.cli", "extract", *args, "--no-ocr"], env=env, timeout=120)


def test_the_cli_killed_during_a_replacement_is_repaired_by_its_next_run(tmp_path, raw_dir):
    """The real CLI, killed at write points of the replacement of a plan (all of them with
    KHSYT_KILL_EVERY=1 — make fuzz — else the manifest switch and the write after it; the
    forking publisher above covers every point of the same code)."""
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(raw_dir / TXT, src / TXT)
    base = tmp_path / "base"
    assert _cli([str(src), "--out", str(base)]).returncode == 0
    before = _state(base, glob_view)
    (src / TXT).write_text((src / TXT).read_text(encoding="utf-8") + "\n", encoding="utf-8")
    log = tmp_path / "ops.log"
    count = tmp_path / "count"
    shutil.copytree(base, count)
    assert _cli([str(src), "--out", str(count)], KHSYT_COUNT_WRITES=str(log)).returncode == 0
    ops = [ln.split("\t") for ln in log.read_text().splitlines()]
    after = _state(count, glob_view)
    assert after != before
    key = partition_key(TXT)
    mine = [int(n) for n, _op, rel in ops if key in rel]
    commit = next(int(n) for n, op, rel in ops if op == "rename" and rel == f"_manifest/{key}.json")
    points = mine if os.environ.get("KHSYT_KILL_EVERY") else [commit, commit + 1]
    for i in points:
        out = tmp_path / f"k{i}"
        shutil.copytree(base, out)
        assert _cli([str(src), "--out", str(out)], KHSYT_KILL_AT=str(i)).returncode == -9
        seen = _state(out, datasets.read_dataset)
        assert seen in (before, after) or {**before, **seen} == {**after, **seen}, f"kill point {i}: a mix"
        assert _cli([str(src), "--out", str(out)]).returncode == 0
        assert _state(out, glob_view) == after and _leftovers(out) == []
        shutil.rmtree(out)
    print(f"\nCLI: {len(points)} of {len(mine)} kill points of the replaced plan checked")


def test_two_cli_runs_at_once_into_one_folder(tmp_path, raw_dir):
    import subprocess
    import sys

    src = tmp_path / "in"
    src.mkdir()
    for f in (TXT, OTHER):
        shutil.copy(raw_dir / f, src / f)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    cmd = [sys.executable, "-m", "khsyt.cli", "extract", str(src), "--out", str(out), "--no-ocr"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert len(_state(out, glob_view)) == 3 and _leftovers(out) == []  # two plans + the rejects entry
    assert _state(out, glob_view) == _state(out, datasets.read_dataset)
