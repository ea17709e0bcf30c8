"""Turn a free-text deadline cell into dated milestones.

Deadline cells are free text ("Quý I/2024", "Tháng 4 đến tháng 7 năm 2020", "Thường xuyên",
"Sau khi UBND tỉnh ban hành", several labelled milestones in one cell ...).  Comparing plans
needs dates, so each cell becomes a list of :class:`Milestone` with a kind from SCHEMA.md and
inclusive start/end dates.  The vocabulary is data (``parsers/data/deadline_words.yaml``);
patterns are matched on the lower-case, diacritic-free text so OCR output that lost its
accents parses the same, and labels are cut from the original text at the same offsets.

Conventions (gold/DECISIONS.md): "Thường xuyên" (with or without "hằng năm" or a year) is
``ongoing`` over the stated year or the plan period; a bare "Hằng năm" is ``recurring``/annual
over the plan period; "trước ngày X" ends on X inclusive; event-triggered timing ("Khi …",
"Sau khi …", "Ngay sau khi …", "(nếu có)") is ``conditional``; a pointer to another document
("Theo Kế hoạch …") is ``unknown``; a missing year is filled from ``default_year``, else from
the first plan year; a "giai đoạn X-Y" qualifier after an ongoing/recurring milestone only sets
its span.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from functools import cache

from parsers._text import capitalize_first, clean, fold, load_yaml

__all__ = ["Milestone", "KINDS", "parse_deadlines"]

KINDS = ("date", "before_date", "month", "quarter", "year", "year_range", "recurring",
         "ongoing", "conditional", "immediate", "unknown")


@dataclass(frozen=True)
class Milestone:
    """One deadline milestone.  ``start``/``end`` are inclusive; ``due_md`` ("MM-DD") is the fixed
    day of a recurring milestone ("trước ngày 30/6 hằng năm"); ``raw`` is the segment it came from."""

    label: str | None
    kind: str
    start: date | None
    end: date | None
    recurrence: str | None
    due_md: str | None = None
    raw: str | None = None

    def as_dict(self) -> dict:
        """JSON/Parquet-friendly form with ISO dates, matching the gold ``deadlines`` entries."""
        d = asdict(self)
        d["start"] = self.start.isoformat() if self.start else None
        d["end"] = self.end.isoformat() if self.end else None
        return d


# ---------------------------------------------------------------------------- vocabulary

_Y = r"((?:19|20)\d{2})"
_Q = r"(iv|iii|ii|i|[1-4])(?![a-z\d])"
_YEAR_TAIL = rf"(?:\s*(?:/|,?\s*nam)\s*{_Y})?"


def _alt(phrases) -> str:
    """Regex alternation of phrases on folded text, longest first, whole words."""
    items = sorted({fold(clean(p)) for p in phrases}, key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in items) + ")"


@dataclass(frozen=True)
class _Vocab:
    roman: dict[str, int]
    ongoing: re.Pattern[str]
    open_ended: re.Pattern[str]
    recurring: list[tuple[str, re.Pattern[str]]]
    cond_start: re.Pattern[str]
    cond_any: re.Pattern[str]
    reference: re.Pattern[str]
    immediate: re.Pattern[str]
    before_end: re.Pattern[str]
    before_start: re.Pattern[str]
    left_absorb: re.Pattern[str]
    trailing_noise: re.Pattern[str]
    leading_noise: re.Pattern[str]
    label_noise: set[str]
    dated: list[tuple[str, re.Pattern[str]]]
    lists: list[tuple[str, re.Pattern[str]]]
    after_period_word: re.Pattern[str]


@cache
def _vocab() -> _Vocab:
    w = load_yaml("deadline_words.yaml")
    rng = w["range_words"]
    before_words = list(w["before_by_end"]) + list(w["before_by_start"])
    fill = _alt(w["before_filler"])
    dated = [
        ("date_range", re.compile(
            rf"(?:tu\s+)?ngay\s+(\d{{1,2}})\s*/\s*(\d{{1,2}})\s*/\s*{_Y}\s*(?:{rng})\s*(?:ngay\s+)?"
            rf"(\d{{1,2}})\s*/\s*(\d{{1,2}})\s*/\s*{_Y}")),
        ("full_date", re.compile(rf"(?<![\d/])(\d{{1,2}})\s*[/.\-]\s*(\d{{1,2}})\s*[/.\-]\s*{_Y}(?!\d)")),
        ("word_date", re.compile(rf"ngay\s+(\d{{1,2}})\s+thang\s+(\d{{1,2}})\s+nam\s+{_Y}")),
        ("day_month", re.compile(r"(?:(?<=ngay )|(?<=truoc )|(?<=han ))(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")),
        ("month_range", re.compile(
            rf"(?:tu\s+)?(?:{w['month_word']})\s+(\d{{1,2}})(?:\s*(?:/|nam)\s*{_Y})?\s*(?:{rng})\s*"
            rf"(?:het\s+)?(?:(?:{w['month_word']})\s+)?(\d{{1,2}})(?![\d])(?:\s*(?:/|,?\s*nam)\s*{_Y})?")),
        ("month", re.compile(rf"(?:{w['month_word']})\s+(\d{{1,2}})(?![\d]){_YEAR_TAIL}")),
        ("quarter_range", re.compile(
            rf"(?:tu\s+)?(?:{w['quarter_word']})\s+{_Q}(?:\s*(?:/|nam)\s*{_Y})?\s*(?:{rng})\s*"
            rf"(?:(?:{w['quarter_word']})\s+)?{_Q}{_YEAR_TAIL}")),
        ("quarter", re.compile(rf"(?:{w['quarter_word']})\s+{_Q}{_YEAR_TAIL}")),
        *[(f"half:{a}:{b}", re.compile(rf"{_alt([p])}{_YEAR_TAIL}")) for p, (a, b) in w["halves"].items()],
        # "12/2025" printed without the month word: a month (never after "quý", see _find_dated)
        ("month_year", re.compile(rf"(?<![\d/.\-])(\d{{1,2}})\s*/\s*{_Y}(?![\d/])")),
        ("year_range", re.compile(
            rf"(?:(?:tu\s+)?(?:{w['year_word']}|{w['period_word']})\s*)?(?<![\d/]){_Y}\s*(?:{rng})\s*"
            rf"(?:{w['year_word']}\s*)?{_Y}(?![\d/])")),
        ("year", re.compile(rf"(?:(?:{w['year_word']})\s+)?(?<![\d/]){_Y}(?![\d/])")),
    ]
    q_tok = r"(?:iv|iii|ii|i|[1-4])(?![a-z\d])"
    lists = [
        ("quarter", re.compile(
            rf"(?:{w['quarter_word']})\s+(?P<items>{q_tok}(?:\s*(?:,|va)\s*(?:(?:{w['quarter_word']})\s+)?{q_tok})+)"
            rf"{_YEAR_TAIL}")),
        ("month", re.compile(
            rf"(?:{w['month_word']})\s+(?P<items>\d{{1,2}}(?:\s*(?:,|va)\s*(?:(?:{w['month_word']})\s+)?\d{{1,2}})+)"
            rf"(?!\d){_YEAR_TAIL}")),
    ]
    return _Vocab(
        roman={k.lower(): v for k, v in w["roman"].items()},
        ongoing=re.compile(rf"(?<!\w){_alt(w['ongoing'])}(?!\w)"),
        open_ended=re.compile(rf"(?<!\w){_alt(w['open_ended'])}(?!\w)"),
        recurring=[(rec, re.compile(rf"(?<!\w){_alt(ph)}(?!\w)")) for rec, ph in w["recurring"].items()],
        cond_start=re.compile(rf"^{_alt(w['conditional_start'])}(?!\w)"),
        cond_any=re.compile(rf"(?<!\w){_alt(w['conditional_anywhere'])}(?!\w)"),
        reference=re.compile(rf"^{_alt(w['reference_start'])}(?!\w)"),
        immediate=re.compile(
            "^(?:" + "|".join(re.escape(clean(p).lower()) for p in sorted(w["immediate"], key=len, reverse=True))
            + r")(?!\w)"),
        before_end=re.compile(rf"(?<!\w){_alt(w['before_by_end'])}(?:\s+{fill})*\s*$"),
        before_start=re.compile(rf"(?<!\w){_alt(w['before_by_start'])}(?:\s+{fill})*\s*$"),
        left_absorb=re.compile(
            rf"(?<!\w)(?:{_alt(before_words)}|{fill}|{_alt(w['label_trailing_noise'])})\s*$"),
        trailing_noise=re.compile(rf"(?:\s+|^){_alt(w['label_trailing_noise'])}\s*$"),
        leading_noise=re.compile(rf"^{_alt(w['label_leading_noise'])}\s+"),
        label_noise={fold(clean(x)) for x in w["label_noise"]},
        dated=dated,
        lists=lists,
        after_period_word=re.compile(rf"(?:{w['month_word']}|{w['quarter_word']})\s*$"),
    )


# ---------------------------------------------------------------------------- date helpers


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _safe_date(y: int | None, m: int, d: int) -> date | None:
    if y is None:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _quarter_no(token: str) -> int:
    return int(token) if token.isdigit() else _vocab().roman[token]


@dataclass(frozen=True)
class _Ctx:
    year: int | None                       # fills a missing year
    span: tuple[date, date] | None         # plan period as dates
    annual_cell: bool                      # the cell says "hằng năm" somewhere


@dataclass(frozen=True)
class _Dated:
    kind: str
    start: date | None
    end: date | None
    pos: tuple[int, int]
    md: tuple[int, int] | None = None      # day/month printed without a year


def _find_dated(f: str, ctx: _Ctx) -> _Dated | None:
    """The most specific date expression of a segment (folded text): the first pattern, in
    priority order (day > month > quarter > half-year > year range > year), that yields a valid date."""
    v = _vocab()
    for name, pat in v.dated:
        for m in pat.finditer(f):
            if name in ("full_date", "month_year") and v.after_period_word.search(f[:m.start()]):
                continue  # "Tháng 6-7/2026" is a month range, not 6 July; "Quý 3/2026" a quarter
            try:
                res = _build(name, m.groups(), ctx, m.span())
            except (ValueError, KeyError):
                res = None
            if res is not None:
                return res
    return None


def _find_list(f: str, ctx: _Ctx) -> list[_Dated]:
    """"Quý I, II/2024", "Tháng 3, 6 và 9 năm 2024": one milestone per listed period."""
    for kind, pat in _vocab().lists:
        m = pat.search(f)
        if not m:
            continue
        year = m.group(m.lastindex) if m.lastindex and m.lastindex > 1 else None
        out = []
        for tok in re.findall(r"iv|iii|ii|i|\d{1,2}", m.group("items")):
            built = _build(kind, (tok, year), ctx, m.span())
            if built is None:
                return []
            out.append(built)
        return out
    return []


def _build(name: str, g: tuple, ctx: _Ctx, pos: tuple[int, int]) -> _Dated | None:
    if name == "date_range":
        a = _safe_date(int(g[2]), int(g[1]), int(g[0]))
        b = _safe_date(int(g[5]), int(g[4]), int(g[3]))
        return _Dated("date", a, b, pos) if a and b else None
    if name in ("full_date", "word_date"):
        d = _safe_date(int(g[2]), int(g[1]), int(g[0]))
        return _Dated("date", d, d, pos) if d else None
    if name == "day_month":
        day, mon = int(g[0]), int(g[1])
        if not (1 <= mon <= 12 and 1 <= day <= 31):
            return None
        d = _safe_date(ctx.year, mon, day)
        return _Dated("date", d, d, pos, md=(day, mon))
    if name == "month_range":
        m1, y1, m2, y2 = int(g[0]), g[1], int(g[2]), g[3]
        if not (1 <= m1 <= 12 and 1 <= m2 <= 12):
            return None
        y_end = int(y2) if y2 else (int(y1) if y1 else ctx.year)
        y_start = int(y1) if y1 else y_end
        if y_start is None:
            return _Dated("month", None, None, pos)
        return _Dated("month", date(y_start, m1, 1), _month_end(y_end, m2), pos)
    if name == "month_year":
        mon, y = int(g[0]), int(g[1])
        return _Dated("month", date(y, mon, 1), _month_end(y, mon), pos) if 1 <= mon <= 12 else None
    if name == "month":
        mon = int(g[0])
        if not 1 <= mon <= 12:
            return None
        y = int(g[1]) if g[1] else ctx.year
        return _Dated("month", _safe_date(y, mon, 1), _month_end(y, mon) if y else None, pos)
    if name == "quarter_range":
        q1, y1, q2, y2 = _quarter_no(g[0]), g[1], _quarter_no(g[2]), g[3]
        y_end = int(y2) if y2 else (int(y1) if y1 else ctx.year)
        y_start = int(y1) if y1 else y_end
        if y_start is None:
            return _Dated("quarter", None, None, pos)
        return _Dated("quarter", date(y_start, 3 * q1 - 2, 1), _month_end(y_end, 3 * q2), pos)
    if name == "quarter":
        q = _quarter_no(g[0])
        y = int(g[1]) if g[1] else ctx.year
        if y is None:
            return _Dated("quarter", None, None, pos)
        return _Dated("quarter", date(y, 3 * q - 2, 1), _month_end(y, 3 * q), pos)
    if name == "year_range":
        a, b = int(g[0]), int(g[1])
        if b < a:
            return None
        return _Dated("year_range", date(a, 1, 1), date(b, 12, 31), pos)
    if name == "year":
        y = int(g[0])
        return _Dated("year", date(y, 1, 1), date(y, 12, 31), pos)
    if name.startswith("half:"):
        _, a, b = name.split(":")
        y = int(g[0]) if g[0] else ctx.year
        if y is None:
            return _Dated("month", None, None, pos)
        return _Dated("month", date(y, int(a), 1), _month_end(y, int(b)), pos)
    return None


def _explicit_span(f: str) -> tuple[date, date] | None:
    """Years printed in an ongoing/recurring segment ("Hàng tháng trong năm 2023")."""
    for name, pat in _vocab().dated:
        if name in ("year_range", "year"):
            m = pat.search(f)
            if m:
                d = _build(name, m.groups(), _Ctx(None, None, False), m.span())
                if d:
                    return d.start, d.end
    return None


# ---------------------------------------------------------------------------- labels


def _clean_label(text: str | None, leading: bool = False) -> str | None:
    if not text:
        return None
    v = _vocab()
    s = clean(text).strip(" .,;:-+–•")
    if leading:
        m = v.leading_noise.match(fold(s))
        if m:
            s = capitalize_first(s[m.end():])
    while True:
        m = v.trailing_noise.search(fold(s))
        if not m or m.start() == 0 and m.end() == 0:
            break
        s = s[: m.start()].rstrip(" .,;:-+–")
        if not m.group(0).strip():
            break
    s = s.strip(" .,;:-+–•")
    if not s or fold(s) in v.label_noise or not re.search(r"\w", s):
        return None
    return s


def _split_label(seg: str) -> tuple[str | None, str]:
    """"Kế hoạch: Quý I/2024" and "Tháng 03/2023 (Gửi KH về Sở Nội vụ)" carry a label."""
    v = _vocab()
    ctx = _Ctx(2000, None, False)
    m = re.match(r"^\s*([^:]{1,80}?)\s*:\s*(\S.*)$", seg)
    if m and _find_dated(fold(m.group(1)), ctx) is None and not v.ongoing.search(fold(m.group(1))):
        return _clean_label(m.group(1)), m.group(2)
    m = re.search(r"\(([^()]*)\)\s*\.?\s*$", seg)
    if m:
        inner = fold(m.group(1))
        if _find_dated(inner, ctx) is None and not v.cond_any.search(inner) and not v.cond_start.search(inner):
            return _clean_label(m.group(1)), seg[: m.start()]
    return None, seg


def _label_before(seg: str, f: str, start: int) -> str | None:
    """Text before the time phrase ("Thực hiện kiểm tra vào Quý IV" -> "Thực hiện kiểm tra")."""
    v = _vocab()
    cut = start
    while True:
        m = v.left_absorb.search(f[:cut])
        if not m or m.end() - m.start() == 0:
            break
        cut = m.start()
    return _clean_label(seg[:cut])


# ---------------------------------------------------------------------------- segments


def _segments(raw: str) -> list[str]:
    """Cut a cell at ";", line breaks, list bullets and sentence ends; keep the order."""
    out: list[str] = []
    for line in re.split(r"[;\n\r]+", raw):
        line = clean(line)
        for bullet in re.split(r"(?:^|(?<=[.:]))\s*[-+•]\s+", line):
            for sent in re.split(r"(?<=\.)\s+(?=[A-ZĐÀ-Ỹ])", bullet):
                if sent.strip(" .,;:"):
                    out.append(sent.strip())
    return out


def _has_date(text: str) -> bool:
    d = _find_dated(fold(text), _Ctx(2000, None, False))
    return d is not None and d.kind in ("date", "month", "quarter")


def _sub_segments(seg: str) -> list[str]:
    """Split "Tháng 11/2023 Khi đơn vị đề nghị" before the event, and "A trước ngày X, B trước
    ngày Y" at the comma, only where both sides carry their own date."""
    pieces: list[str] = []
    parts = re.split(r"\s+(?=(?:Ngay sau khi|Sau khi|Khi)\s)", seg)
    acc = parts[0]
    for p in parts[1:]:
        if _has_date(acc):
            pieces.append(acc)
            acc = p
        else:
            acc = f"{acc} {p}"
    pieces.append(acc)
    out: list[str] = []
    for piece in pieces:
        commas = piece.split(",")
        cur = commas[0]
        for nxt in commas[1:]:
            rest = nxt
            if _has_date(cur) and _has_date(rest):
                out.append(cur)
                cur = nxt
            else:
                cur = f"{cur},{nxt}"
        out.append(cur)
    return [p.strip() for p in out if p.strip(" .,;:")]


def deadline_phrases(raw: str | None) -> list[str]:
    """The phrases of a deadline cell as the parser cuts them, in printed order
    ("Tháng 11/2023 Khi đơn vị đề nghị" → two), so a caller can tell where one ends."""
    if raw is None or not clean(raw):
        return []
    return [p for seg in _segments(raw) for p in _sub_segments(seg)]


def _span_or(ctx: _Ctx, explicit: tuple[date, date] | None) -> tuple[date | None, date | None]:
    if explicit:
        return explicit
    if ctx.span:
        return ctx.span
    if ctx.year:
        return date(ctx.year, 1, 1), date(ctx.year, 12, 31)
    return None, None


def _parse_piece(label: str | None, body: str, ctx: _Ctx, raw: str) -> list[Milestone]:
    v = _vocab()
    f = fold(body)
    fs = f.strip(" .,;:-+")
    if not fs or fs in v.label_noise:
        return []
    lead = len(f) - len(f.lstrip(" .,;:-+"))
    if v.cond_start.match(fs):
        return [Milestone(label, "conditional", None, None, None, raw=raw)]
    if v.reference.match(fs):
        return [Milestone(label, "unknown", None, None, None, raw=raw)]

    rec = next((r for r, pat in v.recurring if pat.search(f)), None)
    dated = _find_dated(f, ctx)
    if v.ongoing.search(f):
        s, e = _span_or(ctx, _explicit_span(f))
        return [Milestone(label, "ongoing", s, e, None, raw=raw)]
    if rec or (ctx.annual_cell and dated is not None and dated.md is not None):
        rec = rec or "annual"
        due = None
        day_month = dated.md if dated and dated.md else None
        if dated is not None and dated.kind == "date" and dated.start is not None and day_month is None:
            day_month = (dated.start.day, dated.start.month)
        if day_month is not None and dated is not None:
            dd, mm = day_month
            due = f"{mm:02d}-{dd:02d}"
            label = label or _label_before(body, f, dated.pos[0])
            s, e = _span_or(ctx, None)
        else:
            s, e = _span_or(ctx, _explicit_span(f))
        return [Milestone(label, "recurring", s, e, rec, due_md=due, raw=raw)]
    listed = _find_list(f, ctx)
    if listed:
        label = label or _label_before(body, f, listed[0].pos[0])
        return [Milestone(label, d.kind, d.start, d.end, None, raw=raw) for d in listed]
    if dated is not None:
        pre = f[: dated.pos[0]]
        label = label or _label_before(body, f, dated.pos[0])
        if v.before_end.search(pre) or v.before_start.search(pre):
            by_start = not v.before_end.search(pre)
            if dated.kind == "date":
                end = dated.end
            elif by_start:
                end = dated.start - timedelta(days=1) if dated.start else None
            else:
                end = dated.end
            return [Milestone(label, "before_date", None, end, None, raw=raw)]
        if dated.kind == "year" and v.open_ended.search(f[dated.pos[1]:]) and dated.end is not None:
            # "Năm 2025 và các năm tiếp theo": from that year to the plan's last year
            end = max(dated.end, ctx.span[1]) if ctx.span else dated.end
            return [Milestone(label, "year_range", dated.start, end, None, raw=raw)]
        return [Milestone(label, dated.kind, dated.start, dated.end, None, raw=raw)]
    if v.cond_any.search(f):
        return [Milestone(label or _clean_label(body[lead:], leading=True), "conditional", None, None, None,
                          raw=raw)]
    # "ngay" (now) and "ngày" (day) fold alike: immediate is matched on the accented text.
    if v.immediate.match(clean(body).lower().strip(" .,;:-+")):
        return [Milestone(label, "immediate", None, None, None, raw=raw)]
    return [Milestone(label, "unknown", None, None, None, raw=raw)]


def _parse_segment(seg: str, ctx: _Ctx) -> list[Milestone]:
    v = _vocab()
    label, body = _split_label(seg)
    fb = fold(body).strip(" .,;:-+")
    if v.cond_start.match(fb):
        return [Milestone(label, "conditional", None, None, None, raw=seg)]
    if v.reference.match(fb):
        return [Milestone(label, "unknown", None, None, None, raw=seg)]
    out: list[Milestone] = []
    for i, piece in enumerate(_sub_segments(body)):
        out.extend(_parse_piece(label if i == 0 else None, piece, ctx, seg))
    return out


def parse_deadlines(
    raw: str | None,
    plan_period: tuple[int, int] | None = None,
    default_year: int | None = None,
) -> list[Milestone]:
    """Parse a deadline cell into milestones, in printed order.

    ``plan_period`` (first, last year) spans ongoing and recurring milestones; ``default_year``
    (else the first plan year) fills a month/quarter/day printed without a year.  A cell with
    text but nothing recognisable gives one ``unknown`` milestone; an empty cell gives ``[]``.
    """
    if raw is None or not clean(raw):
        return []
    span = None
    if plan_period:
        span = (date(int(plan_period[0]), 1, 1), date(int(plan_period[1]), 12, 31))
    year = default_year if default_year is not None else (int(plan_period[0]) if plan_period else None)
    annual = any(r == "annual" and p.search(fold(raw)) for r, p in _vocab().recurring)
    ctx = _Ctx(year, span, annual)

    out: list[Milestone] = []
    for seg in _segments(raw):
        for m in _parse_segment(seg, ctx):
            f = fold(seg).strip()
            is_period_note = m.kind == "year_range" and f.startswith("giai doan")
            if is_period_note and out and out[-1].kind in ("ongoing", "recurring"):
                out[-1] = replace(out[-1], start=m.start, end=m.end)
                continue
            out.append(m)
    known = [m for m in out if m.kind != "unknown"]
    if known:
        return known
    if out:
        return [replace(out[0], label=None, raw=clean(raw))]
    return [Milestone(None, "unknown", None, None, None, raw=clean(raw))]
