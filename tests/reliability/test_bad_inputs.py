"""Bad inputs: each gives a rejects row naming its limit or reason, costs bounded memory and
time (a child process under an address-space cap; its peak RSS from wait4), and the good
file of the same batch is extracted as usual."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from .bad_inputs import docx, grid_span, html_spans, paragraphs, pdf
from .harness import run

GOOD = "001_174c7ea9301aa0d6.txt"
MAX_RSS_MB = 1024


def _docx_bomb(d: Path) -> Path:
    return docx(paragraphs(64 << 20), d / "bomb.docx")


def _grid_span(d: Path) -> Path:
    return docx(grid_span(100_000_000), d / "gridspan.docx")


def _html_spans(d: Path) -> Path:
    (d / "spans.txt").write_text(html_spans("3000", "3000"), encoding="utf-8")
    return d / "spans.txt"


def _big_page(d: Path) -> Path:
    return pdf([{"size": (14400, 14400)}], d / "poster.pdf")


def _big_image(d: Path) -> Path:
    return pdf([{"image": (45000, 45000)}], d / "image.pdf")


def _many_pages(d: Path) -> Path:
    return pdf([{"text": ["KE HOACH so 1"]}] * 3, d / "pages.pdf")


def _slow(d: Path) -> Path:
    return Path(shutil.copy(Path(__file__).parents[2] / "data/raw/003_453ccdb535033752.txt", d / "slow.txt"))


def _huge_text(d: Path) -> Path:
    line = "Kế hoạch cải cách hành chính năm 2024 của Sở Y tế tỉnh.\n" * 1000
    with open(d / "huge.txt", "w", encoding="utf-8") as fh:
        for _ in range(700):
            fh.write(line)
    return d / "huge.txt"


CASES = {
    "docx_xml_part_64MB": (_docx_bomb, "", "docx_xml_part_bytes"),
    "docx_gridSpan_1e8": (_grid_span, "", "table_cells"),
    "html_rowspan_colspan_3000": (_html_spans, "", "table_cells"),
    "pdf_page_200in": (_big_page, "", "max_page_inches"),
    "pdf_image_45000px": (_big_image, "", "image_pixels"),
    "pdf_3_pages_over_max_pages_2": (_many_pages, "max_pages=2", "max_pages"),
    "wall_time_5ms": (_slow, "file_seconds=0.005", "file_seconds"),
    "text_40MB": (_huge_text, "", "text_file_bytes"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_a_bounded_reject(tmp_path, raw_dir, case):
    make, limits, limit = CASES[case]
    src = tmp_path / "in"
    src.mkdir()
    bad = make(src)
    shutil.copy(raw_dir / GOOD, src / GOOD)
    out = tmp_path / "out"
    child = run(["-m", "khsyt.cli", "extract", str(src), "--out", str(out), "--no-ocr"],
                env={"KHSYT_LIMITS": limits} if limits else {}, timeout=120)
    print(f"\n{case}: {bad.stat().st_size} bytes on disk, peak RSS {child.peak_rss_mb:.0f} MB "
          f"(wait4 {child.rss_bound_mb:.0f} MB), {child.seconds:.1f} s")
    # file_seconds applies to every file of the run: all rejected is exit code 4 (khsyt.cli)
    assert child.returncode == (4 if limit == "file_seconds" else 0), child.output
    rejects = pd.read_parquet(out / "rejects")
    row = rejects[rejects["source_path"] == str(bad)]
    assert len(row) == 1, child.output
    assert f"limit {limit}=" in row["reason"].iloc[0], row["reason"].iloc[0]
    plans = pd.read_parquet(out / "plans")
    if limit != "file_seconds":  # that limit applies to every file of the run
        assert list(plans["source_path"]) == [str(src / GOOD)]
    assert 0 < child.peak_rss_mb < MAX_RSS_MB and child.rss_bound_mb < MAX_RSS_MB


def test_names_links_types_and_duplicates_in_one_batch(tmp_path, raw_dir):
    """Nothing silent, nothing outside: every file is a plan or a rejects row with its reason."""
    src = tmp_path / "in"
    (src / "thanh-hoa").mkdir(parents=True)
    (src / "nghe-an").mkdir()
    good = raw_dir / GOOD
    names = ["kế hoạch.txt", "kê hoạch.txt", "ế.txt", "Ế.txt", "a" * 240 + ".txt",
             "thanh-hoa/kehoach.txt", "nghe-an/kehoach.txt", "copy.txt"]
    for n in names:
        shutil.copy(good, src / n)
    outside = tmp_path / "elsewhere.txt"
    shutil.copy(good, outside)
    os.symlink(outside, src / "link.txt")
    os.symlink("/etc/passwd", src / "passwd.txt")
    os.symlink(tmp_path, src / "dirlink")
    (src / "inside.txt").symlink_to(src / "copy.txt")
    (src / "archive.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    (src / "page.html").write_text("<html><body>x</body></html>")
    text = good.read_text(encoding="utf-8")
    (src / "two.txt").write_text(text + "\n" + html_spans("two", "-1") + "\n", encoding="utf-8")
    out = tmp_path / "out"
    child = run(["-m", "khsyt.cli", "extract", str(src), "--out", str(out), "--no-ocr"])
    assert child.returncode == 0, child.output
    plans = pd.read_parquet(out / "plans")
    rejects = pd.read_parquet(out / "rejects").set_index("source_path")
    got = {Path(p).relative_to(src).as_posix() for p in plans["source_path"]}
    assert got == {*names, "inside.txt", "two.txt"}
    reasons = {Path(p).relative_to(src).as_posix(): r for p, r in rejects["reason"].items()}
    assert set(reasons) == {"link.txt", "passwd.txt", "dirlink", "archive.zip", "page.html"}
    for n in ("link.txt", "passwd.txt", "dirlink"):
        assert reasons[n].startswith("link outside the input folder"), reasons[n]
    assert "unsupported file type .zip" in reasons["archive.zip"]
    assert "unsupported file type .html" in reasons["page.html"]
    keys = [k for k in os.listdir(out / "plans") if not k.startswith("_")]
    assert len(keys) == len(plans) and all(len(k) <= 73 + len(".parquet") for k in keys)
    # duplicates are flagged by their shared bytes, and task ids stay unique over the dataset
    assert plans["plan_id"].is_unique and plans["source_sha256"].nunique() == 2
    assert pd.read_parquet(out / "tasks")["task_id"].is_unique
    assert not (tmp_path / "out").joinpath("..", "escaped").exists()


def test_cli_retires_inputs_that_are_gone(tmp_path, raw_dir):
    from khsyt.cli import main

    src = tmp_path / "in"
    src.mkdir()
    for f in (GOOD, "002_5402a99ec6066c4b.txt"):
        shutil.copy(raw_dir / f, src / f)
    out = tmp_path / "out"
    assert main(["extract", str(src), "--out", str(out), "--no-ocr"]) == 0
    (src / GOOD).rename(src / "renamed.txt")
    assert main(["extract", str(src), "--out", str(out), "--no-ocr"]) == 0
    assert sorted(Path(p).name for p in pd.read_parquet(out / "plans")["source_path"]) == \
        ["002_5402a99ec6066c4b.txt", "renamed.txt"]
    assert main(["extract", str(src / "renamed.txt"), "--out", str(out), "--no-ocr", "--add"]) == 0
    assert len(pd.read_parquet(out / "plans")) == 2
    assert main(["extract", str(src / "renamed.txt"), "--out", str(out), "--no-ocr"]) == 0
    assert len(pd.read_parquet(out / "plans")) == 1


def test_the_wall_time_limit_stops_a_file_read_outside_the_main_thread(tmp_path):
    """No SIGALRM reaches a worker thread: there the watchdog stops the file (a text plan, whose
    reading never calls the cooperative check), and the thread is usable afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    from extractors.limits import limited
    from khsyt.extract import Settings, extract_plan
    from khsyt.results import Extracted, Rejected

    slow = _slow(tmp_path)
    with ThreadPoolExecutor(1) as pool:
        with limited(file_seconds=0.005):
            res = pool.submit(extract_plan, slow, Settings(ocr=False)).result(timeout=60)
        again = pool.submit(extract_plan, slow, Settings(ocr=False)).result(timeout=60)
    assert isinstance(res, Rejected) and "limit file_seconds=" in res.reason, res
    assert isinstance(again, Extracted) and again.tasks  # the next file in that thread is not hit
