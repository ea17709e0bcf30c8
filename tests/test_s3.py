"""Object storage: plan files read from, page models stored on, and datasets written to and read
back from a local S3 endpoint (moto's server on 127.0.0.1), DuckDB reading through fsspec."""

from __future__ import annotations

import gzip
import json
import socket

import duckdb
import fsspec
import pytest
from dagster import DagsterInstance

from khsyt.compaction import compact
from khsyt.datasets import PUBLISHED
from khsyt.extract import partition_key
from khsyt.objectstore import FsspecStorage
from pipeline import ingest
from pipeline.io_managers import PlanModelIOManager
from pipeline.resources import PlanStore

moto_server = pytest.importorskip("moto.server", reason="moto[server] not installed (pip install -e '.[dev]')")
pytest.importorskip("s3fs", reason="s3fs not installed (pip install -e '.[dev]')")

TEXTS = ("001_174c7ea9301aa0d6.txt", "003_453ccdb535033752.txt")
BUCKET = "khsyt-test"


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on a free port of 127.0.0.1, fsspec configured to use it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = fsspec.config.conf.get("s3")
    fsspec.config.conf["s3"] = {"endpoint_url": endpoint, "key": "testing", "secret": "testing",
                                "client_kwargs": {"region_name": "us-east-1"}}
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=BUCKET)
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    try:
        yield fs
    finally:
        if saved is None:
            fsspec.config.conf.pop("s3", None)
        else:
            fsspec.config.conf["s3"] = saved
        server.stop()


def test_storage_interface_on_s3(s3):
    st = FsspecStorage(f"s3://{BUCKET}/iface")
    st.write_bytes("a/x.json", b'{"v": 1}')
    st.write_bytes("a/x.json", b'{"v": 2}')  # replaced whole
    assert st.read_bytes("a/x.json") == b'{"v": 2}'
    assert st.exists("a/x.json") and not st.exists("a/y.json")
    st.publish_copy("a/x.json", "b/y.json")
    assert st.same("a/x.json", "b/y.json")
    st.write_bytes("b/z.json", b"other")
    assert not st.same("a/x.json", "b/z.json")
    assert st.listdir("b") == ["y.json", "z.json"] and st.listdir("nothing") == []
    with st.lock("k"):
        st.remove("b/y.json")
    st.remove("b/y.json")  # removing what is gone is not an error
    assert st.listdir("b") == ["z.json"]
    st.remove_tree("a")
    assert not st.exists("a/x.json")
    with pytest.raises(FileNotFoundError):
        st.read_bytes("a/x.json")
    with pytest.raises(ValueError):
        st.path("../escaped")


@pytest.mark.slow
def test_ingest_with_raw_models_and_datasets_on_s3(s3, raw_dir):
    for f in TEXTS:
        s3.put_file(str(raw_dir / f), f"{BUCKET}/raw/province/{f}")
    s3.pipe_file(f"{BUCKET}/raw/.hidden.txt", b"not a plan")
    curated = f"s3://{BUCKET}/curated"

    def store() -> PlanStore:
        return PlanStore(raw_dir=f"s3://{BUCKET}/raw", curated_dir=curated, ocr=False)

    keys = sorted(partition_key(f"province/{f}", ".") for f in TEXTS)  # keys from the path under the root
    assert sorted(store().index()) == keys
    io = PlanModelIOManager(base_dir=f"s3://{BUCKET}/models")
    with DagsterInstance.ephemeral() as instance:
        assert ingest.run(store(), instance, io_manager=io) == (2, 0)
        # the parsed plans are JSON objects in the bucket, one per partition
        stored = sorted(s3.ls(f"{BUCKET}/models/parsed_plans"))
        assert [p.rsplit("/", 1)[1] for p in stored] == [f"{k}.json.gz" for k in keys]
        doc = json.loads(gzip.decompress(s3.cat_file(stored[0])))
        assert doc["__dc__"] == "khsyt.results:Extracted" and doc["tasks"]
        # the datasets are in the bucket at their documented paths; DuckDB reads them through fsspec
        con = duckdb.connect()
        con.register_filesystem(fsspec.filesystem("s3"))
        rows = con.execute(f"SELECT source_path, n_tasks, plan_id FROM '{curated}/plans/*.parquet' "
                           "ORDER BY source_path").fetchall()
        assert [r[0] for r in rows] == [f"s3://{BUCKET}/raw/province/{f}" for f in TEXTS]
        assert all(n > 10 for _, n, _ in rows)
        per_plan = dict(con.execute(f"SELECT plan_id, count(*) FROM '{curated}/tasks/*.parquet' GROUP BY 1").fetchall())
        assert per_plan == {pid: n for _, n, pid in rows}
        assert s3.exists(f"{BUCKET}/curated/units/units.parquet")
        assert sorted(p.rsplit("/", 1)[1] for p in s3.ls(f"{BUCKET}/curated/_manifest")) == \
            [f"{k}.json" for k in keys]
        # the compacted copy, in the bucket too, holds the same rows
        compacted = con.execute(f"SELECT count(*) FROM '{curated}/compacted/tasks/**/*.parquet'").fetchone()
        assert compacted == (sum(per_plan.values()),)
        # nothing changed in the bucket: nothing is extracted again
        assert ingest.run(store(), instance, io_manager=io) == (0, 0)
        # a file deleted from the bucket: its rows are retired from every dataset
        s3.rm_file(f"{BUCKET}/raw/province/{TEXTS[0]}")
        assert ingest.run(store(), instance, io_manager=io) == (0, 0)
        left = con.execute(f"SELECT DISTINCT plan_id FROM '{curated}/tasks/*.parquet'").fetchall()
        assert len(left) == 1


@pytest.mark.slow
def test_compacted_datasets_written_to_s3_and_read_back_with_duckdb(s3, raw_dir, tmp_path):
    local = tmp_path / "curated"  # a local run mirrored into the bucket, compacted there
    store = PlanStore(raw_dir=str(tmp_path / "raw"), curated_dir=str(local), ocr=False)
    (tmp_path / "raw").mkdir()
    for f in TEXTS:
        (tmp_path / "raw" / f).write_bytes((raw_dir / f).read_bytes())
    with DagsterInstance.ephemeral() as instance:
        ingest.run(store, instance, io_manager=PlanModelIOManager(base_dir=str(tmp_path / "models")))
    # mirror the per-plan files (the documented folders, links into the local snapshot) into
    # the bucket, compact there, read back through fsspec
    for p in (f for name in PUBLISHED for f in (local / name).glob("*.parquet")):
        s3.put_file(str(p), f"{BUCKET}/mirror/{p.relative_to(local).as_posix()}")
    counts = compact(f"s3://{BUCKET}/mirror")
    con = duckdb.connect()
    want = con.execute(f"SELECT count(*), count(DISTINCT plan_id) FROM '{local}/tasks/*.parquet'").fetchone()
    assert counts["tasks"] == want[0] > 20
    con.register_filesystem(fsspec.filesystem("s3"))
    got = con.execute(f"SELECT count(*), count(DISTINCT plan_id) FROM "
                      f"read_parquet('s3://{BUCKET}/mirror/compacted/tasks/**/*.parquet')").fetchone()
    assert got == want
    joined = con.execute(
        f"SELECT p.province, count(*) FROM read_parquet('s3://{BUCKET}/mirror/compacted/tasks/**/*.parquet') t "
        f"JOIN read_parquet('s3://{BUCKET}/mirror/compacted/plans/**/*.parquet') p USING (plan_id) "
        "GROUP BY ALL ORDER BY 1").fetchall()
    assert [r[0] for r in joined] == ["Bắc Giang", "Đồng Nai"]
