"""Score each input kind of the sample corpus in its own output folder (``make eval``).

The corpus (``../shared/corpus/<doc-id>/{digital.pdf, scan200.pdf, scan300.pdf,
legacy_tcvn3.pdf, <doc-id>.docx}``) and the seed texts hold the same plans in different
forms; the scorer ties a plan to its gold by the doc id in the file name, so each kind is
extracted separately.  Not part of the pipeline: a development tool.

    python tools/eval_kinds.py --kinds digital,txt [--corpus ../shared/corpus] [--gold ../shared/gold]
    python tools/eval_kinds.py --kinds scan200@rotate=1.5,scan200@jpeg=40   # perturbed scans
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tools.perturb_scans import perturbed_copy  # noqa: E402

PERTURBED = REPO_ROOT / "out" / "perturbed"
KINDS = {
    "digital": "digital.pdf",
    "legacy": "legacy_tcvn3.pdf",
    "docx": "{doc}.docx",
    "scan300": "scan300.pdf",
    "scan200": "scan200.pdf",
}


def inputs(kind: str, corpus: Path, seeds: Path, dest: Path) -> int:
    """Copy the files of ``kind`` into ``dest``; "scan200@rotate=1.5": perturbed copies of the
    scans (tools/perturb_scans.py), made once under out/perturbed."""
    kind, _, spec = kind.partition("@")
    n = 0
    if kind == "txt":
        for f in sorted(seeds.glob("*.txt")):
            shutil.copy(f, dest / f.name)
            n += 1
        return n
    for d in sorted(p for p in corpus.iterdir() if p.is_dir()):
        src = d / KINDS[kind].format(doc=d.name)
        if src.exists():
            suffix = "".join(src.suffixes)
            name = f"{d.name}.{kind}{suffix}"
            if spec:
                src = perturbed_copy(src, spec, PERTURBED / spec.replace("=", "_") / name)
            shutil.copy(src, dest / name)
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", default="digital,txt")
    ap.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    ap.add_argument("--seeds", type=Path, default=Path("../shared/seeds"))
    ap.add_argument("--gold", type=Path, default=Path("../shared/gold"))
    ap.add_argument("--out", type=Path, default=Path("out/eval"))
    a = ap.parse_args(argv)
    scorer = a.gold.parent / "tools" / "score.py"
    for kind in a.kinds.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            n = inputs(kind, a.corpus, a.seeds, Path(tmp))
            if not n:
                print(f"== {kind}: no input files")
                continue
            out = a.out / kind
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "khsyt.cli", "extract", tmp, "--out", str(out)], check=True,
                           stdout=subprocess.DEVNULL)
        print(f"== {kind} ({n} files)", flush=True)
        subprocess.run([sys.executable, str(scorer), "--pred", str(out), "--gold", str(a.gold)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
