"""Plan metadata from the header block, the title and the signature block — for any issuer.

The header is laid out in two columns (issuer and its parent, "Số: …" on the left; the
national motto and "X, ngày … tháng … năm …" on the right); extractors give them as separate
Lines, one joined line, or the cells of a table, so the document is first read into one
stream of text units (lines and table cells in reading order) and every pattern searches
within a unit or the joined header.  Blank parts (``Số: /KH-SYT``, ``ngày   tháng 12 năm
2023``) are normal, not errors: they become nulls and a coarser date precision.

What the document is comes from the type code of its number ("254/QĐ-UBND" is a Quyết
định, "6225/BVHTTDL-VP" without a code a Công văn), else from the type heading above the
title.  A Quyết định or Công văn that issues or carries a plan keeps its own number, date and
signer, and takes the title of the KẾ HOẠCH it carries (or of its task appendix).  Where the
document's own header is missing, the metadata block of a legal-document web site and the
appendix caption "(Kèm theo Công văn số … ngày … của …)" stand in for it.

Plan year and period come from the period the plan states (title, then the sentence that
issues it): "năm 2025", "giai đoạn 2026 - 2030"; "đến năm 2030" is a horizon that ends the
period but does not start it, and years inside citations ("Nghị quyết số 214/NQ-CP ngày
23/7/2025") are not periods.  When nothing is stated, the issue year is used and
:func:`complete_period` extends the period to the last year the tasks' deadlines name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from rapidfuzz import fuzz

from extractors.model import BBox, Document, Line, Table

from ._text import clean, load_yaml, strip_diacritics
from ._text import fold as fold_plain
from .handwriting import judge_header
from .issuers import Issuer, issuer_from_name, parse_issuer, strip_motto
from .provinces import canonical_province
from .records import PlanMeta
from .signers import (
    Signature,
    as_deputy,
    is_mark,
    is_person_name,
    is_speck,
    name_doubt,
    office_as_printed,
    office_misread,
    office_of,
    parse_signature,
    starts_signature,
    title_ink_doubt,
    title_line_doubt,
    title_shape_doubt,
    with_head_prefix,
)

__all__ = ["parse_metadata", "canonical_province", "complete_period", "stated_period", "doc_type_info"]

#: A document symbol: "KH-SYT", "QĐ-TTg", "KH-SYT-CĐN", "BVHTTDL-VP", "2024/QĐ-UBND".
SYMBOL = r"(?:\d{4}/)?[A-ZĐ][A-ZĐa-zđ0-9&]*(?:\s?-\s?[A-ZĐ0-9&][A-ZĐa-zđ0-9&]*)*"
#: "Số: 254/QĐ-UBND"; a number OCR could not read ("Số:JU_ /GM-SYT", handwriting) is kept as
#: ``num`` and judged by :func:`_number`.
DOC_NUMBER = re.compile(
    rf"(?:^\W*Số\s*:?|\bSố\s*:)\s*(?P<num>[^\s/]{{1,10}}(?:\s+[0-9.]+)?)?\s*/\s*(?P<suffix>{SYMBOL})"
)
#: The Party's form "Số 07-KH/TU": number, type code, issuer code.
PARTY_NUMBER = re.compile(r"(?:^\W*Số\s*:?|\bSố\s*:)\s*(?P<num>[0-9]+)\s*-\s*(?P<type>[A-ZĐ][A-Za-zĐđ]*)\s*/\s*"
                          r"(?P<issuer>[A-ZĐ][A-ZĐa-zđ0-9]*(?:-[A-ZĐ0-9][A-ZĐa-zđ0-9]*)*)")
BARE_NUMBER = re.compile(rf"^\s*(?P<num>[0-9][0-9.]*)?\s*/\s*(?P<suffix>{SYMBOL})\s*$")
#: "Hà Nội, ngày 17 tháng 11 năm 2025"; a blank or OCR-damaged day or month ("ngày} ? tháng")
#: is allowed a few stray marks (the ``jd``/``jm`` groups), which make the date low-confidence.
PLACE_DATE = re.compile(
    r"(?P<place>[A-ZĐÀ-Ỹ][^\d,;:]{1,40}?)\s*,\s*ngày\s*(?P<d>\d{1,2})?(?P<jd>[^\w]{0,5}?)\s*tháng\s*"
    r"(?P<m>\d{1,2})?(?P<jm>[^\w]{0,5}?)\s*năm\s*(?P<y>\d{4})",
    re.I,
)
DATE_ONLY = re.compile(r"ngày\s*(?P<d>\d{1,2})?\s*tháng\s*(?P<m>\d{1,2})?\s*năm\s*(?P<y>\d{4})", re.I)
NUMERIC_DATE = re.compile(r"(?<!\d)(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>(?:19|20)\d{2})(?!\d)")
#: The summary line of a Công văn ("V/v báo cáo số liệu …"): a letter, even when its number is lost.
VV = re.compile(r"^\s*V/v\b", re.I)
TITLE_START = re.compile(r"^\s*KẾ\s*HOẠCH\b\s*(?P<rest>.*)$")
APPENDIX_START = re.compile(r"^\s*PHỤ\s*LỤC\b")
CAPTION_START = re.compile(r"\(\s*(?:Ban\s+hành\s+)?[Kk]èm\s+theo\b", re.I)
BODY_START = re.compile(
    r"^\s*(Căn cứ|Thực hiện|Trên cơ sở|Nhằm|Để|Theo|Triển khai|Sở Y tế|Thi hành|Kính gửi"
    r"|[IVX]+\.\s|[A-Z]\.\s|\d+\.\s|-\s)",
)
CAPTION = re.compile(
    rf"[Kk]èm\s+theo\s+(?P<type>[A-ZĐÀ-Ỹa-zà-ỹđ]+(?:\s+[a-zà-ỹđ]+)?)\s+số\s*:?\s*(?P<num>[0-9][0-9.]*)?\s*/\s*"
    rf"(?P<suffix>{SYMBOL})\s+(?P<date>ngày[^()]*?)\s+của\s+(?P<issuer>[^()]+?)\s*\)"
)
#: The sentence that issues the plan ("UBND tỉnh ban hành Kế hoạch … giai đoạn 2026-2030 như sau:");
#: a cited plan ("Căn cứ …", "Kế hoạch số …") is not this one.
PLAN_SENTENCE = re.compile(r"(?:ban\s+hành|xây\s+dựng)\s+(?:Kế\s+hoạch|kế\s+hoạch)(?!\s+số)\s+"
                           r"(?P<what>[^.;:]{0,240})")
ISSUES_PLAN = re.compile(r"^(?:về\s+việc\s+)?(?:ban\s+hành|phê\s+duyệt)\s+kế\s+hoạch\s+(?P<title>.+)$", re.I)


# --------------------------------------------------------------------------- text units


@dataclass
class Unit:
    """One piece of text in reading order: a line, or one line of a table cell."""

    text: str
    page: int
    bold: bool | None = None
    confidence: float | None = None
    bbox: BBox | None = None
    in_table: bool = False
    page_width: float | None = None
    words: list | None = None  # OCR words with their confidences (extractors.model.LineWord)
    rereads: list | None = None  # second readings of its handwritten blanks (extractors.model.Reread)
    unread_ink: tuple[float, float] | None = None  # ink no word accounts for, left of it and under it


_MARKUP = re.compile(r"\*+|^#+\s*")
_DECORATION = re.compile(r"^[\s|#_\-–—=*.]*$")


def _unit_text(text: str) -> str:
    return clean(_MARKUP.sub(" ", text or ""))


def text_units(doc: Document) -> list[Unit]:
    """Lines and table cells of the document in reading order, markup and rules dropped."""
    out: list[Unit] = []
    widths = {p.number: p.width for p in doc.pages}
    for page, block in doc.blocks():
        if isinstance(block, Line):
            t = _unit_text(block.text)
            if t and not _DECORATION.match(t):
                out.append(Unit(t, page, block.bold, block.confidence, block.bbox, page_width=widths.get(page),
                                words=block.words, rereads=block.rereads, unread_ink=block.unread_ink))
        elif isinstance(block, Table):
            for row in block.grid():
                for cell in row:
                    if cell is None:
                        continue
                    for part in (cell.text or "").split("\n"):
                        t = _unit_text(part)
                        if t and not _DECORATION.match(t):
                            out.append(Unit(t, page, None, cell.confidence, cell.bbox, in_table=True))
    return out


# --------------------------------------------------------------------------- vocabularies


@dataclass(frozen=True)
class DocType:
    code: str
    name: str
    role: str


@cache
def _doc_types() -> tuple[dict[str, DocType], list[tuple[re.Pattern[str], str]], str, dict[str, str]]:
    data = load_yaml("doc_types.yaml")
    by_code = {}
    headings = []
    for t in data["types"]:
        by_code[_code_key(t["code"])] = DocType(t["code"], t["name"], t["role"])
        for h in t.get("heading") or []:
            # matched without diacritics: OCR prints "THÔNG BẢO", "GIÁY MỜI"
            folded = strip_diacritics(h)
            headings.append((re.compile(r"^\s*" + r"\s*".join(re.escape(w) for w in folded.split()) + r"(?:\s|:|$)"),
                             t["code"]))
    return by_code, headings, data["default_code"], dict(data.get("site_labels") or {})


def _code_key(code: str) -> str:
    return code.upper().replace("Đ", "D")


def doc_type_info(code: str | None) -> DocType | None:
    """Name and role of a type code ("QĐ" → Quyết định, carrier); None when unknown."""
    if not code:
        return None
    return _doc_types()[0].get(_code_key(code))


def _type_of_symbol(symbol: str) -> str | None:
    """The type code printed in a number's symbol ("QĐ-UBND" → QĐ), or None when it has none
    ("BVHTTDL-VP": a Công văn, unless a type heading says otherwise)."""
    first = re.sub(r"^\d{4}/", "", symbol).split("-")[0].strip()
    info = doc_type_info(first)
    return info.code if info else None


def _type_of_heading(text: str) -> str | None:
    folded = strip_diacritics(text)
    for pat, code in _doc_types()[1]:
        if pat.match(folded):
            return code
    return None


def _type_of_name(name: str) -> str | None:
    low = clean(name).lower()
    for dt in _doc_types()[0].values():
        if low == dt.name.lower() or low.startswith(dt.name.lower() + " "):
            return dt.code
    return None


# --------------------------------------------------------------------------- small parsers


def _province_name(raw: str) -> str | None:
    raw = re.split(r"\s{2,}|CỘNG HÒA|CỘNG HOÀ|Độc lập", raw)[0]
    words = [w for w in re.split(r"\s+", raw.strip()) if w]
    if not words or len(words) > 5:
        return None
    name = " ".join(w.capitalize() for w in words)
    return canonical_province(name) or (name if len(words) <= 4 else None)


def _to_date(y: str, m: str | None, d: str | None) -> tuple[date | None, str | None]:
    try:
        yi = int(y)
        if m and d:
            return date(yi, int(m), int(d)), "day"
        if m:
            return date(yi, int(m), 1), "month"
        return date(yi, 1, 1), "year"
    except ValueError:
        return None, None


def _any_date(text: str) -> tuple[date | None, str | None]:
    m = DATE_ONLY.search(text)
    if m:
        return _to_date(m.group("y"), m.group("m"), m.group("d"))
    m = NUMERIC_DATE.search(text)
    if m:
        return _to_date(m.group("y"), m.group("m"), m.group("d"))
    return None, None


def _number(num: str | None, suffix: str) -> str | None:
    """"254" + "QĐ-UBND" → "254/QĐ-UBND"; a blank or unreadable number gives None."""
    num = (num or "").replace(" ", "").strip(".")
    return f"{num}/{_symbol(suffix)}" if re.fullmatch(r"[0-9][0-9.]*", num) else None


def _symbol(suffix: str) -> str:
    """The symbol as published: "KH - SYT" (OCR, a wrapped conversion) → "KH-SYT"."""
    return re.sub(r"\s*-\s*", "-", suffix.strip())


def _unreadable(num: str | None) -> bool:
    """Something is printed (or written) in the number's place but it is not a number."""
    n = (num or "").replace(" ", "").strip("._")
    return bool(n) and not re.fullmatch(r"[0-9][0-9.]*", n)


# --------------------------------------------------------------------------- plan year / period

_CITATION = re.compile(
    r"(?:ngày\s*\d{1,2}\s*tháng\s*\d{1,2}\s*năm\s*\d{4}|ngày\s*\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{4}"
    r"|\d{1,2}/\d{1,2}/\d{4}|số\s*[0-9][^\s,;]*|\S*/\d{4}/\S*|\b\d+[-/][A-ZĐ]{2,}\S*)",
    re.I,
)
_RANGE = re.compile(r"(?P<a>(?:19|20)\d{2})\s*(?:-|–|—|đến|tới)\s*(?:năm\s*)?(?P<b>(?:19|20)\d{2})(?!\d)", re.I)
_HORIZON = re.compile(r"(?<!tầm nhìn )(?<!định hướng )(?:đến|tới)\s+năm\s+(?P<y>(?:19|20)\d{2})", re.I)
_VISION = re.compile(r"(?:tầm\s+nhìn|định\s+hướng)\s+(?:đến\s+|tới\s+)?(?:năm\s+)?(?:19|20)\d{2}", re.I)
_YEAR = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?!\d)")


def stated_period(text: str | None) -> tuple[int, int, int] | None:
    """(plan year, period start, period end) stated in a title or sentence, or None.

    "năm 2021 và giai đoạn 2021 - 2025" → (2021, 2021, 2025); "giai đoạn 2026 - 2030" →
    (2026, 2026, 2030).  A horizon alone ("… đến năm 2030") states no start: None here, and the
    caller ends the period with :func:`horizon_of`.  Years of dates and document numbers and a
    vision ("tầm nhìn đến năm 2045") are ignored.
    """
    if not text:
        return None
    t = _VISION.sub(" ", _CITATION.sub(" ", clean(text)))
    ranges = [(int(m.group("a")), int(m.group("b"))) for m in _RANGE.finditer(t)]
    rest = _RANGE.sub(" ", t)
    rest = _HORIZON.sub(" ", rest)
    years = [int(m.group("y")) for m in _YEAR.finditer(rest)]
    if ranges:
        a = min(r[0] for r in ranges)
        b = max(r[1] for r in ranges)
        start = min([a, *years])
        return start, start, max([b, *years])
    if years:
        return years[0], min(years), max(years)
    return None


def horizon_of(text: str | None) -> int | None:
    """The target year of "đến năm 2030" (not "tầm nhìn đến năm 2045"), or None."""
    if not text:
        return None
    t = _VISION.sub(" ", _CITATION.sub(" ", clean(text)))
    ys = [int(m.group("y")) for m in _HORIZON.finditer(t)]
    return max(ys) if ys else None


def _plan_years(sources: list[str | None], issue: date | None) -> tuple[int | None, int | None, int | None, bool]:
    """Year and period from the first source that states one; else the issue year."""
    horizon = None
    for s in sources:
        got = stated_period(s)
        h = horizon_of(s)
        if got:
            year, start, end = got
            if h and h > end:
                end = h
            return year, start, end, True
        horizon = horizon or h
    if issue:
        y = issue.year
        if horizon and horizon >= y:
            return y, y, horizon, True
        return y, y, y, False
    return None, None, None, False


def complete_period(meta: PlanMeta, deadline_texts: list[str | None]) -> None:
    """A plan that states no period runs from its issue year to the last year its tasks'
    deadlines name ("Năm 2026 và các năm tiếp theo" → 2026), within fifteen years."""
    if meta.period_stated or meta.plan_period_start is None:
        return
    years = [int(m.group("y")) for t in deadline_texts if t for m in _YEAR.finditer(_CITATION.sub(" ", t))]
    years = [y for y in years if meta.plan_period_start <= y <= meta.plan_period_start + 15]
    if years and max(years) > (meta.plan_period_end or 0):
        meta.plan_period_end = max(years)


# --------------------------------------------------------------------------- issue date vs the plan's own dates

#: a plan may be issued in the year before its stated period starts, not earlier
EARLIEST_ISSUE_BEFORE_PERIOD = 1


@cache
def _due_pattern() -> re.Pattern[str]:
    """A deadline the document sets: a before-word of parsers/data/deadline_words.yaml ("trước",
    "chậm nhất", "đến" …), optional filler ("là", "vào", "ngày"), then a full date with its year
    ("21/12/2017", "20 tháng 12 năm 2017"); on folded text."""
    from ._text import fold

    w = load_yaml("deadline_words.yaml")
    before = "|".join(sorted({re.escape(fold(x)) for x in [*w["before_by_end"], *w["before_by_start"]]},
                             key=len, reverse=True))
    filler = "|".join(re.escape(fold(x)) for x in w["before_filler"])
    return re.compile(rf"(?<!\w)(?:{before})\s+(?:(?:{filler})\s+)*(?P<d>\d{{1,2}})\s*(?:[/.-]|\s+thang\s+)"
                      rf"(?P<m>\d{{1,2}})\s*(?:[/.-]|,?\s+nam\s+)(?P<y>(?:19|20)\d{{2}})(?!\d)")


def stated_due_dates(texts: list[str | None]) -> list[date]:
    """The deadlines a document sets in its text ("gửi về Sở Y tế trước ngày 21/12/2017"), full
    dates only: the dates it cannot have been issued after."""
    from ._text import fold

    out = []
    for t in texts:
        for m in _due_pattern().finditer(fold(t or "")):
            try:
                out.append(date(int(m.group("y")), int(m.group("m")), int(m.group("d"))))
            except ValueError:
                continue
    return out


#: an OCR'd word read below this is no evidence against the issue date: a deadline misread
#: ("trước ngày 10/8/2010." at 50 for 10/8/2017 on pAs_11) would flag a date read surely
DUE_DATE_TRUST = 60.0


def _sure_text(u: Unit) -> str:
    """A line's text with the words OCR read below :data:`DUE_DATE_TRUST` blanked out (a typed
    line as it is)."""
    if u.words is None:
        return u.text
    return " ".join(w.text if w.conf is None or w.conf >= DUE_DATE_TRUST else "…" for w in u.words)


def check_issue_date(meta: PlanMeta, due: list[date]) -> None:
    """The issue date against the plan's own dates (a general plausibility rule, whatever read
    the date): a document is not issued after the last deadline it sets, nor a plan after the
    end of its stated period, nor more than :data:`EARLIEST_ISSUE_BEFORE_PERIOD` year before
    the period starts.  Within the bound's year, what cannot stand is cut to the part that can
    (the month, or the year: :func:`parsers.handwriting.not_after`); a year after the bound's,
    or one merely too early, is kept; the field is flagged either way."""
    from .handwriting import not_after

    if meta.issue_date is None:
        return
    info = doc_type_info(meta.doc_type) if meta.doc_type else None
    is_plan = meta.plan_heading or (info is not None and info.role == "plan")
    bounds = [max(due)] if due else []
    if is_plan and meta.period_stated and meta.plan_period_end:
        bounds.append(date(meta.plan_period_end, 12, 31))
    if bounds and meta.issue_date > min(bounds):
        if meta.issue_date.year == min(bounds).year:
            meta.issue_date, meta.issue_date_precision = not_after(meta.issue_date, meta.issue_date_precision,
                                                                   min(bounds))
        # else the years disagree, and the body's year is OCR'd too ("10/8/2010" for 2017):
        # which one is wrong is for a human to say
        meta.low_confidence["issue_date"] = 0.0
    elif (is_plan and meta.period_stated and meta.plan_period_start
          and meta.issue_date.year < meta.plan_period_start - EARLIEST_ISSUE_BEFORE_PERIOD):
        meta.low_confidence["issue_date"] = 0.0


# --------------------------------------------------------------------------- title


def _upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.9 * len(letters)


def _cut_caption(text: str) -> tuple[str, bool]:
    m = CAPTION_START.search(text)
    return (text[: m.start()].strip(), True) if m else (text, False)


def _title(units: list[Unit], start: int, first_rest: str | None = None) -> str | None:
    """Title lines after "KẾ HOẠCH" (or "PHỤ LỤC"): until the body starts, a caption "(Kèm
    theo …)", a change of weight, or — for a title in capitals — the first line that is not."""
    parts: list[str] = []
    rest = (first_rest or "").strip()
    if rest:
        rest, cut = _cut_caption(rest)
        if rest:
            parts.append(rest)
        if cut:
            return " ".join(parts) or None
    bold_title = None
    caps = None
    i = start + 1
    while i < len(units) and len(parts) < 8:
        u = units[i]
        t = u.text
        if u.in_table or starts_signature(t) and parts:
            break
        if BODY_START.match(t) and parts:
            break
        if t.startswith("(") and parts:
            break
        has_letters = any(c.isalpha() for c in t)
        if caps is None and has_letters:
            caps = _upper(t)
        elif caps and has_letters and not _upper(t):
            head, cut = _cut_caption(t)
            if cut and head and _upper(head):
                parts.append(head)
            break
        if bold_title is None:
            bold_title = u.bold
        elif bold_title and u.bold is False:
            break
        if parts and u.bold is None and len(t) > 160 and not caps:
            break
        t, cut = _cut_caption(t)
        if t:
            parts.append(t)
        if cut or len(" ".join(parts)) > 600:
            break
        i += 1
    return " ".join(parts).strip() or None


# --------------------------------------------------------------------------- signature


def _same_column(anchor: Unit, u: Unit) -> bool:
    a, b = anchor.bbox, u.bbox
    if a is None or b is None:
        return True
    return not (b.x1 < a.x0 - 20 or b.top < a.top)


#: OCR'd lines of at most this many words inside a stamped signer block are stamp specks
STAMP_SPECK_WORDS = 3


def _deputy_office(block: list[str]) -> str | None:
    """The office when the block's lines end with it over its deputy's title ("GIÁM ĐỐC", "PHÓ
    GIÁM ĐỐC"), the whole title of a deputy signing for the head; else None."""
    office = office_of(block[-2]) if len(block) >= 2 else None
    return office if office is not None and as_deputy(block[-1], office) is not None else None


def _read_again(v: Unit, block: list[str]) -> bool:
    """Is the OCR'd line ``v``, under a deputy's whole block, that block's deputy line read a
    second time (a band read again under the title, on a page whose page pass had read it)?"""
    office = _deputy_office(block)
    return office is not None and as_deputy(office_as_printed(v.text), office) is not None


def _right_half(u: Unit) -> bool:
    """Is the line in the right half of its page (where a signer block is printed)?"""
    return u.bbox is not None and bool(u.page_width) and u.bbox.x0 > u.page_width / 2


def _title_line(v: Unit, above: str) -> str:
    """A further line of a signature block under the line ``above``: as printed, or when read by
    OCR with its office's spelling (:func:`parsers.signers.office_as_printed`) or as the deputy
    of the office above (:func:`parsers.signers.as_deputy`: "HÓ GIÁM ĐỐC" under "GIÁM ĐỐC")."""
    if v.words is None:
        return v.text
    line = office_as_printed(v.text)
    office = office_of(above)
    if office is None or parse_signature(line) is not None:
        return line
    return as_deputy(line, office) or line


def _next_in_column(units: list[Unit], i: int) -> int | None:
    """The next line after ``units[i]`` in its column that is no mark or stamp speck (a few
    lines on), or None."""
    for j in range(i + 1, min(len(units), i + 6)):
        v = units[j]
        if not _same_column(units[i], v) or is_mark(v.text) or (v.words is not None and is_speck(v.text)):
            continue
        return j
    return None


def _office_over(units: list[Unit], i: int, sig: Signature | None) -> bool:
    """Is the line just above ``units[i]`` in its column (within two of its heights) an OCR'd,
    damaged reading of the office its title names?"""
    u = units[i]
    office = office_of(sig.title) if sig else None
    if office is None or u.bbox is None:
        return False
    for v in reversed(units[max(0, i - 5):i]):
        b = v.bbox
        if b is None or v.words is None or is_speck(v.text) or b.x1 < u.bbox.x0 or b.x0 > u.bbox.x1:
            continue
        if u.bbox.top - b.top > 2 * (u.bbox.bottom - u.bbox.top):
            return False
        return not starts_signature(office_as_printed(v.text)) and office_misread(v.text) == office
    return False


def _misread_head(units: list[Unit], i: int) -> str | None:
    """The office of a title line read by OCR with a letter lost or misread ("GIÁM ĐÓ",
    "VI. GIÁM ĐỐC" for a handwritten "KT."), when the next line of its column reads as that
    office's deputy: two readings naming the same office, the deputy's block "KT. GIÁM ĐỐC / PHÓ
    GIÁM ĐỐC" whose prefix :func:`parsers.signers.with_head_prefix` puts back."""
    office = office_misread(units[i].text)
    j = _next_in_column(units, i)
    if office is None or j is None or as_deputy(office_as_printed(units[j].text), office) is None:
        return None
    return office


def _signatures(units: list[Unit]) -> list[tuple[str, str | None, float | None, bool]]:
    """Every signature block (title, name, OCR confidence of the name, whether a further title
    line read by OCR is no title: see :func:`parsers.signers.title_line_doubt`) in order.

    A block read by OCR in the right half of its page whose name was not read (a stamp or the
    signature over it) comes with name None: its title is what the page says of the signer."""
    out: list[tuple[str, str | None, float | None, bool]] = []
    i = 0
    while i < len(units):
        u = units[i]
        ocr = u.words is not None
        head = office_as_printed(u.text) if ocr else u.text
        if ocr and not starts_signature(head):
            head = _misread_head(units, i) or head
        if not (starts_signature(head) and len(head.split()) <= 16):
            i += 1
            continue
        block = [head]
        # a damaged line of the same office just above: this is its deputy's line, "PHÓ" not read
        title_doubt = ocr and _office_over(units, i, parse_signature(head))
        sig = parse_signature(head)
        name, conf = (sig.name, u.confidence) if sig and sig.name else (None, None)
        j = i + 1
        fallback: tuple[str, float | None, int] | None = None
        while name is None and j < len(units) and j <= i + 10:
            v = units[j]
            if not _same_column(u, v) or is_mark(v.text):
                j += 1
                continue
            if is_person_name(v.text):
                if v.words is not None and name_doubt(v.text):
                    # OCR'd: the misread tail of a title ("VĂN PHO") or a name part under the
                    # stamp; the name may still come below, past the stamp's specks
                    fallback = fallback or (v.text, v.confidence, j)
                    j += 1
                    continue
                name, conf = v.text, v.confidence
                break
            under_whole = fallback is not None or _deputy_office(block) is not None
            if v.words is not None and (is_speck(v.text) or (
                    under_whole and len(v.text.split()) <= STAMP_SPECK_WORDS
                    and parse_signature(office_as_printed(v.text)) is None) or _read_again(v, block)):
                # a stamp's speck or ring text ("SỐ ( VÀ"), past a name part or under a deputy's
                # block "GIÁM ĐỐC / PHÓ GIÁM ĐỐC", which has no further title line
                j += 1
                continue
            if fallback is None and _upper(v.text) and len(v.text.split()) <= 8:
                line = _title_line(v, block[-1])
                # an office read twice: a deputy's "PHÓ GIÁM ĐỐC" whose "PHÓ" was not read
                repeated = office_of(line) is not None and office_of(line) == office_of(block[-1])
                block.append(line)
                title_doubt = title_doubt or (v.words is not None and (title_line_doubt(line) is not None
                                                                       or repeated))
                j += 1
                continue
            break
        if name is None and fallback is not None:
            name, conf, j = fallback
        sig = parse_signature(" ".join(block))
        if sig is not None and (sig.name or name or (ocr and _right_half(u))):
            title = with_head_prefix(sig.title) if ocr else sig.title
            title_doubt = title_doubt or title_ink_doubt(title, u.unread_ink, len(block)) is not None or (
                ocr and title_shape_doubt(title) is not None)
            # on a scan, a name read on its own line beats the tail of a misread title line that
            # the block's text parses as a name ("CHÁNH VĂN PHÒ": "VĂN PHÒ"); such a tail is
            # judged as a name read by OCR (with the block's confidence)
            who = (name or sig.name) if ocr else (sig.name or name)
            if ocr and who is not None and conf is None:
                conf = u.confidence
            out.append((title, who, conf, title_doubt))
        i = max(j, i + 1)
    return out


# --------------------------------------------------------------------------- the parser


def _site_fields(units: list[Unit]) -> dict[str, str]:
    """The "Số hiệu: … / Loại văn bản: …" block of a legal-document web site, label → value."""
    labels = _doc_types()[3]
    out: dict[str, str] = {}
    for i, u in enumerate(units[:80]):
        for label, fname in labels.items():
            m = re.match(rf"^{re.escape(label)}\s*:\s*(?P<v>.*)$", u.text, re.I)
            if not m or fname in out:
                continue
            value = m.group("v").strip() or (units[i + 1].text if i + 1 < len(units) else "")
            if value:
                out[fname] = value
    return out


def _first_heading(units: list[Unit], limit: int = 80) -> tuple[int, str] | None:
    for i, u in enumerate(units[:limit]):
        if u.in_table:
            continue
        code = _type_of_heading(u.text)
        if code and _upper(u.text.split(":")[0][:40]):
            return i, code
    return None


#: share of the page width from which a header line starts in the right column (the motto,
#: the place and date): agency lines are centred in the left column and start left of it; a
#: line OCR joined across both columns starts at the left and is kept (strip_motto cuts it)
RIGHT_COLUMN_X = 0.4


def _agency_text(head: list[Unit]) -> str:
    """The header's agency lines: the capitals at the top of the left column, above "Số:" (the
    motto and the date beside them removed).  The block ends at the number or at the first line that is not
    in capitals, so a title or signature in capitals further down is never taken for it."""
    parts = []
    for u in head:
        if u.bbox is not None and u.page_width and u.bbox.x0 >= RIGHT_COLUMN_X * u.page_width:
            continue  # in the right column: the motto and the date (an OCR-damaged motto is no agency)
        if PARTY_NUMBER.search(u.text):
            break
        if DOC_NUMBER.search(u.text):
            left = strip_motto(u.text[: DOC_NUMBER.search(u.text).start()])
            if left and _upper(left):
                parts.append(left)
            break
        t = strip_motto(PLACE_DATE.sub(" ", u.text))
        if not t:
            continue  # the motto or the date alone
        if u.words is not None:
            t = _known_body(t)
        if not _upper(t) or TITLE_START.match(t) or _type_of_heading(t):
            break
        parts.append(t)
    return " ".join(parts)


#: OCR confidence (0-100) of a line below which what was read from it is flagged for a human
LINE_TRUST = 60.0
#: rapidfuzz ratio (folded, spaces removed) at which an OCR'd agency line is a known body's
#: name, and by how much it must beat the next name
BODY_LIKE, BODY_MARGIN = 80.0, 10.0


def _issuer_codes() -> dict[str, str]:
    """Issuer code of a document symbol → the body it names ("SYT" → "Sở Y tế"),
    legal_doc_types.yaml."""
    return load_yaml("legal_doc_types.yaml").get("issuers") or {}


@cache
def _body_names() -> tuple[tuple[str, str], ...]:
    """(folded key, name in capitals) of the bodies legal_doc_types.yaml names by their codes."""
    return tuple((fold_plain(n).replace(" ", ""), n.upper()) for n in _issuer_codes().values() if "/" not in n)


def _known_body(line: str) -> str:
    """An OCR'd agency line that is a known body's name misread ("Sơyte", "Sớơy Tế", "SỞ V TẾ"
    for SỞ Y TẾ) as that name; any other line as read.  Only short lines, only a clear best."""
    if len(line.split()) > 4:
        return line
    key = fold_plain(line).replace(" ", "")
    scored = sorted(((fuzz.ratio(key, k), n) for k, n in _body_names()), reverse=True)
    if not scored or scored[0][0] < BODY_LIKE or (len(scored) > 1 and scored[0][0] - scored[1][0] < BODY_MARGIN):
        return line
    return scored[0][1]


def _judge_handwriting(meta: PlanMeta, head: list[Unit]) -> None:
    """On an OCR'd header, number and day are often handwritten: the value is what
    parsers/handwriting.py judges it to be (null when unsure, and then flagged), a lost day
    keeps the month and year, and a field the OCR lost entirely is flagged too."""
    ocr, number, when = judge_header(head)
    if not ocr:
        return
    if number is not None:
        meta.doc_number = f"{number.number}/{number.symbol}" if number.number else None
        # the printed symbol stands whatever the handwritten digits are, judged by its own words
        # (the line's mean, which the handwriting drags down, says less)
        meta.doc_symbol = number.symbol
        if number.symbol_doubtful:
            meta.low_confidence["doc_symbol"] = number.symbol_conf or 0.0
        else:
            meta.low_confidence.pop("doc_symbol", None)
        if number.doubtful:
            meta.low_confidence["doc_number"] = 0.0
        elif number.number and number.symbol_doubtful:  # "2193/TB-SVT": sure digits, an unsure symbol
            meta.low_confidence["doc_number"] = number.symbol_conf or 0.0
        elif number.number:  # judged by its own word or by two recognisers: the line's mean says less
            meta.low_confidence.pop("doc_number", None)
    if when is not None:
        meta.issue_date, meta.issue_date_precision = when.value, when.precision
        if when.doubtful:
            meta.low_confidence["issue_date"] = 0.0
        else:  # every part judged by its own words' confidence: the line's mean says less
            meta.low_confidence.pop("issue_date", None)
    for field in ("doc_number", "issue_date"):
        if (number if field == "doc_number" else when) is None:
            # lost entirely, or found only across OCR lines ("Kiên Giang, ngày" / "tháng 12 năm
            # 2017": the handwritten day between them was never judged)
            meta.low_confidence.setdefault(field, 0.0)
    if meta.doc_symbol is None:  # no "Số: …/SYMBOL" line read at all
        meta.low_confidence.setdefault("doc_symbol", 0.0)


def parse_metadata(doc: Document) -> PlanMeta:
    meta = PlanMeta()
    units = text_units(doc)
    full_text = "\n".join(u.text for u in units)
    heading = _first_heading(units)
    head_end = heading[0] if heading else 40
    head = [u for u in units[:head_end] if u.page <= 2][:60]

    # ---- number and type: the type code of the number, else the type heading, else the
    # web site's or the caption's type word; a symbol without a type code is a Công văn
    symbol = None
    for u in head:
        party = PARTY_NUMBER.search(u.text)
        if party:
            meta.doc_number = f"{party.group('num')}-{party.group('type')}/{party.group('issuer')}"
            symbol = f"{party.group('type')}-{party.group('issuer')}"
            meta.doc_symbol = f"{party.group('type')}/{party.group('issuer')}"  # "07-KH/TU": "KH/TU"
            break
        m = DOC_NUMBER.search(u.text)
        if m:
            meta.doc_number = _number(m.group("num"), m.group("suffix"))
            symbol = m.group("suffix")
            meta.doc_symbol = _symbol(symbol)
            # a line read with low confidence may have misread its digits or its symbol; an
            # unreadable number says nothing of the symbol.  An OCR'd line's parts are judged
            # again on their own words by _judge_handwriting.
            low_line = u.confidence is not None and u.confidence < LINE_TRUST
            if low_line or _unreadable(m.group("num")):
                meta.low_confidence["doc_number"] = u.confidence if u.confidence is not None else 0.0
            if low_line:
                meta.low_confidence["doc_symbol"] = u.confidence
            break
    site = _site_fields(units)
    caption = CAPTION.search(full_text)
    if symbol is None:
        from_caption = f"{caption.group('num') or ''}/{caption.group('suffix')}" if caption else None
        for raw in (site.get("doc_number"), from_caption):
            m = BARE_NUMBER.match(raw or "")
            if m:
                meta.doc_number = _number(m.group("num"), m.group("suffix"))
                symbol = m.group("suffix")
                meta.doc_symbol = _symbol(symbol)
                if meta.doc_number:
                    break
    meta.doc_type = (_type_of_symbol(symbol) if symbol else None) or (heading[1] if heading else None) \
        or _type_of_name(site.get("doc_type") or "") or (_type_of_name(caption.group("type")) if caption else None) \
        or (_doc_types()[2] if symbol or any(VV.match(u.text) for u in head) else None)

    # ---- date and place: "Bắc Ninh, ngày 24" may wrap before "tháng 11 năm 2025"
    m = None
    for i, u in enumerate(head):
        cand = u.text
        if "ngày" in cand and not re.search(r"năm\s*\d{4}", cand):
            cand = " ".join([cand] + [v.text for v in head[i + 1:i + 3]])
        m = PLACE_DATE.search(cand)
        if m:
            break
    place = None
    if m:
        meta.issue_date, meta.issue_date_precision = _to_date(m.group("y"), m.group("m"), m.group("d"))
        place = _province_name(m.group("place"))
        conf = next((u.confidence for u in head if "ngày" in u.text and u.confidence is not None), None)
        if conf is not None and conf < LINE_TRUST or (m.group("jd") or "").strip() or (m.group("jm") or "").strip():
            meta.low_confidence["issue_date"] = conf if conf is not None else 0.0
    else:
        for raw in (site.get("issue_date"), caption.group("date") if caption else None):
            if raw:
                meta.issue_date, meta.issue_date_precision = _any_date(raw)
                if meta.issue_date:
                    break

    _judge_handwriting(meta, head)

    # ---- issuer, level, province
    issuer: Issuer | None = parse_issuer(_agency_text(head), full_text)
    province_hint = place
    if issuer is None:
        for name in (caption.group("issuer") if caption else None, site.get("issuer"), _issuer_of_symbol(meta)):
            if name:
                issuer = issuer_from_name(name, province_hint, full_text)
                if issuer:
                    break
    if issuer is not None:
        meta.issuer, meta.issuer_level = issuer.name, issuer.level
        # a district's or commune's People's Committee dates its plan at its own place ("Gia Lâm,
        # ngày …"), which is not a province: only a place the province list knows stands in
        local = issuer.level == "other" and place is not None and canonical_province(place) is None
        meta.province = issuer.province if issuer.level == "central" or local else (issuer.province or place)
        if issuer.level != "central" and issuer.province is None and place and issuer.level == "department":
            meta.issuer = f"{issuer.name} {place}"
    else:
        meta.province = place
    if issuer is not None and any(u.words is not None for u in head):
        meta.doc_number = _own_code(meta.doc_number, issuer.name)
        meta.doc_symbol = _own_symbol(meta.doc_symbol, issuer.name)

    # ---- title
    plan_at = next((i for i, u in enumerate(units) if not u.in_table and TITLE_START.match(u.text)), None)
    meta.plan_heading = plan_at is not None
    if plan_at is not None:
        meta.title = _title(units, plan_at, TITLE_START.match(units[plan_at].text).group("rest"))
    if meta.title is None and heading is not None:
        trich = _title(units, heading[0], _type_of_heading_rest(units[heading[0]].text))
        mm = ISSUES_PLAN.match(trich or "")
        info = doc_type_info(heading[1])
        if mm:
            meta.title = mm.group("title").strip()
            meta.plan_heading = True
        elif info is not None and info.role == "plan":  # "CHƯƠNG TRÌNH" + its title
            meta.title = trich
    appendix_at = next((i for i, u in enumerate(units) if not u.in_table and APPENDIX_START.match(u.text)
                        and _upper(u.text[:8])), None)
    if meta.title is None and appendix_at is not None:
        rest = APPENDIX_START.sub("", units[appendix_at].text).strip(" .:-–")
        rest = "" if re.fullmatch(r"[0-9IVXLC]*", rest) else rest
        meta.title = _title(units, appendix_at, rest)

    # ---- plan year and period
    intro = [mm.group("what") for u in units[: (appendix_at or len(units))][:200]
             for mm in [PLAN_SENTENCE.search(u.text)]
             if mm and not u.in_table and not re.match(r"^\s*(?:Căn cứ|Thực hiện)\b", u.text)]
    meta.plan_year, meta.plan_period_start, meta.plan_period_end, meta.period_stated = _plan_years(
        [meta.title, *intro[:2]], meta.issue_date)
    check_issue_date(meta, stated_due_dates([_sure_text(u) for u in units]))

    # ---- signer: the last signature of the body (a Quyết định's when the plan it issues is unsigned)
    body = units[:appendix_at] if appendix_at is not None else units
    sigs = _signatures(body) or _signatures(units)
    # the last block that names its signer, else the last read without its name (a scan's stamp)
    sigs = [s for s in sigs if s[1]] or sigs
    if sigs:
        meta.signer_title, meta.signer_name, conf, title_doubt = sigs[-1]
        if conf is not None and (conf < LINE_TRUST or name_doubt(meta.signer_name)):
            meta.low_confidence["signer_name"] = conf
        if title_doubt:
            meta.low_confidence["signer_title"] = 0.0
        if meta.signer_name is None:  # the name printed apart from the title read
            _take_stamped_name(meta, body)
    elif site.get("signer_name") and is_person_name(site["signer_name"]):
        meta.signer_name = clean(site["signer_name"])
    else:
        name = _take_stamped_name(meta, body)
        if name is not None:
            # a stamp or signature covers the title: the name alone, flagged for a human
            meta.low_confidence["signer_title"] = name.confidence if name.confidence is not None else 0.0
    if any(u.words is not None for u in body):
        # a scan whose signer block could not be read: say so rather than leave a silent gap
        for field in ("signer_name", "signer_title"):
            if getattr(meta, field) is None:
                meta.low_confidence.setdefault(field, 0.0)
    return meta


def _is_recipients(text: str) -> bool:
    """ "Nơi nhận:" heading the recipients, also as OCR reads it ("Noi nhận", "Noi hhận")."""
    head = fold_plain(text[:len(RECIPIENTS) + 1]).rstrip(" :")
    return fuzz.ratio(head, fold_plain(RECIPIENTS)) >= RECIPIENTS_LIKE


RECIPIENTS = "Nơi nhận"
RECIPIENTS_LIKE = 80.0  # rapidfuzz ratio (folded) at which a line's start reads "Nơi nhận"


def _take_stamped_name(meta: PlanMeta, body: list[Unit]) -> Unit | None:
    """The signer's name printed alone (:func:`_stamped_signer`) taken as ``meta.signer_name``,
    flagged when OCR may have lost or misread a part of it; the line, or None."""
    name = _stamped_signer(body)
    if name is not None:
        meta.signer_name = name.text
        if name.words is not None and name_doubt(name.text):
            meta.low_confidence["signer_name"] = name.confidence or 0.0
    return name


def _stamped_signer(body: list[Unit]) -> Unit | None:
    """The signer's name printed alone in the right half of the page after "Nơi nhận" (scans
    whose red stamp hides the title).  Only where geometry is known."""
    recipients = next((i for i in range(len(body) - 1, -1, -1) if _is_recipients(body[i].text)), None)
    if recipients is None:
        return None
    for u in body[recipients + 1: recipients + 25]:
        if u.bbox is None or not u.page_width:
            return None
        if u.bbox.x0 > u.page_width / 2 and is_person_name(u.text):
            return u
    return None


def _type_of_heading_rest(text: str) -> str:
    for pat, _code in _doc_types()[1]:
        m = pat.match(strip_diacritics(text))
        if m:
            return text[m.end():].strip()
    return ""


def _own_code(number: str | None, issuer: str) -> str | None:
    """An OCR'd number whose code for the issuer itself is one letter off ("17/GM-SVT" on a
    Sở Y tế's letter): that issuer's code put back (:func:`_own_symbol`)."""
    if not number or "/" not in number:
        return number
    lead, symbol = number.split("/", 1)
    return f"{lead}/{_own_symbol(symbol, issuer)}"


def _own_symbol(symbol: str | None, issuer: str) -> str | None:
    """An OCR'd symbol whose code for the issuer itself is one letter off ("GM-SVT" on a Sở Y
    tế's letter): that issuer's code (legal_doc_types.yaml) put back.  Only the code of the
    issuer the header names, only a same-length code one letter away, only when no code of
    the symbol already is it; unit codes ("NVD", "KHTC") are left as read."""
    if not symbol:
        return symbol
    own = {code for code, name in _issuer_codes().items() if fold_plain(issuer).startswith(fold_plain(name))}
    parts = re.split(r"([-/])", symbol)  # codes at even positions, the dashes and slashes between
    if not own or own & set(parts[::2]):
        return symbol
    for i in range(0, len(parts), 2):
        code = parts[i]
        close = [o for o in own if len(o) == len(code) and sum(a != b for a, b in zip(o, code, strict=True)) == 1]
        if len(close) == 1:
            parts[i] = close[0]
            return "".join(parts)
    return symbol


def _issuer_of_symbol(meta: PlanMeta) -> str | None:
    """The body an issuer code of the number names ("…/KH-SYT" → "Sở Y tế"), from
    legal_doc_types.yaml, for documents printed without their agency lines.  The symbol is
    read apart from the number, so a scan whose handwritten number is unsure still names it."""
    symbol = meta.doc_symbol or (meta.doc_number.split("/", 1)[-1] if meta.doc_number else None)
    if not symbol:
        return None
    codes = re.sub(r"^\d{4}/", "", symbol).split("-")
    names = _issuer_codes()
    for code in codes[1:] if doc_type_info(codes[0]) else codes:
        name = names.get(code)
        if name and "/" not in name:
            return name
    return None
