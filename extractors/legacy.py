"""Legacy Vietnamese 8-bit font encodings (TCVN3/ABC and VNI) to Unicode NFC.

Before Unicode, Vietnamese offices typed with fonts whose glyphs sit on Latin-1 codes: the PDF
or DOCX then *shows* "Kế hoạch" while its text says "KÕ ho¹ch" (TCVN3, ``.VnTime``) or
"Keá hoaïch" (VNI, ``VNI-Times``).  Only the font name tells which reading is meant, so the
extractors look at it per character (PDF) or per run (DOCX) and call :func:`decode`.

* TCVN3 (TCVN 5712:1993 "VN3", the ABC fonts ``.VnTime``, ``.VnArial`` …) gives each lowercase
  letter one code; capitals with tones have no code, so typists switch to the ``…H`` fonts
  (``.VnTimeH``), capitals-only fonts that draw the lowercase codes (and a-z) as capitals.
  ``extractors/data/tcvn3.csv`` was generated once from glibc's ``TCVN5712-1`` converter (the
  larger VN1 set); rows marked ``vn3`` are the ABC letters, ``vn1`` the extra capitals with tones.
  VN1 capitals at 0x80-0x9F are *not* decoded: in Windows fonts those codes are the cp1252
  quotes, dashes and ellipsis, which legacy documents use far more often.
* VNI (``VNI-Times``, ``VNI-Helve`` …) writes a letter as a base letter followed by a mark
  character (``a`` + ``ù`` = ``á``), with a few single-character letters (``ô`` = ``ơ``,
  ``ñ`` = ``đ``).  ``extractors/data/vni.csv`` holds all 134 letters.

Text from a legacy font can reach us as Latin-1 characters, cp1252 punctuation, raw C1 controls
or Private Use Area codes (U+F000 + byte, for "symbol" fonts); :func:`to_byte_char` folds them all
to the Latin-1 character of the byte code before the tables apply.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Literal

Encoding = Literal["tcvn3", "tcvn3_upper", "vni"]
ENCODINGS: tuple[str, ...] = ("tcvn3", "tcvn3_upper", "vni")

_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
# VNI fonts: "VNI-Times", "VNI Helve", "VNI-Times-Bold", "VNITimes".
_VNI_NAME = re.compile(r"^(?:VNI|Vni|vni)(?:[-_ ]|(?=[A-Z]))")
# ABC/TCVN3 fonts: ".VnTime", "VnTimeH-Bold", ".VnArial NarrowH" (PostScript names drop the dot).
_TCVN3_NAME = re.compile(r"^[._]?(?:Vn|VN|vn)(?=[A-Za-z])")
# Style suffixes PDF producers append to a family name: "VnTimeH-Bold", ".VnTimeH,BoldItalic".
_STYLE_SUFFIX = re.compile(
    r"(?:[-,_ ]?(?:Bold|Italic|Oblique|Regular|Roman|Normal|Medium|Light|Semibold|Demi|PSMT|MT|PS))+$",
    re.IGNORECASE,
)
_SUPERSCRIPTS = frozenset("¹²³")
_VNI_NON_VIETNAMESE = frozenset("øûïåäëüñöæîØÛÏÅÄËÜÑÖÆÎ")


def _data(name: str) -> list[dict[str, str]]:
    with resources.files(__package__).joinpath("data", name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def _tcvn3_tables() -> tuple[dict[str, str], dict[str, str]]:
    """(decode, encode).  Decode: Latin-1 char of a byte -> Unicode, the VN3 letters plus the VN1
    capitals outside 0x80-0x9F.  Encode: Unicode -> VN3 code (what an ABC keyboard types)."""
    decode_table: dict[str, str] = {}
    encode_table: dict[str, str] = {}
    for row in _data("tcvn3.csv"):
        code, uni = chr(int(row["code"], 16)), chr(int(row["codepoint"][2:], 16))
        if row["subset"] == "vn3" or not 0x80 <= ord(code) <= 0x9F:
            decode_table[code] = uni
        if row["subset"] == "vn3":
            encode_table[uni] = code
    return decode_table, encode_table


@lru_cache(maxsize=1)
def _vni_tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(pairs, singles, encode): base+mark sequences, one-character letters, Unicode -> sequence.

    Pairs are also accepted with the mark in the other case ("Aù"), taking the base letter's case,
    because hand-edited documents mix them and the mark characters mean nothing on their own.
    """
    pairs: dict[str, str] = {}
    singles: dict[str, str] = {}
    encode: dict[str, str] = {}
    for row in _data("vni.csv"):
        seq, char = row["sequence"], unicodedata.normalize("NFC", row["char"])
        encode[char] = seq
        (pairs if len(seq) == 2 else singles)[seq] = char
    for seq, char in list(pairs.items()):
        base, mark = seq
        other = base + (mark.lower() if mark.isupper() else mark.upper())
        if other not in pairs:
            pairs[other] = char.upper() if base.isupper() else char.lower()
    return pairs, singles, encode


def legacy_encoding(fontname: str | None) -> Encoding | None:
    """The legacy encoding a font name implies, or None for a Unicode (or unknown) font.

    Subset prefixes ("ABCDEF+") and style suffixes ("-Bold", ",Italic") are ignored; a TCVN3
    family whose name ends in "H" is a capitals-only font ("tcvn3_upper").
    """
    if not fontname:
        return None
    name = _SUBSET_PREFIX.sub("", fontname.strip())
    if _VNI_NAME.match(name):
        return "vni"
    if _TCVN3_NAME.match(name):
        family = _STYLE_SUFFIX.sub("", name).rstrip("-,_ ")
        return "tcvn3_upper" if family.endswith("H") else "tcvn3"
    return None


def to_byte_char(ch: str) -> str:
    """Fold one character of legacy-font text to the Latin-1 character of its byte code.

    PUA codes (U+F000 + byte) come from fonts flagged as symbolic; cp1252 punctuation (“ – …)
    stays as it is, because that is what those codes show in legacy fonts too.
    """
    o = ord(ch) if len(ch) == 1 else -1
    if 0xF000 <= o <= 0xF0FF:
        ch, o = chr(o - 0xF000), o - 0xF000
    if 0x80 <= o <= 0x9F:  # a raw C1 byte: show it as the cp1252 character it is drawn as
        return bytes([o]).decode("cp1252", "ignore") or ch
    return ch


def decode(text: str, encoding: str, *, keep_superscripts: bool = False) -> str:
    """Decode text typed in a legacy font to Unicode NFC.  ASCII passes through unchanged
    (upper-cased for the capitals-only TCVN3 fonts).

    ``keep_superscripts``: leave a TCVN3 "¹²³" with no letter beside it in ``text`` as it is
    (see :func:`keeps_superscript`).  Only meaningful when ``text`` is a whole line or word;
    the PDF decoder checks a glyph's neighbours on the page itself.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown legacy encoding {encoding!r}")
    text = "".join(to_byte_char(c) for c in text)
    if encoding == "vni":
        out = _decode_vni(text)
    else:
        table = _tcvn3_tables()[0]
        out = "".join(
            c
            if keep_superscripts and keeps_superscript(text[i - 1 : i], c, text[i + 1 : i + 2])
            else table.get(c, c)
            for i, c in enumerate(text)
        )
        if encoding == "tcvn3_upper":
            out = "".join(_upper1(c) for c in unicodedata.normalize("NFC", out))
    return unicodedata.normalize("NFC", out)


def keeps_superscript(before: str, ch: str, after: str) -> bool:
    """True for a TCVN3 "¹", "²" or "³" with no letter on either side: there it is a footnote
    mark (⁽¹⁾), not "ạ" or a tone mark, which never stand alone in running text."""
    return ch in _SUPERSCRIPTS and not _is_letter_code(before) and not _is_letter_code(after)


def _is_letter_code(c: str) -> bool:
    return bool(c) and (c.isalpha() or _tcvn3_tables()[0].get(c, c).isalpha())


def _upper1(c: str) -> str:
    u = c.upper()
    return u if len(u) == 1 else c


def _decode_vni(text: str) -> str:
    pairs, singles, _ = _vni_tables()
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if len(pair) == 2 and pair in pairs:
            out.append(pairs[pair])
            i += 2
            continue
        out.append(singles.get(text[i], text[i]))
        i += 1
    return "".join(out)


def encode(text: str, encoding: str) -> str:
    """Inverse of :func:`decode` (Unicode -> the Latin-1 characters a legacy font would show).

    Used to build test data.  Raises ValueError for a letter the encoding cannot write, such as
    a capital with a tone in plain "tcvn3" (the typist would have used an H font).
    """
    text = unicodedata.normalize("NFC", text)
    if encoding == "tcvn3_upper":
        text, encoding = text.lower(), "tcvn3"
    if encoding == "tcvn3":
        table = _tcvn3_tables()[1]
    elif encoding == "vni":
        table = _vni_tables()[2]
    else:
        raise ValueError(f"unknown legacy encoding {encoding!r}")
    out: list[str] = []
    for c in text:
        if c in table:
            out.append(table[c])
        elif c in _VIETNAMESE_LETTERS and not c.isascii():
            raise ValueError(f"{c!r} has no code in {encoding}")
        else:
            out.append(c)
    return "".join(out)


def _vietnamese_letters() -> frozenset[str]:
    bases = "aăâeêioôơuưy"
    tones = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
    lower = {unicodedata.normalize("NFC", b + t) for b in bases for t in tones} | {"đ"}
    return frozenset(lower | {c.upper() for c in lower})


_VIETNAMESE_LETTERS = _vietnamese_letters()
# Letters only Unicode can produce: no legacy 8-bit text decodes to them before conversion.
_UNICODE_ONLY_LETTERS = frozenset(c for c in _VIETNAMESE_LETTERS if ord(c) > 0xFF)
_WORD_CHAR = re.compile(r"\w", re.UNICODE)


@lru_cache(maxsize=1)
def _vni_sequence() -> re.Pattern[str]:
    return re.compile("|".join(re.escape(k) for k in _vni_tables()[0]))


def has_unicode_vietnamese(text: str) -> bool:
    """True if the text holds a Vietnamese letter outside Latin-1 (ư, ơ, đ, ạ, ế …): then it is
    real Unicode, and decoding it as a legacy encoding would corrupt it."""
    return any(c in _UNICODE_ONLY_LETTERS for c in text)


def guess_legacy_encoding(text: str, min_signals: int = 3) -> Encoding | None:
    """Guess "tcvn3" or "vni" for text whose font is unknown, from its character statistics.

    TCVN3 puts its most frequent letters (a with tones, ă â ê ô ơ ư đ) on Latin-1 *symbols*
    0xA1-0xBF (¸ ¹ µ ® ­ …) that sit inside words; VNI writes marks as Latin-1 letters right after
    a vowel (aù, eâ, oï).  Real Unicode Vietnamese always has letters beyond Latin-1 (ư, ơ, ạ, ế),
    which legacy text never has.
    """
    latin = [i for i, c in enumerate(text) if 0xA0 < ord(c) <= 0xFF or 0xF0A0 < ord(c) <= 0xF0FF]
    if len(latin) < min_signals:
        return None
    unicode_only = sum(c in _UNICODE_ONLY_LETTERS for c in text)
    if unicode_only > 0.1 * len(latin):
        return None
    folded = "".join(to_byte_char(c) for c in text)
    tcvn_signals = sum(1 for i in latin if 0xA1 <= ord(folded[i]) <= 0xBF and _in_word(folded, i))
    if tcvn_signals >= min_signals and tcvn_signals >= 0.3 * len(latin):
        return "tcvn3"
    vni_chars = sum(len(m.group()) - 1 for m in _vni_sequence().finditer(folded))
    vni_chars += sum(folded.count(c) for c in _vni_tables()[1])
    # Unicode Vietnamese also has ô í ó after vowels, so also demand codes that are no Vietnamese
    # letter at all: ø û ï (tones), ö (ư), ñ (đ) … (one PDF font subset may hold only Latin-1).
    foreign = sum(folded[i] in _VNI_NON_VIETNAMESE for i in latin)
    if vni_chars >= 0.6 * len(latin) and foreign >= min_signals and foreign >= 0.2 * len(latin):
        return "vni"
    return None


def _in_word(text: str, i: int) -> bool:
    """A character touching a letter on either side (TCVN3 codes stand for letters)."""
    before = i > 0 and bool(_WORD_CHAR.match(text[i - 1]))
    after = i + 1 < len(text) and bool(_WORD_CHAR.match(text[i + 1]))
    return before or after


def looks_like_legacy(text: str) -> bool:
    """True if text without font information looks like TCVN3 or VNI codes rather than Unicode."""
    return guess_legacy_encoding(text) is not None
