"""Runs whose worker process died (kill -9, out of memory, a reboot) are marked failed.

A run worker killed without a chance to report stays STARTED in the instance for ever; the
default run launcher cannot check its health, so run monitoring (dagster.yaml) only catches
it at ``max_runtime_seconds``.  This check is precise: the RUN_START event records the
worker's pid, and a STARTED run whose worker is no longer alive (or whose pid now belongs to
a process started after the run) has crashed.  It runs at the start of ``make run`` and on
every tick of the raw-files sensor; the failed run is then retried by the run-retries daemon
(``run_retries`` in dagster.yaml), and the interrupted publication is repaired by
``khsyt.datasets.repair`` before anything is published again.

Runs started by ``make run`` carry the tag ``khsyt/host``; a run tagged with another host
is never judged from here.  Runs launched by the daemon (sensor, schedule) are run by the
default run launcher on the daemon's machine, where the sensor runs this check.
"""

from __future__ import annotations

import os
import socket
import time

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

HOST_TAG = "khsyt/host"

#: A run younger than this is left alone (its RUN_START event may not be written yet).
GRACE_SECONDS = 30


def _alive(pid: int, since: float) -> bool:
    """Whether ``pid`` is a process that was already running at time ``since``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        started = time.time() - uptime + start_ticks / os.sysconf("SC_CLK_TCK")
        return started <= since + 1.0
    except (OSError, ValueError, IndexError):
        return True  # cannot tell: assume alive


def fail_crashed_runs(instance: DagsterInstance, grace_seconds: float = GRACE_SECONDS) -> list[str]:
    """Mark every STARTED run whose worker process is gone as failed; returns their ids."""
    failed = []
    now = time.time()
    for rec in instance.get_run_records(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED])):
        if rec.start_time is None or now - rec.start_time < grace_seconds:
            continue
        if rec.dagster_run.tags.get(HOST_TAG, socket.gethostname()) != socket.gethostname():
            continue
        starts = instance.all_logs(rec.dagster_run.run_id, of_type=DagsterEventType.RUN_START)
        pids = [e.dagster_event.pid for e in starts if e.dagster_event and e.dagster_event.pid]
        if not pids or _alive(pids[-1], rec.start_time):
            continue
        instance.report_run_failed(rec.dagster_run, f"run worker (pid {pids[-1]}) is gone: killed or crashed "
                                                    "without reporting; marked failed so it can be retried")
        failed.append(rec.dagster_run.run_id)
    return failed
