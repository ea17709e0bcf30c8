"""The datasets' contract: schema_version in every file, every column documented, the data
dictionary (docs/datapackage.json) generated from khsyt/datasets.py, one document one key."""

from __future__ import annotations

import json

import duckdb
import pyarrow.parquet as pq
import pytest

from khsyt.cli import main
from khsyt.datapackage import all_schemas, build, render, undocumented
from khsyt.datasets import SCHEMA_VERSION


@pytest.fixture(scope="module")
def curated(raw_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("contract")
    files = sorted(p for p in raw_dir.iterdir() if p.suffix in (".pdf", ".txt") and ".scan" not in p.name)
    assert main(["extract", *map(str, files), "--out", str(out), "--no-ocr", "-q"]) == 0
    return out, files


def test_every_parquet_file_carries_the_schema_version(curated):
    out, _ = curated
    documented = [f for name in all_schemas() for f in (out / name).glob("*.parquet")]
    assert {f.parent.name for f in documented} == set(all_schemas())
    files = list(out.rglob("*.parquet"))  # the publication protocol's generation files too
    assert len(files) > len(documented)
    for f in files:
        assert pq.read_schema(f).metadata[b"schema_version"].decode() == SCHEMA_VERSION, f


def test_every_column_is_documented_and_the_datapackage_is_current(repo_root):
    assert undocumented() == []
    committed = (repo_root / "docs" / "datapackage.json").read_text(encoding="utf-8")
    assert committed == render(build()), "docs/datapackage.json is stale: run `make datapackage`"
    pkg = json.loads(committed)
    assert pkg["schema_version"] == SCHEMA_VERSION
    assert f"schema version {SCHEMA_VERSION}" in (repo_root / "docs" / "datasets.md").read_text(encoding="utf-8")
    tasks = next(r for r in pkg["resources"] if r["name"] == "tasks")
    fields = {f["name"]: f for f in tasks["schema"]["fields"]}
    assert fields["lead_units"]["type"] == "array" and fields["seq"]["type"] == "integer"
    assert fields["corrected_fields"]["description"]


def test_plans_carry_the_printed_symbol_also_where_the_number_is_blank(curated):
    """``plans.doc_symbol`` (schema 4): the end of ``doc_number`` after its slash, and the symbol
    alone where the number is left blank (000 and 002 print "Số: /KH-SYT")."""
    out, _ = curated
    plans = f"read_parquet('{out}/plans/*.parquet')"
    assert {r[0]: r[1] for r in duckdb.sql(f"DESCRIBE SELECT doc_number, doc_symbol FROM {plans}").fetchall()} == {
        "doc_number": "VARCHAR", "doc_symbol": "VARCHAR"}
    rows = duckdb.sql(f"SELECT source_path, doc_number, doc_symbol, low_confidence_fields FROM {plans}").fetchall()
    assert len(rows) == 10 and all(symbol == "KH-SYT" and low == [] for _, _, symbol, low in rows)
    for path, number, symbol, _ in rows:
        assert number is None or number.endswith("/" + symbol), path
    blank = sorted(p.split("/")[-1] for p, number, _, _ in rows if number is None)
    assert blank == [f"{d}.{f}" for d in ("000_c01f5def24a8cc1f", "002_5402a99ec6066c4b") for f in ("pdf", "txt")]
    pkg = build()
    field = next(f for r in pkg["resources"] if r["name"] == "plans" for f in r["schema"]["fields"]
                 if f["name"] == "doc_symbol")
    assert field["type"] == "string" and "KH-SYT" in field["description"]


def test_a_new_schema_version_makes_every_published_plan_stale(curated, monkeypatch):
    """Rows published under an older contract lack its new columns: the schema version is part
    of the extraction fingerprint, so the next run extracts those files again."""
    from khsyt import datasets
    from khsyt.extract import Settings, partition_key, sha256_of
    from pipeline.freshness import published_state, stale

    out, files = curated
    keys = {partition_key(f): f for f in files}
    state, fp = published_state(out), Settings(ocr=False).fingerprint()
    assert stale(keys, fp, state, lambda k: sha256_of(keys[k])) == []  # as published: nothing to do
    monkeypatch.setattr(datasets, "SCHEMA_VERSION", str(int(SCHEMA_VERSION) + 1))
    bumped = Settings(ocr=False).fingerprint()
    assert bumped != fp
    assert sorted(stale(keys, bumped, state, lambda k: sha256_of(keys[k]))) == sorted(keys)


def test_new_code_or_an_edited_vocabulary_makes_every_published_plan_stale(curated, tmp_path, monkeypatch):
    """The fingerprint holds a digest of the code and knowledge files: rows published by an
    older release, or before an analyst edited a vocabulary, are extracted again."""
    from khsyt import extract
    from khsyt.extract import Settings, partition_key, sha256_of
    from pipeline.freshness import published_state, stale

    for rel, text in (("extractors/ocr.py", "x = 1\n"), ("parsers/data/units.yaml", "a: [b]\n"),
                      ("parsers/tables/chain.py", "y = 2\n"), ("khsyt/extract.py", "z = 3\n"),
                      ("parsers/data/NOTES.md", "not knowledge\n")):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    digest = extract.code_digest(tmp_path)
    (tmp_path / "parsers/data/NOTES.md").write_text("edited\n", encoding="utf-8")
    assert extract.code_digest.__wrapped__(tmp_path) == digest  # not a file that decides rows
    for rel in ("parsers/data/units.yaml", "parsers/tables/chain.py"):
        (tmp_path / rel).write_text("edited: [c]\n", encoding="utf-8")
        assert extract.code_digest.__wrapped__(tmp_path) != digest, rel
        digest = extract.code_digest.__wrapped__(tmp_path)

    out, files = curated
    keys = {partition_key(f): f for f in files}
    state, fp = published_state(out), Settings(ocr=False).fingerprint()
    assert stale(keys, fp, state, lambda k: sha256_of(keys[k])) == []
    monkeypatch.setattr(extract, "code_digest", lambda: "another-release")
    assert sorted(stale(keys, Settings(ocr=False).fingerprint(), state, lambda k: sha256_of(keys[k]))) == sorted(keys)


def test_the_copies_of_a_plan_are_one_document(curated):
    out, files = curated
    plans = f"read_parquet('{out}/plans/*.parquet')"
    (n_files, n_docs), = duckdb.sql(f"SELECT count(*), count(DISTINCT document_key) FROM {plans}").fetchall()
    distinct_plans = len({f.name.split(".")[0] for f in files})  # 000_… .pdf and .txt are one plan
    assert n_files == len(files) and n_docs == distinct_plans == 5
    # each document: exactly one preferred copy, the text-layer PDF
    versions = f"read_parquet('{out}/plan_versions/*.parquet')"
    rows = duckdb.sql(f"SELECT document_key, source_format, preferred FROM {versions}").fetchall()
    preferred = [(k, f) for k, f, p in rows if p]
    assert len(preferred) == n_docs and {f for _, f in preferred} == {"pdf"}


@pytest.mark.ocr
@pytest.mark.slow
def test_a_scan_of_a_plan_has_the_key_of_its_pdf(raw_dir, tmp_path):
    pytest.importorskip("pytesseract")
    import shutil

    if shutil.which("tesseract") is None:
        pytest.skip("no tesseract")
    out = tmp_path / "o"
    scan, pdf = raw_dir / "001_174c7ea9301aa0d6.scan200.pdf", raw_dir / "001_174c7ea9301aa0d6.pdf"
    assert main(["extract", str(scan), str(pdf), "--out", str(out), "--dpi", "200", "-q"]) == 0
    rows = duckdb.sql(f"SELECT document_key, ocr_pages, preferred FROM read_parquet('{out}/plan_versions/*.parquet')"
                      ).fetchall()
    assert len({k for k, _, _ in rows}) == 1, rows
    assert [(o > 0, p) for _, o, p in sorted(rows, key=lambda r: r[1])] == [(False, True), (True, False)]


def test_schema_drift_names_the_dataset_whose_file_left_the_contract(raw_dir, tmp_path):
    """What the ``schema_matches_contract`` check reads: nothing for files as published; a
    file of a plan rewritten with another schema (a column gone) is named, with the column."""
    import pyarrow as pa

    from khsyt import datasets
    from khsyt.extract import partition_key
    from khsyt.storage import storage_for

    src = raw_dir / "003_453ccdb535033752.txt"
    assert main(["extract", str(src), "--out", str(tmp_path), "--no-ocr", "-q"]) == 0
    key = partition_key(src)
    assert datasets.schema_drift(tmp_path, key) == {}
    st = storage_for(tmp_path)
    rel = datasets._current_files(st, key)["legal_refs"]
    path = st.path(rel)
    table = pq.read_table(path)
    path.unlink()  # the published file may be a hard link: write a new one in its place
    pq.write_table(table.drop_columns([table.schema.names[-1]]), path)
    drift = datasets.schema_drift(tmp_path, key)
    assert list(drift) == ["legal_refs"] and table.schema.names[-1] in drift["legal_refs"]
    assert isinstance(st.read_schema(rel), pa.Schema)


def test_schema_drift_judges_the_files_just_written_by_the_tables_they_came_from(raw_dir, tmp_path):
    """``write_plan`` returns the schema of each file it wrote; the check judges those by it
    (no footer read back) and still names a dataset written off the contract, while a file it
    did not write (carried over from an earlier version) is read from disk."""
    from khsyt import datasets
    from khsyt.extract import Settings, extract_plan, partition_key

    src = raw_dir / "003_453ccdb535033752.txt"
    key = partition_key(src)
    written = datasets.write_plan(tmp_path, key, extract_plan(src, Settings(ocr=False)))
    assert sorted(written) == sorted(n for n in datasets.PER_PLAN if n != "rejects")
    assert datasets.schema_drift(tmp_path, key, written) == {}
    tasks = written["tasks"]
    off = {**written, "tasks": tasks.remove(tasks.get_field_index("deadline_raw"))}
    drift = datasets.schema_drift(tmp_path, key, off)
    assert list(drift) == ["tasks"] and "deadline_raw" in drift["tasks"]
    # the files on disk are untouched and read when not named as written
    assert datasets.schema_drift(tmp_path, key, {"plans": written["plans"]}) == {}
