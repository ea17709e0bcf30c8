"""The IO manager of the intermediate asset (``parsed_plans``): values as gzipped JSON.

Pickles tie the stored objects to one Python and one version of every class; JSON is read by
any version that still has the fields, by a worker machine with another Python, and by a human.
Each partition is one object ``<base>/<asset>/<partition>.json.gz`` on any fsspec filesystem
(local folder or ``s3://…``), so runs over a range of partitions write and read one file per
plan, exactly as single-partition runs do.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import importlib
import json
from collections import OrderedDict
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from dagster import ConfigurableIOManager, InputContext, OutputContext
from pydantic import Field

from khsyt.objectstore import FsspecStorage

#: Only classes of the project's own modules are rebuilt from stored JSON.
_MODULES = ("extractors.", "khsyt.", "parsers.")


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def _tagged(o: Any) -> Any:
    """One level of the JSON form of a value the JSON encoder does not know (``default`` hook):
    dataclasses tagged with their class, dates and datetimes tagged, paths as text, sets as
    lists; the encoder itself (C) walks the dicts and lists inside."""
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        cls = type(o)
        return {"__dc__": f"{cls.__module__}:{cls.__qualname__}", **{n: getattr(o, n) for n in _init_fields(cls)}}
    if isinstance(o, datetime):
        return {"__dt__": o.isoformat()}
    if isinstance(o, date):
        return {"__d__": o.isoformat()}
    if isinstance(o, PurePath):
        return str(o)
    if isinstance(o, set | frozenset):
        return list(o)
    raise TypeError(f"cannot store {type(o).__name__} as JSON")


def _untagged(o: dict[str, Any]) -> Any:
    """The value a tagged JSON object stands for (``object_hook``: inner objects first)."""
    if "__dt__" in o:
        return datetime.fromisoformat(o["__dt__"])
    if "__d__" in o:
        return date.fromisoformat(o["__d__"])
    if "__dc__" in o:
        module, _, name = o["__dc__"].partition(":")
        if not module.startswith(_MODULES):
            raise ValueError(f"refusing to rebuild {o['__dc__']} from stored JSON")
        cls = getattr(importlib.import_module(module), name)
        return cls(**{k: o[k] for k in _init_fields(cls) if k in o})
    return o


#: gzip level of the stored values: 3 is ~4x faster than 9 for ~20 % more bytes (~20 kB a plan).
GZIP_LEVEL = 3


def dumps(o: Any) -> bytes:
    """The stored form of a value: tagged JSON (``_tagged``), gzipped."""
    return gzip.compress(json.dumps(o, default=_tagged, ensure_ascii=False, separators=(",", ":")).encode(),
                         compresslevel=GZIP_LEVEL, mtime=0)


def loads(data: bytes) -> Any:
    """The value ``dumps`` stored (dataclasses of the project's own modules only)."""
    return json.loads(gzip.decompress(data), object_hook=_untagged)


#: Values stored by this process, kept for a downstream step of the same run in the same
#: process (the in-process executor of ``make run`` and the sensor's runs): (run id, asset
#: path, partition) → value.  Bounded; an entry is dropped when read.
_HANDOFF: OrderedDict[tuple[str, tuple[str, ...], str], Any] = OrderedDict()
HANDOFF_MAX = 256


def _current_run_id(context: InputContext) -> str | None:
    try:
        return context.step_context.run_id
    except Exception:  # an InputContext built outside a run (tests, build_input_context)
        return None


class PlanModelIOManager(ConfigurableIOManager):
    """Stores each partition's value of a partitioned asset as one JSON file.

    A partitioned asset returns ``{partition key: value}`` for the partitions of its run (one
    key in a single-partition run, many in a batch run); downstream assets receive the same
    mapping for their run's partitions.

    Every value is written (a step of another process or machine, a re-execution, reads it);
    a downstream step of the *same run in the same process* gets the value the upstream step
    returned instead of decoding the file just written (the same value: ``loads(dumps(v))``
    rebuilds the same dataclasses, dicts and lists).
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
        asset = tuple(context.asset_key.path)
        for key in context.asset_partition_keys:
            if key in obj:
                storage.write_bytes(self._path(context, key), dumps(obj[key]))
                _HANDOFF[(context.run_id, asset, key)] = obj[key]
        while len(_HANDOFF) > HANDOFF_MAX:
            _HANDOFF.popitem(last=False)

    def load_input(self, context: InputContext) -> dict[str, Any]:
        storage = self._storage()
        run_id, asset = _current_run_id(context), tuple(context.asset_key.path)
        out = {}
        for key in context.asset_partition_keys:
            held = _HANDOFF.pop((run_id, asset, key), _MISSING) if run_id else _MISSING
            out[key] = loads(storage.read_bytes(self._path(context, key))) if held is _MISSING else held
        return out


_MISSING = object()
