"""Steps 2-6 of the chain: a logical table → task records.

Each step is a function of the rows before it (and a named settings object), so each can
be tested on a small hand-made grid:

2. :func:`table_rows` — the pieces' data rows in order; repeated header and column-number
   rows dropped; headings between pieces become "heading" rows; the first row of a piece
   that continues the previous one is marked ``at_break``.
3. :func:`join_continued_rows` — a row cut by a page break is joined to the row it
   continues; group rows ("I. Cải cách thể chế", "5.1 | Thương mại") are marked; a row
   into which a converter merged two rows ("… quy định. Nhiệm vụ 2: …") is split in two
   (:func:`split_merged_row`).
4. :func:`fill_down` — a value printed once for several rows (a merged cell, or an empty
   cell where the source cannot show merges) is copied into each row, per the policy of
   ``data/table_rules.yaml``.
5. :func:`assign_sections` — group rows and headings (any depth: A / I / 1 / 1.1) set the
   section of the rows under them.
6. :func:`to_records` — one :class:`TaskRow` per data row, with ``table_id``, the source
   cells it was read from, and the text of columns no field holds in ``extra``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache

from .._text import load_yaml
from ..columns import is_column_number_row, is_header_row
from ..deadlines import deadline_phrases, parse_deadlines
from ..records import TaskRow
from ..textutil import (
    ENTRY_LABEL,
    code_style,
    ends_sentence,
    join_text,
    normalize_code,
    split_code,
    starts_mid_sentence,
)
from ..units import split_assignment
from .model import LogicalTable, Row, Slot, SourceCell

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
#: The columns whose leading number becomes the item when there is no item column.
MAIN_ROLES = ("task", "activity", "solution", "objective")
#: Columns whose cell never opens a group row.
DETAIL_ROLES = ("lead", "coordinating", "deadline", "budget", "product")
#: Short columns a new row states afresh: a row after a break that fills them is not a continuation.
SHORT_ROLES = ("lead", "coordinating", "deadline", "budget")


@dataclass(frozen=True)
class FillDownPolicy:
    """Which roles' values span rows (``data/table_rules.yaml``)."""

    spanned: frozenset[str]
    empty_without_spans: frozenset[str]
    empty_when_row_has_no_details: frozenset[str]
    hierarchy: frozenset[str]


@cache
def fill_down_policy() -> FillDownPolicy:
    d = load_yaml("table_rules.yaml")["fill_down"]
    return FillDownPolicy(*(frozenset(d[k]) for k in (
        "spanned", "empty_without_spans", "empty_when_row_has_no_details", "hierarchy")))


@dataclass(frozen=True)
class ContinuationSettings:
    """When the first row after a page break is the rest of the row before it."""

    #: a row whose carried text starts with a capital still continues when it fills at
    #: most this share of the table's role columns ...
    max_filled_share: float = 1 / 3
    #: ... counted over at least this many columns
    min_columns_for_share: int = 3


@dataclass(frozen=True)
class SectionSettings:
    """What a group row looks like."""

    #: a group row fills at most this many cells (a code and a title)
    max_cells: int = 2
    #: a lone cell is full-width when it spans at least this share of the other columns
    min_wide_share: float = 0.5


DEFAULT_CONTINUATION = ContinuationSettings()
DEFAULT_SECTION = SectionSettings()


# --------------------------------------------------------------------------- 2. rows


def table_rows(lt: LogicalTable) -> tuple[list[Row], int]:
    """The data rows of every piece in order, and how many repeated header or
    column-number rows were dropped."""
    rows: list[Row] = []
    dropped = 0
    for si, seg in enumerate(lt.segments):
        if si in lt.sections_before:
            rows.append(Row(page=seg.page, slots=[], kind="heading", section=lt.sections_before[si]))
        first = True
        for slots in seg.rows:
            texts = [s.text if s.starts else "" for s in slots]
            if is_header_row(texts) or is_column_number_row(texts):
                dropped += 1
                continue
            at_break, first = first and seg.continued, False
            with_roles = [replace(s, source=replace(s.source, role=lt.roles[j]) if s.source else None)
                          for j, s in enumerate(slots)]
            rows.append(Row(page=seg.page, slots=with_roles, at_break=at_break,
                            spans_known=seg.table.spans_known))
    return rows, dropped


def item_styles(rows: list[Row], roles: list[str | None]) -> set[str]:
    """The numbering style of the item column's task rows (rows with three or more cells)."""
    try:
        j = roles.index("item")
    except ValueError:
        return set()
    styles: dict[str, int] = {}
    for row in rows:
        if row.kind != "data" or j >= len(row.slots):
            continue
        if sum(1 for s in row.slots if s.filled) >= 3 and row.slots[j].starts:
            st = code_style(row.slots[j].text.strip().rstrip("."))
            if st:
                styles[st] = styles.get(st, 0) + 1
    return {max(styles, key=styles.get)} if styles else set()


# --------------------------------------------------------------------------- 3. continued rows, group rows


def _own(row: Row, roles: list[str | None], role: str | None) -> str | None:
    """The row's own text in the columns of a field role (None for roles without a field)."""
    if role not in TEXT_ROLES:
        return None
    return join_text(*(s.text for j, s in enumerate(row.slots) if roles[j] == role and s.filled))


def _stated(row: Row, roles: list[str | None]) -> set[str]:
    return {roles[j] for j, s in enumerate(row.slots) if s.filled and roles[j]}


def is_continuation(row: Row, prev: Row | None, roles: list[str | None],
                    st: ContinuationSettings = DEFAULT_CONTINUATION) -> bool:
    """First data row after a page break: is it the rest of ``prev``?

    Each filled cell either goes on with the previous row's text in its column (it starts
    mid-sentence) or fills a column the previous row left empty (the page cut the row
    before that cell's text began).  A cell that starts a numbered or labelled entry where
    the previous row already had text ("2. …", "Nhiệm vụ 2: …") makes it a new row."""
    if prev is None:
        return False
    filled = [(j, s.text) for j, s in enumerate(row.slots) if s.filled]
    if not filled:
        return True
    stated = _stated(prev, roles)
    carried = []
    for j, text in filled:
        if roles[j] == "item":
            return False
        if roles[j] not in stated or not (_own(prev, roles, roles[j]) or "").strip():
            continue  # fills a gap the previous row left
        code, _ = split_code(text)
        if ENTRY_LABEL.match(text) or (code is not None and code_style(code) and roles[j] in MAIN_ROLES):
            return False
        carried.append((j, text))
    if not carried or any(starts_mid_sentence(t) for _, t in carried):
        return True
    # Text that starts with a capital can still continue a cell the page cut off, but such
    # a row fills only a few cells and none of the short ones a new row would state afresh.
    if len(filled) > st.max_filled_share * max(st.min_columns_for_share, len([r for r in roles if r])):
        return False
    if any(roles[j] in SHORT_ROLES for j, _ in carried):
        return False
    return all(not ends_sentence(_own(prev, roles, roles[j]) or "") for j, _ in carried)


def section_row(row: Row, roles: list[str | None], styles: set[str],
                st: SectionSettings = DEFAULT_SECTION, next_item: str | None = None) -> tuple[str | None, str] | None:
    """(code, title) when the row is a group row, else None.

    ``next_item``: the item code of the next row; a row whose code opens it ("5.1" above
    "5.1.1") groups the rows under it."""
    slots = row.slots
    filled = [(j, s) for j, s in enumerate(slots) if s.filled]
    if not filled or len(filled) > st.max_cells:
        return None
    if any(roles[j] in DETAIL_ROLES for j, _ in filled):
        # a group title padded into a detail column ("5.1 | | Thương mại | | …"), bold
        # like a group row or numbered as the parent of the next row, is still a group title
        if not (len(filled) == 2 and roles[filled[0][0]] == "item" and code_style(filled[0][1].text)
                and (all(s.bold for _, s in filled) or _opens(filled[0][1].text, next_item))):
            return None
        return normalize_code(filled[0][1].text), filled[1][1].text.strip().rstrip(":").strip()
    if len(filled) == 2:
        (j0, s0), (_j1, s1) = filled
        if roles[j0] != "item":
            return None
        style = code_style(s0.text)
        if style is None:
            return None
        if s1.col_span > 1 or (style not in styles and styles) or (s0.bold and s1.bold):
            return normalize_code(s0.text), s1.text.strip().rstrip(":").strip()
        return None
    j, s = filled[0]
    code, rest = split_code(s.text)
    if roles[j] == "section":
        return None
    wide = s.col_span > 1 and s.col_span >= st.min_wide_share * (len(roles) - 1)
    if code is not None and (wide or not row.spans_known or roles[j] == "item"):
        if ENTRY_LABEL.match(s.text):
            return None
        return normalize_code(code), rest.rstrip(":").strip()
    if wide and not starts_mid_sentence(s.text):
        return None, s.text.strip()
    return None


def _opens(code: str, next_item: str | None) -> bool:
    """True when ``code`` is the parent of ``next_item`` in a dotted numbering ("5.1" → "5.1.2")."""
    c = (code or "").strip().rstrip(".")
    n = (next_item or "").strip().rstrip(".")
    return bool(c) and n.startswith(c + ".") and code_style(n) == "dotted"


def _next_items(rows: list[Row], roles: list[str | None]) -> list[str | None]:
    """For each row, the item code of the next row that prints one."""
    try:
        j = roles.index("item")
    except ValueError:
        return [None] * len(rows)
    out: list[str | None] = [None] * len(rows)
    nxt: str | None = None
    for i in range(len(rows) - 1, -1, -1):
        out[i] = nxt
        r = rows[i]
        if r.kind == "data" and j < len(r.slots) and r.slots[j].filled:
            nxt = r.slots[j].text
    return out


def _merge_continuation(out: list[Row], k: int, row: Row, roles: list[str | None]) -> None:
    """Join the cells of ``row`` (the rest of ``out[k]`` after a page break) into it.

    Text goes after the row's own text; where the row had no text of its own in that
    role, the continued text is its value.  A section cell goes on the cell that opened
    the group (so every row it spans gets the whole title)."""
    prev = out[k]
    stated = _stated(prev, roles)
    joined: list[SourceCell] = []
    for j, s in enumerate(row.slots):
        if not s.filled:
            continue
        role = roles[j]
        if s.source:
            joined.append(s.source)
        target = k
        if role == "section" and not prev.slots[j].filled:
            for i in range(k, -1, -1):
                if out[i].kind != "data":
                    break
                if out[i].slots[j].filled:
                    target = i
                    break
        cell = out[target].slots[j]
        own = role in stated or role == "section"
        text = join_text(cell.text if cell.starts else "", s.text) if own else s.text.strip()
        out[target] = out[target].with_slot(j, replace(cell, text=text or "", starts=True))
    out[k] = replace(out[k], page_end=row.page, extra_sources=[*out[k].extra_sources, *joined],
                     joined=out[k].joined + bool(joined))


def _label_word(text: str) -> str | None:
    """The label word an entry starts with ("Nhiệm vụ 1: …" → "Nhiệm vụ"), else None."""
    m = ENTRY_LABEL.match(text or "")
    return m.group(1) if m else None


def _inner_label(text: str, word: str) -> int | None:
    """Where, inside ``text``, a new entry with the label ``word`` starts after a sentence
    end ("… theo quy định. Nhiệm vụ 2: …"), else None."""
    m = re.search(rf"(?<=[.;!?])\s+(?={re.escape(word)}\s*\d+\s*[:.])", text, re.I)
    return m.end() if m else None


def _deadline_split(text: str) -> int | None:
    """Where the second of exactly two deadline phrases starts ("Tháng 11/2023 | Khi đơn vị
    đề nghị"), else None."""
    phrases = deadline_phrases(text)
    if len(phrases) != 2 or len(parse_deadlines(text)) != 2:
        return None
    at = text.find(phrases[1], text.find(phrases[0]) + len(phrases[0]))
    return at if at > 0 else None


def split_merged_row(row: Row, roles: list[str | None], prev: Row | None = None) -> tuple[Row, Row] | None:
    """(first, second) when a converter merged two rows into ``row``, else None.

    The sign: a task-like cell holds, after a sentence end, a new entry labelled like the
    one its own text starts with ("Nhiệm vụ 1: … quy định. Nhiệm vụ 2: …").  ``prev`` is
    the row that ``row`` continues over a page break (its text gives the label, and tells
    which cells the first row already had on its first page).  Text before the label stays
    with the first row, the label and what follows start the second; a cell with a label
    of its own kind splits there too, a deadline cell at its second phrase when the
    deadline parser reads exactly two.  A cell with no split point goes to the second row
    when the first already had that cell and this text does not go on with it
    mid-sentence; else it stays with the first, and a grouping cell (objective …) spans
    both rows."""
    hierarchy = fill_down_policy().hierarchy
    stated = _stated(prev, roles) if prev is not None else set()
    cuts: dict[int, int] = {}
    for j, s in enumerate(row.slots):
        if not s.filled or j >= len(roles):
            continue
        own = _own(prev, roles, roles[j]) if prev is not None else None
        word = _label_word(own or "") or _label_word(s.text)
        at = _inner_label(s.text, word) if word else None
        if at is not None:
            cuts[j] = at
    if not any(roles[j] in MAIN_ROLES for j in cuts):
        return None
    first, second = list(row.slots), [Slot() for _ in row.slots]
    for j, s in enumerate(row.slots):
        if not s.filled or j >= len(roles):
            continue
        role = roles[j]
        at = cuts.get(j)
        if at is None and role == "deadline":
            at = _deadline_split(s.text)
        if at is not None:
            first[j] = replace(s, text=s.text[:at].strip().rstrip(";,").strip())
            second[j] = replace(s, text=s.text[at:].strip())
        elif role in stated and (_own(prev, roles, role) or "").strip() and not starts_mid_sentence(s.text):
            first[j], second[j] = replace(s, text=""), s
        elif role in hierarchy:
            second[j] = Slot(starts=False, from_above=True)
    return (replace(row, slots=first),
            Row(page=row.page, slots=second, spans_known=row.spans_known))


def join_continued_rows(rows: list[Row], roles: list[str | None], styles: set[str],
                        cont: ContinuationSettings = DEFAULT_CONTINUATION,
                        sect: SectionSettings = DEFAULT_SECTION) -> list[Row]:
    """Rows with each row cut by a page break joined to the one it continues, and group
    rows marked (``kind="section"``).  A row after a break is first tested as a
    continuation, then as a group row; a group row or a heading ends the run of rows a
    later continuation may join."""
    out: list[Row] = []
    prev_k: int | None = None
    following = _next_items(rows, roles)
    for i, row in enumerate(rows):
        if row.kind == "heading":
            out.append(row)
            prev_k = None
            continue
        prev = out[prev_k] if prev_k is not None else None
        if row.at_break and is_continuation(row, prev, roles, cont):
            split = split_merged_row(row, roles, prev)
            _merge_continuation(out, prev_k, split[0] if split else row, roles)
            if split is None:
                continue
            row = split[1]
        section = section_row(row, roles, styles, sect, following[i])
        if section is not None:
            out.append(replace(row, kind="section", section=section))
            prev_k = None
            continue
        out.append(row)
        prev_k = len(out) - 1
    return out


# --------------------------------------------------------------------------- 4. fill down


def fill_down(rows: list[Row], roles: list[str | None], policy: FillDownPolicy | None = None) -> list[Row]:
    """Each data row's values: its own text, or the value of the row above where a cell
    is merged (covered by a span, or empty where the source cannot show spans, or empty
    at a page break).  Group rows and headings start afresh.  A row with no text of its
    own or copied (an empty grid line) is dropped."""
    policy = policy or fill_down_policy()
    n = len(roles)
    memory: list[str] = [""] * n
    origin: list[list[SourceCell]] = [[] for _ in range(n)]
    out: list[Row] = []
    for row in rows:
        if row.kind != "data":
            memory, origin = [""] * n, [[] for _ in range(n)]
            out.append(row)
            continue
        leaves_empty = not any(
            s.filled for j, s in enumerate(row.slots)
            if roles[j] in policy.spanned and roles[j] not in policy.hierarchy)
        values: list[str] = []
        sources: list[list[SourceCell]] = []
        copied = 0
        for j, s in enumerate(row.slots[:n]):
            role = roles[j]
            merged = role in policy.spanned and (
                s.from_above
                or (not row.spans_known and s.starts and (
                    role in policy.empty_without_spans
                    or (leaves_empty and role in policy.empty_when_row_has_no_details)))
                or (row.at_break and s.starts and not s.text.strip()))
            if s.filled:
                values.append(s.text.strip())
                sources.append([s.source] if s.source else [])
            elif merged:
                values.append(memory[j])
                sources.append(list(origin[j]))
                copied += bool(memory[j])
            else:
                values.append("")
                sources.append([])
        if not any(values[j] for j, r in enumerate(roles) if r in TEXT_ROLES or r == "section"):
            continue
        memory, origin = list(values), [list(x) for x in sources]
        out.append(replace(row, values=values, sources=sources, filled_down=copied))
    return out


# --------------------------------------------------------------------------- 5. sections


def assign_sections(rows: list[Row]) -> list[Row]:
    """Data rows with the (code, title) of the group row or heading above them; group rows
    and headings themselves are consumed."""
    current: tuple[str | None, str | None] = (None, None)
    out: list[Row] = []
    for row in rows:
        if row.kind != "data":
            current = row.section or (None, None)
            continue
        out.append(replace(row, section=current))
    return out


# --------------------------------------------------------------------------- 6. records


def _section_from_text(text: str) -> tuple[str | None, str]:
    code, rest = split_code(text)
    return normalize_code(code), rest.rstrip(":").strip()


def _strip_item(text: str | None) -> tuple[str | None, str | None]:
    """Split a leading item number off a task cell: "1. Tổ chức …" → ("1", "Tổ chức …")."""
    if not text:
        return None, text
    code, rest = split_code(text)
    if code is None or code_style(code) == "roman":
        return None, text
    return code, rest


def build_record(row: Row, lt: LogicalTable, table_index: int) -> TaskRow:
    """One TaskRow from a filled-down data row."""
    roles, headers = lt.roles, lt.headers
    rec = TaskRow(source="appendix", page_start=row.page, page_end=row.page_end or row.page,
                  table_index=table_index, table_id=lt.table_id)
    by_role: dict[str, str] = {}
    extra: dict[str, str] = {}
    for j, (v, role) in enumerate(zip(row.values, roles, strict=False)):
        if not v:
            continue
        if role in KEPT_ROLES:
            by_role[role] = join_text(by_role.get(role), v) or ""
        else:  # a column no field holds keeps its text under its header
            key = (headers[j] if j < len(headers) else "") or f"column {j + 1}"
            extra[key] = join_text(extra.get(key), v) or ""
    rec.extra = extra
    if "coordinating" not in roles and by_role.get("lead"):
        # one "Phân công thực hiện" column may state both roles: "Văn phòng phối hợp Phòng …"
        lead, partners = split_assignment(by_role["lead"])
        if partners:
            by_role["lead"], by_role["coordinating"] = lead or "", partners
    for role, attr in TEXT_ROLES.items():
        setattr(rec, attr, by_role.get(role) or None)
    if "section" in by_role:
        code, title = _section_from_text(by_role["section"])
        rec.section_code, rec.section_title = code, title or None
    elif row.section:
        rec.section_code, rec.section_title = row.section
    item = by_role.get("item")
    main = next((r for r in MAIN_ROLES if by_role.get(r) and r != "objective"), None)
    if main:
        code, rest = _strip_item(by_role[main])
        if code is not None:
            setattr(rec, TEXT_ROLES[main], rest)
            item = item or code
    rec.item = item.strip().rstrip(".") if item else None
    seen: set[tuple[int, int, int]] = set()
    cells: list[dict] = []
    for src in [c for col in row.sources for c in col] + row.extra_sources:
        key = (src.page, src.row, src.col)
        if key not in seen:
            seen.add(key)
            cells.append(src.as_dict())
    rec.source_cells = cells
    confs = [s.confidence for s in row.slots if s.filled and s.confidence is not None]
    rec.confidence = sum(confs) / len(confs) if confs else None
    return rec


def to_records(rows: list[Row], lt: LogicalTable, seq_start: int = 1, table_index: int = 0) -> list[TaskRow]:
    out = []
    for row in rows:
        rec = build_record(row, lt, table_index)
        rec.seq = seq_start + len(out)
        out.append(rec)
    return out
