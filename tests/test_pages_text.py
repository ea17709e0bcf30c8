"""The `pages` dataset keeps the text the pipeline read: every gold task of each sample
digital PDF is in it (issue: full-text `pages` dataset).

A task's words may be interrupted in the page text by what sits between them on paper (a
page break with its page number and repeated table header, a footnote mark), so each task's
words must appear in order within a short window, not as one unbroken string.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from khsyt.cli import main

GOLD = Path(__file__).parent / "fixtures" / "gold"
WORD = re.compile(r"\w+")


def _tokens(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text or "")]


def _contains_in_order(haystack: list[str], needle: list[str]) -> bool:
    """needle's words occur in haystack in order, within a window a little longer than needle."""
    window = 2 * len(needle) + 120  # room for the rest of a table row and a repeated header
    for start, word in enumerate(haystack):
        if word != needle[0]:
            continue
        i = 1
        for w in haystack[start + 1 : start + window]:
            if i == len(needle):
                break
            if w == needle[i]:
                i += 1
        if i == len(needle):
            return True
    return False


@pytest.fixture(scope="module")
def pages(raw_dir, tmp_path_factory):
    import pandas as pd

    out = tmp_path_factory.mktemp("pages")
    pdfs = sorted(p for p in raw_dir.glob("*.pdf") if p.stem.count(".") == 0)
    assert main(["extract", *map(str, pdfs), "--out", str(out), "--no-ocr"]) == 0
    plans = pd.read_parquet(out / "plans")
    return pd.read_parquet(out / "pages").merge(plans[["plan_id", "source_path"]], on="plan_id")


@pytest.mark.parametrize("gold_file", sorted(GOLD.glob("*.json")), ids=lambda p: p.stem)
def test_pages_text_contains_every_gold_task(pages, gold_file):
    gold = json.loads(gold_file.read_text(encoding="utf-8"))
    mine = pages[pages.source_path.str.contains(gold_file.stem)].sort_values("page")
    assert len(mine) > 1 and set(mine.method) == {"text_layer"}
    text = _tokens(" ".join(mine.text))
    missing = [t["task"][:80] for t in gold["tasks"] if t["task"] and not _contains_in_order(text, _tokens(t["task"]))]
    assert missing == []


def test_window_search_rejects_text_that_is_not_there():
    hay = _tokens("Kế hoạch cải cách hành chính năm 2024 | 9 | Nhiệm vụ chung | của ngành Y tế")
    assert _contains_in_order(hay, _tokens("cải cách hành chính năm 2024 của ngành"))
    assert not _contains_in_order(hay, _tokens("cải cách thủ tục hành chính"))
