"""Word-level repairs of OCR text that need no document knowledge: a tone mark misread, a speck
read as a full stop.

Tesseract's commonest Vietnamese error keeps a syllable's letters and vowel marks but reads the
wrong *tone*: the hook above for the acute ("sửa đối" for "sửa đổi", "tố chức" for "tổ chức"), a
speck over an i ("chỉ phí" for "chi phí"), a lost mark ("năm bắt" for "nắm bắt").  Each misread
syllable is a real syllable, so no spelling check sees it; what gives it away is its neighbour:
the pair is no Vietnamese word, and one tone change makes it one.  The dictionary is
underthesea's ``Viet74K`` word list (49,581 two-syllable words, shipped inside the package: general
Vietnamese, not this project's documents).  A syllable is changed only when neither pair it forms
with its neighbours is a word, exactly one tone change makes one of them a word, and the
neighbour keeps its reading; a capitalised word inside a line (a name) is never touched.

A speck of dust beside a word is read as a full stop ("mức độ. 3", "công. chức").  In
Vietnamese prose a full stop ends a sentence and the next word starts with a capital: in the
converted text of all sample and dev2 plans (digital, no OCR), "word. lowercase" never occurs
except after an ellipsis.  So a single full stop after a word (or standing alone, or glued in
front of one) followed by a word in lower case is dropped.

Both rules are measured on text that is known to be right (``tests/test_ocr_words.py`` runs them
over the converted sample and dev2 plans: they change nothing there) and on the synthetic scans
(bench/RESULTS.md).  Callers gate them by the engine's confidence like the lexicon correction.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from extractors.text_quality import TONE_MARKS, is_vietnamese_syllable, strip_tone

_LEAD = "([\"'“‘"
_TRAIL = ",;:)\"'”’!?"


#: Every toned Vietnamese vowel (lower case, NFC) to the same vowel without its tone: a
#: translation table, so the 49,581 dictionary words are indexed in a fraction of a second.
_TONELESS = str.maketrans({
    unicodedata.normalize("NFC", v + t): strip_tone(v + t) for v in "aăâeêioôơuưy" for t in TONE_MARKS
})


def toneless(word: str) -> str:
    """Case-folded ``word`` without its tone mark (vowel marks and đ kept): "Đổi" -> "đôi"."""
    return unicodedata.normalize("NFC", word).casefold().translate(_TONELESS)


def _underthesea_file(*parts: str) -> Path:
    """A data file inside the installed underthesea package, found without importing it
    (its ``__init__`` loads its models: half a second)."""
    spec = importlib.util.find_spec("underthesea")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("underthesea is not installed: the OCR word repairs need its word lists")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


@lru_cache(maxsize=1)
def word_pairs() -> tuple[frozenset[str], dict[tuple[str, str], tuple[tuple[str, str], ...]]]:
    """The two-syllable words of the dictionary (case-folded, "a b"), and the same indexed by
    their toneless syllables.

    Read once per process.  The 97,000 syllables are only ~7,000 distinct ones: each is
    re-spelled and stripped of its tone once (0.25 -> 0.1 s CPU per process)."""
    path = _underthesea_file("corpus", "data", "Viet74K.txt")
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8")).casefold()
    pairs = [p for p in map(str.split, text.splitlines()) if len(p) == 2]
    placed = {x: _placement(x) for x in {x for p in pairs for x in p}}
    bare = {a: toneless(a) for a in set(placed.values())}
    words: set[str] = set()
    index: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for x, y in pairs:
        a, b = placed[x], placed[y]
        words.add(f"{a} {b}")
        index.setdefault((bare[a], bare[b]), []).append((a, b))
    return frozenset(words), {k: tuple(v) for k, v in index.items()}


@lru_cache(maxsize=1)
def words_in_use() -> frozenset[str]:
    """Two-syllable words that occur in running text: the word-segmented VLSP 2013 test set
    underthesea ships beside its tagger (66,000 words of news and administrative prose).  The
    dictionary alone also holds rare words ("bàn tính", "số đề", "lập công") that a misread
    common syllable would too easily make; a repair must make a word that is in use."""
    path = _underthesea_file("pipeline", "pos_tag", "models", "pos_crf_vlsp2013_20230303", "test_output.txt")
    out: set[str] = set()
    # normalised as one text: NFC and case folding never reach across a tab or a line break
    for line in unicodedata.normalize("NFC", path.read_text(encoding="utf-8")).casefold().splitlines():
        w = line.split("\t", 1)[0].split()
        if len(w) == 2:
            out.add(" ".join(_placement(x) for x in w))
    return frozenset(out)


def _core(token: str) -> tuple[str, str, str]:
    """``token`` split into leading punctuation, the word, trailing punctuation."""
    lead = token[: len(token) - len(token.lstrip(_LEAD))]
    rest = token[len(lead):]
    body = rest.rstrip(_TRAIL + ".")
    return lead, body, rest[len(body):]


def _is_word(s: str) -> bool:
    return bool(s) and all(ch.isalpha() for ch in s)


def _with_case(read: str, word: str) -> str:
    if len(read) > 1 and read.isupper():
        return word.upper()
    if read[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


_PLACEMENT = re.compile("óa|òa|ỏa|õa|ọa|óe|òe|ỏe|õe|ọe|úy|ùy|ủy|ũy|ụy")


def _placement(word: str) -> str:
    """Old and new tone placement spelled alike ("hóa" = "hoá", "Ủy" = "Uỷ"): the mark moved
    to the second vowel."""
    if not _PLACEMENT.search(word):
        return word
    return _PLACEMENT.sub(lambda m: m.group(0)[0].translate(_TONELESS) + _retone(m.group(0)), word)


def _retone(pair: str) -> str:
    """The second vowel of ``pair`` carrying the first one's tone mark."""
    tone = "".join(c for c in unicodedata.normalize("NFD", pair[0]) if c in TONE_MARKS)
    return unicodedata.normalize("NFC", pair[1] + tone)


#: Syllables on each side of a syllable that the word coverage is judged over.
WINDOW = 2


def _case_class(word: str) -> str:
    if len(word) > 1 and word.isupper():
        return "upper"
    return "title" if word[:1].isupper() else "lower"


def repair_tones(tokens: list[str], changeable: list[bool] | None = None) -> list[str]:
    """Tokens with misread tone marks repaired (see the module docstring); one token per token.

    The evidence is word coverage: in the window of :data:`WINDOW` syllables on each side, how
    many syllables the best split into two-syllable dictionary words covers.  A syllable is
    changed to another tone only when that covers more ("kịp thời năm bắt tình hình": "bắt tình"
    alone, but "nắm bắt" + "tình hình"), and exactly one tone does ("trên địa bàn tỉnh" stays:
    "bàn tính" would only take "bàn" from "địa bàn").  Punctuation ends a phrase; a name
    (a capitalised word inside a line) is neither changed nor paired.
    ``changeable[i]`` False keeps token i as read (the caller's confidence gate)."""
    words, index = word_pairs()
    in_use = words_in_use()
    out = list(tokens)
    parts = [_core(t) for t in out]

    def linked(a: int, b: int) -> bool:
        """Syllables a and b may form a word: both words, nothing between, cases that go together."""
        if a < 0 or b >= len(parts) or not _is_word(parts[a][1]) or not _is_word(parts[b][1]):
            return False
        if parts[a][2] or parts[b][0]:
            return False
        ca, cb = _case_class(parts[a][1]), _case_class(parts[b][1])
        # a capitalised word pairs only where a sentence or item starts (else it is a name)
        starts = a == 0 or not _is_word(parts[a - 1][1]) or bool(parts[a - 1][2])
        return (ca, cb) in (("lower", "lower"), ("upper", "upper")) or (starts and (ca, cb) == ("title", "lower"))

    def coverage(lo: int, hi: int, i: int, v: str) -> int:
        """Most non-overlapping dictionary pairs in syllables lo..hi, syllable i read as v."""
        best = [0] * (hi - lo + 2)
        for j in range(lo + 1, hi + 1):
            k = j - lo + 1
            best[k] = best[k - 1]
            if linked(j - 1, j):
                a = v if j - 1 == i else _placement(parts[j - 1][1].casefold())
                b = v if j == i else _placement(parts[j][1].casefold())
                if f"{a} {b}" in words:
                    best[k] = max(best[k], best[k - 2] + 1)
        return best[hi - lo + 1]

    for i, (lead, core, trail) in enumerate(parts):
        if changeable is not None and not changeable[i]:
            continue
        if not _is_word(core) or _case_class(core) == "title":
            continue
        # each side is a neighbour, or punctuation that ends the phrase; the edge of a line is
        # neither (half of the context is unseen)
        l_ok, r_ok = linked(i - 1, i), linked(i, i + 1)
        l_closed = bool(lead) or (i > 0 and bool(parts[i - 1][2]))
        r_closed = bool(trail)
        if not ((l_ok or l_closed) and (r_ok or r_closed) and (l_ok or r_ok)):
            continue
        key = _placement(core.casefold())
        variants: set[str] = set()
        if l_ok:
            left = _placement(parts[i - 1][1].casefold())
            variants |= {b for a, b in index.get((toneless(left), toneless(key)), ())
                         if a == left and f"{left} {b}" in in_use}
        if r_ok:
            right = _placement(parts[i + 1][1].casefold())
            variants |= {a for a, b in index.get((toneless(key), toneless(right)), ())
                         if b == right and f"{a} {right}" in in_use}
        variants.discard(key)
        if not variants:
            continue
        lo, hi = max(0, i - WINDOW), min(len(parts) - 1, i + WINDOW)
        now = coverage(lo, hi, i, key)
        scored = {v: coverage(lo, hi, i, v) for v in variants}
        top = max(scored.values())
        winners = [v for v, c in scored.items() if c == top]
        if top > now and len(winners) == 1:
            new = _with_case(core, winners[0])
            out[i] = lead + new + trail
            parts[i] = (lead, new, trail)
    return out


def drop_stray_stops(tokens: list[str], changeable: list[bool] | None = None) -> list[str]:
    """:func:`keep_positions` without the tokens it emptied (a lone "." is gone)."""
    return [t for t in keep_positions(tokens, changeable) if t]


def _stop_ends_nothing(tok: str) -> bool:
    """A token ending in one full stop that is not an abbreviation's own ("v.v.", "TP.HCM."):
    a word, a document symbol ("NĐ-CP."), a closing quote or comma before it ("bạch”.", "TTHC,.")."""
    if not tok.endswith(".") or tok.endswith(".."):
        return False
    core = tok[:-1].lstrip(_LEAD).rstrip(",;:”’\"')")
    return len(core) >= 2 and "." not in core and any(ch.isalpha() for ch in core)


def keep_positions(tokens: list[str], changeable: list[bool] | None = None) -> list[str]:
    """Full stops that cannot end a sentence dropped: a single "." after a word, alone, or glued
    in front of a word, when the next word starts in lower case; a "." right after a comma.
    One token out per token in: a lone "." becomes "", so callers that map tokens to boxes
    keep their mapping."""
    out = list(tokens)
    for i, tok in enumerate(out):
        if changeable is not None and not changeable[i]:
            continue
        nxt = next((t for t in out[i + 1:] if t), "")
        nxt_core = nxt.lstrip(_LEAD)
        if tok.startswith(".") and not tok.startswith("..") and tok[1:2].islower() and tok[1:].isalpha():
            out[i] = tok[1:]
            continue
        if tok[-2:] in (",.", ";.", ":."):  # a stop right after a comma ends nothing, whatever follows
            out[i] = tok[:-1]
            continue
        if not nxt_core[:1].islower() or not nxt_core[:1].isalpha():
            continue
        if tok in (".", "-.", "·"):
            out[i] = ""
        elif _stop_ends_nothing(tok):
            out[i] = tok[:-1]
    return out


def _makes_word(a: str, b: str, words: frozenset[str]) -> bool:
    """Whether ``a`` and ``b`` are two Vietnamese syllables that together are a two-syllable
    word of the dictionary (``word_pairs()[0]``), whatever their case and tone placement."""
    return (is_vietnamese_syllable(a) and is_vietnamese_syllable(b)
            and f"{_placement(a.casefold())} {_placement(b.casefold())}" in words)


def split_joined(tokens: list[str], changeable: list[bool] | None = None) -> list[str]:
    """Two syllables read as one word ("kếhoạch", "mụctiêu": the space between close glyphs
    lost; "tổ.chức", "Triển-khai": a speck or a stroke read between them) split again: a token
    that is no Vietnamese syllable, but exactly one split of which is two syllables making a
    dictionary word.  One token per token in (the split one holds a space)."""
    words, _ = word_pairs()
    out = list(tokens)
    for i, tok in enumerate(out):
        if changeable is not None and not changeable[i]:
            continue
        lead, core, trail = _core(tok)
        if core.endswith("/"):  # "kếhoạch/ báo cáo"
            core, trail = core[:-1], "/" + trail
        mark = next((m for m in ".-" if core.count(m) == 1), None)
        if mark is not None:
            # "quy.định", "Tổ.chức", "Triển-khai": a speck or a stroke between two syllables of a
            # dictionary word ("kinh tế-xã hội" keeps its hyphen: "tế xã" is no word)
            a, b = core.split(mark)
            if (a.islower() or a.istitle()) and b.islower() and _makes_word(a, b, words):
                out[i] = f"{lead}{a} {b}{trail}"
            continue
        if len(core) < 4 or not _is_word(core) or is_vietnamese_syllable(core):
            continue
        splits = [(core[:k], core[k:]) for k in range(1, len(core)) if _makes_word(core[:k], core[k:], words)]
        if len(splits) == 1:
            out[i] = f"{lead}{splits[0][0]} {splits[0][1]}{trail}"
    return out


def drop_marks_in_words(tokens: list[str], changeable: list[bool] | None = None) -> list[str]:
    """A colon read inside a two-syllable dictionary word dropped: glued to its first syllable
    ("tham: mưu", "chất: lượng") or alone between the two ("nâng : cấp").  A colon never
    splits a word; one between two words is left ("bao gồm: các").  Right text has such pairs
    too ("Quyết định: số 36", "số: từ"): the caller lets only unsure readings change, as for
    the tones.  One token per token in."""
    words, _ = word_pairs()
    out = list(tokens)
    for i in range(len(out) - 1):
        if changeable is not None and not changeable[i]:
            continue
        tok = out[i]
        if tok == ":" and i > 0:
            before, after = _core(out[i - 1])[1], out[i + 1]
        elif tok.endswith(":") and not tok.endswith("::"):
            before, after = tok[:-1], out[i + 1]
        else:
            continue
        if not (before.islower() and after.islower() and _makes_word(before, after, words)):
            continue
        out[i] = "" if tok == ":" else tok[:-1]
    return out


#: The combining diaeresis: no Vietnamese letter carries it, so a letter read with one ("ÿ",
#: "ö", "Ü") is a Vietnamese letter with a speck or the stroke of a stamp over it.
_DIAERESIS = "\u0308"


@lru_cache(maxsize=512)
def lookalike(ch: str) -> str:
    """The Vietnamese letter ``ch`` is drawn like ("ÿ" -> "y", "Ö" -> "O"), or ``ch`` itself."""
    d = unicodedata.normalize("NFD", ch)
    if len(d) < 2 or _DIAERESIS not in d[1:] or not (d[0].isascii() and d[0].isalpha()):
        return ch
    fixed = unicodedata.normalize("NFC", d.replace(_DIAERESIS, ""))
    return fixed if len(fixed) == 1 else ch


def fix_lookalikes(tokens: list[str]) -> list[str]:
    """"sở ÿ tế" -> "sở y tế", "yÿ" -> "y": a letter foreign to Vietnamese replaced by the
    Vietnamese letter it is drawn like, when that makes the word a syllable (a doubled reading
    of the same glyph, "yÿ", is read once)."""
    out = list(tokens)
    for i, tok in enumerate(out):
        if all(lookalike(ch) == ch for ch in tok):
            continue
        lead, core, trail = _core(tok)
        fixed = "".join(lookalike(ch) for ch in core)
        for k in range(len(fixed) - 1):
            if fixed[k].casefold() == fixed[k + 1].casefold() and lookalike(core[k + 1]) != core[k + 1] \
                    and not is_vietnamese_syllable(fixed) and is_vietnamese_syllable(fixed[:k + 1] + fixed[k + 2:]):
                fixed = fixed[:k + 1] + fixed[k + 2:]
                break
        if is_vietnamese_syllable(fixed):
            out[i] = lead + fixed + trail
    return out
