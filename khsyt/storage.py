"""Where curated files live: a small storage interface the publication protocol runs on.

The protocol in :mod:`khsyt.datasets` needs only these operations, every one on a path
relative to the storage root (``"tasks/K.parquet"``):

- ``write_bytes`` / ``write_parquet`` — durable replace: written beside the destination,
  flushed (fsync), renamed into place, the folder fsync'd, so after a crash the path holds
  the old bytes or the new ones, never a torn file and never a rename lost by the disk cache;
- ``publish_copy`` — make ``dst`` a copy of the immutable file ``src`` by the same replace
  (a hard link on a local disk, so it costs no bytes);
- ``read_bytes``, ``exists``, ``listdir``, ``same``, ``remove``, ``remove_tree``;
- ``lock(name)`` — an exclusive lock held while one plan is published (released by the
  kernel when a process is killed).

A local folder also has symbolic links, which give the documented view its single switch
(:mod:`khsyt.snapshots`): ``symlinks`` is true, and ``link_many`` (hard links into a new
snapshot folder), ``point`` (replace a symbolic link by one atomic rename), ``exchange``
(swap two names atomically, ``renameat2(RENAME_EXCHANGE)``), ``is_link``, ``readlink`` and
``fsync_dir`` serve it.  Object storage has no links: there the protocol keeps the documented
files in line one by one (see :mod:`khsyt.datasets`).

:class:`LocalStorage` implements them on a local folder.  An object store (``s3://`` through
fsspec/UPath) implements the same methods: there a PUT is atomic and ``lock`` is given by the
deployment (one run per partition); the manifest switch stays the one commit point.

Every relative path is checked to stay inside the root (no ``..``, no absolute path, no
symlink out), so a hostile partition key cannot write or delete anything outside it.

Crash testing: when ``KHSYT_KILL_AT=N`` is set the process kills itself with SIGKILL right
before its N-th mutating operation; ``KHSYT_COUNT_WRITES=FILE`` appends one line per mutating
operation to FILE (tests/reliability use both to kill a run between every pair of writes);
``KHSYT_FSYNC=0`` skips the fsyncs (crash tests only: a kill needs the renames, a power cut
the fsyncs).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.parquet as pq


class PathEscapes(ValueError):
    """A path derived from a key would leave the storage root."""


_ops = 0


def _step(op: str, rel: str) -> None:
    """Count one mutating operation; die here when the crash-test hook says so."""
    global _ops
    _ops += 1
    log = os.environ.get("KHSYT_COUNT_WRITES")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{_ops}\t{op}\t{rel}\n")
    kill_at = os.environ.get("KHSYT_KILL_AT")
    if kill_at and int(kill_at) == _ops:
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_on() -> bool:
    """fsync is what makes a publication survive a power cut; a kill -9 needs only the
    renames.  The crash tests switch it off (KHSYT_FSYNC=0) to run sixty kills in seconds."""
    return os.environ.get("KHSYT_FSYNC", "1") != "0"


def check_relative(rel: str) -> str:
    """A clean POSIX relative path, or PathEscapes."""
    if rel and rel[0] != "/" and "\\" not in rel and "\0" not in rel and \
            all(part not in ("", ".", "..") for part in rel.split("/")):
        return rel  # the common case, without building a path object
    p = PurePosixPath(rel)
    if p.is_absolute() or not p.parts or any(part in ("..", "") for part in p.parts) or "\\" in rel or "\0" in rel:
        raise PathEscapes(f"path {rel!r} is not a plain path inside the dataset folder")
    return p.as_posix()


class LocalStorage:
    """The storage interface on a local folder (see the module docstring)."""

    #: symbolic links and hard links: the documented view is switched whole (khsyt.snapshots)
    symlinks = True

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._resolved_root: Path | None = None

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- paths ---------------------------------------------------------------------------
    def path(self, rel: str) -> Path:
        """The local path of ``rel``, checked to stay inside the root (symlinks resolved)."""
        rel = check_relative(rel)
        p = self.root / rel
        if self._resolved_root is None or not self.root.is_dir():
            self._resolved_root = self.root.resolve()
        root = self._resolved_root
        parent = p.parent.resolve()
        if parent != root and root not in parent.parents:
            raise PathEscapes(f"{rel!r} resolves outside {root}")
        return p

    # -- reads ---------------------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        return self.path(rel).exists()

    def read_bytes(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    def listdir(self, rel: str) -> list[str]:
        """Names in a folder (``""``: the root; empty when it does not exist)."""
        try:
            return sorted(os.listdir(self.root if rel == "" else self.path(rel)))
        except FileNotFoundError:
            return []

    def same(self, a: str, b: str) -> bool:
        """Whether two paths are the same stored file (a hard link of it)."""
        try:
            return os.path.samefile(self.path(a), self.path(b))
        except OSError:
            return False

    def is_link(self, rel: str) -> bool:
        return self.path(rel).is_symlink()

    def readlink(self, rel: str) -> str | None:
        """The target of a symbolic link (None when ``rel`` is not one)."""
        try:
            return os.readlink(self.path(rel))
        except OSError:
            return None

    def is_dir(self, rel: str) -> bool:
        """A real folder (not a symbolic link to one)."""
        p = self.path(rel)
        return p.is_dir() and not p.is_symlink()

    # -- writes --------------------------------------------------------------------------
    def fsync_dir(self, rel: str = "") -> None:
        self._fsync_dir(self.path(rel) if rel else self.root)

    def _fsync_dir(self, d: Path) -> None:
        if not _fsync_on():
            return
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _replace(self, rel: str, fill, op: str = "rename") -> None:
        dst = self.path(rel)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.parent / f".{dst.name}.{secrets.token_hex(4)}.tmp"
        try:
            fill(tmp)
            _step(op, rel)
            os.replace(tmp, dst)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._fsync_dir(dst.parent)

    def write_bytes(self, rel: str, data: bytes) -> None:
        def fill(tmp: Path) -> None:
            _step("write", rel)
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                if _fsync_on():
                    os.fsync(fh.fileno())

        self._replace(rel, fill)

    def read_parquet(self, rel: str, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(self.path(rel), columns=columns)

    def read_schema(self, rel: str) -> pa.Schema:
        """The Arrow schema of a Parquet file, from its footer alone (no column is read)."""
        return pq.read_schema(self.path(rel))

    def write_parquet(self, rel: str, table: pa.Table) -> None:
        buf = io.BytesIO()
        pq.write_table(table, buf)
        self.write_bytes(rel, buf.getvalue())

    def publish_copy(self, src: str, dst: str) -> None:
        source = self.path(src)

        def fill(tmp: Path) -> None:
            _step("link", dst)
            _link_or_copy(source, tmp, flush=True)

        self._replace(dst, fill)

    def link_many(self, pairs: list[tuple[str, str]]) -> None:
        """Hard-link each ``src`` at ``dst``, new names in a folder no reader sees yet (a
        snapshot being built): no temporary, no per-file fsync — the folder is fsync'd before
        it is switched in; a copy where the file system has no hard links.  Each folder is
        checked (and created) once, not per file: a snapshot of thousands of files costs
        little more than the links themselves."""
        folders: dict[str, Path] = {}

        def place(rel: str, make: bool) -> Path:
            parent, _, name = check_relative(rel).rpartition("/")
            if parent not in folders:
                folders[parent] = self.path(rel).parent
                if make:
                    folders[parent].mkdir(parents=True, exist_ok=True)
            return folders[parent] / name

        for src, dst in pairs:
            source, target = place(src, False), place(dst, True)
            _step("link", dst)
            _link_or_copy(source, target, flush=False)

    def point(self, rel: str, target: str) -> None:
        """Make ``rel`` a symbolic link to ``target`` (relative to ``rel``'s folder) with one
        atomic rename: readers see the old link or the new one.  ``IsADirectoryError`` when
        ``rel`` is a real folder (see :meth:`exchange`)."""
        self._replace(rel, lambda tmp: os.symlink(target, tmp), op="switch")

    def exchange(self, a: str, b: str) -> bool:
        """Swap the names ``a`` and ``b`` in one step (``renameat2(RENAME_EXCHANGE)``, Linux
        3.15+ on ext4, xfs, btrfs, tmpfs): how a real folder becomes a link with no moment at
        which neither exists.  False, and nothing done, where the system lacks the call."""
        pa_, pb = self.path(a), self.path(b)
        _step("exchange", b)
        if not _renameat2(pa_, pb):
            return False
        self._fsync_dir(pb.parent)
        return True

    def move(self, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst`` (a new name)."""
        target = self.path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        _step("move", dst)
        os.rename(self.path(src), target)
        self._fsync_dir(target.parent)

    def remove(self, rel: str) -> None:
        p = self.path(rel)
        if p.exists() or p.is_symlink():
            _step("remove", rel)
            p.unlink(missing_ok=True)
            self._fsync_dir(p.parent)

    def remove_tree(self, rel: str) -> None:
        p = self.path(rel)
        if p.exists():
            _step("remove_tree", rel)
            shutil.rmtree(p, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive advisory lock (flock) on ``_locks/<name>.lock``."""
        import fcntl

        p = self.path(f"_locks/{name}.lock")
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _link_or_copy(source: Path, target: Path, flush: bool) -> None:
    """A hard link; a copy (flushed when asked) on a file system without hard links."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        shutil.copyfile(source, target)
        if flush:
            with open(target, "rb+") as fh:
                os.fsync(fh.fileno())


_RENAME_EXCHANGE = 2


def _renameat2(a: Path, b: Path) -> bool:
    """Exchange two paths atomically; False when the C library or the file system lacks it."""
    import ctypes

    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def storage_for(root: Path | str | LocalStorage) -> LocalStorage:
    """The storage of a curated folder (a path, a URL such as ``s3://bucket/curated`` — see
    :mod:`khsyt.objectstore` — or a storage object passed through)."""
    if isinstance(root, LocalStorage) or hasattr(root, "publish_copy"):
        return root  # type: ignore[return-value]
    from .objectstore import FsspecStorage, is_url

    if is_url(root):
        return FsspecStorage(str(root))  # type: ignore[return-value]
    return LocalStorage(root)
