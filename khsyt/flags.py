"""What in one extracted plan needs a human look: the one list behind the Dagster report's
``needs_review``, the CLI's and ``make run``'s per-file line and the review queue."""

from __future__ import annotations

from .results import Extracted
from .rows import LOW_CONFIDENCE

#: Above this share of tasks without a lead unit, a plan needs a human look.
MISSING_LEAD_WARN = 0.10


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
    low = [t for t in tasks if t.get("low_confidence")]
    if low:
        flags.append(f"{len(low)} tasks with OCR confidence < {LOW_CONFIDENCE:.0f}")
    if result.low_confidence:
        flags.append("low-confidence fields: " + ", ".join(sorted(result.low_confidence)))
    flags.extend(result.warnings)
    return flags
