"""The same plan gives the same tasks and metadata whatever file it arrives in: a DOCX and
its PDF export, a PDF typed in the legacy TCVN3 font and its Unicode twin."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.docx import extract_docx
from extractors.pdfdoc import extract_pdf_document
from parsers.plan import parse_document

FIXTURES = Path(__file__).parent / "fixtures"
FIELDS = ("section_code", "section_title", "item", "objective", "task", "activity", "solution", "product",
          "lead_units_raw", "coordinating_units_raw", "monitoring_units_raw", "deadline_raw", "budget_raw")
META = ("province", "doc_number", "issue_date", "issue_date_precision", "plan_year", "plan_period_start",
        "plan_period_end", "title", "signer_name", "signer_title")


def _rows(plan):
    return [tuple(getattr(t, f) for f in FIELDS) for t in plan.tasks]


def _meta(plan):
    return tuple(getattr(plan.meta, f) for f in META)


@pytest.mark.parametrize("doc_id", ["000_c01f5def24a8cc1f", "003_453ccdb535033752"])
def test_docx_gives_the_tasks_of_its_pdf(raw_dir, doc_id):
    from_docx = parse_document(extract_docx(FIXTURES / "docx" / f"{doc_id}.docx"))
    from_pdf = parse_document(extract_pdf_document(raw_dir / f"{doc_id}.pdf", ocr=False))
    assert len(from_docx.tasks) == len(from_pdf.tasks) > 0
    assert _rows(from_docx) == _rows(from_pdf)
    assert _meta(from_docx) == _meta(from_pdf)


def test_legacy_tcvn3_pdf_gives_the_tasks_of_its_unicode_twin():
    legacy = extract_pdf_document(FIXTURES / "legacy" / "001_174c7ea9301aa0d6.legacy_tcvn3.pdf", ocr=False)
    digital = extract_pdf_document(FIXTURES / "legacy" / "001_174c7ea9301aa0d6.digital.pdf", ocr=False)
    assert any(p.method == "legacy_font" for p in legacy.pages)
    a, b = parse_document(legacy), parse_document(digital)
    assert len(a.tasks) == len(b.tasks) > 0
    assert _rows(a) == _rows(b)
    assert _meta(a) == _meta(b)
