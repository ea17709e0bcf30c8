"""Deadline cells to milestones (parsers.deadlines): one row per family of DOMAIN.md / DECISIONS.md."""

from __future__ import annotations

from datetime import date

import pytest

from parsers.deadlines import KINDS, Milestone, parse_deadlines

D = date
P24 = (2024, 2024)
P21_25 = (2021, 2025)


def sig(ms: list[Milestone]) -> list[tuple]:
    return [(m.kind, m.start, m.end) for m in ms]


FAMILY_CASES = [
    # (raw, plan_period, expected [(kind, start, end)])
    ("Năm 2024", P24, [("year", D(2024, 1, 1), D(2024, 12, 31))]),
    ("năm 2023", P24, [("year", D(2023, 1, 1), D(2023, 12, 31))]),
    ("Quý I/2024", P24, [("quarter", D(2024, 1, 1), D(2024, 3, 31))]),
    ("Quý 2 năm 2020", P24, [("quarter", D(2020, 4, 1), D(2020, 6, 30))]),
    ("Quý III/ 2023", P24, [("quarter", D(2023, 7, 1), D(2023, 9, 30))]),
    ("Trong Quý IV/2024", P24, [("quarter", D(2024, 10, 1), D(2024, 12, 31))]),
    ("Quý I - II/2024", P24, [("quarter", D(2024, 1, 1), D(2024, 6, 30))]),
    ("Tháng 11/2024", P24, [("month", D(2024, 11, 1), D(2024, 11, 30))]),
    ("Tháng 01/2023", P24, [("month", D(2023, 1, 1), D(2023, 1, 31))]),
    ("tháng 2 năm 2024", P24, [("month", D(2024, 2, 1), D(2024, 2, 29))]),
    ("Tháng 4 đến tháng 7 năm 2020", P24, [("month", D(2020, 4, 1), D(2020, 7, 31))]),
    ("Từ tháng 11/2023 đến tháng 2/2024", P24, [("month", D(2023, 11, 1), D(2024, 2, 29))]),
    ("6 tháng đầu năm 2024", P24, [("month", D(2024, 1, 1), D(2024, 6, 30))]),
    ("ngày 15/01/2024", P24, [("date", D(2024, 1, 15), D(2024, 1, 15))]),
    ("ngày 26 tháng 12 năm 2022", P24, [("date", D(2022, 12, 26), D(2022, 12, 26))]),
    ("Từ ngày 01/3/2024 đến ngày 15/3/2024", P24, [("date", D(2024, 3, 1), D(2024, 3, 15))]),
    ("trước ngày 15/01/2024", P24, [("before_date", None, D(2024, 1, 15))]),
    ("Chậm nhất ngày 30/6/2024", P24, [("before_date", None, D(2024, 6, 30))]),
    ("Chậm nhất trong Quý I/2024", P24, [("before_date", None, D(2024, 3, 31))]),
    ("Trước tháng 6/2024", P24, [("before_date", None, D(2024, 5, 31))]),
    ("Đến hết năm 2025", P24, [("before_date", None, D(2025, 12, 31))]),
    ("Năm 2020-2021", P24, [("year_range", D(2020, 1, 1), D(2021, 12, 31))]),
    ("Giai đoạn 2021 - 2025", P24, [("year_range", D(2021, 1, 1), D(2025, 12, 31))]),
    ("Thường xuyên", P24, [("ongoing", D(2024, 1, 1), D(2024, 12, 31))]),
    ("Thường xuyên", P21_25, [("ongoing", D(2021, 1, 1), D(2025, 12, 31))]),
    ("Thường xuyên năm 2023", P21_25, [("ongoing", D(2023, 1, 1), D(2023, 12, 31))]),
    ("Thường xuyên hằng năm.", P21_25, [("ongoing", D(2021, 1, 1), D(2025, 12, 31))]),
    ("Thường xuyên hằng năm; giai đoạn 2021-2025; theo Kế hoạch của Sở Y tế ban hành.", P21_25,
     [("ongoing", D(2021, 1, 1), D(2025, 12, 31))]),
    ("Hàng tháng trong năm 2023", P24, [("recurring", D(2023, 1, 1), D(2023, 12, 31))]),
    ("Hằng năm", P21_25, [("recurring", D(2021, 1, 1), D(2025, 12, 31))]),
    ("Hàng quý", P24, [("recurring", D(2024, 1, 1), D(2024, 12, 31))]),
    ("Sau khi UBND tỉnh ban hành", P24, [("conditional", None, None)]),
    ("Ngay sau khi Bộ, ngành, Trung ương có Quyết định công bố", P24, [("conditional", None, None)]),
    ("Khi có Thông tư hướng dẫn của Bộ", P24, [("conditional", None, None)]),
    ("Theo yêu cầu", P24, [("conditional", None, None)]),
    ("Ngay", P24, [("immediate", None, None)]),
    ("Triển khai ngay", P24, [("immediate", None, None)]),
    ("Theo Kế hoạch xây dựng văn bản QPPL", P24, [("unknown", None, None)]),
    ("theo quy định tại Chương trình công tác hàng năm, Quyết định số 702/QĐ-UBND ngày 10/8/2021", P21_25,
     [("unknown", None, None)]),
    ("Chưa xác định", P24, [("unknown", None, None)]),
    # several milestones in one cell
    ("- Kế hoạch: Chậm nhất trong Quý I/2024. - Báo cáo kết quả thực hiện: Tháng 11/2024.", P24,
     [("before_date", None, D(2024, 3, 31)), ("month", D(2024, 11, 1), D(2024, 11, 30))]),
    ("Năm 2024; Thực hiện kiểm tra vào Quý IV/2024", P24,
     [("year", D(2024, 1, 1), D(2024, 12, 31)), ("quarter", D(2024, 10, 1), D(2024, 12, 31))]),
    ("Tháng 11/2023 Khi đơn vị đề nghị", P24,
     [("month", D(2023, 11, 1), D(2023, 11, 30)), ("conditional", None, None)]),
    ("Quý I, II/2024", P24,
     [("quarter", D(2024, 1, 1), D(2024, 3, 31)), ("quarter", D(2024, 4, 1), D(2024, 6, 30))]),
    # OCR without diacritics / upper case
    ("Thuong xuyen", P24, [("ongoing", D(2024, 1, 1), D(2024, 12, 31))]),
    ("QUÝ III NĂM 2023", P24, [("quarter", D(2023, 7, 1), D(2023, 9, 30))]),
    ("Hang thang trong nam 2023", P24, [("recurring", D(2023, 1, 1), D(2023, 12, 31))]),
    # invalid dates are not invented
    ("Ngày 30/02/2024", P24, [("unknown", None, None)]),
    ("Tháng 13/2024", P24, [("unknown", None, None)]),
]


@pytest.mark.parametrize("raw,period,expected", FAMILY_CASES)
def test_families(raw, period, expected):
    assert sig(parse_deadlines(raw, plan_period=period)) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_cell_gives_no_milestone(raw):
    assert parse_deadlines(raw, plan_period=P24) == []


def test_kinds_are_from_schema():
    for raw, period, _ in FAMILY_CASES:
        assert all(m.kind in KINDS for m in parse_deadlines(raw, plan_period=period))


LABEL_CASES = [
    ("Kế hoạch: trước ngày 15/01/2024", ["Kế hoạch"]),
    ("- Kế hoạch: Chậm nhất trong Quý I/2024. - Báo cáo kết quả thực hiện: Tháng 11/2024.",
     ["Kế hoạch", "Báo cáo kết quả thực hiện"]),
    ("Năm 2024; Thực hiện kiểm tra vào Quý IV/2024", [None, "Thực hiện kiểm tra"]),
    ("Tháng 03/2023 (Gửi KH về Sở Nội vụ)", ["Gửi KH về Sở Nội vụ"]),
    ("Thời gian thực hiện: Năm 2024", [None]),
    ("Sau khi UBND tỉnh ban hành", [None]),
]


@pytest.mark.parametrize("raw,labels", LABEL_CASES)
def test_labels(raw, labels):
    assert [m.label for m in parse_deadlines(raw, plan_period=P24)] == labels


def test_recurring_with_fixed_days_in_an_annual_cell():
    raw = ("Xây dựng Kế hoạch trước ngày 10/02 hằng năm; báo cáo 06 tháng trước ngày 05/6, "
           "báo cáo năm trước ngày 05/12 hằng năm.")
    ms = parse_deadlines(raw, plan_period=P21_25)
    assert [(m.kind, m.recurrence, m.due_md, m.start, m.end) for m in ms] == [
        ("recurring", "annual", "02-10", D(2021, 1, 1), D(2025, 12, 31)),
        ("recurring", "annual", "06-05", D(2021, 1, 1), D(2025, 12, 31)),
        ("recurring", "annual", "12-05", D(2021, 1, 1), D(2025, 12, 31)),
    ]
    assert [m.label for m in ms] == ["Xây dựng Kế hoạch", "báo cáo 06 tháng", "báo cáo năm"]


def test_ongoing_with_bulleted_rounds_and_an_ad_hoc_round():
    raw = ("Thường xuyên hàng năm, cụ thể: + Gửi tài liệu đợt 01 trước ngày 30/6 hàng năm. "
           "+ Gửi tài liệu đợt 02 trước ngày 30/9 hàng năm. + Hoặc có thể gửi tài liệu đột xuất (nếu có).")
    ms = parse_deadlines(raw, plan_period=P21_25)
    assert [m.kind for m in ms] == ["ongoing", "recurring", "recurring", "conditional"]
    assert [m.due_md for m in ms] == [None, "06-30", "09-30", None]
    assert ms[3].label == "Gửi tài liệu đột xuất (nếu có)"


def test_recurrence_values():
    got = {raw: parse_deadlines(raw, plan_period=P24)[0].recurrence
           for raw in ["Hàng tháng", "Hằng quý", "Hằng năm", "Định kỳ 6 tháng/lần", "Hàng tuần"]}
    assert got == {"Hàng tháng": "monthly", "Hằng quý": "quarterly", "Hằng năm": "annual",
                   "Định kỳ 6 tháng/lần": "semiannual", "Hàng tuần": "weekly"}


YEARLESS_CASES = [
    # a missing year comes from default_year, else from the first plan year
    ("Tháng 5", None, 2022, ("month", D(2022, 5, 1), D(2022, 5, 31))),
    ("Tháng 5", P24, None, ("month", D(2024, 5, 1), D(2024, 5, 31))),
    ("Quý III", P24, 2023, ("quarter", D(2023, 7, 1), D(2023, 9, 30))),
    ("trước ngày 30/6", P24, None, ("before_date", None, D(2024, 6, 30))),
    ("Thường xuyên", None, 2022, ("ongoing", D(2022, 1, 1), D(2022, 12, 31))),
    ("Tháng 5", None, None, ("month", None, None)),  # no year anywhere: kind kept, no dates invented
]


@pytest.mark.parametrize("raw,period,default_year,expected", YEARLESS_CASES)
def test_missing_year(raw, period, default_year, expected):
    assert sig(parse_deadlines(raw, plan_period=period, default_year=default_year)) == [expected]


def test_as_dict_is_iso():
    d = parse_deadlines("Quý I/2024")[0].as_dict()
    assert d["start"] == "2024-01-01" and d["end"] == "2024-03-31" and d["kind"] == "quarter"
