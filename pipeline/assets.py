"""Assets: one dynamic partition per plan file in data/raw.

parsed_plans (file → page model → records, normalised, in one step) → the curated
datasets plans / tasks / pages / legal_refs / tables / rejects (one Parquet file per plan file each),
and the cross-plan ``units``, ``plan_versions`` and ``review_queue`` datasets.
"""

import os
import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
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
from khsyt.compaction import compact
from khsyt.corrections import publish
from khsyt.cross_plan import write_cross_plan
from khsyt.extract import check_inside, parse_plan, read_document, rejected, sha256_of, stamped
from khsyt.flags import MISSING_LEAD_WARN, guessed_units, needs_review
from khsyt.results import Extracted, Rejected
from khsyt.rows import LOW_CONFIDENCE
from khsyt.storage import storage_for

from .freshness import BATCH_SIZE
from .resources import PlanStore

plan_files = DynamicPartitionsDefinition(name="plan_files")

#: Backfills of the per-plan assets run up to BATCH_SIZE plan files per run.
BATCHES = BackfillPolicy.multi_run(max_partitions_per_run=BATCH_SIZE)

#: Where the review workbench (``make review``) serves; the report links each task's page to it.
REVIEW_URL = os.environ.get("KHSYT_REVIEW_URL", "http://127.0.0.1:8765")


#: Run tag of a batch run whose plans enter the documented view with the run after it.
VIEW_TAG, VIEW_DEFERRED = "khsyt/view_switch", "deferred"


def column_schema(schema) -> TableSchema:
    """The ``dagster/column_schema`` of a dataset, from its Arrow contract."""
    return TableSchema(columns=[TableColumn(f.name, str(f.type)) for f in schema])


def add_partition_metadata(context: AssetExecutionContext, metadata: dict[str, Any], partition_key: str,
                           asset_key: str | None = None) -> None:
    """``context.add_asset_metadata(metadata, asset_key, partition_key)`` for a partition of the run.

    Dagster 1.13's public call checks the key against the run's partition range each time,
    and for dynamic partitions that is a listing of every partition from the instance: one
    query per plan and asset, O(plans) each, so quadratic over a batch run of a large folder
    (a third of Dagster's cost per plan at 100 plans).  The keys here come from
    ``context.partition_keys`` itself, so the metadata goes to the step's metadata
    accumulator directly (what the public call does after its check); the public call is the
    fallback should a Dagster release rename it (``dagster`` is pinned to one release)."""
    step = getattr(context, "_step_execution_context", None)
    acc = getattr(step, "_metadata_accumulator", None)
    if acc is None or not hasattr(acc, "with_additional_asset_metadata"):
        context.add_asset_metadata(metadata, asset_key=asset_key, partition_key=partition_key)
        return
    key = AssetKey.from_coercible(asset_key) if asset_key else context.assets_def.key
    step._metadata_accumulator = acc.with_additional_asset_metadata(asset_key=key, metadata=metadata,
                                                                    partition_key=partition_key)


@asset(partitions_def=plan_files, group_name="extraction", kinds={"python"}, backfill_policy=BATCHES)
def parsed_plans(context: AssetExecutionContext, store: PlanStore) -> dict[str, Any]:
    """Each plan file of the run read into pages of text lines and table grids (text layer,
    legacy-font decoding or OCR per page) and parsed into plan metadata and task rows, with
    units, deadlines, budgets, legal references and reform areas normalised — or the reason
    it could not be read or parsed; one value per partition of the run (a batch run reads
    many files).

    Reading and parsing are one step: the page model is handed to the parser in memory, not
    stored and read back (a JSON round trip of the page model per plan, and two more asset
    events per plan, for a value nothing else reads).  The extraction report (metadata) says
    how every page was read as well as what was parsed."""
    return {k: extract_one(context, store, k) for k in context.partition_keys}


def extract_one(context: AssetExecutionContext, store: PlanStore, key: str) -> Extracted | Rejected:
    """One plan file: read, parse, and record its extraction report on its partition."""
    doc = read_one(context, store, key)
    if isinstance(doc, Rejected):
        return doc
    try:
        result = stamped(parse_plan(doc, key=key), store.settings())
    except Exception as exc:
        r = stamped(rejected(doc.source_path, doc.sha256, "parse", exc, key), store.settings())
        context.log.warning(f"{doc.source_path}: rejected at {r.stage}: {r.reason}")
        return r
    add_partition_metadata(context, {**reading_report(doc), **extraction_report(doc, result)}, key)
    return result


def read_one(context: AssetExecutionContext, store: PlanStore, key: str) -> Document | Rejected:
    settings = store.settings()
    with store.local_file(key) as path:
        if path is None:
            return stamped(rejected(key, None, "open", ExtractionError("file no longer in the raw folder"), key),
                           settings)
        source = store.source_name(key)
        sha = None
        try:
            if store.raw_storage() is None:  # an object store has no symbolic links
                check_inside(path, store.raw)
            sha = sha256_of(path)
            doc = read_document(path, replace(settings, progress=context.log.info), sha)
            doc.source_path = source
        except Exception as exc:
            r = stamped(rejected(source, sha, "extract", exc, key), settings)
            context.log.warning(f"{source}: rejected at {r.stage}: {r.reason}")
            return r
    return doc


def reading_report(doc: Document) -> dict[str, Any]:
    """How the file was read: its pages by method, OCR confidence, tables found."""
    methods = Counter(p.method for p in doc.pages)
    confs = [p.confidence for p in doc.pages if p.confidence is not None]
    return {
        "source_path": doc.source_path,
        "page_count": len(doc.pages),
        "pages_by_method": MetadataValue.json(dict(methods)),
        "mean_ocr_confidence": MetadataValue.float(sum(confs) / len(confs)) if confs else MetadataValue.null(),
        "table_count": sum(len(p.tables) for p in doc.pages),
    }


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


CURATED = ("plans", "tasks", "pages", "legal_refs", "tables", "rejects")
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
#: One evaluation per plan file (in a single-partition run): a plan's failed check is not masked
#: by the next plan's pass.  (Partitioned checks are a Dagster "preview" feature in 1.13.)
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
    backfill_policy=BATCHES,
)
def curated_datasets(context: AssetExecutionContext, store: PlanStore, parsed_plans: dict[str, Any]):
    """Publish each plan file's rows of the run to every curated dataset (write then rename),
    with the analysts' corrections re-applied.

    A rejected file publishes its rejects row and fails its ``file_readable`` check (ERROR, with
    the reason).  In a single-file run (``make run``, the sensor) the run then fails: a red
    partition with the reason in the UI.  In a batch run the other files of the batch are good
    data, so the run succeeds and the combined check names the rejected partitions.

    A run tagged ``VIEW_TAG: VIEW_DEFERRED`` (the ingest's batch runs, each followed by the
    cross-plan run) leaves its plans committed but pending: the cross-plan run's switch shows
    them together with the units and review queue built from them, as the CLI does, and the
    documented view is switched once per ingest instead of once per batch (each switch links
    every published plan's files)."""
    out = store.curated
    deferred = context.run.tags.get(VIEW_TAG) == VIEW_DEFERRED
    datasets.ensure_dirs(out)
    if not deferred:  # a deferring caller repaired before its first batch
        datasets.repair(out)
    publications = {}
    for key, result in parsed_plans.items():
        publications[key] = publish(out, key, result, store.corrections)
        for name, meta in publication_metadata(out, key, result).items():
            add_partition_metadata(context, meta, key, asset_key=name)
    if not deferred:
        datasets.publish_view(out)  # the batch's plans enter the documented folders in one switch
    published = datasets.published_sha256(out)  # once per run, not once per plan
    checks: list[tuple[str, AssetCheckResult]] = []
    for key, result in parsed_plans.items():
        results = (rejected_checks(result) if isinstance(result, Rejected)
                   else plan_checks(result, out, key, published, publications[key].outcomes,
                                    publications[key].written))
        checks.extend((key, r) for r in results)
    rejects = {k: r for k, r in parsed_plans.items() if isinstance(r, Rejected)}
    if len(parsed_plans) == 1 and rejects:
        ((key, r),) = rejects.items()
        yield MaterializeResult(asset_key="rejects")
        yield from (c for _, c in checks)
        raise Failure(description=f"{r.source_path}: file rejected at {r.stage}: {r.reason}",
                      metadata={"stage": r.stage, "reason": r.reason, "source_path": r.source_path,
                                "kept_previous_rows": storage_for(out).exists(f"plans/{key}.parquet")})
    for name in CURATED:
        yield MaterializeResult(asset_key=name)
    yield from combine_checks(checks, len(parsed_plans))


def publication_metadata(out, key: str, result: Extracted | Rejected) -> dict[str, dict[str, Any]]:
    """Per dataset, what the UI shows for one plan file's publication."""
    if isinstance(result, Rejected):
        return {name: {"rejected": True, "stage": result.stage, "reason": result.reason,
                       "source_path": result.source_path, "dagster/row_count": 1} if name == "rejects" else
                {"rejected": True, "kept_previous_rows": storage_for(out).exists(f"{name}/{key}.parquet")}
                for name in CURATED}
    tasks = result.tasks
    return {
        "plans": {"province": result.plan["province"] or "", "doc_number": result.plan["doc_number"] or "",
                  "document_key": result.plan["document_key"], "title": result.plan["title"] or "",
                  "task_count": len(tasks), "dagster/row_count": 1},
        "tasks": {"task_count": len(tasks), "dagster/row_count": len(tasks),
                  "corrected_tasks": sum(1 for t in tasks if t.get("corrected_fields")),
                  "preview": MetadataValue.md(task_preview(tasks))},
        "pages": {"dagster/row_count": len(result.pages)},
        "legal_refs": {"dagster/row_count": len(result.legal_refs)},
        "tables": {"dagster/row_count": len(result.tables), "report": MetadataValue.md(table_report(result.tables))},
        "rejects": {"dagster/row_count": 0},
    }


def rejected_checks(r: Rejected):
    """Only the check about the file fails (ERROR, with the reason); the others have no rows to judge."""
    yield AssetCheckResult(asset_key="plans", check_name="file_readable", passed=False,
                           severity=AssetCheckSeverity.ERROR,
                           metadata={"reason": f"file rejected at {r.stage}: {r.reason}", "source_path": r.source_path})


def combine_checks(results: list[tuple[str, AssetCheckResult]], n_partitions: int):
    """The check results of a run.  A single-partition run: each result as it is (Dagster
    files it under the run's partition).  A batch run: Dagster 1.13's ``AssetCheckResult``
    has no partition (a step over a range of partitions evaluates a check once), so each
    check gets one combined result, failed when any partition failed (at the worst severity),
    naming the partitions that failed; and every failed partition gets its own evaluation
    (``AssetCheckEvaluation`` with its ``partition``, as in a single-partition run), so a
    plan's failed check shows on that plan's partition, not only in the combined result.
    Passed partitions are not evaluated one by one: an event each (nine per plan) would
    cost more than the rest of the run's bookkeeping."""
    if n_partitions <= 1:
        yield from (r for _, r in results)
        return
    by_check: dict[tuple, list[tuple[str, AssetCheckResult]]] = {}
    for key, r in results:
        by_check.setdefault((r.asset_key, r.check_name), []).append((key, r))
    for (asset_key, name), rs in by_check.items():
        failed = [(k, r) for k, r in rs if not r.passed]
        for k, r in failed:
            yield AssetCheckEvaluation(asset_key=AssetKey.from_coercible(asset_key), check_name=name, passed=False,
                                       metadata=r.metadata, severity=r.severity, partition=k, blocking=False)
        worst = (AssetCheckSeverity.ERROR if any(r.severity == AssetCheckSeverity.ERROR for _, r in failed)
                 else AssetCheckSeverity.WARN)
        yield AssetCheckResult(asset_key=asset_key, check_name=name, passed=not failed, severity=worst, metadata={
            "partitions": len(rs), "failed": len(failed),
            "failed_partitions": MetadataValue.json([k for k, _ in failed[:200]]),
        })


def plan_checks(res: Extracted, out, key: str, published: dict[str, str] | None = None, outcomes=(),
                written: Mapping[str, Any] | None = None):
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
    published = datasets.published_sha256(out) if published is None else published
    twins = sorted(k for k, v in published.items() if v == sha and k != key)
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
    drift = datasets.schema_drift(out, key, written)
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


@asset(deps=[AssetKey(n) for n in CURATED], group_name="curated", kinds={"parquet"})
def compacted_datasets(context: AssetExecutionContext, store: PlanStore) -> MaterializeResult:
    """Every per-plan dataset as a few large files under data/curated/compacted/<dataset>/,
    partitioned by province and plan year and sorted by plan: what DuckDB and pandas read
    fast at tens of thousands of plans (one glob, a few files).  Only the partitions of plans
    published or retired since the last compaction are rebuilt (khsyt/compaction.py)."""
    counts = compact(store.curated_dir)
    rebuilt, total = counts.pop("partitions_rebuilt"), counts.pop("partitions")
    return MaterializeResult(metadata={"partitions_rebuilt": rebuilt, "partitions": total,
                                       **{f"{k}_rows_rebuilt": v for k, v in counts.items()}})
