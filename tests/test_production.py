"""The production profile end to end on 127.0.0.1: a throwaway Postgres cluster holds the Dagster
instance (deploy/production/dagster.yaml as shipped), a Redis server is the Celery broker, a
Celery worker started with ``python -m pipeline.worker`` runs the steps, and one plan file's
partition goes through the Celery executor into the curated datasets.

Skipped, with the reason, only when the servers (Debian's ``postgresql`` and ``redis-server``)
or the Dagster integrations are not installed; ``make test`` installs both packages.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from khsyt.extract import partition_key

REPO = Path(__file__).resolve().parents[1]
PLAN = "003_453ccdb535033752.txt"

pytestmark = pytest.mark.slow


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


INITDB, PG_CTL, REDIS = _pg_bin("initdb"), _pg_bin("pg_ctl"), shutil.which("redis-server")
missing = [n for n, p in (("initdb/pg_ctl (postgresql)", INITDB and PG_CTL), ("redis-server", REDIS)) if not p]
if missing:
    pytest.skip(f"servers not installed: {', '.join(missing)} (apt-get install postgresql redis-server)",
                allow_module_level=True)
pytest.importorskip("dagster_celery", reason="dagster-celery not installed (pip install -e '.[dev]')")
pytest.importorskip("dagster_postgres", reason="dagster-postgres not installed (pip install -e '.[dev]')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f} s")


def as_server_user(cmd: list[str]) -> list[str]:
    """Postgres refuses to run as root: under root (CI), run it as ``nobody``."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "nobody", "--", *cmd]


@pytest.fixture(scope="module")
def servers():
    base = Path(tempfile.mkdtemp(prefix="khsyt-prod-", dir="/tmp"))
    base.chmod(0o755)
    pg_dir = base / "pg"
    pg_dir.mkdir()
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(pg_dir, nobody.pw_uid, nobody.pw_gid)
    pg_port, redis_port = free_port(), free_port()
    procs: list[subprocess.Popen] = []
    pg_started = False
    try:
        subprocess.run(as_server_user([INITDB, "-D", str(pg_dir / "data"), "-A", "trust", "-U", "khsyt",
                                       "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
        subprocess.run(as_server_user([
            PG_CTL, "-D", str(pg_dir / "data"), "-l", str(pg_dir / "log"), "-w", "-t", "30", "-o",
            f"-c listen_addresses=127.0.0.1 -p {pg_port} -k {pg_dir} -c fsync=off -c full_page_writes=off"]
            + ["start"]), check=True, capture_output=True)
        pg_started = True
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=pg_port, user="khsyt", dbname="postgres")
        con.autocommit = True
        con.cursor().execute("CREATE DATABASE khsyt")
        con.close()

        procs.append(subprocess.Popen([REDIS, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", str(base)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        import redis

        wait_for(lambda: redis.Redis(host="127.0.0.1", port=redis_port).ping(), 15, "redis-server")
        yield {"base": base, "pg_url": f"postgresql+psycopg2://khsyt@127.0.0.1:{pg_port}/khsyt",
               "broker": f"redis://127.0.0.1:{redis_port}/0", "backend": f"redis://127.0.0.1:{redis_port}/1",
               "pg_port": pg_port}
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        if pg_started:
            subprocess.run(as_server_user([PG_CTL, "-D", str(pg_dir / "data"), "-m", "immediate", "stop"]),
                           capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_a_partition_runs_through_celery_with_postgres_storage(servers, raw_dir):
    base = servers["base"]
    home, raw, curated = base / "home", base / "raw", base / "curated"
    for d in (home, raw):
        d.mkdir()
    shutil.copy(REPO / "deploy" / "production" / "dagster.yaml", home / "dagster.yaml")  # the shipped file
    shutil.copy(raw_dir / PLAN, raw / PLAN)
    key = partition_key(PLAN)
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO), "KHSYT_PG_URL": servers["pg_url"],
           "KHSYT_EXECUTOR": "celery", "KHSYT_CELERY_BROKER": servers["broker"],
           "KHSYT_CELERY_BACKEND": servers["backend"], "KHSYT_RAW": str(raw), "KHSYT_CURATED": str(curated),
           "KHSYT_MODELS": str(base / "models"), "KHSYT_COMPUTE_LOGS": str(base / "logs")}
    bin_dir = Path(sys.executable).parent
    # register the partition, as the sensor would, in the Postgres instance
    subprocess.run([sys.executable, "-c", "from dagster import DagsterInstance; "
                    f"DagsterInstance.get().add_dynamic_partitions('plan_files', [{key!r}])"],
                   env=env, cwd=REPO, check=True, capture_output=True)
    worker_log = open(base / "worker.log", "w")
    worker = subprocess.Popen([sys.executable, "-m", "pipeline.worker", "--name", "khsyt-test", "-c", "1"],
                              env=env, cwd=REPO, stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        from celery import Celery

        app = Celery(broker=servers["broker"], backend=servers["backend"])
        wait_for(lambda: app.control.ping(timeout=0.5), 40, "the Celery worker")
        from pipeline.assets import curated_datasets, parsed_plans

        # the per-plan chain: every key the multi-asset publishes (it cannot be subset)
        chain = [parsed_plans, curated_datasets]
        select = ",".join(k.to_user_string() for a in chain for k in a.keys)
        run = subprocess.run([str(bin_dir / "dagster"), "asset", "materialize", "-m", "pipeline.definitions",
                              "--select", select,
                              "--partition", key], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-3000:]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        worker_log.close()

    # the datasets hold the plan
    tasks = pd.read_parquet(curated / "tasks" / f"{key}.parquet")
    plans = pd.read_parquet(curated / "plans" / f"{key}.parquet")
    assert len(plans) == 1 and plans["province"].iloc[0] == "Bắc Giang"
    assert len(tasks) > 10 and set(tasks["plan_id"]) == set(plans["plan_id"])
    # the steps ran on the worker, not in the launching process
    log = (base / "worker.log").read_text()
    assert log.count("execute_plan") >= 3 and "succeeded" in log, log[-2000:]
    # and the run, its events and the partition live in Postgres
    import psycopg2

    con = psycopg2.connect(servers["pg_url"].replace("+psycopg2", ""))
    cur = con.cursor()
    cur.execute("SELECT status FROM runs")
    assert [r[0] for r in cur.fetchall()] == ["SUCCESS"]
    cur.execute("SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
                "AND partition = %s", (key,))
    assert cur.fetchone()[0] == len(select.split(","))  # one materialization per asset of the chain
    cur.execute("SELECT partition FROM dynamic_partitions")
    assert [r[0] for r in cur.fetchall()] == [key]
    con.close()


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_make_serve_starts_the_webserver_and_daemon_and_serve_stop_stops_them(servers):
    """``make serve`` as shipped (production profile: the instance in Postgres): the webserver
    on 127.0.0.1 answers a GraphQL query listing the code location's assets, the daemon beats,
    and ``make serve-stop`` stops both with their code-server children.  ``-o setup`` keeps
    make from (re)building the virtual environment; the env file, the run folder and the port
    are the Makefile's own variables."""
    import psutil
    import requests

    base = servers["base"]
    run_dir, port = base / "serve", free_port()
    env_file = base / "serve.env"
    env_file.write_text("\n".join([
        f"KHSYT_PG_URL={servers['pg_url']}", "KHSYT_EXECUTOR=celery",
        f"KHSYT_CELERY_BROKER={servers['broker']}", f"KHSYT_CELERY_BACKEND={servers['backend']}",
        f"KHSYT_RAW={base / 'serve_raw'}", f"KHSYT_CURATED={base / 'serve_curated'}",
        f"KHSYT_MODELS={base / 'serve_models'}", f"KHSYT_COMPUTE_LOGS={base / 'serve_logs'}"]) + "\n")
    make = ["make", "-o", "setup", f"PROD_ENV={env_file}", f"PROD_RUN={run_dir}", f"SERVE_PORT={port}"]
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    started = subprocess.run([*make, "serve"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stdout + started.stderr
    pids = {s: int((run_dir / f"{s}.pid").read_text()) for s in ("webserver", "daemon")}
    family = set(pids.values())
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        query = "{ assetNodes { assetKey { path } } }"
        wait_for(lambda: requests.post(url, json={"query": query}, timeout=5).ok, 120, "the webserver")
        nodes = requests.post(url, json={"query": query}, timeout=30).json()["data"]["assetNodes"]
        keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
        assert {"parsed_plans", "plans", "tasks", "pages", "legal_refs", "tables", "rejects",
                "units", "plan_versions", "review_queue", "compacted_datasets"} <= keys, keys
        health = "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }"

        def daemons_healthy() -> bool:
            statuses = requests.post(url, json={"query": health}, timeout=10).json()["data"]["instance"][
                "daemonHealth"]["allDaemonStatuses"]
            return [s["healthy"] for s in statuses if s["daemonType"] == "SENSOR"] == [True]

        wait_for(daemons_healthy, 120, "the daemon's sensor heartbeat")
        for pid in pids.values():
            family |= {c.pid for c in psutil.Process(pid).children(recursive=True)}
        assert all(_alive(p) for p in pids.values())
    finally:
        stopped = subprocess.run([*make, "serve-stop"], cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
        end = time.monotonic() + 60
        while time.monotonic() < end and any(_alive(p) for p in family):
            time.sleep(0.5)
        left = [p for p in family if _alive(p)]
        for p in left:  # only the processes this test started
            os.kill(p, signal.SIGKILL)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not left, f"still running after make serve-stop: {left}\n" + (run_dir / "daemon.log").read_text()[-2000:]
    assert not (run_dir / "webserver.pid").exists() and not (run_dir / "daemon.pid").exists()
