"""Assets: one dynamic partition per plan file in data/raw.

plan_documents (file → page model) → parsed_plans (records, normalised) → the curated
datasets plans / tasks / pages / legal_refs / rejects (one Parquet file per plan file each),
and the cross-plan ``units`` dataset.
"""

import os
import warnings
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
    Failure,
    MaterializeResult,
    MetadataValue,
    PreviewWarning,
    TableColumn,
    TableSchema,
    asset,
    multi_asset,
)

from extractors.errors import ExtractionError
from extractors.model import Document
from khsyt import datasets
from khsyt.corrections import publish
from khsyt.cross_plan import write_cross_plan
from khsyt.extract import check_inside, parse_plan, read_document, rejected, sha256_of
from khsyt.flags import MISSING_LEAD_WARN, guessed_units, needs_review
from khsyt.results import Extracted, Rejected
from khsyt.rows import LOW_CONFIDENCE

from .resources import PlanStore

plan_files = DynamicPartitionsDefinition(name="plan_files")

#: Where the review workbench (``make review``) serves; the report links each task's page to it.
REVIEW_URL = os.environ.get("KHSYT_REVIEW_URL", "http://127.0.0.1:8765")


def column_schema(schema) -> TableSchema:
    """The ``dagster/column_schema`` of a dataset, from its Arrow contract."""
    return TableSchema(columns=[TableColumn(f.name, str(f.type)) for f in schema])


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
    review = needs_review(result)
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
    }


def page_link(plan_id: str, page: int | None) -> str:
    """A markdown link to the page in the review workbench (the page image with the cells)."""
    return f"[p.{page}]({REVIEW_URL}/plan/{plan_id}/page/{page})" if page else ""


def task_preview(tasks: list[dict[str, Any]], n: int = 10) -> str:
    def cell(v: Any, width: int = 60) -> str:
        s = "" if v is None else str(v).replace("|", "/").replace("\n", " ")
        return s if len(s) <= width else s[: width - 1] + "…"

    rows = ["| seq | page | section | task | lead | deadline |", "|---|---|---|---|---|---|"]
    for t in tasks[:n]:
        main = t["task"] or t["activity"] or t["objective"] or t["solution"]
        rows.append(f"| {t['seq']} | {page_link(t['plan_id'], t['page_start'])} | {cell(t['section_code'], 6)} "
                    f"| {cell(main)} | {cell(t['lead_units_raw'], 30)} | {cell(t['deadline_raw'], 25)} |")
    return "\n".join(rows)


CURATED = ("plans", "tasks", "pages", "legal_refs", "rejects")
_CHECKS = [
    ("file_readable", "plans", "error when the file could not be read or is not a plan (reason in the result)"),
    ("plan_has_tasks", "tasks", "error when a plan with a PHỤ LỤC gave no task, warning when any plan gave none"),
    ("tasks_have_lead_units", "tasks",
     f"warning when more than {MISSING_LEAD_WARN:.0%} of a plan's tasks have no lead unit"),
    ("unique_task_ids", "tasks", "error on duplicate task ids"),
    ("units_known", "tasks", "warning when a unit is not in the registry (kept under its own name, for review)"),
    ("duplicate_document", "plans", "warning when another plan file holds the same bytes (same source_sha256)"),
    ("ocr_confidence", "plans",
     "warning when OCR confidence is low or header fields were read with low confidence"),
    ("corrections_apply", "tasks", "warning when an analyst's correction no longer fits the re-extracted rows"),
    ("schema_matches_contract", "tasks", "error when a curated file's schema differs from docs/datasets.md"),
]
#: One evaluation per plan file: a plan's failed check is not masked by the next plan's pass.
#: (partitioned checks are a Dagster "preview" feature in 1.13; its warning is expected here.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", PreviewWarning)
    CHECKS = [AssetCheckSpec(name, asset=a, description=d, partitions_def=plan_files) for name, a, d in _CHECKS]


@multi_asset(
    specs=[AssetSpec(name, deps=[AssetKey("parsed_plans")], group_name="curated", kinds={"parquet"},
                     description=f"curated dataset data/curated/{name}/ (one Parquet file per plan file)",
                     metadata={"dagster/column_schema": column_schema(datasets.SCHEMAS[name]),
                               "schema_version": datasets.SCHEMA_VERSION})
           for name in CURATED],
    check_specs=CHECKS,
    partitions_def=plan_files,
    can_subset=False,
)
def curated_datasets(context: AssetExecutionContext, store: PlanStore, parsed_plans: Any):
    """Publish one plan file's rows to every curated dataset (write then rename), with the
    analysts' corrections re-applied.  A rejected file publishes its rejects row, fails its
    ``file_readable`` check and then fails the run: a red partition with the reason."""
    key = context.partition_key
    out = store.curated
    datasets.ensure_dirs(out)
    datasets.repair(out)
    outcomes = publish(out, key, parsed_plans, store.corrections)
    if isinstance(parsed_plans, Rejected):
        r = parsed_plans
        reason = f"file rejected at {r.stage}: {r.reason}"
        yield MaterializeResult(asset_key="rejects", metadata={
            "rejected": True, "stage": r.stage, "reason": r.reason, "source_path": r.source_path,
            "dagster/row_count": 1})
        # only the check that is about the file fails; the others were not evaluated (no rows to judge)
        yield AssetCheckResult(asset_key="plans", check_name="file_readable", passed=False,
                               severity=AssetCheckSeverity.ERROR,
                               metadata={"reason": reason, "source_path": r.source_path})
        raise Failure(description=f"{r.source_path}: {reason}",
                      metadata={"stage": r.stage, "reason": r.reason, "source_path": r.source_path,
                                "kept_previous_rows": (out / "plans" / f"{key}.parquet").exists()})
    res = parsed_plans
    tasks = res.tasks
    yield MaterializeResult(asset_key="plans", metadata={
        "province": res.plan["province"] or "", "doc_number": res.plan["doc_number"] or "",
        "document_key": res.plan["document_key"], "title": res.plan["title"] or "", "task_count": len(tasks),
        "dagster/row_count": 1,
    })
    yield MaterializeResult(asset_key="tasks", metadata={
        "task_count": len(tasks), "dagster/row_count": len(tasks), "preview": MetadataValue.md(task_preview(tasks)),
        "corrected_tasks": sum(1 for t in tasks if t.get("corrected_fields")),
    })
    yield MaterializeResult(asset_key="pages", metadata={"dagster/row_count": len(res.pages)})
    yield MaterializeResult(asset_key="legal_refs", metadata={"dagster/row_count": len(res.legal_refs)})
    yield MaterializeResult(asset_key="rejects", metadata={"dagster/row_count": 0})
    yield from plan_checks(res, out, key, outcomes)


def plan_checks(res: Extracted, out, key: str, outcomes=()):
    tasks = res.tasks
    yield AssetCheckResult(asset_key="plans", check_name="file_readable", passed=True,
                           metadata={"source_path": res.plan["source_path"]})
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
    unknown = sorted({u for t in tasks for u in (t.get("unknown_units") or [])})
    guessed = sorted({f"{raw} → {name}" for t in tasks for _, name, raw, _ in guessed_units(t, res.plan["province"])})
    yield AssetCheckResult(asset_key="tasks", check_name="units_known", passed=not unknown,
                           severity=AssetCheckSeverity.WARN,
                           metadata={"unknown_units": MetadataValue.json(unknown),
                                     "approximate_matches": MetadataValue.json(guessed)})
    stale = [o for o in outcomes if o.status == "stale"]
    yield AssetCheckResult(asset_key="tasks", check_name="corrections_apply", passed=not stale,
                           severity=AssetCheckSeverity.WARN, metadata={
                               "applied": sum(1 for o in outcomes if o.status == "applied"),
                               "stale": MetadataValue.json([f"{o.correction.id} {o.correction.field}: {o.detail}"
                                                            for o in stale])})
    drift = datasets.schema_drift(out, key)
    yield AssetCheckResult(asset_key="tasks", check_name="schema_matches_contract", passed=not drift,
                           severity=AssetCheckSeverity.ERROR, metadata={"drift": MetadataValue.json(drift)})


@multi_asset(
    specs=[AssetSpec("units", deps=[AssetKey("tasks"), AssetKey("plans")], group_name="curated", kinds={"parquet"},
                     description="one row per (province, canonical unit) over all plans: kind, raw spellings, "
                                 "tasks led and coordinated"),
           AssetSpec("plan_versions", deps=[AssetKey("plans")], group_name="curated", kinds={"parquet"},
                     description="every published copy of a document (PDF, scan, Word) under its document_key, "
                                 "with the preferred one flagged: count documents, not files"),
           AssetSpec("review_queue", deps=[AssetKey("plans"), AssetKey("tasks"), AssetKey("rejects")],
                     group_name="review", kinds={"parquet"},
                     description="what needs a human look across all plans (make review opens it)")],
    can_subset=False,
)
def units(context: AssetExecutionContext, store: PlanStore):
    """The cross-plan datasets, rebuilt from the curated per-plan files and the corrections."""
    from khsyt.units_dataset import UNITS_SCHEMA

    tables = write_cross_plan(store.curated, store.corrections)
    table = tables["units"]
    top = table.sort_by([("tasks_led", "descending")]).slice(0, 10).to_pylist()
    md = "| province | unit | kind | led | coordinated |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {r['province']} | {r['unit']} | {r['kind']} | {r['tasks_led']} | {r['tasks_coordinated']} |" for r in top)
    yield MaterializeResult(asset_key="units", metadata={
        "row_count": table.num_rows, "dagster/row_count": table.num_rows, "top_lead_units": MetadataValue.md(md),
        "dagster/column_schema": column_schema(UNITS_SCHEMA)})
    versions = tables["plan_versions"].to_pylist()
    yield MaterializeResult(asset_key="plan_versions", metadata={
        "dagster/row_count": len(versions), "documents": len({v["document_key"] for v in versions}),
        "files": len(versions), "dagster/column_schema": column_schema(datasets.CROSS_PLAN["plan_versions"])})
    queue = tables["review_queue"].to_pylist()
    counts = Counter(r["kind"] for r in queue)
    yield MaterializeResult(asset_key="review_queue", metadata={
        "dagster/row_count": len(queue), "by_kind": MetadataValue.json(dict(sorted(counts.items()))),
        "items": MetadataValue.md("| kind | items |\n|---|---|\n" + "\n".join(
            f"| {k} | {n} |" for k, n in sorted(counts.items()))),
        "workbench": MetadataValue.url(REVIEW_URL),
        "dagster/column_schema": column_schema(datasets.CROSS_PLAN["review_queue"])})
