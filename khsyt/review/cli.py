"""``khsyt review …``: the workbench's queue and corrections from the command line, so that
corrections can be made in bulk (export the queue as CSV, fill ``new_value``, import).

    khsyt review list [--kind unknown_unit]
    khsyt review correct --task TASK_ID --field lead_units --value "Phòng Nghiệp vụ Y" --why "…"
    khsyt review correct --plan PLAN_ID --field doc_number --value 12/KH-SYT
    khsyt review accept --task TASK_ID --field deadline_raw
    khsyt review export queue.csv         # the queue, with empty new_value / action columns
    khsyt review import queue.csv         # one correction (or acceptance) per filled row
    khsyt review promote-unit "Phòng KHÍTC" "Phòng Kế hoạch - Tài chính"
    khsyt review serve                    # the web workbench on http://127.0.0.1:8765
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from .. import corrections as corr
from ..cross_plan import build_review_queue, read_rows

EXPORT_COLUMNS = ("item_id", "kind", "partition_key", "plan_id", "document_key", "task_id", "field", "value",
                  "detail", "page", "new_value", "action", "why")


class Curated:
    """The published rows an analyst corrects, looked up by plan or task id."""

    def __init__(self, curated: Path) -> None:
        self.curated = Path(curated)
        self.plans = {p["plan_id"]: p for p in read_rows(curated, "plans")}
        self.tasks = {t["task_id"]: t for t in read_rows(curated, "tasks")}

    def target(self, task_id: str | None, plan_id: str | None) -> tuple[str, dict, dict | None]:
        from ..cli import EXIT_USAGE, CliError

        if task_id:
            task = self.tasks.get(task_id)
            if task is None:
                raise CliError(f"no task {task_id} in {self.curated}", EXIT_USAGE)
            return "tasks", self.plans[task["plan_id"]], task
        if plan_id and plan_id in self.plans:
            return "plans", self.plans[plan_id], None
        raise CliError(f"no plan {plan_id} in {self.curated}" if plan_id else "give --task or --plan", EXIT_USAGE)


def record(curated: Curated, corrections_dir: Path, *, task_id: str | None, plan_id: str | None, field: str,
           value: str | None, action: str, why: str, who: str = "") -> corr.Correction:
    """Make and store one record for a published value (shared by the CLI, CSV import and web)."""
    from ..cli import EXIT_USAGE, CliError

    dataset, plan, task = curated.target(task_id, plan_id)
    try:
        c = corr.new_correction(dataset, field, value, plan=plan, task=task, action=action, who=who, why=why)
        return corr.append(corrections_dir, c)
    except (ValueError, KeyError) as exc:
        raise CliError(f"cannot record {dataset}.{field}: {exc}", EXIT_USAGE) from exc


def cmd_list(a: argparse.Namespace) -> int:
    q = build_review_queue(Path(a.curated), Path(a.corrections)).to_pylist()
    if a.kind:
        q = [r for r in q if r["kind"] == a.kind]
    for r in q:
        where = r["task_id"] or r["plan_id"] or r["partition_key"]
        print(f"{r['item_id']}  {r['kind']:<20} {where:<24} {r['field'] or '':<18} {r['value'] or '':.50}  "
              f"{r['detail'] or ''}")
    counts: dict[str, int] = {}
    for r in q:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    print(f"{len(q)} items: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    return 0


def cmd_correct(a: argparse.Namespace) -> int:
    c = record(Curated(a.curated), Path(a.corrections), task_id=a.task, plan_id=a.plan, field=a.field,
               value=a.value, action="correct" if a.review_cmd == "correct" else "accept", why=a.why or "")
    print(f"recorded {c.action} {c.id}: {c.dataset}.{c.field} {c.old!r} → {c.new!r} (applied at the next run)")
    return 0


def cmd_export(a: argparse.Namespace) -> int:
    q = build_review_queue(Path(a.curated), Path(a.corrections)).to_pylist()
    with open(a.csv, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=EXPORT_COLUMNS)
        w.writeheader()
        for r in q:
            w.writerow({**{k: r.get(k) for k in EXPORT_COLUMNS}, "new_value": "", "action": "", "why": ""})
    print(f"{len(q)} items → {a.csv} (fill new_value, or action=accept, then `khsyt review import`)")
    return 0


def cmd_import(a: argparse.Namespace) -> int:
    curated = Curated(a.curated)
    n = skipped = 0
    with open(a.csv, newline="", encoding="utf-8") as fh:
        for line, r in enumerate(csv.DictReader(fh), start=2):
            filled = bool((r.get("new_value") or "").strip())
            action = (r.get("action") or "").strip().lower() or ("correct" if filled else "")
            if not action or not r.get("field") or not (r.get("task_id") or r.get("plan_id")):
                skipped += 1
                continue
            try:
                record(curated, Path(a.corrections), task_id=r.get("task_id") or None, plan_id=r.get("plan_id"),
                       field=r["field"], value=r.get("new_value"), action=action, why=r.get("why") or "")
            except Exception as exc:
                print(f"{a.csv}:{line}: {exc}", file=sys.stderr)
                skipped += 1
                continue
            n += 1
    print(f"{n} records imported, {skipped} rows skipped")
    return 0


def cmd_promote(a: argparse.Namespace) -> int:
    from ..cli import EXIT_USAGE, CliError

    try:
        path = corr.promote_unit_alias(a.raw, a.canonical, Path(a.registry) if a.registry else None)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    print(f"alias {a.raw!r} → {a.canonical!r} added to {path} (every plan, from the next run)")
    return 0


def cmd_serve(a: argparse.Namespace) -> int:
    from .web import serve

    serve(Path(a.curated), Path(a.corrections), host=a.host, port=a.port)
    return 0


def add_review_parser(sub: argparse._SubParsersAction) -> None:
    rv = sub.add_parser("review", help="the review queue and corrections (list, correct, export, import, serve)")
    rv.add_argument("--curated", default="data/curated", help="curated datasets folder (default data/curated)")
    rv.add_argument("--corrections", default="data/corrections", help="corrections folder (default data/corrections)")
    rs = rv.add_subparsers(dest="review_cmd", required=True)
    ls = rs.add_parser("list", help="what needs a look, across all plans")
    ls.add_argument("--kind", help="only this kind (rejected, stale_correction, no_lead_unit, unknown_unit, …)")
    ls.set_defaults(run=cmd_list)
    for name in ("correct", "accept"):
        c = rs.add_parser(name, help=f"{name} one field of a task (--task) or a plan (--plan)")
        g = c.add_mutually_exclusive_group(required=True)
        g.add_argument("--task", help="task_id")
        g.add_argument("--plan", help="plan_id")
        c.add_argument("--field", required=True)
        if name == "correct":
            c.add_argument("--value", required=True, help="new value; lists separated by ';'")
        else:
            c.set_defaults(value=None)
        c.add_argument("--why", default="")
        c.set_defaults(run=cmd_correct)
    ex = rs.add_parser("export", help="write the queue as CSV for bulk corrections")
    ex.add_argument("csv")
    ex.set_defaults(run=cmd_export)
    im = rs.add_parser("import", help="record the corrections of a filled CSV")
    im.add_argument("csv")
    im.set_defaults(run=cmd_import)
    pr = rs.add_parser("promote-unit", help="make a unit spelling an alias in the registry, for all plans")
    pr.add_argument("raw")
    pr.add_argument("canonical")
    pr.add_argument("--registry", default=None, help="registry file (default parsers/data/units.yaml)")
    pr.set_defaults(run=cmd_promote)
    sv = rs.add_parser("serve", help="the web workbench")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8765)
    sv.set_defaults(run=cmd_serve)
