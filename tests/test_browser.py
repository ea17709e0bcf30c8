"""The analysts' view: the Dagster UI shows the pipeline's assets and a plan's extraction report.

Two sample plans are materialised in process into a fresh Dagster instance in a temporary
DAGSTER_HOME; ``dagster-webserver`` is started on that instance (working directory = the
temporary folder, so the relative paths of dagster.yaml and of PlanStore's data/raw and
data/curated all land there) and headless Chromium checks the asset catalog and the
``parsed_plans`` metadata of one partition against the Parquet file it produced.

Needs Chromium (``/usr/bin/chromium``, or set ``CHROMIUM``) and the Python ``playwright``
package (its own browser downloads are not used).  Set ``KHSYT_UPDATE_SCREENSHOT=1`` to also
refresh docs/dagster_ui.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [ROOT / "data" / "raw" / "001_174c7ea9301aa0d6.txt", ROOT / "data" / "raw" / "003_453ccdb535033752.txt"]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ASSETS = ["parsed_plans", "plans", "tasks", "pages", "legal_refs", "rejects", "units",
          "plan_versions", "review_queue"]
SERVER_TIMEOUT_S = 90
UI_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


@contextmanager
def chromium_page(sync_api, height: int) -> Iterator:
    """A page of headless Debian Chromium (1500 px wide) with the UI timeouts set on it and on
    ``expect``; the browser is closed afterwards.  One place for every browser test."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": height})
            page.set_default_timeout(UI_TIMEOUT_MS)
            sync_api.expect.set_options(timeout=UI_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"dagster-webserver not up after {SERVER_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def graphql(url: str, query: str) -> dict:
    req = urllib.request.Request(f"{url}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop(proc: subprocess.Popen) -> None:
    """Stop the webserver and its code server: the whole process group started for the test."""
    pgid = proc.pid  # start_new_session=True: the webserver leads its own group
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        proc.poll()
        if not group_alive(pgid):
            break
        time.sleep(0.2)
    else:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


@pytest.fixture
def instance_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DAGSTER_HOME with the repository's dagster.yaml and two materialised sample plans."""
    from dagster import DagsterInstance

    from pipeline.ingest import run
    from pipeline.resources import PlanStore

    raw, curated = tmp_path / "data" / "raw", tmp_path / "data" / "curated"
    raw.mkdir(parents=True)
    curated.mkdir(parents=True)
    for f in SAMPLES:
        shutil.copy(f, raw / f.name)
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    shutil.copy(ROOT / "workspace.yaml", tmp_path / "workspace.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # dagster.yaml's base_dir paths are relative to the working directory
    with DagsterInstance.get() as instance:
        ok, failed = run(PlanStore(raw_dir=str(raw), curated_dir=str(curated), ocr=False), instance)
    assert (ok, failed) == (len(SAMPLES), 0)
    assert (tmp_path / ".dagster_home" / "storage").is_dir()
    return tmp_path


@pytest.fixture
def webserver(instance_dir: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DAGSTER_HOME": str(instance_dir),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    log = instance_dir / "webserver.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port),
             "-w", "workspace.yaml"],  # the code location named "khsyt", as `make ui` shows it
            cwd=instance_dir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_server(proc, url, log)
        # Dismiss the "Join the Dagster community" dialog for this instance (it would cover the page).
        graphql(url, "mutation { setNuxSeen }")
        yield url
    finally:
        stop(proc)


def test_dagster_ui_shows_assets_and_extraction_report(webserver: str, instance_dir: Path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    import pyarrow.parquet as pq

    from khsyt.extract import partition_key

    keys = [partition_key(f) for f in SAMPLES]
    expected = {k: pq.read_metadata(instance_dir / "data" / "curated" / "tasks" / f"{k}.parquet").num_rows
                for k in keys}
    assert all(expected.values()), expected
    shot = instance_dir / "dagster_ui.png"

    with chromium_page(sync_api, height=1300) as page:
        # The asset catalog lists every asset of the code location.
        page.goto(f"{webserver}/assets")
        for name in ASSETS:
            sync_api.expect(page.locator(f'a[href="/assets/{name}"]').first).to_be_visible()

        # One partition of parsed_plans: its extraction report has the task count of its Parquet file.
        key, other = keys
        page.goto(f"{webserver}/assets/parsed_plans?view=partitions&partition={key}")
        sync_api.expect(page.get_by_text(f"{key}", exact=True).first).to_be_visible()
        row = page.locator("tr").filter(has=page.get_by_text("task_count", exact=True)).first
        sync_api.expect(row).to_contain_text(str(expected[key]))
        assert row.inner_text().split()[-1] == str(expected[key])
        sync_api.expect(page.locator("tr").filter(has=page.get_by_text("needs_review", exact=True)).first
                        ).to_be_visible()
        page.screenshot(path=str(shot))

        # Picking the other partition in the list shows that plan's report.
        page.get_by_text(other, exact=True).first.click()
        sync_api.expect(page).to_have_url(re.compile(re.escape(other)))
        row = page.locator("tr").filter(has=page.get_by_text("task_count", exact=True)).first
        sync_api.expect(row).to_contain_text(str(expected[other]))
        assert row.inner_text().split()[-1] == str(expected[other])

    assert shot.stat().st_size > 10_000
    if os.environ.get("KHSYT_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(shot, ROOT / "docs" / "dagster_ui.png")
