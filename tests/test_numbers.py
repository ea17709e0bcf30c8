"""Budget cells in million VND (parsers.numbers): Vietnamese separators and unit words."""

from __future__ import annotations

import pytest

from parsers.numbers import parse_budget_million_vnd, parse_vn_number

BUDGET_CASES = [
    # thousands "." and decimal ","
    ("6.400", 6400.0),
    ("1.250,5", 1250.5),
    ("1.250.000,75", 1250000.75),
    ("50", 50.0),
    ("0", 0.0),
    ("12,5", 12.5),
    ("1.5", 1.5),                       # one "." not followed by three digits: a decimal point
    ("1,250,000", 1250000.0),           # English-locale export
    ("1 250", 1250.0),                  # space as thousands separator
    # units: triệu is the column unit, tỷ x1000, nghìn /1000, đồng /1e6
    ("6.400 triệu đồng", 6400.0),
    ("1,5 tỷ", 1500.0),
    ("2 tỉ đồng", 2000.0),
    ("500 nghìn đồng", 0.5),
    ("50.000.000 đồng", 50.0),
    ("Kinh phí 30 triệu", 30.0),
    # breakdowns in parentheses are not the amount
    ("6.400 (NSNN: 4.000; XHH: 2.400)", 6400.0),
    # no amount
    (None, None),
    ("", None),
    ("-", None),
    ("Không", None),
    ("Lồng ghép trong kinh phí thường xuyên", None),
]


@pytest.mark.parametrize("raw,expected", BUDGET_CASES)
def test_parse_budget_million_vnd(raw, expected):
    assert parse_budget_million_vnd(raw) == expected


@pytest.mark.parametrize("token,expected", [("6.400", 6400.0), ("1,5", 1.5), ("abc", None), ("1.2.3", None)])
def test_parse_vn_number(token, expected):
    assert parse_vn_number(token) == expected
