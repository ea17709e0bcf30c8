"""Converted text files (.txt / .md, as produced by PDF-to-text, DOCX-to-markdown and
web-page-to-text tools) → Document.

Such files have no geometry and no pages, but they do keep table rows, in four shapes,
all turned into the same Table grids as a PDF would give (without spans: a merged cell
shows as empty cells, which the parsers fill down as they do for any source):

- tab-separated lines;
- GFM pipe tables (``| a | b |`` with a ``|---|`` separator) and pandoc grid tables
  (``+---+---+`` borders, cells over several lines);
- HTML ``<table>`` markup (with real row/col spans);
- *pipe blocks*, as web-page converters write them: every cell its own block between
  bare ``|`` lines, cell text hard-wrapped over several lines, a row closed by an extra
  ``|`` (so a row boundary is two ``|`` lines in a row), an empty cell also two ``|``
  lines, group rows of only one or two cells.  Telling a row end from an empty cell needs
  the table's width, which the first (header) row gives; see :func:`pipe_block_rows`.

Free text keeps one Line per source line, unless the file is *hard-wrapped* (nearly all
lines short, as such converters wrap at about 80 columns mid-sentence): then the wrapped
lines of one paragraph are joined with a space into one Line (:func:`join_wrapped`).
Inline markup (``<p>``, ``<b>``, ``**``, ``*``, ``#``) is stripped; bold is kept as
``Line.bold`` / ``Cell.bold`` because section rows and titles are often told apart only by
weight.  A form feed starts a new page.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from .errors import ExtractionError
from .limits import check_table, span_value
from .model import Block, Cell, Document, Line, Page, Table, clean_text


@dataclass(frozen=True)
class TextFormatSettings:
    """Every tolerance of the converted-text reader, by name."""

    #: a line longer than this is a whole paragraph, not a hard-wrapped piece of one
    long_line_chars: int = 100
    #: a file is hard-wrapped when at most this share of its text lines is long
    max_long_line_share: float = 0.10
    #: a hard-wrapped piece is at least this long (all but a paragraph's last line) ...
    wrapped_line_chars: int = 55
    #: ... and at least this share of the text lines of a hard-wrapped file are such pieces
    min_wrapped_share: float = 0.2
    #: fewest text lines for the hard-wrap statistic to mean anything
    min_lines_for_wrap_check: int = 20
    #: a text run between two ``|`` lines longer than this is prose after the table, not
    #: one more cell (a pipe block has no other end mark when the file has no blank lines)
    max_cell_lines: int = 40
    #: a pipe block's first row is compared with the widths of at least this many rows
    min_rows_to_split_first_row: int = 3


DEFAULT_TEXT_SETTINGS = TextFormatSettings()

_TAG = re.compile(r"<[^>]+>")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s+|$)")
_FOOTNOTE_STAR = re.compile(r"\((\*{1,3})\)")
_PIPE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
#: the border line of a pandoc grid table: "+-----+:====+"
_GRID_SEP = re.compile(r"^\s*\+(?:[-=:]+\+)+\s*$")
#: a line that starts a new paragraph of a hard-wrapped text: a list bullet, "a)", "1.",
#: "1.2.", "II." or "Điều 3." (the markers Vietnamese plans put at the start of an item)
_PARA_MARKER = re.compile(
    r"^(?:[-+•–]\s|[-+•–]$|[a-zđ]\)\s|\d{1,3}(?:\.\d{1,3})*[.)](?:\s|$)|[IVXLC]+[.)](?:\s|$)|Điều\s+\d+)")
_ONLY_MARKER = re.compile(r"^(?:[-+•–]|[a-zđ]\)|\d{1,3}(?:\.\d{1,3})*[.)]?|[IVXLC]+[.)])$")
_SENTENCE_END = re.compile(r"[.:;!?…]\W*$")


def _is_bar(line: str) -> bool:
    return line.strip() == "|"


def is_bold_markup(text: str) -> bool:
    """True when every visible character of ``text`` sits inside ``**…**`` (or ``<b>``)."""
    t = _MD_HEADING.sub("", text.strip())
    if re.fullmatch(r"\s*<b>.*</b>\s*", t, re.S | re.I):
        return True
    if "**" not in t:
        return False
    outside = re.sub(r"\*\*.*?\*\*", "", t, flags=re.S)
    if outside.count("**"):  # an unclosed run: bold to the end
        outside = outside.split("**")[0]
    return not re.sub(r"[\s*]", "", outside) and bool(re.sub(r"[\s*]", "", t))


def strip_markup(text: str) -> tuple[str, bool]:
    """Remove HTML/markdown markup; report whether the whole text was marked bold.

    Every ``*`` is emphasis in these converters (they also leave empty ``** **`` and split
    ``*a* *b*`` runs), except a printed footnote mark ``(*)``, which is kept."""
    raw = text.strip()
    bold = is_bold_markup(raw)
    t = _MD_HEADING.sub("", raw)
    t = re.sub(r"<\s*(br|/p|/li|li|p|ul|/ul)\b[^>]*>", " ", t, flags=re.I)
    t = _TAG.sub("", t)
    t = _FOOTNOTE_STAR.sub(lambda m: "(" + "\x00" * len(m.group(1)) + ")", t)
    t = t.replace("*", "").replace("\x00", "*")
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
            self._span = (span_value(a.get("rowspan") or 1), span_value(a.get("colspan") or 1))
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
    """A table from rows of raw (marked-up) cell texts; short rows get empty cells."""
    n_cols = max(len(r) for r in rows)
    cells = []
    for i, r in enumerate(rows):
        for j in range(n_cols):
            text, bold = strip_markup(r[j]) if j < len(r) else ("", False)
            cells.append(Cell(row=i, col=j, text=text, bold=bold or None))
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
            check_table(max(len(rows), i + rs), j + cs, "an HTML table")
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
    return s.split("|")


# --------------------------------------------------------------------------- grid tables


def _read_grid_table(lines: list[str], i: int) -> tuple[list[list[str]], int]:
    """A pandoc grid table from its first border line ``lines[i]``: columns are cut at the
    border's "+" positions, a cell's lines are joined, rows end at the next border line.
    Returns the rows and the index of the first line after the table."""
    border = lines[i].rstrip()
    cuts = [k for k, ch in enumerate(border) if ch == "+"]
    rows: list[list[str]] = []
    current: list[list[str]] | None = None
    j = i + 1
    while j < len(lines):
        ln = lines[j].rstrip()
        if _GRID_SEP.match(ln):
            if current is not None:
                rows.append(["\n".join(x for x in cell if x) for cell in current])
            current = None
            j += 1
            continue
        if not ln.lstrip().startswith("|"):
            break
        if current is None:
            current = [[] for _ in cuts[:-1]]
        for k, (a, b) in enumerate(zip(cuts, cuts[1:], strict=False)):
            current[k].append(ln[a + 1:b].strip(" |"))
        j += 1
    if current is not None:
        rows.append(["\n".join(x for x in cell if x) for cell in current])
    return rows, j


# --------------------------------------------------------------------------- pipe blocks


def pipe_block_rows(slots: list[str | None]) -> list[list[str]]:
    """Rows of a pipe block from its slots (the text between two successive ``|`` lines,
    ``None`` when they are adjacent).

    A row ends at an empty slot.  A run of k > 1 empty slots is one row end and k-1 empty
    cells: they first complete the row before it to the table's width (that of the first
    row, the header), the rest open the next row.  A single empty slot is always a row
    end: an empty cell inside a row cannot be told from it, and a short row is padded at
    its end (group rows print only their first one or two cells)."""
    segments: list[list[str]] = [[]]
    gaps: list[int] = []  # empty slots after each segment
    for s in slots:
        if s is None:
            if segments[-1]:
                gaps.append(1)
                segments.append([])
            elif gaps:
                gaps[-1] += 1
            else:  # empty slots before the first cell: leading empty cells
                segments[-1].append("")
        else:
            segments[-1].append(s)
    if not segments[-1]:
        segments.pop()
    if not segments:
        return []
    width = len(segments[0])
    rows: list[list[str]] = []
    carry = 0
    for k, seg in enumerate(segments):
        row = [""] * carry + seg
        carry = 0
        extra = gaps[k] - 1 if k < len(gaps) else 0
        while extra and len(row) < width:
            row.append("")
            extra -= 1
        carry = extra
        rows.append(row)
    return rows


def _read_pipe_block(lines: list[str], i: int, st: TextFormatSettings) -> tuple[list[list[str]], int]:
    """Read the pipe block starting at the bare ``|`` of line ``i``; return its rows and
    the index of the first line after it.

    The block goes on over blank lines only when the next non-blank line is another bare
    ``|`` (converters put blank lines between table pieces).  It ends at a ``|`` followed
    by prose: a run of text that reaches a blank line, a heading, a GFM table or the end
    of the file before the next ``|``, or that is longer than ``max_cell_lines``."""
    n = len(lines)
    end = j = i + 1  # end: one past the last bar consumed
    while j < n:
        k = j
        while k < n and not lines[k].strip():
            k += 1
        if k > j:  # blank lines: part of the block only when a bar follows them
            if k < n and _is_bar(lines[k]):
                end = j = k + 1
                continue
            break
        if _is_bar(lines[j]):
            end = j = j + 1
            continue
        while k < n and lines[k].strip() and not lines[k].lstrip().startswith("|") \
                and not _MD_HEADING.match(lines[k]):
            k += 1
        if k >= n or not _is_bar(lines[k]) or k - j > st.max_cell_lines:
            break
        end = j = k + 1
    return pipe_block_rows(_slots_between_bars(lines, i, end)), end


def split_run_on_first_row(rows: list[list[str]],
                           st: TextFormatSettings = DEFAULT_TEXT_SETTINGS) -> list[list[list[str]] | str]:
    """Undo a pipe block that ran over a short table and the prose after it into the next
    table (a file without blank lines gives no other end mark): its first row is then wider
    than the rows under it, and ends in the next table's bold header.  The cells before
    that header are a one-row table and, in its last cell, the prose between the two.

    Returns the parts in reading order: row lists (tables) and strings (prose)."""
    if len(rows) < st.min_rows_to_split_first_row:
        return [rows]
    widths = Counter(len(r) for r in rows[1:])
    width = widths.most_common(1)[0][0]
    first = rows[0]
    extra = len(first) - width
    if extra < 2:
        return [rows]
    head, lead, prose = first[extra:], first[:extra - 1], first[extra - 1]
    if not all(is_bold_markup(c) for c in head if c.strip()) or is_bold_markup(prose):
        return [rows]
    return [[lead], prose, [head, *rows[1:]]]


def _slots_between_bars(lines: list[str], start: int, end: int) -> list[str | None]:
    """The slots between successive bare ``|`` lines of ``lines[start:end]``."""
    bars = [k for k in range(start, end) if _is_bar(lines[k])]
    slots: list[str | None] = []
    for a, b in zip(bars, bars[1:], strict=False):
        body = [ln for ln in lines[a + 1:b] if ln.strip()]
        slots.append("\n".join(body) if body else None)
    return slots


# --------------------------------------------------------------------------- paragraphs


def is_hard_wrapped(lines: list[str], st: TextFormatSettings = DEFAULT_TEXT_SETTINGS) -> bool:
    """True when the free text of a file is wrapped at a fixed width (converters of web
    pages wrap at ~80 columns), so one paragraph spans several lines."""
    text = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("|") and "\t" not in ln]
    if len(text) < st.min_lines_for_wrap_check:
        return False
    lengths = [len(ln.strip()) for ln in text]
    long = sum(n > st.long_line_chars for n in lengths)
    pieces = sum(st.wrapped_line_chars <= n <= st.long_line_chars for n in lengths)
    return long / len(text) <= st.max_long_line_share and pieces / len(text) >= st.min_wrapped_share


def _starts_paragraph(para: list[str], line: str) -> bool:
    """Whether ``line`` starts a new paragraph after the lines ``para`` of the current
    one, in a blank-free run of a hard-wrapped file."""
    joined = "\n".join(para)
    if joined.count("**") % 2 == 1:  # inside an unclosed bold run
        return False
    p, _ = strip_markup(para[-1])
    cur, _ = strip_markup(line)
    if not cur:
        return False
    if len(para) == 1 and _ONLY_MARKER.match(p):  # "1." alone on its line belongs with what follows
        return False
    if is_bold_markup(joined) != is_bold_markup(line):
        return True
    if _PARA_MARKER.match(cur):
        return True
    if line.lstrip().startswith("*"):  # an emphasised run opening a line (caption, title)
        return True
    return bool(_SENTENCE_END.search(p)) and cur[:1].isupper()


def join_wrapped(run: list[str]) -> list[str]:
    """Join the lines of a blank-free run of a hard-wrapped file into paragraphs (raw
    markup kept, so that bold can still be read off the whole paragraph)."""
    paras: list[list[str]] = []
    for ln in run:
        if paras and not _starts_paragraph(paras[-1], ln):
            paras[-1].append(ln)
        else:
            paras.append([ln])
    return ["\n".join(p) for p in paras]


def _line_block(raw: str) -> Line | None:
    text, bold = strip_markup(raw.replace("\n", " "))
    return Line(text=text, bold=bold or None) if text else None


def parse_text(text: str, settings: TextFormatSettings = DEFAULT_TEXT_SETTINGS) -> list[Page]:
    """Split converted text into pages of Lines and Tables in reading order."""
    pages: list[Page] = []
    wrapped = is_hard_wrapped(text.splitlines(), settings)
    for number, chunk in enumerate(text.split("\f"), start=1):
        blocks: list[Block] = []
        lines = chunk.splitlines()
        run: list[str] = []

        def flush(run: list[str] = run, blocks: list[Block] = blocks) -> None:
            for para in (join_wrapped(run) if wrapped else run):
                b = _line_block(para)
                if b:
                    blocks.append(b)
            run.clear()

        i = 0
        while i < len(lines):
            line = lines[i]
            if re.search(r"<table\b", line, re.I):
                flush()
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
                flush()
                rows = []
                while i < len(lines) and "\t" in lines[i]:
                    rows.append(lines[i].split("\t"))
                    i += 1
                blocks.append(_grid_table(rows))
                continue
            if line.lstrip().startswith("|") and i + 1 < len(lines) and _PIPE_SEP.match(lines[i + 1]) \
                    and not _is_bar(line):
                flush()
                rows = [_split_pipe_row(line)]
                i += 2
                while i < len(lines) and lines[i].lstrip().startswith("|") and not _is_bar(lines[i]):
                    rows.append(_split_pipe_row(lines[i]))
                    i += 1
                blocks.append(_grid_table(rows))
                continue
            if _GRID_SEP.match(line) and i + 1 < len(lines) and lines[i + 1].lstrip().startswith("|"):
                flush()
                rows, i = _read_grid_table(lines, i)
                if rows:
                    blocks.append(_grid_table(rows))
                continue
            if _is_bar(line):
                flush()
                rows, i = _read_pipe_block(lines, i, settings)
                for part in split_run_on_first_row(rows, settings):
                    if isinstance(part, str):  # prose the block swallowed between two tables
                        for para in (join_wrapped(part.split("\n")) if wrapped else part.split("\n")):
                            b = _line_block(para)
                            if b:
                                blocks.append(b)
                    elif part:
                        blocks.append(_grid_table(part))
                continue
            if not line.strip():
                flush()
            else:
                run.append(line)
            i += 1
        flush()
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
