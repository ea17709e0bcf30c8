"""Assets: one dynamic partition per plan file in data/raw.

plan_documents (file → page model) → parsed_plans (records, normalised) → the curated
datasets plans / tasks / pages / legal_refs / tables / rejects (one Parquet file per plan file each),
and the cross-plan ``units`` dataset.
"""

from collections import Counter
from dataclasses import replace
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from extractors.errors import ExtractionError
from extractors.model import Document
from khsyt import datasets
from khsyt.extract import check_inside, parse_plan, read_document, rejected, sha256_of
from khsyt.results import Extracted, Rejected
from khsyt.rows import LOW_CONFIDENCE
from khsyt.units_dataset import build_units

from .resources import PlanStore

plan_files = DynamicPartitionsDefinition(name="plan_files")

#: Above this share of tasks without a lead unit, a plan needs a human look.
MISSING_LEAD_WARN = 0.10


@asset(partitions_def=plan_files, group_name="extraction", kinds={"python"})
def plan_documents(context: AssetExecutionContext, store: PlanStore) -> Any:
    """The plan file read into pages of text lines and table grids (text layer, legacy-font
    decoding or OCR per page), or the reason it could not be read."""
    path = store.path_for(context.partition_key)
    if path is None:
        return rejected(context.partition_key, None, "open", ExtractionError("file no longer in the raw folder"),
                        context.partition_key)
    sha = None
    try:
        check_inside(path, store.raw)
        sha = sha256_of(path)
        doc = read_document(path, replace(store.settings(), progress=context.log.info), sha)
    except Exception as exc:
        r = rejected(path, sha, "extract", exc, context.partition_key)
        context.log.warning(f"{path}: rejected at {r.stage}: {r.reason}")
        return r
    methods = Counter(p.method for p in doc.pages)
    confs = [p.confidence for p in doc.pages if p.confidence is not None]
    context.add_output_metadata({
        "source_path": str(path),
        "pages": len(doc.pages),
        "pages_by_method": MetadataValue.json(dict(methods)),
        "mean_ocr_confidence": MetadataValue.float(sum(confs) / len(confs)) if confs else MetadataValue.null(),
        "tables": sum(len(p.tables) for p in doc.pages),
    })
    return doc


@asset(partitions_def=plan_files, group_name="extraction", kinds={"python"})
def parsed_plans(context: AssetExecutionContext, plan_documents: Any) -> Any:
    """Plan metadata and task rows parsed from the document, with units, deadlines, budgets,
    legal references and reform areas normalised."""
    if isinstance(plan_documents, Rejected):
        return plan_documents
    doc: Document = plan_documents
    try:
        result = parse_plan(doc, key=context.partition_key)
    except Exception as exc:
        r = rejected(doc.source_path, doc.sha256, "parse", exc, context.partition_key)
        context.log.warning(f"{doc.source_path}: rejected at {r.stage}: {r.reason}")
        return r
    context.add_output_metadata(extraction_report(doc, result))
    return result


def extraction_report(doc: Document, result: Extracted) -> dict[str, Any]:
    """What an analyst needs to judge a plan's extraction from the UI alone."""
    tasks = result.tasks
    per_page = "\n".join(
        f"| {p.number} | {p.method} | {'' if p.confidence is None else f'{p.confidence:.0f}'} | {len(p.tables)} |"
        for p in doc.pages
    )
    no_lead = [t for t in tasks if not t["lead_units_raw"]]
    no_deadline = [t for t in tasks if not t["deadline_raw"]]
    low = [t for t in tasks if t["low_confidence"]]
    per_table = Counter(t["source"] if t["source"] == "body" else f"appendix p.{t['page_start']}" for t in tasks)
    review = []
    if result.plan["has_appendix"] and not any(t["source"] == "appendix" for t in tasks):
        review.append("PHỤ LỤC present but no appendix task extracted")
    if tasks and len(no_lead) / len(tasks) > MISSING_LEAD_WARN:
        review.append(f"{len(no_lead)} of {len(tasks)} tasks without a lead unit")
    if low:
        review.append(f"{len(low)} tasks with OCR confidence < {LOW_CONFIDENCE:.0f}")
    if result.low_confidence:
        review.append("low-confidence fields: " + ", ".join(sorted(result.low_confidence)))
    review.extend(result.warnings)
    return {
        "plan_id": result.plan["plan_id"],
        "province": result.plan["province"] or "",
        "title": result.plan["title"] or "",
        "task_count": len(tasks),
        "tasks_by_source": MetadataValue.json(dict(Counter(t["source"] for t in tasks))),
        "tasks_per_table": MetadataValue.json(dict(per_table)),
        "tasks_without_lead_unit": len(no_lead),
        "tasks_without_deadline": len(no_deadline),
        "low_confidence_tasks": len(low),
        "needs_review": MetadataValue.md("\n".join(f"- {r}" for r in review) or "nothing flagged"),
        "pages": MetadataValue.md("| page | method | OCR conf. | tables |\n|---|---|---|---|\n" + per_page),
        "preview": MetadataValue.md(task_preview(tasks)),
        "tables": MetadataValue.md(table_report(result.tables)),
    }


def table_report(tables: list[dict[str, Any]]) -> str:
    """How each table with a header was read: its columns' roles and evidence, what was
    joined, filled down or left without a role."""
    if not tables:
        return "no table with a header"
    out = ["| table | pages | task table | rows | tasks | joined | filled down | columns (header → role ← evidence) "
           "| no role | warnings |", "|---|---|---|---|---|---|---|---|---|---|"]
    for t in tables:
        cols = "; ".join(f"{(c['header'] or '?')[:30]} → {c['role'] or '—'} ← {c['evidence']}" for c in t["columns"])
        out.append(f"| {t['table_id']} | {','.join(map(str, t['pages']))} | {'yes' if t['is_task_table'] else 'no'} "
                   f"| {t['rows']} | {t['tasks']} | {t['rows_joined']} | {t['cells_filled_down']} "
                   f"| {cols.replace('|', '/')} | {', '.join(t['columns_without_role'])} "
                   f"| {' / '.join(t['warnings']).replace('|', '/')} |")
    return "\n".join(out)


def task_preview(tasks: list[dict[str, Any]], n: int = 10) -> str:
    def cell(v: Any, width: int = 60) -> str:
        s = "" if v is None else str(v).replace("|", "/").replace("\n", " ")
        return s if len(s) <= width else s[: width - 1] + "…"

    rows = ["| seq | section | task | lead | deadline |", "|---|---|---|---|---|"]
    for t in tasks[:n]:
        main = t["task"] or t["activity"] or t["objective"] or t["solution"]
        rows.append(f"| {t['seq']} | {cell(t['section_code'], 6)} | {cell(main)} | {cell(t['lead_units_raw'], 30)} "
                    f"| {cell(t['deadline_raw'], 25)} |")
    return "\n".join(rows)


CURATED = ("plans", "tasks", "pages", "legal_refs", "tables", "rejects")
CHECKS = [
    AssetCheckSpec("plan_has_tasks", asset="tasks", blocking=False,
                   description="error when a plan with a PHỤ LỤC gave no task, warning when any plan gave none"),
    AssetCheckSpec("tasks_have_lead_units", asset="tasks",
                   description=f"warning when more than {MISSING_LEAD_WARN:.0%} of a plan's tasks have no lead unit"),
    AssetCheckSpec("unique_task_ids", asset="tasks", description="error on duplicate task ids"),
    AssetCheckSpec("duplicate_document", asset="plans",
                   description="warning when another plan file holds the same bytes (same source_sha256)"),
    AssetCheckSpec("ocr_confidence", asset="plans",
                   description="warning when OCR confidence is low or header fields were read with low confidence"),
    AssetCheckSpec("schema_matches_contract", asset="tasks",
                   description="error when a curated file's schema differs from docs/datasets.md"),
]


@multi_asset(
    specs=[AssetSpec(name, deps=[AssetKey("parsed_plans")], group_name="curated", kinds={"parquet"},
                     description=f"curated dataset data/curated/{name}/ (one Parquet file per plan file)")
           for name in CURATED],
    check_specs=CHECKS,
    partitions_def=plan_files,
    can_subset=False,
)
def curated_datasets(context: AssetExecutionContext, store: PlanStore, parsed_plans: Any):
    """Publish one plan file's rows to every curated dataset (write then rename)."""
    key = context.partition_key
    out = store.curated
    datasets.ensure_dirs(out)
    datasets.repair(out)
    datasets.write_plan(out, key, parsed_plans)
    if isinstance(parsed_plans, Rejected):
        r = parsed_plans
        for name in CURATED:
            meta = {"rejected": True, "stage": r.stage, "reason": r.reason} if name == "rejects" else {
                "rejected": True, "kept_previous_rows": (out / name / f"{key}.parquet").exists()}
            yield MaterializeResult(asset_key=name, metadata=meta)
        for spec in CHECKS:
            sev = AssetCheckSeverity.ERROR if spec.name == "plan_has_tasks" else AssetCheckSeverity.WARN
            yield AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name,
                                   passed=spec.name not in ("plan_has_tasks",), severity=sev,
                                   metadata={"reason": f"file rejected at {r.stage}: {r.reason}"})
        return
    res = parsed_plans
    tasks = res.tasks
    yield MaterializeResult(asset_key="plans", metadata={
        "province": res.plan["province"] or "", "doc_number": res.plan["doc_number"] or "",
        "title": res.plan["title"] or "", "task_count": len(tasks),
    })
    yield MaterializeResult(asset_key="tasks", metadata={
        "task_count": len(tasks), "preview": MetadataValue.md(task_preview(tasks)),
    })
    yield MaterializeResult(asset_key="pages", metadata={"row_count": len(res.pages)})
    yield MaterializeResult(asset_key="legal_refs", metadata={"row_count": len(res.legal_refs)})
    yield MaterializeResult(asset_key="tables", metadata={"row_count": len(res.tables),
                                                          "report": MetadataValue.md(table_report(res.tables))})
    yield MaterializeResult(asset_key="rejects", metadata={"row_count": 0})
    yield from plan_checks(res, out, key)


def plan_checks(res: Extracted, out, key: str):
    tasks = res.tasks
    if not tasks:
        sev = AssetCheckSeverity.ERROR if res.plan["has_appendix"] else AssetCheckSeverity.WARN
        yield AssetCheckResult(asset_key="tasks", check_name="plan_has_tasks", passed=False, severity=sev,
                               metadata={"has_appendix": res.plan["has_appendix"]})
    elif res.plan["has_appendix"] and not any(t["source"] == "appendix" for t in tasks):
        yield AssetCheckResult(asset_key="tasks", check_name="plan_has_tasks", passed=False,
                               severity=AssetCheckSeverity.ERROR,
                               metadata={"detail": "PHỤ LỤC present but no appendix task extracted"})
    else:
        yield AssetCheckResult(asset_key="tasks", check_name="plan_has_tasks", passed=True,
                               metadata={"task_count": len(tasks)})
    no_lead = [t["seq"] for t in tasks if not t["lead_units"]]
    share = len(no_lead) / len(tasks) if tasks else 0.0
    yield AssetCheckResult(asset_key="tasks", check_name="tasks_have_lead_units", passed=share <= MISSING_LEAD_WARN,
                           severity=AssetCheckSeverity.WARN,
                           metadata={"share_without_lead": share, "seq_without_lead": MetadataValue.json(no_lead[:50])})
    ids = Counter(t["task_id"] for t in tasks)
    dups = [k for k, n in ids.items() if n > 1]
    yield AssetCheckResult(asset_key="tasks", check_name="unique_task_ids", passed=not dups,
                           severity=AssetCheckSeverity.ERROR, metadata={"duplicates": MetadataValue.json(dups)})
    sha = res.plan["source_sha256"]
    twins = sorted(k for k, v in datasets.published_sha256(out).items() if v == sha and k != key)
    yield AssetCheckResult(asset_key="plans", check_name="duplicate_document", passed=not twins,
                           severity=AssetCheckSeverity.WARN, metadata={"same_bytes_as": MetadataValue.json(twins)})
    conf = res.plan["ocr_confidence"]
    low_tasks = sum(1 for t in tasks if t["low_confidence"])
    ok = (conf is None or conf >= LOW_CONFIDENCE) and not res.low_confidence and not low_tasks
    yield AssetCheckResult(asset_key="plans", check_name="ocr_confidence", passed=ok, severity=AssetCheckSeverity.WARN,
                           metadata={"mean_ocr_confidence": conf if conf is not None else -1.0,
                                     "low_confidence_fields": MetadataValue.json(res.low_confidence),
                                     "low_confidence_tasks": low_tasks})
    drift = datasets.schema_drift(out, key)
    yield AssetCheckResult(asset_key="tasks", check_name="schema_matches_contract", passed=not drift,
                           severity=AssetCheckSeverity.ERROR, metadata={"drift": MetadataValue.json(drift)})


@asset(deps=[AssetKey("tasks"), AssetKey("plans")], group_name="curated", kinds={"parquet"})
def units(context: AssetExecutionContext, store: PlanStore) -> MaterializeResult:
    """One row per (province, canonical unit) over all plans: kind, raw spellings, tasks led
    and coordinated.  Rebuilt from the curated plans and tasks datasets."""
    table = build_units(store.curated)
    datasets.write_atomic(table, store.curated / "units" / "units.parquet")
    top = table.sort_by([("tasks_led", "descending")]).slice(0, 10).to_pylist()
    md = "| province | unit | kind | led | coordinated |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {r['province']} | {r['unit']} | {r['kind']} | {r['tasks_led']} | {r['tasks_coordinated']} |" for r in top)
    return MaterializeResult(metadata={"row_count": table.num_rows, "top_lead_units": MetadataValue.md(md)})
