"""Text layers that lie: a scan whose invisible text layer is a broken OCR (diacritics lost or
misplaced) is OCR'd again instead of trusted."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from extractors.ocr_engine import ocr_available
from extractors.pdfdoc import extract_pdf_document
from extractors.text_quality import lost_marks, text_layer_quality

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LYING = FIXTURES / "realscans" / "lying_layer_9uV_2275.pdf"
GOOD = "Căn cứ Công văn số 10/UBQGNKT ngày 27/11/2017 của Ủy ban quốc gia người khuyết tật về việc báo cáo"


def test_words_that_need_marks_they_lack_are_recognised() -> None:
    assert lost_marks("viec") and lost_marks("QUYET") and lost_marks("Kién") and lost_marks("nguoi")
    # plain syllables, acronyms and foreign words are not evidence
    for word in ("ban", "hanh", "UBND", "TTYT", "SYT", "Website", "việc", "QUYẾT", "người"):
        assert not lost_marks(word), word


def test_a_layer_that_kept_some_marks_but_lost_others_is_not_trusted() -> None:
    # every other word lost its marks (capitals all of them): enough diacritics and common
    # words remain to pass the older tests
    words = (GOOD + " " + GOOD.replace("10/UBQGNKT", "3544/LĐTBXH")).split()
    from extractors.text_quality import fold

    broken = " ".join(fold(w) if i % 2 or w.isupper() else w for i, w in enumerate(words))
    q = text_layer_quality("QUYET DINH Ve viec ban hanh Ke hoach " + broken)
    assert q.diacritic_ratio >= 0.08  # would have passed on diacritics alone
    assert not q.usable and q.reason == "lost_diacritics"
    assert text_layer_quality(GOOD + " " + GOOD).usable


def test_real_scan_with_a_broken_ocr_layer_is_read_again(tmp_path: Path) -> None:
    with pdfplumber.open(LYING) as pdf:
        layer = pdf.pages[0].extract_text() or ""
    q = text_layer_quality(layer)
    assert len(layer) > 500 and not q.usable and q.reason == "lost_diacritics"
    if not ocr_available():
        pytest.skip("Tesseract not installed")
    doc = extract_pdf_document(LYING, dpi=200, workers=1, cache_dir=tmp_path)
    (page,) = doc.pages
    assert page.method == "ocr"
    text = page.text()
    assert "Kiên Giang" in text and "người khuyết tật" in text and "Kién" not in text
