"""Post-correction of OCR text against a lexicon of administrative terms.

Tesseract's Vietnamese errors are mostly one wrong diacritic inside a word it otherwise read well
("Cống thông tin" for "Cổng thông tin", "sửa đối" for "sửa đổi", "GIÁM ĐỌC").  When a run of
words has exactly the letters of a known multi-word term and differs only in diacritics, the term
is what was printed.  Letter-level fuzzy matching was tried and rejected: administrative
Vietnamese is full of valid phrases one or two letters apart ("nghĩa vụ tài chính" / "Sở Tài
chính", "Ban Chỉ đạo" / "Chỉ số"), and it raised the character error rate (bench/RESULTS.md).
Only confident cases are corrected: terms of at least two words and eight characters, never
across digits or punctuation, and the case of what was read is kept.
A second, structural fix turns the classic misreadings of Roman section numerals ("H." for
"II.", "VH" for "VII", "VỊ." for "VI.") back at the start of a line or cell.

The lexicon lives in ``extractors/data/ocr_lexicon.txt`` (one term per line, ``#`` comments).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from extractors.model import clean_text
from extractors.ocr_words import fix_lookalikes, keep_positions, repair_tones, split_joined
from extractors.text_quality import is_vietnamese_syllable

DEFAULT_LEXICON = Path(__file__).resolve().parent / "data" / "ocr_lexicon.txt"
MIN_TERM_CHARS = 8  # shorter terms: a near miss is too often another real word
_LEAD = "([\"'“‘-–"
_TRAIL = ".,;:)\"'”’!?"


def _max_distance(n_chars: int) -> int:
    if n_chars < 12:
        return 1
    if n_chars < 24:
        return 2
    return 3


@dataclass(frozen=True)
class Lexicon:
    """Terms grouped by their number of words (case-folded keys for matching), abbreviations
    (single all-capital words: "QLHN", "TTYT"), and fixed rewrites of phrases that are never
    Vietnamese ("chỉ cục" -> "chi cục"), written ``wrong => right`` in the file."""

    terms: tuple[str, ...]
    by_size: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    exact: frozenset[str] = frozenset()
    abbreviations: tuple[str, ...] = ()
    rewrites: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()

    @classmethod
    def from_terms(cls, terms: list[str]) -> Lexicon:
        rewrites = []
        plain = []
        for t in terms:
            if "=>" in t:
                wrong, right = (clean_text(x) for x in t.split("=>", 1))
                if wrong and right and len(wrong.split(" ")) == len(right.split(" ")):
                    rewrites.append((tuple(wrong.casefold().split(" ")), tuple(right.split(" "))))
            else:
                plain.append(clean_text(t))
        clean = [t for t in dict.fromkeys(plain) if t]
        abbreviations = tuple(t for t in clean if " " not in t and _is_abbreviation(t))
        by: dict[int, list[str]] = {}
        for t in clean:
            by.setdefault(len(t.split(" ")), []).append(t)
        by_size = {n: (tuple(ts), tuple(t.casefold() for t in ts)) for n, ts in by.items()}
        return cls(terms=tuple(clean), by_size=by_size, exact=frozenset(t.casefold() for t in clean),
                   abbreviations=abbreviations, rewrites=tuple(rewrites))

    @classmethod
    def load(cls, path: str | Path = DEFAULT_LEXICON) -> Lexicon:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return cls.from_terms([ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")])


def _is_abbreviation(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters) and not any(c.isdigit() for c in token)


@lru_cache(maxsize=4)
def load_lexicon(path: str | Path = DEFAULT_LEXICON) -> Lexicon:
    """The lexicon at ``path``, read once per process (it is immutable)."""
    return Lexicon.load(path)


def base_letters(text: str) -> str:
    """Case-folded text without any diacritic (đ -> d): what is left when every accent is wrong."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _transfer_case(read: str, term: str) -> str:
    """Write ``term`` in the case the text was printed in (all caps, capitalised, as is)."""
    out = []
    for r, t in zip(read.split(" "), term.split(" "), strict=False):
        if len(r) > 1 and r.isupper():
            out.append(t.upper())
        elif r[:1].isupper() and t[:1].islower():
            out.append(t[:1].upper() + t[1:])
        elif r.islower() and t.isupper() and len(t) > 1:
            out.append(t.lower())  # a heading term read in running text
        elif r[:1].islower() and t[:1].isupper() and not (len(t) > 1 and t.isupper()):
            out.append(t[:1].lower() + t[1:])
        else:
            out.append(t)
    return " ".join(out)


def _split_punct(window: list[str]) -> tuple[str, list[str], str] | None:
    first, last = window[0], window[-1]
    lead = first[: len(first) - len(first.lstrip(_LEAD))]
    trail = last[len(last.rstrip(_TRAIL)):]
    core = list(window)
    core[0] = core[0][len(lead):]
    core[-1] = core[-1][: len(core[-1]) - len(trail)] if trail else core[-1]
    if any(not tok for tok in core):
        return None
    return lead, core, trail


def correct_tokens(
    tokens: list[str],
    confs: list[float] | None = None,
    lexicon: Lexicon | None = None,
    max_conf: float = 100.0,
    line_start: bool = True,
    attested: frozenset[str] = frozenset(),
    tone_max_conf: float | None = None,
) -> list[str]:
    """Tokens (words as read, punctuation attached) with near-misses of lexicon terms replaced,
    longest terms first; one token out per token in.

    With ``confs``, a window is only corrected when the engine was unsure of at least one of
    its words (confidence below ``max_conf``): a misprint in the document itself ("nhiệm vụ trong
    tâm") is read with full confidence and must stay as printed.  ``attested`` are words read
    with confidence elsewhere on the page: an abbreviation among them is real and is kept.
    """
    lex = lexicon or load_lexicon()
    out = list(tokens)
    if line_start and out:
        out[0] = _fix_roman_prefix(out[0], alone=len(out) == 1)
    _apply_rewrites(out, lex)
    for i, tok in enumerate(out):
        if confs is not None and confs[i] < ABBREVIATION_MAX_CONF:
            out[i] = _fix_abbreviation(tok, lex, attested)
    sizes = sorted((n for n in lex.by_size if n >= 2), reverse=True)
    i = 0
    while i < len(out):
        step = 1
        for n in sizes:
            if i + n > len(out):
                continue
            parts = _split_punct(out[i: i + n])
            if parts is None:
                continue
            lead, core, trail = parts
            read = " ".join(core)
            key = read.casefold()
            if key in lex.exact:
                step = n
                break
            if len(read) < MIN_TERM_CHARS or any(ch.isdigit() for ch in read):
                continue
            if confs is not None and min(confs[i: i + n]) >= max_conf:
                continue
            terms, keys = lex.by_size[n]
            best = process.extractOne(key, keys, scorer=Levenshtein.distance,
                                      score_cutoff=_max_distance(len(read)))
            if best is None or best[1] == 0:
                continue
            term = terms[best[2]]
            if len(term) < MIN_TERM_CHARS or base_letters(term) != base_letters(read):
                continue
            fixed = _transfer_case(read, term).split(" ")
            fixed[0] = lead + fixed[0]
            fixed[-1] = fixed[-1] + trail
            out[i: i + n] = fixed
            step = n
            break
        i += step
    # a speck read as a full stop, two syllables run together: safe without confidences (they
    # never change right text); a lone "." becomes "" (one token per token in).  A tone repair
    # only where the engine was unsure.
    out = split_joined(fix_lookalikes(keep_positions(out)))
    tone_gate = max_conf if tone_max_conf is None else tone_max_conf
    return repair_tones(out, None if confs is None else [c < tone_gate for c in confs])


def _apply_rewrites(out: list[str], lex: Lexicon) -> None:
    """Fixed rewrites, in place, whatever the confidence: the wrong side is not Vietnamese."""
    for wrong, right in lex.rewrites:
        n = len(wrong)
        for i in range(len(out) - n + 1):
            parts = _split_punct(out[i: i + n])
            if parts is None:
                continue
            lead, core, trail = parts
            if tuple(t.casefold() for t in core) == wrong:
                fixed = _transfer_case(" ".join(core), " ".join(right)).split(" ")
                fixed[0] = lead + fixed[0]
                fixed[-1] = fixed[-1] + trail
                out[i: i + n] = fixed


#: Prior odds that an all-capital word near a listed abbreviation is that abbreviation misread
#: rather than another, unlisted abbreviation printed as read (TTPC, BXH are real): 4 to 1.
ABBREVIATION_PRIOR_ODDS = 4.0
#: The reading is replaced only when it is more likely wrong than right:
#: P(misread) / P(right) * prior odds > 1 with P(misread) = 1 - conf/100, i.e. conf below 80.
ABBREVIATION_MAX_CONF = 100.0 * ABBREVIATION_PRIOR_ODDS / (1.0 + ABBREVIATION_PRIOR_ODDS)


def _fix_abbreviation(token: str, lex: Lexicon, attested: frozenset[str] = frozenset()) -> str:
    """An all-capital word that differs by one substituted letter from exactly one listed
    abbreviation, and is itself neither listed nor read with confidence elsewhere on the page,
    is that abbreviation ("QUHN" -> "QLHN", "TIYT" -> "TTYT").

    Only when that is more likely than the reading: the caller passes words read below
    :data:`ABBREVIATION_MAX_CONF`.  Only substitutions: the engine misreads a glyph as another,
    it rarely invents or loses a whole capital, while a shorter or longer real abbreviation is
    common ("BXH" is not a misread "BHXH").  A valid abbreviation is never rewritten: a listed
    one, or one attested on the page."""
    parts = _split_punct([token])
    if parts is None:
        return token
    lead, (core,), trail = parts
    if not _is_abbreviation(core) or core in lex.abbreviations or core in attested or len(core) > 10:
        return token
    # a Vietnamese word in capitals ("KHẮC", "KHAC" in a heading) is not an abbreviation
    if any(ord(c) > 127 and c != "Đ" for c in core) or is_vietnamese_syllable(core):
        return token
    close = [a for a in lex.abbreviations if len(a) == len(core) and Levenshtein.distance(a, core) == 1]
    if len(close) != 1 or len(close[0]) < 4:
        return token
    return lead + close[0] + trail


def correct_text(text: str, lexicon: Lexicon | None = None) -> str:
    """Ungated text-level correction (no confidences known): use only on text known to be OCR."""
    return unicodedata.normalize("NFC", " ".join(correct_tokens(text.split(" ") if text else [], None, lexicon)))


_I_LOOKALIKES = "ỊÌÍỈĨ"
_ROMAN_TOKEN = re.compile(r"^([IVXHl" + _I_LOOKALIKES + r"]{1,6})([.),]?)$")
_VALID_ROMAN = re.compile(r"^(?=[IVX])X{0,3}(IX|IV|VI{0,3}|I{0,3})$")


def _fix_roman_prefix(token: str, alone: bool = False) -> str:
    """'H.' -> 'II.', 'VH' -> 'VII', 'VỊ.' -> 'VI.', 'V,' -> 'V.': Tesseract reads two serif I's
    as H, a bold I as l, an I with a speck under it as the Vietnamese Ị, and the period of a
    bold numeral as a comma.  Applied to the first token of a line or cell only.  A token is
    changed only when it is made of Roman-numeral look-alikes, becomes a valid numeral, and is
    followed by "." / ")" / "," or stands alone (so "Vì vậy" and "Hà Nội" are never touched)."""
    m = _ROMAN_TOKEN.match(token)
    if not m:
        return token
    core, punct = m.groups()
    lookalikes = "Hl" + _I_LOOKALIKES
    has_lookalike = any(c in lookalikes for c in core)
    if not (punct or alone) or not (has_lookalike or punct == ","):
        return token
    if "l" in core and not any(c in core for c in "IVXH" + _I_LOOKALIKES):
        return token  # a lone "l" is more likely an item letter than a numeral
    fixed = core.replace("H", "II").replace("l", "I")
    for c in _I_LOOKALIKES:
        fixed = fixed.replace(c, "I")
    if not _VALID_ROMAN.match(fixed):
        return token
    return fixed + ("." if punct == "," else punct)
