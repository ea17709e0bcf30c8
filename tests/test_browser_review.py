"""The analysts' loop in a real browser (Chromium through Playwright):

1. the review workbench (``khsyt review serve``) on the output of the main job: correct a
   task's lead unit in the form, re-run the main job, the corrected value is published with
   ``corrected_fields``; replace the file with another version and the correction shows as stale;
2. a corrupt PDF dropped into ``data/raw`` is a failed run of its partition in the Dagster UI,
   with the reason, and a failed ``file_readable`` check.

Same set-up as tests/test_browser.py: a temporary DAGSTER_HOME with the repository's
dagster.yaml, servers started on 127.0.0.1 in their own process group and stopped after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from test_browser import CHROMIUM, chromium_page, free_port, graphql, stop, wait_for_server

ROOT = Path(__file__).resolve().parents[1]
TXT = "003_453ccdb535033752.txt"  # Bắc Giang: task 30's lead cell ends with "Phòng khám GTVT" (unknown unit)
PDF = "001_174c7ea9301aa0d6.pdf"  # Đồng Nai, a text-layer PDF: its items show the rendered page
NEW_LEAD = "Trung tâm Y tế huyện Lục Ngạn; Phòng khám Giao thông vận tải"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    return sync_api


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "data" / "raw").mkdir(parents=True)
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    shutil.copy(ROOT / "workspace.yaml", tmp_path / "workspace.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # relative paths (dagster.yaml, PlanStore, plans.source_path) land here
    return tmp_path


def main_job(home: Path) -> tuple[int, int]:
    """`make run` in process: the raw folder → curated, corrections re-applied."""
    from dagster import DagsterInstance

    from pipeline.ingest import run
    from pipeline.resources import PlanStore

    store = PlanStore(raw_dir="data/raw", curated_dir="data/curated", corrections_dir="data/corrections", ocr=False)
    with DagsterInstance.get() as instance:
        return run(store, instance, echo=lambda line: None)


def start(cmd: list[str], home: Path, url: str, ready: str) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    log = home / f"server-{len(list(home.glob('server-*.log')))}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    if ready == "server_info":
        wait_for_server(proc, url, log)
        return proc
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(url + ready, timeout=2) as r:
                if r.status == 200:
                    return proc
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    stop(proc)
    pytest.fail(f"server not up: {log.read_text()[-3000:]}")


def _task(home: Path, key: str, seq: int) -> dict:
    """A published task by its place in the plan (its id changes with the file's bytes)."""
    tasks = pd.read_parquet(home / "data" / "curated" / "tasks" / f"{key}.parquet")
    return tasks.set_index("seq").loc[seq].to_dict()


def test_workbench_correction_is_published_by_the_next_run_and_goes_stale(home: Path):
    sync_api = _chromium()
    raw = home / "data" / "raw"
    shutil.copy(ROOT / "data" / "raw" / TXT, raw / TXT)
    shutil.copy(ROOT / "data" / "raw" / PDF, raw / PDF)
    assert main_job(home) == (2, 0)  # both files, one batch run
    queue = pd.read_parquet(home / "data" / "curated" / "review_queue" / "review_queue.parquet")
    item = queue[(queue["kind"] == "unknown_unit") & (queue["value"] == "Phòng khám Giao thông vận tải")].iloc[0]
    key, task_id = item["partition_key"], item["task_id"]
    seq = int(pd.read_parquet(home / "data" / "curated" / "tasks").set_index("task_id").loc[task_id, "seq"])
    before = _task(home, key, seq)
    assert "Phòng khám Giao thông vận tải" in before["lead_units"] and len(before["corrected_fields"]) == 0
    pdf_task = pd.read_parquet(home / "data" / "curated" / "tasks" / "001_174c7ea9301aa0d6_pdf.parquet").iloc[0]

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start([sys.executable, "-m", "khsyt.cli", "review", "--curated", "data/curated", "--corrections",
                  "data/corrections", "serve", "--port", str(port)], home, url, "/health")
    try:
        expect = sync_api.expect
        with chromium_page(sync_api, height=1100) as page:
            # The queue across plans; open the unknown unit's item and correct the lead units.
            page.goto(url + "/")
            row = page.locator(f'tr[data-item="{item["item_id"]}"]')
            expect(row).to_contain_text("unknown_unit")
            row.get_by_role("link").click()
            expect(page.locator("#lead_units")).to_contain_text("Phòng khám Giao thông vận tải")
            expect(page.locator("#page-text mark.lead_units")).to_be_visible()  # a text source: its page text
            page.select_option("#field", "lead_units")
            page.fill("#value", NEW_LEAD)
            page.fill("#why", "the cell lists the district health centre too")
            page.fill("#who", "analyst-1")
            page.click("#save")
            expect(page.locator("#msg")).to_contain_text("Recorded correct of lead_units")

            # A text-layer PDF task: the page image is rendered with the task's cells boxed.
            page.goto(f"{url}/task/{pdf_task['task_id']}")
            img = page.locator("#page-image")
            expect(img).to_be_visible()
            page.wait_for_function("document.querySelector('#page-image').naturalWidth > 500")
            page.screenshot(path=str(home / "workbench.png"))

            # The next run publishes the correction (the file did not change: the correction is newer).
            assert main_job(home) == (1, 0)
            after = _task(home, key, seq)
            assert list(after["lead_units"]) == [s.strip() for s in NEW_LEAD.split(";")]
            assert list(after["corrected_fields"]) == ["lead_units"]
            page.goto(f"{url}/task/{task_id}")
            expect(page.locator("#corrected_fields")).to_have_text("lead_units")

            # Another version of the file: that lead cell changed, the correction is stale.
            text = (raw / TXT).read_text(encoding="utf-8")
            assert text.count("Phòng khám GTVT") == 1
            (raw / TXT).write_text(text.replace("Phòng khám GTVT", "Phòng khám Đa khoa"), encoding="utf-8")
            assert main_job(home) == (1, 0)
            fresh = _task(home, key, seq)
            assert list(fresh["corrected_fields"]) == [] and "Phòng khám Đa khoa" in fresh["lead_units"]
            page.goto(url + "/?kind=stale_correction")
            stale = page.locator("#queue tr").filter(has_text="stale_correction")
            expect(stale).to_have_count(1)
            expect(stale).to_contain_text("value changed since the correction")
            page.goto(url + "/corrections")
            expect(page.locator("#corrections")).to_contain_text("stale")
            expect(page.locator("#corrections")).to_contain_text("analyst-1")
    finally:
        stop(proc)
    (record,) = list((home / "data" / "corrections").glob("*.jsonl"))
    assert len(record.read_text(encoding="utf-8").splitlines()) == 1
    if os.environ.get("KHSYT_UPDATE_SCREENSHOT"):
        shutil.copy(home / "workbench.png", ROOT / "docs" / "review_workbench.png")


def test_corrupt_pdf_is_a_failed_partition_in_the_dagster_ui(home: Path):
    sync_api = _chromium()
    raw = home / "data" / "raw"
    shutil.copy(ROOT / "data" / "raw" / TXT, raw / TXT)
    assert main_job(home) == (1, 0)
    # An analyst drops a corrupt PDF into the raw folder; the next run extracts just that file.
    (raw / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(4000))
    assert main_job(home) == (0, 1)
    reason = pd.read_parquet(home / "data" / "curated" / "rejects" / "corrupt_pdf.parquet")["reason"].iloc[0]

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start([sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port),
                  "-w", "workspace.yaml"], home, url, "server_info")
    try:
        graphql(url, "mutation { setNuxSeen }")
        names = graphql(url, "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }")
        assert [e["name"] for e in names["data"]["workspaceOrError"]["locationEntries"]] == ["khsyt"]
        runs = graphql(url, '{ runsOrError(filter: {statuses: [FAILURE]}) { ... on Runs { results { runId '
                            'tags { key value } } } } }')["data"]["runsOrError"]["results"]
        (bad,) = [r for r in runs if any(t["value"] == "corrupt_pdf" for t in r["tags"])]
        expect = sync_api.expect
        with chromium_page(sync_api, height=1100) as page:
            # The run of that partition failed, and says why.
            page.goto(f"{url}/runs/{bad['runId']}")
            expect(page.get_by_text("Failure", exact=True).first).to_be_visible()
            expect(page.get_by_text("file rejected at", exact=False).first).to_be_visible()
            page.screenshot(path=str(home / "failed_run.png"))
            # The asset's check for that partition failed with the reason.
            page.goto(f"{url}/assets/plans?view=checks")
            expect(page.get_by_text("file_readable").first).to_be_visible()
            page.get_by_text("file_readable").first.click()
            expect(page.get_by_text(reason[:30], exact=False).first).to_be_visible()
            page.screenshot(path=str(home / "failed_check.png"))
    finally:
        stop(proc)
