"""Is a page's PDF text layer worth using, or should the page be OCR'd?

A scanned page has no text layer, or a few stray characters (a page number stamped by the
scanner software), or an invisible layer from the scanner's own OCR, which for Vietnamese usually
lost its diacritics ("Ke hoach").  Old documents typed in legacy 8-bit fonts have a full text
layer that is garbage when read as Unicode ("KÕ ho¹ch", "Së Y tÕ" for TCVN3, "Keá hoaïch" for
VNI); fonts without a ToUnicode map come out as "(cid:123)".  None of these should be trusted.

The test is cheap and purely textual, so it can run on every page: enough characters, no broken
glyph markers, few characters that no Vietnamese word contains, few words that are Vietnamese
only with marks they lack ("QUYET", "viec", "Kién": a layer from an OCR that lost or misplaced
diacritics, which may still carry enough marks elsewhere to pass the next test), a share of
Vietnamese letters with diacritics, and words that are Vietnamese syllables.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MIN_CHARS = 30  # fewer non-space characters than this is "no text layer" (a page number, a stamp)
MIN_LETTERS_FOR_LANGUAGE = 40  # below this, language tests are meaningless: trust what is there
MAX_BROKEN_RATIO = 0.03
MAX_LEGACY_RATIO = 0.02
MIN_DIACRITIC_RATIO = 0.08  # Vietnamese prose: ~0.3-0.45 of letters carry a diacritic
MIN_SYLLABLE_RATIO = 0.6
# Words that are Vietnamese only with marks they lack ("viec", "QUYET", "Kién"): a layer made by
# an OCR that lost diacritics.  Real text layers of the samples: 0-1 %; broken layers 20-60 %.
MAX_LOST_MARK_RATIO = 0.08
MIN_WORDS_FOR_LOST_MARKS = 20

_TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
#: Combining marks of the five Vietnamese tones (grave, acute, hook above, tilde, dot below).
TONE_MARKS = frozenset(_TONES[1:])
_BASE_VOWELS = "aăâeêioôơuưy"


def _vietnamese_letters() -> frozenset[str]:
    letters = set("abcdefghijklmnopqrstuvwxyzđ")
    for v in _BASE_VOWELS:
        for t in _TONES:
            letters.add(unicodedata.normalize("NFC", v + t))
    return frozenset(letters | {ch.upper() for ch in letters})


VIETNAMESE_LETTERS = _vietnamese_letters()
ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Typographic characters a Vietnamese document may contain above U+007F.
_ALLOWED_SYMBOLS = frozenset("«»°±×÷–—‘’“”…•€§№")

_NUCLEI = (
    "iêu yêu oai oao oay oeo uây uôi ươi ươu uya uyê uyu uêu "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi ua uâ uê ui uô uơ uy ưa ưi ưu ươ yê "
    "a ă â e ê i o ô ơ u ư y"
).split()
_SYLLABLE = re.compile(
    r"^(ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdđghklmnprstvx])?"
    r"(" + "|".join(sorted(_NUCLEI, key=len, reverse=True)) + r")"
    r"(ch|ng|nh|[cmnpt])?$"
)
# Frequent words of administrative Vietnamese, all with diacritics (so that a layer that lost
# its diacritics does not match); their presence is strong evidence of real text.
_COMMON = frozenset(
    "của và các thực hiện năm được với về những người có là tại này đến "
    "công tác kế hoạch sở tế đơn vị phòng nhiệm vụ quản lý ngày tháng số".split()
)

def fold(text: str) -> str:
    """Lower case without any diacritic (tone or vowel quality) and with d for đ."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# The syllable pattern with every mark folded away: a word that matches it but is no syllable as
# written is a Vietnamese word whose marks were lost or misplaced.
_FOLDED_SYLLABLE = re.compile(
    r"^(ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdghklmnprstvx])?"
    r"(" + "|".join(sorted({fold(n) for n in _NUCLEI}, key=len, reverse=True)) + r")"
    r"(ch|ng|nh|[cmnpt])?$"
)
_BROKEN = re.compile(r"\(cid:\d+\)|[\ufffd\ue000-\uf8ff]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def strip_tone(syllable: str) -> str:
    """Remove tone marks but keep the vowel-quality marks (ă â ê ô ơ ư) and đ."""
    decomposed = unicodedata.normalize("NFD", syllable)
    kept = "".join(ch for ch in decomposed if ch not in TONE_MARKS)
    return unicodedata.normalize("NFC", kept)


def lost_marks(word: str) -> bool:
    """True for a word that is a Vietnamese syllable only with marks it does not carry."""
    return not is_vietnamese_syllable(word) and bool(_FOLDED_SYLLABLE.match(fold(word)))


def is_vietnamese_syllable(word: str) -> bool:
    """True for a well-formed Vietnamese syllable (lower or upper case, at most one tone mark)."""
    w = unicodedata.normalize("NFC", word.lower())
    tones = sum(1 for ch in unicodedata.normalize("NFD", w) if ch in TONE_MARKS)
    if tones > 1:
        return False
    return bool(_SYLLABLE.match(strip_tone(w)))


@dataclass(frozen=True)
class TextQuality:
    """Measurements behind the verdict, so a caller can log why a page went to OCR."""

    chars: int
    letters: int
    broken_ratio: float  # (cid:N), U+FFFD, private-use glyphs per character
    legacy_ratio: float  # characters no Vietnamese word contains (TCVN3/VNI residue) per letter
    diacritic_ratio: float  # letters outside ASCII that are Vietnamese letters, per letter
    syllable_ratio: float  # words with vowels that are valid Vietnamese syllables
    common_ratio: float  # words that are frequent administrative Vietnamese words
    usable: bool
    reason: str  # "ok", "empty", "broken_glyphs", "legacy_encoding", "lost_diacritics", "not_vietnamese"
    lost_mark_ratio: float = 0.0  # words that are Vietnamese only with marks they lack

    @property
    def score(self) -> float:
        """0-1, higher is better: a soft version of ``usable`` for ranking or logging."""
        if self.chars == 0:
            return 0.0
        s = 1.0
        s *= min(1.0, self.chars / (2 * MIN_CHARS))
        s *= max(0.0, 1.0 - self.broken_ratio / MAX_BROKEN_RATIO)
        s *= max(0.0, 1.0 - self.legacy_ratio / (2 * MAX_LEGACY_RATIO))
        if self.letters >= MIN_LETTERS_FOR_LANGUAGE:
            s *= min(1.0, max(self.diacritic_ratio / 0.2, self.common_ratio / 0.1))
        return round(s, 3)


def text_layer_quality(text: str) -> TextQuality:
    """Measure a page's extracted text (any normalisation; it is NFC-normalised here)."""
    text = unicodedata.normalize("NFC", text or "")
    chars = sum(1 for ch in text if not ch.isspace())
    broken = len(_BROKEN.findall(text))
    letters = [ch for ch in text if ch.isalpha()]
    n_letters = len(letters)
    legacy = sum(
        1 for ch in text
        if ord(ch) > 0x7F and not ch.isspace() and ch not in VIETNAMESE_LETTERS and ch not in _ALLOWED_SYMBOLS
        and not ("\u2000" <= ch <= "\u206f")  # general punctuation: dashes, quotes, bullets
    )
    diacritic = sum(1 for ch in letters if ch not in ASCII_LETTERS and ch in VIETNAMESE_LETTERS)
    words = [w for w in _WORD.findall(text)]
    vowel_words = [w for w in words if any(strip_tone(ch.lower()) in _BASE_VOWELS for ch in w)]
    # acronyms (UBND, CCHC) are not syllables and say nothing about the language
    judged = [w for w in vowel_words if not (w.isupper() and len(w) > 1 and not is_vietnamese_syllable(w))]
    syllables = sum(1 for w in judged if is_vietnamese_syllable(w))
    common = sum(1 for w in words if w.lower() in _COMMON)
    # every word with a vowel counts here, capitals too: a title that lost its marks ("QUYET
    # DINH", "KE HOACH") is not an acronym
    lost = sum(1 for w in vowel_words if len(w) > 1 and lost_marks(w))
    lost_ratio = lost / len(vowel_words) if vowel_words else 0.0

    broken_ratio = broken / max(1, chars)
    legacy_ratio = legacy / max(1, n_letters)
    diacritic_ratio = diacritic / max(1, n_letters)
    syllable_ratio = syllables / len(judged) if judged else 1.0
    common_ratio = common / len(words) if words else 0.0

    if chars < MIN_CHARS:
        usable, reason = False, "empty"
    elif broken_ratio > MAX_BROKEN_RATIO:
        usable, reason = False, "broken_glyphs"
    elif legacy_ratio > MAX_LEGACY_RATIO:
        usable, reason = False, "legacy_encoding"
    elif len(vowel_words) >= MIN_WORDS_FOR_LOST_MARKS and lost_ratio > MAX_LOST_MARK_RATIO:
        usable, reason = False, "lost_diacritics"
    elif n_letters >= MIN_LETTERS_FOR_LANGUAGE and not (
        (diacritic_ratio >= MIN_DIACRITIC_RATIO and syllable_ratio >= MIN_SYLLABLE_RATIO)
        or common_ratio >= 0.05
    ):
        usable, reason = False, "not_vietnamese"
    else:
        usable, reason = True, "ok"
    return TextQuality(
        chars=chars,
        letters=n_letters,
        broken_ratio=round(broken_ratio, 4),
        legacy_ratio=round(legacy_ratio, 4),
        diacritic_ratio=round(diacritic_ratio, 4),
        syllable_ratio=round(syllable_ratio, 4),
        common_ratio=round(common_ratio, 4),
        usable=usable,
        reason=reason,
        lost_mark_ratio=round(lost_ratio, 4),
    )


def text_layer_usable(text: str) -> bool:
    """True when the page's text layer can be used as is; False means: OCR this page (or, for
    ``text_layer_quality(text).reason == "legacy_encoding"``, convert the legacy font first)."""
    return text_layer_quality(text).usable
