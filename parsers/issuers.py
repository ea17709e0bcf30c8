"""The issuing body of a document: its name as printed, its level and its province.

A Vietnamese header prints the issuer in capitals above "Số: …", often under its parent
("UBND TỈNH HÒA BÌNH / SỞ Y TẾ", "BỘ Y TẾ / CỤC QUẢN LÝ DƯỢC", "SỞ Y TẾ / THANH TRA SỞ").
The agency lines are joined and cut where a head noun of ``parsers/data/issuers.yaml`` opens
a new body; the last body is the issuer.  Its level follows from the heads of the chain (a
Cục of a Bộ is central, a Sở is a province's department, a People's Committee is province
level when its place is a province), and the province from the places printed in the chain;
a central body has none.

Names are normalised, not rewritten: the spelling the document itself prints in mixed case
("Bộ Văn hóa, Thể thao và Du lịch") is preferred over a rule-made casing of the capitals.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from ._text import TONE_MARKS, clean, load_yaml, old_style_tones, strip_diacritics
from .provinces import canonical_province
from .units import registry_spelling

__all__ = ["Issuer", "parse_issuer", "issuer_from_name", "strip_motto", "LEVELS"]

LEVELS = ("central", "province", "department", "other")


@dataclass
class Issuer:
    name: str
    level: str | None
    province: str | None
    parents: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Vocab:
    heads: list[tuple[str, str]]          # (head, level), longest first
    glue: frozenset[str]
    school_types: tuple[str, ...]
    place_types: tuple[str, ...]
    city_form: str
    motto_re: re.Pattern[str]


@cache
def _vocab() -> _Vocab:
    data = load_yaml("issuers.yaml")
    heads = sorted(((h["head"], h["level"]) for h in data["heads"]), key=lambda h: -len(h[0]))
    motto = "|".join(r"\s*".join(re.escape(w) for w in m.split()) for m in data["motto"])
    return _Vocab(heads=heads, glue=frozenset(data["head_glue_before"]),
                  school_types=tuple(data["school_types"]), place_types=tuple(data["place_types"]),
                  city_form=data["province_city_form"], motto_re=re.compile(motto, re.I))


def _low(text: str) -> str:
    return old_style_tones(clean(text)).lower()


def strip_motto(text: str) -> str:
    """Remove the national motto (printed beside the agency) and decoration rules."""
    t = _vocab().motto_re.sub(" ", clean(text))
    t = re.sub(r"[-–—_=*]{3,}", " ", t)
    return clean(t)


def _head_at(words: list[str], i: int) -> tuple[str, str] | None:
    """The head (and its level) that starts at word i, if a new body starts there."""
    v = _vocab()
    if i > 0 and words[i - 1] in v.glue:
        return None
    rest = " ".join(words[i:])
    for head, level in v.heads:
        if rest == head or rest.startswith(head + " ") or rest.startswith(head + ","):
            if head == "trường" and not any(rest[len(head) + 1:].startswith(s) for s in v.school_types):
                continue
            return head, level
    return None


def _has_tone(word: str) -> bool:
    """Does a word carry a Vietnamese tone mark (OCR loses them; it does not invent them)?"""
    return any(c in TONE_MARKS for c in unicodedata.normalize("NFD", word))


def _repair(words: list[str]) -> list[str]:
    """Restore the accents OCR lost on head nouns and place types ("SƠ Y TE" → "SỞ Y TE"): a run
    of words whose diacritic-free form is a head's takes the head's spelling, in the printed case."""
    v = _vocab()
    vocab = sorted({h for h, _ in v.heads} | set(v.place_types), key=lambda h: -len(h.split()))
    folded = [strip_diacritics(w).lower().strip(",") for w in words]
    out = list(words)
    i = 0
    while i < len(words):
        for h in vocab:
            hw = h.split()
            if folded[i:i + len(hw)] == [strip_diacritics(x) for x in hw] and not any(
                    _has_tone(w) and _low(w).strip(",") != x for w, x in zip(words[i:i + len(hw)], hw, strict=True)):
                # (a word printed with a tone mark is as printed: "QUẢN" is not "QUẬN")
                for k, x in enumerate(hw):
                    orig = out[i + k]
                    tail = orig[len(orig.rstrip(",")):]
                    cased = x.upper() if orig.isupper() else (x[:1].upper() + x[1:] if orig[:1].isupper() else x)
                    out[i + k] = cased + tail
                i += len(hw) - 1
                break
        i += 1
    return out


def split_bodies(text: str) -> list[tuple[str, str | None]]:
    """Cut joined agency lines into bodies: [(printed text, head level)], parent first."""
    printed = _repair(strip_motto(text).split())
    words = [_low(w).strip(",") for w in printed]
    cuts: list[tuple[int, str]] = []
    i = 0
    head_end = -1
    while i < len(words):
        h = _head_at(words, i)
        # a head right after another head is its specific name ("THANH TRA SỞ", "TRƯỜNG ĐẠI HỌC")
        if h is not None and i != head_end:
            cuts.append((i, h[1]))
            i += len(h[0].split())
            head_end = i
            continue
        i += 1
    if not cuts:
        return [(" ".join(printed), None)] if printed else []
    out = []
    if cuts[0][0] > 0 and all(w.isupper() for w in printed[: cuts[0][0]]):
        cuts[0] = (0, cuts[0][1])  # capitals before the first head belong to it ("ỦY" lost its line)
    # (in running text they are an office: "của Chủ tịch Ủy ban nhân dân tỉnh")
    for k, (start, level) in enumerate(cuts):
        end = cuts[k + 1][0] if k + 1 < len(cuts) else len(printed)
        out.append((" ".join(printed[start:end]), level))
    return out



def _place(body: str) -> tuple[str | None, str | None]:
    """(place type, province) printed in a body's name ("UBND TỈNH BẮC NINH" → ("tỉnh", "Bắc Ninh"))."""
    v = _vocab()
    low = _low(body)
    alt = "|".join(re.escape(p) for p in sorted(v.place_types, key=len, reverse=True))
    m = re.search(rf"(?:^|\s)({alt})\s+(\S.*)$", low)
    if m:
        return m.group(1), canonical_province(m.group(2))
    return None, None


def _council_name(body: str) -> str | None:
    """"ỦY BAN NHÂN DÂN TỈNH BẮC NINH" → "UBND tỉnh Bắc Ninh" (the form of the gold and registry)."""
    v = _vocab()
    low = _low(body)
    m = re.match(r"^(ủy ban nhân dân|ubnd|hội đồng nhân dân|hđnd)\s*(.*)$", low)
    if not m:
        return None
    short = "UBND" if m.group(1) in ("ủy ban nhân dân", "ubnd") else "HĐND"
    rest = m.group(2).strip()
    if not rest or rest in v.place_types:
        return short  # "Ủy ban nhân dân tỉnh" of a citation: the place is added by the caller
    ptype, province = _place(body)
    if ptype is None:
        return f"{short} {_title_words(rest)}"
    name = rest.split(ptype, 1)[1].strip() if ptype in rest else rest
    place = province or _title_words(name)
    if ptype in ("thành phố", "tp", "tp.") and province:
        return f"{short} {v.city_form} {place}"
    return f"{short} {ptype if ptype not in ('tp', 'tp.') else 'thành phố'} {place}"


def _title_words(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in _low(text).split())


def _rule_case(body: str) -> str:
    """Sentence case for a name printed in capitals: the head, then the first word of each
    coordinated part of the specific name capitalised ("Bộ Văn hóa, Thể thao và Du lịch")."""
    low = _low(body)
    head = next((h for h, _ in _vocab().heads if low == h or low.startswith(h + " ")), None)
    if head is None:
        return low[:1].upper() + low[1:]
    rest = low[len(head):].strip()
    head_c = head[:1].upper() + head[1:]  # proper nouns ("Chính phủ") come from the registry: _display
    place = ""
    words = rest.split()
    for n in (3, 2, 1):  # a trailing province name ("SỞ Y TẾ HÀ NỘI", "TỈNH ỦY THANH HÓA")
        if len(words) >= n and canonical_province(" ".join(words[-n:])):
            place = " " + canonical_province(" ".join(words[-n:]))
            rest = " ".join(words[:-n])
            break
    if not rest:
        return f"{head_c}{place}"
    parts = re.split(r"(,\s*|\s+và\s+|\s+-\s+|\s+–\s+)", rest)
    out = "".join(p if i % 2 else p[:1].upper() + p[1:] for i, p in enumerate(parts))
    return f"{head_c} {out}{place}".strip()


def _printed_form(body: str, text: str | None) -> str | None:
    """The mixed-case spelling of ``body`` that the document prints most often (compared
    without diacritics, so that a header OCR read as "SƠ Y TE" finds "Sở Y tế" in the text)."""
    if not text:
        return None
    words = strip_diacritics(clean(body)).split()
    if not words:
        return None
    pat = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.I)
    original = old_style_tones(text)
    seen = Counter(clean(original[m.start():m.end()]) for m in pat.finditer(strip_diacritics(original)))
    mixed = [(n, s) for s, n in seen.items() if s != s.upper()]
    if not mixed:
        return None
    return max(mixed)[1]


def _level(chain: list[tuple[str, str | None]]) -> str | None:
    level: str | None = None
    for body, head_level in chain:
        if head_level == "council":
            _, province = _place(body)
            level = "province" if province else "other"
        elif head_level == "part":
            level = {"central": "central", "province": "department"}.get(level or "", "other")
        elif head_level:
            level = head_level
    return level if level in LEVELS else ("other" if level else None)


def _display(body: str, head_level: str | None, province: str | None, text: str | None) -> str:
    council = _council_name(body) if head_level == "council" else None
    if council:
        return council
    printed = _printed_form(body, text) if body == body.upper() else old_style_tones(clean(body))
    if printed:
        return printed
    # a name in capitals the text never prints otherwise: the unit registry's spelling when it
    # lists the body ("Ngân hàng Nhà nước Việt Nam"), else the case rule
    return registry_spelling(_rule_case(body)) or _rule_case(body)


def parse_issuer(agency_text: str, document_text: str | None = None) -> Issuer | None:
    """The issuer of a header's joined agency lines, or None when they name no body."""
    chain = split_bodies(agency_text)
    if not chain or all(level is None for _, level in chain):
        return None  # no head noun: not an agency (a number, a stray line in capitals)
    level = _level(chain)
    province = None
    for body, _ in reversed(chain):
        _, province = _place(body)
        if province:
            break
    if province is None:
        for body, _ in reversed(chain):
            tail = canonical_province(" ".join(body.split()[-3:])) or canonical_province(" ".join(body.split()[-2:]))
            if tail:
                province = tail
                break
    if level == "central":
        province = None
    body, head_level = chain[-1]
    name = _display(body, head_level, province, document_text)
    if level == "department" and province and _place(body)[1] is None and province not in name:
        name = f"{name} {province}"  # "SỞ Y TẾ" under "UBND TỈNH HÒA BÌNH" → "Sở Y tế Hòa Bình"
    parents = [_display(b, lv, province, document_text) for b, lv in chain[:-1]]
    return Issuer(name=name, level=level, province=province, parents=parents)


def issuer_from_name(name: str, province: str | None, document_text: str | None = None) -> Issuer | None:
    """An issuer named in running text ("của Sở Y tế", "Nơi ban hành: Bộ Văn hoá …"), completed
    with the province known from elsewhere when it is a provincial body without its place."""
    chain = split_bodies(name)
    if not chain or chain[0][1] is None:
        return None
    iss = parse_issuer(name, document_text)
    if iss is None:
        return None
    if province is None or iss.province is not None:
        return iss
    body, head_level = chain[-1]
    if head_level == "council" and _place(body)[0] is None:
        # "Ủy ban nhân dân tỉnh" of a citation: the People's Committee of the known province
        last = _low(body).split()[-1]
        ptype = last if last in _vocab().place_types else "tỉnh"
        iss.name = f"{iss.name} {_vocab().city_form if ptype == 'thành phố' else ptype} {province}"
        iss.level, iss.province = "province", province
    elif iss.level in ("department", "province", None):
        iss.province = province
        if iss.level == "department" and province not in iss.name:
            iss.name = f"{iss.name} {province}"
    return iss
