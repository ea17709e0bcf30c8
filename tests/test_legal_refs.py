"""Legal citations (parsers.legal_refs)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from parsers.legal_refs import LegalRef, find_legal_refs

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted((REPO / "data" / "raw").glob("*.txt"))

CITATION_CASES = [
    # (text, doc_type, number, year, issuer_code, issue_date)
    ("Thực hiện Quyết định số 3740/QĐ-UBND ngày 24/9/2021 của Chủ tịch UBND tỉnh",
     "Quyết định", "3740/QĐ-UBND", 2021, "UBND", date(2021, 9, 24)),
    ("theo Nghị định số 62/2020/NĐ-CP của Chính phủ", "Nghị định", "62/2020/NĐ-CP", 2020, "CP", None),
    ("lộ trình tại Thông tư 46/2018/TT-BYT ngày 28/12/2018", "Thông tư", "46/2018/TT-BYT", 2018, "BYT",
     date(2018, 12, 28)),
    ("Căn cứ Kế hoạch số 6136/KH-SYT", "Kế hoạch", "6136/KH-SYT", None, "SYT", None),
    ("Nghị quyết số 76/NQ-CP ngày 15/7/2021", "Nghị quyết", "76/NQ-CP", 2021, "CP", date(2021, 7, 15)),
    ("Kết luận số 28-KL/TW ngày 21/02/2022 của Bộ Chính trị", "Kết luận", "28-KL/TW", 2022, "TW",
     date(2022, 2, 21)),
    ("Kế hoạch số 925/KH-SYT ngày 03/3/2020 của Sở Y tế", "Kế hoạch", "925/KH-SYT", 2020, "SYT",
     date(2020, 3, 3)),
    ("Kế hoạch số 6478/KH-UBND ngày 26 tháng 12 năm 2022 của UBND tỉnh", "Kế hoạch", "6478/KH-UBND", 2022,
     "UBND", date(2022, 12, 26)),
    ("Chỉ thị số 31-CT/TU ngày 13/6/2014", "Chỉ thị", "31-CT/TU", 2014, "TU", date(2014, 6, 13)),
    ("Quyết định số 468/QĐ-TTg", "Quyết định", "468/QĐ-TTg", None, "TTg", None),
    ("Công văn số 2202/SYT-TCCB ngày 19/8/2021", "Công văn", "2202/SYT-TCCB", 2021, "SYT", date(2021, 8, 19)),
    ("Luật số 52/2019/QH14", "Luật", "52/2019/QH14", 2019, "QH", None),
    # type from the code when no word precedes the number
    ("theo 02/2017/TT-VPCP", "Thông tư", "02/2017/TT-VPCP", 2017, "VPCP", None),
    # the number broken onto the next line, as in hard-wrapped text
    ("tại Quyết định số \n\n468/QĐ-TTg ngày 27/3/2021;", "Quyết định", "468/QĐ-TTg", 2021, "TTg",
     date(2021, 3, 27)),
    ("QUYẾT ĐỊNH SỐ 12/QĐ-SYT", "Quyết định", "12/QĐ-SYT", None, "SYT", None),
]


@pytest.mark.parametrize("text,doc_type,number,year,issuer,issued", CITATION_CASES)
def test_citation_fields(text, doc_type, number, year, issuer, issued):
    refs = find_legal_refs(text)
    assert len(refs) == 1
    r = refs[0]
    assert isinstance(r, LegalRef)
    assert (r.doc_type, r.number, r.year, r.issuer_code, r.issue_date) == (doc_type, number, year, issuer, issued)
    assert number.split("/")[0] in r.raw


def test_list_sharing_one_type():
    text = ("Nghị định số 62/2020/NĐ-CP ngày 01/6/2020, Nghị định số 106/2020/NĐ-CP; "
            "theo Nghị định số 130/2002/NĐ-CP, 117/2013/NĐ-CP và 999/ABC-XYZ.")
    refs = find_legal_refs(text)
    assert [r.number for r in refs] == ["62/2020/NĐ-CP", "106/2020/NĐ-CP", "130/2002/NĐ-CP", "117/2013/NĐ-CP",
                                        "999/ABC-XYZ"]
    assert [r.doc_type for r in refs] == ["Nghị định"] * 5  # the last one inherits from its list


def test_sentence_and_offsets():
    text = "Mục đích chung. Căn cứ Quyết định số 1/QĐ-UBND ngày 02/01/2024 của UBND tỉnh. Câu sau."
    r = find_legal_refs(text)[0]
    assert r.sentence == "Căn cứ Quyết định số 1/QĐ-UBND ngày 02/01/2024 của UBND tỉnh."
    assert text[r.start:r.end] == r.raw == "Quyết định số 1/QĐ-UBND ngày 02/01/2024"


def test_dates_and_own_number_are_not_citations():
    text = "Số: 2609/KH-SYT\nQuảng Ngãi, ngày 04/10/2021. Năm 2021-2025, tỷ lệ 100%/năm."
    assert find_legal_refs(text) == []
    assert [r.number for r in find_legal_refs(text, include_own_number=True)] == ["2609/KH-SYT"]


def test_empty():
    assert find_legal_refs("") == [] and find_legal_refs(None) == []


# An independent, deliberately simple notion of a "số …/…" citation: the word "số", a number,
# a slash and a code.  find_legal_refs must find every distinct one of them in each seed.
SIMPLE = re.compile(r"\b[Ss]ố\s*(\d+(?:/\d{4})?/[^\s,;:)(]+|\d+-[^\s,;:)(/]+/[^\s,;:)(]+)")


@pytest.mark.skipif(not SEEDS, reason="seed texts not copied to data/raw")
@pytest.mark.parametrize("path", SEEDS, ids=[p.stem for p in SEEDS])
def test_finds_every_so_citation_in_seed(path):
    text = path.read_text(encoding="utf-8")
    simple = {m.group(1).rstrip(".") for m in SIMPLE.finditer(text)}
    found = {r.number for r in find_legal_refs(text)}
    assert simple, "the seed cites documents"
    assert len(found) >= len(simple)
    assert simple <= found, f"missed: {sorted(simple - found)}"
