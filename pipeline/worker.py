"""Start a Celery worker of the production profile: ``python -m pipeline.worker``.

It runs the steps that the Celery executor puts on the broker (``KHSYT_CELERY_BROKER``), loading
the code location from this checkout, with the instance of ``DAGSTER_HOME`` (Postgres) — see
docs/deployment.md for adding a worker machine.  The worker configuration is written from the
environment, so one env file serves the webserver, the daemon and every worker.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def worker_config(path: Path) -> Path:
    """The dagster-celery worker YAML (broker and result backend) from the environment."""
    broker = os.environ.get("KHSYT_CELERY_BROKER")
    if not broker:
        raise SystemExit("KHSYT_CELERY_BROKER is not set (e.g. redis://127.0.0.1:6379/0)")
    config = {"broker": broker, "backend": os.environ.get("KHSYT_CELERY_BACKEND") or broker}
    path.write_text(yaml.safe_dump({"execution": {"config": config}}))
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default=None, help="worker name (default: dagster-<uuid>@<host>)")
    ap.add_argument("--queue", "-q", action="append", default=None, help="queues to listen on (default dagster)")
    ap.add_argument("--concurrency", "-c", type=int, default=None, help="worker processes (default: cores)")
    a = ap.parse_args(argv)
    cli = shutil.which("dagster-celery") or str(Path(sys.executable).with_name("dagster-celery"))
    with tempfile.TemporaryDirectory(prefix="khsyt-celery-") as d:
        cmd = [cli, "worker", "start", "-A", "dagster_celery.app", "-y", str(worker_config(Path(d) / "celery.yaml"))]
        if a.name:
            cmd += ["--name", a.name]
        for q in a.queue or []:
            cmd += ["-q", q]
        if a.concurrency:
            cmd += ["--", f"--concurrency={a.concurrency}"]
        env = dict(os.environ)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # its `celery` executable
        return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    sys.exit(main())
