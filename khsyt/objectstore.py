"""The storage interface of the publication protocol (:mod:`khsyt.datasets`) on any fsspec
filesystem — ``s3://bucket/prefix`` on S3 or an S3-compatible store (MinIO, Ceph, moto), and
whatever else fsspec opens — so that ``raw``, ``curated`` and the stored page models can live
off the machine that runs the steps.

A thin wrapper on purpose: each method is one or two fsspec calls.  The semantics the protocol
relies on carry over: on an object store one PUT replaces an object atomically (readers see the
old bytes or the new ones), so ``write_bytes`` is a single ``pipe_file`` and the manifest PUT is
the commit point; ``publish_copy`` is a server-side copy.  Object stores have no advisory locks:
``lock`` is a no-op, and the deployment gives one run per partition at a time (the sensor's run
keys, the daemon's queue).  Endpoints and credentials come from ``storage_options``, the
``AWS_*`` variables, or fsspec's ``FSSPEC_S3_ENDPOINT_URL``-style configuration.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from .storage import check_relative


def is_url(root: object) -> bool:
    """Whether ``root`` names a remote fsspec location (``s3://…``) rather than a local folder."""
    s = str(root)
    return "://" in s and not s.startswith("file://")


class FsspecStorage:
    """A root folder on an fsspec filesystem, addressed by paths relative to it."""

    def __init__(self, root: str, storage_options: dict[str, Any] | None = None) -> None:
        self.url = str(root).rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **(storage_options or {}))
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        self.local = "file" in protocols or "local" in protocols

    def __repr__(self) -> str:
        return f"FsspecStorage({self.url!r})"

    # -- paths ---------------------------------------------------------------------------
    def path(self, rel: str) -> str:
        """The filesystem path of ``rel`` (for calls on ``self.fs``)."""
        return f"{self.root}/{check_relative(rel)}"

    def uri(self, rel: str = "") -> str:
        """A URL of ``rel`` for DuckDB, pandas or pyarrow (``s3://bucket/…``)."""
        return f"{self.url}/{check_relative(rel)}" if rel else self.url

    # -- reads ---------------------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        return self.fs.exists(self.path(rel))

    def read_bytes(self, rel: str) -> bytes:
        try:
            return self.fs.cat_file(self.path(rel))
        except FileNotFoundError:
            raise
        except OSError as exc:  # some stores report a missing key as a generic error
            if not self.fs.exists(self.path(rel)):
                raise FileNotFoundError(rel) from exc
            raise

    def read_parquet(self, rel: str, columns: list[str] | None = None) -> pa.Table:
        with self.fs.open(self.path(rel), "rb") as fh:
            return pq.read_table(fh, columns=columns)

    def read_schema(self, rel: str) -> pa.Schema:
        """The Arrow schema of a Parquet object, from its footer alone."""
        with self.fs.open(self.path(rel), "rb") as fh:
            return pq.read_schema(fh)

    def listdir(self, rel: str) -> list[str]:
        """Names in a folder (empty when it does not exist)."""
        try:
            entries = self.fs.ls(self.path(rel), detail=False, refresh=True)
        except FileNotFoundError:
            return []
        base = self.path(rel).rstrip("/") + "/"
        return sorted(e[len(base):] if e.startswith(base) else PurePosixPath(e).name for e in entries
                      if e.rstrip("/") != base.rstrip("/"))

    def glob(self, pattern: str) -> list[str]:
        """Paths relative to the root matching ``pattern``."""
        base = self.root.rstrip("/") + "/"
        return sorted(p[len(base):] for p in self.fs.glob(self.path(pattern)) if p.startswith(base))

    def same(self, a: str, b: str) -> bool:
        """Whether two paths hold the same bytes (by ETag/checksum when the store gives one)."""
        try:
            ia, ib = self.fs.info(self.path(a)), self.fs.info(self.path(b))
        except FileNotFoundError:
            return False
        tag = next((k for k in ("ETag", "etag", "md5Hash", "checksum") if k in ia and k in ib), None)
        if tag is not None and ia["size"] == ib["size"]:
            return ia[tag] == ib[tag]
        return ia["size"] == ib["size"] and self.read_bytes(a) == self.read_bytes(b)

    # -- writes --------------------------------------------------------------------------
    def write_bytes(self, rel: str, data: bytes) -> None:
        """Replace ``rel`` with ``data`` at once: one PUT on an object store; on a local
        filesystem a temporary file beside it, moved into place."""
        dest = self.path(rel)
        if not self.local:
            self.fs.pipe_file(dest, data)
            return
        parent = str(PurePosixPath(dest).parent)
        self.fs.makedirs(parent, exist_ok=True)
        tmp = f"{parent}/.{PurePosixPath(dest).name}.{secrets.token_hex(4)}.tmp"
        try:
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm_file(tmp)
            raise

    def write_parquet(self, rel: str, table: pa.Table) -> None:
        buf = io.BytesIO()
        pq.write_table(table, buf)
        self.write_bytes(rel, buf.getvalue())

    def publish_copy(self, src: str, dst: str) -> None:
        """Make ``dst`` a copy of the immutable ``src`` (server-side on an object store)."""
        if self.local:
            self.write_bytes(dst, self.read_bytes(src))
        else:
            self.fs.copy(self.path(src), self.path(dst))

    def remove(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.path(rel))

    def remove_tree(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self.path(rel), recursive=True)

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """No lock on an object store (see the module docstring)."""
        yield

    @contextlib.contextmanager
    def local_file(self, rel: str) -> Iterator[Path]:
        """A local copy of ``rel`` for readers that need a real file (pdfium, Tesseract)."""
        if self.local:
            yield Path(self.path(rel))
            return
        with tempfile.TemporaryDirectory(prefix="khsyt-") as d:
            tmp = Path(d) / f"input{PurePosixPath(rel).suffix}"
            self.fs.get_file(self.path(rel), str(tmp))
            yield tmp
