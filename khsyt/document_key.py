"""One key per document, shared by its copies: the PDF, the scan and the Word file of one plan.

A plan is identified the way a reader cites it: issuer (or province), number and issue date
("Kế hoạch số 2027/KH-SYT ngày 16/4/2020 của Sở Y tế Đồng Nai").  When the number is not
known the key falls back to a fingerprint of the plan's content (title and task texts with
case, accents and punctuation removed), which the copies of one text share.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any


def fold(text: str | None) -> str:
    """Lower case, no accents (đ → d), runs of anything else than letters/digits → one space."""
    if not text:
        return ""
    s = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", " ", s).strip()


def slug(text: str | None) -> str:
    return fold(text).replace(" ", "-")


def content_fingerprint(title: str | None, task_texts: Iterable[str | None]) -> str:
    h = hashlib.sha256(fold(title).encode())
    for t in task_texts:
        h.update(b"\x1f" + fold(t).encode())
    return h.hexdigest()[:16]


def document_key(plan: Mapping[str, Any], task_texts: Iterable[str | None] = ()) -> str:
    """``<issuer or province>:<number>:<issue date or year>``; without a number the title
    stands in for it (``…:t<hash of the title>:…``); without an issuer or a date,
    ``fp:<hash of title and task texts>``."""
    number = slug(plan.get("doc_number"))
    who = slug(plan.get("issuer")) or slug(plan.get("province"))
    when = plan.get("issue_date")
    when = when.isoformat() if hasattr(when, "isoformat") else str(when or plan.get("plan_year") or "")
    if number and who:
        return f"{who}:{number}:{when}" if when else f"{who}:{number}"
    if who and when and fold(plan.get("title")):
        return f"{who}:t{hashlib.sha256(fold(plan.get('title')).encode()).hexdigest()[:10]}:{when}"
    return "fp:" + content_fingerprint(plan.get("title"), task_texts)


def task_text(task: Mapping[str, Any]) -> str:
    """The text that says what a task is (the first of task / activity / objective / solution / item)."""
    for name in ("task", "activity", "objective", "solution", "item"):
        if task.get(name):
            return str(task[name])
    return ""


#: The columns that say what a task is; a task keeps its fingerprint while they keep their words.
TASK_TEXT_FIELDS = ("section_code", "objective", "task", "activity", "solution", "item")


def task_fingerprint(task: Mapping[str, Any]) -> str:
    """What survives re-extraction of a task: its folded text columns, hashed (12 hex).  Case,
    accents, spacing and punctuation (what converters and OCR vary) do not change it."""
    text = "\x1f".join(fold(task.get(f)) for f in TASK_TEXT_FIELDS)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


#: Preference among copies of one document: a text layer is what the issuer typed, Word the
#: draft it came from, a converted text file loses the layout, a scan is read by OCR.
FORMAT_RANK = {"pdf": 0, "docx": 1, "doc": 1, "txt": 2, "md": 2, "markdown": 2, "text": 2}
OCR_RANK = 3


def copy_rank(plan: Mapping[str, Any]) -> tuple:
    """Sort key of a copy (smallest preferred): kind, then OCR confidence, tasks, key."""
    fmt = plan.get("source_format") or ""
    kind = OCR_RANK if (plan.get("ocr_pages") or 0) > 0 else FORMAT_RANK.get(fmt, OCR_RANK)
    conf = plan.get("ocr_confidence")
    return (kind, -(conf if conf is not None else 100.0), -(plan.get("n_tasks") or 0), plan.get("partition_key") or "")
