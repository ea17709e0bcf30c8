"""Fuzz the parser entry points with hypothesis: no input crashes them.

The example budget is fixed: ``KHSYT_FUZZ_EXAMPLES`` (60 per entry point in ``make test``;
``KHSYT_FUZZ_PLAN_EXAMPLES``, 15, for the mutated real plan, whose every example is a whole parse;
derandomised so a run is repeatable; ``make fuzz`` sets 2,000 and a random seed).  Inputs
mix the words and markup plans are made of (titles, numbers, dates, unit names, pipe and
HTML tables, page breaks) with arbitrary Unicode, so the parsers' real branches are reached.
"""

from __future__ import annotations

import os
import string
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.errors import ExtractionError
from extractors.model import Document
from extractors.text import parse_text
from khsyt.extract import KEY_MAX, parse_plan, partition_key
from parsers.deadlines import parse_deadlines
from parsers.legal_refs import find_legal_refs
from parsers.numbers import parse_budget_million_vnd
from parsers.units import normalize_units

EXAMPLES = int(os.environ.get("KHSYT_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize=os.environ.get("KHSYT_FUZZ_RANDOM") != "1",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TOKENS = [
    "KẾ HOẠCH", "Kế hoạch", "Số:", "/KH-SYT", "/QĐ-UBND", "SỞ Y TẾ", "UBND TỈNH", "Thanh Hóa", "ngày", "tháng",
    "năm", "2024", "2021 - 2025", "giai đoạn", "Quý II", "Quý IV/2025", "Thường xuyên", "Trước 30/6",
    "Chủ trì", "Phối hợp", "Phòng Tổ chức - Cán bộ", "Các sở, ban, ngành", "Văn phòng Sở", "và", ",", ";", ".",
    "PHỤ LỤC", "TT", "Nội dung", "Đơn vị", "Thời gian", "Kinh phí", "6.400", "1.250,5", "triệu đồng",
    "I.", "1.", "a)", "-", "+", "*", "**", "|", "| --- |", "\n", "\n\n", "\f", "\t", "  ",
    "<table>", "<tr>", "<td>", "</td>", "</tr>", "</table>", '<td rowspan="2">', '<td colspan="x">',
    '<td rowspan="-3" colspan="0">', "&amp;", "&#x110;", "Quyết định số 123/QĐ-TTg ngày 1/2/2023",
    "Nghị định 62/2020/NĐ-CP", "GIÁM ĐỐC", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn A", "(", ")", "0", "31/12",
]
VI = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
words = st.one_of(st.sampled_from(TOKENS), st.text(alphabet=VI + VI.upper() + string.digits + " /-.,:()", max_size=12),
                  st.text(max_size=6))
documents = st.lists(words, max_size=300).map(" ".join)
cells = st.lists(words, max_size=30).map(" ".join)


@FUZZ
@given(documents)
def test_text_format_and_plan_parser(text):
    _parse(text)


def _parse(text: str) -> None:
    pages = parse_text(text)
    doc = Document(source_path="fuzz.txt", source_format="txt", pages=pages, sha256="0" * 64)
    try:
        res = parse_plan(doc, extracted_at=datetime(2025, 1, 1, tzinfo=UTC), key="fuzz_txt")
    except ExtractionError:
        return  # a clear rejection is a correct answer for garbage
    assert len({t["task_id"] for t in res.tasks}) == len(res.tasks)


SAMPLE = (Path(__file__).parents[2] / "data/raw/001_174c7ea9301aa0d6.txt").read_text(encoding="utf-8").splitlines()
edits = st.lists(st.tuples(st.sampled_from(["insert", "delete", "duplicate", "replace"]),
                           st.integers(0, len(SAMPLE) - 1), words), max_size=25)


def _mutate(ops) -> str:
    lines = list(SAMPLE)
    for op, i, w in ops:
        i %= max(1, len(lines))
        if op == "insert":
            lines.insert(i, w)
        elif op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif lines:
            cut = len(lines[i]) // 2
            lines[i] = lines[i][:cut] + w + lines[i][cut:]
    return "\n".join(lines)


@settings(FUZZ, max_examples=int(os.environ.get("KHSYT_FUZZ_PLAN_EXAMPLES", "15")))
@given(edits)
def test_plan_parser_on_a_mutated_real_plan(ops):
    """A real plan (pipe tables, body, signature) with lines inserted, deleted, doubled and
    cut: deep branches of the table and body parsers, not only the rejection path."""
    _parse(_mutate(ops))


@FUZZ
@given(cells, st.sampled_from([None, "Thanh Hóa", "Đồng Nai"]))
def test_units(raw, province):
    for m in normalize_units(raw, province):
        assert m.name


@FUZZ
@given(cells, st.one_of(st.none(), st.tuples(st.integers(1990, 2040), st.integers(1990, 2040))),
       st.one_of(st.none(), st.integers(1990, 2040)))
def test_deadlines(raw, period, year):
    parse_deadlines(raw, period, year)


@FUZZ
@given(cells)
def test_budget_and_legal_refs(raw):
    v = parse_budget_million_vnd(raw)
    assert v is None or isinstance(v, float)
    find_legal_refs(raw)


@FUZZ
@given(st.lists(st.text(min_size=1, max_size=80).filter(lambda s: "\0" not in s and s not in (".", "..")),
                min_size=1, max_size=4))
def test_partition_keys_are_safe_bounded_and_unique(parts):
    path = "/".join(p.replace("/", "_") for p in parts)
    key = partition_key(path, root="")
    assert len(key) <= KEY_MAX and key.isascii()
    assert all(c.isalnum() or c in "_-" for c in key), key
    twin = path + "x"
    assert partition_key(twin, root="") != key
