"""Column roles of task tables, from their Vietnamese header words (data/header_synonyms.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ._text import load_yaml, strip_diacritics
from .textutil import fold

_NUMBERING = re.compile(r"^\s*(\(?\d+\)?\s*[-.:)]?\s*)")


@dataclass(frozen=True)
class HeaderVocabulary:
    synonyms: tuple[tuple[str, str], ...]  # (folded synonym, role), longest first
    required: frozenset[str]
    min_roles: int


@cache
def vocabulary() -> HeaderVocabulary:
    data = load_yaml("header_synonyms.yaml")
    pairs = [(fold(s), role) for role, words in data["roles"].items() for s in words]
    pairs.sort(key=lambda p: -len(p[0]))
    tt = data["task_table"]
    return HeaderVocabulary(tuple(pairs), frozenset(tt["required"]), int(tt["min_roles"]))


def header_role(text: str | None) -> str | None:
    """The role a header cell names, or None.  Numbering like "1-" or "(3)" is ignored."""
    t = fold(_NUMBERING.sub("", text or ""))
    t = fold(re.sub(r"\([^)]*\)", " ", t)).strip(" .:")
    if not t or len(t.split()) > 8:
        return None
    # Exact words first; then without diacritics, which OCR often gets wrong in headers
    # ("Nhiệm vự", "Đơn vi phôi hơp") while the letters survive.
    for text, accents in ((t, True), (strip_diacritics(t), False)):
        for syn, role in vocabulary().synonyms:
            if not accents:
                syn = strip_diacritics(syn)
            if syn in ("tt", "stt"):
                if text == syn:
                    return role
                continue
            # A header names its role in a few words: the synonym must be most of the cell,
            # which keeps data cells such as "Nhiệm vụ 1: Xác định …" from looking like headers.
            if len(syn) * 2 >= len(text) and re.search(rf"(?<!\w){re.escape(syn)}(?!\w)", text):
                return role
    return None


def header_roles(row: list[str]) -> list[str | None]:
    return [header_role(c) for c in row]


def is_header_row(row: list[str]) -> bool:
    """A row is a header when most of its filled cells name a role and at least two do."""
    filled = [c for c in row if c.strip()]
    roles = [r for r in header_roles(row) if r]
    return len(roles) >= 2 and len(roles) * 2 >= len(filled)


def is_task_header(roles: list[str | None]) -> bool:
    voc = vocabulary()
    present = {r for r in roles if r}
    return bool(present & voc.required) and len(present) >= voc.min_roles


def is_column_number_row(row: list[str]) -> bool:
    """The "(1) (2) (3)…" row some tables print under their header."""
    filled = [c.strip() for c in row if c.strip()]
    return len(filled) >= 2 and all(re.fullmatch(r"\(?\d{1,2}\)?|[A-Z]", c) for c in filled)
