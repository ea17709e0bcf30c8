"""Step 1 of the chain: the document's tables → logical task tables.

A table printed over several pages arrives as one Table per page.  A table with a header
row starts a candidate; the next table joins it when it repeats the header (same roles)
or, without a header, has the same number of columns (a page break).  A heading line right
above a piece ("Chỉ tiêu 3.1. …") is the section of the rows that follow.  Once every
piece is in, the columns get their roles from header words and all the data cells
(:func:`parsers.columns.assign_roles`), and only task tables are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from extractors.model import Document, Line, Table

from ..columns import (
    DEFAULT_ROLE_SETTINGS,
    assign_roles,
    header_roles,
    is_column_number_row,
    is_header_row,
    is_task_header,
)
from ..textutil import code_style, fold, normalize_code, split_code
from .model import LogicalTable, Piece, Slot, SourceCell


@dataclass(frozen=True)
class StitchSettings:
    """Tolerances of piece joining and header finding, by name."""

    #: most header rows at the top of a piece (a header, a sub-header, a column-number row)
    max_header_rows: int = 3
    #: a bold first row is a header when its cells are at most this many words
    bold_header_max_words: int = DEFAULT_ROLE_SETTINGS.max_header_words
    #: a repeated header damaged by OCR still matches the first one at this rapidfuzz ratio
    repeated_header_ratio: float = 80.0
    #: two headers are the same table's when at least this many columns agree on a role
    min_agreeing_roles: int = 2
    #: a heading line sets the section of the next piece only when at most this many other
    #: lines stand between them
    max_lines_after_heading: int = 2
    #: a heading longer than this is prose, not a heading
    max_heading_chars: int = 300
    #: a sub-header cell (under a header cell spanning columns) is at most this many words
    max_sub_header_words: int = 4
    #: a header in unknown words is recognised from the content of at least this many rows
    #: (itself and the data under it)
    min_rows_for_content_header: int = 3


DEFAULT_STITCH = StitchSettings()


def slots_of(table: Table, page: int) -> list[list[Slot]]:
    """The table's grid: a slot per position, covered positions marked, each cell with its source."""
    rows = [[Slot(text="", starts=False) for _ in range(table.n_cols)] for _ in range(table.n_rows)]
    for c in table.cells:
        if not (0 <= c.row < table.n_rows and 0 <= c.col < table.n_cols):
            continue
        b = c.bbox
        src = SourceCell(page, c.row, c.col, None, b.x0 if b else None, b.top if b else None,
                         b.x1 if b else None, b.bottom if b else None)
        rows[c.row][c.col] = Slot(text=c.text, starts=True, col_span=c.col_span, confidence=c.confidence,
                                  bold=c.bold, source=src)
        for dr in range(c.row_span):
            for dc in range(c.col_span):
                if dr == 0 and dc == 0:
                    continue
                r, k = c.row + dr, c.col + dc
                if r < table.n_rows and k < table.n_cols:
                    rows[r][k] = Slot(text="", starts=False, from_above=dr > 0, source=src)
    return rows


def row_texts(slots: list[Slot]) -> list[str]:
    return [s.text if s.starts else "" for s in slots]


def header_depth(rows: list[list[Slot]], table: Table | None = None,
                 st: StitchSettings = DEFAULT_STITCH) -> int:
    """Number of header rows at the top of a piece (0 when none).

    A header row names roles in words the vocabulary knows, or, in words it does not
    know, is printed all in bold (where the source can tell) above the data."""
    depth = 0
    for i, row in enumerate(rows[:st.max_header_rows]):
        texts = row_texts(row)
        bold = i == 0 and table is not None and _bold_header(table, st)
        if is_header_row(texts) or bold or (
                depth and (is_column_number_row(texts) or _is_sub_header(rows[i - 1], row, st))):
            depth += 1
        else:
            break
    return depth


def _header_by_content(rows: list[list[Slot]], st: StitchSettings) -> int:
    """1 when the first row reads as a header in words the vocabulary does not know: its
    cells are short, and the rows under it hold a task table by their content alone
    (clauses, and units, deadlines or products).  0 otherwise."""
    if len(rows) < st.min_rows_for_content_header:
        return 0
    head = row_texts(rows[0])
    filled = [t for t in head if t.strip()]
    if len(filled) < 2 or any(len(t.split()) > st.bold_header_max_words for t in filled):
        return 0
    data = [row_texts(r) for r in rows[1:]]
    cols = [[r[j] for r in data if j < len(r)] for j in range(len(head))]
    roles = [c.role for c in assign_roles(head, cols)]
    return 1 if is_task_header(roles) else 0


def _bold_header(table: Table, st: StitchSettings) -> bool:
    cells = [c for c in table.cells if c.row == 0 and c.text.strip()]
    return len(cells) >= 2 and table.n_rows > 1 and all(c.bold for c in cells) and all(
        len(c.text.split()) <= st.bold_header_max_words for c in cells)


def _is_sub_header(parent: list[Slot], row: list[Slot], st: StitchSettings) -> bool:
    """A second header row that splits a merged header cell ("Thời gian" over "Bắt đầu" |
    "Kết thúc"): its words sit only under cells spanning several columns, and are short."""
    spanned = {k for j, s in enumerate(parent) if s.starts and s.col_span > 1 for k in range(j, j + s.col_span)}
    filled = [(j, s.text) for j, s in enumerate(row) if s.starts and s.text.strip()]
    return bool(spanned) and bool(filled) and all(
        j in spanned and len(t.split()) <= st.max_sub_header_words and not any(ch.isdigit() for ch in t)
        for j, t in filled)


def merge_header_roles(rows: list[list[Slot]], depth: int) -> list[str | None]:
    """Roles per column from one or more header rows (a sub-header refines its parent)."""
    roles: list[str | None] = [None] * len(rows[0])
    for row in rows[:depth]:
        for j, r in enumerate(header_roles(row_texts(row))):
            if r and (roles[j] is None or row is not rows[0]):
                roles[j] = r
        # a header cell spanning columns names all of them
        for j, s in enumerate(row):
            if s.starts and s.col_span > 1 and roles[j]:
                for k in range(j + 1, min(len(roles), j + s.col_span)):
                    roles[k] = roles[k] or roles[j]
    return roles


def column_headers(rows: list[list[Slot]], depth: int) -> list[str]:
    """Each column's header text: its header rows joined, a spanning cell counted for every
    column it spans."""
    heads: list[list[str]] = [[] for _ in rows[0]]
    for row in rows[:depth]:
        for j, s in enumerate(row):
            if s.starts and s.text.strip():
                for k in range(j, min(len(heads), j + s.col_span)):
                    if s.text.strip() not in heads[k]:
                        heads[k].append(s.text.strip())
    return [" ".join(h) for h in heads]


def _compatible(a: list[str | None], b: list[str | None], st: StitchSettings) -> bool:
    """Two headers name the same columns when no column gets two different roles and
    enough agree (OCR may lose a header word on one page, not change its meaning)."""
    if len(a) != len(b):
        return False
    agree = sum(1 for x, y in zip(a, b, strict=True) if x is not None and x == y)
    return agree >= st.min_agreeing_roles and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True))


def _similar_header(row: list[Slot], header: str, st: StitchSettings) -> bool:
    text = " ".join(row_texts(row))
    return bool(header.strip()) and fuzz.ratio(fold(text), fold(header)) >= st.repeated_header_ratio


def section_heading(line: Line, st: StitchSettings = DEFAULT_STITCH) -> tuple[str | None, str] | None:
    """A heading line between appendix tables: "Chỉ tiêu 3.1. Tiếp cận …: <note>"."""
    code, rest = split_code(line.text)
    if code is None or not rest or len(rest) > st.max_heading_chars:
        return None
    if code_style(code) is None:
        return None
    title = rest.split(":", 1)[0].strip() if ":" in rest else rest.rstrip(".").strip()
    return (normalize_code(code), title) if title else None


def data_columns(lt: LogicalTable) -> list[list[str]]:
    """Each column's texts over the data rows of every piece (group rows, with fewer than
    three filled cells, and repeated headers left out: they would blur what a column holds)."""
    cols: list[list[str]] = [[] for _ in lt.roles]
    for seg in lt.segments:
        for row in seg.rows:
            texts = row_texts(row)
            if is_header_row(texts) or sum(1 for t in texts if t.strip()) < 3:
                continue
            for j, t in enumerate(texts[:len(cols)]):
                cols[j].append(t)
    return cols


def stitch_tables(doc: Document, st: StitchSettings = DEFAULT_STITCH) -> tuple[list[LogicalTable], list[LogicalTable]]:
    """(task tables, other tables with a header) of the document, pieces joined across pages."""
    cands: list[LogicalTable] = []
    current: LogicalTable | None = None
    pending_section: tuple[str | None, str] | None = None
    lines_since_heading = 0
    per_page: dict[int, int] = {}
    for page_no, block in doc.blocks():
        if isinstance(block, Line):
            heading = section_heading(block, st)
            if heading:
                pending_section, lines_since_heading = heading, 0
            else:
                lines_since_heading += 1
                if lines_since_heading > st.max_lines_after_heading:
                    pending_section = None
            continue
        table = block
        per_page[page_no] = per_page.get(page_no, 0) + 1
        rows = slots_of(table, page_no)
        if not rows:
            continue
        depth = header_depth(rows, table, st)
        if not depth and (current is None or table.n_cols != len(current.roles)):
            depth = _header_by_content(rows, st)
        if depth:
            roles = merge_header_roles(rows, depth)
            same = current is not None and _compatible(roles, current.roles, st)
            if same:
                current.roles = [a or b for a, b in zip(current.roles, roles, strict=True)]
            else:
                current = LogicalTable(roles=roles, table_id=table.id or f"p{page_no}-t{per_page[page_no]}",
                                       header=" ".join(row_texts(rows[0])),
                                       headers=column_headers(rows, depth), hint=list(roles))
                cands.append(current)
            data = rows[depth:]
            continued = same and pending_section is None
        else:
            if current is None or table.n_cols != len(current.roles):
                continue
            # a repeated header whose words OCR damaged is still the header
            data = rows[1:] if _similar_header(rows[0], current.header, st) else rows
            continued = pending_section is None
        if pending_section is not None:
            current.sections_before[len(current.segments)] = pending_section
            pending_section = None
        current.segments.append(Piece(page=page_no, table=table, index_on_page=per_page[page_no],
                                      rows=data, continued=continued))
    tasks, others = [], []
    for lt in cands:
        lt.columns = assign_roles(lt.headers, data_columns(lt), header_roles_hint=lt.roles)
        lt.roles = [c.role for c in lt.columns]
        (tasks if is_task_header(lt.roles) else others).append(lt)
    return tasks, others


def find_task_tables(doc: Document, st: StitchSettings = DEFAULT_STITCH) -> list[LogicalTable]:
    """The document's logical task tables."""
    return stitch_tables(doc, st)[0]
