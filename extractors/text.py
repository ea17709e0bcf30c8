"""Converted text files (.txt / .md, as produced by PDF-to-text and DOCX-to-markdown
tools) → Document.

Such files have no geometry and no pages, but they do keep table rows: tab-separated
lines, markdown pipe tables and HTML ``<table>`` markup.  All become the same Table grids
as a PDF would give (without spans: a merged cell shows as empty cells, which the parsers
fill down as they do for any source).  Inline markup (``<p>``, ``<ul>``, ``<li>``, ``<b>``,
``**``, ``#``) is stripped; bold markers are kept as ``Line.bold`` because section rows and
titles are often told apart only by weight.  A form feed starts a new page.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from .errors import ExtractionError
from .model import Block, Cell, Document, Line, Page, Table, clean_text

_TAG = re.compile(r"<[^>]+>")
_BOLD_HTML = re.compile(r"^\s*<b>(.*)</b>\s*$", re.S | re.I)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")
_MD_ITALIC = re.compile(r"(?<![\*\w])\*(?!\s)([^*]+?)(?<!\s)\*(?![\*\w])")
_PIPE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def strip_markup(text: str) -> tuple[str, bool]:
    """Remove HTML/markdown markup; report whether the whole text was marked bold."""
    raw = text.strip()
    md = _MD_HEADING.sub("", raw)
    bold = bool(_BOLD_HTML.match(md)) or bool(re.fullmatch(r"\*\*(.+)\*\*", md.strip()))
    t = re.sub(r"<\s*(br|/p|/li|li|p|ul|/ul)\b[^>]*>", " ", md, flags=re.I)
    t = _TAG.sub("", t)
    t = _MD_BOLD.sub(r"\1", t)
    t = _MD_ITALIC.sub(r"\1", t)
    t = t.replace("**", "")
    t = html.unescape(t)
    return clean_text(t), bold


class _HtmlTables(HTMLParser):
    """Collect the cells of HTML tables, honouring rowspan/colspan."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple[str, int, int]]]] = []
        self._row: list[tuple[str, int, int]] | None = None
        self._cell: list[str] | None = None
        self._span = (1, 1)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._span = (int(a.get("rowspan") or 1), int(a.get("colspan") or 1))
        elif tag in ("br", "p", "li") and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append((clean_text("".join(self._cell)), *self._span))
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _grid_table(rows: list[list[str]]) -> Table:
    n_cols = max(len(r) for r in rows)
    # a short row (trailing tabs trimmed by the converter) still has every cell, empty
    cells = [Cell(row=i, col=j, text=r[j] if j < len(r) else "") for i, r in enumerate(rows) for j in range(n_cols)]
    return Table(n_rows=len(rows), n_cols=n_cols, cells=cells, spans_known=False)


def _html_table(rows: list[list[tuple[str, int, int]]]) -> Table:
    occupied: set[tuple[int, int]] = set()
    cells: list[Cell] = []
    n_cols = 0
    for i, row in enumerate(rows):
        j = 0
        for text, rs, cs in row:
            while (i, j) in occupied:
                j += 1
            cells.append(Cell(row=i, col=j, text=text, row_span=rs, col_span=cs))
            for di in range(rs):
                for dj in range(cs):
                    occupied.add((i + di, j + dj))
            j += cs
            n_cols = max(n_cols, j)
    return Table(n_rows=len(rows), n_cols=n_cols, cells=cells)


def _split_pipe_row(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [strip_markup(c)[0] for c in s.split("|")]


def parse_text(text: str) -> list[Page]:
    """Split converted text into pages of Lines and Tables in reading order."""
    pages: list[Page] = []
    for number, chunk in enumerate(text.split("\f"), start=1):
        blocks: list[Block] = []
        lines = chunk.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if re.search(r"<table\b", line, re.I):
                j = i
                buf = []
                while j < len(lines):
                    buf.append(lines[j])
                    if re.search(r"</table>", lines[j], re.I):
                        break
                    j += 1
                parser = _HtmlTables()
                parser.feed("\n".join(buf))
                blocks.extend(_html_table(t) for t in parser.tables if t)
                i = j + 1
                continue
            if "\t" in line:
                rows = []
                while i < len(lines) and "\t" in lines[i]:
                    rows.append([strip_markup(c)[0] for c in lines[i].split("\t")])
                    i += 1
                blocks.append(_grid_table(rows))
                continue
            if line.lstrip().startswith("|") and i + 1 < len(lines) and _PIPE_SEP.match(lines[i + 1]):
                rows = [_split_pipe_row(line)]
                i += 2
                while i < len(lines) and lines[i].lstrip().startswith("|"):
                    rows.append(_split_pipe_row(lines[i]))
                    i += 1
                blocks.append(_grid_table(rows))
                continue
            stripped, bold = strip_markup(line)
            if stripped:
                blocks.append(Line(text=stripped, bold=bold or None))
            i += 1
        pages.append(Page(number=number, blocks=blocks, method="text_file"))
    return pages


def extract_text_file(path: Path) -> Document:
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"not UTF-8 text: {exc}", stage="decode") from exc
    if "\x00" in text:
        raise ExtractionError("binary data in a text file", stage="decode")
    return Document(source_path=str(path), source_format=path.suffix.lstrip(".").lower() or "txt",
                    pages=parse_text(text))
