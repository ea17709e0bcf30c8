"""One entry shared by Dagster and the CLI: a plan file → records for every dataset.

``extract_plan`` never raises for a bad input: it returns a :class:`Rejected` naming the
stage that failed and why, so a batch goes on and the file is listed in ``rejects``.
"""

from __future__ import annotations

import hashlib
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from extractors.errors import ExtractionError, UnsupportedFormat
from extractors.image import IMAGE_SUFFIXES
from extractors.model import Document
from parsers.plan import parse_document

from . import __version__
from .results import Extracted, Rejected
from .rows import normalise_plan

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx", ".doc"}
SUPPORTED = TEXT_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES | IMAGE_SUFFIXES


@dataclass
class Settings:
    """How files are read; the Dagster resource and the CLI both build one."""

    ocr: bool = True
    ocr_dpi: int = 300
    ocr_workers: int | None = None
    cache_dir: Path | None = None
    ocr_model: str | None = None  # extractors.ocr_engine.MODELS; None = the default model
    #: called with one line per OCR'd page ("OCR file.pdf: page 3/19 ..."); the CLI prints it,
    #: the Dagster asset sends it to the run's log
    progress: Callable[[str], None] | None = None


def partition_key(path: Path | str) -> str:
    """A file-name-safe key for a plan file: its name with every dot, slash or odd
    character turned into "_" ("001_abc.pdf" → "001_abc_pdf")."""
    name = Path(path).name
    return re.sub(r"[^0-9A-Za-z_-]+", "_", name).strip("_") or "file"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def plan_id_of(sha256: str) -> str:
    """Stable id of a plan: the first 16 hex digits of its file's SHA-256."""
    return sha256[:16]


def read_document(path: Path, settings: Settings, sha256: str) -> Document:
    """Pick the extractor for a file and read it into the page model."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        from extractors.text import extract_text_file

        doc = extract_text_file(path)
    elif suffix in PDF_SUFFIXES:
        from extractors.pdfdoc import extract_pdf_document

        doc = extract_pdf_document(path, ocr=settings.ocr, dpi=settings.ocr_dpi, workers=settings.ocr_workers,
                                   cache_dir=settings.cache_dir, model=settings.ocr_model,
                                   progress=settings.progress)
    elif suffix in IMAGE_SUFFIXES:
        from extractors.image import extract_image

        doc = extract_image(path, ocr=settings.ocr, workers=settings.ocr_workers, cache_dir=settings.cache_dir,
                            model=settings.ocr_model, progress=settings.progress)
    elif suffix in DOCX_SUFFIXES:
        from extractors.docx import extract_docx

        doc = extract_docx(path)
    else:
        raise UnsupportedFormat(f"unsupported file type {suffix or '(none)'}; expected one of "
                                f"{', '.join(sorted(SUPPORTED))}")
    doc.sha256 = sha256
    return doc


def _check_usable(doc: Document) -> None:
    text = "\n".join(p.text() for p in doc.pages)
    if len(text.strip()) < 40:
        raise ExtractionError("no readable text in the file (empty, or image-only without OCR)", stage="extract")


def parse_plan(doc: Document, extracted_at: datetime | None = None) -> Extracted:
    """Document → every dataset's rows.  Raises ExtractionError when it is not a plan."""
    _check_usable(doc)
    parsed = parse_document(doc)
    if not parsed.meta.title and not parsed.tasks:
        raise ExtractionError("not a plan: no 'KẾ HOẠCH' title and no task found", stage="parse")
    return normalise_plan(doc, parsed, plan_id=plan_id_of(doc.sha256), source_path=doc.source_path,
                          sha256=doc.sha256, extracted_at=extracted_at or datetime.now(UTC), version=__version__)


def rejected(path: Path | str, sha: str | None, stage: str, exc: BaseException) -> Rejected:
    """A rejects row for an exception raised while handling a file."""
    if isinstance(exc, ExtractionError):
        stage, reason = exc.stage, exc.reason
    else:  # a bug or an input no one foresaw: keep the batch going, keep the message
        reason = "unexpected error: " + traceback.format_exception_only(type(exc), exc)[-1].strip()
    return Rejected(str(path), sha, stage, reason, partition_key(path), datetime.now(UTC))


def extract_plan(path: Path | str, settings: Settings | None = None) -> Extracted | Rejected:
    """Read and parse one plan file; never raises for a bad input."""
    path = Path(path)
    sha = None
    stage = "open"
    try:
        sha = sha256_of(path)
        stage = "extract"
        doc = read_document(path, settings or Settings(), sha)
        stage = "parse"
        return parse_plan(doc)
    except Exception as exc:
        return rejected(path, sha, stage, exc)


def list_plan_files(root: Path) -> list[Path]:
    """Plan files under a folder (hidden files and unknown types are skipped)."""
    return sorted(
        p for p in Path(root).rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED
    )
