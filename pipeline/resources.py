"""Configured resources: where plans come from, where datasets go, how OCR runs."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

from khsyt.extract import SUPPORTED, Settings, list_plan_files, partition_key, sha256_of
from khsyt.objectstore import FsspecStorage, is_url


class PlanStore(ConfigurableResource):
    """The raw plan folder, the curated dataset folder and the OCR settings.

    Paths are relative to the working directory (the repository root under ``dagster dev``
    and ``make run``); tests point them at a temporary directory.
    """

    raw_dir: str = Field(default="data/raw", description="folder watched for plan files")
    curated_dir: str = Field(default="data/curated", description="folder of the Parquet datasets")
    ocr: bool = Field(default=True, description="OCR pages without a usable text layer")
    ocr_dpi: int = Field(default=300, description="OCR rendering resolution (a scan is read at its own when lower)")
    ocr_workers: int | None = Field(default=None, description="OCR processes (default: all cores)")
    cache_dir: str | None = Field(default=None, description="OCR cache folder (default .cache/ocr)")
    corrections_dir: str = Field(default="data/corrections",
                                 description="analysts' corrections, re-applied whenever a plan is published")
    ocr_model: str | None = Field(default=None, description="OCR model (vie_best_int, vie, script-viet); "
                                  "default vie_best_int")

    # partition key → file, built once per resource instance (one per run, one per sensor tick)
    _index: dict[str, Path | str] | None = PrivateAttr(default=None)

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir)

    @property
    def curated(self) -> Path | str:
        """The curated root: a local Path, or the URL itself for object storage (``s3://…``),
        which every datasets function accepts."""
        return self.curated_dir if is_url(self.curated_dir) else Path(self.curated_dir)

    @property
    def corrections(self) -> Path:
        return Path(self.corrections_dir)

    def settings(self) -> Settings:
        return Settings(ocr=self.ocr, ocr_dpi=self.ocr_dpi, ocr_workers=self.ocr_workers,
                        cache_dir=Path(self.cache_dir) if self.cache_dir else None, ocr_model=self.ocr_model)

    def raw_storage(self) -> FsspecStorage | None:
        """The raw folder as object storage when it is a URL (``s3://…``), else None."""
        return FsspecStorage(self.raw_dir) if is_url(self.raw_dir) else None

    def index(self, refresh: bool = False) -> dict[str, Path | str]:
        """partition key → raw file (a local path, or the path relative to an ``s3://`` raw root),
        from one listing of the raw folder (O(1) per lookup)."""
        if self._index is None or refresh:
            remote = self.raw_storage()
            if remote is None:
                self._index = {partition_key(p, self.raw): p for p in list_plan_files(self.raw)}
            else:
                self._index = {partition_key(rel, "."): rel for rel in remote.glob("**")
                               if PurePosixPath(rel).suffix.lower() in SUPPORTED
                               and not PurePosixPath(rel).name.startswith(".")}
        return self._index

    def stamps(self) -> dict[str, str]:
        """partition key → a cheap change stamp of its file (size and modification time or ETag)."""
        remote = self.raw_storage()
        if remote is None:
            return {k: f"{(st := Path(p).stat()).st_size}:{st.st_mtime_ns}" for k, p in self.index().items()}
        out = {}
        for k, rel in self.index().items():
            info = remote.fs.info(remote.path(str(rel)))
            out[k] = f"{info.get('size')}:{info.get('ETag') or info.get('LastModified') or info.get('mtime')}"
        return out

    @contextlib.contextmanager
    def local_file(self, key: str) -> Iterator[Path | None]:
        """The plan file of ``key`` as a local path (a temporary copy when raw is object storage)."""
        where = self.path_for(key)
        remote = self.raw_storage()
        if where is None or remote is None:
            yield where
            return
        with remote.local_file(str(where)) as tmp:
            yield tmp

    def sha256(self, key: str) -> str:
        """SHA-256 of the plan file of ``key`` (streamed from object storage when remote)."""
        where = self.path_for(key)
        remote = self.raw_storage()
        if remote is None:
            return sha256_of(where)
        h = hashlib.sha256()
        with remote.fs.open(remote.path(str(where)), "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    def source_name(self, key: str) -> str:
        """How rows name the file: its path, or its URL on object storage."""
        where = self.path_for(key)
        remote = self.raw_storage()
        return str(where) if remote is None else remote.uri(str(where))

    def path_for(self, partition_key: str) -> Path | str | None:
        """The raw file a partition key stands for (None when it has gone)."""
        path = self.index().get(partition_key)
        if path is None:  # a file added since the index was built
            path = self.index(refresh=True).get(partition_key)
        return path
