"""One entry shared by Dagster and the CLI: a plan file → records for every dataset.

``extract_plan`` never raises for a bad input: it returns a :class:`Rejected` naming the
stage that failed and why, so a batch goes on and the file is listed in ``rejects``.
"""

from __future__ import annotations

import hashlib
import os
import re
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from extractors.errors import ExtractionError, UnsupportedFormat
from extractors.image import IMAGE_SUFFIXES
from extractors.limits import check_file_size, file_deadline
from extractors.model import Document
from parsers.metadata import doc_type_info
from parsers.plan import lists_tasks, parse_document
from parsers.records import ParsedPlan

from . import __version__, datasets
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

    def fingerprint(self) -> str:
        """What, besides a file's bytes, decides its published rows: the pipeline version and
        the settings that change extraction (not worker counts or cache folders).  A file whose
        rows were published from the same bytes under the same fingerprint needs no new run.
        The datasets' schema version is part of it: rows published under an older contract
        (without a column added since) are extracted again."""
        s = (f"{__version__}+{code_digest()}|schema={datasets.SCHEMA_VERSION}|ocr={int(self.ocr)}"
             f"|dpi={self.ocr_dpi}|model={self.ocr_model or 'default'}")
        return hashlib.sha256(s.encode()).hexdigest()[:12]


#: The code and knowledge files whose content decides the published rows: a new release, or an
#: analyst's edit of a vocabulary, changes the fingerprint, so files published before are
#: extracted again (the version string alone has not changed since the first release).
CODE_FILES = {"extractors": ("*.py", "data/*"), "parsers": ("*.py", "*/*.py", "data/*.yaml"), "khsyt": ("*.py",)}


@cache
def code_digest(root: Path | None = None) -> str:
    """Digest of :data:`CODE_FILES` under ``root`` (default: this checkout), paths and bytes,
    once per process."""
    root = root or Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for package, patterns in CODE_FILES.items():
        for f in sorted({f for pattern in patterns for f in (root / package).glob(pattern) if f.is_file()}):
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


#: A file whose path relative to its input root is one plain name like this keeps the name as
#: its key ("001_abc.pdf" → "001_abc_pdf"); any other path gets a slug and a hash of the path.
_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}\.(?:pdf|txt|md|markdown|text|docx|doc)")
_SLUG_MAX = 60
#: Longest key: the slug, "_h" and 10 hex digits.
KEY_MAX = _SLUG_MAX + 12


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_ = folded.encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9A-Za-z]+", "_", ascii_).strip("_").lower()[:_SLUG_MAX].strip("_")


def partition_key(path: Path | str, root: Path | str | None = None) -> str:
    """A unique, bounded, file-name-safe key for a plan file, from its path relative to
    ``root`` (its name alone when no root is given).

    A plain lower-case name keeps its spelling ("001_abc.pdf" → "001_abc_pdf"); every other
    path — sub-folders, diacritics, spaces, capitals, several dots, long names — becomes a
    readable ASCII slug plus ``_h`` and 10 hex digits of the SHA-256 of the exact path bytes
    ("hà nội/Kế hoạch.pdf" → "ha_noi_ke_hoach_pdf_h…"), so two distinct paths never share a
    key (a plain key ends in its suffix, a hashed one in ``_h`` + hex).  At most 73 characters,
    only [A-Za-z0-9_-]: never path syntax.
    """
    p = Path(path)
    if root is not None:
        try:
            rel = os.path.relpath(os.path.abspath(p), os.path.abspath(root))
        except ValueError:
            rel = os.fspath(p)
    else:
        rel = p.name
    rel = rel.replace(os.sep, "/")
    if _PLAIN_NAME.fullmatch(rel):
        return rel.replace(".", "_")
    digest = hashlib.sha256(os.fsencode(rel)).hexdigest()[:10]
    return f"{_slug(rel) or 'file'}_h{digest}"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def plan_id_of(sha256: str, key: str) -> str:
    """Id of a plan: 16 hex digits of the SHA-256 of (file SHA-256, partition key) — stable
    for the same bytes at the same path, and unique across the dataset even when two files
    hold the same bytes (they share ``source_sha256``, which flags them as duplicates)."""
    return hashlib.sha256(f"{sha256}:{key}".encode()).hexdigest()[:16]


def read_document(path: Path, settings: Settings, sha256: str) -> Document:
    """Pick the extractor for a file and read it into the page model, within the per-file
    wall time (``file_seconds`` in extractors/limits.py)."""
    with file_deadline(Path(path).name):
        return _read_document(Path(path), settings, sha256)


def _read_document(path: Path, settings: Settings, sha256: str) -> Document:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        from extractors.text import extract_text_file

        check_file_size(path.stat().st_size, path.name)
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


def parse_plan(doc: Document, extracted_at: datetime | None = None, key: str | None = None) -> Extracted:
    """Document → every dataset's rows.  Raises ExtractionError when it is not a plan."""
    _check_usable(doc)
    with file_deadline(Path(doc.source_path).name):
        parsed = parse_document(doc)
    not_a_plan = plan_or_not(parsed)
    if not_a_plan:
        raise ExtractionError(not_a_plan, stage="parse")
    key = key or partition_key(doc.source_path)
    return normalise_plan(doc, parsed, plan_id=plan_id_of(doc.sha256, key), source_path=doc.source_path,
                          sha256=doc.sha256, extracted_at=extracted_at or datetime.now(UTC), version=__version__)


def plan_or_not(parsed: ParsedPlan) -> str | None:
    """Why a parsed document is not a plan, or None when it is one.

    The document type decides (parsers/data/doc_types.yaml): a Kế hoạch is a plan when it has a
    title or a task; a Quyết định or Công văn only when it carries one (a KẾ HOẠCH block, or a
    task appendix, or a PHỤ LỤC whose title lists tasks, even when its table was not read); a
    Báo cáo, Thông báo … never, and the reason names the type.
    """
    meta = parsed.meta
    info = doc_type_info(meta.doc_type)
    label = f"a {info.name} ({info.code})" if info else None
    if info is not None and info.role == "other":
        return f"not a plan: the document is {label}"
    if info is not None and info.role == "carrier":
        appendix_tasks = any(t.source == "appendix" for t in parsed.tasks)
        if meta.plan_heading or appendix_tasks or (parsed.has_appendix and lists_tasks(meta.title)):
            return None
        return f"not a plan: the document is {label} that carries no KẾ HOẠCH and no task appendix"
    if not meta.title and not parsed.tasks:
        return "not a plan: no 'KẾ HOẠCH' title and no task found"
    return None



def rejected(path: Path | str, sha: str | None, stage: str, exc: BaseException, key: str | None = None) -> Rejected:
    """A rejects row for an exception raised while handling a file."""
    if isinstance(exc, ExtractionError):
        stage, reason = exc.stage, exc.reason
    else:  # a bug or an input no one foresaw: keep the batch going, keep the message
        reason = "unexpected error: " + traceback.format_exception_only(type(exc), exc)[-1].strip()
    return Rejected(str(path), sha, stage, reason, key or partition_key(path), datetime.now(UTC))


def check_inside(path: Path, root: Path | str | None) -> None:
    """Refuse a file that is, or passes through, a symbolic link leading out of ``root``."""
    if root is None:
        return
    real_root = Path(root).resolve()
    target = Path(path).resolve()
    if target != real_root and real_root not in target.parents:
        raise ExtractionError(f"link outside the input folder: {path} → {target}", stage="open")


def extract_plan(path: Path | str, settings: Settings | None = None, key: str | None = None,
                 root: Path | str | None = None) -> Extracted | Rejected:
    """Read and parse one plan file; never raises for a bad input.

    ``key`` is its partition key (from the name when not given); ``root`` the input folder it
    was found in, which it must not leave through a symbolic link.
    """
    path = Path(path)
    settings = settings or Settings()
    key = key or partition_key(path, root)
    sha = None
    stage = "open"
    try:
        check_inside(path, root)
        sha = sha256_of(path)
        stage = "extract"
        doc = read_document(path, settings, sha)
        stage = "parse"
        return stamped(parse_plan(doc, key=key), settings)
    except Exception as exc:
        return stamped(rejected(path, sha, stage, exc, key), settings)


def stamped(result: Extracted | Rejected, settings: Settings) -> Extracted | Rejected:
    """Record the extraction fingerprint in the rows to publish, so that a later run can tell
    that the same bytes under the same pipeline and settings need no new extraction."""
    if isinstance(result, Rejected):
        result.extraction_fingerprint = settings.fingerprint()
    else:
        result.plan["extraction_fingerprint"] = settings.fingerprint()
    return result


def list_plan_files(root: Path) -> list[Path]:
    """Every file under an input folder, so that each is read or gets a rejects row naming
    why (an unsupported type, a link leading outside the folder).

    Hidden names (starting with ".") are skipped: by convention they are not documents
    (editor and download temporaries, ``.DS_Store``).  Folders are not entered through
    symbolic links (a link to a folder inside the root would list its files twice, one
    outside it is listed as a file and rejected).
    """
    root = Path(root)
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath)
        for d in list(dirnames):
            if (here / d).is_symlink():
                dirnames.remove(d)
                try:
                    check_inside(here / d, root)
                except ExtractionError:
                    out.append(here / d)
        out.extend(here / f for f in filenames if not f.startswith("."))
    return sorted(out)
