"""``khsyt extract PATH... --out DIR``: the pipeline's extraction without Dagster.

Writes the same datasets, in the same layout, as the Dagster assets do, so a folder of
plans can be processed (and scored) with one command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .datasets import ensure_dirs, write_plan
from .extract import Settings, extract_plan, list_plan_files, partition_key
from .results import Rejected


def _inputs(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(list_plan_files(p))
        else:
            files.append(p)
    return files


def cmd_extract(args: argparse.Namespace) -> int:
    files = _inputs(args.paths)
    if not files:
        print("no plan files found", file=sys.stderr)
        return 2
    out = Path(args.out)
    ensure_dirs(out)
    settings = Settings(ocr=not args.no_ocr, ocr_dpi=args.dpi, ocr_workers=args.workers,
                        cache_dir=Path(args.cache_dir) if args.cache_dir else None, ocr_model=args.ocr_model,
                        progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    keys: dict[str, Path] = {}
    n_ok = n_bad = 0
    for f in files:
        key = partition_key(f)
        if key in keys:
            print(f"two inputs have the same partition key {key}: {keys[key]} and {f}", file=sys.stderr)
            return 2
        keys[key] = f
        res = extract_plan(f, settings)
        write_plan(out, key, res)
        if isinstance(res, Rejected):
            n_bad += 1
            print(f"REJECTED {f} [{res.stage}] {res.reason}")
        else:
            n_ok += 1
            print(f"ok       {f}: {len(res.tasks)} tasks, {res.plan['pages']} pages")
    print(f"{n_ok} plans extracted, {n_bad} rejected → {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="khsyt", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract", help="extract plan files into curated Parquet datasets")
    ex.add_argument("paths", nargs="+", help="plan files or folders of plan files")
    ex.add_argument("--out", required=True, help="output folder for the datasets")
    ex.add_argument("--no-ocr", action="store_true", help="never OCR (image-only pages are rejected)")
    ex.add_argument("--dpi", type=int, default=300, help="OCR rendering resolution (default 300)")
    ex.add_argument("--workers", type=int, default=None, help="OCR worker processes (default: all cores)")
    ex.add_argument("--cache-dir", default=None, help="OCR cache folder (default .cache/ocr)")
    ex.add_argument("--ocr-model", default=None, help="OCR model: vie_best_int (default), vie, script-viet")
    args = ap.parse_args(argv)
    if args.cmd == "extract":
        return cmd_extract(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
