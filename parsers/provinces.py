"""Province names: one spelling per province, and the province it belongs to since 1 July 2025.

Plans are compared across provinces and years, but on 1 July 2025 Vietnam merged its 63
provinces into 34 (Quảng Nam -> Đà Nẵng, Bắc Giang -> Bắc Ninh, Hòa Bình -> Phú Thọ, ...).
A 2023 plan keeps the province that issued it (:func:`canonical_province`) and gains the
province that now holds that territory (:func:`current_province`).

The mapping is not hand-made: it is the administrative-unit data that ships with
underthesea (``underthesea/address/data/mapping.json``, source "vietnamadminunits" 1.0.4,
effective 2025-07-01), read through the package's own key normaliser.  Only spellings that
data lacks ("Thừa Thiên Huế", "TP HCM") are listed in ``parsers/data/province_aliases.yaml``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from parsers._text import clean, load_yaml, old_style_tones

__all__ = ["canonical_province", "current_province", "province_names", "merged_into"]


@dataclass(frozen=True)
class _Tables:
    by_key: dict[str, str]        # matching key -> old province key
    old_short: dict[str, str]     # old key -> short name ("Thanh Hóa")
    old_to_new: dict[str, str]    # old key -> new key
    new_short: dict[str, str]     # new key -> short name ("Đà Nẵng")
    prefix_re: re.Pattern[str]


def _normalize(text: str) -> str:
    from underthesea.address.normalizer import normalize_key

    return normalize_key(text)


@cache
def _tables() -> _Tables:
    path = resources.files("underthesea.address") / "data" / "mapping.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    old_short = {k: v["short"] for k, v in data["old_province_names"].items()}
    new_short = {k: v["short"] for k, v in data["province_names"].items()}
    by_key: dict[str, str] = {}
    for k, v in data["old_province_names"].items():
        by_key[_normalize(v["short"])] = k
        by_key[_normalize(v["name"])] = k
        by_key[k] = k
    extra = load_yaml("province_aliases.yaml")
    for alias, target in (extra.get("aliases") or {}).items():
        key = by_key.get(_normalize(target))
        if key is None:
            raise ValueError(f"province_aliases.yaml: {target!r} is not a province underthesea knows")
        by_key.setdefault(_normalize(alias), key)
    prefix_re = re.compile(
        r"^(?:(?:" + "|".join(extra.get("prefixes") or []) + r")\s+)+", re.IGNORECASE
    )
    return _Tables(by_key, old_short, dict(data["province_mapping"]), new_short, prefix_re)


def _old_key(name: str | None) -> str | None:
    if not name:
        return None
    t = _tables()
    text = old_style_tones(clean(name))
    for candidate in (text, t.prefix_re.sub("", text)):
        key = t.by_key.get(_normalize(candidate))
        if key:
            return key
    return None


def canonical_province(name: str | None) -> str | None:
    """The pre-merger province named by ``name`` in one spelling ("Thanh Hóa"), or None.

    Accepts any case, NFC/NFD, either tone placement ("Hoá"/"Hóa"), missing diacritics, and
    a leading "tỉnh"/"UBND tỉnh"/"Sở Y tế".  Returns None when no province is recognised,
    so a caller can tell a real province from free text.
    """
    key = _old_key(name)
    return _tables().old_short[key] if key else None


def current_province(name: str | None) -> str | None:
    """The province that holds ``name``'s territory since the 1 July 2025 merger
    ("Quảng Nam" -> "Đà Nẵng", "Thanh Hóa" -> "Thanh Hóa"); None when not recognised."""
    key = _old_key(name)
    if key is None:
        return None
    t = _tables()
    return t.new_short[t.old_to_new[key]]


def merged_into(new_name: str) -> list[str]:
    """Pre-merger provinces that make up a current province ("Đà Nẵng" -> ["Đà Nẵng", "Quảng Nam"])."""
    t = _tables()
    target = current_province(new_name)
    return sorted(t.old_short[k] for k, v in t.old_to_new.items() if t.new_short[v] == target)


def province_names() -> list[str]:
    """The 63 pre-merger province names in canonical spelling."""
    return sorted(_tables().old_short.values())
