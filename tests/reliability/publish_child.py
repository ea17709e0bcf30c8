"""Child process of the kill-point tests: publish one pickled result (or retire a key) into
a curated folder; KHSYT_KILL_AT makes it die between two writes."""

import pickle
import sys

from khsyt import datasets

out, key, what = sys.argv[1:4]
if what == "retire":
    datasets.retire(out, key)
else:
    with open(what, "rb") as fh:
        datasets.write_plan(out, key, pickle.load(fh))
