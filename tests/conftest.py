"""Shared fixtures: where the repository and its sample plans are, and the sample plans
read once per session into the page model (PDF text layer and converted text) and parsed.

The samples in data/raw are five real KH-SYT plans, each as a digital PDF and as the text a
conversion tool made of it.  Tests derive their expectations from these files or from facts
read off them by hand; nothing here reads the gold annotations.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # the package is used from the checkout, not installed
    sys.path.insert(0, str(REPO_ROOT))

RAW_DIR = REPO_ROOT / "data" / "raw"
#: The sample plans, by document id (the file name without its suffix).
SAMPLE_IDS = (
    "000_c01f5def24a8cc1f",  # Thanh Hóa 2024: "Nhiệm vụ chung" section cells merged over rows
    "001_174c7ea9301aa0d6",  # Đồng Nai 2020: full-width section rows "1. …"
    "002_5402a99ec6066c4b",  # Hòa Bình 2024: no appendix, bulleted body tasks
    "003_453ccdb535033752",  # Bắc Giang 2023: TT | Mục tiêu | Nhiệm vụ | Hoạt động | … | Kinh phí
    "004_07b90c17cd1837c6",  # Quảng Ngãi 2021-2025: labelled body tasks + "Chỉ tiêu 3.x" tables
)
FORMATS = ("pdf", "txt")


class SampleCache:
    """Sample plans read into the page model and parsed, each at most once per session."""

    def __init__(self, raw_dir: Path) -> None:
        self.raw_dir = raw_dir
        self._docs: dict[tuple[str, str], object] = {}
        self._parsed: dict[tuple[str, str], object] = {}

    def path(self, doc_id: str, fmt: str) -> Path:
        return self.raw_dir / f"{doc_id}.{fmt}"

    def document(self, doc_id: str, fmt: str):
        """The sample read by the plain extractor of its format: the PDF text layer through
        extractors.pdf (no OCR, no legacy-font step) or the converted text file."""
        key = (doc_id, fmt)
        if key not in self._docs:
            path = self.path(doc_id, fmt)
            if fmt == "pdf":
                from extractors.pdf import extract_pdf

                self._docs[key] = extract_pdf(path)
            elif fmt == "txt":
                from extractors.text import extract_text_file

                self._docs[key] = extract_text_file(path)
            else:
                raise ValueError(fmt)
        return self._docs[key]

    def parsed(self, doc_id: str, fmt: str):
        """parsers.plan.parse_document of the sample's Document (metadata and task rows)."""
        key = (doc_id, fmt)
        if key not in self._parsed:
            from parsers.plan import parse_document

            self._parsed[key] = parse_document(self.document(doc_id, fmt))
        return self._parsed[key]


class _LazyDocs(Mapping):
    """doc id → Document of one format, extracted on first access."""

    def __init__(self, cache: SampleCache, fmt: str) -> None:
        self._cache, self._fmt = cache, fmt

    def __getitem__(self, doc_id: str):
        if doc_id not in SAMPLE_IDS:
            raise KeyError(doc_id)
        return self._cache.document(doc_id, self._fmt)

    def __iter__(self) -> Iterator[str]:
        return iter(SAMPLE_IDS)

    def __len__(self) -> int:
        return len(SAMPLE_IDS)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    assert RAW_DIR.is_dir(), f"sample folder missing: {RAW_DIR}"
    return RAW_DIR


@pytest.fixture(scope="session")
def samples(raw_dir: Path) -> SampleCache:
    """Cached Documents and ParsedPlans of the sample plans: samples.document(id, "pdf")."""
    return SampleCache(raw_dir)


@pytest.fixture(scope="session")
def pdf_docs(samples: SampleCache) -> Mapping:
    """doc id → Document from the sample PDF's text layer (extracted once, on first use)."""
    return _LazyDocs(samples, "pdf")


@pytest.fixture(scope="session")
def txt_docs(samples: SampleCache) -> Mapping:
    """doc id → Document from the sample's converted text file (read once, on first use)."""
    return _LazyDocs(samples, "txt")


#: Seven real 2025 plans of other issuers as converted web pages, with their gold
#: (a copy of ../shared/dev2: texts/, gold/, README.md, DECISIONS.md).
DEV2_DIR = REPO_ROOT / "tests" / "fixtures" / "dev2"


@pytest.fixture(scope="session")
def dev2_dir() -> Path:
    assert (DEV2_DIR / "texts").is_dir(), f"dev2 fixtures missing: {DEV2_DIR}"
    return DEV2_DIR


#: Header bands of real scans: page 1's band down to the number and date lines as the OCR saw
#: it (PNG) and those lines as Tesseract read them (JSON; tests/fixtures/realscans/README.md).
HEADER_BANDS = REPO_ROOT / "tests" / "fixtures" / "realscans" / "header_bands"


def header_band(stem: str) -> tuple[list, dict]:
    """The OCR'd header lines of a real scan's band (words with their own confidences and
    boxes in page points) and the band's JSON (dpi, page height, source)."""
    import json

    from extractors.model import BBox, Line, LineWord

    data = json.loads((HEADER_BANDS / f"{stem}.json").read_text(encoding="utf-8"))
    lines = [Line(d["text"], BBox(**d["bbox"]), d["confidence"],
                  words=[LineWord(w["text"], w["conf"], BBox(**w["bbox"])) for w in d["words"]])
             for d in data["lines"]]
    return lines, data
