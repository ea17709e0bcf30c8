"""A root folder on any fsspec filesystem — a local path or ``s3://bucket/prefix`` — and the
few operations the datasets, the sensor and the IO manager need on it.

This is a thin layer over fsspec on purpose: every operation is one fsspec call, except
``write_bytes``, which makes a write all-or-nothing on both kinds of store.  On a local disk it
writes a temporary file beside the destination, fsyncs it, renames it into place and fsyncs
the folder; on an object store one PUT is already atomic (readers see the old object or the
new one).  S3 endpoints and credentials come from the usual places: ``storage_options``,
``AWS_*`` variables, or fsspec's ``FSSPEC_S3_ENDPOINT_URL``-style configuration.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq


class Storage:
    def __init__(self, root: str | os.PathLike, storage_options: dict[str, Any] | None = None):
        self.url = str(root).rstrip("/") or "/"
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **(storage_options or {}))
        self.local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))

    def __repr__(self) -> str:
        return f"Storage({self.url!r})"

    def path(self, rel: str = "") -> str:
        """The filesystem path of ``rel`` under the root (for fsspec calls)."""
        return f"{self.root}/{rel}" if rel else self.root

    def uri(self, rel: str = "") -> str:
        """``rel`` as a URL that DuckDB, pandas or pyarrow open (``s3://…`` or a local path)."""
        return f"{self.url}/{rel}" if rel else self.url

    def exists(self, rel: str) -> bool:
        return self.fs.exists(self.path(rel))

    def read_bytes(self, rel: str) -> bytes:
        return self.fs.cat_file(self.path(rel))

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Replace ``rel`` with ``data`` all at once (see the module docstring)."""
        if not self.local:
            self.fs.pipe_file(self.path(rel), data)
            return
        dest = Path(self.path(rel))
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name[:60]}.", suffix=".tmp", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def write_parquet(self, rel: str, table: pa.Table) -> None:
        buf = io.BytesIO()
        pq.write_table(table, buf)
        self.write_bytes(rel, buf.getvalue())

    def read_parquet(self, rel: str, columns: list[str] | None = None) -> pa.Table:
        with self.fs.open(self.path(rel), "rb") as fh:
            return pq.read_table(fh, columns=columns)

    def remove(self, rel: str) -> None:
        """Delete ``rel`` if it exists."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.path(rel))

    def glob(self, pattern: str) -> list[str]:
        """Paths relative to the root matching ``pattern`` (sorted)."""
        prefix = self.root.rstrip("/") + "/"
        return sorted(p[len(prefix):] if p.startswith(prefix) else p
                      for p in self.fs.glob(self.path(pattern)))

    def makedirs(self, rel: str) -> None:
        if self.local:
            self.fs.makedirs(self.path(rel), exist_ok=True)

    @contextlib.contextmanager
    def local_file(self, rel: str) -> Iterator[Path]:
        """A local path with the bytes of ``rel`` (the file itself on a local disk, a temporary
        copy otherwise) for readers that need a real file (pdfium, Tesseract)."""
        if self.local:
            yield Path(self.path(rel))
            return
        suffix = Path(rel).suffix
        with tempfile.TemporaryDirectory(prefix="khsyt-") as d:
            tmp = Path(d) / f"input{suffix}"
            self.fs.get_file(self.path(rel), str(tmp))
            yield tmp
