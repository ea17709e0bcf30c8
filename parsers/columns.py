"""Column roles of task tables, from evidence: header words, cell content, the table as a whole.

A plan names its columns in its own words ("Thời gian triển khai", "Lộ trình thực hiện",
"Đơn vị chịu trách nhiệm"), so a role is not looked up, it is argued for:

1. **Header words** (:func:`header_match`): the header text of a column (all its header rows
   joined) is cut into words and compared with the role vocabulary in
   ``data/header_synonyms.yaml`` by words in any order, with and without diacritics and
   with one OCR slip in a long word.  The synonym with most words wins; the share of the
   header it covers is its score.
2. **Cell content** (:func:`content_evidence`): what the column's data cells hold, read with
   the project's own parsers (``parsers.deadlines`` for dates, months, quarters, years,
   "Thường xuyên"; the ``parsers.units`` registry for unit names; ``parsers.numbers`` for
   money) plus the length of the text (long clauses are tasks or products).
3. **The table** (:func:`assign_roles`): one task column; a second unit column coordinates;
   a column whose cells name persons ("Cục trưởng …") is a person column, not the lead.

A column that still has no role keeps its text: the records put it into ``extra`` and the
table report lists it.  Every tolerance is a named field of :class:`RoleSettings`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

from rapidfuzz import fuzz

from ._text import load_yaml, match_key, strip_diacritics
from .deadlines import parse_deadlines
from .numbers import parse_budget_million_vnd
from .textutil import ENTRY_LABEL, code_style, fold
from .units import resolve_unit, split_units

_NUMBERING = re.compile(r"^\s*(\(?\d+\)?\s*[-.:)]?\s*)")
_ITEM_WORDS = ("tt", "stt")


@dataclass(frozen=True)
class RoleSettings:
    """Every threshold of role assignment, by name."""

    #: a header longer than this many words is a data cell, not a header
    max_header_words: int = 8
    #: least share of a header's words a synonym must cover to name the column's role
    min_header_coverage: float = 0.3
    #: diacritic-free words at least this long may differ by one OCR slip ...
    fuzzy_min_chars: int = 5
    #: ... when their rapidfuzz ratio is at least this
    fuzzy_min_ratio: float = 80.0
    #: least share of a column's filled data cells that must show a kind of content for it
    #: to count as evidence
    min_content_share: float = 0.6
    #: a deadline cell is short: at most this many words
    max_deadline_words: int = 14
    #: mean words per filled cell from which a column holds clauses (task, product)
    long_clause_words: float = 7.0
    #: an item code is at most this many characters ("1", "IV", "2.10", "a")
    max_item_chars: int = 6


DEFAULT_ROLE_SETTINGS = RoleSettings()


@dataclass(frozen=True)
class HeaderVocabulary:
    synonyms: tuple[tuple[tuple[str, ...], str], ...]  # (words of a synonym, role)
    required: frozenset[str]
    details: frozenset[str]
    person_titles: tuple[str, ...]
    unit_determiners: tuple[str, ...]


@cache
def vocabulary() -> HeaderVocabulary:
    data = load_yaml("header_synonyms.yaml")
    pairs = [(tuple(_words(s)), role) for role, words in data["roles"].items() for s in words]
    pairs.sort(key=lambda p: -len(p[0]))
    tt = data["task_table"]
    content = data.get("content") or {}
    return HeaderVocabulary(
        tuple(pairs), frozenset(tt["required"]), frozenset(tt["details"]),
        tuple(match_key(t) for t in content.get("person_titles", [])),
        tuple(match_key(t) for t in content.get("unit_determiners", [])),
    )


def _words(text: str) -> list[str]:
    """Comparison words of a header: numbering and parentheses dropped, punctuation as space."""
    t = _NUMBERING.sub("", text or "")
    t = re.sub(r"\([^)]*\)", " ", t)
    return match_key(t).split()


# --------------------------------------------------------------------------- header words


@dataclass(frozen=True)
class HeaderMatch:
    role: str
    synonym: str
    coverage: float  # share of the header's words the synonym covers
    exact: bool  # matched with diacritics (False: without them, or with an OCR slip)


def _word_in(word: str, words: Sequence[str], plain: Sequence[str], st: RoleSettings) -> tuple[bool, bool]:
    """(found, exactly) for one synonym word among a header's words."""
    if word in words:
        return True, True
    w = strip_diacritics(word)
    if w in plain:
        return True, False
    if len(w) >= st.fuzzy_min_chars:
        return any(len(p) >= st.fuzzy_min_chars and fuzz.ratio(w, p) >= st.fuzzy_min_ratio for p in plain), False
    return False, False


@lru_cache(maxsize=1 << 14)  # pure in (text, settings) once the vocabulary is loaded; cells repeat
def header_match(text: str | None, st: RoleSettings = DEFAULT_ROLE_SETTINGS) -> HeaderMatch | None:
    """The role a header cell names and how well, or None.

    The synonym with most words all found in the header wins (exact spellings before
    diacritic-free or OCR-slipped ones when they tie).  "TT"/"STT" must be the whole cell.
    A cell that opens a numbered entry ("Nhiệm vụ 1: …") or is long is a data cell."""
    if not text or ENTRY_LABEL.match(text):
        return None
    words = _words(text)
    if not words or len(words) > st.max_header_words:
        return None
    plain = [strip_diacritics(w) for w in words]
    best: tuple[int, bool, float, HeaderMatch] | None = None
    for syn, role in vocabulary().synonyms:
        if best is not None and len(syn) < best[0]:
            break
        if set(syn) & set(_ITEM_WORDS) or len(syn) == 1 and strip_diacritics(syn[0]) in _ITEM_WORDS:
            if [strip_diacritics(w) for w in syn] != plain:
                continue
        found = [_word_in(w, words, plain, st) for w in syn]
        if not all(f for f, _ in found):
            continue
        exact = all(e for _, e in found)
        m = HeaderMatch(role, " ".join(syn), min(1.0, len(syn) / len(words)), exact)
        key = (len(syn), exact, m.coverage, m)
        if best is None or key[:3] > best[:3]:
            best = key
    if best is None or best[3].coverage < st.min_header_coverage:
        return None
    return best[3]


def header_role(text: str | None) -> str | None:
    """The role a header cell names, or None."""
    m = header_match(text)
    return m.role if m else None


def header_roles(row: list[str]) -> list[str | None]:
    return [header_role(c) for c in row]


def is_header_row(row: list[str]) -> bool:
    """A row is a header when most of its filled cells name a role and at least two do."""
    filled = [c for c in row if c.strip()]
    roles = [r for r in header_roles(row) if r]
    return len(roles) >= 2 and len(roles) * 2 >= len(filled)


def is_task_header(roles: list[str | None]) -> bool:
    """A task table: a task-like column and at least one of units / deadline / product."""
    voc = vocabulary()
    present = {r for r in roles if r}
    return bool(present & voc.required) and bool(present & voc.details)


def is_column_number_row(row: list[str]) -> bool:
    """The "(1) (2) (3)…" row some tables print under their header."""
    filled = [c.strip() for c in row if c.strip()]
    return len(filled) >= 2 and all(re.fullmatch(r"\(?\d{1,2}\)?|[A-Z]", c) for c in filled)


# --------------------------------------------------------------------------- cell content


@dataclass(frozen=True)
class ContentEvidence:
    """Shares (0-1) of a column's filled data cells that look like each kind of content."""

    filled: int = 0
    deadline: float = 0.0
    units: float = 0.0
    persons: float = 0.0
    money: float = 0.0
    item: float = 0.0
    mean_words: float = 0.0

    def strongest(self, st: RoleSettings = DEFAULT_ROLE_SETTINGS) -> str | None:
        """The content kind this column shows, if one clearly dominates."""
        if not self.filled:
            return None
        kinds = {"deadline": self.deadline, "persons": self.persons, "units": self.units,
                 "money": self.money, "item": self.item}
        kind, share = max(kinds.items(), key=lambda kv: kv[1])
        if share >= st.min_content_share:
            return kind
        if self.mean_words >= st.long_clause_words:
            return "clauses"
        return None


def _is_deadline(text: str, st: RoleSettings) -> bool:
    if len(text.split()) > st.max_deadline_words:
        return False
    return any(m.kind != "unknown" for m in parse_deadlines(text, plan_period=(2000, 2000)))


def _is_person(text: str) -> bool:
    key = match_key(text)
    return any(key == t or key.startswith(t + " ") for t in vocabulary().person_titles)


def _is_units(text: str) -> bool:
    mentions = split_units(text)
    if not mentions:
        return False
    dets = vocabulary().unit_determiners
    hits = 0
    for m in mentions:
        key = match_key(m)
        u = resolve_unit(m)
        if u.known or u.kind or any(key.startswith(d + " ") for d in dets):
            hits += 1
    return hits * 2 >= len(mentions)


def _is_money(text: str) -> bool:
    t = text.strip()
    return bool(re.fullmatch(r"[\d.,\s]+", t)) and parse_budget_million_vnd(t) is not None


def _is_item(text: str, st: RoleSettings) -> bool:
    t = text.strip()
    return len(t) <= st.max_item_chars and code_style(t.rstrip(".")) is not None


def content_evidence(cells: Sequence[str], st: RoleSettings = DEFAULT_ROLE_SETTINGS) -> ContentEvidence:
    """What a column's data cells hold (empty cells are not counted)."""
    filled = [c.strip() for c in cells if c and c.strip()]
    if not filled:
        return ContentEvidence()
    n = len(filled)

    def share(pred) -> float:
        return sum(1 for c in filled if pred(c)) / n

    persons = share(_is_person)
    return ContentEvidence(
        filled=n,
        deadline=share(lambda c: _is_deadline(c, st)),
        units=share(lambda c: not _is_person(c) and _is_units(c)),
        persons=persons,
        money=share(_is_money),
        item=share(lambda c: _is_item(c, st)),
        mean_words=sum(len(c.split()) for c in filled) / n,
    )


# --------------------------------------------------------------------------- the table


@dataclass
class ColumnRole:
    """The role of one column and the evidence for it (what the table report shows)."""

    col: int
    header: str
    role: str | None
    evidence: str  # "header:<synonym>", "content:<kind>", "table:<rule>", or "none"
    score: float = 0.0
    content: ContentEvidence = field(default_factory=ContentEvidence)


#: Roles whose value is a unit list; a column of unit names without a header takes the
#: first of these no other column has.
UNIT_ROLES = ("lead", "coordinating")
#: Roles that state a task's work; when no column is the task column, the one of these
#: (or an unnamed column of clauses) furthest left becomes it.
TASK_LIKE = ("objective", "activity", "solution")


def assign_roles(headers: Sequence[str], columns: Sequence[Sequence[str]],
                 st: RoleSettings = DEFAULT_ROLE_SETTINGS,
                 header_roles_hint: Sequence[str | None] | None = None) -> list[ColumnRole]:
    """Roles of a table's columns from their header texts and their data cells.

    ``header_roles_hint``: roles already read off header cells (a header cell spanning
    columns names each of them); a hint wins over the header text of the column."""
    out: list[ColumnRole] = []
    for j, header in enumerate(headers):
        ev = content_evidence(columns[j] if j < len(columns) else [], st)
        hint = header_roles_hint[j] if header_roles_hint and j < len(header_roles_hint) else None
        m = header_match(header, st)
        if hint:
            out.append(ColumnRole(j, header, hint, f"header:{m.synonym}" if m and m.role == hint else "header",
                                  m.coverage if m else 1.0, ev))
        elif m:
            out.append(ColumnRole(j, header, m.role, f"header:{m.synonym}", m.coverage, ev))
        else:
            out.append(ColumnRole(j, header, None, "none", 0.0, ev))
    _content_roles(out, st)
    _table_rules(out, st)
    return out


def _content_roles(cols: list[ColumnRole], st: RoleSettings) -> None:
    """Give a role to columns whose header says nothing known, from what they hold."""
    taken = {c.role for c in cols if c.role}
    for c in cols:
        if c.role:
            continue
        kind = c.content.strongest(st)
        role = None
        if kind == "deadline" and "deadline" not in taken:
            role = "deadline"
        elif kind == "units":
            role = next((r for r in UNIT_ROLES if r not in taken), None)
        elif kind == "persons":
            role = "responsible_head"
        elif kind == "money" and "budget" not in taken:
            role = "budget"
        elif kind == "item" and c.col == 0 and "item" not in taken:
            role = "item"
        elif kind == "clauses":
            role = "task" if "task" not in taken else ("product" if "product" not in taken else None)
        if role:
            c.role, c.evidence, c.score = role, f"content:{kind}", c.content.filled and 1.0
            taken.add(role)


def _table_rules(cols: list[ColumnRole], st: RoleSettings) -> None:
    """Constraints that only the table as a whole shows."""
    # A unit column whose cells name persons ("Cục trưởng Cục …") beside another column of
    # the same role is a person column; alone, the persons are the only lead it states.
    for c in cols:
        same = [o for o in cols if o is not c and o.role == c.role]
        if c.role in UNIT_ROLES + ("monitoring",) and same and c.content.persons >= st.min_content_share \
                and all(o.content.persons < st.min_content_share for o in same):
            c.role, c.evidence = "responsible_head", "table:cells name persons"
    # One task column: among distinct header texts the best-scored one keeps the role.
    tasks = [c for c in cols if c.role == "task"]
    if len({fold(c.header) for c in tasks}) > 1:
        keep = max(tasks, key=lambda c: (c.score, len(c.evidence.split()), -c.col))  # most specific wording
        for c in tasks:
            if c is not keep and fold(c.header) != fold(keep.header):
                c.role, c.evidence = None, "table:second task column"
    # No task column: the leftmost task-like column states the work.
    if not any(c.role == "task" for c in cols):
        cand = [c for c in cols if c.role in TASK_LIKE]
        if cand:
            cand[0].role, cand[0].evidence = "task", f"table:only text column ({cand[0].evidence})"
    # Two lead columns and no coordinating one: the second coordinates.
    leads = [c for c in cols if c.role == "lead"]
    if len({fold(c.header) for c in leads}) > 1 and not any(c.role == "coordinating" for c in cols):
        second = leads[1]
        second.role, second.evidence = "coordinating", "table:second unit column"
