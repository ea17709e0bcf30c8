"""Result types of extracting one plan file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import __version__


@dataclass
class Extracted:
    plan: dict[str, Any]
    tasks: list[dict[str, Any]]
    pages: list[dict[str, Any]]
    legal_refs: list[dict[str, Any]] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)  # one row per table with a header
    warnings: list[str] = field(default_factory=list)
    low_confidence: dict[str, float] = field(default_factory=dict)


@dataclass
class Rejected:
    source_path: str
    source_sha256: str | None
    stage: str
    reason: str
    partition_key: str
    rejected_at: datetime
    pipeline_version: str = __version__
    extraction_fingerprint: str | None = None

    def as_row(self) -> dict[str, Any]:
        return {
            "source_path": self.source_path,
            "source_sha256": self.source_sha256,
            "partition_key": self.partition_key,
            "stage": self.stage,
            "reason": self.reason,
            "rejected_at": self.rejected_at,
            "pipeline_version": self.pipeline_version,
            "extraction_fingerprint": self.extraction_fingerprint,
        }
