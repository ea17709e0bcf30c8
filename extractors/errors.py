"""Errors an extractor raises when a file cannot become a Document.

They carry the stage at which reading failed so that a ``rejects`` row can say where and
why, and the rest of a batch can go on.
"""

from __future__ import annotations


class ExtractionError(Exception):
    """A file could not be turned into pages.  ``stage`` names the step that failed."""

    def __init__(self, reason: str, stage: str = "extract") -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage


class UnsupportedFormat(ExtractionError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, stage="detect_format")


class OcrUnavailable(ExtractionError):
    """Tesseract or its Vietnamese data is missing, so image-only pages cannot be read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, stage="ocr")
