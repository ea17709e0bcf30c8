"""The analysts' review workbench: a small Starlette app over the curated datasets.

``make review`` serves it on http://127.0.0.1:8765 (loopback only unless ``--host`` says
otherwise).  Pages are plain server-rendered HTML with forms, so it works without any
JavaScript:

- ``/``: the review queue across all plans (``khsyt.cross_plan.build_review_queue``), with
  counts per kind and a filter;
- ``/item/{item_id}``: one item beside the image of its source page, the task's cells boxed
  (``source_cells``), its text with the unit and deadline cells highlighted, and forms to
  accept the value or correct it (a record in ``data/corrections``, applied at the next run);
- ``/plan/{plan_id}/page/{n}``: one page of a plan with its tasks (the Dagster report links here);
- ``/plan/{plan_id}/page/{n}.png?task=ID``: the rendered page with the task's boxes.

Every read goes to the Parquet files, so a run of the pipeline shows up on the next page load.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import corrections as corr
from ..cli import CliError
from ..cross_plan import build_review_queue, read_rows
from ..document_key import task_text
from .cli import Curated, record
from .regions import render_page, task_boxes

BASE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>{% block title %}khsyt review{% endblock %}</title>
<style>
body{font-family:system-ui,"DejaVu Sans",sans-serif;margin:0;color:#222}
header{background:#243b53;color:#fff;padding:.6em 1em}header a{color:#fff;margin-right:1em}
main{padding:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top}
th{background:#f0f4f8;text-align:left}.kind{font-family:monospace}.msg{background:#e3f9e5;padding:.5em;margin-bottom:1em}
.err{background:#ffe3e3}.split{display:flex;gap:1.5em;align-items:flex-start}.split>div{flex:1;min-width:0}
img.page{max-width:100%;border:1px solid #999}mark.lead_units{background:#ffc9c9}mark.deadline{background:#c5dcff}
mark.task{background:#fff3bf}.stale{color:#c92a2a;font-weight:bold}form.inline{display:inline}
pre.pagetext{white-space:pre-wrap;max-height:38em;overflow:auto;background:#f8f9fa;padding:.5em;font-size:.85em}
label{display:block;margin-top:.5em}input[type=text]{width:100%;box-sizing:border-box}
</style></head><body>
<header><strong>khsyt review</strong> &nbsp; <a href="/">queue</a><a href="/corrections">corrections</a>
<small>{{ curated }}</small></header><main>
{% if msg %}<div class="msg" id="msg">{{ msg }}</div>{% endif %}
{% if err %}<div class="msg err" id="err">{{ err }}</div>{% endif %}
{% block body %}{% endblock %}</main></body></html>"""

QUEUE = """{% extends "base" %}{% block body %}
<h1>Review queue: {{ items|length }} items</h1>
<p>{% for k, n in counts %}<a href="/?kind={{ k }}">{{ k }}</a> {{ n }}{% if not loop.last %} · {% endif %}{% endfor %}
{% if kind %} · <a href="/">all</a>{% endif %}</p>
<table id="queue"><tr><th>kind</th><th>plan file</th><th>task</th><th>field</th><th>value</th><th>detail</th>
<th>page</th></tr>
{% for r in items %}<tr data-item="{{ r.item_id }}"><td class="kind {{ 'stale' if r.kind == 'stale_correction' }}">
<a href="/item/{{ r.item_id }}">{{ r.kind }}</a></td><td>{{ r.partition_key }}</td><td>{{ r.task_id or '' }}</td>
<td>{{ r.field or '' }}</td><td>{{ (r.value or '')[:80] }}</td><td>{{ r.detail or '' }}</td>
<td>{{ r.page or '' }}</td></tr>
{% endfor %}</table>{% endblock %}"""

ITEM = """{% extends "base" %}{% block title %}{{ item.kind }} · khsyt review{% endblock %}{% block body %}
<h1><span class="kind {{ 'stale' if item.kind == 'stale_correction' }}">{{ item.kind }}</span>
{{ item.task_id or item.plan_id or item.partition_key }}</h1>
<p>{{ item.detail }}{% if plan %} — {{ plan.issuer or '' }} {{ plan.doc_number or '' }}
({{ plan.source_format }}, <code>{{ plan.document_key }}</code>){% endif %}</p>
<div class="split"><div>
{% if task %}<table id="task">
<tr><th>seq</th><td>{{ task.seq }}</td></tr><tr><th>section</th><td>{{ task.section_code or '' }}
{{ task.section_title or '' }}</td></tr>
<tr><th>task</th><td>{{ text_html|safe }}</td></tr>
<tr><th>lead (as printed)</th><td><mark class="lead_units">{{ task.lead_units_raw or '' }}</mark></td></tr>
<tr><th>lead_units</th><td id="lead_units">{{ (task.lead_units or [])|join('; ') }}</td></tr>
<tr><th>coordinating_units</th><td>{{ (task.coordinating_units or [])|join('; ') }}</td></tr>
<tr><th>deadline (as printed)</th><td><mark class="deadline">{{ task.deadline_raw or '' }}</mark></td></tr>
<tr><th>unknown_units</th><td>{{ (task.unknown_units or [])|join('; ') }}</td></tr>
<tr><th>corrected_fields</th><td id="corrected_fields">{{ (task.corrected_fields or [])|join(', ') }}</td></tr>
<tr><th>page</th><td>{{ task.page_start }}
{% if task.page_end and task.page_end != task.page_start %}–{{ task.page_end }}
{% endif %}</td></tr></table>{% endif %}
{% if can_correct %}
<form method="post" action="/item/{{ item.item_id }}" id="correct-form">
<input type="hidden" name="action" value="correct">
<label>field <select name="field" id="field">{% for f in fields %}<option value="{{ f }}"
{% if f == field %}selected{% endif %}>{{ f }}</option>{% endfor %}</select></label>
<label>new value (lists: separate with ;) <input type="text" name="value" id="value" value="{{ current }}"></label>
<label>why <input type="text" name="why" id="why"></label>
<label>who <input type="text" name="who" id="who" value="{{ who }}"></label>
<p><button type="submit" id="save">Save correction</button></p></form>
<form method="post" action="/item/{{ item.item_id }}" class="inline"><input type="hidden" name="action" value="accept">
<input type="hidden" name="field" value="{{ field }}"><button type="submit" id="accept">Accept as is</button></form>
{% endif %}
{% if item.kind == 'unknown_unit' %}
<form method="post" action="/promote" id="promote-form"><h3>Make this spelling an alias for every plan</h3>
<input type="hidden" name="raw" value="{{ item.value }}">
<input type="hidden" name="back" value="/item/{{ item.item_id }}">
<label>registry unit <input type="text" name="canonical" list="units"></label>
<datalist id="units">{% for u in registry %}<option value="{{ u }}">{% endfor %}</datalist>
<button type="submit">Add alias</button></form>{% endif %}
</div><div>
{% if image_url %}<img class="page" id="page-image" alt="page {{ page }} of the source" src="{{ image_url }}">
<p><small>boxes: <mark class="task">task</mark> <mark class="lead_units">lead unit</mark>
<mark class="deadline">deadline</mark>{{ ' (found by text search: no source_cells recorded)' if searched }}</small></p>
{% elif page_text %}<p><small>no page image ({{ plan.source_format }} source): the page as read</small></p>
<pre class="pagetext" id="page-text">{{ page_text|safe }}</pre>
{% else %}<p>{{ no_image }}</p>{% endif %}
</div></div>{% endblock %}"""

PAGE = """{% extends "base" %}{% block body %}
<h1>{{ plan.issuer or '' }} {{ plan.doc_number or '' }} — page {{ page }}</h1>
<div class="split"><div><table><tr><th>seq</th><th>task</th><th>lead</th><th>deadline</th></tr>
{% for t in tasks %}<tr><td><a href="/task/{{ t.task_id }}">{{ t.seq }}</a></td><td>{{ t.text[:160] }}</td>
<td>{{ t.lead_units_raw or '' }}</td>
<td>{{ t.deadline_raw or '' }}</td></tr>{% endfor %}</table></div>
<div>{% if image_url %}<img class="page" alt="page {{ page }}" src="{{ image_url }}">{% else %}
<pre class="pagetext">{{ page_text }}</pre>{% endif %}</div></div>{% endblock %}"""

CORRECTIONS = """{% extends "base" %}{% block body %}<h1>Corrections: {{ rows|length }}</h1>
<table id="corrections"><tr><th>status</th><th>document</th><th>field</th><th>old</th><th>new</th><th>who / when</th>
<th>why</th></tr>{% for o in rows %}<tr><td class="{{ 'stale' if o.status == 'stale' }}">{{ o.status }}
{{ o.detail }}</td><td>{{ o.correction.document_key }}{% if o.correction.seq %} · task {{ o.correction.seq }}
{% endif %}</td><td>{{ o.correction.field }}</td><td>{{ o.correction.old }}</td><td>{{ o.correction.new }}</td>
<td>{{ o.correction.who }} {{ o.correction.when }}</td><td>{{ o.correction.why }}</td></tr>{% endfor %}
</table>{% endblock %}"""

ENV = Environment(loader=DictLoader({"base": BASE, "queue": QUEUE, "item": ITEM, "page": PAGE,
                                     "corrections": CORRECTIONS}),
                  autoescape=select_autoescape(default=True, default_for_string=True))

#: Which field an item is about when the queue does not say.
DEFAULT_FIELD = {"no_deadline": "deadline_raw", "low_confidence_task": "task"}
PDF_FORMATS = {"pdf"}


def _as_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | tuple):
        return "; ".join(str(x) for x in v)
    return str(v)


#: Words of a value matched when highlighting it in a page text (longer values wrap and split).
MARK_WORDS = 6
#: Characters of page text shown around a task from a source without page images.
EXCERPT_CHARS = 1500


def _pattern(sub: str | None) -> re.Pattern | None:
    words = [w for w in re.split(r"\s+", (sub or "").strip(" -•+")) if w][:MARK_WORDS]
    if sum(len(w) for w in words) < 3:
        return None
    return re.compile(r"\s+".join(re.escape(html.escape(w)) for w in words))


def highlight(text: str, marks: list[tuple[str, str | None]], excerpt: bool = False) -> str:
    """HTML of ``text`` with the first words of each (class, value) marked (any spacing
    between them).  The first mark is the anchor: later values are looked for from just
    before it (a lead unit's name recurs all over a plan), and with ``excerpt`` only the text
    around it is kept."""
    esc = html.escape(text or "")
    spans: list[tuple[int, int, str]] = []
    anchor = None
    for cls, sub in marks:
        pat = _pattern(sub)
        if pat is None:
            continue
        m = (pat.search(esc, max(0, anchor - 200)) if anchor is not None else None) or pat.search(esc)
        if m is None or any(m.start() < e and s0 < m.end() for s0, e, _ in spans):
            continue
        spans.append((m.start(), m.end(), cls))
        anchor = m.start() if anchor is None else anchor
    lo, hi = 0, len(esc)
    if excerpt and anchor is not None and len(esc) > 2 * EXCERPT_CHARS:
        lo = max(0, esc.rfind("\n", 0, max(0, anchor - EXCERPT_CHARS // 3)))
        hi = esc.find("\n", anchor + EXCERPT_CHARS)
        hi = len(esc) if hi < 0 else hi
        lo = min([lo, *(s0 for s0, e, _ in spans if s0 < lo < e)])
        hi = max([hi, *(e for s0, e, _ in spans if s0 < hi < e)])
        while lo > 0 and esc.rfind("&", 0, lo) > esc.rfind(";", 0, lo):  # not inside an entity
            lo -= 1
    out, pos = [], lo
    for s0, e, cls in sorted(sp for sp in spans if lo <= sp[0] and sp[1] <= hi):
        out += [esc[pos:s0], f'<mark class="{cls}">', esc[s0:e], "</mark>"]
        pos = e
    out.append(esc[pos:hi])
    return ("…" if lo else "") + "".join(out) + ("…" if hi < len(esc) else "")


class Workbench:
    def __init__(self, curated: Path, corrections_dir: Path, registry_units: list[str] | None = None) -> None:
        self.curated = Path(curated)
        self.corrections_dir = Path(corrections_dir)
        self._registry = registry_units

    # ------------------------------------------------------------ data
    def queue(self) -> list[dict[str, Any]]:
        return build_review_queue(self.curated, self.corrections_dir).to_pylist()

    def registry(self) -> list[str]:
        if self._registry is None:
            from parsers._text import load_yaml

            self._registry = sorted(u["name"] for u in load_yaml("units.yaml")["units"])
        return self._registry

    def page_text(self, plan_id: str, page: int) -> str | None:
        for r in read_rows(self.curated, "pages", ["plan_id", "page", "text"]):
            if r["plan_id"] == plan_id and r["page"] == page:
                return r["text"]
        return None

    def render(self, name: str, request: Request, **ctx: Any) -> HTMLResponse:
        q = request.query_params
        return HTMLResponse(ENV.get_template(name).render(curated=str(self.curated), msg=q.get("msg"),
                                                          err=q.get("err"), **ctx))

    @staticmethod
    def source_pdf(plan: dict[str, Any]) -> Path | None:
        p = Path(plan.get("source_path") or "")
        return p if plan.get("source_format") in PDF_FORMATS and p.is_file() else None

    # ------------------------------------------------------------ pages
    async def index(self, request: Request) -> HTMLResponse:
        items = self.queue()
        counts: dict[str, int] = {}
        for r in items:
            counts[r["kind"]] = counts.get(r["kind"], 0) + 1
        kind = request.query_params.get("kind")
        if kind:
            items = [r for r in items if r["kind"] == kind]
        return self.render("queue", request, items=items, counts=sorted(counts.items()), kind=kind)

    def task_item(self, task_id: str) -> dict[str, Any] | None:
        """Any published task as an item, queued or not (an analyst who spots an error elsewhere)."""
        task = Curated(self.curated).tasks.get(task_id)
        if task is None:
            return None
        return {"item_id": f"task:{task_id}", "kind": "task", "partition_key": task["partition_key"],
                "plan_id": task["plan_id"], "task_id": task_id, "field": "lead_units", "value": None,
                "detail": "a published task", "page": task.get("page_start")}

    async def task(self, request: Request) -> Response:
        return RedirectResponse(f"/item/task:{request.path_params['task_id']}", 307)

    async def item(self, request: Request) -> Response:
        item_id = request.path_params["item_id"]
        if item_id.startswith("task:"):
            item = self.task_item(item_id[5:])
        else:
            item = next((r for r in self.queue() if r["item_id"] == item_id), None)
        if item is None:
            return RedirectResponse("/?" + urlencode({"err": f"item {item_id} is no longer in the queue"}), 303)
        if request.method == "POST":
            return await self.submit(request, item)
        data = Curated(self.curated)
        plan = data.plans.get(item["plan_id"]) if item["plan_id"] else None
        task = data.tasks.get(item["task_id"]) if item["task_id"] else None
        dataset = "tasks" if task else "plans"
        field = item["field"] or DEFAULT_FIELD.get(item["kind"]) or ("lead_units" if task else "title")
        fields = corr.CORRECTABLE[dataset]
        if field not in fields:
            field = fields[0]
        row = task or plan or {}
        page = item["page"] or (task or {}).get("page_start") or 1
        ctx: dict[str, Any] = {"item": item, "plan": plan, "task": task, "field": field, "fields": fields,
                               "current": _as_text(row.get(field)), "can_correct": plan is not None
                               and item["kind"] != "stale_correction", "registry": self.registry(), "page": page,
                               "who": request.query_params.get("who", ""), "image_url": None, "searched": False,
                               "page_text": None, "no_image": ""}
        if task:
            ctx["text_html"] = highlight(task_text(task), [("lead_units", task.get("lead_units_raw")),
                                                           ("deadline", task.get("deadline_raw"))])
        if plan is None:
            ctx["no_image"] = "the file could not be read: no page to show"
        elif self.source_pdf(plan):
            q = {"task": task["task_id"]} if task else {}
            ctx["image_url"] = f"/plan/{plan['plan_id']}/page/{page}.png" + ("?" + urlencode(q) if q else "")
            ctx["searched"] = bool(task) and not task.get("source_cells")
        else:
            text = self.page_text(plan["plan_id"], page)
            marks = [("task", task_text(task)[:120]), ("lead_units", task.get("lead_units_raw")),
                     ("deadline", task.get("deadline_raw"))] if task else []
            ctx["page_text"] = highlight(text, marks, excerpt=True) if text else None
            ctx["no_image"] = f"source file not found: {plan.get('source_path')}"
        return self.render("item", request, **ctx)

    async def submit(self, request: Request, item: dict[str, Any]) -> Response:
        form = await request.form()
        action = form.get("action", "correct")
        try:
            c = record(Curated(self.curated), self.corrections_dir, task_id=item["task_id"], plan_id=item["plan_id"],
                       field=str(form.get("field")), value=form.get("value"), action=str(action),
                       why=str(form.get("why") or ""), who=str(form.get("who") or ""))
        except CliError as exc:
            return RedirectResponse(f"/item/{item['item_id']}?" + urlencode({"err": str(exc)}), 303)
        msg = (f"Recorded {c.action} of {c.field} ({c.id}): {_as_text(c.old)} → {_as_text(c.new)}. "
               "It is applied when the plan is next published (make run).")
        return RedirectResponse("/?" + urlencode({"msg": msg}), 303)

    async def promote(self, request: Request) -> Response:
        form = await request.form()
        back = str(form.get("back") or "/")
        try:
            path = corr.promote_unit_alias(str(form.get("raw")), str(form.get("canonical")))
        except ValueError as exc:
            return RedirectResponse(back + "?" + urlencode({"err": str(exc)}), 303)
        return RedirectResponse("/?" + urlencode({"msg": f"alias added to {path}; every plan at the next run"}), 303)

    async def plan_page(self, request: Request) -> Response:
        plan_id, page = request.path_params["plan_id"], int(request.path_params["page"])
        data = Curated(self.curated)
        plan = data.plans.get(plan_id)
        if plan is None:
            return HTMLResponse(f"no plan {html.escape(plan_id)}", status_code=404)
        tasks = [{**t, "text": task_text(t)} for t in data.tasks.values()
                 if t["plan_id"] == plan_id and (t.get("page_start") or 0) <= page <= (t.get("page_end") or 0)]
        image = f"/plan/{plan_id}/page/{page}.png" if self.source_pdf(plan) else None
        return self.render("page", request, plan=plan, page=page, tasks=tasks, image_url=image,
                           page_text=self.page_text(plan_id, page) or "")

    async def page_png(self, request: Request) -> Response:
        plan_id, page = request.path_params["plan_id"], int(request.path_params["page"])
        data = Curated(self.curated)
        plan = data.plans.get(plan_id)
        pdf = self.source_pdf(plan) if plan else None
        if pdf is None:
            return Response("no PDF source for this plan", status_code=404, media_type="text/plain")
        tid = request.query_params.get("task")
        task = data.tasks.get(tid) if tid else None
        boxes = task_boxes(pdf, page, task) if task else []
        try:
            png = render_page(pdf, page, boxes)
        except ValueError as exc:
            return Response(str(exc), status_code=404, media_type="text/plain")
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    async def corrections(self, request: Request) -> HTMLResponse:
        rows = corr.status_of_all(self.corrections_dir, read_rows(self.curated, "plans"),
                                  read_rows(self.curated, "tasks"))
        return self.render("corrections", request, rows=rows)

    async def health(self, request: Request) -> Response:
        return Response("ok", media_type="text/plain")


def create_app(curated: Path, corrections_dir: Path) -> Starlette:
    wb = Workbench(curated, corrections_dir)
    return Starlette(routes=[
        Route("/", wb.index),
        Route("/item/{item_id}", wb.item, methods=["GET", "POST"]),
        Route("/task/{task_id}", wb.task),
        Route("/promote", wb.promote, methods=["POST"]),
        Route("/plan/{plan_id}/page/{page:int}.png", wb.page_png),
        Route("/plan/{plan_id}/page/{page:int}", wb.plan_page),
        Route("/corrections", wb.corrections),
        Route("/health", wb.health),
    ])


def serve(curated: Path, corrections_dir: Path, host: str = "127.0.0.1", port: int = 8765) -> None:
    import uvicorn

    print(f"khsyt review workbench on http://{host}:{port} (curated: {curated}, corrections: {corrections_dir})")
    uvicorn.run(create_app(curated, corrections_dir), host=host, port=port, log_level="warning")
