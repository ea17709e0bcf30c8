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
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from extractors.model import clean_text
from extractors.ocr_words import (
    drop_marks_in_words,
    fix_lookalikes,
    keep_positions,
    repair_tones,
    split_joined,
    toneless,
    word_pairs,
)
from extractors.text_quality import TONE_MARKS, is_vietnamese_syllable

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


def _split_punct(window: list[str], slashed: bool = False) -> tuple[str, list[str], str] | None:
    """(lead, core words, trail) of a window of tokens: punctuation off its ends; with
    ``slashed``, also a word joined by a slash before the first or after the last ("mới/sửa đối,
    bổ sung": the term starts after the slash), for windows of two tokens or more."""
    first, last = window[0], window[-1]
    head = tail = ""
    if slashed and len(window) > 1:
        cut = first.rfind("/") + 1
        head = first[:cut] if 1 < cut < len(first) else ""
        cut = last.find("/")
        tail = last[cut:] if 0 < cut < len(last) - 1 else ""
    first, last = first[len(head):], last[: len(last) - len(tail)]
    lead = head + first[: len(first) - len(first.lstrip(_LEAD))]
    trail = last[len(last.rstrip(_TRAIL)):] + tail
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
    _fix_date_frame(out)
    for i, tok in enumerate(out):
        if confs is not None and confs[i] < ABBREVIATION_MAX_CONF:
            out[i] = _fix_abbreviation(tok, lex, attested)
    correct_phrases(out, confs, lex, max_conf)
    # a speck read as a full stop, two syllables run together: safe without confidences (they
    # never change right text); a lone "." becomes "" (one token per token in).  A tone repair
    # only where the engine was unsure.
    out = split_joined(fix_lookalikes(keep_positions(out)))
    tone_gate = max_conf if tone_max_conf is None else tone_max_conf
    unsure = None if confs is None else [c < tone_gate for c in confs]
    return repair_tones(drop_marks_in_words(out, unsure), unsure)


def correct_phrases(out: list[str], confs: list[float] | None, lex: Lexicon, max_conf: float = 100.0) -> None:
    """The lexicon's phrases in ``out``, in place (one token per token): its fixed rewrites of
    readings that are never Vietnamese, whatever the confidence; then near-misses of its
    multi-word terms, longest first: a window whose letters are a term's, diacritics aside,
    within the edit distance its length allows, where the engine was unsure of one of its words
    (below ``max_conf``).  Also over the lines of a cell joined (a phrase broken by a line end)."""
    _apply_rewrites(out, lex)
    sizes = sorted((n for n in lex.by_size if n >= 2), reverse=True)
    i = 0
    while i < len(out):
        step = 1
        for n in sizes:
            if i + n > len(out):
                continue
            parts = _split_punct(out[i: i + n], slashed=True)
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


_DAY_MONTH = re.compile(r"^\d{1,2}$")
_YEAR = re.compile(r"^\d{4}[.,;:)]*$")


def _fix_date_frame(out: list[str]) -> None:
    """The frame words of a written date, in place: in "… <n> tháng <n> năm <yyyy>" the word
    between the day and the month is "tháng", and the word before the day "ngày", whatever
    one misread letter made of them ("thúng", "ngảy"); their numbers say what they are, so no
    confidence is needed.  Only a word one letter (diacritics aside) from the frame word."""
    for i in range(1, len(out) - 3):
        if not (_DAY_MONTH.match(out[i - 1]) and _DAY_MONTH.match(out[i + 1])
                and out[i + 2].casefold() == "năm" and _YEAR.match(out[i + 3])):
            continue
        for j, word in ((i, "tháng"), (i - 2, "ngày")):
            if j < 0 or out[j].casefold() == word or not out[j].isalpha():
                continue
            if len(out[j]) == len(word) and Levenshtein.distance(base_letters(out[j]), base_letters(word)) <= 1:
                out[j] = _transfer_case(out[j], word)


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
    :data:`ABBREVIATION_MAX_CONF`.  Only substitutions, and the splits of one capital into two
    glyphs the engine makes ("CCHOG" for CCHC: extractors/data/ocr_glyph_splits.yaml): the
    engine misreads a glyph as another, it rarely invents or loses a whole capital, while a
    shorter or longer real abbreviation is common ("BXH" is not a misread "BHXH").  A valid
    abbreviation is never rewritten: a listed one, or one attested on the page."""
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
    if not close:  # one capital read as two glyphs ("CCHOG")
        close = list(dict.fromkeys(a for a in _unsplit(core) if a in lex.abbreviations))
    if len(close) != 1 or len(close[0]) < 4:
        return token
    return lead + close[0] + trail


GLYPH_SPLITS = Path(__file__).resolve().parent / "data" / "ocr_glyph_splits.yaml"


@lru_cache(maxsize=1)
def _glyph_splits() -> tuple[tuple[str, str], ...]:
    """(two glyphs as read, the capital printed) of extractors/data/ocr_glyph_splits.yaml."""
    import yaml

    data = yaml.safe_load(GLYPH_SPLITS.read_text(encoding="utf-8")) or {}
    return tuple((pair, glyph) for glyph, pairs in data.items() for pair in pairs)


def _unsplit(core: str) -> list[str]:
    """``core`` with one glyph split put back, at each place it occurs ("CCHOG" → ["CCHC"])."""
    out = []
    for pair, glyph in _glyph_splits():
        start = core.find(pair)
        while start >= 0:
            out.append(core[:start] + glyph + core[start + len(pair):])
            start = core.find(pair, start + 1)
    return out


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


# --------------------------------------------------------------------------- page evidence

#: A word pair read elsewhere on the page replaces a reading of the same letters only when it is
#: at least as frequent there and this much more confident, or twice as frequent and not this
#: much less confident (Tesseract's word confidences differ by tenths between a right and a
#: wrong accent): what recurs on a page (indicator names in a table, a unit's name) is printed the
#: same way each time, and Tesseract's lost accents ("phục hôi", "cộng đông", "khuyêt") are
#: one-off readings next to correct ones.
PAGE_VARIANT_GAIN = 3.0


@dataclass
class _Variant:
    count: int = 0
    conf: float = -1.0  # best (over occurrences) of the pair's lower word confidence
    cased: str | None = None  # the most confident occurrence not in all capitals
    cased_conf: float = -1.0


def _pair_core(a: str, b: str) -> tuple[str, str, str, str] | None:
    """(lead, first, second, trail) of two tokens, when both cores are words of letters only."""
    parts = _split_punct([a, b])
    if parts is None:
        return None
    lead, (x, y), trail = parts
    if not (x.isalpha() and y.isalpha()):
        return None
    return lead, x, y, trail


def _spelling(text: str) -> tuple[str, tuple[str, ...]]:
    """A text's letters without tone marks and the tone of each word: "hoá" and "hóa" are the
    same word written in the old and the new tone placement, which one page may mix."""
    words = unicodedata.normalize("NFD", text.casefold()).split(" ")
    return (" ".join("".join(ch for ch in w if ch not in TONE_MARKS) for w in words),
            tuple("".join(ch for ch in w if ch in TONE_MARKS) for w in words))


def _pairs(tokens: list[str]) -> Iterator[tuple[int, str, str, str, str]]:
    """(index, lead, first, second, trail) of each pair of letter words; reads ``tokens`` as it
    goes, so a pair sees the change made to the pair before it."""
    for i in range(len(tokens) - 1):
        core = _pair_core(tokens[i], tokens[i + 1])
        if core is not None:
            yield (i, *core)


def _in_dictionary(pair: str) -> bool:
    """Whether a word pair ("a b", any case and tone placement) is a two-syllable word of the
    dictionary the OCR word repairs use (underthesea's Viet74K)."""
    a, b = pair.split(" ")
    return any(_spelling(f"{x} {y}") == _spelling(pair)
               for x, y in word_pairs()[1].get((toneless(a), toneless(b)), ()))


def _all_caps(text: str) -> bool:
    return len(text) > 1 and text.isupper()


class PagePhrases:
    """Word pairs as read on one page (every line and cell), grouped by their letters without
    diacritics, to put a one-off misreading right by the page's own other readings of the
    same pair, when that reading is a two-syllable word of the dictionary.  Pairs across
    punctuation or with digits are not used."""

    def __init__(self, lines: list[tuple[list[str], list[float]]]) -> None:
        self.groups: dict[str, dict[str, _Variant]] = {}
        for tokens, confs in lines:
            for i, _, x, y, _ in _pairs(tokens):
                text = f"{x} {y}"
                v = self.groups.setdefault(base_letters(text), {}).setdefault(text.casefold(), _Variant())
                conf = min(confs[i], confs[i + 1])
                v.count += 1
                v.conf = max(v.conf, conf)
                if not (_all_caps(x) or _all_caps(y)) and conf > v.cased_conf:
                    v.cased, v.cased_conf = text, conf

    @staticmethod
    def _beats(v: _Variant, w: _Variant) -> bool:
        return ((v.count >= w.count and v.conf >= w.conf + PAGE_VARIANT_GAIN)
                or (v.count >= 2 * w.count and v.conf >= w.conf - PAGE_VARIANT_GAIN))

    def _better(self, key: str, read: str) -> str | None:
        """The diacritic form of the pair that beats the reading ``read`` (casefolded) and every
        other form that does; None when there is none or no single one."""
        variants = self.groups.get(key, {})
        own = variants.get(read)
        if own is None:
            return None
        winners = [form for form, v in variants.items()
                   if _spelling(form) != _spelling(read) and all(is_vietnamese_syllable(s) for s in form.split(" "))
                   and self._beats(v, own)]
        best = [f for f in winners if all(g == f or self._beats(variants[f], variants[g]) for g in winners)]
        if len(best) != 1:
            return None
        # only into a word of the dictionary: two words side by side are not one word ("bộ của"
        # is not a misread "bố của"), and a word is not made a non-word however often the page
        # misreads it the same way ("đôn đốc" read "đồn đốc" twice)
        return best[0] if _in_dictionary(best[0]) else None

    def harmonise(self, tokens: list[str], confs: list[float]) -> list[str]:
        """Tokens of one line with each pair that the page reads better elsewhere replaced by
        that reading: its diacritics in the case of the reading; or, for a lone word in
        capitals before or after a lower-case word ("SỐ xã"), the case of a more confident
        reading of the same pair ("Số xã").  Punctuation around the pair is kept."""
        out = list(tokens)
        for i, lead, x, y, trail in _pairs(out):
            read = f"{x} {y}"
            key = base_letters(read)
            best = self._better(key, read.casefold())
            if best is not None:
                form = _transfer_case(read, best)
            else:
                own = self.groups.get(key, {}).get(read.casefold())
                lone_caps = (_all_caps(x) and y.islower()) or (x.islower() and _all_caps(y))
                if (own is None or own.cased is None or not lone_caps
                        or own.cased_conf < min(confs[i], confs[i + 1]) + PAGE_VARIANT_GAIN):
                    continue
                form = own.cased
            a, b = form.split(" ")
            if (a, b) != (x, y):
                out[i], out[i + 1] = lead + a, b + trail
        return out
