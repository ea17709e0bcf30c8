"""``khsyt extract PATH... --out DIR``: the pipeline's extraction without Dagster.

Writes the same datasets, in the same layout, as the Dagster assets do (the cross-plan
``units``, ``plan_versions`` and ``review_queue`` included), so a folder of plans can be
processed (and scored) with one command.  ``khsyt review …`` lists and corrects what needs
a look.

Exit codes (documented in README.md, like OCRmyPDF's, so scripts can tell failures apart):

====  =====================================================================
0     every file extracted, or some rejected and the others extracted
2     usage error: bad arguments, no plan file found
3     an input path does not exist (nothing is processed, no rejects row)
4     every input file was rejected (the reasons are in ``rejects``)
5     the output folder cannot be created or written
130   interrupted (Ctrl-C)
15    internal error (a bug: run again with ``-v`` for the traceback)
====  =====================================================================
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from . import __version__

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INPUT_MISSING = 3
EXIT_ALL_REJECTED = 4
EXIT_OUTPUT = 5
EXIT_INTERNAL = 15
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """An error the user can fix: printed as one line, with its exit code, never a traceback."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _inputs(paths: list[str]) -> list[tuple[Path, Path | None]]:
    """(file, the input folder it was found in — None for a file named directly).  A path
    that does not exist is an error before any work (a typo is not a rejected file)."""
    from .extract import list_plan_files

    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise CliError("no such file or folder: " + ", ".join(missing), EXIT_INPUT_MISSING)
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
    from .extract import partition_key

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


def check_writable(out: Path) -> None:
    """Create the output folder and prove a file can be written in it, before any work."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".khsyt-write-test-"):
            pass
    except OSError as exc:
        raise CliError(f"cannot write to --out {out}: {exc.strerror or exc}", EXIT_OUTPUT) from exc


class FileProgress:
    """File-level progress on stderr: a tqdm bar on a terminal; per-file result lines go
    through ``line`` so they do not break the bar.

    ``message`` is the hook for progress inside one file (the OCR reader reports each page
    done as "OCR name: page 3 done (3/19, 4.1 s/page, confidence 88)"): on the bar it becomes
    the bar's suffix; without a bar (a log, a pipe) the line itself goes to stderr, unless quiet.
    """

    def __init__(self, total: int, enabled: bool, quiet: bool = False) -> None:
        from tqdm import tqdm

        self.enabled, self.quiet = enabled, quiet
        self._bar = tqdm(total=total, unit="file", file=sys.stderr, disable=not enabled, dynamic_ncols=True,
                         leave=False)

    def start(self, name: str) -> None:
        self._bar.set_description_str(name[:40])
        self._bar.set_postfix_str("")

    def page(self, done: int, total: int) -> None:
        self._bar.set_postfix_str(f"page {done}/{total}")

    def message(self, msg: str) -> None:
        m = re.search(r"\((\d+)/(\d+)", msg)
        if self.enabled and m:
            self.page(int(m.group(1)), int(m.group(2)))
        elif not self.enabled and not self.quiet:
            print(msg, file=sys.stderr, flush=True)

    def line(self, text: str) -> None:
        self._bar.write(text, file=sys.stdout)

    def advance(self) -> None:
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def file_line(path: Path | str, result) -> str:
    """One line per file: ok with task count and flags, or REJECTED with stage and reason."""
    from .flags import needs_review
    from .results import Rejected

    if isinstance(result, Rejected):
        return f"REJECTED {path} [{result.stage}] {result.reason}"
    flags = needs_review(result)
    tail = ("; flags: " + "; ".join(flags)) if flags else ""
    return f"ok       {path}: {len(result.tasks)} tasks, {result.plan['pages']} pages{tail}"


def cmd_extract(args: argparse.Namespace) -> int:
    from .corrections import publish
    from .cross_plan import write_cross_plan
    from .datasets import ensure_dirs, published_keys, repair, retire
    from .extract import Settings, extract_plan
    from .results import Rejected

    files = _inputs(args.paths)
    if not files:
        raise CliError("no plan files found", EXIT_USAGE)
    out = Path(args.out)
    check_writable(out)
    ensure_dirs(out)
    for k in repair(out):
        print(f"repaired an interrupted publication of {k}")
    settings = Settings(ocr=not args.no_ocr, ocr_dpi=args.dpi, ocr_workers=args.workers,
                        cache_dir=Path(args.cache_dir) if args.cache_dir else None, ocr_model=args.ocr_model)
    corrections_dir = Path(args.corrections) if args.corrections else None
    keys = assign_keys(files)
    progress = FileProgress(len(keys), enabled=sys.stderr.isatty() and not args.quiet, quiet=args.quiet)
    settings.progress = progress.message  # per-page OCR progress inside one file
    n_ok = n_bad = n_flagged = 0
    try:
        for key, (f, root) in keys.items():
            progress.start(f.name)
            res = extract_plan(f, settings, key=key, root=root)
            publish(out, key, res, corrections_dir)
            line = file_line(f, res)
            if isinstance(res, Rejected):
                n_bad += 1
            else:
                n_ok += 1
                n_flagged += "; flags: " in line
            progress.line(line)
            progress.advance()
    finally:
        progress.close()
    gone = [] if args.add else sorted(published_keys(out) - set(keys))
    for k in gone:
        retire(out, k)
    write_cross_plan(out, corrections_dir)
    print(f"{n_ok} plans extracted ({n_flagged} flagged for review), {n_bad} rejected"
          + (f", {len(gone)} no longer in the inputs retired" if gone else "") + f" → {out}")
    return EXIT_ALL_REJECTED if n_bad and not n_ok else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="khsyt", description=__doc__.splitlines()[0],
                                 epilog="exit codes: 0 ok, 2 usage, 3 input missing, 4 every file rejected, "
                                        "5 output not writable, 15 internal error, 130 interrupted")
    ap.add_argument("--version", action="version", version=f"khsyt {__version__}")
    ap.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of internal errors")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract", help="extract plan files into curated Parquet datasets")
    ex.add_argument("paths", nargs="+", help="plan files or folders of plan files")
    ex.add_argument("--out", required=True, help="output folder for the datasets")
    ex.add_argument("--add", action="store_true",
                    help="keep the rows of plans already in --out that are not among these inputs "
                         "(by default --out ends up holding exactly the plans of these inputs)")
    ex.add_argument("--no-ocr", action="store_true", help="never OCR (image-only pages are rejected)")
    ex.add_argument("--dpi", type=int, default=300,
                    help="OCR rendering resolution (default 300; a scan is read at its own when lower)")
    ex.add_argument("--workers", type=int, default=None, help="OCR worker processes (default: all cores)")
    ex.add_argument("--cache-dir", default=None, help="OCR cache folder (default .cache/ocr)")
    ex.add_argument("--ocr-model", default=None, help="OCR model: vie_best_int (default), vie, script-viet")
    ex.add_argument("--corrections", default=None,
                    help="folder of analysts' corrections to re-apply (e.g. data/corrections; default none)")
    ex.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    ex.add_argument("-v", "--verbose", action="store_true", dest="verbose_sub", help=argparse.SUPPRESS)
    from .review.cli import add_review_parser

    add_review_parser(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    verbose = args.verbose or getattr(args, "verbose_sub", False)
    try:
        if args.cmd == "extract":
            return cmd_extract(args)
        return args.run(args)
    except CliError as exc:
        print(f"khsyt: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("khsyt: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line unless -v asks for the traceback
        if verbose:
            raise
        print(f"khsyt: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
