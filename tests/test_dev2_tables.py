"""The appendix tables of four real 2025 plans of other issuers (tests/fixtures/dev2: web
pages converted to text, gold annotated by hand) give the gold's task rows field by field.

Their column sets are none of the samples': "Nội dung/nhiệm vụ", "Tên nhiệm vụ",
"Người đứng đầu chịu trách nhiệm", "Kết quả thực hiện", "Chỉ tiêu" as the only text column,
three grouping levels A / I / 5.1."""

from __future__ import annotations

import json

import pytest

from extractors.text import extract_text_file
from parsers.plan import parse_document

APPENDIX_DOCS = ("dev2_hanoi-310", "dev2_bacninh-144", "dev2_bvhttdl-6225", "dev2_dongnai-179")
FIELDS = ("section_code", "section_title", "item", "objective", "task", "activity", "solution", "product",
          "lead_units_raw", "coordinating_units_raw", "deadline_raw")


@pytest.mark.parametrize("doc", APPENDIX_DOCS)
def test_appendix_tasks_match_the_gold_field_by_field(dev2_dir, doc):
    gold = json.loads((dev2_dir / "gold" / f"{doc}.json").read_text(encoding="utf-8"))["tasks"]
    tasks = parse_document(extract_text_file(dev2_dir / "texts" / f"{doc}.md")).tasks
    assert [t.source for t in tasks] == ["appendix"] * len(gold)
    for g, t in zip(gold, tasks, strict=True):
        assert {f: getattr(t, f) for f in FIELDS} == {f: g.get(f) for f in FIELDS}, g["seq"]
        assert t.table_id and t.source_cells
        if "responsible_head_raw" in g:  # the person column is kept, under its header
            assert t.extra == {"Người đứng đầu chịu trách nhiệm": g["responsible_head_raw"]}


def test_the_table_report_of_a_plan_names_each_columns_evidence(dev2_dir):
    parsed = parse_document(extract_text_file(dev2_dir / "texts" / "dev2_bvhttdl-6225.md"))
    (rep,) = [t for t in parsed.tables if t.is_task_table]
    assert [(c.header, c.role) for c in rep.columns] == [
        ("STT", "item"), ("Tên nhiệm vụ", "task"), ("Người đứng đầu chịu trách nhiệm", "responsible_head"),
        ("Cơ quan chủ trì", "lead"), ("Cơ quan phối hợp", "coordinating"), ("Kết quả thực hiện", "product"),
        ("Thời hạn hoàn thành", "deadline")]
    assert all(c.evidence.startswith("header:") for c in rep.columns)
    assert (rep.tasks, rep.rows_joined, rep.columns_without_role) == (10, 0, [])
