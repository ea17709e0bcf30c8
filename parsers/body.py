"""Tasks stated in the plan's body text (``source="body"``).

Two shapes occur:

* Tasks with labelled fields: a numbered paragraph ("1. …", "2.1. …", "a) …") followed by
  lines such as ``Đơn vị chủ trì thực hiện: …``, ``Đơn vị phối hợp: …``,
  ``Thời gian thực hiện: …``.  Every such paragraph is a task, whether or not the plan also
  has an appendix.
* A plan without an appendix lists its tasks as bullets ("- …") under numbered areas
  ("1. Công tác chỉ đạo, điều hành") of its tasks section ("II. NHIỆM VỤ …").

Lines are first rebuilt into paragraphs: a wrapped line joins the previous one unless it
starts with a bullet, a number, a field label or (where geometry is known) an indent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from extractors.model import Document, Line

from ._text import load_yaml
from .columns import header_match
from .records import TaskRow
from .textutil import STRAY_LEAD, code_style, ends_sentence, fold, split_code

#: A bullet mark, with the stray speck OCR may read before it (":- -Thực hiện …").
BULLET = re.compile(r"^\s*" + STRAY_LEAD + r"(?:[-–•*+]\s*)+")
FOOTNOTE = re.compile(r"^\s*(?:⁽[⁰¹²³⁴⁵⁶⁷⁸⁹]+⁾|[¹²³⁴⁵⁶⁷⁸⁹]+\s)")
SUPERSCRIPT = re.compile(r"⁽[⁰¹²³⁴⁵⁶⁷⁸⁹]+⁾|[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
PAGE_NUMBER = re.compile(r"^\s*(?:-\s*)?\d{1,3}(?:\s*-)?\s*$")
END_OF_BODY = re.compile(r"^\s*(Nơi nhận|PHỤ LỤC)\b", re.I)


@dataclass
class Paragraph:
    text: str
    page: int
    bullet: bool = False
    bold: bool | None = None
    confidence: float | None = None
    lines: int = 1


@dataclass
class _Anchor:
    para: Paragraph
    section: tuple[str | None, str | None]
    item: str | None
    fields: dict[str, str] = field(default_factory=dict)
    last_field: str | None = None
    #: a field whose value continues in the bullets below it ("a) Nhiệm vụ:" + "- …")
    open_field: str | None = None
    #: plain paragraphs printed under the heading before any field
    body: list[str] = field(default_factory=list)


@cache
def _field_labels() -> list[tuple[re.Pattern, tuple[str, ...]]]:
    data = load_yaml("body_fields.yaml")
    out = []
    for entry in data["labels"]:
        words = "|".join(re.escape(w) for w in sorted(entry["words"], key=len, reverse=True))
        out.append((re.compile(rf"^\s*(?:{words})\s*:\s*(?P<value>.*)$", re.I), tuple(entry["roles"])))
    return out


@dataclass(frozen=True)
class _OtherWordings:
    """Labels the list does not hold, read with the task tables' header vocabulary."""

    roles: frozenset[str]  # the roles a body label may fill (those of the listed labels)
    min_coverage: float
    pattern: re.Pattern


@cache
def _other_wordings() -> _OtherWordings:
    data = load_yaml("body_fields.yaml")
    st = data.get("other_wordings") or {}
    return _OtherWordings(
        frozenset(r for e in data["labels"] for r in e["roles"]),
        float(st.get("min_coverage", 0.6)),
        re.compile(rf"^\s*(?P<label>[A-ZĐÀ-Ỹ][^:;.()\d]{{1,{int(st.get('max_label_chars', 60))}}}?)"
                   r"\s*:\s*(?P<value>.*)$"),
    )


LETTER_CODE = re.compile(r"^\s*[a-zđ]\s*[).]\s+")


def match_field(text: str) -> tuple[tuple[str, ...], str] | None:
    """(roles, value) of a labelled field line ("- Đơn vị chủ trì: …", "b) Cơ quan thực hiện:").

    A label the list does not hold ("Cơ quan chịu trách nhiệm chính:", "Đơn vị tham gia:") is
    read like a task table's column header (parsers/columns.py: header_match), so a plan's own
    wording of a field is recognised as it would be in its task table."""
    t = LETTER_CODE.sub("", BULLET.sub("", text))
    for pattern, roles in _field_labels():
        m = pattern.match(t)
        if m:
            return roles, m.group("value").strip()
    other = _other_wordings()
    m = other.pattern.match(t)
    if m:
        hit = header_match(m.group("label"))
        if hit and hit.role in other.roles and hit.coverage >= other.min_coverage:
            return (hit.role,), m.group("value").strip()
    return None


def _starts_new(prev: Line, cur: Line, margin: float | None) -> bool:
    t = cur.text.strip()
    if BULLET.match(t) or match_field(t):
        return True
    code, _ = split_code(t)
    if code is not None and code_style(code):
        return True
    if cur.bbox is None and prev.bbox is None:
        if prev.bold is True and cur.bold is not True:
            return True  # a bold heading of converted text is its own paragraph
        pcode, ptitle = split_code(prev.text.strip())
        if (pcode is not None and len(prev.text.strip()) < 60 and ptitle[-1:] not in ".;:,"
                and t[:1].isupper() and not ptitle[-1:].isdigit()):
            return True  # "3. Về nguồn lực" above "Các cơ quan bố trí …": a heading line of its own
    p = prev.text.rstrip()
    ended = bool(p) and p[-1] in ".:;!?"
    if cur.bbox is not None and prev.bbox is not None and margin is not None:
        # An indented first line starts a paragraph, but only after a finished sentence:
        # some plans indent a wrapped line that goes on mid-sentence.
        return ended and cur.bbox.x0 > margin + 8
    return ended and (t[:1].isupper() or t[:1] in "“\"(")


def paragraphs(doc: Document, start_page: int = 1) -> list[Paragraph]:
    """The document's free text rebuilt into paragraphs, up to "Nơi nhận"/"PHỤ LỤC"."""
    out: list[Paragraph] = []
    prev: Line | None = None
    for page in doc.pages:
        lines = [b for b in page.blocks if isinstance(b, Line)]
        xs = [ln.bbox.x0 for ln in lines if ln.bbox is not None]
        margin = min(xs) if xs else None
        heights = sorted(ln.bbox.bottom - ln.bbox.top for ln in lines if ln.bbox is not None)
        body_height = heights[len(heights) // 2] if heights else None
        in_footnote = False
        for ln in lines:
            text = ln.text.strip()
            if not text or PAGE_NUMBER.match(text):
                continue
            if END_OF_BODY.match(text):
                return out
            if FOOTNOTE.match(text):
                in_footnote = body_height is not None
                continue
            if in_footnote and ln.bbox is not None and body_height is not None:
                # a footnote's wrapped lines are set smaller than the body text
                if ln.bbox.bottom - ln.bbox.top < 0.92 * body_height:
                    continue
                in_footnote = False
            text = SUPERSCRIPT.sub("", text)
            if prev is not None and out and not _starts_new(prev, ln, margin) and page.number >= out[-1].page:
                last = out[-1]
                # "NĐ-" at a line end is half of "NĐ-CP": a word-internal hyphen joins without a space
                sep = "" if last.text.endswith("-") and last.text[-2:-1].isalnum() else " "
                last.text = f"{last.text}{sep}{text}"
                last.lines += 1
                if ln.confidence is not None:
                    last.confidence = min(last.confidence or 100.0, ln.confidence)
            else:
                out.append(Paragraph(text=text, page=page.number, bullet=bool(BULLET.match(text)),
                                     bold=ln.bold, confidence=ln.confidence))
            prev = ln
    return out


def _strip_bullet(text: str) -> str:
    return BULLET.sub("", text).strip()


def _heading(text: str) -> tuple[str | None, str] | None:
    code, rest = split_code(text)
    if code is None:
        return None
    return code, rest.rstrip(":").strip()


def _task_section_words() -> tuple[list[str], list[str]]:
    data = load_yaml("body_fields.yaml")
    return [fold(w) for w in data["task_sections"]], [fold(w) for w in data["non_task_sections"]]


def labelled_tasks(paras: list[Paragraph]) -> list[TaskRow]:
    """Numbered paragraphs followed by labelled fields."""
    anchors: list[_Anchor] = []
    section: tuple[str | None, str | None] = (None, None)
    parent_item: str | None = None
    current: _Anchor | None = None
    for p in paras:
        f = match_field(p.text)
        if f is not None:
            if current is None:
                continue
            roles, value = f
            if _starts_block(current, roles):
                # a second field block under the same heading is a second task
                current = _Anchor(para=current.para, section=current.section, item=current.item)
                anchors.append(current)
            for role in roles:
                if value or role not in current.fields:
                    current.fields[role] = value
            current.last_field = roles[-1]
            current.open_field = roles[-1] if (not value or roles == ("task",)) else None
            continue
        text = _strip_bullet(p.text) if p.bullet else p.text
        if current is not None and current.open_field and (p.bullet or _heading(text) is None):
            role = current.open_field
            joiner = " " if role == "task" else "; "
            current.fields[role] = joiner.join(x for x in (current.fields.get(role), text) if x)
            continue
        inline = _inline_roles(text) if current is not None and not p.bullet and _heading(text) is None else None
        if inline is not None and current is not None:
            lead, coord = inline
            current.fields.setdefault("lead", lead)
            if coord:
                current.fields.setdefault("coordinating", coord)
            continue
        if current is not None and current.last_field and p.bullet and p.text.lstrip().startswith(("+", "-")):
            # "+ …" sub-bullets that detail the last field ("Thời gian thực hiện: …, cụ thể:")
            if current.last_field == "deadline" or p.text.lstrip().lstrip("-– ").startswith("+"):
                inner = BULLET.sub("", p.text).strip()
                plus = "+ " if "+" in p.text[: len(p.text) - len(p.text.lstrip()) + 4] else ""
                for role in [current.last_field]:
                    current.fields[role] = f"{current.fields[role]} {plus}{inner}".strip()
                continue
        head = None if p.bullet else _heading(text)
        if head is None:
            if current is not None:
                current.last_field = None
                if not current.fields:
                    current.body.append(text)
                # A run-in heading ("1. Tiếp cận dịch vụ:") takes the paragraph it introduces.
                if (not p.bullet and not current.fields and current.para.text.endswith(":")
                        and len(current.para.text.split()) <= 12 and not current.para.text.endswith("...:")
                        and current.para.lines <= 1):
                    current.para.text = f"{current.para.text} {text}"
                    current.para.lines = 99
            continue
        code, rest = head
        style = code_style(code)
        if style == "roman":
            section = (code, rest)
            parent_item = None
            current = None
            continue
        if style == "letter" and parent_item:
            item = f"{parent_item}.{code}"
        else:
            item = code
            if style in ("arabic", "dotted"):
                parent_item = code
        # the task keeps its own wording, colon included ("1. Tiếp cận dịch vụ:" → "Tiếp cận dịch vụ:")
        current = _Anchor(para=Paragraph(text=split_code(text)[1], page=p.page, confidence=p.confidence),
                          section=section,
                          item=item)
        anchors.append(current)
    with_fields = {a.section for a in anchors if a.fields}
    tasks = []
    for i, a in enumerate(anchors):
        nxt = anchors[i + 1] if i + 1 < len(anchors) else None
        leaf = nxt is None or not (nxt.item or "").startswith(f"{a.item}.")
        if not a.fields:
            # an item without fields among items with fields is a task of its own (its text, or
            # the heading when nothing else states the work); a parent of sub-items is not
            if not (leaf and a.section in with_fields and a.body):
                continue
            a.fields = {"task": " ".join(a.body)}
        task = a.fields.get("task") or a.para.text
        lead = coord = None
        if not (a.fields.get("lead") or a.fields.get("coordinating") or a.fields.get("monitoring")):
            task, lead, coord = inline_assignment(task)
        tasks.append(
            TaskRow(
                source="body",
                section_code=a.section[0],
                section_title=a.section[1],
                item=a.item,
                task=task,
                lead_units_raw=a.fields.get("lead") or lead,
                coordinating_units_raw=a.fields.get("coordinating") or coord,
                monitoring_units_raw=a.fields.get("monitoring"),
                deadline_raw=a.fields.get("deadline"),
                product=a.fields.get("product"),
                page_start=a.para.page,
                page_end=a.para.page,
                confidence=a.para.confidence,
            )
        )
    return tasks


def _starts_block(current: _Anchor, roles: tuple[str, ...]) -> bool:
    """Does a field open a new block under the same heading?  A second statement of the work,
    or a role already filled once the block has its deadline."""
    filled = {r for r, v in current.fields.items() if v}
    if "task" in roles:
        return bool(filled)
    return bool(set(roles) & filled) and "deadline" in filled


@dataclass(frozen=True)
class _Inline:
    clause: re.Pattern[str]
    lead: re.Pattern[str]
    partner: re.Pattern[str]
    closing: re.Pattern[str]
    line: re.Pattern[str]
    #: a partner word anywhere
    partner_any: re.Pattern[str]
    #: the partner word closing a clause ("…; các sở, ngành phối hợp")
    partner_end: re.Pattern[str]
    #: the lead word and the separator after it ("Sở Tư pháp chủ trì; …")
    lead_sep: re.Pattern[str]
    #: how a rewritten clause introduces its partners (the first partner wording of the data file)
    partner_word: str


def _alt(words: list[str]) -> str:
    return "|".join(r"\s+".join(re.escape(x) for x in w.split()) for w in sorted(words, key=len, reverse=True))


@cache
def _inline() -> _Inline:
    d = load_yaml("body_fields.yaml")["inline_assignment"]
    opener, lead, partner, closing = (_alt(d[k]) for k in ("openers", "lead", "partner", "closing_verbs"))
    return _Inline(
        # capital "Giao" opens an assignment; "(giao cơ quan, đơn vị mình …)" in a sentence does not
        # … or a parenthesis that opens with a unit and names its lead: "(Sở Tư pháp chủ trì; các sở phối hợp)"
        clause=re.compile(rf"\s*\(\s*(?:(?:{opener})\s+(?P<body>[^()]+?)|(?P<named>[A-ZĐÀ-Ỹ][^()]*?\s(?:{lead})"
                          rf"(?:[\s,;][^()]*)?))\s*\)"),
        lead=re.compile(rf"\s+(?:{lead})(?:\s*,\s*|\s+|$)"),
        partner=re.compile(rf"(?:^|\s)(?:{partner})\s+"),
        closing=re.compile(rf"\s+(?:{closing})\s*\.?$"),
        line=re.compile(rf"^(?:(?:{opener})\s+)?(?P<lead>[^;,]+?)\s+(?:{lead})\s*[;,]\s*(?P<coord>.+?)\s+"
                        rf"(?:{partner})?(?:{closing})?\s*\.?$"),
        partner_any=re.compile(rf"(?<!\w)(?:{partner})(?!\w)"),
        partner_end=re.compile(rf"\s+(?:{partner})\s*\.?$"),
        lead_sep=re.compile(rf"(\s(?:{lead}))\s*[;,]\s*"),
        partner_word=d["partner"][0],
    )


def _roles_of(body: str) -> tuple[str | None, str | None]:
    """"Công an tỉnh chủ trì, phối hợp với Văn phòng UBND tỉnh; Sở Tư pháp … tham mưu" →
    (lead, coordinating)."""
    rx = _inline()
    body = body.strip()
    while True:
        cut = rx.closing.sub("", body)
        if cut == body:
            break
        body = cut
    m = rx.lead.search(body)
    if m:
        lead, rest = body[: m.start()], body[m.end():]
        pm = rx.partner.match(rest) or rx.partner.match(" " + rest)
        coord = rest[pm.end() - (0 if rx.partner.match(rest) else 1):] if pm else None
        return lead.strip() or None, (coord or "").strip(" .,") or None
    pm = rx.partner.search(body)
    if pm:
        return body[: pm.start()].strip() or None, body[pm.end():].strip(" .,") or None
    return body.strip(" .,") or None, None


def inline_assignment(text: str) -> tuple[str, str | None, str | None]:
    """Take a "(Giao X chủ trì, phối hợp với Y …)" clause out of a task's text:
    (task without it, lead, coordinating).  Without such a clause the text is unchanged."""
    m = _inline().clause.search(text or "")
    if not m:
        return text, None, None
    body = m.group("body") or m.group("named")
    if m.group("named"):
        # "Sở Tư pháp chủ trì; các sở, ngành phối hợp": the partners stand before their verb
        rx = _inline()
        named = rx.partner_end.sub("", body)
        body = rx.lead_sep.sub(rf"\1, {rx.partner_word} ", named, count=1) if named != body else body
    lead, coord = _roles_of(body)
    task = (text[: m.start()] + text[m.end():]).strip()
    task = re.sub(r"\s+([.;,])", r"\1", task)
    return task, lead, coord


def _inline_roles(text: str) -> tuple[str, str | None] | None:
    """A line that only assigns the task above it: "Sở Y tế chủ trì; các sở, ngành phối hợp."."""
    if len(text) > 300:
        return None
    m = _inline().line.match(text)
    if m and m.group("coord") and _inline().partner_any.search(text[m.start("coord"):]):
        return m.group("lead").strip(), m.group("coord").strip()
    return None


def bulleted_tasks(paras: list[Paragraph]) -> list[TaskRow]:
    """Bullets under the numbered areas of the plan's tasks section; a numbered item that is
    itself a statement of work (a sentence, no bullets under it) is a task too, under the
    section heading.  A "(Giao X chủ trì, phối hợp với Y)" clause gives its units."""
    task_words, other_words = _task_section_words()
    in_tasks = False
    seen_top = False
    section: tuple[str | None, str | None] = (None, None)
    area: tuple[str | None, str | None] = (None, None)
    area_para: Paragraph | None = None
    area_has_tasks = False
    tasks: list[TaskRow] = []
    last_bullet = False

    def close_area() -> None:
        # an item printed as one sentence with nothing under it states the work itself
        if area_para is not None and not area_has_tasks and in_tasks and ends_sentence(area[1] or ""):
            tasks.append(TaskRow(source="body", section_code=section[0], section_title=section[1], item=area[0],
                                 task=area[1], page_start=area_para.page, page_end=area_para.page,
                                 confidence=area_para.confidence))

    for p in paras:
        if not p.bullet:
            head = _heading(p.text)
            if head is None:
                # a paragraph without a bullet mark after a bullet belongs to that bullet's item
                # (a "(…)" note does not)
                if (tasks and in_tasks and area[0] is not None and tasks[-1].section_code == area[0] and last_bullet
                        and not p.text.startswith("(")):
                    tasks[-1].task = f"{tasks[-1].task} {p.text}"
                continue
            last_bullet = False
            code, title = head
            style = code_style(code)
            ftitle = fold(title)
            if style == "letter" and in_tasks and area[0] is not None:
                # "a) …" items under an area are its tasks, like bullets
                last_bullet = True
                area_has_tasks = True
                tasks.append(TaskRow(source="body", section_code=area[0], section_title=area[1], item=code,
                                     task=split_code(p.text)[1], page_start=p.page, page_end=p.page,
                                     confidence=p.confidence))
                continue
            if style == "roman" or (p.text.isupper() and len(p.text) < 120):
                close_area()
                seen_top = True
                in_tasks = any(w in ftitle for w in task_words) and not any(w in ftitle for w in other_words)
                section = (code if style == "roman" else None, title)
                area, area_para, area_has_tasks = (None, None), None, False
            elif in_tasks or not seen_top:
                close_area()
                area, area_para, area_has_tasks = (code, split_code(p.text)[1]), p, False
            continue
        if not in_tasks or area[0] is None:
            continue
        last_bullet = True
        area_has_tasks = True
        tasks.append(
            TaskRow(
                source="body",
                section_code=area[0],
                section_title=area[1],
                task=_strip_bullet(p.text),
                page_start=p.page,
                page_end=p.page,
                confidence=p.confidence,
            )
        )
    close_area()
    for t in tasks:
        t.task, lead, coord = inline_assignment(t.task or "")
        t.lead_units_raw = t.lead_units_raw or lead
        t.coordinating_units_raw = t.coordinating_units_raw or coord
    return tasks
