"""Small text helpers shared by the normalisers in :mod:`parsers`.

Every normaliser compares Vietnamese strings that arrive from very different sources (a Word
text layer, Tesseract, a legacy-font conversion).  They disagree on Unicode composition, on
where the tone mark sits ("Hoá" vs "Hóa"), on case, on dashes and on diacritics that OCR
dropped.  The helpers here make one comparison key out of all of them, so that each module
matches data-file vocabulary against text the same way.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"

#: Combining marks of the five Vietnamese tones (grave, acute, tilde, hook above, dot below).
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"


@cache
def load_yaml(name: str) -> Any:
    """Load a data file from ``parsers/data`` once; the result is shared, callers must not mutate it."""
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def clean(text: str | None) -> str:
    """NFC, non-breaking spaces to spaces, whitespace collapsed, trimmed (the gold's string form)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    return " ".join(text.split())


#: Pure string functions called hundreds of thousands of times per plan (header matching,
#: unit keys) on a few thousand distinct strings: memoised.
_MEMO = 1 << 16


@lru_cache(maxsize=_MEMO)
def old_style_tones(text: str) -> str:
    """Move the tone mark of open syllables ending in -oa/-oe/-uy onto the first vowel.

    Vietnamese has two accepted placements ("hoá"/"hóa", "thuỷ"/"thủy"); the gold files and the
    national administrative-unit list use the "hóa" style, so names are brought to it before they
    are compared or emitted.  "quý" keeps its mark: after "q" the "u" is part of the consonant.
    """

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        chars = [[c[0], list(c[1:])] for c in (unicodedata.normalize("NFD", ch) for ch in word)]
        if len(chars) < 2:
            return word
        last, prev = chars[-1], chars[-2]
        pair = (prev[0].lower() + last[0].lower())
        if pair not in ("oa", "oe", "uy") or prev[1]:
            return word
        tone = [mk for mk in last[1] if mk in TONE_MARKS]
        if not tone or len(last[1]) != 1:
            return word
        if pair == "uy" and len(chars) >= 3 and chars[-3][0].lower() == "q":
            return word
        prev[1] = tone
        last[1] = []
        return unicodedata.normalize("NFC", "".join(b + "".join(mk) for b, mk in chars))

    return re.sub(r"\w+", fix, unicodedata.normalize("NFC", text))


@lru_cache(maxsize=_MEMO)
def strip_diacritics(text: str) -> str:
    """Base letters only ("Đồng Nai" -> "Dong Nai"), one output char per NFC input char.

    Keeping the length lets a caller match patterns on the folded text and cut the
    original text at the same offsets.
    """
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in "đĐ":
            out.append("d" if ch == "đ" else "D")
        else:
            out.append(unicodedata.normalize("NFD", ch)[0])
    return "".join(out)


def fold(text: str) -> str:
    """Lowercase and diacritic-free, same length as the NFC input (see :func:`strip_diacritics`)."""
    return strip_diacritics(text).lower()


@lru_cache(maxsize=_MEMO)
def match_key(text: str, accents: bool = True, stopwords: tuple[str, ...] = ()) -> str:
    """Comparison key: lowercase, old-style tones, dashes/punctuation as spaces, collapsed.

    With ``accents=False`` the diacritics are dropped too, which is what makes OCR output
    such as "Van phong So" or "Phòng Tô chức - Cán bô" meet the registry spelling.
    """
    text = old_style_tones(clean(text)).lower()
    for d in _DASHES:
        text = text.replace(d, " ")
    text = re.sub(r"[^\w\s&]", " ", text)
    words = [w for w in text.split() if w not in stopwords]
    key = " ".join(words)
    return key if accents else fold(key)


def capitalize_first(text: str) -> str:
    """Upper-case the first letter only ("bộ phận một cửa" -> "Bộ phận một cửa")."""
    return text[:1].upper() + text[1:] if text else text
