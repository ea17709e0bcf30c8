"""Citations of legal and administrative documents ("Quyết định số 3740/QĐ-UBND ngày 24/9/2021").

The legal-basis paragraphs and many tasks cite the documents a plan implements.  Linking plans
to those documents (and plans of different provinces to the same national decree) needs each
citation as data: type, number, year, issuer and date.  The number itself ("62/2020/NĐ-CP",
"28-KL/TW", "2202/SYT-TCCB") is the anchor, because it survives OCR and line wrapping better
than the words around it; the type comes from the word printed before it, else from the type
code inside it, else from the previous citation of a list.  Vocabulary:
``parsers/data/legal_doc_types.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from parsers._text import clean, fold, load_yaml

__all__ = ["LegalRef", "find_legal_refs"]


@dataclass(frozen=True)
class LegalRef:
    """One citation.  ``number`` is normalised without spaces ("3740/QĐ-UBND"); ``year`` comes
    from the number ("62/2020/NĐ-CP") or else from the issue date; ``raw`` is the matched text
    (type word, number, date); ``start``/``end`` are offsets of ``raw`` in the input text."""

    doc_type: str
    number: str
    year: int | None
    issuer_code: str | None
    issue_date: date | None
    raw: str
    sentence: str
    start: int = 0
    end: int = 0


_CODE = r"[A-ZĐ][A-Za-zĐđ0-9&]*"
_NUMBER = re.compile(
    rf"(?<![\w/.-])(?:"
    rf"(?P<n>\d{{1,6}})(?:\s?/\s?(?P<y>(?:19|20)\d{{2}}))?\s?/\s?(?P<code>{_CODE}(?:[-–]{_CODE})*)"
    rf"|(?P<pn>\d{{1,6}})-(?P<ptype>{_CODE})/(?P<pissuer>{_CODE})"
    rf")(?![\w])"
)
_DATE_AFTER = re.compile(
    r"^[\s,(]*(?:ban\s+hanh\s+)?ngay\s+(?:"
    r"(?P<d>\d{1,2})\s*[/.\-]\s*(?P<m>\d{1,2})\s*[/.\-]\s*(?P<y>(?:19|20)\d{2})"
    r"|(?P<d2>\d{1,2})\s+thang\s+(?P<m2>\d{1,2})\s+nam\s+(?P<y2>(?:19|20)\d{2}))"
)
_SENTENCE_BREAK = re.compile(
    r"(?<=[.!?])\s+(?=\S)"                                        # end of sentence
    r"|\t"                                                        # table cell
    r"|\n\s*(?=[-+•*]\s|\d+(?:\.\d+)*[.)]\s|[IVXLC]+\.\s|\()"     # new bullet / numbered line
)
_LIST_GAP = re.compile(r"^\s*(?:,|;|va|,\s*va)\s*(?:so\s*)?$")
_OWN_NUMBER = re.compile(r"^\s*so\s*:\s*$")


@dataclass(frozen=True)
class _Vocab:
    word_re: re.Pattern[str]
    by_word: dict[str, str]
    by_code: dict[str, str]
    default: str


def _code_key(code: str) -> str:
    return fold(code).upper()


@cache
def _vocab() -> _Vocab:
    data = load_yaml("legal_doc_types.yaml")
    by_word: dict[str, str] = {}
    by_code: dict[str, str] = {}
    for t in data["doc_types"]:
        for w in t.get("words") or []:
            by_word[fold(clean(w))] = t["name"]
        for c in t.get("codes") or []:
            by_code[_code_key(c)] = t["name"]
    alt = "|".join(r"\s+".join(map(re.escape, w.split())) for w in sorted(by_word, key=len, reverse=True))
    word_re = re.compile(rf"(?<!\w)(?P<w>{alt})\s*(?:so\s*[:.]?\s*)?$")
    return _Vocab(word_re, by_word, by_code, data["default_type"])


def _type_and_issuer(m: re.Match[str]) -> tuple[str | None, str | None, str]:
    """(type from code, issuer code, normalised number)."""
    v = _vocab()
    if m.group("pn"):
        ptype, issuer = m.group("ptype"), m.group("pissuer")
        return v.by_code.get(_code_key(ptype)), issuer, f"{m.group('pn')}-{ptype}/{issuer}"
    code = m.group("code").replace("–", "-")
    number = f"{m.group('n')}/{m.group('y')}/{code}" if m.group("y") else f"{m.group('n')}/{code}"
    parts = code.split("-")
    head = re.sub(r"\d+$", "", parts[0])
    doc_type = v.by_code.get(_code_key(head))
    if doc_type is None:
        return None, parts[0], number             # "SYT-TCCB": issuer first, drafting office after
    issuer = "-".join(parts[1:]) or head           # "QH13": a law, issued by the Quốc hội
    return doc_type, issuer, number


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for b in _SENTENCE_BREAK.finditer(text):
        spans.append((pos, b.start()))
        pos = b.end()
    spans.append((pos, len(text)))
    return spans


def _sentence_at(spans: list[tuple[int, int]], text: str, pos: int) -> str:
    for a, b in spans:
        if a <= pos < b or (pos == b and a == b):
            return clean(text[a:b])
    return ""


def find_legal_refs(text: str | None, include_own_number: bool = False) -> list[LegalRef]:
    """Every document citation in ``text``, in order of appearance (repeats included).

    Finds "số N/…" citations and numbers cited without "số" ("Quyết định 2151/QĐ-BYT"), across
    line breaks, and list members that share one type word ("Nghị định số 62/2020/NĐ-CP ngày
    01/6/2020, 106/2020/NĐ-CP").  The plan's own header number ("Số: 2609/KH-SYT") is skipped
    unless ``include_own_number``.
    """
    if not text:
        return []
    import unicodedata

    text = unicodedata.normalize("NFC", text)
    v = _vocab()
    spans = _sentence_spans(text)
    out: list[LegalRef] = []
    prev_end, prev_type = -1, None
    for m in _NUMBER.finditer(text):
        s, e = m.span()
        before = fold(text[max(0, s - 80):s])
        line_start = text.rfind("\n", 0, s) + 1
        if not include_own_number and _OWN_NUMBER.match(fold(text[line_start:s])):
            continue
        code_type, issuer, number = _type_and_issuer(m)
        wm = v.word_re.search(before)
        raw_start = s
        if wm:
            doc_type = v.by_word[re.sub(r"\s+", " ", wm.group("w"))]
            raw_start = s - (len(before) - wm.start())
        elif code_type:
            doc_type = code_type
        elif prev_type and prev_end >= 0 and _LIST_GAP.match(fold(text[prev_end:s])):
            doc_type = prev_type
        else:
            doc_type = v.default
        issue_date, end = None, e
        dm = _DATE_AFTER.match(fold(text[e:e + 60]))
        if dm:
            d, mo, y = (dm.group("d"), dm.group("m"), dm.group("y")) if dm.group("d") else (
                dm.group("d2"), dm.group("m2"), dm.group("y2"))
            try:
                issue_date = date(int(y), int(mo), int(d))
                end = e + dm.end()
            except ValueError:
                issue_date = None
        year = int(m.group("y")) if m.group("y") else (issue_date.year if issue_date else None)
        out.append(LegalRef(
            doc_type=doc_type,
            number=number,
            year=year,
            issuer_code=issuer,
            issue_date=issue_date,
            raw=clean(text[raw_start:end]),
            sentence=_sentence_at(spans, text, s),
            start=raw_start,
            end=end,
        ))
        prev_end, prev_type = end, doc_type
    return out
