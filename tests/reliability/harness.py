"""Helpers of the reliability suite: run code in a child process with bounded time and
memory, and check the cross-dataset invariant of a curated folder."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

REPO = Path(__file__).resolve().parents[2]
#: Address-space cap of a child running one bad input (the issue's bar is peak RSS < 1 GB;
#: the cap is higher because Python with pyarrow/OpenCV maps more than it touches).
AS_LIMIT = 3 << 30


@dataclass
class Child:
    returncode: int
    output: str
    peak_rss_mb: float  # the child's own high-water mark (VmHWM)
    seconds: float
    rss_bound_mb: float  # wait4 ru_maxrss (also counts the parent's RSS at fork)


def run(args: list[str], env: dict[str, str] | None = None, timeout: float = 120,
        as_limit: int | None = AS_LIMIT) -> Child:
    """Run ``python args…`` from the repository under an address-space cap, returning its
    exit status (-9 when killed), output, peak RSS and wall time."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}

    def limit() -> None:
        if as_limit:
            resource.setrlimit(resource.RLIMIT_AS, (as_limit, as_limit))

    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([sys.executable, *args], env=full_env, cwd=REPO, stdout=out,
                                stderr=subprocess.STDOUT, preexec_fn=limit)
        deadline = t0 + timeout
        hwm = 0
        while True:
            hwm = max(hwm, _vm_hwm_kb(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise AssertionError(f"child ran past {timeout}s: {args}")
            time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    # wait4's ru_maxrss carries the forking parent's high-water mark over exec (never below
    # pytest's own RSS); the child's own peak is VmHWM, polled every 10 ms.
    return Child(proc.returncode, text, hwm / 1024, time.monotonic() - t0, usage.ru_maxrss / 1024)


_duck = None


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def glob_view(out: Path, name: str) -> pa.Table:
    """A dataset as the documented glob reads it (DuckDB; one connection, opening one costs
    more than the query)."""
    global _duck
    if _duck is None:
        _duck = duckdb.connect()
    return _duck.sql(f"select * from read_parquet('{out}/{name}/*.parquet', union_by_name=true)").to_arrow_table()


def plan_states(plans: pa.Table, tasks: pa.Table) -> dict[str, tuple[str, int]]:
    """source_path → (plan_id, tasks) after checking the plans–tasks join: every task's plan
    is there, every plan has exactly its n_tasks tasks, each plan once."""
    p = plans.to_pylist()
    ids = [r["plan_id"] for r in p]
    assert len(ids) == len(set(ids)), f"a plan appears twice: {ids}"
    counts: dict[str, int] = {}
    for t in tasks.column("plan_id").to_pylist():
        counts[t] = counts.get(t, 0) + 1
    orphans = set(counts) - set(ids)
    assert not orphans, f"tasks without their plan: {orphans}"
    for r in p:
        assert counts.get(r["plan_id"], 0) == r["n_tasks"], f"{r['source_path']}: {counts.get(r['plan_id'])} tasks, " \
                                                             f"n_tasks {r['n_tasks']}"
    return {r["source_path"]: (r["plan_id"], r["n_tasks"]) for r in p}
