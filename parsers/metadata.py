"""Plan metadata from the header block, the title and the signature block.

The header is laid out in two columns ("UBND TỈNH X" / "SỞ Y TẾ" / "Số: …/KH-SYT" on the
left, the national motto and "X, ngày … tháng … năm …" on the right); extractors give them
as separate Lines or one joined line, so every pattern here searches within a line.
Blank parts (``Số: /KH-SYT``, ``ngày   tháng 12 năm 2023``) are normal, not errors: they
become nulls and a coarser date precision.
"""

from __future__ import annotations

import re
from datetime import date

from extractors.model import Document, Line

from .provinces import canonical_province
from .records import PlanMeta

DOC_NUMBER = re.compile(
    r"(?:^\W*Số\s*:?|\bSố\s*:)\s*(?P<num>[0-9][0-9.\s]*)?\s*/\s*(?P<suffix>KH-[A-ZĐ]+(?:-[A-ZĐ]+)*)"
)
PLACE_DATE = re.compile(
    r"(?P<place>[A-ZĐÀ-Ỹ][^\d,;:]{1,40}?)\s*,\s*ngày\s*(?P<d>\d{1,2})?\s*tháng\s*(?P<m>\d{1,2})?\s*năm\s*(?P<y>\d{4})",
    re.I,
)
DATE_ONLY = re.compile(r"ngày\s*(?P<d>\d{1,2})?\s*tháng\s*(?P<m>\d{1,2})?\s*năm\s*(?P<y>\d{4})", re.I)
PROVINCE_HEADER = re.compile(r"(?:UBND|ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN)\s+(?:TỈNH|THÀNH PHỐ|TP\.?)\s+(?P<p>[^\n]+)",
                             re.I)
TITLE_START = re.compile(r"^\s*KẾ\s*HOẠCH\b\s*(?P<rest>.*)$")
BODY_START = re.compile(
    r"^\s*(Căn cứ|Thực hiện|Trên cơ sở|Nhằm|Để|Theo|Triển khai|Sở Y tế|Thi hành|[IVX]+\.\s|[A-Z]\.\s|\d+\.\s|-\s)",
)
YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")
PERIOD = re.compile(r"(?P<a>(?:19|20)\d{2})\s*(?:-|–|đến|tới)\s*(?:năm\s*)?(?P<b>(?:19|20)\d{2})")
SIGNER_TITLE = re.compile(
    r"^(?P<t>(?:(?:KT|TL|TM|Q|Q\.|PHÓ)\.?\s*)?(?:PHÓ\s+)?(?:GIÁM ĐỐC|CHÁNH VĂN PHÒNG|TRƯỞNG PHÒNG|CHÁNH THANH TRA))\s*$"
)
NAME_WORD = re.compile(r"^[A-ZĐÀ-Ỹ](?:[a-zà-ỹđ]+|[A-ZĐÀ-Ỹ]+)$")
NOT_NAME = re.compile(r"\b(SỞ|UBND|GIÁM|ĐỐC|PHÓ|KÝ|TỈNH|NƠI|NHẬN|PHỤ|LỤC|KẾ|HOẠCH)\b")


def _province_name(raw: str) -> str | None:
    raw = re.split(r"\s{2,}|CỘNG HÒA|CỘNG HOÀ|Độc lập", raw)[0]
    words = [w for w in re.split(r"\s+", raw.strip()) if w]
    if not words or len(words) > 4:
        return None
    name = " ".join(w.capitalize() for w in words)
    return canonical_province(name) or name


def _lines(doc: Document) -> list[tuple[int, Line]]:
    return [(p, b) for p, b in doc.blocks() if isinstance(b, Line)]


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


def _title(lines: list[Line], start: int) -> tuple[str | None, int]:
    """Title lines after "KẾ HOẠCH": until the body starts or the weight changes."""
    first = TITLE_START.match(lines[start].text)
    parts: list[str] = []
    rest = first.group("rest").strip() if first else ""
    if rest:
        parts.append(rest)
    bold_title = None
    i = start + 1
    while i < len(lines) and len(parts) < 8:
        ln = lines[i]
        t = ln.text.strip()
        if not t or set(t) <= set("_-–—=*. "):
            i += 1
            continue
        if BODY_START.match(t) and parts:
            break
        if bold_title is None:
            bold_title = ln.bold
        elif bold_title and ln.bold is False:
            break
        if parts and ln.bold is None and len(t) > 120:
            break
        parts.append(t)
        if len(" ".join(parts)) > 600:
            break
        i += 1
    title = " ".join(parts).strip() or None
    return title, i


def _plan_years(title: str | None, issue: date | None) -> tuple[int | None, int | None, int | None]:
    if title:
        per = PERIOD.search(title)
        years = [int(m.group(0)) for m in YEAR.finditer(title)]
        if per:
            a, b = int(per.group("a")), int(per.group("b"))
            first = min(years) if years else a
            return first, min(a, first), max(b, a)
        if years:
            return years[0], years[0], years[-1] if len(years) > 1 else years[0]
    if issue:
        return issue.year, issue.year, issue.year
    return None, None, None


def _is_title(text: str) -> bool:
    return bool(SIGNER_TITLE.match(text.strip().strip("*").strip()))


def _is_name(text: str) -> bool:
    """A person's name: 2-5 capitalised words (some plans print it in capitals)."""
    t = text.strip().strip("*").strip()
    words = t.split()
    return 2 <= len(words) <= 5 and all(NAME_WORD.match(w) for w in words) and not NOT_NAME.search(t.upper())


def _signer(lines: list[Line]) -> tuple[str | None, str | None, float | None]:
    """Signer title and name: the last title block of the plan's body, and the person's name
    printed under it (in the right-hand column when geometry is known; the recipients list
    "Nơi nhận" often sits beside it on the left)."""
    idx = [i for i, ln in enumerate(lines) if _is_title(ln.text)]
    if not idx:
        return None, None, None
    best = idx[-1]
    anchor = lines[best]
    group = [best]
    for i in reversed(idx[:-1]):
        if best - i > 4:
            break
        a, b = lines[i].bbox, anchor.bbox
        if a is None or b is None or 0 <= b.top - a.top <= 40:
            group.insert(0, i)
    titles = [lines[i].text.strip().strip("*").strip() for i in group]
    name = conf = None
    for ln in lines[best + 1 : best + 25]:
        if ln.bbox is not None and anchor.bbox is not None:
            if ln.bbox.x1 < anchor.bbox.x0 - 20 or ln.bbox.top < anchor.bbox.top:
                continue
        if _is_name(ln.text):
            name = ln.text.strip().strip("*").strip()
            conf = ln.confidence
            break
    return name, " / ".join(titles), conf


def parse_metadata(doc: Document) -> PlanMeta:
    meta = PlanMeta()
    plines = _lines(doc)
    lines = [ln for _, ln in plines]
    # The header block sits on the first page; stop before the appendix.
    head = [ln for p, ln in plines if p <= 2][:60]
    number_seen = False  # the first "Số: …" line is the plan's own, even when left blank
    for ln in head:
        t = ln.text
        if meta.province is None:
            m = PROVINCE_HEADER.search(t)
            if m:
                meta.province = _province_name(m.group("p"))
        if not number_seen:
            m = DOC_NUMBER.search(t)
            if m:
                number_seen = True
                num = (m.group("num") or "").replace(" ", "").strip(".")
                meta.doc_number = f"{num}/{m.group('suffix').upper()}" if num else None
                if ln.confidence is not None and ln.confidence < 60:
                    meta.low_confidence["doc_number"] = ln.confidence
        if meta.issue_date is None:
            m = PLACE_DATE.search(t)
            if m:
                meta.issue_date, meta.issue_date_precision = _to_date(m.group("y"), m.group("m"), m.group("d"))
                place = _province_name(m.group("place"))
                if meta.province is None and place:
                    meta.province = place
                if ln.confidence is not None and ln.confidence < 60:
                    meta.low_confidence["issue_date"] = ln.confidence
    for i, ln in enumerate(lines[:80]):
        if TITLE_START.match(ln.text) and ln.text.strip().upper().startswith("KẾ HOẠCH"):
            meta.title, _ = _title(lines, i)
            break
    meta.plan_year, meta.plan_period_start, meta.plan_period_end = _plan_years(meta.title, meta.issue_date)
    if meta.province:
        meta.issuer = f"Sở Y tế {meta.province}"
    body_end = next((i for i, ln in enumerate(lines) if re.match(r"^\s*PHỤ\s*LỤC\b", ln.text)), len(lines))
    name, title, conf = _signer(lines[:body_end])
    if name is None and body_end < len(lines):
        name, title, conf = _signer(lines)
    meta.signer_name, meta.signer_title = name, title
    if conf is not None and conf < 60:
        meta.low_confidence["signer_name"] = conf
    return meta
