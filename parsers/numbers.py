"""Budget cells ("Kinh phí (triệu đồng)") as a number of million VND.

Vietnamese writes "." for thousands and "," for decimals ("6.400" is six thousand four hundred,
"1.250,5" is 1250.5), the opposite of the English default that ``float()`` assumes, and cells
mix in units ("1,5 tỷ", "50 triệu đồng") or words ("Không", "-").  Reading "6.400" as 6.4
would be a silent thousandfold error, so the separator rules are explicit here.
"""

from __future__ import annotations

import re

from parsers._text import clean, fold

__all__ = ["parse_vn_number", "parse_budget_million_vnd"]

# Multiplier to million VND for a unit word (folded: lower-case, no diacritics).
_UNITS = (
    (r"ty|ti", 1000.0),
    (r"trieu", 1.0),
    (r"nghin|ngan", 0.001),
    (r"dong|vnd|d", 0.000001),
)
_NUMBER = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:[.,\u00a0 ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?![\d])")


def parse_vn_number(token: str) -> float | None:
    """Read one number written the Vietnamese way.

    Both separators: the last one is the decimal mark.  Only ".": thousands when every group
    after it has three digits ("6.400", "1.250.000"), else a decimal point ("1.5").  Only ",":
    decimal comma ("1,5"), except "1,250,000"-style groups of three (an English-locale export).
    """
    t = re.sub(r"\s+", "", token)
    if not t or not re.fullmatch(r"\d[\d.,]*", t):
        return None
    if "." in t and "," in t:
        dec = "." if t.rfind(".") > t.rfind(",") else ","
        thou = "," if dec == "." else "."
        t = t.replace(thou, "").replace(dec, ".")
    elif "." in t:
        parts = t.split(".")
        t = t.replace(".", "") if all(len(p) == 3 for p in parts[1:]) else t
        if t.count(".") > 1:
            return None
    elif "," in t:
        parts = t.split(",")
        if len(parts) > 2 and all(len(p) == 3 for p in parts[1:]):
            t = t.replace(",", "")
        elif len(parts) == 2:
            t = t.replace(",", ".")
        else:
            return None
    try:
        return float(t)
    except ValueError:
        return None


def parse_budget_million_vnd(raw: str | None) -> float | None:
    """A budget cell in million VND, or None when the cell states no amount.

    No unit means the column's unit (triệu đồng).  "tỷ" multiplies by 1000, "nghìn" divides by
    1000, a bare "đồng" amount is divided by a million.  Parenthesised breakdowns are ignored
    and the first amount is taken; "-", "Không", "Lồng ghép …" (no digits) give None.
    """
    if raw is None:
        return None
    text = clean(re.sub(r"\([^()]*\)", " ", raw))
    m = _NUMBER.search(text)
    if not m:
        return None
    value = parse_vn_number(m.group(0))
    if value is None:
        return None
    after = fold(text[m.end():]).strip()
    for pattern, factor in _UNITS:
        if re.match(rf"(?:{pattern})(?![a-z])", after):
            return value * factor
    return value
