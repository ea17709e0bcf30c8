"""Structure of the analyst-edited data files in parsers/data.

An analyst edits these files without touching code; a typo there (an unknown kind, an alias
pointing at two units, a regex that does not compile) would silently change every dataset.
Every file in parsers/data must have a validator here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from parsers._text import match_key
from parsers.areas import AREAS

DATA = Path(__file__).resolve().parents[1] / "parsers" / "data"


def load(name: str):
    with open(DATA / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# ---------------------------------------------------------------------------- units.yaml


def test_units_entries_are_well_formed():
    d = load("units.yaml")
    kinds = set(d["kinds"])
    assert kinds == {"department_office", "subordinate_unit", "external_body", "collective"}
    names = [u["name"] for u in d["units"]]
    assert len(names) == len(set(names)), "duplicate canonical names"
    for u in d["units"]:
        assert set(u) <= {"name", "kind", "aliases"}, u
        assert u["kind"] in kinds, u
        assert isinstance(u.get("aliases", []), list), u
        for form in [u["name"], *(u.get("aliases") or [])]:
            # a YAML flow list splits an unquoted "y, dược": a lower-case fragment is the symptom
            assert isinstance(form, str) and form == form.strip() and len(form) > 1, (u["name"], form)
            assert form[0].isupper() or form[0].isdigit(), (u["name"], form)


def test_no_alias_points_at_two_units():
    d = load("units.yaml")
    stop = tuple(d.get("key_stopwords") or ())
    owners: dict[str, set[str]] = defaultdict(set)
    for u in d["units"]:
        for form in [u["name"], *(u.get("aliases") or [])]:
            owners[match_key(form, stopwords=stop)].add(u["name"])
    clashes = {k: v for k, v in owners.items() if len(v) > 1}
    assert not clashes, clashes


def test_unit_rules_compile_and_use_known_kinds():
    d = load("units.yaml")
    kinds = set(d["kinds"])
    for key, value in d["abbreviations"].items():
        assert key.strip() and value.strip() and " " not in key, key
    for rule in d["expansion_rules"]:
        re.compile(rule["pattern"])
        assert isinstance(rule["replace"], str)
    for p in d["redundant_suffixes"] + d["person_prefixes"]:
        re.compile(p)
    for fam in d["families"]:
        re.compile(fam["pattern"])
        assert fam["kind"] in kinds
    assert all(k in kinds for k in d["kind_by_head"].values())
    assert all(isinstance(v, str) and v for v in d["role_verbs"] + d["split_heads"] + d["joiners"])
    fz = d["fuzzy"]
    assert 0 < fz["min_score"] <= fz["min_score_short"] <= 100 and fz["short_len"] > 0


def test_collective_rules_point_at_registry_collectives():
    d = load("units.yaml")
    coll = d["collective"]
    by_name = {u["name"]: u["kind"] for u in d["units"]}
    families = coll["families"]
    for fam, name in families.items():
        assert by_name.get(name) == "collective", (fam, name)
    allowed = set(families) | {"inherit", "units_or_related"}
    for h in coll["heads"]:
        assert set(h) <= {"head", "family", "always_generic"}, h
        assert h["family"] in allowed, h
    assert set(coll["inherit_default"].values()) <= set(families)
    re.compile(coll["related_only_qualifier"])
    assert coll["plural_markers"] and coll["generic_qualifiers"] and coll["membership_markers"]


# ---------------------------------------------------------------------------- deadline_words.yaml


def test_deadline_words():
    d = load("deadline_words.yaml")
    for key in ("month_word", "quarter_word", "year_word", "day_word", "period_word", "range_words"):
        re.compile(d[key])
    assert d["roman"] == {r: i for i, r in enumerate(
        ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"], start=1)}
    for phrase, (a, b) in d["halves"].items():
        assert 1 <= a <= b <= 12, phrase
    assert set(d["recurring"]) <= {"daily", "weekly", "monthly", "quarterly", "semiannual", "annual"}
    lists = ["ongoing", "conditional_start", "conditional_anywhere", "reference_start", "immediate",
             "before_by_end", "before_by_start", "before_filler", "label_trailing_noise",
             "label_leading_noise", "label_noise"]
    for key in lists:
        assert d[key] and all(isinstance(p, str) and p.strip() for p in d[key]), key
    recurring_phrases = [p for ps in d["recurring"].values() for p in ps]
    assert len(recurring_phrases) == len(set(recurring_phrases)), "a phrase in two recurrences"
    assert not set(d["ongoing"]) & set(recurring_phrases)


# ---------------------------------------------------------------------------- legal_doc_types.yaml


def test_legal_doc_types():
    d = load("legal_doc_types.yaml")
    names = [t["name"] for t in d["doc_types"]]
    assert len(names) == len(set(names))
    assert d["default_type"] in names
    seen_codes: dict[str, str] = {}
    seen_words: dict[str, str] = {}
    for t in d["doc_types"]:
        assert t["words"] and t["codes"], t
        for c in t["codes"]:
            assert c.upper() not in seen_codes, (c, seen_codes.get(c.upper()), t["name"])
            seen_codes[c.upper()] = t["name"]
        for w in t["words"]:
            assert w.lower() not in seen_words, w
            seen_words[w.lower()] = t["name"]
    assert all(k and v for k, v in d["issuers"].items())


# ---------------------------------------------------------------------------- reform_areas.yaml


def test_reform_areas():
    d = load("reform_areas.yaml")
    assert tuple(d["areas"]) == AREAS
    assert d["min_text_score"] > 0
    title_owner: dict[str, str] = {}
    for area, spec in d["areas"].items():
        assert spec["label"] and spec["title"] and spec["keywords"], area
        for p in spec["title"]:
            k = match_key(p, accents=False)
            assert k not in title_owner, (p, title_owner.get(k), area)
            title_owner[k] = area
        assert all(isinstance(w, (int, float)) and w > 0 for w in spec["keywords"].values()), area


# ---------------------------------------------------------------------------- province_aliases.yaml


def test_province_aliases_resolve():
    from parsers.provinces import canonical_province

    d = load("province_aliases.yaml")
    for alias, target in d["aliases"].items():
        assert canonical_province(target) == target, target
        assert canonical_province(alias) == target, alias
    for p in d["prefixes"]:
        re.compile(p)


# ---------------------------------------------------------------------------- coverage

# The data files this test module owns (other modules keep their own files in parsers/data).
OWNED = ["units.yaml", "deadline_words.yaml", "legal_doc_types.yaml", "reform_areas.yaml",
         "province_aliases.yaml"]


@pytest.mark.parametrize("name", OWNED)
def test_owned_data_files_exist_and_load(name):
    assert (DATA / name).is_file()
    assert isinstance(load(name), dict)


# ---------------------------------------------------------------------------- digit_shapes.yaml


def test_digit_shapes_are_single_characters_each_standing_for_one_digit():
    d = load("digit_shapes.yaml")
    assert set(d) <= set("0123456789")
    seen: dict[str, str] = {}
    for digit, shapes in d.items():
        for ch in shapes:
            assert isinstance(ch, str) and len(ch) == 1 and not ch.isdigit(), (digit, ch)
            assert seen.setdefault(ch, digit) == digit, f"{ch!r} stands for {seen[ch]} and {digit}"


# ---------------------------------------------------------------------------- signer_titles.yaml


def test_signer_prefixes_that_need_an_office_below_are_prefixes():
    d = load("signer_titles.yaml")
    prefixes = {p.rstrip(".") for p in d["prefixes"]}
    assert d["needs_own_office"] and set(d["needs_own_office"]) <= prefixes
    assert d["signs_for_head"] in d["needs_own_office"]  # "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"
    assert not set(d["needs_own_office"]) & set(d["acting_for"])  # "TM." names a body, not an office


# ---------------------------------------------------------------------------- ocr_glyph_splits.yaml


def test_glyph_splits_are_two_glyphs_for_one_capital():
    path = DATA.parents[1] / "extractors" / "data" / "ocr_glyph_splits.yaml"
    splits = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert splits
    for glyph, pairs in splits.items():
        assert len(glyph) == 1 and glyph.isupper(), glyph
        assert pairs and all(len(p) == 2 and p.isupper() and p.isascii() for p in pairs), (glyph, pairs)
