"""Small text helpers shared by the parsers: numbering codes, case folding, joining."""

from __future__ import annotations

import re

from ._text import clean, old_style_tones, strip_diacritics

ROMAN = re.compile(r"^(?=[IVXLC])M*(C[MD]|D?C{0,3})(X[CL]|L?X{0,3})(I[XV]|V?I{0,3})$")

#: One stray mark OCR puts before the start of an item (":4. Hằng năm …", "'- Đơn vị …"): a
#: speck read as punctuation.  Allowed before a numbering code and before a bullet dash.
STRAY_LEAD = r"(?:[:.,;'`’]\s*)?"

#: "I.", "1.", "1.2.", "a)", "b.", "Chỉ tiêu 3.1." … at the start of a heading or task, maybe
#: after a stray mark.
LEAD_CODE = re.compile(
    r"^\s*" + STRAY_LEAD + r"(?:(?P<label>Chỉ tiêu|Tiêu chí|Phần|Mục|Nhóm)\s+)?"
    r"(?P<code>[IVXLCỊÌÍỈĨ]+|\d{1,3}(?:\.\d{1,3})*|[a-zđ])\s*(?:[.):]|\s-)(?!\d)\s*(?P<rest>.*)$",
    re.S,
)

#: A task/objective/activity label that starts a new entry: "Nhiệm vụ 2:", "Hoạt động 1:", "Mục tiêu 3:".
ENTRY_LABEL = re.compile(r"^\s*(Nhiệm vụ|Hoạt động|Mục tiêu|Chỉ tiêu|Giải pháp|Nội dung)\s*\d+\s*[:.]", re.I)


def fold(text: str | None) -> str:
    """Lower-case, NFC, one tone placement ("hoá" = "hóa"), single spaces: how header words compare."""
    return old_style_tones(clean(text)).lower() if text else ""


#: A Roman numeral whose dot OCR lost ("I Đối với …" for "I. Đối với …"): taken as a code only
#: when a capital follows, and only for the numerals a plan's parts use (no bare "X", "L", "C",
#: which start words such as "X quang").
OCR_ROMAN = re.compile(r"^\s*(?P<code>I{1,3}|IV|VI{0,3}|IX)\s+(?P<rest>\w.*)$", re.S)


def split_code(text: str) -> tuple[str | None, str]:
    """Split a leading numbering code off a heading: "I. Cải cách thể chế" → ("I", "Cải cách thể chế")."""
    m = LEAD_CODE.match(text or "")
    if not m:
        o = OCR_ROMAN.match(text or "")
        if o and o.group("rest")[:1].isupper():
            return o.group("code"), o.group("rest").strip()
    if not m or not m.group("rest").strip():
        return None, (text or "").strip()
    code = m.group("code")
    if len(code) == 1 and code.islower() and not re.match(r"^\s*[a-zđ]\s*[.)]", text):
        return None, text.strip()
    return code, m.group("rest").strip()


def code_style(code: str | None) -> str | None:
    """The style of a numbering code: roman, arabic, dotted, letter, capital."""
    if not code:
        return None
    code = code.strip().rstrip(".")
    if code.isupper():  # OCR puts stray marks on Roman numerals: "VỊ" is "VI"
        code = strip_diacritics(code)
    if ROMAN.match(code):
        return "roman"
    if re.fullmatch(r"\d+", code):
        return "arabic"
    if re.fullmatch(r"\d+(\.\d+)+", code):
        return "dotted"
    if re.fullmatch(r"[a-zđ]", code):
        return "letter"
    if re.fullmatch(r"[A-ZĐ]", code):  # a part of a table: "A", "B" (one that is also roman stays roman)
        return "capital"
    return None


def normalize_code(code: str | None) -> str | None:
    """A printed code as stored: "VỊ." (OCR) → "VI", "1." → "1"."""
    if not code:
        return None
    c = code.strip().rstrip(".")
    return strip_diacritics(c) if code_style(c) == "roman" else c


def starts_mid_sentence(text: str) -> bool:
    """True when text looks like the tail of a sentence cut by a page break."""
    t = (text or "").lstrip(" \"“'(")
    if not t:
        return False
    ch = t[0]
    return ch.islower() or ch.isdigit() or ch in ",;:.)-–/"


def ends_sentence(text: str) -> bool:
    t = (text or "").rstrip()
    return bool(t) and t[-1] in ".;:!?)”\""


def join_text(*parts: str | None) -> str | None:
    out = " ".join(p.strip() for p in parts if p and p.strip())
    return out or None
