"""Which plan files need a run: the published state of every partition, read in one query.

A partition is up to date when the rows published for it (in ``plans``, or in ``rejects`` for a
file that could not be read) come from the same bytes (``source_sha256``) under the same
extraction fingerprint (pipeline version, code and settings).  One DuckDB scan over the dataset
folder replaces a Parquet open per plan, so the check stays cheap at tens of thousands of plans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PurePosixPath

import duckdb

from khsyt.objectstore import FsspecStorage, is_url

#: Plans per run in batch (backfill-style) runs: Dagster's per-run cost is paid once per batch.
BATCH_SIZE = 50


def published_state(curated: Path | str) -> dict[str, tuple[str | None, str | None]]:
    """partition key → (source SHA-256, extraction fingerprint) of what is published for it.

    A rejects row counts as published: the same bytes under the same fingerprint would be
    rejected again, so they need no run either.
    """
    out: dict[str, tuple[str | None, str | None]] = {}
    con = duckdb.connect()
    try:
        remote = FsspecStorage(str(curated)) if is_url(curated) else None
        if remote is not None:
            con.register_filesystem(remote.fs)
        for name in ("rejects", "plans"):  # plans last: good rows win over an older reject
            if remote is not None:
                if not any(not n.startswith(("_", ".")) and n.endswith(".parquet") for n in remote.listdir(name)):
                    continue
                glob = remote.uri(f"{name}/*.parquet")
            else:
                d = Path(curated) / name
                if not d.is_dir() or not any(d.glob("[!_]*.parquet")):
                    continue
                glob = str(d / "*.parquet")  # the empty placeholder file has no rows
            rows = con.execute(
                "SELECT filename, source_sha256, extraction_fingerprint "
                "FROM read_parquet(?, filename=true, union_by_name=true)", [glob]).fetchall()
            for filename, sha, fp in rows:
                out[PurePosixPath(filename).stem] = (sha, fp)
    finally:
        con.close()
    return out


def stale(keys: Iterable[str], fingerprint: str, state: dict[str, tuple[str | None, str | None]],
          sha_of: Callable[[str], str]) -> list[str]:
    """The keys whose file's bytes (``sha_of(key)``) or fingerprint differ from what is published;
    a file is hashed only when its published fingerprint matches (else it is stale anyway)."""
    out = []
    for k in keys:
        sha, fp = state.get(k, (None, None))
        if sha is None or fp != fingerprint or sha != sha_of(k):
            out.append(k)
    return out


def contiguous_batches(order: Sequence[str], wanted: Iterable[str], size: int = BATCH_SIZE) -> list[tuple[str, str]]:
    """(first, last) key ranges, in partition order, covering exactly the wanted keys.

    A run over a range of dynamic partitions materializes every key between its ends, so a
    range never spans a key that is not wanted; within that, ranges hold up to ``size`` keys.
    """
    want = set(wanted)
    out: list[tuple[str, str]] = []
    start = prev = None
    n = 0
    for k in order:
        if k in want and start is not None and n < size:
            prev, n = k, n + 1
            continue
        if start is not None:
            out.append((start, prev))
            start = None
        if k in want:
            start = prev = k
            n = 1
    if start is not None:
        out.append((start, prev))
    return out


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that make one run materialize the partitions first..last (in partition order),
    as Dagster's own batch backfills do."""
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
