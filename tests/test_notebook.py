"""The researchers' notebook runs top to bottom on the sample outputs (and on empty datasets)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "compare_provinces.ipynb"
SAMPLES = sorted((ROOT / "data" / "raw").glob("*.txt"))

pytestmark = pytest.mark.slow


def run_notebook(curated: Path, monkeypatch: pytest.MonkeyPatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("KHSYT_CURATED", str(curated))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the notebook selects the inline backend
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=180,
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb


def outputs(nb, output_type: str | None = None):
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if output_type is None or out.output_type == output_type:
                yield out


def text_of(nb) -> str:
    parts = []
    for out in outputs(nb):
        if out.output_type == "stream":
            parts.append(out.text)
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_committed_notebook_has_no_outputs():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "clear the notebook's outputs before committing"


def test_notebook_runs_on_sample_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from khsyt.cli import main

    assert SAMPLES, "no sample text files in data/raw"
    curated = tmp_path / "curated"
    # plan 001 as its text file and its PDF: two files, one document, counted once
    copy = ROOT / "data" / "raw" / "001_174c7ea9301aa0d6.pdf"
    assert main(["extract", *map(str, SAMPLES), str(copy), "--no-ocr", "-q", "--out", str(curated)]) == 0
    assert (curated / "units" / "units.parquet").exists()  # the CLI's run publishes the units too

    nb = run_notebook(curated, monkeypatch)

    assert not list(outputs(nb, "error"))
    images = [o for o in outputs(nb) if "image/png" in o.get("data", {})]
    assert len(images) >= 4, f"expected the notebook's plots, got {len(images)} figure(s)"
    text = text_of(nb)
    assert str(curated) in text
    # the plans table and the most cited legal documents came out
    assert "Bắc Giang" in text
    assert "NĐ-CP" in text
    assert f"{len(SAMPLES) + 1} plan files, {len(SAMPLES)} distinct documents" in text
    # one preferred copy per document (the PDF of 001, not its text file)
    import pandas as pd

    versions = pd.read_parquet(curated / "plan_versions")
    assert versions["preferred"].sum() == len(SAMPLES)
    assert versions.loc[versions["preferred"] & (versions["copies"] == 2), "source_format"].tolist() == ["pdf"]
    # Hòa Bình's plan names no lead unit: the lead-unit chart says it is left out instead of dropping it
    assert any(ln.startswith("Not in this chart (no task led by") and "Hòa Bình" in ln for ln in text.splitlines())


def test_notebook_runs_on_empty_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from khsyt.datasets import ensure_dirs

    curated = tmp_path / "curated"
    ensure_dirs(curated)  # every dataset present, none with a row; no units file at all
    nb = run_notebook(curated, monkeypatch)
    assert not list(outputs(nb, "error"))
    text = text_of(nb)
    assert "No task in the curated datasets" in text
    assert "No task states a budget" in text
