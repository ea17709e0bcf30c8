#!/usr/bin/env python3
"""Where does a unit's name end and its role note begin?  Vocabulary vs underthesea POS tags.

Not a test: the measurement behind docs/normalisation.md ("What underthesea and spaCy are used
for").  For every printed lead/coordinating cell of the gold files it compares the canonical
unit lists of parsers.units (which cuts a note at a role verb of units.yaml) with the same
pipeline cutting at the first word underthesea's POS tagger tags as a verb, using the scorer's
set-F1.

Usage: tools/compare_unit_boundaries.py [--gold tests/fixtures/dev2/gold]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import parsers.units as units  # noqa: E402
from parsers.issuers import issuer_from_name  # noqa: E402
from tools.eval_units import set_f1  # noqa: E402


def pos_cut(text: str) -> str:
    """Cut at the first verb after a noun, as underthesea tags them."""
    from underthesea import pos_tag

    out, seen_noun = [], False
    for word, tag in pos_tag(text):
        if tag == "V" and seen_noun:
            break
        seen_noun = seen_noun or tag.startswith("N")
        out.append(word)
    return " ".join(out) or text


def score(gold_dir: Path) -> tuple[float, int]:
    scores = []
    for path in sorted(gold_dir.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        plan = gold["plan"]
        issuer = issuer_from_name(plan.get("issuer") or "", plan.get("province"))
        for t in gold["tasks"]:
            for field in ("lead_units", "coordinating_units"):
                raw = t.get(field + "_raw")
                if raw:
                    pred = units.unit_names(raw, plan.get("province"), issuer.level if issuer else None)
                    scores.append(set_f1(pred, t.get(field)))
    return sum(scores) / max(len(scores), 1), len(scores)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", type=Path, default=Path("tests/fixtures/dev2/gold"))
    a = ap.parse_args(argv)
    f1, n = score(a.gold)
    print(f"role-verb vocabulary   unit F1={f1:.3f} over {n} printed cells")
    units._cut_role_note = pos_cut  # the one step that changes
    f1, n = score(a.gold)
    print(f"underthesea POS verbs  unit F1={f1:.3f} over {n} printed cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())
