"""Split and canonicalise the unit cells of a plan ("Đơn vị chủ trì", "Phối hợp", ...).

Plans name the same office in many ways (abbreviations, a redundant "Sở Y tế", role notes,
OCR damage, plural collectives).  Comparing lead units across plans and provinces needs one
name per unit, so each mention is resolved against the analyst-edited registry
``parsers/data/units.yaml``: exact or alias match first, then the diacritic-free key, then
name families ("Trung tâm Y tế <place>"), then "known unit + role note", then fuzzy.  A mention
that matches nothing is kept under its cleaned name with ``known=False``: a unit is never dropped.

The rules live in the YAML; this module holds only the mechanics.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

from parsers._text import capitalize_first, clean, load_yaml, match_key, old_style_tones

__all__ = ["UnitMatch", "split_units", "resolve_unit", "normalize_units", "unit_names", "split_assignment"]

_DATA = "units.yaml"


@dataclass(frozen=True)
class UnitMatch:
    """One resolved unit mention.

    ``name`` is the canonical registry name when ``known`` (or a family match), otherwise the
    cleaned mention.  ``score`` is 0-100 (100 exact, lower for fuzzy).  ``method`` says which
    rule matched, so a reviewer can audit fuzzy and unknown matches first.
    """

    name: str
    kind: str | None
    known: bool
    score: float
    raw: str
    method: str = ""


# ---------------------------------------------------------------------------- registry


@dataclass
class _Registry:
    kinds: dict[str, str]                # canonical -> kind
    exact: dict[str, str]                # accented key -> canonical
    folded: dict[str, set[str]]          # diacritic-free key -> canonicals
    folded_keys: list[str]
    abbr: dict[str, str]
    abbr_re: re.Pattern[str] | None
    rules: list[tuple[re.Pattern[str], str]]
    suffixes: list[re.Pattern[str]]
    person: list[re.Pattern[str]]
    stopwords: tuple[str, ...]
    role_verbs: tuple[str, ...]
    families: list[tuple[re.Pattern[str], str]]
    kind_by_head: list[tuple[str, str]]
    protect_re: re.Pattern[str] | None
    split_re: re.Pattern[str]
    joiner_re: re.Pattern[str]
    coll: dict


def _expand_with(reg_abbr: dict[str, str], abbr_re: re.Pattern[str] | None,
                 rules: list[tuple[re.Pattern[str], str]], text: str) -> str:
    if abbr_re is not None:
        text = abbr_re.sub(lambda m: reg_abbr[m.group(0)], text)
    for pat, rep in rules:
        text = pat.sub(rep, text)
    return clean(text)


def _flex(phrase: str) -> str:
    """Regex for a phrase with any run of whitespace between its words."""
    return r"\s+".join(re.escape(w) for w in phrase.split())


@cache
def _registry() -> _Registry:
    data = load_yaml(_DATA)
    abbr = dict(data.get("abbreviations") or {})
    abbr_re = None
    if abbr:
        alt = "|".join(re.escape(k) for k in sorted(abbr, key=len, reverse=True))
        abbr_re = re.compile(rf"(?<![\w&-])(?:{alt})(?![\w&-])")
    rules = [(re.compile(r["pattern"]), r["replace"]) for r in data.get("expansion_rules") or []]
    stop = tuple(data.get("key_stopwords") or ())

    kinds: dict[str, str] = {}
    exact: dict[str, str] = {}
    generated: dict[str, str] = {}
    protected: list[str] = []
    for u in data["units"]:
        name = u["name"]
        kinds[name] = u["kind"]
        for form in [name, *(u.get("aliases") or [])]:
            if re.search(r",|;|\svà\s", form):
                protected.append(form)
            expanded = _expand_with(abbr, abbr_re, rules, form)
            for f in {form, expanded}:
                k = match_key(f, stopwords=stop)
                exact.setdefault(k, name)
                # "X tỉnh" and "X" name the same provincial-level unit; explicit entries win.
                if u["kind"] not in ("subordinate_unit", "external_body"):
                    continue
                if k.endswith(" tỉnh") and len(k.split()) > 2:
                    generated.setdefault(k[: -len(" tỉnh")], name)
                elif not k.endswith(" tỉnh") and len(k.split()) >= 2:
                    generated.setdefault(k + " tỉnh", name)
    for k, v in generated.items():
        exact.setdefault(k, v)
    folded: dict[str, set[str]] = {}
    for k, v in exact.items():
        folded.setdefault(match_key(k, accents=False), set()).add(v)

    protect_re = None
    if protected:
        alt = "|".join(_flex(p) for p in sorted(protected, key=len, reverse=True))
        protect_re = re.compile(rf"(?<!\w)(?:{alt})(?!\w)", re.IGNORECASE)

    coll = data["collective"]
    heads = list(data.get("split_heads") or []) + list(coll["plural_markers"]) + list(abbr)
    head_alt = "|".join(_flex(h) for h in sorted(set(heads), key=len, reverse=True))
    split_re = re.compile(rf"\s*(?:,|\s&\s|\svà\s)\s*(?=(?:{head_alt})(?![\w&]))", re.IGNORECASE)
    joiner_alt = "|".join(_flex(j) for j in sorted(data.get("joiners") or [], key=len, reverse=True))
    joiner_re = re.compile(rf"\s+(?:chủ\s+trì,?\s+)?(?:{joiner_alt})\s+", re.IGNORECASE)

    return _Registry(
        kinds=kinds,
        exact=exact,
        folded=folded,
        folded_keys=list(folded),
        abbr=abbr,
        abbr_re=abbr_re,
        rules=rules,
        suffixes=[re.compile(p) for p in data.get("redundant_suffixes") or []],
        person=[re.compile(p) for p in data.get("person_prefixes") or []],
        stopwords=stop,
        role_verbs=tuple(sorted(data.get("role_verbs") or [], key=len, reverse=True)),
        families=[(re.compile(f["pattern"], re.IGNORECASE), f["kind"]) for f in data.get("families") or []],
        kind_by_head=sorted((data.get("kind_by_head") or {}).items(), key=lambda kv: -len(kv[0])),
        protect_re=protect_re,
        split_re=split_re,
        joiner_re=joiner_re,
        coll=coll,
    )


def _key(text: str, accents: bool = True) -> str:
    return match_key(text, accents=accents, stopwords=_registry().stopwords)


def _expand(text: str) -> str:
    reg = _registry()
    return _expand_with(reg.abbr, reg.abbr_re, reg.rules, text)


# ---------------------------------------------------------------------------- splitting

_PROTECT = (("," , "\x01"), (";", "\x02"), ("và", "\x03"))


def _strip_parentheticals(text: str) -> str:
    """Remove role notes in (...) and [...], nested or unclosed: they are never part of a name."""
    prev = None
    while prev != text:
        prev = text
        text = re.sub(r"\([^()]*\)|\[[^\[\]]*\]", " ", text)
    text = re.sub(r"[(\[].*$", " ", text)
    return text.replace(")", " ").replace("]", " ")


def _protect(text: str) -> str:
    """Hide the separators inside registry names that contain them, so splitting keeps them whole."""
    reg = _registry()
    if reg.protect_re is None:
        return text

    def sub(m: re.Match[str]) -> str:
        s = m.group(0)
        for sep, mark in _PROTECT:
            s = re.sub(rf"(?<!\w){sep}(?!\w)", mark, s) if sep.isalpha() else s.replace(sep, mark)
        return s

    return reg.protect_re.sub(sub, text)


def _unprotect(text: str) -> str:
    for sep, mark in _PROTECT:
        text = text.replace(mark, sep)
    return text


def _clean_mention(text: str) -> str:
    """Trim one mention: bullets, numbering, counts, trailing dots, people standing for units."""
    text = clean(text)
    text = re.sub(r"^(?:[-+•*–]+|\d+[.)]|[a-zđ][.)])\s*", "", text)
    text = re.sub(r"^\d+\s+(?=\D)", "", text)  # "02 Chi cục" -> "Chi cục"
    text = text.strip(" .,;:-–\"'“”")
    for pat in _registry().person:
        text = pat.sub("", text)
    return clean(text)


def split_units(raw: str | None) -> list[str]:
    """Split a unit cell into cleaned mentions, in printed order.

    Cuts on ";", line breaks, list bullets and "phối hợp" joins always; on "," and " và " only
    when the next words open a new unit (see ``split_heads`` in the YAML), so that names and
    collectives containing commas ("Sở Văn hóa, Thể thao và Du lịch") stay whole.  Parenthesised
    role notes, counts and trailing dots are removed.  Empty input gives ``[]``.
    """
    if not raw or not raw.strip():
        return []
    reg = _registry()
    text = _strip_parentheticals(raw.replace("\r", "\n"))
    text = _protect(text)
    out: list[str] = []
    for piece in re.split(r"[;\n]+", text):
        for bullet in re.split(r"(?:^|(?<=[.:]))\s*[-+•–]\s+", piece):
            for joined in reg.joiner_re.split(" " + bullet + " "):
                for part in reg.split_re.split(joined):
                    m = _clean_mention(_unprotect(part))
                    if m:
                        out.append(m)
    return out


def split_assignment(raw: str | None) -> tuple[str | None, str | None]:
    """Split a cell that states both roles ("Văn phòng phối hợp Phòng Nghiệp vụ") into
    (lead, partners).  Without a joiner the whole cell is the lead.  For the extractor, which
    must fill lead_units_raw / coordinating_units_raw from a single "Phân công" column."""
    if not raw or not raw.strip():
        return None, None
    parts = _registry().joiner_re.split(" " + clean(raw) + " ", maxsplit=1)
    lead = re.sub(r"\s+chủ\s+trì[,.]?$", "", clean(parts[0]), flags=re.IGNORECASE) or None
    partner = clean(parts[1]) if len(parts) > 1 else None
    return lead, partner or None


# ---------------------------------------------------------------------------- collectives


@dataclass
class _Generic:
    head: str
    family: str
    qualifier: str


def _parse_generic(mention: str) -> _Generic | None:
    """Recognise a plural/generic mention ("các phòng chuyên môn", "đơn vị có liên quan")."""
    coll = _registry().coll
    low = old_style_tones(_expand(mention)).lower()
    plural = False
    for pm in sorted(coll["plural_markers"], key=len, reverse=True):
        if low.startswith(pm + " "):
            plural, low = True, low[len(pm) + 1:]
            break
    for h in sorted(coll["heads"], key=lambda h: -len(h["head"])):
        head = h["head"]
        if low == head or low.startswith(head + " "):
            q = low[len(head):].strip(" ,.")
            generic_q = any(q == g or q.startswith(g + " ") for g in coll["generic_qualifiers"])
            if h.get("always_generic") or plural or not q or generic_q:
                return _Generic(head=head, family=h["family"], qualifier=q)
            return None
    return None


def _generic_family(g: _Generic, qualifier: str, previous: str | None) -> str:
    coll = _registry().coll
    if g.family == "inherit":
        return previous or coll["inherit_default"].get(g.head, "related")
    if g.family == "units_or_related":
        return "related" if re.match(coll["related_only_qualifier"], qualifier) else "units"
    if g.family == "related":
        return "units" if any(m in qualifier for m in coll["membership_markers"]) else "related"
    return g.family


def _collective_match(family: str, raw: str) -> UnitMatch:
    name = _registry().coll["families"][family]
    return UnitMatch(name, _registry().kinds.get(name, "collective"), True, 100.0, raw, "collective")


def _resolve_generics(mentions: list[str]) -> list[UnitMatch | None]:
    """Map generic mentions to collectives; a bare member of a run ("Các cơ quan, tổ chức, đơn vị,
    doanh nghiệp liên quan") takes the qualifier printed after the run's last member."""
    gens = [_parse_generic(m) for m in mentions]
    quals = [g.qualifier if g else "" for g in gens]
    for i in range(len(gens) - 2, -1, -1):
        if gens[i] and gens[i + 1] and not quals[i]:
            quals[i] = quals[i + 1]
    out: list[UnitMatch | None] = []
    previous: str | None = None
    for m, g, q in zip(mentions, gens, quals, strict=True):
        if g is None:
            previous = None
            out.append(None)
            continue
        fam = _generic_family(g, q, previous)
        previous = fam
        out.append(_collective_match(fam, m))
    return out


# ---------------------------------------------------------------------------- resolution


def _strip_redundant(name: str) -> str:
    """Drop "Sở Y tế"/"Sở" owner suffixes and "tỉnh <Province>" -> "tỉnh"."""
    from parsers.provinces import canonical_province

    out = name
    m = re.search(r"\s+tỉnh\s+(\S.*)$", out, flags=re.IGNORECASE)
    if m and canonical_province(m.group(1)) is not None:
        out = out[: m.start()] + " tỉnh"
    for pat in _registry().suffixes:
        cut = pat.sub("", out)
        if cut.strip() and cut != out:
            out = cut
    return clean(out)


def _lookup_exact(cands: list[str]) -> tuple[str, float, str] | None:
    reg = _registry()
    for c in cands:
        hit = reg.exact.get(_key(c))
        if hit:
            return hit, 100.0, "exact"
    for c in cands:
        hits = reg.folded.get(_key(c, accents=False))
        if hits and len(hits) == 1:
            return next(iter(hits)), 97.0, "accent"
    return None


@functools.cache
def _max_unit_tokens() -> int:
    """Words in the longest registry key, with room for stop words and abbreviations."""
    reg = _registry()
    longest = max((len(k.split()) for k in [*reg.exact, *reg.folded]), default=10)
    return 2 * longest + 4


def _lookup_prefix(cands: list[str]) -> tuple[str, float, str] | None:
    """A known unit followed by a role note ("Văn phòng Sở xây dựng Kế hoạch") or by its parent
    office ("Bộ phận CCHC Văn phòng")."""
    reg = _registry()
    for c in cands:
        tokens = re.findall(r"[\w&]+", old_style_tones(c))
        # a known unit has at most _max_unit_tokens() words: longer heads cannot match, and
        # trying them made this quadratic in the length of a cell
        for i in range(min(len(tokens) - 1, _max_unit_tokens()), 0, -1):
            head = _lookup_exact([" ".join(tokens[:i])])
            if not head:
                continue
            rest = " ".join(tokens[i:])
            rest_low = rest.lower()
            is_role = tokens[i][:1].islower() and any(
                rest_low == v or rest_low.startswith(v + " ") for v in reg.role_verbs
            )
            parent = _lookup_exact([rest])
            is_parent = bool(parent) and reg.kinds.get(parent[0]) == "department_office"
            is_owner = _key(rest) in ("sở", "sở y tế", "syt")
            if is_role or is_parent or is_owner:
                return head[0], min(head[1], 95.0), "prefix"
    return None


def _lookup_fuzzy(cands: list[str]) -> tuple[str, float, str] | None:
    reg = _registry()
    fz = load_yaml(_DATA)["fuzzy"]
    best: tuple[str, float, str] | None = None
    for c in cands:
        k = _key(c, accents=False)
        if not k:
            continue
        cutoff = fz["min_score_short"] if len(k) < fz["short_len"] else fz["min_score"]
        hit = process.extractOne(k, reg.folded_keys, scorer=fuzz.ratio, score_cutoff=cutoff)
        if hit and len(reg.folded[hit[0]]) == 1 and (best is None or hit[1] > best[1]):
            best = (next(iter(reg.folded[hit[0]])), float(hit[1]), "fuzzy")
    return best


def _guess_kind(name: str) -> str | None:
    low = old_style_tones(name).lower()
    for head, kind in _registry().kind_by_head:
        if low == head or low.startswith(head + " "):
            return kind
    return None


def resolve_unit(name: str, province: str | None = None) -> UnitMatch:
    """Resolve one unit mention to its canonical registry entry, or keep it as an unknown unit.

    Order: collective phrase, exact/alias key, diacritic-free key (OCR lost the accents),
    name family ("Trung tâm Y tế <place>"), known unit + role note/parent office, fuzzy
    (rapidfuzz ratio on diacritic-free keys, thresholds in the YAML).  ``province`` lets
    "UBND tỉnh <province>" reduce to "UBND tỉnh" even for a spelling the province list lacks.
    """
    raw = name
    s = _clean_mention(_strip_parentheticals(name or ""))
    if not s:
        return UnitMatch("", None, False, 0.0, raw, "empty")
    gen = _resolve_generics([s])[0]
    if gen is not None:
        return UnitMatch(gen.name, gen.kind, True, gen.score, raw, gen.method)
    s = _clean_mention(_expand(s))
    if province:
        s = re.sub(rf"\s+tỉnh\s+{_flex(clean(province))}$", " tỉnh", s, flags=re.IGNORECASE)
    stripped = _strip_redundant(s)
    cands = [s] if stripped == s else [s, stripped]

    reg = _registry()
    hit = _lookup_exact(cands)
    if hit is None:
        for c in cands:
            for pat, kind in reg.families:
                if pat.match(c):
                    return UnitMatch(capitalize_first(old_style_tones(c)), kind, True, 100.0, raw, "family")
        hit = _lookup_prefix(cands) or _lookup_fuzzy(cands)
    if hit is not None:
        canonical, score, method = hit
        return UnitMatch(canonical, reg.kinds.get(canonical), True, score, raw, method)
    final = capitalize_first(old_style_tones(stripped))
    return UnitMatch(final, _guess_kind(final), False, 0.0, raw, "unknown")


def normalize_units(raw: str | None, province: str | None = None) -> list[UnitMatch]:
    """Split a unit cell and resolve every mention; each distinct unit once, in order of first
    mention.  A collective list such as "Các phòng, đơn vị trực thuộc" yields both
    "Các phòng thuộc Sở" and "Các đơn vị trực thuộc Sở"."""
    mentions = split_units(raw)
    generics = _resolve_generics(mentions)
    out: list[UnitMatch] = []
    seen: set[str] = set()
    for mention, gen in zip(mentions, generics, strict=True):
        m = gen if gen is not None else resolve_unit(mention, province)
        k = m.name.casefold()
        if m.name and k not in seen:
            seen.add(k)
            out.append(m)
    return out


def unit_names(raw: str | None, province: str | None = None) -> list[str]:
    """Canonical names only: what the ``*_units`` list columns hold."""
    return [m.name for m in normalize_units(raw, province)]
