"""``khsyt extract PATH... --out DIR`` end to end: files in, Parquet datasets out, read back
with pandas and DuckDB."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from khsyt.cli import main
from khsyt.datasets import PER_PLAN, SCHEMAS
from khsyt.extract import partition_key, plan_id_of

PDF = "001_174c7ea9301aa0d6.pdf"  # Đồng Nai, 19 appendix tasks, 5 pages
TXT = "003_453ccdb535033752.txt"  # Bắc Giang, budget column "Kinh phí (triệu đồng)"


@pytest.fixture(scope="module")
def extracted(raw_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("curated")
    inputs = [raw_dir / PDF, raw_dir / TXT]
    rc = main(["extract", *map(str, inputs), "--out", str(out), "--no-ocr"])
    return rc, out, inputs


def _q(sql: str, out: Path):
    return duckdb.sql(sql.replace("$OUT", str(out).replace("'", "''"))).fetchall()


def test_exit_code_and_layout(extracted):
    rc, out, inputs = extracted
    assert rc == 0
    for name in SCHEMAS:
        assert (out / name).is_dir(), name
    keys = sorted(partition_key(p) for p in inputs)
    assert keys == ["001_174c7ea9301aa0d6_pdf", "003_453ccdb535033752_txt"]
    for name in PER_PLAN:
        files = sorted(p.stem for p in (out / name).glob("*.parquet") if not p.name.startswith("_"))
        assert files == keys, name
    assert [p.name for p in (out / "rejects").glob("*.parquet") if not p.name.startswith("_")] == []


def test_every_file_has_the_contract_schema(extracted):
    _, out, _ = extracted
    n = 0
    for name, schema in SCHEMAS.items():
        for f in (out / name).glob("*.parquet"):
            got = pq.read_schema(f).remove_metadata()
            assert got.equals(schema.remove_metadata()), f"{f}: {got} != {schema}"
            n += 1
    assert n >= 2 * len(PER_PLAN)


def test_plans_read_back_with_pandas(extracted):
    _, out, inputs = extracted
    plans = pd.read_parquet(out / "plans").set_index("source_format")
    assert sorted(plans.index) == ["pdf", "txt"]
    for path in inputs:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        row = plans.loc[path.suffix.lstrip(".")]
        assert row["source_sha256"] == sha
        assert row["plan_id"] == plan_id_of(sha, partition_key(path))
        assert row["source_path"] == str(path)
    pdf, txt = plans.loc["pdf"], plans.loc["txt"]
    assert (pdf["province"], pdf["doc_number"], pdf["pages"], pdf["n_tasks"]) == ("Đồng Nai", "2027/KH-SYT", 5, 19)
    assert (txt["province"], txt["doc_number"], txt["plan_year"]) == ("Bắc Giang", "14/KH-SYT", 2023)
    assert pd.Timestamp(pdf["issue_date"]) == pd.Timestamp("2020-04-16")
    assert bool(pdf["has_appendix"]) and pdf["ocr_pages"] == 0
    assert txt["signer_title"] == "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"


def test_tasks_read_back_with_duckdb(extracted):
    _, out, _ = extracted
    per_plan = dict(_q("select plan_id, count(*) from read_parquet('$OUT/tasks/*.parquet') group by 1", out))
    n_tasks = dict(_q("select plan_id, n_tasks from read_parquet('$OUT/plans/*.parquet')", out))
    assert per_plan == n_tasks
    (total, distinct, bad_prefix), = _q(
        "select count(*), count(distinct task_id), count(*) filter (where not starts_with(task_id, plan_id || '-'))"
        " from read_parquet('$OUT/tasks/*.parquet')", out)
    assert total == distinct == sum(n_tasks.values()) > 40
    assert bad_prefix == 0
    # seq is 1..n within each plan.
    rows = _q("select plan_id, min(seq), max(seq), count(*) from read_parquet('$OUT/tasks/*.parquet') group by 1", out)
    assert all(lo == 1 and hi == n for _, lo, hi, n in rows)
    # Nested columns survive: canonical units and deadline milestones.
    (with_units, with_deadlines), = _q(
        "select count(*) filter (where len(lead_units) > 0), count(*) filter (where len(deadlines) > 0)"
        " from read_parquet('$OUT/tasks/*.parquet')", out)
    assert with_units > 40 and with_deadlines > 40


def test_budget_uses_the_vietnamese_thousands_separator(extracted):
    _, out, _ = extracted
    budgets = dict(_q("select budget_raw, budget_million_vnd from read_parquet('$OUT/tasks/*.parquet')"
                      " where budget_raw is not null", out))
    assert budgets == {"6.400": 6400.0, "50": 50.0}
    tasks = pd.read_parquet(out / "tasks")
    assert tasks["budget_million_vnd"].isna().sum() == len(tasks) - 2


def test_pages_and_legal_refs(extracted):
    _, out, _ = extracted
    pages = pd.read_parquet(out / "pages")
    plans = pd.read_parquet(out / "plans").set_index("plan_id")
    assert pages.groupby("plan_id").size().to_dict() == plans["pages"].to_dict()
    pdf_id = plans.index[plans["source_format"] == "pdf"][0]
    pdf_pages = pages[pages.plan_id == pdf_id].sort_values("page")
    assert list(pdf_pages["page"]) == [1, 2, 3, 4, 5]
    assert set(pdf_pages["method"]) == {"text_layer"}
    assert list(pdf_pages["n_tables"]) == [0, 1, 1, 1, 1]
    assert "Số: 2027/KH-SYT" in pdf_pages.iloc[0]["text"]
    refs = pd.read_parquet(out / "legal_refs")
    assert set(refs["plan_id"]) <= set(plans.index)
    # 001 cites "Nghị định số 34/2016/NĐ-CP ngày 14/5/2016" in its appendix.
    assert any(refs["raw"].str.contains("34/2016/NĐ-CP", regex=False))


def test_rerun_replaces_rather_than_appends(raw_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(raw_dir / TXT, src / TXT)
    out = tmp_path / "out"
    assert main(["extract", str(src), "--out", str(out), "--no-ocr"]) == 0  # a folder as input
    first = pd.read_parquet(out / "tasks")
    assert main(["extract", str(src / TXT), "--out", str(out), "--no-ocr"]) == 0
    again = pd.read_parquet(out / "tasks")
    assert len(again) == len(first) > 0
    assert len(pd.read_parquet(out / "plans")) == 1
    assert not list(out.rglob("*.tmp")), "temporary files left behind"


def test_two_inputs_with_the_same_name_give_two_plans(raw_dir, tmp_path, capsys):
    """Same-name files in two folders (province sub-folders are normal) never stop a batch."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(raw_dir / TXT, a / "kehoach.txt")
    shutil.copy(raw_dir / TXT, b / "kehoach.txt")
    out = tmp_path / "out"
    assert main(["extract", str(a / "kehoach.txt"), str(b / "kehoach.txt"), "--out", str(out), "--no-ocr"]) == 0
    plans = pd.read_parquet(out / "plans")
    assert sorted(plans["source_path"]) == [str(a / "kehoach.txt"), str(b / "kehoach.txt")]
    assert plans["plan_id"].is_unique and plans["source_sha256"].nunique() == 1
    assert pd.read_parquet(out / "tasks")["task_id"].is_unique
    # the same folders given as folders: two plans again
    assert main(["extract", str(a), str(b), "--out", str(out), "--no-ocr"]) == 0
    assert len(pd.read_parquet(out / "plans")) == 2


def test_no_input_files(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["extract", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    assert "no plan files" in capsys.readouterr().err


@pytest.mark.parametrize("name, key", [
    ("001_174c7ea9301aa0d6.pdf", "001_174c7ea9301aa0d6_pdf"),
    (".hidden.md", "hidden_md_h"),
    ("Kế hoạch CCHC 2024.PDF", "ke_hoach_cchc_2024_pdf_h"),
    ("plan.v2.txt", "plan_v2_txt_h"),
])
def test_partition_keys_are_file_name_safe(name, key):
    got = partition_key(name)
    assert got.startswith(key) and len(got) <= len(key) + 10
    assert not set(got) & set("./\\ ")
