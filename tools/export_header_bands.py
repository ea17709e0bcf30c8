"""Copy the header band of page 1 of real scans into tests/fixtures/realscans/header_bands.

    python tools/export_header_bands.py 9uV_2275_SYT_NVY.pdf BeW_10_gm_syt.pdf ...

For each scan: the band of the page from its top to below the header's number and date lines
(grey, upright and deskewed as the OCR saw it, 200 dpi) as PNG, and those lines as the OCR read
them (text, words with confidences and boxes in page points) as JSON: the real inputs of the
second reader's tests (tests/test_digit_reader.py), which must not OCR whole pages or read
/work/shared.  Run on purpose, on dev documents only.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import cv2  # noqa: E402

from extractors.digit_reader import HEADER_FRACTION, blank_spans  # noqa: E402
from extractors.ocr_engine import engine_for  # noqa: E402
from extractors.raster import load_page, prepare  # noqa: E402
from tools.eval_realscans import FIXTURES, read_pages  # noqa: E402


def main(names: list[str]) -> None:
    eng = engine_for(None)
    out = FIXTURES / "header_bands"
    out.mkdir(exist_ok=True)
    for n in names:
        export(n, eng, out)


def export(name: str, engine: object, out: Path, dpi: int = 200) -> None:
    (page,) = read_pages(FIXTURES / name, [1], None, dpi)
    gray, page_dpi = load_page(FIXTURES / name, 1, dpi)
    prep = prepare(gray, page_dpi, engine)
    k = page_dpi / 72.0
    lines = [ln for ln in page.lines
             if ln.bbox is not None and ln.bbox.top < HEADER_FRACTION * page.height and blank_spans(ln)][:2]
    bottom = int((max(ln.bbox.bottom for ln in lines) + 20) * k)
    stem = name.rsplit(".", 1)[0]
    cv2.imwrite(str(out / f"{stem}.png"), prep.gray[:bottom], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    data = {"source": name, "page": 1, "dpi": page_dpi, "page_height_pt": page.height,
            "lines": [{"text": ln.text, "bbox": asdict(ln.bbox), "confidence": ln.confidence,
                       "words": [{"text": w.text, "conf": w.conf, "bbox": asdict(w.bbox)} for w in ln.words or []]}
                      for ln in lines]}
    (out / f"{stem}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    print(name, [ln.text for ln in lines])


if __name__ == "__main__":
    main(sys.argv[1:])
