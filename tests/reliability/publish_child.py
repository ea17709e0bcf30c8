"""Child process of the kill-point tests: publish one pickled result (or retire a key) into
a curated folder as a batch of one plan — the plan's publication, then the switch of the
documented view (what the CLI and the Dagster step do at the end of a batch) — or run the
repair (``WHAT`` = ``repair``: the migration of an older layout); KHSYT_KILL_AT makes it die
between two writes.

``publish_child.py OUT KEY WHAT`` publishes once.  ``publish_child.py --serve`` imports once,
then for every line ``KILL_AT OUT KEY WHAT`` on stdin forks a process that publishes with that
kill point, and answers with its exit code (-9 when killed): sixty kill points cost sixty
forks instead of sixty Python start-ups.  The server itself never writes, so it holds no
threads when it forks.
"""

import os
import pickle
import sys

from khsyt import datasets


def publish(out: str, key: str, what: str) -> None:
    if what == "repair":
        datasets.repair(out)
        return
    if what == "retire":
        datasets.retire(out, key)
    else:
        with open(what, "rb") as fh:
            datasets.write_plan(out, key, pickle.load(fh))
    datasets.publish_view(out)


if sys.argv[1] == "--serve":
    for line in sys.stdin:
        kill_at, out, key, what = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            os.environ["KHSYT_KILL_AT"] = kill_at
            try:
                publish(out, key, what)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)
else:
    publish(*sys.argv[1:4])
