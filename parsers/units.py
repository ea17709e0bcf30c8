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

__all__ = ["UnitMatch", "split_units", "resolve_unit", "normalize_units", "unit_names", "split_assignment",
           "split_printed", "resolve_printed", "uses_families"]

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
    printed: dict
    printed_re: dict
    acronyms: dict[str, str]


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

    printed = dict(data.get("printed") or {})
    printed["actor_heads_sorted"] = sorted(printed.get("actor_heads") or [], key=len, reverse=True)
    role_alt = "|".join(_flex(v) for v in sorted(printed.get("role_note_verbs") or [], key=len, reverse=True))
    dist_alt = "|".join(_flex(h) for h in sorted(printed.get("distribute_heads") or [], key=len, reverse=True))
    split_head_alt = "|".join(_flex(h) for h in sorted(set(data.get("split_heads") or []) | set(abbr),
                                                         key=len, reverse=True))
    printed_re = {
        "role": re.compile(rf"\s(?:{role_alt})(?=\s|,|\.|$)") if role_alt else re.compile(r"(?!)"),
        "distribute": re.compile(rf"(?:[Cc]ác|[Nn]hững)\s+(?P<head>{dist_alt})\s*:\s*(?P<list>[^.]+?)(?=\.\s|\.?$)")
        if dist_alt else re.compile(r"(?!)"),
        "head": re.compile(rf"(?:{split_head_alt})(?![\w&])", re.IGNORECASE),
        "scope": [re.compile(p, re.IGNORECASE) for p in printed.get("scope_notes") or []],
    }
    acronyms: dict[str, str] = {}
    for name in kinds:
        for src in printed.get("acronym_sources") or []:
            if name.startswith(src):
                specific = name[len(src):]
                letters = "".join(w[0] for w in re.findall(r"[^\W\d_]+", specific) if w != "và").upper()
                if len(letters) >= int(printed.get("min_acronym", 4)):
                    acronyms.setdefault(letters, specific)

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
        printed=printed,
        printed_re=printed_re,
        acronyms=acronyms,
    )


def _key(text: str, accents: bool = True) -> str:
    return match_key(text, accents=accents, stopwords=_registry().stopwords)


def registry_spelling(name: str) -> str | None:
    """The registry's spelling of a unit named with the same words in another case
    ("NGÂN HÀNG NHÀ NƯỚC VIỆT NAM" → "Ngân hàng Nhà nước Việt Nam"), or None.  An alias (other
    words) gives nothing: this restores case, it does not rename."""
    hit = _registry().exact.get(_key(name))
    return hit if hit is not None and _key(hit) == _key(name) else None


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
    if hit is not None and _central(hit[0]) != _central(s):
        hit = None  # a ministry's office is never a Sở's ("Văn phòng Bộ" is not "Văn phòng Sở")
    if hit is not None:
        canonical, score, method = hit
        return UnitMatch(canonical, reg.kinds.get(canonical), True, score, raw, method)
    final = capitalize_first(old_style_tones(stripped))
    return UnitMatch(final, _guess_kind(final), False, 0.0, raw, "unknown")


def uses_families(issuer_level: str | None) -> bool:
    """Do plans of this issuer level use the registry's collective families?  A Sở's plan
    does ("các phòng" are its offices); a People's Committee's or a ministry's keeps every
    collective as printed.  Unknown level: the families (the registry's home ground)."""
    return issuer_level is None or issuer_level in _registry().printed["family_levels"]


def normalize_units(raw: str | None, province: str | None = None,
                    issuer_level: str | None = None) -> list[UnitMatch]:
    """Split a unit cell and resolve every mention; each distinct unit once, in order of first
    mention.  A collective list such as "Các phòng, đơn vị trực thuộc" yields both
    "Các phòng thuộc Sở" and "Các đơn vị trực thuộc Sở" in a Sở's plan; in the plan of any
    other issuer (``issuer_level``) collectives stay as printed (:func:`split_printed`)."""
    if uses_families(issuer_level):
        mentions = split_units(raw)
        generics = _resolve_generics(mentions)
        matches = [gen if gen is not None else resolve_unit(mention, province)
                   for mention, gen in zip(mentions, generics, strict=True)]
    else:
        matches = [resolve_printed(mention) for mention in split_printed(raw)]
    out: list[UnitMatch] = []
    seen: set[str] = set()
    for m in matches:
        k = m.name.casefold()
        if m.name and k not in seen:
            seen.add(k)
            out.append(m)
    return out


def unit_names(raw: str | None, province: str | None = None, issuer_level: str | None = None) -> list[str]:
    """Canonical names only: what the ``*_units`` list columns hold."""
    return [m.name for m in normalize_units(raw, province, issuer_level)]


# ---------------------------------------------------------------------------- printed mode


def _cut_role_note(text: str) -> str:
    """"Sở Nội vụ chủ trì tham mưu …" → "Sở Nội vụ": a lower-case role verb after a unit starts a
    note that runs to the end of the part; not after "được" (a defining clause)."""
    m = _registry().printed_re["role"].search(text)
    if m is None or m.start() == 0:
        return text
    before = text[: m.start()]
    if re.search(r"(?<!\w)được(?!\w)", before) or not before.strip():
        return text
    return before


def _distribute(text: str) -> str:
    """"Các Cục: A; B, C. Vụ X" → "Cục A; Cục B; Cục C. Vụ X": a plural head with a colon lists
    distinct bodies of that head (members cut at ";" when printed, else at ",")."""
    rx = _registry().printed_re["distribute"]

    def sub(m: re.Match[str]) -> str:
        head, body = m.group("head"), m.group("list")
        members = re.split(r"\s*;\s*", body) if ";" in body else re.split(r"\s*,\s*", body)
        return "; ".join(f"{head} {x.strip()}" for x in members if x.strip())

    return rx.sub(sub, text)


def _expand_acronyms(text: str) -> str:
    """Expand an acronym of a registry body's specific name printed after a head word."""
    acr = _registry().acronyms
    if not acr:
        return text

    def sub(m: re.Match[str]) -> str:
        return acr.get(m.group(0), m.group(0))

    head, _, rest = text.partition(" ")
    return head + (" " + re.sub(r"(?<![\w&])[A-ZĐ&]{4,}(?![\w&])", sub, rest) if rest else "")


def _is_generic_piece(piece: str) -> tuple[bool, str]:
    """(starts with an actor head, what follows the head) for a lower-case piece."""
    printed = old_style_tones(clean(piece))
    low = printed.lower()
    plural = False
    for pm in sorted(_registry().coll["plural_markers"], key=len, reverse=True):
        if low.startswith(pm + " "):
            low, printed, plural = low[len(pm) + 1:], printed[len(pm) + 1:], True
            break
    for h in _registry().printed["actor_heads_sorted"]:
        if low == h or low.startswith(h + " "):
            return True, low[len(h):].strip()
    heads = [h["head"] for h in _registry().coll["heads"]]
    for h in sorted(heads, key=len, reverse=True):
        if low == h or low.startswith(h + " "):
            return True, low[len(h):].strip()
    if plural and printed[:1].islower():  # "các bộ", "những hộ gia đình": a generic noun under a determiner
        first, _, rest = low.partition(" ")
        return True, rest.strip()
    return False, low


def _shared(qualifier: str) -> bool:
    return not qualifier or any(qualifier == q or qualifier.startswith(q + " ")
                                for q in _registry().printed["shared_qualifiers"])


def _coordination(text: str) -> list[str]:
    """Cut a run of units at "," / " và " only where a new unit starts: a plural determiner, a
    capitalised head of a body, or an actor with its own qualifier after a named body; never
    inside a collective of generic nouns ("Các sở, ban, ngành Thành phố") or an elliptic
    coordination of one body ("UBND xã, phường, đặc khu")."""
    reg = _registry()
    parts = re.split(r"(\s*,\s*|\s+và\s+|\s+&\s+)", text)
    pieces = [p for p in parts[0::2]]
    seps = parts[1::2]
    out: list[str] = []
    cur = pieces[0]
    cur_generic, cur_qual = _is_generic_piece(cur)
    cur_bare = cur_generic and not cur_qual and not cur[:1].isupper() or (cur_generic and _shared(cur_qual)
                                                                         and _starts_plural(cur))
    for sep, p in zip(seps, pieces[1:], strict=True):
        ps = p.strip()
        new = False
        if not ps:
            new = False
        elif _starts_plural(ps):
            new = True
        elif ps[:1].isupper() and reg.printed_re["head"].match(ps):
            new = True
        elif ps[:1].islower():
            gen, qual = _is_generic_piece(ps)
            if gen and not _shared(qual):
                new = True  # "…, cơ quan thông tấn báo chí", "Doanh nghiệp, nhà cung cấp dịch vụ IoT"
            elif gen and not (cur_bare or _is_generic_piece(cur)[0]):
                new = True  # "Đài …, cơ quan" : an actor after a named body
        if new:
            out.append(cur)
            cur = p
            cur_generic, cur_qual = _is_generic_piece(cur)
            cur_bare = cur_generic and _shared(cur_qual)
        else:
            cur = f"{cur}{sep}{p}"
            if cur_bare:
                g, q = _is_generic_piece(ps)
                cur_bare = g and _shared(q)
    out.append(cur)
    return out


def _starts_plural(text: str) -> bool:
    low = text.lower()
    return any(low.startswith(pm + " ") for pm in _registry().coll["plural_markers"])


def split_printed(raw: str | None) -> list[str]:
    """Split a unit cell of a plan whose collectives stay as printed (see :func:`uses_families`).

    Cuts on ";", line breaks, bullets, sentence ends and "phối hợp" joins always; on "," and
    " và " only where :func:`_coordination` sees a new unit.  Role notes ("… chủ trì tham mưu
    …"), scope notes ("trong phạm vi … của mình"), parentheses, counts and trailing dots go;
    "Các Cục: A, B" is distributed into "Cục A", "Cục B"."""
    if not raw or not raw.strip():
        return []
    reg = _registry()
    text = _strip_parentheticals(raw.replace("\r", "\n"))
    for rx in reg.printed_re["scope"]:
        text = rx.sub(" ", text)
    text = _distribute(clean(text))
    text = _protect(text)
    out: list[str] = []
    for piece in re.split(r"[;\n]+|(?<=[^\W\d_]{2})\.\s+(?=[A-ZĐÀ-Ỹ])", text):
        for bullet in re.split(r"(?:^|(?<=[.:]))\s*[-+•–]\s+", piece):
            for joined in reg.joiner_re.split(" " + bullet + " "):
                joined = _cut_role_note(clean(joined))
                for part in (x for c in _coordination(joined) for x in _run_on_bodies(c)):
                    m = _clean_mention(_unprotect(part))
                    m = re.sub(r"^(\w+)\s+\1(?=\s)", r"\1", m)  # "Sở Sở Công thương": a doubled head
                    if m:
                        out.append(m)
    return out


def _run_on_bodies(text: str) -> list[str]:
    """"Sở Khoa học và Công nghệ Sở Công Thương" (a separator lost): cut before a second "Sở"/"Bộ"
    when what precedes it is a whole registry body of that same head."""
    reg = _registry()
    for m in re.finditer(r"\s(?=(Sở|Bộ)\s+[A-ZĐÀ-Ỹ])", text):
        before = _unprotect(text[: m.start()])
        hit = reg.exact.get(_key(before))
        if hit and hit.startswith(m.group(1) + " "):
            return [text[: m.start()], *_run_on_bodies(text[m.end():])]
    return [text]


def _printed_expand(text: str) -> str:
    """Abbreviations that name a unit ("Sở KH&CN", "TTYT", "BHXH") and acronyms of a ministry's
    name are expanded; lower-case ones ("TTHC" → thủ tục hành chính) stay as printed."""
    reg = _registry()
    if reg.abbr_re is not None:
        text = reg.abbr_re.sub(lambda m: reg.abbr[m.group(0)] if reg.abbr[m.group(0)][:1].isupper()
                               else m.group(0), text)
    return clean(_expand_acronyms(text))


def resolve_printed(mention: str) -> UnitMatch:
    """One mention of a plan whose collectives stay as printed: the printed name, spelling
    normalised; a registry alias with other words (an abbreviation) gives the canonical name."""
    raw = mention
    s = _clean_mention(mention)
    if not s:
        return UnitMatch("", None, False, 0.0, raw, "empty")
    reg = _registry()
    expanded = _printed_expand(s)
    hit = reg.exact.get(_key(_expand(expanded)))
    if hit and (_central(hit) != _central(expanded) or reg.kinds.get(hit) == "collective"):
        hit = None  # a family collective is the registry's word for a Sở's plan, not this one's
    same_words = hit is not None and _key(hit, accents=False) == _key(s, accents=False)
    if hit and not same_words:
        return UnitMatch(hit, reg.kinds.get(hit), True, 100.0, raw, "alias")
    name = capitalize_first(old_style_tones(expanded))
    if hit:
        return UnitMatch(name, reg.kinds.get(hit), True, 100.0, raw, "printed")
    if _parse_generic(s) is not None:
        return UnitMatch(name, "collective", True, 100.0, raw, "collective-printed")
    return UnitMatch(name, _guess_kind(name), False, 0.0, raw, "unknown")


_CENTRAL = re.compile(r"(?<!\w)(?:Bộ(?!\s+phận)|Chính\s+phủ|Thủ\s+tướng|Trung\s+ương|Quốc\s+hội|Quốc\s+gia)(?!\w)")


def _central(name: str) -> bool:
    """Does a name belong to the national level ("Bộ Tài chính", "Văn phòng Chính phủ")?"""
    return bool(_CENTRAL.search(name or ""))
