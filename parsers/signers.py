"""Signature blocks: the signer's title and name.

A block reads "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / (Đã ký) / Mai Sơn": an
optional "TM. <body>" the signer acts for, one or more titles with their prefixes (KT., Q.,
TL., TUQ., PHÓ …), signature or stamp marks, then the person's name.  Converters give the
block as separate lines or as one table cell ("CHỦ TỊCH Hoàng Quốc Khánh"), so the block is
parsed as one string: titles are read off the front with the office vocabulary of
``parsers/data/signer_titles.yaml``, and what follows is the name.

The title keeps its prefixes and joins its parts with " / "; the "TM." body is left out
(it names the body, not the signer's office).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz

from ._text import clean, fold, load_yaml

__all__ = ["Signature", "parse_signature", "is_mark", "is_person_name", "starts_signature", "name_doubt",
           "office_as_printed", "with_head_prefix", "is_speck", "office_misread", "as_deputy", "office_of"]

#: a line this similar (rapidfuzz ratio, diacritics folded) to an office is a misread title
#: ("IÁM ĐÓC", "PHÓGIÁM ĐỚC"), not a name
OFFICE_LIKE = 80.0

#: a line read by OCR whose letters are this close to an office's deputy ("PHÓ GIÁM ĐỐC"), and
#: closer than to the office itself, is that deputy's title (see :func:`as_deputy`)
DEPUTY_LIKE = 85.0

NAME_WORD = re.compile(r"^[A-ZĐÀ-Ỹ](?:[a-zà-ỹđ]+|[A-ZĐÀ-Ỹ]+)$")


@dataclass
class Signature:
    title: str
    name: str | None
    acting_for: str | None = None


@dataclass(frozen=True)
class _Vocab:
    prefix_re: re.Pattern[str]
    acting_for: frozenset[str]
    office_re: re.Pattern[str]
    marks_re: re.Pattern[str]
    not_name: re.Pattern[str]
    offices_folded: tuple[str, ...]
    surnames: frozenset[str]
    #: each office and its deputy by its letters without diacritics or spaces, when no other has them
    offices_by_letters: dict[str, str]
    offices: tuple[str, ...]
    deputy: str
    signs_for_head: str
    needs_own_office: frozenset[str]


@cache
def _vocab() -> _Vocab:
    data = load_yaml("signer_titles.yaml")
    prefixes = sorted({p.rstrip(".") for p in data["prefixes"]}, key=len, reverse=True)
    offices = sorted(data["offices"], key=len, reverse=True)
    office_alt = "|".join(r"\s+".join(re.escape(w) for w in o.split()) for o in offices)
    deputy = re.escape(data["deputy"])
    words = set(offices) | set(data["not_name_words"])
    titles = [x for o in offices for x in (o, f"{data['deputy']} {o}")]  # each office and its deputy
    by_letters: dict[str, list[str]] = {}
    for title in dict.fromkeys(titles):
        by_letters.setdefault(_letters(title), []).append(title)
    return _Vocab(
        prefix_re=re.compile(rf"({'|'.join(re.escape(p) for p in prefixes)})\s*\.\s*"),
        acting_for=frozenset(p.rstrip(".") for p in data["acting_for"]),
        office_re=re.compile(rf"(?:{deputy}\s+)?(?:{office_alt})(?![A-ZĐÀ-Ỹa-zà-ỹđ])"),
        marks_re=re.compile(r"^(?:" + "|".join(data["marks"]) + r")$", re.I),
        not_name=re.compile(r"(?<!\w)(?:" + "|".join(r"\s+".join(re.escape(x) for x in w.split())
                                                     for w in sorted(words, key=len, reverse=True)) + r")(?!\w)"),
        offices_folded=tuple(fold(t) for t in titles),
        surnames=frozenset(clean(n).lower() for n in data.get("surnames") or ()),
        offices_by_letters={k: os[0] for k, os in by_letters.items() if len(os) == 1},
        offices=tuple(offices),
        deputy=data["deputy"],
        signs_for_head=data["signs_for_head"],
        needs_own_office=frozenset(p.rstrip(".") for p in data.get("needs_own_office") or ()),
    )


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", fold(text))


def office_as_printed(line: str) -> str:
    """A title line read by OCR that has an office's letters but not its diacritics or spaces
    ("PHÓGIÁM ĐỚC", "GIÁM ĐÓC"), spelled as the office (its prefix kept); any other line as it is.
    The offices are a closed vocabulary (parsers/data/signer_titles.yaml) and the letters must
    all be there, so no other office or word can be made into one."""
    v = _vocab()
    t = _strip(line)
    prefix = v.prefix_re.match(t)
    head = t[:prefix.end()] if prefix else ""
    office = v.offices_by_letters.get(_letters(t[len(head):]))
    return f"{head}{office}" if office else line


def office_misread(line: str) -> str | None:
    """The office (no deputy) a title line read by OCR names with a letter lost or misread
    ("GIÁM ĐÓ", "VI. GIÁM ĐỐC" for a handwritten "KT."): the office its letters are closest to,
    at :data:`OFFICE_LIKE` or closer; else None.  Alone this is no title: see :func:`as_deputy`."""
    got = _letters(line)
    if not got:
        return None
    score, office = max((fuzz.ratio(got, _letters(o)), o) for o in _vocab().offices)
    return office if score >= OFFICE_LIKE else None


def as_deputy(line: str, office: str) -> str | None:
    """The title of ``office``'s deputy ("PHÓ GIÁM ĐỐC") when a line read by OCR under that
    office reads as it with a letter or two lost or misread ("HÓ GIÁM ĐỐC", "PHÓ CIẮM ĐỐC",
    "⁄RHÓ GIẢM ĐỐC": a stamp over the second line of "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"), else None.

    Its letters must be within :data:`DEPUTY_LIKE` of the deputy's and closer to them than to
    the office's own, so the office read a second time ("GIÁM ĐỐC") is no deputy."""
    deputy = f"{_vocab().deputy} {office}"
    got = _letters(line)
    to_deputy = fuzz.ratio(got, _letters(deputy))
    return deputy if to_deputy >= DEPUTY_LIKE and to_deputy > fuzz.ratio(got, _letters(office)) else None


def office_of(title: str) -> str | None:
    """The head's office a title's last part names ("KT. GIÁM ĐỐC" → "GIÁM ĐỐC"), or None when
    that part is a deputy's or no office."""
    v = _vocab()
    part = _strip(title.split(" / ")[-1])
    prefix = v.prefix_re.match(part)
    rest = part[prefix.end():] if prefix else part
    return rest if rest in v.offices else None


def with_head_prefix(title: str) -> str:
    """A deputy's block read without its prefix ("GIÁM ĐỐC / PHÓ GIÁM ĐỐC": a signature over the
    "KT.") with the prefix the deputy of that office must print (``signs_for_head``); any other
    title as it is."""
    v = _vocab()
    parts = title.split(" / ")
    if len(parts) == 2 and not v.prefix_re.match(parts[0]) and parts[1] == f"{v.deputy} {parts[0]}":
        return f"{v.signs_for_head}. {title}"
    return title


def _strip(text: str) -> str:
    return clean(re.sub(r"\*+", " ", text or "")).strip(" :")


def is_mark(text: str) -> bool:
    """A signature or stamp mark ("(Đã ký)", "[daky]", "Ký bởi: …") that is no part of the block."""
    t = _strip(text)
    return not t or bool(_vocab().marks_re.match(t))


def is_person_name(text: str) -> bool:
    """2-5 capitalised words (some documents print the name in capitals) that are no office."""
    t = _strip(text)
    words = t.split()
    if not (2 <= len(words) <= 5 and all(NAME_WORD.match(w) for w in words)):
        return False
    if len({w.isupper() for w in words}) > 1:  # "PHÁP CHẾ Trần Văn Bình": a unit's tail and a name
        return False
    return not _vocab().not_name.search(t.upper()) and not _office_like(t)


def _office_like(text: str) -> bool:
    """An office misread by OCR ("IÁM ĐÓC" for GIÁM ĐỐC) that would pass for a name."""
    f = fold(text)
    return any(fuzz.ratio(f, o) >= OFFICE_LIKE for o in _vocab().offices_folded)


#: a line read by OCR with no more letters than this is a speck of a stamp or a signature
SPECK_LETTERS = 3


def is_speck(text: str) -> bool:
    """A few strokes of a stamp or a signature read as characters ("e.", "zZ", "+4", "5%")."""
    return sum(ch.isalpha() for ch in text) <= SPECK_LETTERS


def name_doubt(name: str) -> str | None:
    """Why a name read by OCR may have lost or misread a part, or None: a Vietnamese name starts
    with a family name of parsers/data/signer_titles.yaml ("Văn Phúc" lost its "Hà" under the
    stamp) and has three words or more ("Hoàng Anh" for "Lê Hoàng Anh")."""
    words = _strip(name).split()
    if not words or words[0].lower() not in _vocab().surnames:  # with its tone: "Tà" is no "Tạ"
        return "no family name first"
    if len(words) < 3:
        return "two words"
    return None


def title_line_doubt(line: str) -> str | None:
    """Why a further line of a signature block read by OCR may not be the title as printed, or
    None.  Each line of a title names an office ("PHÓ GIÁM ĐỐC", "GIÁM ĐỐC SỞ Y TẾ"), maybe
    after a prefix, or the body the signer acts for ("TM. ỦY BAN NHÂN DÂN"): a line that is
    neither ("PHÓGIÁM ĐỚC", "CHÁNH" with "VĂN PHÒNG" lost, "TÁM ĐÓC SỞ Y TẾ") is a misreading."""
    t = _strip(line)
    v = _vocab()
    prefix = v.prefix_re.match(t)
    if prefix and prefix.group(1) in v.acting_for:
        return None
    return "no office" if parse_signature(t) is None else None


def title_shape_doubt(title: str) -> str | None:
    """Why a title read by OCR cannot be the whole title printed, or None: a last line whose
    prefix puts the signer's own office under it (``needs_own_office``: "TL. GIÁM ĐỐC" with
    "CHÁNH VĂN PHÒNG" under the stamp), or a deputy's office with no line above it ("PHÓ GIÁM
    ĐỐC" whose "KT. GIÁM ĐỐC" the signature hid: a deputy signs for the head)."""
    v = _vocab()
    parts = [_strip(p) for p in title.split(" / ") if _strip(p)]
    if not parts:
        return None
    last = v.prefix_re.match(parts[-1])
    if last and last.group(1) in v.needs_own_office:
        return "the signer's own office lost"
    if len(parts) == 1 and parts[0].startswith(f"{v.deputy} ") and v.signs_for_head in v.needs_own_office:
        return "a deputy's title without the head's line"
    return None


#: Unread ink (``extractors.model.Line.unread_ink``) beside a title line above which a part
#: of the title is taken as lost.  Measured on the 20 real scans (tests/fixtures/realscans, 200
#: dpi): left of a "GIÁM ĐỐC" whose "KT." a signature covered 0.14–0.29, beside a bare one 0–0.07
#: (stamp ink); under a title whose "PHÓ GIÁM ĐỐC" a stamp covered 0.23–0.26, under a bare one,
#: where the signature space begins, 0.01–0.08.
UNREAD_LEFT, UNREAD_BELOW = 0.10, 0.15


def title_ink_doubt(title: str, unread_ink: tuple[float, float] | None, lines: int) -> str | None:
    """Why a title read by OCR may lack a part that is printed but was not read, or None.

    A title block is a prefix and an office, maybe over a second line ("KT. GIÁM ĐỐC / PHÓ GIÁM
    ĐỐC"); a signature or a stamp over the prefix or the second line leaves a well-formed, confident
    "GIÁM ĐỐC" — wrong.  The evidence is ink no word accounts for: left of a title read without a
    prefix, or under a title read as one line."""
    if unread_ink is None:
        return None
    left, below = unread_ink
    if left > UNREAD_LEFT and not _vocab().prefix_re.match(_strip(title)):
        return "unread ink before the title"
    if below > UNREAD_BELOW and lines == 1:
        return "unread ink under the title"
    return None


def starts_signature(text: str) -> bool:
    """Does this line open a signature block (a prefix or an office in capitals at its start)?"""
    t = _strip(text)
    v = _vocab()
    return bool(v.prefix_re.match(t) or v.office_re.match(t))


def parse_signature(text: str) -> Signature | None:
    """Parse a signature block given as one string; None when it opens with no title.

    >>> parse_signature("TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH Mai Sơn")
    Signature(title='KT. CHỦ TỊCH / PHÓ CHỦ TỊCH', name='Mai Sơn', acting_for='ỦY BAN NHÂN DÂN')
    """
    v = _vocab()
    s = _strip(text)
    pos = 0
    parts: list[str] = []
    acting = None
    while pos < len(s):
        prefix = v.prefix_re.match(s, pos)
        p_code = prefix.group(1) if prefix else None
        at = prefix.end() if prefix else pos
        office = v.office_re.match(s, at)
        if office:
            tail = _unit_words(s, office.end())
            title = clean(s[office.start():tail])
            parts.append(f"{p_code}. {title}" if p_code else title)
            pos = tail
            while pos < len(s) and s[pos] in " /":
                pos += 1
            continue
        if p_code in v.acting_for:
            nxt = _next_title(s, at)
            acting = clean(s[at:nxt]) or None
            pos = nxt
            continue
        break
    if not parts:
        return None
    rest = s[pos:].strip(" /")
    name = rest if rest and is_person_name(rest) else None
    return Signature(title=" / ".join(parts), name=name, acting_for=acting)


def _next_title(s: str, start: int) -> int:
    """Where the next prefix or office begins after ``start`` (or the end)."""
    v = _vocab()
    best = len(s)
    for rx in (v.prefix_re, v.office_re):
        for m in rx.finditer(s, start):
            if m.start() > start and (m.start() == 0 or not s[m.start() - 1].isalpha()):
                best = min(best, m.start())
                break
    return best


def _unit_words(s: str, start: int) -> int:
    """End of the unit an office heads ("VỤ TRƯỞNG VỤ PHÁP CHẾ"): words in capitals up to the
    next prefix, office or the person's name."""
    v = _vocab()
    pos = start
    for m in re.finditer(r"\S+", s[start:]):
        w = m.group(0)
        abs_start = start + m.start()
        if v.prefix_re.match(s, abs_start) or v.office_re.match(s, abs_start):
            break
        if not (w.isupper() and any(c.isalpha() for c in w)):
            break
        if is_person_name(s[abs_start:]):
            break  # a name in capitals
        pos = start + m.end()
    return pos
