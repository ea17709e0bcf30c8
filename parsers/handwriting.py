"""Numbers and days written by hand into the printed blanks of a header: judged, never guessed.

A signed copy gets its number and day by hand after printing ("Số: 2242 /SYT-NVY", "ngày 11
tháng 12 năm 2017").  OCR reads such digits confidently wrong often enough ("352" for 359,
"2442" for 2119) that a value is only published when the evidence for it is good:

- its own confidence: the engine's confidence in the word that holds the digits (a line's mean
  is diluted by the printed words around it), at least :data:`MIN_DIGIT_CONF`;
- its shape: only digits (a "#", "x", "†" or letter inside the number is a misread stroke), of a
  plausible length;
- plausibility: a day 1–31 (and a real date with its month and year), a month 1–12, a year in
  [:data:`MIN_YEAR`, the latest plausible year] and not after the plan's own dates
  (:func:`not_after`; parsers/metadata.py finds those dates).

Where a second recogniser read the blank too (``Line.rereads``, extractors/digit_reader.py),
the two readings are combined (:func:`second_opinion`): the same digits from both make the value
confident even when the first reading's confidence was low; different digits make it doubtful
even when the first was confident.  The second recogniser reads each blank in two views (the
token's box, and the whole blank between the printed words cut to its ink); where the first
reading is no number at all (a stroke read as a letter: "JU", "0x") or an impossible one
("2077"), its reading stands alone only when both views read the same digits, each surely
enough, and no fewer digits than the first reading saw; where the first reading's digits are
unsure and differ, only both views very sure of as many digits overrule it.

A third reader, a classifier trained on handwritten digits (view "glyphs",
extractors/glyph_digits.py), is heard only for a value still doubtful after that
(:func:`with_glyphs`): it and another reader reading the same digits publish them.

Otherwise the value is None and the reading says it is doubtful, so the caller names the field
in ``low_confidence_fields``.  A lost day keeps the printed month and year (precision "month"),
and unsure digits keep the printed symbol beside them ("Số: 179 /KH-SYT" → symbol "KH-SYT"),
which is judged by its own words' confidence (:attr:`NumberReading.symbol_doubtful`), not the digits'.
Text-layer lines (no OCR words) are typed text and are trusted as read.

Pure functions on strings and (text, confidence) words: no OCR here, and nothing about which
extractor produced the line beyond the words' confidences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Protocol

from ._text import load_yaml

MIN_DIGIT_CONF = 80.0  # below this a digit word is not published
#: a second reading agreeing with the first lifts it only with at least this confidence
MIN_AGREEING_CONF = 80.0
#: a second reading less sure than this is no reading (the first stands)
MIN_SECOND_CONF = 50.0
#: a second reading alone (the first saw no digits, or impossible ones) is published only when
#: its two views read the same digits, both at least MIN_SECOND_CONF and one at least this
#: sure; None: never (the first and the second reading must agree)
ALONE_CONF: float | None = 60.0
#: unsure digits of the first reading give way to different ones only when both views of the
#: second read as many digits, each at least this sure
OVERRULE_CONF = 90.0
#: a second reading alone may hold at most this many digits more than the marks the first
#: reading saw in the blank (two strokes of "11" read as one "U"); more is ink from outside the
#: blank ("/" of the symbol read as "1" or "7")
MORE_DIGITS_THAN_GLYPHS = 1
#: the classifier reading other digits at least this sure makes a value that only the second
#: recogniser read doubtful (:func:`with_glyphs`; as sure as a second reading must be to count:
#: on the real scans, fed askew, as JPEGs and at 150 dpi, 50 and 80 gave the same right fields,
#: and 50 also flagged zmQ_2276's "2246" at 150 dpi, where the classifier read "2276" at 77)
GLYPHS_VETO_CONF = 50.0
MIN_YEAR = 1945
MAX_NUMBER_DIGITS = 6
#: the reasons of a value that is published as trusted
TRUSTED = ("ok", "blank", "agreed", "second_reader", "glyphs_agree", "glyphs_shape")
#: the printed symbol beside the handwritten number is judged by its own words: below this it is
#: flagged (on the real scans correct symbols read 70-92 on their own words; the two below 60
#: were glued into one word with the handwriting, "Số:22#2/SYT-NVY" at 50)
MIN_SYMBOL_CONF = 60.0


class _Word(Protocol):
    text: str
    conf: float


class _Reread(Protocol):
    field: str
    text: str
    conf: float
    view: str


@dataclass(frozen=True)
class NumberReading:
    """The document number of a "Số: N/SYMBOL" line."""

    number: str | None  # digits as printed/written ("05" keeps its zero); None when unsure or blank
    symbol: str | None  # the document symbol as read ("KH-SYT", "SYT-NVY", "KH-SYT-CĐN")
    doubtful: bool  # True: the caller flags doc_number in low_confidence_fields
    reason: str  # "ok", "blank", "not_digits", "low_confidence", "too_long"
    #: the lowest OCR confidence of the words the symbol was read from (None: typed text)
    symbol_conf: float | None = None

    @property
    def symbol_doubtful(self) -> bool:
        """The symbol itself is unsure (its own words below :data:`MIN_SYMBOL_CONF`): the caller
        flags doc_symbol, whatever the digits are."""
        return self.symbol_conf is not None and self.symbol_conf < MIN_SYMBOL_CONF


@dataclass(frozen=True)
class DateReading:
    """The issue date of a "…, ngày D tháng M năm Y" line."""

    value: date | None  # the known part: day precision, or the 1st of the month / of January
    precision: str | None  # "day", "month", "year" or None
    doubtful: bool  # True: a part was written but could not be read with confidence
    reason: str  # "ok", or what was lost: "day:low_confidence", "year:implausible" ...


# "Số: 2242 /SYT-NVY", "Số:22#2/SYT-NVY", "Số: /KH-SYT", "Số 15/KH-SYT-CĐN"; the symbol is
# capitals and dashes (OCR may leave spaces around the dashes: "SYT- NVY")
# OCR'd forms of a handwritten one: "số :2 2 /SYT-KHTC", "Số:JU /GM-SYT", "só::29+É /TB -SYT"
# (a case-less "s", any "o"/"e" of "Số" but the "ơ" of "Sở": "sẻ: 2Ö /SyT-NVD", capitals and
# strokes in the blank, never a lower-case word); in the symbol, capitals and the letters whose
# small form has the capital's shape, which OCR reads in either case ("SyT" for "SYT")
#: a document symbol as OCR reads it: codes in capitals, some letters read in their small shape
_SYMBOL = r"(?P<sym>[A-ZĐ][A-ZĐcosuvwxyz]{0,7}(?:\s*-\s*[A-ZĐ0-9][A-ZĐ0-9cosuvwxyz]{0,7}){1,3})\b"
_NUMBER_LINE = re.compile(
    r"^\W{0,3}[Ss][ốoóòỏõọôồổỗộOÓÒỎÕỌÔỐỒỔỖỘeéèẻẽẹêếềểễệ]\s*[:.]*\s*(?P<num>(?:(?![a-zđà-ỹ]{2}).){0,14}?)\s*/\s*"
    + _SYMBOL
)
_SYMBOL_ALONE = re.compile(r"^\W{0,2}" + _SYMBOL + r"\W{0,2}$")
_DATE = re.compile(r"ngày\s*(?P<d>.*?)\s*tháng\s*(?P<m>.*?)\s*năm\s*(?P<y>[^\s.,;]*)", re.I)


def _joined(text: str, words: Sequence[_Word] | None) -> str:
    """The text the patterns run on: the OCR words joined by spaces (so that a match's span maps
    to the words), or the line's text when there are no OCR words."""
    return text if words is None else " ".join(w.text for w in words)


def _span_conf(span: tuple[int, int], words: Sequence[_Word] | None) -> float | None:
    """The lowest confidence of the OCR words overlapping ``span`` of the joined text; None
    without OCR words (typed text)."""
    if words is None:
        return None
    a, b = span
    if b <= a:  # an empty token: the words around it say nothing about it
        return None
    confs, pos = [], 0
    for w in words:
        start, end = pos, pos + len(w.text)
        if start < b and a < end:
            confs.append(w.conf)
        pos = end + 1
    return min(confs) if confs else 0.0


def judge_digits(token: str, conf: float | None, max_digits: int) -> tuple[str | None, str]:
    """Digits of a handwritten (or printed) token, or None with the reason it is not trusted."""
    raw = token.strip().strip(".,:;")
    if not raw or set(raw) <= set(". …_"):
        return None, "blank"
    compact = raw.replace(" ", "").replace(".", "")
    if not compact.isdigit():
        return None, "not_digits"
    if len(compact) > max_digits:
        return None, "too_long"
    if conf is not None and conf < MIN_DIGIT_CONF:
        return None, "low_confidence"
    return compact, "ok"


@cache
def _digit_shapes() -> dict[str, str]:
    """Character → the digit a pen's stroke read as it stands for (parsers/data/digit_shapes.yaml)."""
    return {ch: digit for digit, shapes in load_yaml("digit_shapes.yaml").items() for ch in shapes}


def shape_digits(token: str) -> str:
    """A first reading made only of the letters Tesseract gives handwritten digits ("JÍ" → "11",
    "b" → "6", "/Í" → "11"), as those digits; "" when any character is not such a letter — a
    digit too: "J3Í" is Tesseract's own reading of a digit, which the classifier may share
    (zPs_171's "171" fed askew: "J3Í" and the classifier's "131") — and for one stroke alone
    ("|", "I": the edge of a printed letter beside an empty blank reads so too)."""
    shapes = _digit_shapes()
    chars = [ch for ch in token if not ch.isspace()]
    out = [shapes.get(ch, "") for ch in chars]
    if not chars or not all(out) or (len(chars) == 1 and out[0] == "1"):
        return ""
    return "".join(out)


def _digits_of(token: str) -> str:
    """A first reading's token as the digits the other readers are compared with ("2 2" → "22",
    "1.200" → "1200"); not all digits when it holds a stroke read as a letter."""
    return token.replace(" ", "").replace(".", "").strip(".,:;")


def _stable(second: _Reread | None, other: _Reread | None) -> str | None:
    """The digits both views of the second recogniser read, each at least
    :data:`MIN_SECOND_CONF` sure; None when they differ, one is unsure, or there is one view."""
    if second is None or other is None or not second.text or second.text != other.text:
        return None
    return second.text if min(second.conf, other.conf) >= MIN_SECOND_CONF else None


def second_opinion(first: tuple[str | None, str], token: str, second: _Reread | None,
                   other: _Reread | None = None, max_digits: int = MAX_NUMBER_DIGITS) -> tuple[str | None, str]:
    """Combine the first reading's judged digits ``first`` (value, reason) of ``token`` with a
    second recogniser's reading of the same blank (``second``: the token's box; ``other``: the
    whole blank, another view).

    - same digits: trusted if the second is at least :data:`MIN_AGREEING_CONF` sure ("agreed"),
      whatever the first's own confidence;
    - different digits: doubtful ("disagree"), however confident either was — unless the first
      was unsure ("low_confidence") and both views read as many other digits at least
      :data:`OVERRULE_CONF` sure ("second_reader");
    - the first read no digits (a stroke read as a letter) or impossible ones ("implausible"):
      the second alone when both views read the same digits (:func:`_stable`), one of them at
      least :data:`ALONE_CONF` sure, not fewer than the digits the first saw ("22#2" holds
      three: a reading of two missed some) and at most :data:`MORE_DIGITS_THAN_GLYPHS` more than
      the marks it saw; else doubtful;
    - the second saw nothing, or is less than :data:`MIN_SECOND_CONF` sure: the first stands.
    """
    value, reason = first
    if second is None or not second.text or second.conf < MIN_SECOND_CONF or reason in ("blank", "too_long"):
        return value, reason
    digits = _digits_of(token)
    stable = _stable(second, other)
    if digits.isdigit() and second.text.isdigit() and reason != "implausible":
        if int(digits) != int(second.text):
            if (reason == "low_confidence" and stable is not None and len(stable) == len(digits)
                    and min(second.conf, other.conf) >= OVERRULE_CONF):
                return stable, "second_reader"
            return None, "disagree"
        if value is not None or second.conf >= MIN_AGREEING_CONF:
            return digits, "agreed" if value is None else reason
        return value, reason
    glyphs = [c for c in token if not c.isspace()]
    seen_digits = sum(c.isdigit() for c in glyphs)
    if (ALONE_CONF is not None and stable is not None and max(second.conf, other.conf) >= ALONE_CONF
            and seen_digits <= len(stable) <= min(max_digits, len(glyphs) + MORE_DIGITS_THAN_GLYPHS)):
        return stable, "second_reader"
    return value, reason


_BLANK_NAMES = {"d": "day", "m": "month", "y": "year"}  # the date's parts a second recogniser reads


def with_glyphs(judged: tuple[str | None, str], token: str, token_conf: float | None,
                second: _Reread | None, other: _Reread | None, glyphs: _Reread | None,
                max_digits: int = MAX_NUMBER_DIGITS) -> tuple[str | None, str]:
    """A value still doubtful after :func:`second_opinion`, given by the handwritten-digit
    classifier's reading of its blank (``glyphs``, extractors/glyph_digits.py) when another
    recogniser read the same digits: the first reading's token or a view of the second
    recogniser.  A recogniser that surely read other digits (the first reading at least
    :data:`MIN_DIGIT_CONF`, a view of the second at least :data:`MIN_AGREEING_CONF`) is
    outvoted only by one as sure agreeing with the classifier: two against one.

    The classifier is trained on handwriting, the other two on print, and it reads each mark
    alone where they read the line: two of them reading the same digits is evidence that one
    recogniser, however sure, is not (it reads 33 of the 39 handwritten blanks of the real scans
    right, but its wrong readings are as sure as its right ones).  It never stands alone, and
    it makes a trusted value doubtful in one case only: a value that only the second recogniser
    read (``second_reader``: its two views, both print readers of the same pixels) when the
    classifier surely read other digits that could fill the blank — one reader against one
    (9uV_2275's day "18" at 150 dpi: both views "19", the classifier "1" at 99.99; pAs_11's
    month "08", where it read "1114" for two digits, stands)."""
    value, reason = judged
    if glyphs is None or reason in ("blank", "too_long"):
        return judged
    read = glyphs.text
    if (value is not None and reason == "second_reader" and read.isdigit() and len(read) <= max_digits
            and glyphs.conf >= GLYPHS_VETO_CONF and int(read) != int(value)):
        return None, "glyphs_disagree"
    if value is not None or not read.isdigit() or len(read) > max_digits:
        return judged
    digits = _digits_of(token)
    first_sure = token_conf is None or token_conf >= MIN_DIGIT_CONF
    readings = [(digits, first_sure)] if digits.isdigit() else []
    readings += [(r.text, r.conf >= MIN_AGREEING_CONF) for r in (second, other) if r is not None and r.text.isdigit()]
    agreeing = [(text, sure) for text, sure in readings if int(text) == int(read)]
    if any(int(text) != int(read) and sure for text, sure in readings) and not any(sure for _, sure in agreeing):
        return judged
    if agreeing:
        return max((text for text, _ in agreeing), key=len), "glyphs_agree"
    # the first reading's letters are the strokes of the same digits ("JÍ" for a pen's "11"),
    # the classifier sure of them, and no reader surely read other digits
    if glyphs.conf >= MIN_AGREEING_CONF and shape_digits(token) == read:
        return read, "glyphs_shape"
    return judged


def _second(rereads: Sequence[_Reread] | None, field: str, view: str = "token") -> _Reread | None:
    return next((r for r in rereads or () if r.field == field and getattr(r, "view", "token") == view), None)


def _views(rereads: Sequence[_Reread] | None, field: str) -> tuple[_Reread | None, _Reread | None]:
    return _second(rereads, field), _second(rereads, field, "blank_ink")


def _numbered(judged: tuple[str | None, str]) -> tuple[str | None, str]:
    """A judged document number, "implausible" when it is 0: documents are numbered from 1
    (asked of the first reading, so that the second may still read the blank, and of the
    second's)."""
    value, reason = judged
    return (None, "implausible") if value is not None and int(value) == 0 else (value, reason)


def read_number(text: str, words: Sequence[_Word] | None = None,
                rereads: Sequence[_Reread] | None = None) -> NumberReading | None:
    """The number and symbol of a "Số: …/SYMBOL" line; None when the line is no such line."""
    m = _NUMBER_LINE.search(_joined(text, words))
    if not m:
        return None
    symbol, symbol_conf = _symbol_of(m.group("sym")), _span_conf(m.span("sym"), words)
    alone = _second(rereads, "symbol", "alone")
    read_alone = _SYMBOL_ALONE.match(alone.text) if alone is not None else None
    if (read_alone and symbol_conf is not None and symbol_conf < MIN_SYMBOL_CONF
            and alone.conf >= MIN_SYMBOL_CONF and alone.conf > symbol_conf):
        # the symbol glued to the handwriting, read again alone: that reading has its own confidence
        symbol, symbol_conf = _symbol_of(read_alone.group("sym")), alone.conf
    token = m.group("num") or ""
    conf = _span_conf(m.span("num"), words)
    value, reason = _numbered(judge_digits(token, conf, MAX_NUMBER_DIGITS))
    value, reason = _numbered(second_opinion((value, reason), token, *_views(rereads, "number")))
    value, reason = _numbered(with_glyphs((value, reason), token, conf, *_views(rereads, "number"),
                                          _second(rereads, "number", "glyphs")))
    return NumberReading(value, symbol, doubtful=reason not in TRUSTED, reason=reason, symbol_conf=symbol_conf)


def _symbol_of(read: str) -> str:
    """A symbol as read, its dashes closed up and its letters in capitals."""
    return re.sub(r"\s*-\s*", "-", read).upper()


def read_date(text: str, words: Sequence[_Word] | None = None, latest: date | None = None,
              rereads: Sequence[_Reread] | None = None) -> DateReading | None:
    """The date of a "ngày … tháng … năm …" line, what could be read of it; None when the line
    has no such phrase.  ``latest``: no issue date can be after it (the extraction date, or the
    plan's own first date)."""
    m = _DATE.search(_joined(text, words))
    if not m:
        return None
    latest_year = (latest or date.today()).year
    lost: list[str] = []

    def part(name: str, lo: int, hi: int, max_digits: int) -> int | None:
        token = m.group(name)
        conf = _span_conf(m.span(name), words)
        value, reason = judge_digits(token, conf, max_digits)
        if value is not None and not lo <= int(value) <= hi:
            value, reason = None, "implausible"  # the second reader may still read it
        views = _views(rereads, _BLANK_NAMES[name])
        if reason == "blank" and any(v is not None and v.text for v in views):
            # marks where the first reading saw none: the day of zPs_171 fed askew, read "" and
            # by the second recogniser "1".  (Not for the number: beside its "/" the second
            # reads "1" or "7" in the empty blanks of unsigned plans.)
            reason = "unread"
        value, reason = second_opinion((value, reason), token, *views, max_digits=max_digits)
        value, reason = with_glyphs((value, reason), token, conf, *views,
                                    _second(rereads, _BLANK_NAMES[name], "glyphs"), max_digits)
        if value is None:
            if reason != "blank":
                lost.append(f"{name}:{reason}")
            return None
        n = int(value)
        if not lo <= n <= hi:
            lost.append(f"{name}:implausible")
            return None
        return n

    year = part("y", MIN_YEAR, latest_year, 4)
    month = part("m", 1, 12, 2)
    day = part("d", 1, 31, 2)
    names = {"d": "day", "m": "month", "y": "year"}
    reason = ",".join(f"{names[x.split(':')[0]]}:{x.split(':')[1]}" for x in lost) or "ok"
    if year is None:
        return DateReading(None, None, bool(lost), reason)
    if month is None:
        return DateReading(date(year, 1, 1), "year", bool(lost), reason)
    if day is not None:
        try:
            value = date(year, month, day)
        except ValueError:  # 31 tháng 4
            return DateReading(date(year, month, 1), "month", True, "day:implausible")
        if latest is not None and value > latest:
            kept, precision = not_after(value, "day", latest)
            return DateReading(kept, precision, True, "day:after_latest")
        return DateReading(value, "day", bool(lost), reason)
    return DateReading(date(year, month, 1), "month", bool(lost), reason)


_COARSER = {"day": "month", "month": "year", "year": None}


def _start_of(value: date, precision: str) -> date:
    return {"day": value, "month": value.replace(day=1), "year": value.replace(month=1, day=1)}[precision]


def not_after(value: date | None, precision: str | None, latest: date) -> tuple[date | None, str | None]:
    """What of an issue date can stand when the document's own dates say it was issued on or
    before ``latest``: the date itself, else its month, else its year, else nothing (a part whose
    earliest day is after ``latest`` is impossible).  "28/12/2024" against 15/12/2024 keeps
    December 2024; against 30/11/2024 it keeps 2024; against 2023 nothing."""
    while value is not None and precision is not None and _start_of(value, precision) > latest:
        precision = _COARSER[precision]
    if value is None or precision is None:
        return None, None
    return _start_of(value, precision), precision


class _Unit(Protocol):
    text: str
    words: Sequence[_Word] | None
    rereads: Sequence[_Reread] | None


def judge_header(units: Sequence[_Unit], latest: date | None = None
                 ) -> tuple[bool, NumberReading | None, DateReading | None]:
    """For the header units of a document (lines in reading order, with OCR words or None):
    whether the header was OCR'd, and the judged number and date of its first OCR'd "Số:" line
    and first OCR'd date line.  Typed headers (no words) are left to the metadata parser."""
    ocr = [u for u in units if u.words is not None]
    number = next((r for u in ocr if (r := read_number(u.text, u.words, u.rereads)) is not None), None)
    when = next((r for u in ocr if (r := read_date(u.text, u.words, latest, u.rereads)) is not None), None)
    return bool(ocr), number, when
