"""Analysts' corrections: recorded as data, re-applied at every publication, stale when the
source moved, in bulk through CSV, and a unit spelling promoted to the registry."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from khsyt import corrections as corr
from khsyt.cli import main

TXT = "003_453ccdb535033752.txt"  # Bắc Giang; task 1's lead cell is "Phòng Thanh Tra" (once in the file)
KEY = "003_453ccdb535033752_txt"
NEW_LEAD = ["Thanh tra Sở", "Văn phòng Sở"]


@pytest.fixture
def work(raw_dir, tmp_path):
    src = tmp_path / "raw" / TXT
    src.parent.mkdir()
    shutil.copy(raw_dir / TXT, src)
    out, cdir = tmp_path / "curated", tmp_path / "corrections"

    def extract() -> pd.DataFrame:
        assert main(["extract", str(src), "--out", str(out), "--no-ocr", "-q", "--corrections", str(cdir)]) == 0
        return pd.read_parquet(out / "tasks" / f"{KEY}.parquet").set_index("seq")

    def review(*args: str) -> int:
        return main(["review", "--curated", str(out), "--corrections", str(cdir), *args])

    return {"src": src, "out": out, "cdir": cdir, "extract": extract, "review": review}


def _queue(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "review_queue" / "review_queue.parquet")


def test_a_correction_is_reapplied_at_every_run_and_goes_stale_when_the_source_changes(work):
    tasks = work["extract"]()
    task = tasks.loc[1]
    assert list(task["lead_units"]) == ["Thanh tra Sở"] and list(task["corrected_fields"]) == []
    assert work["review"]("correct", "--task", task["task_id"], "--field", "lead_units",
                          "--value", "; ".join(NEW_LEAD), "--why", "the cell names two offices") == 0

    (f,) = work["cdir"].glob("*.jsonl")
    rec = json.loads(f.read_text(encoding="utf-8"))
    assert rec["old"] == ["Thanh tra Sở"] and rec["new"] == NEW_LEAD and rec["why"] == "the cell names two offices"
    assert rec["who"] and rec["when"] and rec["fingerprint"] and rec["document_key"].startswith("so-y-te-bac-giang:")
    assert f.stem in rec["document_key"].replace(":", "_")

    again = work["extract"]()
    assert list(again.loc[1, "lead_units"]) == NEW_LEAD
    assert list(again.loc[1, "corrected_fields"]) == ["lead_units"]
    assert sum(len(c) > 0 for c in again["corrected_fields"]) == 1  # only that task
    assert list(again.loc[1, "lead_units_raw"].split()) == ["Phòng", "Thanh", "Tra"]  # as printed stays
    assert "stale_correction" not in set(_queue(work["out"])["kind"])
    plans = pd.read_parquet(work["out"] / "plans")
    assert list(plans["corrected_fields"].iloc[0]) == []

    # A new version of the file: that cell now says something else. The correction does not fit.
    text = work["src"].read_text(encoding="utf-8")
    assert text.count("Phòng Thanh Tra") == 1
    work["src"].write_text(text.replace("Phòng Thanh Tra", "Phòng Nghiệp vụ Y"), encoding="utf-8")
    fresh = work["extract"]()
    assert list(fresh.loc[1, "lead_units"]) == ["Phòng Nghiệp vụ Y"]  # not applied blindly
    assert list(fresh.loc[1, "corrected_fields"]) == []
    q = _queue(work["out"])
    stale = q[q["kind"] == "stale_correction"]
    assert len(stale) == 1
    assert stale["field"].iloc[0] == "lead_units" and "value changed since the correction" in stale["detail"].iloc[0]
    assert len(f.read_text(encoding="utf-8").splitlines()) == 1  # the record itself is kept as it was


def test_a_task_whose_text_changed_makes_its_correction_stale(work):
    tasks = work["extract"]()
    assert work["review"]("correct", "--task", tasks.loc[1, "task_id"], "--field", "deadline_raw",
                          "--value", "Quý IV/2023") == 0
    assert work["extract"]().loc[1, "deadline_raw"] == "Quý IV/2023"
    text = work["src"].read_text(encoding="utf-8")
    work["src"].write_text(text.replace("Hoạt động 1: Chủ động tham mưu", "Hoạt động 1: Tham mưu"), encoding="utf-8")
    assert work["extract"]().loc[1, "deadline_raw"] == "năm 2023"
    stale = _queue(work["out"]).query("kind == 'stale_correction'")
    assert list(stale["detail"].str.startswith("task not found")) == [True]


def test_accept_settles_a_queue_item_and_plan_fields_can_be_corrected(work):
    tasks = work["extract"]()
    q = _queue(work["out"])
    item = q[q["kind"] == "unknown_unit"].iloc[0]
    assert work["review"]("accept", "--task", item["task_id"], "--field", item["field"]) == 0
    plan_id = tasks["plan_id"].iloc[0]
    assert work["review"]("correct", "--plan", plan_id, "--field", "signer_name", "--value", "Nguyễn Văn A") == 0
    work["extract"]()
    q2 = _queue(work["out"])
    assert item["item_id"] not in set(q2["item_id"]) and len(q2) == len(q) - 1
    plans = pd.read_parquet(work["out"] / "plans")
    assert plans["signer_name"].iloc[0] == "Nguyễn Văn A"
    assert list(plans["corrected_fields"].iloc[0]) == ["signer_name"]


def test_units_read_by_an_approximate_match_are_queued_until_accepted(work):
    # a lead cell that names a registry unit plus a role note resolves by an approximate match
    text = work["src"].read_text(encoding="utf-8")
    work["src"].write_text(text.replace("Phòng Thanh Tra", "Văn phòng Sở xây dựng Kế hoạch"), encoding="utf-8")
    tasks = work["extract"]()
    assert list(tasks.loc[1, "lead_units"]) == ["Văn phòng Sở"]
    q = _queue(work["out"])
    guesses = q[(q["kind"] == "unit_guess") & (q["task_id"] == tasks.loc[1, "task_id"])]
    assert len(guesses) == 1  # the plan may hold other genuine guesses; this task's is queued once
    detail = guesses["detail"].iloc[0]
    assert "'Văn phòng Sở xây dựng Kế hoạch' read as 'Văn phòng Sở' by an approximate match" in detail
    g = guesses.iloc[0]
    assert work["review"]("accept", "--task", g["task_id"], "--field", g["field"]) == 0
    work["extract"]()
    assert g["item_id"] not in set(_queue(work["out"])["item_id"])


def test_bulk_corrections_through_csv(work, tmp_path):
    work["extract"]()
    sheet = tmp_path / "queue.csv"
    assert work["review"]("export", str(sheet)) == 0
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    unknown = [r for r in rows if r["kind"] == "unknown_unit"]
    assert unknown and {"new_value", "action", "why"} <= set(rows[0])
    target = next(r for r in unknown if r["value"] == "Phòng khám Giao thông vận tải")
    target["new_value"] = "Trung tâm Y tế Lục Ngạn; Phòng khám Giao thông vận tải"
    target["why"] = "bulk review"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert work["review"]("import", str(sheet)) == 0
    tasks = work["extract"]()
    hit = tasks[tasks["task_id"] == target["task_id"]].iloc[0]
    assert list(hit["lead_units"]) == ["Trung tâm Y tế Lục Ngạn", "Phòng khám Giao thông vận tải"]
    assert list(hit["corrected_fields"]) == ["lead_units"]


def test_unknown_task_id_is_a_clear_error(work, capsys):
    work["extract"]()
    assert work["review"]("correct", "--task", "nope", "--field", "lead_units", "--value", "x") == 2
    assert "no task nope" in capsys.readouterr().err


def test_a_correction_made_over_a_corrected_value_still_fits_a_fresh_run(work):
    tasks = work["extract"]()
    tid = tasks.loc[1, "task_id"]
    assert work["review"]("correct", "--task", tid, "--field", "lead_units", "--value", "Văn phòng Sở") == 0
    work["extract"]()
    assert work["review"]("correct", "--task", tid, "--field", "lead_units", "--value", "; ".join(NEW_LEAD)) == 0
    assert list(work["extract"]().loc[1, "lead_units"]) == NEW_LEAD


def test_promote_a_unit_spelling_to_the_registry(tmp_path, repo_root):
    reg = tmp_path / "units.yaml"
    shutil.copy(repo_root / "parsers" / "data" / "units.yaml", reg)
    before = reg.read_text(encoding="utf-8")
    corr.promote_unit_alias("Phòng KHÍTC", "Phòng Kế hoạch - Tài chính", reg)
    after = reg.read_text(encoding="utf-8")
    entry = next(u for u in yaml.safe_load(after)["units"] if u["name"] == "Phòng Kế hoạch - Tài chính")
    assert "Phòng KHÍTC" in entry["aliases"]
    assert len(after.splitlines()) == len(before.splitlines())  # one line edited, comments kept
    with pytest.raises(ValueError, match="not a unit"):
        corr.promote_unit_alias("x", "No such unit", reg)


def test_a_correction_follows_the_document_into_its_other_copies(raw_dir, tmp_path):
    """The PDF and the text file of one plan share the document key: a correction made on the
    preferred copy (the PDF) settles its queue item and applies to every copy with that task."""
    out, cdir = tmp_path / "curated", tmp_path / "corrections"
    inputs = [str(raw_dir / TXT), str(raw_dir / TXT.replace(".txt", ".pdf"))]

    def extract():
        assert main(["extract", *inputs, "--out", str(out), "--no-ocr", "-q", "--corrections", str(cdir)]) == 0

    extract()
    q = _queue(out)
    item = q[(q["kind"] == "unknown_unit") & (q["value"] == "Phòng khám Giao thông vận tải")].iloc[0]
    versions = pd.read_parquet(out / "plan_versions").set_index("plan_id")
    assert bool(versions.loc[item["plan_id"], "preferred"]) and versions.loc[item["plan_id"], "source_format"] == "pdf"
    assert main(["review", "--curated", str(out), "--corrections", str(cdir), "correct", "--task", item["task_id"],
                 "--field", "lead_units", "--value", NEW_LEAD[0]]) == 0
    extract()
    assert item["item_id"] not in set(_queue(out)["item_id"])
    tasks = pd.read_parquet(out / "tasks")
    corrected = tasks[tasks["corrected_fields"].map(len) > 0]
    assert set(corrected["plan_id"]) == set(versions.index)  # both copies
    assert all(list(v) == [NEW_LEAD[0]] for v in corrected["lead_units"])
