"""Resource limits: one settings object, every limit named, each breach a rejects row.

A hostile or broken file (a zip bomb, a 200-inch page, ``gridSpan=100000000``, a 45000²-pixel
image) must cost a bounded amount of memory and time, and say which limit it hit, so the
rest of the batch goes on and an analyst knows what to raise if the file is genuine.

The defaults are generous for real plans (the largest seen: ~300 pages, document.xml of a
few MB, appendix tables of a few hundred rows) and keep one file well under 1 GB of memory.
Change them for a run with :func:`configure` or the environment variable
``KHSYT_LIMITS="max_pages=100,file_seconds=60"``.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace

from .errors import ExtractionError


@dataclass(frozen=True)
class Limits:
    #: decompressed size of one XML part of a DOCX (document.xml, styles.xml …)
    docx_xml_part_bytes: int = 24 << 20
    #: decompressed size of any one part of a DOCX (embedded pictures included)
    docx_part_bytes: int = 128 << 20
    #: decompressed size of all parts of a DOCX together
    docx_total_bytes: int = 256 << 20
    #: size of a converted-text input file
    text_file_bytes: int = 32 << 20
    #: cells of one table grid (rows × columns, merged cells counted over their span)
    table_cells: int = 200_000
    #: pages of one file
    max_pages: int = 2_000
    #: longest side of a page, in inches (A0 is 46.8 in)
    max_page_inches: float = 100.0
    #: pixels of one page render for OCR; a larger page is rendered at a lower dpi
    render_megapixels: float = 60.0
    #: pixels of one embedded or input image
    image_pixels: int = 100_000_000
    #: wall time to read and parse one file
    file_seconds: float = 1_800.0

    @classmethod
    def from_env(cls, spec: str | None = None) -> Limits:
        spec = os.environ.get("KHSYT_LIMITS", "") if spec is None else spec
        kinds = {f.name: f.type for f in fields(cls)}
        values = {}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            name, _, value = item.partition("=")
            if name not in kinds:
                raise ValueError(f"unknown limit {name!r} in KHSYT_LIMITS (known: {', '.join(kinds)})")
            values[name] = float(value) if kinds[name] == "float" else int(float(value))
        return cls(**values)


class LimitExceeded(ExtractionError):
    """A file went past a named limit; the reason names it and its value."""

    def __init__(self, limit: str, detail: str, stage: str = "limits") -> None:
        value = getattr(current(), limit)
        super().__init__(f"limit {limit}={_fmt(limit, value)} exceeded: {detail}", stage=stage)
        self.limit = limit


def _fmt(limit: str, value: float) -> str:
    if limit.endswith("_bytes"):
        return f"{value / (1 << 20):g} MiB"
    return f"{value:g}"


_limits = Limits.from_env()


def current() -> Limits:
    return _limits


def configure(limits: Limits | None = None, **changes) -> Limits:
    """Set the limits of this process (all of them, or some by name); returns the old ones."""
    global _limits
    old = _limits
    _limits = replace(limits or _limits, **changes)
    return old


@contextlib.contextmanager
def limited(**changes) -> Iterator[Limits]:
    """Limits changed for a block (tests)."""
    old = configure(**changes)
    try:
        yield _limits
    finally:
        configure(old)


# ------------------------------------------------------------------------------ checks


def check_table(n_rows: int, n_cols: int, where: str = "a table") -> None:
    if n_rows * n_cols > _limits.table_cells:
        raise LimitExceeded("table_cells", f"{where} spans {n_rows} rows × {n_cols} columns", stage="extract")


def check_pages(n: int) -> None:
    if n > _limits.max_pages:
        raise LimitExceeded("max_pages", f"the file has {n} pages", stage="open")


def check_page_size(width_pt: float, height_pt: float, page: int) -> None:
    side = max(width_pt, height_pt) / 72.0
    if not math.isfinite(side) or side > _limits.max_page_inches:
        raise LimitExceeded("max_page_inches", f"page {page} is {width_pt / 72:.0f} × {height_pt / 72:.0f} in",
                            stage="extract")


def check_image(width: int, height: int, what: str) -> None:
    if width * height > _limits.image_pixels:
        raise LimitExceeded("image_pixels", f"{what} is {width} × {height} px", stage="extract")


def render_dpi(width_pt: float, height_pt: float, dpi: float) -> float:
    """The dpi to render a page at: ``dpi``, lowered so the render stays within
    ``render_megapixels`` (a poster-sized page is read at a lower resolution, not refused)."""
    area_in2 = max(width_pt, 1.0) * max(height_pt, 1.0) / (72.0 * 72.0)
    cap = math.sqrt(_limits.render_megapixels * 1e6 / area_in2)
    return min(float(dpi), cap)


def check_docx_parts(infos, name: str) -> None:
    """Declared uncompressed sizes of a DOCX's zip entries (zipfile never inflates an entry
    past its declared size, so these bound what python-docx and lxml will hold)."""
    total = 0
    for info in infos:
        total += info.file_size
        if info.filename.endswith((".xml", ".rels")) and info.file_size > _limits.docx_xml_part_bytes:
            raise LimitExceeded("docx_xml_part_bytes", f"{name}: {info.filename} is "
                                f"{info.file_size / (1 << 20):.0f} MiB decompressed", stage="open")
        if info.file_size > _limits.docx_part_bytes:
            raise LimitExceeded("docx_part_bytes", f"{name}: {info.filename} is "
                                f"{info.file_size / (1 << 20):.0f} MiB decompressed", stage="open")
    if total > _limits.docx_total_bytes:
        raise LimitExceeded("docx_total_bytes", f"{name} is {total / (1 << 20):.0f} MiB decompressed", stage="open")


def check_file_size(size: int, name: str) -> None:
    if size > _limits.text_file_bytes:
        raise LimitExceeded("text_file_bytes", f"{name} is {size / (1 << 20):.0f} MiB", stage="open")


def span_value(raw: object) -> int:
    """An HTML rowspan/colspan attribute as a span: a malformed or non-positive value is 1
    (what browsers do), so one odd attribute does not reject a whole file."""
    try:
        n = int(str(raw).strip())
    except (TypeError, ValueError):
        return 1
    return n if n >= 1 else 1


# ------------------------------------------------------------------------- wall time

_deadline = threading.local()


class _WallTime(BaseException):
    """Raised by the alarm inside the reading code; turned into LimitExceeded at the edge
    (a BaseException, so no ``except Exception`` on the way swallows it)."""


def check_time() -> None:
    """Cooperative check, for loops that may run in a thread where no alarm can fire."""
    end = getattr(_deadline, "end", None)
    if end is not None and time.monotonic() > end:
        raise LimitExceeded("file_seconds", "reading the file took too long", stage="extract")


class _Watchdog:
    """The wall-time limit outside the main thread, where no SIGALRM can be delivered (a
    worker thread of the caller's own program; Dagster runs steps in the main thread of a
    process, the in-process executor in the caller's): a timer thread that, at the deadline,
    raises :class:`_WallTime` in the reading thread (``PyThreadState_SetAsyncExc``).  Like a
    Python signal handler it takes effect at the next bytecode: a long C call (one pdfium
    render, one Tesseract page) finishes first, then the file stops."""

    def __init__(self, seconds: float) -> None:
        import ctypes

        set_async = ctypes.pythonapi.PyThreadState_SetAsyncExc
        tid = ctypes.c_ulong(threading.get_ident())
        self._raise = lambda: set_async(tid, ctypes.py_object(_WallTime))
        self._withdraw = lambda: set_async(tid, ctypes.c_void_p(None))  # NULL: clears a pending one
        self._lock = threading.Lock()
        self._done = self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if not self._done:
                self.fired = True
                self._raise()

    def stop(self) -> None:
        """Called in the reading thread when the file is done; raises :class:`_WallTime`
        when the deadline fired (a delivery still pending is withdrawn and raised here)."""
        with self._lock:
            self._done = True
            self._timer.cancel()
        if self.fired:
            self._withdraw()
            raise _WallTime()


@contextlib.contextmanager
def file_deadline(name: str) -> Iterator[None]:
    """Bound the wall time of reading one file: a SIGALRM timer in the main thread, a
    watchdog (:class:`_Watchdog`) in any other thread, and the deadline that
    :func:`check_time` enforces in loops."""
    seconds = _limits.file_seconds
    _deadline.end = time.monotonic() + seconds
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous = watchdog = None
    if use_alarm:
        def on_alarm(signum, frame):
            raise _WallTime()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    else:
        watchdog = _Watchdog(seconds)
    try:
        try:
            yield
        finally:
            _deadline.end = None
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
            if watchdog is not None:
                watchdog.stop()
    except _WallTime:
        raise LimitExceeded("file_seconds", f"reading {name} took more than {seconds:g} s",
                            stage="extract") from None
