"""The IO manager of the intermediate assets: page models and parsed plans as gzipped JSON.

Pickles tie the stored objects to one Python and one version of every class; JSON is read by
any version that still has the fields, by a worker machine with another Python, and by a human.
Each partition is one object ``<base>/<asset>/<partition>.json.gz`` on any fsspec filesystem
(local folder or ``s3://…``), so runs over a range of partitions write and read one file per
plan, exactly as single-partition runs do.
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib
import json
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from dagster import ConfigurableIOManager, InputContext, OutputContext
from pydantic import Field

from khsyt.objectstore import FsspecStorage

#: Only classes of the project's own modules are rebuilt from stored JSON.
_MODULES = ("extractors.", "khsyt.", "parsers.")


def encode(o: Any) -> Any:
    """A JSON-ready form of a page model or result: dataclasses tagged with their class."""
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        cls = type(o)
        body = {f.name: encode(getattr(o, f.name)) for f in dataclasses.fields(o) if f.init}
        return {"__dc__": f"{cls.__module__}:{cls.__qualname__}", **body}
    if isinstance(o, datetime):
        return {"__dt__": o.isoformat()}
    if isinstance(o, date):
        return {"__d__": o.isoformat()}
    if isinstance(o, PurePath):
        return str(o)
    if isinstance(o, dict):
        return {str(k): encode(v) for k, v in o.items()}
    if isinstance(o, list | tuple | set | frozenset):
        return [encode(v) for v in o]
    return o


def decode(o: Any) -> Any:
    if isinstance(o, list):
        return [decode(v) for v in o]
    if not isinstance(o, dict):
        return o
    if "__dt__" in o:
        return datetime.fromisoformat(o["__dt__"])
    if "__d__" in o:
        return date.fromisoformat(o["__d__"])
    if "__dc__" in o:
        module, _, name = o["__dc__"].partition(":")
        if not module.startswith(_MODULES):
            raise ValueError(f"refusing to rebuild {o['__dc__']} from stored JSON")
        cls = getattr(importlib.import_module(module), name)
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**{k: decode(v) for k, v in o.items() if k in known})
    return {k: decode(v) for k, v in o.items()}


def dumps(o: Any) -> bytes:
    return gzip.compress(json.dumps(encode(o), ensure_ascii=False, separators=(",", ":")).encode(), mtime=0)


def loads(data: bytes) -> Any:
    return decode(json.loads(gzip.decompress(data)))


class PlanModelIOManager(ConfigurableIOManager):
    """Stores each partition's value of a partitioned asset as one JSON file.

    A partitioned asset returns ``{partition key: value}`` for the partitions of its run (one
    key in a single-partition run, many in a batch run); downstream assets receive the same
    mapping for their run's partitions.
    """

    base_dir: str = Field(default=".dagster_home/plan_models",
                          description="folder or s3:// prefix of the stored page models")

    def _storage(self) -> FsspecStorage:
        return FsspecStorage(self.base_dir)

    def _path(self, context: OutputContext | InputContext, key: str) -> str:
        return "/".join([*context.asset_key.path, f"{key}.json.gz"])

    def handle_output(self, context: OutputContext, obj: dict[str, Any]) -> None:
        if obj is None:
            return
        storage = self._storage()
        for key in context.asset_partition_keys:
            if key in obj:
                storage.write_bytes(self._path(context, key), dumps(obj[key]))

    def load_input(self, context: InputContext) -> dict[str, Any]:
        storage = self._storage()
        return {key: loads(storage.read_bytes(self._path(context, key))) for key in context.asset_partition_keys}
