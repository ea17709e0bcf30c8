"""Whole-output golden files: the plans / tasks / tables rows of every sample plan.

For each sample in data/raw (text-layer PDFs and converted texts; the scan is left to the
OCR tests, which take minutes) and each dev2 text in tests/fixtures/dev2/texts, the rows
``khsyt extract`` would publish (minus the extraction time and pipeline version) are
compared with ``tests/golden/<file name>.json``.  A difference fails with a unified diff
of the two JSON texts.  The files are rewritten only on purpose:

    make golden        # KHSYT_UPDATE_GOLDEN=1 pytest tests/test_golden.py

then review ``git diff tests/golden`` before committing.
"""

from __future__ import annotations

import difflib
import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from khsyt.extract import Settings, extract_plan
from khsyt.results import Extracted
from tests.conftest import DEV2_DIR, RAW_DIR, REPO_ROOT

GOLDEN_DIR = REPO_ROOT / "tests" / "golden"
UPDATE = os.environ.get("KHSYT_UPDATE_GOLDEN") == "1"
#: Columns that change from run to run or release to release, not with the extraction (the
#: fingerprint digests the code itself: khsyt.extract.code_digest).
VOLATILE = ("extracted_at", "pipeline_version", "extraction_fingerprint")
#: Lines of diff shown when a golden file differs.
MAX_DIFF_LINES = 120


def _inputs() -> list[Path]:
    raw = [p for p in sorted(RAW_DIR.iterdir())
           if p.suffix in (".pdf", ".txt") and ".scan" not in p.name]
    return raw + sorted((DEV2_DIR / "texts").glob("*.md"))


def _jsonable(v: Any) -> Any:
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def golden_output(path: Path) -> dict[str, Any]:
    """What the datasets would hold for one plan file, as plain JSON values."""
    res = extract_plan(path, Settings(ocr=False))
    assert isinstance(res, Extracted), f"{path.name} was rejected: {res}"
    plan = {k: v for k, v in res.plan.items() if k not in VOLATILE}
    plan["source_path"] = Path(plan["source_path"]).resolve().relative_to(REPO_ROOT).as_posix()
    tasks = [{**t, "extra": dict(t["extra"])} for t in res.tasks]
    return _jsonable({"plan": plan, "tasks": tasks, "tables": res.tables})


def _text(d: dict[str, Any]) -> str:
    return json.dumps(d, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("path", _inputs(), ids=lambda p: p.name)
def test_output_matches_golden_file(path: Path):
    golden = GOLDEN_DIR / f"{path.name}.json"
    got = _text(golden_output(path))
    if UPDATE:
        GOLDEN_DIR.mkdir(exist_ok=True)
        golden.write_text(got, encoding="utf-8")
        return
    assert golden.exists(), f"no golden file {golden.name}: run `make golden` and review the new file"
    want = golden.read_text(encoding="utf-8")
    if got != want:
        diff = list(difflib.unified_diff(want.splitlines(), got.splitlines(), f"golden/{golden.name}", "now",
                                         lineterm="", n=2))
        shown = "\n".join(diff[:MAX_DIFF_LINES])
        more = f"\n… {len(diff) - MAX_DIFF_LINES} more diff lines" if len(diff) > MAX_DIFF_LINES else ""
        pytest.fail(f"{path.name}: output differs from its golden file (`make golden` to accept):\n{shown}{more}",
                    pytrace=False)


def test_every_golden_file_has_its_input():
    """A golden file whose input is gone is stale, not a test."""
    names = {f"{p.name}.json" for p in _inputs()}
    stale = sorted(p.name for p in GOLDEN_DIR.glob("*.json") if p.name not in names)
    assert not stale, stale
