"""Kill -9 between every pair of writes of a plan's publication, then check that readers
see the old plan or the new one — never a mix — and that the next run repairs the folder.

The writer counts its mutating operations (khsyt/storage.py); a child publishes with
``KHSYT_KILL_AT=i`` for every i from 1 to the number of operations a whole publication takes
(the plan's files, its manifest switch, then the snapshot of the documented view: its links,
its switch and the deletion of older snapshots).  Readers are checked through the documented
globs (DuckDB joining ``tasks/*.parquet`` with ``plans/*.parquet``) and through the manifests
(``read_dataset``), right after the kill and after the repair of the next run.  Folders are
copied with their links kept (``copytree(symlinks=True)``), as ``cp -a`` does.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import duckdb
import pytest

from khsyt import datasets
from khsyt.extract import Settings, extract_plan, partition_key

from .harness import glob_view, plan_states, run

TXT = "001_174c7ea9301aa0d6.txt"
OTHER = "002_5402a99ec6066c4b.txt"


def _copy(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True)


def _leftovers(out: Path) -> list[str]:
    """What a finished folder must not hold: temporary files, pending marks, more than one
    generation of a plan, more than two snapshots, a documented folder that is not a link into
    the current snapshot, a migration left half done."""
    from khsyt import snapshots

    bad = [str(p.relative_to(out)) for p in out.rglob("*.tmp")]
    bad += [p.name for p in out.glob(".*")]
    snaps = out / snapshots.SNAPSHOTS
    if snaps.is_dir() and len(list(snaps.iterdir())) > 2:
        bad.append(f"{len(list(snaps.iterdir()))} snapshots")
    bad += [f"{n} is not a link" for n in datasets.DOCUMENTED if not (out / n).is_symlink()]
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
    datasets.publish_view(base)
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
    datasets.publish_view(out)


def _count_ops(base: Path, tmp: Path, key: str, what) -> int:
    return len(_ops(base, tmp, key, what))


def _ops(base: Path, tmp: Path, key: str, what) -> list[tuple[int, str, str]]:
    """The mutating operations of one publication: (number, operation, path)."""
    out = tmp / "count"
    _copy(base, out)
    log = tmp / "ops.log"
    child = run(["tests/reliability/publish_child.py", str(out), key, str(what)],
                env={"KHSYT_COUNT_WRITES": str(log)})
    assert child.returncode == 0, child.output
    return [(int(n), op, rel) for n, op, rel in (ln.split("\t") for ln in log.read_text().splitlines())]


@pytest.mark.parametrize("scenario", ["replace", "reject", "retire"])
def test_kill_between_every_pair_of_writes(versions, tmp_path, scenario, server, monkeypatch):
    monkeypatch.setenv("KHSYT_FSYNC", "0")  # kills, not power cuts: the renames are what matter
    base, key, results = versions
    what = results[scenario]
    before = _state(base, glob_view)
    assert before == _state(base, datasets.read_dataset)
    n = _count_ops(base, tmp_path, key, what)
    assert n >= 8, f"only {n} writes counted"
    after = _state(tmp_path / "count", glob_view)
    assert after != before and _leftovers(tmp_path / "count") == []
    manifests = {"old": 0, "new": 0}  # what read_dataset showed right after each kill
    globs = {"old": 0, "new": 0, "mixed": 0}  # what the documented globs showed
    for i in range(1, n + 1):
        out = tmp_path / f"k{i}"
        _copy(base, out)
        code = server(i, out, key, what)
        assert code == -9, f"kill point {i}: exit {code}"
        # Right after the kill, through the manifests and through the documented globs: the
        # old state or the new one, each plan whole (plan_states checks the join).
        seen = _state(out, datasets.read_dataset)
        assert seen in (before, after), f"kill point {i}: the manifests show a mix"
        manifests["old" if seen == before else "new"] += 1
        try:
            view = _state(out, glob_view)
        except AssertionError:  # the plans–tasks join lost or doubled a plan
            view = None
        globs["old" if view == before else "new" if view == after else "mixed"] += 1
        # The next run's start-up check repairs: the globs then show what the manifests committed.
        datasets.repair(out)
        assert _leftovers(out) == [], f"kill point {i}"
        assert _state(out, glob_view) == seen == _state(out, datasets.read_dataset), \
            f"kill point {i}: repair changed the committed state"
        if i in (1, n // 2, n):  # and publishing again completes it
            _publish_in_process(out, key, what)
            final = _state(out, glob_view)
            assert final == _state(out, datasets.read_dataset) == after
            assert _leftovers(out) == []
        shutil.rmtree(out)
    print(f"\n{scenario}: {n} kill points: manifests {manifests['old']} old / {manifests['new']} new; "
          f"documented globs {globs['old']} old / {globs['new']} new / {globs['mixed']} mixed or lost")
    assert globs["mixed"] == 0, globs
    assert manifests["old"] and manifests["new"] and globs["old"] and globs["new"]
    assert globs["new"] <= manifests["new"]  # the view never runs ahead of the commit
    if scenario == "reject":  # the good rows stay, a rejects row is added
        final = _state(tmp_path / "count", glob_view)
        assert final["rejects"] == [key] and {k: v for k, v in final.items() if k != "rejects"} == \
            {k: v for k, v in before.items() if k != "rejects"}


def _older_layout(base: Path, out: Path, key: str) -> None:
    """``base`` as an earlier release left it: real dataset folders holding each plan's own
    files (no links, no snapshots), the whole-file datasets at ``<name>/<name>.parquet``, plan
    ``key`` published before manifests existed, and an analyst's note in ``tasks/``."""
    from khsyt import snapshots

    _copy(base, out)
    for name in datasets.DOCUMENTED:
        link = out / name
        target = link.resolve()
        link.unlink()
        if target.is_dir():
            shutil.copytree(target, link)
    (out / snapshots.CURRENT).unlink()
    for d in (snapshots.SNAPSHOTS, snapshots.EMPTY_DIR, snapshots.WHOLE_DIR):
        shutil.rmtree(out / d)
    (out / "_manifest" / f"{key}.json").unlink()
    shutil.rmtree(out / "_generations" / key)
    (out / "tasks" / "notes.txt").write_text("kept", encoding="utf-8")


def _whole_rows(out: Path) -> dict[str, int]:
    return {n: glob_view(out, n).num_rows for n in datasets.WHOLE}


def test_the_migration_of_an_older_layout_killed_anywhere(versions, tmp_path, server):
    """The first run on a folder of the older layout converts it (khsyt.snapshots): killed
    between any two of its writes, the documented globs still show every plan whole — the old
    folder or the link, never neither — and the next run finishes the conversion, losing
    nothing (a plan without a manifest is adopted, an unknown file kept in _migrated/)."""
    from khsyt.cross_plan import write_cross_plan

    base, key, _results = versions
    full = tmp_path / "full"
    _copy(base, full)
    write_cross_plan(full, None)
    legacy = tmp_path / "legacy"
    _older_layout(full, legacy, key)
    before, wholes = _state(legacy, glob_view), _whole_rows(legacy)
    assert before == _state(full, glob_view) and all(wholes.values())
    ops = _ops(legacy, tmp_path, key, "repair")
    n = len(ops)
    # every switch, exchange and move, and every third other write (all with KHSYT_KILL_EVERY=1)
    points = [i for i, op, _rel in ops if os.environ.get("KHSYT_KILL_EVERY") or i % 3 == 1 or i == n
              or op in ("switch", "exchange", "move")]
    lost = 0
    for i in points:
        out = tmp_path / f"m{i}"
        _copy(legacy, out)
        assert server(i, out, key, "repair") == -9, f"kill point {i}"
        try:
            ok = _state(out, glob_view) == before and _whole_rows(out) == wholes
        except (AssertionError, duckdb.Error):  # a folder missing, a plan lost or doubled
            ok = False
        lost += not ok
        datasets.repair(out)
        assert _leftovers(out) == [], f"kill point {i}"
        assert _state(out, glob_view) == before == _state(out, datasets.read_dataset), f"kill point {i}"
        assert _whole_rows(out) == wholes
        assert datasets.manifest(out, key) is not None  # adopted
        assert (out / "_migrated" / "tasks" / "notes.txt").read_text(encoding="utf-8") == "kept"
        shutil.rmtree(out)
    print(f"\nmigration: {len(points)} of {n} kill points checked, the documented globs lost or mixed a plan "
          f"at {lost}")
    assert lost == 0


def test_a_run_killed_while_writing_the_cross_plan_datasets(versions, tmp_path):
    """Killed with a cross-plan dataset's temporary file written but not renamed: the view is
    unchanged, and the next run's repair removes the temporary."""
    base, _key, _results = versions
    code = "import sys; from khsyt.cross_plan import write_cross_plan; write_cross_plan(sys.argv[1], None)"
    count, log = tmp_path / "count", tmp_path / "ops.log"
    _copy(base, count)
    assert run(["-c", code, str(count)], env={"KHSYT_COUNT_WRITES": str(log)}).returncode == 0
    ops = [ln.split("\t") for ln in log.read_text().splitlines()]
    points = [int(n) for n, op, rel in ops if op == "rename" and rel.startswith("_whole/")]
    assert len(points) == len(datasets.WHOLE)
    before = _state(base, glob_view)
    for i in points:
        out = tmp_path / f"c{i}"
        _copy(base, out)
        assert run(["-c", code, str(out)], env={"KHSYT_KILL_AT": str(i)}).returncode == -9
        assert list((out / "_whole").glob(".*.tmp")), f"kill point {i}: no temporary left to clean"
        assert _state(out, glob_view) == before
        datasets.repair(out)
        assert _leftovers(out) == [] and _state(out, glob_view) == before
        shutil.rmtree(out)


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
    KHSYT_KILL_EVERY=1 — make fuzz — else right before and after the manifest switch and
    right before and after the switch of the documented view (a kill at point i dies just
    before the i-th write); the forking publisher above covers
    every point of the same code): the documented globs show the old plan or the new one whole,
    and the next run completes the new one."""
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(raw_dir / TXT, src / TXT)
    base = tmp_path / "base"
    assert _cli([str(src), "--out", str(base)]).returncode == 0
    before = _state(base, glob_view)
    (src / TXT).write_text((src / TXT).read_text(encoding="utf-8") + "\n", encoding="utf-8")
    log = tmp_path / "ops.log"
    count = tmp_path / "count"
    _copy(base, count)
    assert _cli([str(src), "--out", str(count)], KHSYT_COUNT_WRITES=str(log)).returncode == 0
    ops = [ln.split("\t") for ln in log.read_text().splitlines()]
    after = _state(count, glob_view)
    assert after != before
    key = partition_key(TXT)
    commit = next(int(n) for n, op, rel in ops if op == "rename" and rel == f"_manifest/{key}.json")
    switch = max(int(n) for n, op, rel in ops if op == "switch" and rel == "_current")
    mine = sorted({int(n) for n, _op, rel in ops if key in rel} | set(range(commit, switch + 2)))
    points = mine if os.environ.get("KHSYT_KILL_EVERY") else [commit, commit + 1, switch, switch + 1]
    seen_globs = []
    for i in points:
        out = tmp_path / f"k{i}"
        _copy(base, out)
        assert _cli([str(src), "--out", str(out)], KHSYT_KILL_AT=str(i)).returncode == -9
        seen = _state(out, datasets.read_dataset)
        assert seen in (before, after), f"kill point {i}: the manifests show a mix"
        view = _state(out, glob_view)  # raises when the join loses or doubles a plan
        assert view in (before, after), f"kill point {i}: the documented globs show a mix"
        seen_globs.append("old" if view == before else "new")
        assert _cli([str(src), "--out", str(out)]).returncode == 0
        assert _state(out, glob_view) == after and _leftovers(out) == []
        shutil.rmtree(out)
    print(f"\nCLI: {len(points)} of {len(mine)} kill points of the replaced plan checked; the globs showed "
          f"{seen_globs.count('old')} old, {seen_globs.count('new')} new, 0 mixed")
    assert seen_globs[-1] == "new" and "old" in seen_globs


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
