"""The OCR engine seam: a tiny interface the OCR extractor talks to, and its Tesseract implementation.

The extractor only needs two things from an engine: words with boxes and confidences for an
image, and an orientation guess for a page.  Keeping that behind a Protocol lets tests use a fake
engine (no Tesseract, no timing noise) and lets another engine be added later as one class,
without touching rendering, grid detection or the page model.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from extractors.errors import ExtractionError, OcrUnavailable

log = logging.getLogger("khsyt.ocr")

INSTALL_HINT = "make system-deps (apt-get install tesseract-ocr tesseract-ocr-vie; the vie_best_int model)"


@dataclass(frozen=True)
class OcrModel:
    """A Tesseract recognition model that can be selected by name (settings ``ocr_model``)."""

    name: str
    lang: str  # Tesseract's ``-l`` value: the traineddata file name without its suffix
    install: str  # how the set-up installs it


#: Measured in bench/RESULTS.md ("Model choice"); the first one is the default.
MODELS: dict[str, OcrModel] = {
    m.name: m
    for m in (
        # tessdata_best (float LSTM) converted to integer: ~3x the size of Debian's "fast" vie;
        # shipped by npm @tesseract.js-data/vie (4.0.0_best_int), installed as vie_best_int
        OcrModel("vie_best_int", "vie_best_int", "make system-deps (tools/install_ocr_model.sh)"),
        OcrModel("vie", "vie", "apt-get install tesseract-ocr-vie"),  # Debian: tessdata_fast
        OcrModel("script-viet", "Vietnamese", "apt-get install tesseract-ocr-script-viet"),  # Latin script model
    )
}
DEFAULT_MODEL = next(iter(MODELS))


def ocr_available(model: str | None = None) -> bool:
    """Whether the engine for ``model`` (default model) can run here."""
    try:
        engine_for(model).check_available()
    except OcrUnavailable:
        return False
    return True


def engine_for(model: str | None = None) -> TesseractEngine:
    """The Tesseract engine for a model name of :data:`MODELS` (default :data:`DEFAULT_MODEL`)."""
    name = model or DEFAULT_MODEL
    if name not in MODELS:
        raise OcrUnavailable(f"unknown OCR model {name!r}; known: {', '.join(MODELS)}")
    return TesseractEngine(lang=MODELS[name].lang)


@dataclass(frozen=True)
class Word:
    """One recognised word, in pixel coordinates of the image it was read from.

    ``block``/``par``/``line`` are the engine's own layout ids; words that share all three were
    read as one text line, which is how free text is regrouped into lines.
    """

    text: str
    bbox: tuple[int, int, int, int]  # x0, top, x1, bottom
    conf: float  # 0-100
    block: int = 0
    par: int = 0
    line: int = 0

    def moved(self, dx: int, dy: int) -> Word:
        """The same word in the coordinates of an image whose origin is (-dx, -dy) in this one's
        (a word read from a crop, placed back on the page)."""
        x0, y0, x1, y1 = self.bbox
        return replace(self, bbox=(x0 + dx, y0 + dy, x1 + dx, y1 + dy))


@dataclass(frozen=True)
class Orientation:
    """Clockwise rotation (0/90/180/270) that makes the image upright, and how sure the engine is."""

    rotate: int
    confidence: float
    source: str = "osd"  # "osd" (the engine) or "geometry" (the ink-profile test in raster.py)


@runtime_checkable
class OcrEngine(Protocol):
    """What the OCR extractor needs from an engine.  Implementations must be picklable
    (they are sent to worker processes) and must not keep per-image state."""

    @property
    def version(self) -> str:
        """Identifies engine + model so cached results are invalidated when either changes."""
        ...

    def check_available(self) -> None:
        """Raise :class:`OcrUnavailable` when the engine cannot run here."""
        ...

    def image_to_words(self, image: np.ndarray, psm: int, dpi: int) -> list[Word]:
        """Words of a grayscale/binary uint8 image, black text on white."""
        ...

    def osd(self, image: np.ndarray, dpi: int) -> Orientation | None:
        """Orientation of the image, or None when the engine cannot tell."""
        ...


def _install_hint(lang: str) -> str:
    for m in MODELS.values():
        if m.lang == lang:
            return m.install
    return INSTALL_HINT


@contextmanager
def _image_file(image: np.ndarray) -> Iterator[str]:
    """The image as an uncompressed BMP in a temporary file: pytesseract would PNG-encode an
    array through PIL, which costs ~0.15 s per 300-dpi page for nothing."""
    import cv2

    fd, path = tempfile.mkstemp(suffix=".bmp", prefix="khsyt-ocr-")
    os.close(fd)
    try:
        if not cv2.imwrite(path, image):
            raise ExtractionError("cannot write OCR image", stage="ocr")
        yield path
    finally:
        with suppress(OSError):
            os.remove(path)


def _run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, capture_output=True, timeout=60, env=env, check=False)


def words_from_tsv(tsv: str) -> list[Word]:
    """Words of Tesseract's TSV output (the CLI's ``tsv`` or the API's ``GetTSVText``; a header
    row is skipped): one parser for every way of calling the engine, and for the benchmark's
    plain-tesseract side.  Rows without text or with a negative confidence (page, block,
    paragraph and line rows) are not words."""
    words: list[Word] = []
    for row in tsv.splitlines():
        f = row.split("\t")
        if len(f) < 12 or not f[0].isdigit():
            continue
        text = f[11].strip()
        conf = float(f[10])
        if conf < 0 or not text:
            continue
        x, y, w, h = (int(v) for v in f[6:10])
        words.append(Word(text=text, bbox=(x, y, x + w, y + h), conf=conf,
                          block=int(f[2]), par=int(f[3]), line=int(f[4])))
    return words


@functools.lru_cache(maxsize=8)
def _tessdata_dir(tesseract_cmd: str) -> str | None:
    """Where the Tesseract CLI looks for traineddata (first line of ``--list-langs``)."""
    try:
        out = _run([tesseract_cmd, "--list-langs"])
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'"([^"]+)"', (out.stdout + out.stderr).decode("utf-8", "replace"))
    return m.group(1) if m else None


_API_LOCAL = threading.local()  # per thread: a TessBaseAPI is not safe to share between threads


def _tesserocr() -> Any | None:
    """The tesserocr module (Tesseract's C++ API, in-process), or None when not installed.

    Tesseract's OpenMP runtime reads its thread limit once, when the library loads: without a
    limit its threads spin on the other cores and a page read in this process costs ~3x the CPU
    (2.55 -> 7.4 CPU s/page on a loaded 2-core machine) for little wall time; pages run in
    parallel as processes instead.  An explicit setting is respected."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        import tesserocr
    except ImportError:
        return None
    return tesserocr


def _release(version_text: str) -> str | None:
    m = re.search(r"tesseract\s+v?([\w.\-]+)", version_text)
    return m.group(1) if m else None


def _cli_release(tesseract_cmd: str) -> str | None:
    """The release of the Tesseract CLI (``tesseract --version``), or None when it cannot tell."""
    try:
        out = _run([tesseract_cmd, "--version"])
    except (OSError, subprocess.SubprocessError):
        return None
    return _release((out.stdout or out.stderr).decode("utf-8", "replace"))


@functools.lru_cache(maxsize=8)
def _api_release(tesseract_cmd: str) -> str | None:
    """The Tesseract release tesserocr is linked to, when it is the CLI's own; None (use the
    CLI) when tesserocr is missing or bundles another release."""
    tesserocr = _tesserocr()
    if tesserocr is None:
        log.info("tesserocr not installed: Tesseract runs as one process per image (make setup)")
        return None
    lib = _release(tesserocr.tesseract_version())
    cli = _cli_release(tesseract_cmd)
    if lib is None or lib != cli:
        log.warning("tesserocr is linked to Tesseract %s, the CLI is %s: using the CLI (make setup builds "
                    "tesserocr against the system Tesseract)", lib, cli)
        return None
    return lib


def _api(datapath: str, lang: str, oem: int, variables: tuple[tuple[str, str], ...]) -> Any:
    """This thread's TessBaseAPI for one model and settings, created (model loaded) once."""
    apis: dict[tuple[Any, ...], Any] = _API_LOCAL.__dict__.setdefault("apis", {})
    key = (datapath, lang, oem, variables)
    if key not in apis:
        tesserocr = _tesserocr()
        assert tesserocr is not None
        try:
            apis[key] = tesserocr.PyTessBaseAPI(path=datapath.rstrip("/") + "/", lang=lang,
                                                oem=oem, variables=dict(variables))
        except RuntimeError as e:
            raise OcrUnavailable(f"Tesseract API cannot load {lang!r} from {datapath}: {e}") from e
    return apis[key]


@dataclass(frozen=True)
class TesseractEngine:
    """Tesseract, LSTM engine (``--oem 1``) with Vietnamese data.

    ``binding="api"`` (default) recognises in-process through tesserocr (Tesseract's C++ API):
    the model is loaded once per process and thread, and the image is handed over as raw bytes.
    The CLI through pytesseract (``binding="cli"``) starts a process per call, which loads the
    ~0.1 s model every time and needs the image written to a file: on a page read in two or
    three calls (page pass, second readings, signer block) that was a fifth of our CPU
    (bench/RESULTS.md).  The API is used only when tesserocr is linked to the same Tesseract
    release as the CLI (``make setup`` builds it against the system library): the wheel's
    bundled newer release reads these scans differently (exact task texts 0.66 instead of 0.71
    on the synthetic scans, words run together), and the settings here were measured with the
    system one.  Otherwise, or without tesserocr, the CLI is used.  OSD and the tessdata lookup
    use the CLI (``tesseract_cmd``) either way.

    ``tesseract_cmd`` is applied to pytesseract right before each call (pytesseract keeps it as
    a module global); worker processes each hold their own copy, so engines with different
    commands do not interfere across processes.
    """

    lang: str = MODELS[DEFAULT_MODEL].lang
    tesseract_cmd: str = "tesseract"
    oem: int = 1
    timeout: int = 120
    # Tesseract 5 re-reads low-confidence lines inverted by default; scans here are black on
    # white, so that only costs time.
    extra_config: str = "-c tessedit_do_invert=0 -c textord_tabfind_find_tables=0"
    binding: str = "api"  # "api": in-process (tesserocr); "cli": one tesseract process per call

    @property
    def version(self) -> str:
        """Binary version, model (name and a digest of its file: a re-installed model of the
        same name invalidates the cache), how recognition is called (the API's library
        version) and the settings every call uses."""
        path = self.model_path()
        digest = "missing"
        if path is not None:
            st = os.stat(path)
            digest = hashlib.sha256(f"{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:12]
        release = _api_release(self.tesseract_cmd) if self.binding == "api" else None
        via = "cli" if release is None else f"api{release}"
        return (f"tesseract:{self._binary_version()}:{via}:{self.lang}@{digest}:oem{self.oem}:"
                f"{self.extra_config}")

    def tessdata_dir(self) -> str | None:
        """Where this Tesseract looks for traineddata (first line of ``--list-langs``)."""
        return _tessdata_dir(self.tesseract_cmd)

    def _variables(self) -> tuple[tuple[str, str], ...]:
        """``extra_config``'s ``-c name=value`` settings, for the API."""
        return tuple(re.findall(r"-c\s+(\w+)=(\S+)", self.extra_config))

    def _uses_api(self) -> bool:
        return self.binding == "api" and _api_release(self.tesseract_cmd) is not None

    def model_path(self) -> str | None:
        """The traineddata file of ``lang`` (first language of a ``a+b`` list), if installed."""
        root = self.tessdata_dir()
        if root is None:
            return None
        path = os.path.join(root, self.lang.split("+")[0] + ".traineddata")
        return path if os.path.isfile(path) else None

    def _binary_version(self) -> str:
        return _cli_release(self.tesseract_cmd) or "unknown"

    def check_available(self) -> None:
        if shutil.which(self.tesseract_cmd) is None and not os.path.isfile(self.tesseract_cmd):
            raise OcrUnavailable(f"Tesseract not found ({self.tesseract_cmd!r}): {INSTALL_HINT}")
        try:
            res = _run([self.tesseract_cmd, "--list-langs"])
        except (OSError, subprocess.SubprocessError) as e:
            raise OcrUnavailable(f"Tesseract not found ({self.tesseract_cmd!r}): {INSTALL_HINT}") from e
        if res.returncode not in (0, 1):
            raise OcrUnavailable(f"Tesseract not runnable ({self.tesseract_cmd!r}): {INSTALL_HINT}")
        listing = (res.stdout + res.stderr).decode("utf-8", "replace").split()
        missing = [lang for lang in self.lang.split("+") if lang not in listing]
        if missing:
            raise OcrUnavailable(
                f"Vietnamese data missing: Tesseract has no {'+'.join(missing)!r} traineddata "
                f"({_install_hint(missing[0])})"
            )

    def _config(self, psm: int, dpi: int) -> str:
        return f"--oem {self.oem} --psm {psm} --dpi {dpi} {self.extra_config}".strip()

    def _prepare_call(self) -> None:
        import pytesseract

        pytesseract.pytesseract.tesseract_cmd = self.tesseract_cmd
        # Tesseract's OpenMP threads spin on the other cores: with them one page costs ~6x the
        # CPU for no gain.  Worker processes set this too; an explicit setting is respected.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")

    def image_to_words(self, image: np.ndarray, psm: int, dpi: int) -> list[Word]:
        if self._uses_api():
            return words_from_tsv(self._api_tsv(image, psm, dpi))
        import pytesseract

        self._prepare_call()
        try:
            with _image_file(image) as path:
                tsv = pytesseract.image_to_data(path, lang=self.lang, config=self._config(psm, dpi),
                                                timeout=self.timeout)
        except pytesseract.TesseractNotFoundError as e:
            raise OcrUnavailable(f"Tesseract not found ({self.tesseract_cmd!r}): {INSTALL_HINT}") from e
        except (pytesseract.TesseractError, RuntimeError) as e:
            raise ExtractionError(f"Tesseract failed: {e}", stage="ocr") from e
        return words_from_tsv(tsv)

    def _api_tsv(self, image: np.ndarray, psm: int, dpi: int) -> str:
        """TSV of one image recognised in-process (same settings as the CLI call)."""
        datapath = self.tessdata_dir()
        if datapath is None:
            raise OcrUnavailable(f"Tesseract not found ({self.tesseract_cmd!r}): {INSTALL_HINT}")
        tesserocr = _tesserocr()
        assert tesserocr is not None
        api = _api(datapath, self.lang, self.oem, self._variables())
        img = np.ascontiguousarray(image, dtype=np.uint8)
        h, w = img.shape[:2]
        api.SetPageSegMode(psm)
        api.SetImageBytes(img.tobytes(), w, h, 1, w)
        api.SetSourceResolution(dpi)
        if not api.Recognize(self.timeout * 1000):
            raise ExtractionError("Tesseract failed: recognition timed out or was cancelled", stage="ocr")
        return api.GetTSVText(0)

    def osd(self, image: np.ndarray, dpi: int) -> Orientation | None:
        import pytesseract

        self._prepare_call()
        try:
            with _image_file(image) as path:
                out = pytesseract.image_to_osd(path, config=f"--dpi {dpi}", timeout=self.timeout)
        except pytesseract.TesseractNotFoundError as e:
            raise OcrUnavailable(f"Tesseract not found ({self.tesseract_cmd!r}): {INSTALL_HINT}") from e
        except (pytesseract.TesseractError, RuntimeError):
            return None  # too little text, or no osd data: the caller keeps its own guess
        rot = re.search(r"Rotate:\s*(\d+)", out)
        conf = re.search(r"Orientation confidence:\s*([\d.]+)", out)
        if not rot or not conf:
            return None
        return Orientation(rotate=int(rot.group(1)) % 360, confidence=float(conf.group(1)))
