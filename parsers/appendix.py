"""Task tables (usually the PHỤ LỤC appendix) → one TaskRow per task.

What this undoes, in the order it happens:

* A table printed over several pages arrives as one Table per page.  Segments are joined
  into one logical table when a page's table repeats the header (same roles) or, when the
  header is not repeated, has the same number of columns and directly follows.
* The first data row after a page break whose leading cells are empty and whose text goes
  on mid-sentence is the rest of the previous row: its text is appended, not a new task.
* A merged cell (a section name, an objective, a lead unit printed once for several rows)
  is filled down into every row it spans.  Where the source cannot represent spans
  (tab-separated text), an empty cell in a fill-down column is read as merged.
* Section rows ("I. Cải cách thể chế", "1. Công tác chỉ đạo, điều hành") and headings
  between tables ("Chỉ tiêu 3.1. …") set ``section_code``/``section_title``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz

from extractors.model import Document, Line, Table

from .columns import (
    DEFAULT_ROLE_SETTINGS,
    ColumnRole,
    assign_roles,
    header_roles,
    is_column_number_row,
    is_header_row,
    is_task_header,
)
from .records import TaskRow
from .textutil import (
    ENTRY_LABEL,
    code_style,
    ends_sentence,
    fold,
    join_text,
    normalize_code,
    split_code,
    starts_mid_sentence,
)
from .units import split_assignment

#: Roles whose value spans rows when printed once in a merged cell.
FILL_DOWN = ("item", "section", "objective", "task", "activity", "solution", "product", "lead",
             "coordinating", "monitoring", "deadline")
#: Fill-down roles that group rows (a parent printed once for its children).
HIERARCHY = ("item", "section", "objective", "task", "activity")
#: Where a source cannot show spans, an empty cell of these roles is read as merged with the
#: cell above (units and deadlines are what plans merge over rows); descriptive columns
#: (solution, product) only when the row states none of its own details.
TEXT_FILL = HIERARCHY + ("lead", "coordinating", "monitoring", "deadline")
#: Roles copied into TaskRow fields.
TEXT_ROLES = {
    "objective": "objective",
    "task": "task",
    "activity": "activity",
    "solution": "solution",
    "product": "product",
    "lead": "lead_units_raw",
    "coordinating": "coordinating_units_raw",
    "monitoring": "monitoring_units_raw",
    "deadline": "deadline_raw",
    "budget": "budget_raw",
}
#: Roles a TaskRow has a field for; any other column's text goes to ``TaskRow.extra``.
KEPT_ROLES = frozenset(TEXT_ROLES) | {"item", "section"}
#: Columns whose cell never opens a group row.
DETAIL_ROLES = ("lead", "coordinating", "deadline", "budget", "product")
#: A bold first row is a header only when its cells are this short (words).
HEADER_MAX_WORDS = DEFAULT_ROLE_SETTINGS.max_header_words
#: The column whose leading number becomes the item when there is no item column.
MAIN_ROLES = ("task", "activity", "solution", "objective")


@dataclass
class Slot:
    """What one grid position of a data row holds."""

    text: str = ""
    starts: bool = True  # a cell starts here (False: covered by a span from above or the left)
    from_above: bool = False
    col_span: int = 1
    confidence: float | None = None
    bold: bool | None = None
    col: int = 0  # grid position, for provenance
    row: int = 0


@dataclass
class Segment:
    page: int
    table: Table
    rows: list[list[Slot]]  # data rows only (header rows removed)
    continued: bool  # the segment continues the previous one (page break)


@dataclass
class LogicalTable:
    roles: list[str | None]
    header: str = ""  # the header row's text, to recognise it when OCR damaged its words
    segments: list[Segment] = field(default_factory=list)
    sections_before: dict[int, tuple[str | None, str]] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)  # each column's header text
    hint: list[str | None] = field(default_factory=list)  # roles read off the header cells alone
    columns: list[ColumnRole] = field(default_factory=list)  # final roles with their evidence


def _slots(table: Table) -> list[list[Slot]]:
    rows = [[Slot(text="", starts=False) for _ in range(table.n_cols)] for _ in range(table.n_rows)]
    for c in table.cells:
        if not (0 <= c.row < table.n_rows and 0 <= c.col < table.n_cols):
            continue
        rows[c.row][c.col] = Slot(text=c.text, starts=True, col_span=c.col_span, confidence=c.confidence,
                                  bold=c.bold, col=c.col, row=c.row)
        for dr in range(c.row_span):
            for dc in range(c.col_span):
                if dr == 0 and dc == 0:
                    continue
                r, k = c.row + dr, c.col + dc
                if r < table.n_rows and k < table.n_cols:
                    rows[r][k] = Slot(text="", starts=False, from_above=dr > 0)
    return rows


def _row_texts(slots: list[Slot]) -> list[str]:
    return [s.text if s.starts else "" for s in slots]


def _header_depth(rows: list[list[Slot]], table: Table | None = None) -> int:
    """Number of header rows at the top of a table segment (0 when none).

    A header row names roles in words the vocabulary knows, or, in words it does not
    know, is printed all in bold (where the source can tell) above a first data row."""
    depth = 0
    for i, row in enumerate(rows[:3]):
        texts = _row_texts(row)
        bold = i == 0 and table is not None and _bold_header(table, texts)
        if is_header_row(texts) or bold or (
                depth and (is_column_number_row(texts) or _is_sub_header(rows[i - 1], row))):
            depth += 1
        else:
            break
    return depth


def _bold_header(table: Table, texts: list[str]) -> bool:
    """Every filled cell of the first row is bold and short, and there are at least two."""
    cells = [c for c in table.cells if c.row == 0 and c.text.strip()]
    return len(cells) >= 2 and all(c.bold for c in cells) and all(
        len(c.text.split()) <= HEADER_MAX_WORDS for c in cells) and len(table.cells) > len(cells)


def _is_sub_header(parent: list[Slot], row: list[Slot]) -> bool:
    """A second header row that splits a merged header cell ("Thời gian" over "Bắt đầu" |
    "Kết thúc"): its words sit only under cells spanning several columns, and are short."""
    spanned = {k for j, s in enumerate(parent) if s.starts and s.col_span > 1 for k in range(j, j + s.col_span)}
    filled = [(j, s.text) for j, s in enumerate(row) if s.starts and s.text.strip()]
    return bool(spanned) and bool(filled) and all(
        j in spanned and len(t.split()) <= 4 and not any(ch.isdigit() for ch in t) for j, t in filled)


def _merge_roles(rows: list[list[Slot]], depth: int) -> list[str | None]:
    """Roles per column from one or more header rows (a sub-header refines its parent)."""
    roles: list[str | None] = [None] * len(rows[0])
    for row in rows[:depth]:
        for j, r in enumerate(header_roles(_row_texts(row))):
            if r and (roles[j] is None or row is not rows[0]):
                roles[j] = r
        # a header cell spanning columns names all of them
        for j, s in enumerate(row):
            if s.starts and s.col_span > 1 and roles[j]:
                for k in range(j + 1, min(len(roles), j + s.col_span)):
                    roles[k] = roles[k] or roles[j]
    return roles


def find_task_tables(doc: Document) -> list[LogicalTable]:
    """Group the document's tables into logical task tables, with the section headings
    (Lines) found between their segments.

    A table with a header row starts a candidate; a header-less table of the same width
    right after it continues it (a page break).  Once every piece is in, the columns get
    their roles from the header words and all data cells (:func:`assign_roles`), and only
    candidates that are task tables are kept."""
    cands: list[LogicalTable] = []
    current: LogicalTable | None = None
    pending_section: tuple[str | None, str] | None = None
    lines_since_heading = 0
    for page_no, block in doc.blocks():
        if isinstance(block, Line):
            heading = _section_heading(block)
            if heading:
                pending_section, lines_since_heading = heading, 0
            else:
                # a heading counts for the next table only when it stands right above it
                lines_since_heading += 1
                if lines_since_heading > 2:
                    pending_section = None
            continue
        table = block
        rows = _slots(table)
        if not rows:
            continue
        depth = _header_depth(rows, table)
        if depth:
            roles = _merge_roles(rows, depth)
            same = current is not None and _compatible(roles, current.roles)
            if same:
                current.roles = [a or b for a, b in zip(current.roles, roles, strict=True)]
            else:
                current = LogicalTable(roles=roles, header=_header_text(rows[0]),
                                       headers=_column_headers(rows, depth), hint=list(roles))
                cands.append(current)
            data = rows[depth:]
            continued = same and pending_section is None
        else:
            if current is None or table.n_cols != len(current.roles):
                continue
            # a repeated header whose words OCR damaged is still the header
            data = rows[1:] if _similar_header(rows[0], current.header) else rows
            continued = pending_section is None
        if pending_section is not None:
            current.sections_before[len(current.segments)] = pending_section
            pending_section = None
        current.segments.append(Segment(page=page_no, table=table, rows=data, continued=continued))
    out = []
    for lt in cands:
        lt.columns = assign_roles(lt.headers, _data_columns(lt), header_roles_hint=lt.roles)
        lt.roles = [c.role for c in lt.columns]
        if is_task_header(lt.roles):
            out.append(lt)
    return out


def _column_headers(rows: list[list[Slot]], depth: int) -> list[str]:
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


def _data_columns(lt: LogicalTable) -> list[list[str]]:
    """The texts of each column over the data rows of every segment (section and
    repeated header rows left out: they would blur what the column holds)."""
    cols: list[list[str]] = [[] for _ in lt.roles]
    for seg in lt.segments:
        for row in seg.rows:
            texts = _row_texts(row)
            if is_header_row(texts) or sum(1 for t in texts if t.strip()) < 3:
                continue
            for j, t in enumerate(texts[:len(cols)]):
                cols[j].append(t)
    return cols


def _compatible(a: list[str | None], b: list[str | None]) -> bool:
    """Two headers name the same columns when no column gets two different roles and at
    least two agree (OCR may lose a header word on one page, not change its meaning)."""
    if len(a) != len(b):
        return False
    agree = sum(1 for x, y in zip(a, b, strict=True) if x is not None and x == y)
    return agree >= 2 and all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))


def _header_text(row: list[Slot]) -> str:
    return " ".join(_row_texts(row))


def _similar_header(row: list[Slot], header: str) -> bool:
    text = _header_text(row)
    return bool(header.strip()) and fuzz.ratio(fold(text), fold(header)) >= 80


def _section_heading(line: Line) -> tuple[str | None, str] | None:
    """A heading line between appendix tables: "Chỉ tiêu 3.1. Tiếp cận …: <note>"."""
    code, rest = split_code(line.text)
    if code is None or not rest or len(rest) > 300:
        return None
    if code_style(code) is None:
        return None
    title = rest.split(":", 1)[0].strip() if ":" in rest else rest.rstrip(".").strip()
    return (normalize_code(code), title) if title else None


def _section_from_text(text: str) -> tuple[str | None, str]:
    code, rest = split_code(text)
    return normalize_code(code), rest.rstrip(":").strip()


class _State:
    """Fill-down memory of one logical table."""

    def __init__(self, roles: list[str | None]) -> None:
        self.roles = roles
        self.memory: list[str] = [""] * len(roles)
        self.section: tuple[str | None, str | None] = (None, None)

    def reset(self) -> None:
        self.memory = [""] * len(self.roles)


def _is_section_row(slots: list[Slot], roles: list[str | None], spans_known: bool,
                    item_styles: set[str]) -> tuple[str | None, str] | None:
    filled = [(j, s) for j, s in enumerate(slots) if s.starts and s.text.strip()]
    if not filled or len(filled) > 2:
        return None
    if any(roles[j] in DETAIL_ROLES for j, _ in filled):
        # a group title padded into a detail column ("5.1 | | Thương mại | | …"), bold
        # like a group row, is still a group title
        if not (len(filled) == 2 and roles[filled[0][0]] == "item" and all(s.bold for _, s in filled)
                and code_style(filled[0][1].text)):
            return None
        return normalize_code(filled[0][1].text), filled[1][1].text.strip().rstrip(":").strip()
    if len(filled) == 2:
        (j0, s0), (j1, s1) = filled
        if roles[j0] != "item":
            return None
        style = code_style(s0.text)
        spans = s1.col_span > 1
        if style is None:
            return None
        if spans or (style not in item_styles and item_styles) or s0.bold and s1.bold:
            return normalize_code(s0.text), s1.text.strip().rstrip(":").strip()
        return None
    j, s = filled[0]
    code, rest = split_code(s.text)
    if roles[j] == "section":
        return None
    wide = s.col_span > 1 and s.col_span * 2 >= len(roles) - 1
    if code is not None and (wide or not spans_known or roles[j] == "item"):
        if ENTRY_LABEL.match(s.text):
            return None
        return normalize_code(code), rest.rstrip(":").strip()
    if wide and not starts_mid_sentence(s.text):
        return None, s.text.strip()
    return None


def _is_continuation(slots: list[Slot], roles: list[str | None], prev: TaskRow | None,
                     prev_stated: set[str] | frozenset[str] = frozenset()) -> bool:
    """First data row after a page break: is it the rest of the previous row?

    Each filled cell either goes on with the previous row's text in its column (it starts
    mid-sentence) or fills a column the previous row left empty (the page cut the row
    before that cell's text began).  A cell that starts a numbered or labelled entry where
    the previous row already had text ("2. …", "Nhiệm vụ 2: …") makes it a new row.
    """
    if prev is None:
        return False
    filled = [(j, s.text) for j, s in enumerate(slots) if s.starts and s.text.strip()]
    if not filled:
        return True
    carried = []
    for j, text in filled:
        if roles[j] == "item":
            return False
        if roles[j] not in prev_stated or not (_field_of(prev, roles[j]) or "").strip():
            continue  # fills a gap the previous row left (a filled-down value is not its own text)
        code, _ = split_code(text)
        if ENTRY_LABEL.match(text) or (code is not None and code_style(code) and roles[j] in MAIN_ROLES):
            return False
        carried.append((j, text))
    if not carried or any(starts_mid_sentence(t) for _, t in carried):
        return True
    # Text that starts with a capital can still continue a cell the page cut off, but such
    # a row fills only a few cells and none of the short ones (units, deadline) that a
    # new row would state afresh.
    if len(filled) * 3 > max(3, len([r for r in roles if r])):
        return False
    if any(roles[j] in ("lead", "coordinating", "deadline", "budget") for j, _ in carried):
        return False
    return all(not ends_sentence(_field_of(prev, roles[j]) or "") for j, _ in carried)


def _field_of(row: TaskRow, role: str | None) -> str | None:
    if role in TEXT_ROLES:
        return getattr(row, TEXT_ROLES[role])
    return None


def _item_styles(table: LogicalTable) -> set[str]:
    try:
        j = table.roles.index("item")
    except ValueError:
        return set()
    styles: dict[str, int] = {}
    for seg in table.segments:
        for row in seg.rows:
            filled = sum(1 for s in row if s.starts and s.text.strip())
            if filled >= 3 and row[j].starts:
                st = code_style(row[j].text.strip().rstrip("."))
                if st:
                    styles[st] = styles.get(st, 0) + 1
    return {max(styles, key=styles.get)} if styles else set()


def _apply_continuation(prev: TaskRow, slots: list[Slot], roles: list[str | None], state: _State,
                        prev_stated: set[str], tasks: list[TaskRow]) -> None:
    """Add the rest of a row cut by a page break to the previous row.

    Text goes after the row's own text; where the row only had a value copied down from
    above, the continued text replaces it.  A section cell cut by the break renames the
    section of every row it spans.
    """
    for j, s in enumerate(slots):
        if not (s.starts and s.text.strip()):
            continue
        role = roles[j]
        own = role in prev_stated or role == "section"  # a section cell is always the group's own
        if role in TEXT_ROLES:
            attr = TEXT_ROLES[role]
            setattr(prev, attr, join_text(getattr(prev, attr), s.text) if own else s.text.strip())
        elif role == "section":
            old = (prev.section_code, prev.section_title)
            code, title = _section_from_text(join_text(state.memory[j], s.text) or "")
            for t in tasks:
                if (t.section_code, t.section_title) == old:
                    t.section_code, t.section_title = code, title or None
        state.memory[j] = (join_text(state.memory[j], s.text) if own else s.text.strip()) or ""


def _strip_item(text: str | None) -> tuple[str | None, str | None]:
    """Split a leading item number off a task cell: "1. Tổ chức …" → ("1", "Tổ chức …")."""
    if not text:
        return None, text
    code, rest = split_code(text)
    if code is None or code_style(code) == "roman":
        return None, text
    return code, rest


def parse_task_table(table: LogicalTable, seq_start: int = 1, table_index: int = 0) -> list[TaskRow]:
    roles = table.roles
    state = _State(roles)
    item_styles = _item_styles(table)
    tasks: list[TaskRow] = []
    prev: TaskRow | None = None
    prev_stated: set[str] = set()
    for si, seg in enumerate(table.segments):
        if si in table.sections_before:
            state.section = table.sections_before[si]
            state.reset()
            prev = None
        spans_known = seg.table.spans_known
        first = True  # the segment's first data row: where a row cut by the page break goes on
        for slots in seg.rows:
            texts = _row_texts(slots)
            if is_header_row(texts) or is_column_number_row(texts):
                continue
            at_break, first = first and seg.continued, False
            if at_break and _is_continuation(slots, roles, prev, prev_stated):
                _apply_continuation(prev, slots, roles, state, prev_stated, tasks)
                # cells merged across the page break keep their remembered value
                prev.page_end = seg.page
                continue
            section = _is_section_row(slots, roles, spans_known, item_styles)
            if section is not None:
                state.section = section
                state.reset()
                prev = None
                continue
            leaves_empty = not any(
                s.starts and s.text.strip() for j, s in enumerate(slots)
                if roles[j] in FILL_DOWN and roles[j] not in HIERARCHY
            )
            values: list[str] = []
            for j, s in enumerate(slots):
                role = roles[j]
                if s.starts and s.text.strip():
                    v = s.text.strip()
                elif role in FILL_DOWN and (
                    s.from_above
                    or (not spans_known and s.starts and (role in TEXT_FILL or leaves_empty))
                    or (at_break and s.starts and not s.text.strip())
                ):
                    v = state.memory[j]
                else:
                    v = ""
                values.append(v)
            # a row with no text of its own or remembered (an empty grid line) is no task
            if not any(values[j] for j, r in enumerate(roles) if r in TEXT_ROLES or r == "section"):
                continue
            for j, v in enumerate(values):
                state.memory[j] = v
            row = _build_row(values, roles, state, seg.page, table_index, table.headers)
            confs = [s.confidence for s in slots if s.starts and s.confidence is not None and s.text.strip()]
            row.confidence = sum(confs) / len(confs) if confs else None
            row.seq = seq_start + len(tasks)
            tasks.append(row)
            prev = row
            prev_stated = {roles[j] for j, s in enumerate(slots) if s.starts and s.text.strip() and roles[j]}
    return tasks


def _build_row(values: list[str], roles: list[str | None], state: _State, page: int, table_index: int,
               headers: list[str] | None = None) -> TaskRow:
    row = TaskRow(source="appendix", page_start=page, page_end=page, table_index=table_index)
    by_role: dict[str, str] = {}
    extra: dict[str, str] = {}
    for j, (v, role) in enumerate(zip(values, roles, strict=False)):
        if role in KEPT_ROLES and v:
            by_role[role] = join_text(by_role.get(role), v) or ""
        elif v:  # a column no field holds keeps its text under its header
            key = (headers[j] if headers and j < len(headers) else "") or f"column {j + 1}"
            extra[key] = join_text(extra.get(key), v) or ""
    row.extra = extra
    if "coordinating" not in roles and by_role.get("lead"):
        # one "Phân công thực hiện" column may state both roles: "Văn phòng phối hợp Phòng …"
        lead, partners = split_assignment(by_role["lead"])
        if partners:
            by_role["lead"], by_role["coordinating"] = lead or "", partners
    for role, attr in TEXT_ROLES.items():
        setattr(row, attr, by_role.get(role) or None)
    if "section" in by_role:
        code, title = _section_from_text(by_role["section"])
        row.section_code, row.section_title = code, title or None
    else:
        row.section_code, row.section_title = state.section
    item = by_role.get("item")
    main = next((r for r in MAIN_ROLES if by_role.get(r) and r != "objective"), None)
    if main:
        code, rest = _strip_item(by_role[main])
        if code is not None:
            setattr(row, TEXT_ROLES[main], rest)
            item = item or code
    row.item = item.strip().rstrip(".") if item else None
    return row


def parse_appendix(doc: Document, seq_start: int = 1) -> tuple[list[TaskRow], int]:
    """All task rows of all task tables, and how many task tables there were."""
    tables = find_task_tables(doc)
    tasks: list[TaskRow] = []
    for i, t in enumerate(tables):
        tasks.extend(parse_task_table(t, seq_start + len(tasks), table_index=i))
    return tasks, len(tables)
