"""The handwritten-digit classifier of the blanks (extractors/glyph_digits.py): how a blank is
cut into marks, MNIST's normalisation, the classifier fitted on the installed samples and kept,
and the real scans' handwritten blanks it reads."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from extractors import glyph_digits as gd
from extractors.errors import OcrUnavailable

needs_samples = pytest.mark.skipif(not gd.samples_path().exists(),
                                   reason="digit samples not installed (make setup)")


def _blank(width: int = 120, height: int = 50) -> np.ndarray:
    return np.full((height, width), 255, np.uint8)


def test_marks_are_cut_left_to_right_specks_and_the_cut_off_slash_left_out() -> None:
    img = _blank()
    cv2.line(img, (20, 8), (20, 40), 0, 3)  # a "1"
    cv2.circle(img, (45, 24), 13, 0, 3)  # a "0"
    cv2.circle(img, (75, 40), 1, 0, -1)  # a dot: lower than a digit
    cv2.line(img, (112, 40), (119, 22), 0, 2)  # the start of the printed "/" at the crop's edge
    found = gd.marks(img)
    assert len(found) == 2
    assert found[0].shape[1] < found[1].shape[1]  # the "1" first, narrower than the "0"
    assert all(m.dtype == np.uint8 and m.max() == 1 for m in found)


def test_a_broken_stroke_is_one_mark_and_touching_digits_are_two() -> None:
    img = _blank()
    cv2.ellipse(img, (40, 25), (12, 16), 0, 190, 350, 0, 3)  # a "0" whose pen skipped:
    cv2.ellipse(img, (40, 25), (12, 16), 0, 10, 170, 0, 3)  # two arcs, their columns shared
    assert len(gd.marks(img)) == 1
    img = _blank(160)
    for x in (30, 52):  # "00" written into each other: one component, as wide as two digits
        cv2.ellipse(img, (x, 25), (12, 16), 0, 0, 360, 0, 3)
    (component,) = [m for m in [np.asarray(img < 128, np.uint8)]]
    assert cv2.connectedComponents(component)[0] == 2  # background and one stroke
    assert len(gd.marks(img)) == 2


def test_a_mark_is_normalised_as_mnist_digits_are() -> None:
    mark = np.zeros((40, 10), np.uint8)
    mark[:, 3:7] = 1
    img = gd.mnist_image(mark).reshape(28, 28)
    rows, cols = np.nonzero(img)
    assert rows.max() - rows.min() + 1 == gd.MNIST_BOX  # fitted into 20 x 20 by its longer side
    m = cv2.moments(img)
    assert abs(m["m10"] / m["m00"] - 14) <= 1 and abs(m["m01"] / m["m00"] - 14) <= 1  # centred by mass
    assert img.max() == pytest.approx(1.0)


def test_without_samples_there_is_no_third_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(gd.SAMPLES_ENV, str(tmp_path / "missing.npz"))
    gd.glyph_reader_for.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="khsyt.ocr"):
            assert gd.glyph_reader_for("auto") is None
        assert "no handwritten-digit classifier" in caplog.text
        with pytest.raises(OcrUnavailable, match="make setup"):
            gd.glyph_reader_for("mnist")
        assert gd.glyph_reader_for("none") is None
    finally:
        gd.glyph_reader_for.cache_clear()


@needs_samples
def test_the_classifier_reads_held_out_mnist_digits() -> None:
    images, labels = gd.load_samples(gd.samples_path())
    assert images.shape == (10_000, 784) and set(labels.tolist()) == set(range(10))
    rng = np.random.default_rng(0)
    order = rng.permutation(len(labels))
    train, test = order[:4000], order[-1000:]
    model = gd.fit(images[train], labels[train])
    assert (model.predict(images[test]) == labels[test]).mean() >= 0.93


@needs_samples
def test_the_fitted_classifier_is_kept_and_a_damaged_copy_fitted_again(tmp_path: Path) -> None:
    images, labels = gd.load_samples(gd.samples_path())
    small = tmp_path / "digits.npz"
    some = np.random.default_rng(0).permutation(len(labels))[:600]
    np.savez_compressed(small, images=np.rint(images[some] * 255).astype(np.uint8), labels=labels[some])
    reader = gd.GlyphDigitReader(small)
    img = _blank()
    cv2.line(img, (40, 8), (42, 42), 0, 4)
    text, conf = reader.read_digits(img)
    assert len(text) == 1 and text.isdigit() and 0 < conf <= 100
    (kept,) = tmp_path.glob("digits-*.onnx")
    kept.write_bytes(b"not a model")
    assert gd.GlyphDigitReader(small).read_digits(img)[0] == text  # fitted again, same reading
    assert kept.stat().st_size > 1000
    assert reader.version == gd.GlyphDigitReader(small).version and gd.GLYPHS_VERSION in reader.version
    assert reader.read_digits(_blank()) == ("", 0.0)


REAL_BLANKS = Path(__file__).parent / "fixtures" / "realscans" / "blanks"


@needs_samples
def test_the_handwritten_blanks_of_real_scans_are_read() -> None:
    """Blanks cut from real scans (tests/fixtures/realscans/blanks, as the OCR cuts them for the
    readers: the blank between the printed words, its rows cut to the ink), named
    <document>_<field>_<digits written>.png."""
    reader = gd.glyph_reader_for("auto")
    assert reader is not None
    files = sorted(REAL_BLANKS.glob("*.png"))
    assert len(files) == 9
    for f in files:
        got, conf = reader.read_digits(cv2.imread(str(f), cv2.IMREAD_GRAYSCALE))
        assert got == f.stem.rsplit("_", 1)[1] and conf > 50, f.name
