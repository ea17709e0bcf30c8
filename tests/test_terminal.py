"""The terminal: ``khsyt`` exit codes and messages, and ``make run``'s output (``pipeline.ingest``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from khsyt import __version__
from khsyt.cli import (
    EXIT_ALL_REJECTED,
    EXIT_INPUT_MISSING,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_OUTPUT,
    main,
)

ROOT = Path(__file__).resolve().parents[1]
TXT = "001_174c7ea9301aa0d6.txt"
TXT2 = "003_453ccdb535033752.txt"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "khsyt.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_missing_path_exits_3_without_a_rejects_row(tmp_path):
    out = tmp_path / "out"
    p = _cli("extract", "nope.pdf", "--out", str(out), cwd=tmp_path)
    assert p.returncode == EXIT_INPUT_MISSING
    assert "no such file or folder: nope.pdf" in p.stderr
    assert "Traceback" not in p.stderr
    assert not list(out.rglob("*nope*")), "a mistyped path must not leave a rejects file"


def test_bad_out_is_one_clear_line(raw_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = _cli("extract", str(raw_dir / TXT), "--out", str(blocker / "sub"), cwd=tmp_path)
    assert p.returncode == EXIT_OUTPUT
    assert p.stderr.startswith("khsyt: cannot write to --out") and "Traceback" not in p.stderr


def test_version(tmp_path):
    p = _cli("--version", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.strip() == f"khsyt {__version__}"


def test_every_file_rejected_exits_4(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4 broken")
    (tmp_path / "b.txt").write_bytes(b"")
    assert main(["extract", str(tmp_path / "a.pdf"), str(tmp_path / "b.txt"), "--out", str(tmp_path / "o"),
                 "--no-ocr", "-q"]) == EXIT_ALL_REJECTED
    assert len(pd.read_parquet(tmp_path / "o" / "rejects")) == 2


def test_internal_error_has_no_traceback_unless_verbose(raw_dir, tmp_path, monkeypatch, capsys):
    import khsyt.extract

    def boom(*a, **k):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(khsyt.extract, "extract_plan", boom)
    args = ["extract", str(raw_dir / TXT), "--out", str(tmp_path / "o"), "-q"]
    assert main(args) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: simulated bug" in err and "-v" in err
    with pytest.raises(RuntimeError):
        main(["-v", *args])


def test_cli_writes_the_cross_plan_datasets_and_one_line_per_file(raw_dir, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["extract", str(raw_dir / TXT), str(raw_dir / TXT2), str(raw_dir / "001_174c7ea9301aa0d6.pdf"),
                 "--out", str(out), "--no-ocr", "-q"]) == EXIT_OK
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("3 plans extracted")
    assert all(ln.startswith("ok ") and " tasks" in ln for ln in lines[:3])
    units = pd.read_parquet(out / "units")
    assert {"Đồng Nai", "Bắc Giang"} <= set(units["province"])
    versions = pd.read_parquet(out / "plan_versions")
    # the PDF and the text file of plan 001 are one document, the PDF preferred
    assert versions["document_key"].nunique() == 2 and len(versions) == 3
    pair = versions[versions["copies"] == 2].set_index("source_format")
    assert bool(pair.loc["pdf", "preferred"]) and not bool(pair.loc["txt", "preferred"])
    assert (out / "review_queue" / "review_queue.parquet").exists()


def _ingest(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DAGSTER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "pipeline.ingest", *args], cwd=home, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_make_run_output_is_one_line_per_file_and_other_folders_keep_main_partitions(raw_dir, tmp_path, monkeypatch):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    main_raw, other = tmp_path / "data" / "raw", tmp_path / "other"
    main_raw.mkdir(parents=True)
    other.mkdir()
    shutil.copy(raw_dir / TXT, main_raw / TXT)
    (main_raw / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(1500))
    shutil.copy(raw_dir / TXT2, other / TXT2)

    p = _ingest([], tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = p.stdout.strip().splitlines()
    assert len(lines) <= 5, lines  # what is to do, 2 files, the cross-plan line, the summary
    assert lines[0].startswith("2 plan files, 0 up to date, 2 to extract")
    assert lines[1].startswith("ok       001_174c7ea9301aa0d6_txt: 19 tasks")
    assert lines[2].startswith("REJECTED corrupt_pdf [")
    assert lines[-1].startswith("1 plan files published, 1 rejected, 0 failed")
    assert "DEBUG" not in p.stdout + p.stderr and "Traceback" not in p.stderr

    p = _ingest(["--raw", str(other), "--curated", str(tmp_path / "other_curated")], tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    from dagster import DagsterInstance

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # dagster.yaml's storage paths are relative
    with DagsterInstance.get() as instance:
        keys = set(instance.get_dynamic_partitions("plan_files"))
    assert {"001_174c7ea9301aa0d6_txt", "corrupt_pdf", "003_453ccdb535033752_txt"} <= keys
    assert (tmp_path / "data" / "curated" / "tasks" / "001_174c7ea9301aa0d6_txt.parquet").exists()

    p = _ingest(["-v", "--force"], tmp_path)
    assert "DEBUG" in p.stdout + p.stderr  # Dagster's event log only on request
