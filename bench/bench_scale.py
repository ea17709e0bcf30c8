"""Scale benchmark (``make bench-scale``): N distinct plan files through the CLI and through the
Dagster ingest, side by side, and what stays cheap as N grows.

For each N (default 100 and 1,000) it generates N plan files from the samples in data/raw
(``KINDS``: converted text, text-layer PDF), each with changed bytes (a numbered trailer: a
text line for text files, a PDF comment after ``%%EOF`` for PDFs), so every file is a distinct
plan with its own id.  It then measures, each in a fresh process:

- ``khsyt extract`` (the CLI) and ``python -m pipeline.ingest`` (Dagster, SQLite instance in a
  fresh DAGSTER_HOME, batch runs): wall time, CPU time and peak RSS (``wait4``), per plan;
- a re-run of the ingest with nothing new (wall; how many plans it extracted);
- the raw-files sensor tick (``SENSOR_FILES`` files, default 10,000): a first tick (every file
  new) and a second one (nothing changed), wall;
- the output size (curated folder, ``.dagster`` instance folder) and file counts;
- the README's DuckDB query on the per-plan files and on the compacted files.

OCR pages are not run here: their cost per page is in the OCR table above (``make bench``);
a scanned plan's time is its page count times that figure plus the text-plan overhead measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
QUERY = """
    SELECT p.province, t.area, count(*) AS tasks
    FROM '{tasks}' t JOIN '{plans}' p USING (plan_id)
    GROUP BY ALL ORDER BY province, tasks DESC
"""


def generate(out: Path, n: int, kinds: list[str]) -> list[Path]:
    """N distinct plan files made from the samples (each with a numbered trailer)."""
    suffixes = {"txt": ".txt", "pdf": ".pdf"}
    samples = sorted(p for k in kinds for p in (REPO / "data" / "raw").glob(f"*{suffixes[k]}")
                     if p.name.count(".") == 1)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        src = samples[i % len(samples)]
        data = src.read_bytes()
        trailer = (f"\n%khsyt-bench {i}\n" if src.suffix == ".pdf" else f"\n\nBản sao số {i}.\n").encode()
        dst = out / f"{src.stem}_copy{i:05d}{src.suffix}"
        dst.write_bytes(data + trailer)
        files.append(dst)
    return files


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall, CPU (user+sys, children included) and peak RSS of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed:\n{out[-2000:]}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024, "stdout": out}


def du(path: Path) -> tuple[float, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def query_time(tasks: str, plans: str, repeat: int = 5) -> float:
    import duckdb

    con = duckdb.connect()
    sql = QUERY.format(tasks=tasks, plans=plans)
    con.execute(sql).fetchall()  # warm the OS cache
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        con.execute(sql).fetchall()
        best = min(best, time.perf_counter() - t0)
    return best


def sensor_ticks(n_files: int, work: Path) -> dict[str, float]:
    """Wall time of the raw-files sensor on n_files files: first tick, then an unchanged tick."""
    code = f"""
import json, shutil, sys, time
from pathlib import Path
sys.path.insert(0, {str(REPO)!r})
from dagster import DagsterInstance, build_sensor_context
from pipeline.resources import PlanStore
from pipeline.sensors import raw_files_sensor
raw = Path({str(work / 'sensor_raw')!r}); raw.mkdir(parents=True, exist_ok=True)
src = Path({str(REPO / 'data/raw/003_453ccdb535033752.txt')!r}).read_bytes()
for i in range({n_files}):
    (raw / f"plan_{{i:05d}}.txt").write_bytes(src + str(i).encode())
out = {{}}
with DagsterInstance.ephemeral() as inst:
    store = PlanStore(raw_dir=str(raw), curated_dir={str(work / 'sensor_curated')!r}, ocr=False)
    t0 = time.perf_counter()
    with build_sensor_context(instance=inst, resources={{"store": store}}) as ctx:
        first = raw_files_sensor(ctx)
    out["first_tick_s"] = time.perf_counter() - t0
    out["first_tick_runs"] = len(first.run_requests)
    for req in first.dynamic_partitions_requests:
        inst.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    t0 = time.perf_counter()
    with build_sensor_context(instance=inst, resources={{"store": store}}, cursor=first.cursor) as ctx:
        second = raw_files_sensor(ctx)
    out["unchanged_tick_s"] = time.perf_counter() - t0
    out["unchanged_tick_runs"] = len(second.run_requests)
print(json.dumps(out))
"""
    m = measure([PY, "-c", code])
    return json.loads(m["stdout"].strip().splitlines()[-1])


def compaction_times(curated: Path) -> dict[str, float]:
    """Wall and CPU of a full compaction, and of the incremental one after a plan is retired."""
    code = f"""
import json, sys, time
sys.path.insert(0, {str(REPO)!r})
from khsyt import datasets
from khsyt.compaction import compact
curated = {str(curated)!r}
out = {{}}
for label, full in (("compact_full", True), ("compact_one_retired", False)):
    if not full:
        datasets.retire(curated, sorted(datasets.published_keys(curated))[0])
    t0, c0 = time.perf_counter(), time.process_time()
    counts = compact(curated, full=full)
    out[label + "_wall"], out[label + "_cpu"] = time.perf_counter() - t0, time.process_time() - c0
    out[label + "_partitions"] = counts["partitions_rebuilt"]
print(json.dumps(out))
"""
    m = measure([PY, "-c", code])
    return json.loads(m["stdout"].strip().splitlines()[-1])


def run_n(n: int, kinds: list[str], work: Path) -> dict:
    d = work / f"n{n}"
    raw = d / "raw"
    generate(raw, n, kinds)
    env = {**os.environ, "PYTHONPATH": str(REPO), "DAGSTER_HOME": str(d / "dagster")}
    (d / "dagster").mkdir(parents=True)
    # the embedded profile's storage (dagster.yaml), under this fresh DAGSTER_HOME
    (d / "dagster" / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nstorage:\n  custom:\n    module: pipeline.instance_storage\n"
        f"    class: BatchedSqliteStorage\n    config:\n      base_dir: {d / 'dagster' / 'storage'}\n")
    cli = measure([PY, "-m", "khsyt.cli", "extract", str(raw), "--out", str(d / "cli_out"), "--no-ocr"], env)
    models = d / "dagster" / "plan_models"
    ingest_cmd = [PY, "-m", "pipeline.ingest", "--raw", str(raw), "--curated", str(d / "curated"),
                  "--models", str(models)]
    dag = measure(ingest_cmd, env)
    again = measure(ingest_cmd, env)
    # one plan file changed: one plan extracted, its compaction partition rebuilt
    one_file = sorted(raw.iterdir())[n // 2]
    one_file.write_bytes(one_file.read_bytes() + b"\n\nBan sao sua doi.\n")
    one = measure(ingest_cmd, env)
    compaction = compaction_times(d / "curated")
    curated_mb, curated_files = du(d / "curated")
    home_mb, home_files = du(d / "dagster")
    per_plan_q = query_time(f"{d}/curated/tasks/*.parquet", f"{d}/curated/plans/*.parquet")
    compact_q = query_time(f"{d}/curated/compacted/tasks/**/*.parquet", f"{d}/curated/compacted/plans/**/*.parquet")
    first_line = next((ln for ln in again["stdout"].splitlines() if "up to date" in ln), "")
    return {
        "n": n, "kinds": ",".join(kinds),
        "cli_wall_per_plan": cli["wall"] / n, "cli_cpu_per_plan": cli["cpu"] / n, "cli_rss_mb": cli["rss_mb"],
        "dagster_wall_per_plan": dag["wall"] / n, "dagster_cpu_per_plan": dag["cpu"] / n,
        "dagster_rss_mb": dag["rss_mb"], "dagster_wall": dag["wall"], "cli_wall": cli["wall"],
        "rerun_wall": again["wall"], "rerun_cpu": again["cpu"], "rerun_report": first_line.strip(),
        "one_changed_wall": one["wall"], "one_changed_cpu": one["cpu"], **compaction,
        "curated_mb": curated_mb, "curated_files": curated_files,
        "instance_mb": home_mb, "instance_files": home_files,
        "query_per_plan_s": per_plan_q, "query_compacted_s": compact_q,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default="100,1000", help="comma-separated N (default 100,1000)")
    ap.add_argument("--kinds", default="txt", help="txt, pdf or txt,pdf (default txt)")
    ap.add_argument("--sensor-files", type=int, default=10_000)
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    a = ap.parse_args(argv)
    kinds = a.kinds.split(",")
    results = []
    with tempfile.TemporaryDirectory(prefix="khsyt-bench-scale-") as tmp:
        work = Path(tmp)
        for n in map(int, a.ns.split(",")):
            r = run_n(n, kinds, work)
            results.append(r)
            print(json.dumps(r), flush=True)
            shutil.rmtree(work / f"n{n}", ignore_errors=True)
        sensor = sensor_ticks(a.sensor_files, work) if a.sensor_files else {}
    print(json.dumps({"sensor_files": a.sensor_files, **sensor}), flush=True)
    print()
    print("| N | inputs | CLI wall s/plan | CLI CPU s/plan | CLI peak RSS MB | Dagster wall s/plan "
          "| Dagster CPU s/plan | Dagster peak RSS MB | re-run nothing new s | curated MB (files) "
          "| instance MB (files) "
          "| README query per-plan files s | same on compacted s |")
    print("|" + "---|" * 13)
    for r in results:
        print(f"| {r['n']} | {r['kinds']} | {r['cli_wall_per_plan']:.3f} | {r['cli_cpu_per_plan']:.3f} "
              f"| {r['cli_rss_mb']:.0f} | {r['dagster_wall_per_plan']:.3f} | {r['dagster_cpu_per_plan']:.3f} "
              f"| {r['dagster_rss_mb']:.0f} | {r['rerun_wall']:.2f} ({r['rerun_cpu']:.2f} CPU) "
              f"| {r['curated_mb']:.1f} ({r['curated_files']}) "
              f"| {r['instance_mb']:.1f} ({r['instance_files']}) | {r['query_per_plan_s']:.4f} "
              f"| {r['query_compacted_s']:.4f} |")
    for r in results:
        print(f"\nN={r['n']}: one changed plan re-ingested {r['one_changed_wall']:.2f} s wall "
              f"({r['one_changed_cpu']:.2f} CPU s); compaction full {r['compact_full_wall']:.2f} s wall "
              f"({r['compact_full_cpu']:.2f} CPU s, {r['compact_full_partitions']} partitions), after one retired "
              f"plan {r['compact_one_retired_wall']:.2f} s wall ({r['compact_one_retired_cpu']:.2f} CPU s, "
              f"{r['compact_one_retired_partitions']} partition)")
    if sensor:
        print(f"\nsensor on {a.sensor_files} files: first tick {sensor['first_tick_s']:.2f} s "
              f"({sensor['first_tick_runs']} batch run requests), unchanged tick {sensor['unchanged_tick_s']:.2f} s "
              f"({sensor['unchanged_tick_runs']} runs)")
    if a.json:
        Path(a.json).write_text(json.dumps({"results": results, "sensor": sensor}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
