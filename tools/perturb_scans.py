"""Perturbed copies of scanned PDFs, as another scan of the same paper would be: fed askew,
at another resolution, saved as a lossy JPEG.  The evaluation tools read them
(``tools/eval_realscans.py --perturb``, ``tools/eval_kinds.py --kinds scan200@rotate=1.5``) to
tell a rule that holds from one that holds by chance on the scans it was written on.  Not part
of the pipeline: a development tool.
"""

from __future__ import annotations

from pathlib import Path


def perturbed_copy(pdf: Path, spec: str, dest: Path) -> Path:
    """The scan ``pdf`` changed as another scanner or scan would have it, saved at its (new) own
    resolution in its own kind (bilevel stays bilevel): ``rotate=DEG`` (fed askew), ``scale=F``
    (scanned at F times the resolution), ``jpeg=Q`` (saved as a JPEG of quality Q, grey or
    colour), written to ``dest``.  Made once (an existing ``dest`` is kept); the OCR cache keys
    it by content like any file."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c
    from PIL import Image

    from extractors.raster import scan_resolution

    if dest.exists():
        return dest
    kind, _, arg = spec.partition("=")
    value = float(arg)
    frames, dpis = [], []
    doc = pdfium.PdfDocument(str(pdf))
    try:
        for page in doc:
            dpi = round(scan_resolution(page) or 200)
            images = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))
            bilevel = bool(images) and images[0].get_metadata().bits_per_pixel == 1
            img = page.render(scale=dpi / 72.0).to_pil().convert("RGB")
            page.close()
            if kind == "rotate":
                img = img.rotate(value, resample=Image.BILINEAR, expand=False, fillcolor="white")
            elif kind == "scale":
                img = img.resize((round(img.width * value), round(img.height * value)), Image.LANCZOS)
                dpi = round(dpi * value)
            elif kind != "jpeg":
                raise SystemExit(f"unknown perturbation {spec!r} (rotate=DEG, scale=F, jpeg=Q)")
            if bilevel and kind != "jpeg":
                img = img.convert("L").point(lambda v: 255 if v >= 128 else 0).convert("1")
            frames.append(img)
            dpis.append(dpi)
    finally:
        doc.close()
    dest.parent.mkdir(parents=True, exist_ok=True)
    params = {"quality": int(value) if kind == "jpeg" else 95} if frames[0].mode != "1" else {}
    frames[0].save(dest, "PDF", resolution=dpis[0], save_all=True, append_images=frames[1:], **params)
    return dest
