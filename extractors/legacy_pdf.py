"""Decode legacy-font characters in a pdfplumber page, before words, lines and cells are built.

pdfplumber reports each glyph of a TCVN3/VNI font with the Latin-1 code it was typed with
("Õ" for "ế").  Decoding has to happen on the characters, not on the extracted text: the
font is only known per character, a line can mix ``.VnTime`` body text with Unicode, and VNI
writes one letter as two glyphs (base + mark) that must become one character before pdfplumber
clusters characters into words by position.  :func:`legacy_fix_page` returns a derived page
whose ``chars`` are decoded, so ``extract_text``, ``extract_words`` and ``find_tables`` all see
Unicode without knowing about legacy fonts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from typing import Any

from pdfplumber.page import Page

from .legacy import (
    decode,
    guess_legacy_encoding,
    has_unicode_vietnamese,
    keeps_superscript,
    legacy_encoding,
    to_byte_char,
)

Char = dict[str, Any]
_CID = re.compile(r"^\(cid:(\d+)\)$")
# Below this many characters a font's text is too short to guess its encoding from statistics.
_MIN_CHARS_TO_GUESS = 40


def raw_code_text(text: str) -> str:
    """The legacy code a pdfplumber char stands for: "(cid:185)" (a font without a usable
    encoding) becomes "¹", PUA and C1 codes fold to Latin-1 (see legacy.to_byte_char)."""
    m = _CID.match(text)
    if m and int(m.group(1)) < 256:
        return chr(int(m.group(1)))
    return "".join(to_byte_char(c) for c in text)


def font_encodings(chars: list[Char], guess_unknown: bool = True) -> dict[str, str]:
    """Legacy encoding of each font on the page, keyed by fontname; Unicode fonts are absent.

    A font is legacy when its name says so (".VnTime", "VNI-Times"), or, with ``guess_unknown``,
    when its name says nothing but its text looks like TCVN3/VNI codes (renamed or Type3 fonts).
    A font whose text already holds Unicode-only Vietnamese letters is never decoded, whatever
    its name: decoding real Unicode would corrupt it.
    """
    texts: dict[str, list[str]] = defaultdict(list)
    for c in chars:
        texts[c.get("fontname") or ""].append(c.get("text", ""))
    result: dict[str, str] = {}
    for font, parts in texts.items():
        text = "".join(parts)
        if has_unicode_vietnamese(text):
            continue
        enc = legacy_encoding(font)
        if enc is None and guess_unknown and len(parts) >= _MIN_CHARS_TO_GUESS:
            enc = guess_legacy_encoding("".join(raw_code_text(p) for p in parts))
        if enc is not None:
            result[font] = enc
    return result


def decode_page_chars(chars: list[Char], guess_unknown: bool = True) -> list[Char]:
    """Return the chars with legacy-font text decoded to Unicode NFC.

    Decoded chars are copies with ``text`` replaced and ``legacy_encoding`` added; other chars
    are passed through untouched.  A VNI mark glyph (or a TCVN3 combining tone code) that
    follows its base letter on the same line is merged into the base: one char dict with the
    decoded letter and the union of both boxes.
    """
    encodings = font_encodings(chars, guess_unknown)
    if not encodings:
        return list(chars)
    out: list[Char] = []
    prev_raw = ""  # raw code text of out[-1] when it is an unmerged legacy char, else ""
    for i, ch in enumerate(chars):
        enc = encodings.get(ch.get("fontname") or "")
        if enc is None:
            out.append(ch)
            prev_raw = ""
            continue
        raw = raw_code_text(ch.get("text", ""))
        text = decode(raw, enc, keep_superscripts=False)
        if enc != "vni" and keeps_superscript(_neighbour(chars, i, -1), raw, _neighbour(chars, i, 1)):
            text = raw
        prev = out[-1] if out else None
        if prev_raw and prev is not None and prev.get("legacy_encoding") == enc and _adjacent(prev, ch):
            merged = _merged_text(prev_raw, raw, text, enc)
            if merged is not None:
                out[-1] = _union(prev, ch, merged)
                prev_raw = ""
                continue
        out.append({**ch, "text": text, "legacy_encoding": enc})
        prev_raw = raw
    return out


def _merged_text(prev_raw: str, raw: str, text: str, enc: str) -> str | None:
    """The decoded letter when ``raw`` is a mark completing the previous char, else None."""
    if enc == "vni":
        pair = decode(prev_raw + raw, enc, keep_superscripts=False)
        return pair if len(pair) == 1 else None
    if text and all(unicodedata.combining(c) for c in text):
        return unicodedata.normalize("NFC", decode(prev_raw, enc, keep_superscripts=False) + text)
    return None


def _neighbour(chars: list[Char], i: int, step: int) -> str:
    """Raw text of the char next to chars[i] in stream order if it is on the same line, else ""."""
    j = i + step
    if not 0 <= j < len(chars):
        return ""
    a, b = (chars[j], chars[i]) if step < 0 else (chars[i], chars[j])
    return raw_code_text(chars[j].get("text", ""))[-1:] if _adjacent(a, b, max_gap=0.2) else ""


def _adjacent(a: Char, b: Char, max_gap: float = 0.5) -> bool:
    """Same line and horizontally touching: b starts at most ``max_gap`` heights after a ends
    (a mark glyph is drawn over or right after its base, so it may also start before)."""
    height = max(float(a.get("height", 0)), float(b.get("height", 0)), 1.0)
    same_line = abs(float(a["top"]) - float(b["top"])) < 0.6 * height
    return same_line and -height < float(b["x0"]) - float(a["x1"]) < max_gap * height


def _union(a: Char, b: Char, text: str) -> Char:
    merged = {**a, "text": text}
    for key, pick in (
        ("x0", min),
        ("top", min),
        ("doctop", min),
        ("y0", min),
        ("x1", max),
        ("bottom", max),
        ("y1", max),
    ):
        if key in a and key in b:
            merged[key] = pick(a[key], b[key])
    merged["width"] = merged["x1"] - merged["x0"]
    merged["height"] = merged["bottom"] - merged["top"]
    return merged


def decoded_char_count(chars: list[Char]) -> int:
    """How many chars were decoded from a legacy font (for Page.method = "legacy_font")."""
    return sum(1 for c in chars if "legacy_encoding" in c)


def legacy_fix_page(page: Page, guess_unknown: bool = True) -> Page:
    """A derived page whose chars are decoded; the page itself when it has no legacy font.

    Uses pdfplumber's own idiom from ``Page.dedupe_chars``: a ``FilteredPage`` keeping every
    object, with its object cache pre-filled.  Rects, lines and curves are shared with the
    parent page, so table finding is unchanged; only char texts (and merged VNI boxes) differ.
    Apply it before ``dedupe_chars``/``crop``: those derive from whatever page they are given.
    """
    chars = page.chars
    decoded = decode_page_chars(chars, guess_unknown)
    if decoded_char_count(decoded) == 0:
        return page
    fixed = page.filter(lambda _obj: True)
    fixed._objects = {kind: objs for kind, objs in page.objects.items()}
    fixed._objects["char"] = decoded
    return fixed
