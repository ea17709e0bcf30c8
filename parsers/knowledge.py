"""Loading of the analyst-editable knowledge files in ``parsers/data``.

Loaded once per process and returned as plain, immutable-by-convention structures.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"


@cache
def load_yaml(name: str) -> Any:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)
