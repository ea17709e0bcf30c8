"""Bad inputs of the reliability suite, made on the fly (small on disk, huge when read)."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path


def pdf(pages: list[dict], path: Path) -> Path:
    """A PDF whose pages are ``{"size": (w_pt, h_pt), "text": [...], "image": (w_px, h_px)}``;
    an image is a 1-bit all-white XObject whose pixels compress to almost nothing, drawn over
    the whole page, at ``"image_at": (x_pt, y_pt, w_pt, h_pt)`` or by the matrix ``"image_cm"``."""
    objs: list[bytes] = [b"", b""]  # 1: catalog, 2: pages (filled in below)
    kids = []
    font = len(objs) + 1
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for pg in pages:
        w, h = pg.get("size", (595, 842))
        ops = []
        res = f"/Font << /F1 {font} 0 R >>"
        if pg.get("text"):
            ops.append(f"BT /F1 12 Tf 72 {h - 72} Td 14 TL")
            ops += ["(" + t.replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for t in pg["text"]]
            ops.append("ET")
        if pg.get("image"):
            iw, ih = pg["image"]
            z = zlib.compressobj(9)
            row_block = b"\xff" * ((iw + 7) // 8) * 64
            data = b"".join(z.compress(row_block) for _ in range(ih // 64)) + z.flush()
            objs.append(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                        b"/BitsPerComponent 1 /Filter /FlateDecode /Length %d >>\nstream\n" % (iw, ih, len(data))
                        + data + b"\nendstream")
            res += f" /XObject << /Im1 {len(objs)} 0 R >>"
            x, y, bw, bh = pg.get("image_at", (0, 0, w, h))
            ops.append(f"q {pg.get('image_cm', f'{bw} 0 0 {bh} {x} {y}')} cm /Im1 Do Q")
        content = "\n".join(ops).encode("latin-1")
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Contents {len(objs)} 0 R "
                    f"/Resources << {res} >> >>".encode())
        kids.append(len(objs))
    objs[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>").encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))
    return path


_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
       'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
       'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
       'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
       'wordprocessingml.document.main+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
         'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
         'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx(body_chunks, path: Path) -> Path:
    """A DOCX whose document.xml body is the concatenation of ``body_chunks`` (streamed into
    the zip, so a 100 MB part costs no 100 MB of memory here)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}"><w:body>'.encode())
            for chunk in body_chunks:
                fh.write(chunk)
            fh.write(b"</w:body></w:document>")
    return path


def paragraphs(total_bytes: int):
    p = "<w:p><w:r><w:t>Kế hoạch cải cách hành chính năm 2024 của Sở Y tế.</w:t></w:r></w:p>".encode()
    block = p * (1 << 20 // len(p) + 1)
    for _ in range(total_bytes // len(block) + 1):
        yield block


def grid_span(n: int):
    """A bordered (data) table with one cell spanning ``n`` grid columns."""
    borders = '<w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4"/></w:tblBorders></w:tblPr>'
    cell = "<w:tc><w:p><w:r><w:t>Nhiệm vụ</w:t></w:r></w:p></w:tc>"
    yield (f"<w:tbl>{borders}<w:tr>{cell}{cell}</w:tr><w:tr><w:tc><w:tcPr><w:gridSpan w:val=\"{n}\"/></w:tcPr>"
           f"<w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc></w:tr></w:tbl>").encode()


def html_spans(rowspan: str, colspan: str) -> str:
    return (f'<table><tr><td rowspan="{rowspan}" colspan="{colspan}">a</td><td>b</td></tr>'
            "<tr><td>c</td></tr></table>\n")
