"""Configured resources: where plans come from, where datasets go, how OCR runs."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from khsyt.extract import Settings


class PlanStore(ConfigurableResource):
    """The raw plan folder, the curated dataset folder and the OCR settings.

    Paths are relative to the working directory (the repository root under ``dagster dev``
    and ``make run``); tests point them at a temporary directory.
    """

    raw_dir: str = Field(default="data/raw", description="folder watched for plan files")
    curated_dir: str = Field(default="data/curated", description="folder of the Parquet datasets")
    ocr: bool = Field(default=True, description="OCR pages without a usable text layer")
    ocr_dpi: int = Field(default=300, description="rendering resolution for OCR")
    ocr_workers: int | None = Field(default=None, description="OCR processes (default: all cores)")
    cache_dir: str | None = Field(default=None, description="OCR cache folder (default .cache/ocr)")
    ocr_model: str | None = Field(default=None, description="OCR model (vie_best_int, vie, script-viet); "
                                  "default vie_best_int")

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir)

    @property
    def curated(self) -> Path:
        return Path(self.curated_dir)

    def settings(self) -> Settings:
        return Settings(ocr=self.ocr, ocr_dpi=self.ocr_dpi, ocr_workers=self.ocr_workers,
                        cache_dir=Path(self.cache_dir) if self.cache_dir else None, ocr_model=self.ocr_model)

    def path_for(self, partition_key: str) -> Path | None:
        """The raw file a partition key stands for (None when it has gone)."""
        from khsyt.extract import list_plan_files
        from khsyt.extract import partition_key as key_of

        for p in list_plan_files(self.raw):
            if key_of(p, self.raw) == partition_key:
                return p
        return None
