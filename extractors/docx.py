"""Word documents (.docx, and .doc through LibreOffice) -> Document.

The body is read in document order straight from the XML (``document.element.body``): a
paragraph becomes a :class:`Line`, a table a :class:`Table`.  Merged cells come from the
table XML (``w:gridSpan``, ``w:vMerge``, ``w:gridBefore``, legacy ``w:hMerge``) rather than
python-docx's ``Row.cells``, which repeats a merged cell at every grid position it covers; a
vertically merged cell appears once, at its top-left, with its ``row_span``.

Pages: everything goes on ONE page (number 1, method "docx").  A DOCX has no pagination;
page numbers only exist once a renderer lays the text out, and ``w:lastRenderedPageBreak`` is
a stale hint from whichever program saved the file last.  A fake page number would then be
provenance that points at the wrong page of the PDF readers see, and splitting could cut the
appendix table, which in DOCX is one table (its repeated header row, ``w:tblHeader``, is
stored once, and a row that breaks across pages is one row) - exactly what the parsers want.

Text is what a reader sees: tracked deletions, hidden text (``w:vanish``) and the VML
fallback copy of text boxes are skipped; automatic list numbers ("1.", "a)", "-") are
rendered from numbering.xml; ``w:caps``/``w:smallCaps`` runs are upper-cased; runs in a
legacy TCVN3/VNI font (``.VnTime``, ``VNI-Times``) are decoded to Unicode.  Text-box contents
follow the paragraph that anchors them.  Headers, footers, footnotes and comments are not read.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .errors import ExtractionError
from .legacy import decode, has_unicode_vietnamese, legacy_encoding
from .limits import check_docx_parts, check_table
from .model import Block, Cell, Document, Line, Page, Table, clean_text

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


P, R, T, TBL, TR, TC = _w("p"), _w("r"), _w("t"), _w("tbl"), _w("tr"), _w("tc")
SDT, SDT_CONTENT, CUSTOM_XML, TXBX = _w("sdt"), _w("sdtContent"), _w("customXml"), _w("txbxContent")
# Subtrees whose text a reader does not see (or sees elsewhere): deletions, the VML copy of a
# text box, text boxes themselves (emitted after their paragraph), property blocks.
_SKIP = frozenset(
    {_w("del"), _w("moveFrom"), f"{{{_MC}}}Fallback", TXBX, _w("pPr"), _w("rPr"), _w("tblPr"), _w("tcPr")}
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONVERT_TIMEOUT_S = 180


def extract_docx(path: Path) -> Document:
    """Read a .docx (or a .doc/.rtf Word file, converted with LibreOffice) into one Page."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"cannot read {path.name}: {exc}", stage="open") from exc
    sha256 = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in (".doc", ".rtf") or data.startswith(_OLE_MAGIC) or data.startswith(b"{\\rtf"):
        with tempfile.TemporaryDirectory(prefix="khsyt-doc-") as tmp:
            converted = _convert_with_libreoffice(path, Path(tmp))
            blocks = _read_blocks(converted, path)
        source_format = path.suffix.lower().lstrip(".") or "doc"
    else:
        blocks = _read_blocks(path, path)
        source_format = "docx"
    page = Page(number=1, blocks=blocks, method="docx")
    return Document(source_path=str(path), source_format=source_format, pages=[page], sha256=sha256)


def _convert_with_libreoffice(path: Path, workdir: Path) -> Path:
    """Convert a legacy Word file to .docx in ``workdir``; a private LibreOffice profile per call
    lets several conversions run in parallel (a shared profile makes the second one fail)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise ExtractionError(
            f"{path.name}: a .doc needs LibreOffice (soffice) to convert it to .docx, "
            "and neither soffice nor libreoffice is on PATH",
            stage="convert",
        )
    source = workdir / f"source{path.suffix.lower() or '.doc'}"
    shutil.copyfile(path, source)
    cmd = [
        exe,
        f"-env:UserInstallation={(workdir / 'profile').as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "docx",
        "--outdir",
        str(workdir / "out"),
        str(source),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_CONVERT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ExtractionError(f"{path.name}: LibreOffice conversion failed: {exc}", stage="convert") from exc
    out = workdir / "out" / "source.docx"
    if not out.exists():
        detail = (proc.stderr or proc.stdout or "").strip()[-300:]
        raise ExtractionError(
            f"{path.name}: LibreOffice produced no .docx (exit {proc.returncode}): {detail}", stage="convert"
        )
    return out


def _read_blocks(path: Path, shown_as: Path) -> list[Block]:
    import zipfile

    import docx  # python-docx

    try:
        with zipfile.ZipFile(path) as zf:
            check_docx_parts(zf.infolist(), shown_as.name)
    except zipfile.BadZipFile:
        pass  # python-docx gives the reason below
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # zipfile, lxml and python-docx raise many types for damaged files
        raise ExtractionError(
            f"cannot open {shown_as.name} as DOCX: {type(exc).__name__}: {exc}", stage="open"
        ) from exc
    ctx = _Context(_Styles.from_document(document), _Numbering.from_document(document))
    return list(_blocks(document.element.body, ctx))


# --------------------------------------------------------------------------- body and tables


def _blocks(container: etree._Element, ctx: _Context) -> Iterator[Block]:
    for child in container:
        if child.tag == P:
            text, bold = _paragraph(child, ctx)
            if text:
                yield Line(text=text, bold=bold)
            for box in _text_boxes(child):
                yield from _blocks(box, ctx)
        elif child.tag == TBL:
            if _is_layout_table(child):
                yield from _layout_lines(child, ctx)
            else:
                yield _table(child, ctx)
        elif child.tag in (SDT, SDT_CONTENT, CUSTOM_XML):
            yield from _blocks(child, ctx)


def _visible(borders: etree._Element | None) -> bool:
    if borders is None:
        return False
    return any((b.get(_w("val")) or "none") not in ("nil", "none") for b in borders)


def _is_layout_table(tbl: etree._Element) -> bool:
    """A table drawn without any border is page layout (the two-column header and signature
    blocks), not data: a PDF of it has no ruling lines, so it must read as text there too."""
    if _visible(tbl.find(f"{_w('tblPr')}/{_w('tblBorders')}")):
        return False
    style = _val(tbl.find(f"{_w('tblPr')}/{_w('tblStyle')}"))
    if style and style.lower() not in ("normaltable", "tablenormal"):
        return False
    return not any(_visible(tc.find(f"{_w('tcPr')}/{_w('tcBorders')}")) for tc in tbl.iter(TC))


def _layout_lines(tbl: etree._Element, ctx: _Context) -> Iterator[Block]:
    """A layout table's text as Lines, cell by cell (left column before right)."""
    for tr in _children(tbl, TR):
        for tc in _children(tr, TC):
            yield from _blocks(tc, ctx)


def _table(tbl: etree._Element, ctx: _Context) -> Table:
    """One Table per ``w:tbl``; a vMerge-continued cell extends the row_span of the cell above."""
    rows = list(_children(tbl, TR))
    cells: list[Cell] = []
    open_merges: dict[int, Cell] = {}  # grid column -> cell a vMerge "continue" below may extend
    width = len(tbl.findall(f"{_w('tblGrid')}/{_w('gridCol')}"))
    for r, tr in enumerate(rows):
        col = _int_prop(tr, "trPr", "gridBefore", 0)
        previous: Cell | None = None
        for tc in _children(tr, TC):
            span = max(1, _int_prop(tc, "tcPr", "gridSpan", 1))
            check_table(len(rows), col + span, "a DOCX table")
            text = _cell_text(tc, ctx)
            above = open_merges.get(col)
            if _merge(tc, "hMerge") == "continue" and previous is not None:
                previous.col_span += span
                previous.text = clean_text(f"{previous.text} {text}")
            elif _merge(tc, "vMerge") == "continue" and above is not None and above.row + above.row_span == r:
                above.row_span += 1
                above.text = clean_text(f"{above.text} {text}")
                previous = None
            else:
                cell = Cell(row=r, col=col, text=text, col_span=span, bold=_cell_bold(tc, ctx))
                cells.append(cell)
                previous = cell
                if _merge(tc, "vMerge") is not None:  # "restart", or a "continue" with nothing above
                    open_merges[col] = cell
                else:
                    open_merges.pop(col, None)
            col += span
        width = max(width, col + _int_prop(tr, "trPr", "gridAfter", 0))
    width = max([width, *(c.col + c.col_span for c in cells)])
    check_table(len(rows), width, "a DOCX table")
    return Table(n_rows=len(rows), n_cols=width, cells=cells)


def _children(el: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Children with ``tag``, looking through content-control and custom-XML wrappers."""
    for child in el:
        if child.tag == tag:
            yield child
        elif child.tag in (SDT, SDT_CONTENT, CUSTOM_XML):
            yield from _children(child, tag)


def _int_prop(el: etree._Element, props: str, name: str, default: int) -> int:
    node = el.find(f"{_w(props)}/{_w(name)}")
    try:
        return int(node.get(_w("val"))) if node is not None else default
    except (TypeError, ValueError):
        return default


def _merge(tc: etree._Element, kind: str) -> str | None:
    """The merge state of a cell: "restart", "continue" (also a bare element), or None."""
    node = tc.find(f"{_w('tcPr')}/{_w(kind)}")
    if node is None:
        return None
    return node.get(_w("val")) or "continue"


def _cell_text(tc: etree._Element, ctx: _Context) -> str:
    """A cell's paragraphs joined with spaces; a nested table is flattened row by row."""
    parts: list[str] = []
    for child in tc:
        if child.tag == P:
            parts.append(_paragraph(child, ctx)[0])
            parts.extend(_flat_text(box, ctx) for box in _text_boxes(child))
        elif child.tag == TBL:
            parts.extend(_flat_text(tr, ctx) for tr in _children(child, TR))
        elif child.tag in (SDT, SDT_CONTENT, CUSTOM_XML):
            parts.append(_cell_text(child, ctx))
    return clean_text(" ".join(parts))


def _cell_bold(tc: etree._Element, ctx: _Context) -> bool | None:
    """True when every paragraph of the cell that has text is bold (header and group rows
    are often told apart only by weight); None for an empty cell."""
    bolds = [b for t, b in (_paragraph(p, ctx) for p in _children(tc, P)) if t.strip()]
    return all(bool(b) for b in bolds) if bolds else None


def _flat_text(el: etree._Element, ctx: _Context) -> str:
    """A nested table row or a text box inside a cell, flattened to one string."""
    if el.tag == TXBX:
        parts = [b.text if isinstance(b, Line) else _table_text(b) for b in _blocks(el, ctx)]
    else:
        parts = [_cell_text(tc, ctx) for tc in _children(el, TC)]
    return clean_text(" ".join(parts))


def _table_text(table: Table) -> str:
    return " ".join(" ".join(row) for row in table.text_rows())


def _text_boxes(p: etree._Element) -> list[etree._Element]:
    """Text-box contents anchored in a paragraph, once each (not the VML fallback copy)."""
    found: list[etree._Element] = []

    def walk(el: etree._Element) -> None:
        for child in el:
            if child.tag == TXBX:
                found.append(child)
            elif child.tag not in (f"{{{_MC}}}Fallback", _w("del")):
                walk(child)

    walk(p)
    return found


# --------------------------------------------------------------------------- paragraphs and runs


def _paragraph(p: etree._Element, ctx: _Context) -> tuple[str, bool | None]:
    """(text, bold): list label + visible run text; bold when every non-blank run is bold."""
    style_id = _val(p.find(f"{_w('pPr')}/{_w('pStyle')}"))
    pieces: list[str] = []
    bolds: list[bool] = []
    for run in _runs(p):
        props = ctx.styles.run_props(run, style_id)
        if props.vanish:
            continue
        text = _run_text(run)
        if props.font and text:
            enc = legacy_encoding(props.font)
            if enc and not has_unicode_vietnamese(text):
                text = decode(text, enc)
        if props.caps:
            text = text.upper()
        pieces.append(text)
        if text.strip():
            bolds.append(props.bold)
    text = clean_text("".join(pieces))
    label = ctx.numbering.label(p, ctx.styles.numbering_of(style_id))  # counts empty items too
    if not text:
        return "", None
    if label:
        text = clean_text(f"{label} {text}")
    return text, (all(bolds) if bolds else None)


def _runs(el: etree._Element) -> Iterator[etree._Element]:
    for child in el:
        if child.tag == R:
            yield child
        elif child.tag not in _SKIP:
            yield from _runs(child)


_RUN_TEXT = {_w("tab"): " ", _w("br"): " ", _w("cr"): " ", _w("noBreakHyphen"): "-", _w("softHyphen"): ""}


def _run_text(run: etree._Element) -> str:
    out: list[str] = []
    for child in run:
        if child.tag == T:
            out.append(child.text or "")
        elif child.tag in _RUN_TEXT:
            out.append(_RUN_TEXT[child.tag])
    return "".join(out)


def _val(node: etree._Element | None) -> str | None:
    return None if node is None else node.get(_w("val"))


def _on(node: etree._Element | None) -> bool | None:
    """An OOXML on/off property: absent -> None, <w:b/> -> True, w:val="0|false|off" -> False."""
    if node is None:
        return None
    return (node.get(_w("val")) or "true").lower() not in ("0", "false", "off", "none")


# --------------------------------------------------------------------------- styles


@dataclass
class _RunProps:
    bold: bool = False
    caps: bool = False
    vanish: bool = False
    font: str | None = None


@dataclass
class _Style:
    based_on: str | None
    rpr: etree._Element | None
    ppr: etree._Element | None


@dataclass
class _Styles:
    """Enough of styles.xml to know a run's effective bold/caps/hidden/font: direct formatting,
    then the character style chain, the paragraph style chain, the document defaults."""

    styles: dict[str, _Style] = field(default_factory=dict)
    default_paragraph: str | None = None
    defaults: etree._Element | None = None

    @classmethod
    def from_document(cls, document: object) -> _Styles:
        try:
            root = document.styles.element  # type: ignore[attr-defined]
        except Exception:  # no styles part
            return cls()
        out = cls(defaults=root.find(f"{_w('docDefaults')}/{_w('rPrDefault')}/{_w('rPr')}"))
        for st in root.findall(_w("style")):
            sid = st.get(_w("styleId"))
            if not sid:
                continue
            out.styles[sid] = _Style(_val(st.find(_w("basedOn"))), st.find(_w("rPr")), st.find(_w("pPr")))
            if st.get(_w("type")) == "paragraph" and st.get(_w("default")) in ("1", "true", "on"):
                out.default_paragraph = sid
        return out

    def _chain(self, style_id: str | None) -> Iterator[_Style]:
        seen: set[str] = set()
        while style_id and style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            style = self.styles[style_id]
            yield style
            style_id = style.based_on

    def run_props(self, run: etree._Element, paragraph_style: str | None) -> _RunProps:
        rpr = run.find(_w("rPr"))
        layers: list[etree._Element | None] = [rpr]
        char_style = _val(rpr.find(_w("rStyle"))) if rpr is not None else None
        layers += [s.rpr for s in self._chain(char_style)]
        layers += [s.rpr for s in self._chain(paragraph_style or self.default_paragraph)]
        layers.append(self.defaults)
        props = _RunProps()
        for attr, tags in (("bold", ("b",)), ("caps", ("caps", "smallCaps")), ("vanish", ("vanish",))):
            setattr(props, attr, _first_on(layers, tags))
        for layer in layers:
            fonts = layer.find(_w("rFonts")) if layer is not None else None
            name = fonts is not None and (fonts.get(_w("hAnsi")) or fonts.get(_w("ascii")))
            if name:
                props.font = name
                break
        return props

    def numbering_of(self, paragraph_style: str | None) -> etree._Element | None:
        """The ``w:numPr`` a paragraph style (or a style it is based on) gives its paragraphs."""
        for style in self._chain(paragraph_style):
            num_pr = style.ppr.find(_w("numPr")) if style.ppr is not None else None
            if num_pr is not None:
                return num_pr
        return None


def _first_on(layers: list[etree._Element | None], tags: tuple[str, ...]) -> bool:
    for layer in layers:
        if layer is None:
            continue
        for tag in tags:
            value = _on(layer.find(_w(tag)))
            if value is not None:
                return value
    return False


# --------------------------------------------------------------------------- list numbering


@dataclass
class _Level:
    fmt: str
    text: str
    start: int


@dataclass
class _Numbering:
    """Renders automatic list labels ("1.", "a)", "II.", "-") the way Word shows them, so DOCX
    lines read like the PDF text layer of the same document."""

    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)  # numId -> ilvl -> level
    counters: dict[str, dict[int, int]] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: object) -> _Numbering:
        try:
            root = document.part.numbering_part.element  # type: ignore[attr-defined]
        except Exception:  # no numbering part
            return cls()
        abstract: dict[str, dict[int, _Level]] = {}
        for an in root.findall(_w("abstractNum")):
            abstract[an.get(_w("abstractNumId")) or ""] = {
                int(lvl.get(_w("ilvl")) or 0): _level(lvl) for lvl in an.findall(_w("lvl"))
            }
        out = cls()
        for num in root.findall(_w("num")):
            levels = dict(abstract.get(_val(num.find(_w("abstractNumId"))) or "", {}))
            for override in num.findall(_w("lvlOverride")):
                ilvl = int(override.get(_w("ilvl")) or 0)
                lvl = override.find(_w("lvl"))
                if lvl is not None:
                    levels[ilvl] = _level(lvl)
                start = _val(override.find(_w("startOverride")))
                if start is not None and ilvl in levels and start.isdigit():
                    levels[ilvl] = _Level(levels[ilvl].fmt, levels[ilvl].text, int(start))
            out.levels[num.get(_w("numId")) or ""] = levels
        return out

    def label(self, p: etree._Element, style_num_pr: etree._Element | None) -> str:
        num_pr = p.find(f"{_w('pPr')}/{_w('numPr')}")
        num_id = _val(num_pr.find(_w("numId"))) if num_pr is not None else None
        ilvl_s = _val(num_pr.find(_w("ilvl"))) if num_pr is not None else None
        if style_num_pr is not None:
            num_id = num_id or _val(style_num_pr.find(_w("numId")))
            ilvl_s = ilvl_s or _val(style_num_pr.find(_w("ilvl")))
        levels = self.levels.get(num_id or "")
        ilvl = int(ilvl_s) if ilvl_s and ilvl_s.isdigit() else 0
        if not levels or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(num_id or "", {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        level = levels[ilvl]
        if level.fmt == "bullet":
            return _bullet(level.text)
        if level.fmt == "none":
            return ""

        def number(m: re.Match[str]) -> str:
            k = int(m.group(1)) - 1
            lvl = levels.get(k)
            if lvl is None:
                return ""
            return _format_number(counters.get(k, lvl.start), lvl.fmt)

        return re.sub(r"%([1-9])", number, level.text).strip()


def _level(lvl: etree._Element) -> _Level:
    start = _val(lvl.find(_w("start")))
    return _Level(
        fmt=_val(lvl.find(_w("numFmt"))) or "decimal",
        text=_val(lvl.find(_w("lvlText"))) or "",
        start=int(start) if start and start.isdigit() else 1,
    )


def _bullet(text: str) -> str:
    """Bullets drawn from symbol fonts arrive as Private Use Area codes; show them as "•"."""
    text = text.strip()
    if not text or any(0xE000 <= ord(c) <= 0xF8FF for c in text):
        return "•"
    return text


_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))  # fmt: skip


def _format_number(n: int, fmt: str) -> str:
    if fmt in ("upperRoman", "lowerRoman") and n > 0:
        out = ""
        for value, sym in _ROMAN:
            count, n = divmod(n, value)
            out += sym * count
        return out if fmt == "upperRoman" else out.lower()
    if fmt in ("upperLetter", "lowerLetter") and n > 0:
        letter = chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letter if fmt == "upperLetter" else letter.lower()
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


@dataclass
class _Context:
    styles: _Styles
    numbering: _Numbering
