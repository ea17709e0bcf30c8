"""``khsyt extract PATH... --out DIR``: the pipeline's extraction without Dagster.

Writes the same datasets, in the same layout, as the Dagster assets do, so a folder of
plans can be processed (and scored) with one command.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .datasets import ensure_dirs, published_keys, repair, retire, write_plan
from .extract import Settings, extract_plan, list_plan_files, partition_key
from .results import Rejected


def _inputs(paths: list[str]) -> list[tuple[Path, Path | None]]:
    """(file, the input folder it was found in — None for a file named directly)."""
    files: list[tuple[Path, Path | None]] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend((f, p) for f in list_plan_files(p))
        else:
            files.append((p, None))
    return files


def assign_keys(files: list[tuple[Path, Path | None]]) -> dict[str, tuple[Path, Path | None]]:
    """A unique partition key per input file.  A key is taken from the path inside its input
    folder (the name, for a file given directly); when two inputs of one run share it
    (``a/kehoach.pdf b/kehoach.pdf``) both take the key of the path as given instead.  The
    same path given twice is read once (a link to a file is a file of its own: copies are
    flagged by their shared ``source_sha256``)."""
    first = [partition_key(f, root) for f, root in files]
    clash = {k for k in first if first.count(k) > 1}
    keys: dict[str, tuple[Path, Path | None]] = {}
    seen: set[str] = set()
    for (f, root), k in zip(files, first, strict=True):
        real = os.path.abspath(f)
        if real in seen:
            continue
        seen.add(real)
        if k in clash:
            k = partition_key(os.path.normpath(f), Path.cwd() if not Path(f).is_absolute() else Path("/"))
        while k in keys:  # only a hash collision could get here: never stop the batch for it
            k = f"{k[:100]}-{len(keys)}"
        keys[k] = (f, root)
    return keys


def cmd_extract(args: argparse.Namespace) -> int:
    files = _inputs(args.paths)
    if not files:
        print("no plan files found", file=sys.stderr)
        return 2
    out = Path(args.out)
    ensure_dirs(out)
    for k in repair(out):
        print(f"repaired an interrupted publication of {k}")
    settings = Settings(ocr=not args.no_ocr, ocr_dpi=args.dpi, ocr_workers=args.workers,
                        cache_dir=Path(args.cache_dir) if args.cache_dir else None, ocr_model=args.ocr_model,
                        progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    keys = assign_keys(files)
    n_ok = n_bad = 0
    for key, (f, root) in keys.items():
        res = extract_plan(f, settings, key=key, root=root)
        write_plan(out, key, res)
        if isinstance(res, Rejected):
            n_bad += 1
            print(f"REJECTED {f} [{res.stage}] {res.reason}")
        else:
            n_ok += 1
            print(f"ok       {f}: {len(res.tasks)} tasks, {res.plan['pages']} pages")
    gone = [] if args.add else sorted(published_keys(out) - set(keys))
    for k in gone:
        retire(out, k)
    print(f"{n_ok} plans extracted, {n_bad} rejected"
          + (f", {len(gone)} no longer in the inputs retired" if gone else "") + f" → {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="khsyt", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract", help="extract plan files into curated Parquet datasets")
    ex.add_argument("paths", nargs="+", help="plan files or folders of plan files")
    ex.add_argument("--out", required=True, help="output folder for the datasets")
    ex.add_argument("--add", action="store_true",
                    help="keep the rows of plans already in --out that are not among these inputs "
                         "(by default --out ends up holding exactly the plans of these inputs)")
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
