#!/usr/bin/env python3
"""Accuracy of parsers.deadlines.parse_deadlines against the gold deadline milestones.

Not a test: a figure to watch while editing parsers/data/deadline_words.yaml.  For every gold
task it parses ``deadline_raw`` with the gold plan's period (and its first year as default
year) and compares the sorted (kind, start, end) signatures, as the shared scorer does.
"all" counts every task (an absent cell and an empty gold list agree); "non-empty" only tasks
with a printed deadline.  Label agreement is shown as a secondary figure.

Usage: tools/eval_deadlines.py [--gold DIR] [--show-errors]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers.deadlines import parse_deadlines  # noqa: E402


def signature(milestones: list[dict]) -> list[tuple[str, str, str]]:
    """Same signature as the shared scorer's deadline_sig."""
    out = []
    for m in milestones or []:
        out.append((str(m.get("kind") or "").lower(), str(m.get("start") or "")[:10],
                    str(m.get("end") or "")[:10]))
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", type=Path, default=Path("/work/shared/gold"))
    ap.add_argument("--show-errors", action="store_true")
    a = ap.parse_args(argv)

    n = ok = n_printed = ok_printed = label_n = label_ok = 0
    errors = []
    for path in sorted(a.gold.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        period = tuple(gold["plan"]["plan_period"])
        for t in gold["tasks"]:
            raw = t.get("deadline_raw")
            pred = [m.as_dict() for m in parse_deadlines(raw, plan_period=period, default_year=period[0])]
            good = signature(pred) == signature(t.get("deadlines"))
            n += 1
            ok += good
            if raw:
                n_printed += 1
                ok_printed += good
            if good and raw:
                label_n += 1
                label_ok += [m["label"] for m in pred] == [m.get("label") for m in t.get("deadlines") or []]
            if not good:
                errors.append((path.stem[:3], t["seq"], raw, pred, t.get("deadlines")))

    print(f"deadlines (kind,start,end)  all: acc={ok / max(n, 1):.3f} (n={n})   "
          f"non-empty: acc={ok_printed / max(n_printed, 1):.3f} (n={n_printed})")
    print(f"labels equal where signature matches: {label_ok}/{label_n}")
    if a.show_errors:
        for doc, seq, raw, pred, gold_ms in errors:
            print(f"\n{doc} #{seq}\n  raw : {raw}\n  pred: {signature(pred)}\n  gold: {signature(gold_ms)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
