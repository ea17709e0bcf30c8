"""Snapshot benchmark (``make bench-snapshot``): what one switch of the documented view costs at
N plans (khsyt/snapshots.py), side by side with the plain tool doing the same links (``cp -al``).

It builds a curated folder of N plans: one sample plan published through the protocol, its
generation's files hard-linked under N-1 other keys with their manifests.  Then it measures, best
of three, fsync on:

- ``snapshots.publish``: build a snapshot of every plan × dataset as hard links from the
  manifests, fsync its folders, switch ``_current``, delete the snapshot before the previous one;
- ``cp -al _snapshots/<id> copy``: GNU cp making the same hard links (no manifests read, no fsync);
- ``repair`` with nothing interrupted (the check every run and sensor tick pays);
- DuckDB's README join through the documented globs.

    python bench/bench_snapshot.py --plans 1000
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
sys.path.insert(0, str(REPO))

from khsyt import datasets, snapshots  # noqa: E402
from khsyt.extract import Settings, extract_plan  # noqa: E402

SAMPLE = REPO / "data" / "raw" / "001_174c7ea9301aa0d6.txt"


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plans", type=int, default=1000)
    args = ap.parse_args()
    res = extract_plan(SAMPLE, Settings(ocr=False))
    with tempfile.TemporaryDirectory(prefix="khsyt-snap-") as d:
        out = Path(d) / "curated"
        datasets.ensure_dirs(out)
        t0 = time.perf_counter()
        datasets.write_plan(out, "plan_00000", res)
        man = datasets.manifest(out, "plan_00000")
        for i in range(1, args.plans):  # the other plans: the same files linked under other keys
            key = f"plan_{i:05d}"
            gen = out / "_generations" / key / man["generation"]
            gen.mkdir(parents=True)
            files = {}
            for name, rel in man["files"].items():
                os.link(out / rel, gen / f"{name}.parquet")
                files[name] = f"_generations/{key}/{man['generation']}/{name}.parquet"
            (out / "_manifest" / f"{key}.json").write_text(json.dumps({**man, "key": key, "files": files}))
        built = time.perf_counter() - t0
        snapshots.publish(out)
        publish = best(lambda: snapshots.publish(out))
        current = out / os.readlink(out / snapshots.CURRENT)
        files = sum(1 for _ in current.rglob("*.parquet"))
        copy = Path(d) / "copy"

        def cp() -> None:
            shutil.rmtree(copy, ignore_errors=True)
            subprocess.run(["cp", "-al", str(current), str(copy)], check=True)

        plain = best(cp)
        repair = best(lambda: datasets.repair(out))
        import duckdb

        con = duckdb.connect()
        sql = (f"SELECT p.province, count(*) FROM '{out}/tasks/*.parquet' t "
               f"JOIN '{out}/plans/*.parquet' p USING (plan_id) GROUP BY ALL")
        query = best(lambda: con.sql(sql).fetchall())
    print(f"{args.plans} plans ({built:.1f} s to lay out), {files} files in a snapshot")
    print(f"snapshots.publish (build + fsync + switch + delete the oldest): {publish * 1000:.0f} ms "
          f"({publish / files * 1e6:.0f} µs per file)")
    print(f"cp -al of the same snapshot (the plain tool, no fsync):        {plain * 1000:.0f} ms")
    print(f"repair with nothing interrupted:                                {repair * 1000:.1f} ms")
    print(f"README join through the documented globs (DuckDB):             {query * 1000:.0f} ms")


if __name__ == "__main__":
    main()
