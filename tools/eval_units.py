#!/usr/bin/env python3
"""Agreement of parsers.units.unit_names with the gold canonical unit lists.

Not a test: a figure to watch while editing parsers/data/units.yaml.  For every gold task and
each of lead / coordinating / monitoring units it compares ``unit_names(<field>_raw)`` with the
gold list using the same set-F1 as the scorer (normalised lowercase strings).  "all" averages
over every task (an absent raw and an empty gold list agree, as in the scorer); "non-empty"
only over tasks whose raw cell is printed, which is the harder figure.

Usage: tools/eval_units.py [--gold DIR] [--show-errors]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers.issuers import issuer_from_name  # noqa: E402
from parsers.units import unit_names  # noqa: E402

FIELDS = ["lead_units", "coordinating_units", "monitoring_units"]


def norm(s) -> str:
    """Same normalisation as the shared scorer (tools/score.py)."""
    if s is None:
        return ""
    s = unicodedata.normalize("NFC", str(s)).lower()
    s = s.replace("…", " ")
    s = re.sub(r"<[^>]+>", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    return s.strip(" .,;:-–")


def set_f1(p, g) -> float:
    p = {norm(x) for x in (p or []) if norm(x)}
    g = {norm(x) for x in (g or []) if norm(x)}
    if not p and not g:
        return 1.0
    tp = len(p & g)
    return 0.0 if tp == 0 else 2 * tp / (len(p) + len(g))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", type=Path, default=Path("/work/shared/gold"))
    ap.add_argument("--show-errors", action="store_true")
    a = ap.parse_args(argv)

    totals = {f: [] for f in FIELDS}
    printed = {f: [] for f in FIELDS}
    errors = []
    for path in sorted(a.gold.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        province = gold["plan"].get("province")
        issuer = issuer_from_name(gold["plan"].get("issuer") or "", province)
        level = issuer.level if issuer else None
        for t in gold["tasks"]:
            for f in FIELDS:
                if f not in t and f + "_raw" not in t:
                    continue
                raw = t.get(f + "_raw")
                pred = unit_names(raw, province, level)
                s = set_f1(pred, t.get(f))
                totals[f].append(s)
                if raw:
                    printed[f].append(s)
                if s < 1.0:
                    errors.append((path.stem[:3], t["seq"], f, raw, pred, t.get(f), s))

    for f in FIELDS:
        allv, nonempty = totals[f], printed[f]
        if not allv:
            continue
        print(f"{f:<20} all: F1={sum(allv) / len(allv):.3f} (n={len(allv)})   "
              f"non-empty: F1={sum(nonempty) / max(len(nonempty), 1):.3f} (n={len(nonempty)})")
    if a.show_errors:
        for doc, seq, f, raw, pred, gold_list, s in errors:
            print(f"\n{doc} #{seq} {f} F1={s:.2f}\n  raw : {raw}\n  pred: {pred}\n  gold: {gold_list}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
