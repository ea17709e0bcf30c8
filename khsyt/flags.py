"""What in one extracted plan needs a human look: the one list behind the Dagster report's
``needs_review``, the CLI's and ``make run``'s per-file line and the review queue."""

from __future__ import annotations

import functools
from typing import Any

from .results import Extracted
from .rows import LOW_CONFIDENCE

#: Above this share of tasks without a lead unit, a plan needs a human look.
MISSING_LEAD_WARN = 0.10


#: Below this score a unit resolved to a registry name is a guess (fuzzy match of a misread).
GUESS_SCORE = 100.0


def guessed_units(task: dict[str, Any], province: str | None) -> list[tuple[str, str, str, float]]:
    """(field, canonical name, raw mention, score) of every unit of a task resolved by an
    approximate match: an OCR misread published under a registry name needs a look too."""
    out = []
    for field in ("lead_units", "coordinating_units", "monitoring_units"):
        for name, raw, score in approximate_matches(task.get(field.replace("_units", "_units_raw")), province):
            if name in (task.get(field) or []):
                out.append((field, name, raw, score))
    return out


@functools.lru_cache(maxsize=1 << 16)
def approximate_matches(raw: str | None, province: str | None) -> tuple[tuple[str, str, float], ...]:
    """(canonical name, raw mention, score) of the mentions of one unit cell that resolve to a
    registry unit by an approximate match.  A pure function of the cell's text (the registry
    is loaded once per process), asked for the same cell by the extraction report, the
    ``units_known`` check and the review queue: resolved once."""
    from parsers.units import normalize_units

    return tuple((m.name, m.raw, m.score) for m in normalize_units(raw, province=province)
                 if m.known and m.score < GUESS_SCORE)


def needs_review(result: Extracted) -> list[str]:
    """Short human-readable flags, most serious first; empty when nothing is flagged."""
    tasks = result.tasks
    flags: list[str] = []
    if result.plan.get("has_appendix") and not any(t["source"] == "appendix" for t in tasks):
        flags.append("PHỤ LỤC present but no appendix task extracted")
    if not tasks:
        flags.append("no task extracted")
    no_lead = [t for t in tasks if not t.get("lead_units")]
    if tasks and len(no_lead) / len(tasks) > MISSING_LEAD_WARN:
        flags.append(f"{len(no_lead)} of {len(tasks)} tasks without a lead unit")
    unknown = sorted({u for t in tasks for u in (t.get("unknown_units") or [])})
    if unknown:
        flags.append(f"{len(unknown)} unknown units")
    guesses = sum(len(guessed_units(t, result.plan.get("province"))) for t in tasks)
    if guesses:
        flags.append(f"{guesses} units resolved by an approximate match")
    low = [t for t in tasks if t.get("low_confidence")]
    if low:
        flags.append(f"{len(low)} tasks with OCR confidence < {LOW_CONFIDENCE:.0f}")
    if result.low_confidence:
        flags.append("low-confidence fields: " + ", ".join(sorted(result.low_confidence)))
    flags.extend(result.warnings)
    return flags
