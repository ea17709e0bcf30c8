"""Map a task to one of the national administrative-reform areas.

Provinces word and order their plan sections differently ("II. Cải cách TTHC", "3. Cải cách
thủ tục hành chính", "Hiện đại hoá nền hành chính"), so comparing provinces needs the seven
areas of DOMAIN.md as one list: direction, institutions, procedures, organisation,
civil_service, public_finance, e_government.  The section heading decides when it names an
area; otherwise weighted keywords in the task text vote.  All phrases live in
``parsers/data/reform_areas.yaml`` and are matched case-insensitively without diacritics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from parsers._text import clean, fold, load_yaml

__all__ = ["AREAS", "classify_area", "area_label"]

AREAS = ("direction", "institutions", "procedures", "organisation", "civil_service", "public_finance",
         "e_government")


def _norm(text: str | None) -> str:
    """Folded, punctuation-free, single-spaced: "Phản ánh, kiến nghị" -> "phan anh kien nghi"."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(clean(text or ""))).split())


def _phrase_re(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(_norm(phrase))}(?!\w)")


@dataclass(frozen=True)
class _Rules:
    titles: list[tuple[str, re.Pattern[str]]]
    keywords: dict[str, list[tuple[re.Pattern[str], float]]]
    labels: dict[str, str]
    min_score: float


@cache
def _rules() -> _Rules:
    data = load_yaml("reform_areas.yaml")
    titles, keywords, labels = [], {}, {}
    for area, spec in data["areas"].items():
        labels[area] = spec["label"]
        titles += [(area, _phrase_re(p)) for p in spec.get("title") or []]
        merged: dict[str, float] = {}
        for phrase, weight in (spec.get("keywords") or {}).items():
            k = _norm(phrase)
            merged[k] = max(merged.get(k, 0.0), float(weight))
        keywords[area] = [(_phrase_re(k), w) for k, w in merged.items()]
    return _Rules(titles, keywords, labels, float(data.get("min_text_score", 1)))


def _from_title(title: str) -> str | None:
    best: tuple[int, int, str] | None = None
    for area, pat in _rules().titles:
        m = pat.search(title)
        if m:
            cand = (m.start(), -(m.end() - m.start()), area)
            if best is None or cand < best:
                best = cand
    return best[2] if best else None


def classify_area(section_title: str | None, text: str | None) -> str | None:
    """The reform area of a task, or None when neither heading nor text says.

    The heading wins when it names an area (the phrase found earliest in it, since headings
    open with their area).  Otherwise each area scores the summed weights of the distinct
    keywords found in the task text (the heading counts as text too); the top area wins if it
    reaches ``min_text_score`` and is not tied.
    """
    title = _norm(section_title)
    if title:
        area = _from_title(title)
        if area:
            return area
    body = " ".join(x for x in (title, _norm(text)) if x)
    if not body:
        return None
    rules = _rules()
    scores = {a: sum(w for pat, w in kws if pat.search(body)) for a, kws in rules.keywords.items()}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    top, score = ranked[0]
    if score < rules.min_score or (len(ranked) > 1 and ranked[1][1] == score):
        return None
    return top


def area_label(area: str | None) -> str | None:
    """Vietnamese display label of an area code."""
    return _rules().labels.get(area) if area else None
