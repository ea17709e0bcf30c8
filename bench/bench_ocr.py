"""OCR benchmark: speed, memory and character error rate of the OCR extractor.

    python -m bench.bench_ocr [--pages N] [--dpi 200 300] [--workers 1 2] [--out FILE.md]
    python bench/bench_ocr.py ...

Inputs: /work/shared/corpus/<doc-id>/scan{200,300}.pdf with digital.pdf beside them as the
reference, or else the committed sample data/raw/<doc-id>.scan200.pdf with data/raw/<doc-id>.pdf.
N pages are taken round-robin across documents (first pages, body pages and appendix pages mix).

Reported per configuration (one Markdown table):
- text layer: pdfplumber reading the digital PDF's pages (extractors.pdf) — the baseline;
- OCR at each dpi in-process (one core): CPU seconds per page, and the CER of the OCR text
  against the digital text layer of the same page, without and with the lexicon post-correction
  (the second reading reuses the engine's output, so both see identical recognition);
- OCR through ``ocr_pdf_pages`` with 1 worker (read in the calling process) and 2 workers
  (spawn process pool), one call per file as the pipeline makes them: wall seconds per page.
Each configuration runs in a fresh Python process so that its peak memory (max RSS of the
process, its workers and their Tesseract children) is its own.

CER: each reference word (pdfplumber word of the digital page) is assigned to the OCR block
whose box holds its centre (a cell, or the nearest line); per block the reference text is
compared with the OCR text by edit distance; reference words that fall in no block count as
deleted, OCR blocks with no reference as inserted.  Rules drawn as "____" in the digital file
are not text in a scan and are left out.  So reading order inside a block matters, order between
blocks does not.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: make the checkout importable
    sys.path.insert(0, str(REPO_ROOT))

from extractors.model import BBox, Line, Page, clean_text  # noqa: E402

CORPUS = Path("/work/shared/corpus")
SAMPLE = REPO_ROOT / "data" / "raw"
_RULE_WORD = re.compile(r"[_.…]+")


# --------------------------------------------------------------------------- CER


@dataclass(frozen=True)
class RefWord:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float


def reference_words(pdf_path: str | Path, page_number: int) -> list[RefWord]:
    """Words of a digital PDF page (pdfplumber), without drawn rules typed as underscores."""
    import pdfplumber

    with pdfplumber.open(str(pdf_path)) as pdf:
        page = pdf.pages[page_number - 1]
        return [
            RefWord(clean_text(w["text"]), w["x0"], w["top"], w["x1"], w["bottom"])
            for w in page.extract_words()
            if not _RULE_WORD.fullmatch(w["text"])
        ]


def _blocks(page: Page) -> list[tuple[str, BBox, bool]]:
    out = []
    for b in page.blocks:
        if isinstance(b, Line):
            if b.bbox is not None:
                out.append((b.text, b.bbox, False))
        else:
            out.extend((c.text, c.bbox, True) for c in b.cells if c.bbox is not None)
    return out


def page_cer(page: Page, ref: list[RefWord], line_tol: float = 4.0) -> tuple[int, int]:
    """(edit errors, reference characters) of an OCR page against its reference words."""
    from rapidfuzz.distance import Levenshtein

    blocks = _blocks(page)
    assigned: list[list[RefWord]] = [[] for _ in blocks]
    errors = 0
    for w in ref:
        cx, cy = (w.x0 + w.x1) / 2, (w.top + w.bottom) / 2
        best, best_d = None, float("inf")
        for i, (_, bb, is_cell) in enumerate(blocks):
            tol = 0.0 if is_cell else line_tol
            if bb.x0 - tol <= cx <= bb.x1 + tol and bb.top - tol <= cy <= bb.bottom + tol:
                d = 0.0 if is_cell else abs(cy - (bb.top + bb.bottom) / 2)
                if d < best_d:
                    best, best_d = i, d
        if best is None:
            errors += len(w.text) + 1
        else:
            assigned[best].append(w)
    total = sum(len(w.text) + 1 for w in ref)
    for (text, _, _), words in zip(blocks, assigned, strict=True):
        lines: list[list[RefWord]] = []
        for w in sorted(words, key=lambda w: w.top):
            if lines and abs(lines[-1][-1].top - w.top) < 4:
                lines[-1].append(w)
            else:
                lines.append([w])
        ref_text = " ".join(" ".join(x.text for x in sorted(ln, key=lambda w: w.x0)) for ln in lines)
        errors += Levenshtein.distance(text, ref_text)
    return errors, total


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Sample:
    doc_id: str
    scans: dict[int, Path]  # dpi -> scanned PDF
    digital: Path


def find_samples(corpus: Path = CORPUS) -> list[Sample]:
    out = []
    if corpus.is_dir():
        for d in sorted(p for p in corpus.iterdir() if p.is_dir()):
            scans = {dpi: d / f"scan{dpi}.pdf" for dpi in (200, 300) if (d / f"scan{dpi}.pdf").exists()}
            if scans and (d / "digital.pdf").exists():
                out.append(Sample(d.name, scans, d / "digital.pdf"))
    if not out:
        for scan in sorted(SAMPLE.glob("*.scan200.pdf")):
            doc_id = scan.name.split(".")[0]
            digital = SAMPLE / f"{doc_id}.pdf"
            if digital.exists():
                out.append(Sample(doc_id, {200: scan}, digital))
    return out


def pick_pages(samples: list[Sample], n: int) -> list[tuple[Sample, int]]:
    """n (sample, page) pairs, round-robin across documents, spread over each document."""
    from extractors.raster import count_pages

    orders = []
    for s in samples:
        total = count_pages(s.digital)
        # first page, last page, then the middle ones: header, appendix and body pages mix
        seq = [1, total] + [p for p in range(2, total)]
        orders.append([p for p in dict.fromkeys(seq) if 1 <= p <= total])
    picked: list[tuple[Sample, int]] = []
    k = 0
    while len(picked) < n and any(k < len(o) for o in orders):
        for s, o in zip(samples, orders, strict=True):
            if k < len(o) and len(picked) < n:
                picked.append((s, o[k]))
        k += 1
    return picked


# --------------------------------------------------------------------------- measurements


def _cpu() -> float:
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _peak_mb() -> float:
    """Largest resident set of this process or any finished descendant (Linux: KiB)."""
    a = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    b = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(a, b) / 1024.0


class _MemoEngine:
    """Wraps an engine and remembers its answers per image, so that a second reading of the
    same page (with another post-processing option) costs no recognition."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.memo: dict[tuple[bytes, int, int], Any] = {}

    @property
    def version(self) -> str:
        return self.inner.version

    def check_available(self) -> None:
        self.inner.check_available()

    def _key(self, image: Any, a: int, b: int) -> tuple[bytes, int, int]:
        import hashlib

        return hashlib.sha1(image.tobytes() + str(image.shape).encode()).digest(), a, b

    def image_to_words(self, image: Any, psm: int, dpi: int) -> Any:
        key = self._key(image, psm, dpi)
        if key not in self.memo:
            self.memo[key] = self.inner.image_to_words(image, psm, dpi)
        return self.memo[key]

    def osd(self, image: Any, dpi: int) -> Any:
        key = self._key(image, -1, dpi)
        if key not in self.memo:
            self.memo[key] = self.inner.osd(image, dpi)
        return self.memo[key]


def run_text_layer(pages: list[tuple[str, int]]) -> dict[str, float]:
    import pdfplumber

    from extractors.pdf import page_from_plumber

    c0, t0 = _cpu(), time.perf_counter()
    for path, n in pages:
        with pdfplumber.open(path) as pdf:
            page_from_plumber(pdf.pages[n - 1], n)
    return {"cpu": _cpu() - c0, "wall": time.perf_counter() - t0, "pages": len(pages), "peak_mb": _peak_mb()}


def _lines_page(words: list[Any], dpi: int, number: int) -> Page:
    """Words of a plain reading as Lines (the engine's own line ids), so that its CER is
    measured the same way as ours."""
    from extractors.ocr import _bbox_pt, _group_lines, _join, _line_box

    k = 72.0 / dpi
    lines = [Line(text=_join(ws), bbox=_bbox_pt(*_line_box(ws), k)) for ws in _group_lines(words, float("inf"))]
    return Page(number=number, blocks=lines, method="ocr")


def plain_tesseract_page(png: str, dpi: int, lang: str, number: int) -> Page:
    """What plain ``tesseract PAGE.png out -l LANG --dpi D tsv`` reads (its defaults: psm 3,
    no preprocessing)."""
    from extractors.ocr_engine import words_from_tsv

    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "out")
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        subprocess.run(["tesseract", png, base, "-l", lang, "--dpi", str(dpi), "tsv"], capture_output=True,
                       check=True, env=env)
        words = words_from_tsv(Path(base + ".tsv").read_text(encoding="utf-8"))
    return _lines_page(words, dpi, number)


def plain_library_page(gray: Any, dpi: int, engine: Any, number: int) -> Page:
    """The same page read by the Tesseract library our engine calls (in-process), with the
    library's defaults (psm 3, no settings, no preprocessing): our overhead over the engine
    itself, whatever its build."""
    return _lines_page(engine.image_to_words(gray, 3, dpi), dpi, number)


def run_quality(pages: list[tuple[str, str, int]], dpi: int) -> dict[str, float]:
    """In-process OCR (one core): CPU per page, and CER without/with post-correction; and plain
    ``tesseract`` on the same rendered pages in the same run: its CPU and CER.

    Both sides get the page rendered by the same code; the render's CPU is counted on our side
    only (``cpu``) and reported on its own (``render_cpu``), so that the ratio can be read
    either way.  Plain tesseract reads the rendered page from a PNG file."""
    import cv2

    from extractors.ocr import OcrOptions, ocr_image
    from extractors.ocr_engine import TesseractEngine
    from extractors.raster import render_page

    cv2.setNumThreads(1)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    base_engine = TesseractEngine()
    engine = _MemoEngine(base_engine)
    engine.check_available()
    library = TesseractEngine(extra_config="")  # the library with its own defaults
    cpu = render_cpu = plain_cpu = lib_cpu = 0.0
    e_raw = e_cor = e_plain = e_lib = total = 0
    conf_sum = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for scan, digital, n in pages:
            ref = reference_words(digital, n)
            c0 = _cpu()
            gray = render_page(scan, n, dpi)
            c1 = _cpu()
            page = ocr_image(gray, dpi, engine, n, OcrOptions(correct=True))
            cpu += _cpu() - c0
            render_cpu += c1 - c0
            raw = ocr_image(gray, dpi, engine, n, OcrOptions(correct=False))
            engine.memo.clear()
            png = os.path.join(tmp, f"page{n}.png")
            cv2.imwrite(png, gray)
            c2 = _cpu()
            plain = plain_tesseract_page(png, dpi, base_engine.lang, n)
            plain_cpu += _cpu() - c2
            c3 = _cpu()
            lib = plain_library_page(gray, dpi, library, n)
            lib_cpu += _cpu() - c3
            a, t = page_cer(raw, ref)
            b, _ = page_cer(page, ref)
            c, _ = page_cer(plain, ref)
            e_lib += page_cer(lib, ref)[0]
            e_raw, e_cor, e_plain, total = e_raw + a, e_cor + b, e_plain + c, total + t
            conf_sum += page.confidence or 0.0
    return {"cpu": cpu, "render_cpu": render_cpu, "plain_cpu": plain_cpu, "pages": len(pages),
            "cer_raw": e_raw / max(1, total), "cer_corrected": e_cor / max(1, total),
            "cer_plain": e_plain / max(1, total), "ref_chars": total, "lang": base_engine.lang,
            "lib_cpu": lib_cpu, "cer_lib": e_lib / max(1, total), "lib": library.version.split(":")[2],
            "mean_conf": conf_sum / max(1, len(pages)), "peak_mb": _peak_mb()}


def run_pool(pages: list[tuple[str, int]], dpi: int, workers: int) -> dict[str, float]:
    """The real entry point with its process pool (no cache): wall time per page."""
    from extractors.ocr import ocr_pdf_pages

    by_file: dict[str, list[int]] = {}
    for path, n in pages:
        by_file.setdefault(path, []).append(n)
    c0, t0 = _cpu(), time.perf_counter()
    # one call for all pages of a file, as the pipeline does
    for path, numbers in by_file.items():
        ocr_pdf_pages(path, numbers, dpi=dpi, workers=workers, use_cache=False)
    return {"cpu": _cpu() - c0, "wall": time.perf_counter() - t0, "pages": len(pages), "peak_mb": _peak_mb()}


def _in_child(kind: str, payload: dict[str, Any]) -> dict[str, float]:
    """Run one configuration in a fresh interpreter, so its peak memory is its own."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"kind": kind, **payload}, f)
        spec = f.name
    try:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_child", spec],
                              capture_output=True, text=True, env=env, check=False)
    finally:
        os.unlink(spec)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _child_main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    kind = spec["kind"]
    if kind == "text":
        res = run_text_layer([tuple(x) for x in spec["pages"]])
    elif kind == "quality":
        res = run_quality([tuple(x) for x in spec["pages"]], spec["dpi"])
    else:
        res = run_pool([tuple(x) for x in spec["pages"]], spec["dpi"], spec["workers"])
    print(json.dumps(res))


# --------------------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=10, help="pages per configuration (default 10)")
    ap.add_argument("--dpi", type=int, nargs="+", default=[200, 300])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--no-pool", action="store_true", help="skip the process-pool runs")
    ap.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    ap.add_argument("--results", type=Path,
                    help="replace the measured section of this Markdown file (bench/RESULTS.md) with this run")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        _child_main(args._child)
        return 0

    samples = find_samples(args.corpus)
    if not samples:
        print("no scanned samples found", file=sys.stderr)
        return 1
    picked = pick_pages(samples, args.pages)
    rows = []
    ratios: list[str] = []
    header = ("| configuration | dpi | workers | pages | wall s/page | CPU s/page | peak RSS MB "
              "| CER raw | CER corrected | mean conf |")
    sep = "|---|---|---|---|---|---|---|---|---|---|"
    res = _in_child("text", {"pages": [(str(s.digital), n) for s, n in picked]})
    n = res["pages"]
    rows.append(f"| text layer (pdfplumber, digital PDF) | - | 1 | {n} | {res['wall'] / n:.3f} | "
                f"{res['cpu'] / n:.3f} | {res['peak_mb']:.0f} | - | - | - |")
    print(rows[-1], flush=True)
    for dpi in args.dpi:
        pages = [(s, n) for s, n in picked if dpi in s.scans]
        if not pages:
            continue
        q = _in_child("quality", {"dpi": dpi, "pages": [(str(s.scans[dpi]), str(s.digital), n) for s, n in pages]})
        rows.append(f"| OCR in-process, one core | {dpi} | 1 | {q['pages']} | - | {q['cpu'] / q['pages']:.2f} | "
                    f"{q['peak_mb']:.0f} | {q['cer_raw']:.4f} | {q['cer_corrected']:.4f} | {q['mean_conf']:.1f} |")
        print(rows[-1], flush=True)
        rows.append(f"| plain `tesseract -l {q['lang']}` (same rendered pages, same run) | {dpi} | 1 | {q['pages']} "
                    f"| - | {q['plain_cpu'] / q['pages']:.2f} | - | {q['cer_plain']:.4f} | - | - |")
        print(rows[-1], flush=True)
        rows.append(f"| plain Tesseract library as our engine calls it ({q['lib']}, psm 3, its defaults) | {dpi} "
                    f"| 1 | {q['pages']} | - | {q['lib_cpu'] / q['pages']:.2f} | - | {q['cer_lib']:.4f} | - | - |")
        print(rows[-1], flush=True)
        n = q["pages"]
        ratios.append(f"- {dpi} dpi: CPU ratio to plain tesseract {q['cpu'] / q['plain_cpu']:.2f} "
                      f"(ours {q['cpu'] / n:.2f} s/page incl. rendering {q['render_cpu'] / n:.2f} s; "
                      f"plain {q['plain_cpu'] / n:.2f} s/page on the rendered PNG); counting the rendering "
                      f"on both sides: {q['cpu'] / (q['plain_cpu'] + q['render_cpu']):.2f}; "
                      f"to the plain library our engine calls: {q['cpu'] / q['lib_cpu']:.2f}")
        print(ratios[-1], flush=True)
        if args.no_pool:
            continue
        for w in args.workers:
            r = _in_child("pool", {"dpi": dpi, "workers": w, "pages": [(str(s.scans[dpi]), n) for s, n in pages]})
            n = r["pages"]
            how = "in this process" if w == 1 else "process pool"
            rows.append(f"| OCR ocr_pdf_pages ({how}) | {dpi} | {w} | {n} | {r['wall'] / n:.2f} | "
                        f"{r['cpu'] / n:.2f} | {r['peak_mb']:.0f} | - | - | - |")
            print(rows[-1], flush=True)
    table = "\n".join([header, sep, *rows, "", *ratios])
    print()
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")
    if args.results:
        update_results(args.results, table, args)
    return 0


RESULTS_START = "<!-- bench:start (written by `make bench`; do not edit by hand) -->"
RESULTS_END = "<!-- bench:end -->"


def update_results(path: Path, table: str, args: argparse.Namespace) -> None:
    """Put this run's table between the markers of ``path`` (added at the top when missing),
    with when and on what it ran; the hand-written notes around it stay."""
    from extractors.ocr_engine import TesseractEngine

    engine = TesseractEngine()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    section = "\n".join([
        RESULTS_START,
        f"Last run: {stamp}, `{engine.version}`, model file `{engine.model_path() or '?'}`, "
        f"{os.cpu_count()} CPUs (shared), `--pages {args.pages} --dpi {' '.join(map(str, args.dpi))}`.",
        "",
        table,
        RESULTS_END,
    ])
    text = path.read_text(encoding="utf-8") if path.exists() else "# OCR benchmark results\n"
    if RESULTS_START in text and RESULTS_END in text:
        head, rest = text.split(RESULTS_START, 1)
        tail = rest.split(RESULTS_END, 1)[1]
        text = head + section + tail
    else:
        first, _, rest = text.partition("\n")
        text = f"{first}\n\n{section}\n{rest}"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
