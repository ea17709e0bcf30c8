"""Legacy TCVN3/VNI decoding: tables, font names, heuristics, pdfplumber pages."""

from __future__ import annotations

import csv
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pdfplumber
import pytest
from rapidfuzz import fuzz

from extractors.legacy import (
    decode,
    encode,
    guess_legacy_encoding,
    has_unicode_vietnamese,
    legacy_encoding,
    looks_like_legacy,
)
from extractors.legacy_pdf import decode_page_chars, decoded_char_count, legacy_fix_page

FIXTURES = Path(__file__).parent / "fixtures" / "legacy"
LEGACY_PDF = FIXTURES / "001_174c7ea9301aa0d6.legacy_tcvn3.pdf"
DIGITAL_PDF = FIXTURES / "001_174c7ea9301aa0d6.digital.pdf"
DATA = Path(__file__).parent.parent / "extractors" / "data"

_BASES = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
LOWER = sorted({unicodedata.normalize("NFC", b + t) for b in _BASES for t in _TONES} | {"đ"})
UPPER = sorted(c.upper() for c in LOWER)
NON_ASCII_LOWER = [c for c in LOWER if not c.isascii()]


def test_alphabet_is_complete() -> None:
    assert (
        len(NON_ASCII_LOWER) == 67 and len(set(NON_ASCII_LOWER + [c.upper() for c in NON_ASCII_LOWER])) == 134
    )


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize("letter", LOWER)
def test_tcvn3_round_trip_lowercase(letter: str) -> None:
    coded = encode(letter, "tcvn3")
    assert len(coded) == 1 and (coded == letter if letter.isascii() else ord(coded) >= 0xA1)
    assert decode(coded, "tcvn3") == letter


@pytest.mark.parametrize("letter", UPPER)
def test_tcvn3_round_trip_uppercase_via_h_font(letter: str) -> None:
    """Capitals with tones have no TCVN3 code: an H font draws the lowercase code as the capital."""
    coded = encode(letter, "tcvn3_upper")
    assert decode(coded, "tcvn3_upper") == letter


def test_tcvn3_plain_font_capitals() -> None:
    for letter in "ĂÂÊÔƠƯĐ":
        assert decode(encode(letter, "tcvn3"), "tcvn3") == letter
    with pytest.raises(ValueError):
        encode("Ế", "tcvn3")


@pytest.mark.parametrize("letter", LOWER + UPPER)
def test_vni_round_trip(letter: str) -> None:
    coded = encode(letter, "vni")
    assert all(ord(c) <= 0xFF for c in coded) and 1 <= len(coded) <= 2
    assert decode(coded, "vni") == letter


def test_tables_cover_every_letter() -> None:
    with (DATA / "vni.csv").open(encoding="utf-8") as f:
        vni = {unicodedata.normalize("NFC", row["char"]) for row in csv.DictReader(f)}
    assert vni == set(NON_ASCII_LOWER) | {c.upper() for c in NON_ASCII_LOWER}
    with (DATA / "tcvn3.csv").open(encoding="utf-8") as f:
        tcvn3 = {chr(int(row["codepoint"][2:], 16)) for row in csv.DictReader(f)}
    assert set(NON_ASCII_LOWER) | {c.upper() for c in NON_ASCII_LOWER} <= tcvn3


@pytest.mark.skipif(shutil.which("iconv") is None, reason="needs glibc iconv")
def test_tcvn3_table_matches_iconv() -> None:
    """The data file was generated from iconv's TCVN5712-1; keep it honest."""
    with (DATA / "tcvn3.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    def iconv(code: int) -> subprocess.CompletedProcess[bytes]:
        cmd = ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"]
        return subprocess.run(cmd, input=bytes([code]), capture_output=True)

    if iconv(0x41).returncode != 0:
        pytest.skip("this iconv has no TCVN5712-1")
    for row in rows:  # one byte at a time: iconv composes a tone code with the letter before it
        out = iconv(int(row["code"], 16))
        assert [f"U+{ord(c):04X}" for c in out.stdout.decode("utf-8")] == [row["codepoint"]]


def test_decode_words() -> None:
    assert decode("KÕ ho¹ch c¶i c¸ch hµnh chÝnh n¨m 2024", "tcvn3") == "Kế hoạch cải cách hành chính năm 2024"
    assert decode("§ång Nai, ngµy 16 th¸ng 4", "tcvn3") == "Đồng Nai, ngày 16 tháng 4"
    assert decode("kÕ ho¹ch", "tcvn3_upper") == "KẾ HOẠCH"
    assert decode("Keá hoaïch caûi caùch haønh chính", "vni") == "Kế hoạch cải cách hành chính"
    assert decode("Ñoàng Nai, ngöôøi daân", "vni") == "Đồng Nai, người dân"
    assert decode("Sè: 14/KH-SYT", "tcvn3") == "Số: 14/KH-SYT"


def test_decode_other_code_forms() -> None:
    assert decode("\uf0b9", "tcvn3") == "ạ"  # symbolic font: PUA U+F000 + byte
    assert decode("\x93x\x94 \u2013", "tcvn3") == "“x” –"  # cp1252 punctuation stays punctuation
    assert decode("A\xb3", "tcvn3") == "Á"  # base + TCVN3 combining tone code
    assert decode("⁽¹⁾", "tcvn3", keep_superscripts=True) == "⁽¹⁾"  # a footnote mark, not "ạ"
    assert decode("h¹ch", "tcvn3", keep_superscripts=True) == "hạch"
    assert unicodedata.is_normalized("NFC", decode("Vieät Nam", "vni"))


# --------------------------------------------------------------------------- font names, heuristics


@pytest.mark.parametrize(
    ("fontname", "expected"),
    [
        (".VnTime", "tcvn3"),
        ("ABCDEF+.VnTime", "tcvn3"),
        ("DAAAAA+VnTime-Regular", "tcvn3"),
        ("EAAAAA+VnTime-Bold", "tcvn3"),
        (".VnTime,BoldItalic", "tcvn3"),
        (".VnTimeH", "tcvn3_upper"),
        ("CAAAAA+VnTimeH-Bold", "tcvn3_upper"),
        ("VnTimeHBold", "tcvn3_upper"),
        (".VnArialH", "tcvn3_upper"),
        (".VnArial Narrow", "tcvn3"),
        (".VnArial NarrowH", "tcvn3_upper"),
        ("VNI-Times", "vni"),
        ("QWERTY+VNI-Helve-Bold", "vni"),
        ("VNI Times", "vni"),
        ("TimesNewRomanPSMT", None),
        ("ABCDEF+LiberationSerif-Bold", None),
        ("Verdana", None),
        ("", None),
        (None, None),
    ],
)
def test_font_detection(fontname: str | None, expected: str | None) -> None:
    assert legacy_encoding(fontname) == expected


def test_looks_like_legacy() -> None:
    assert guess_legacy_encoding("KÕ ho¹ch c¶i c¸ch hµnh chÝnh ngµnh Y tÕ") == "tcvn3"
    assert guess_legacy_encoding("Keá hoaïch caûi caùch haønh chính ngaønh Y teá") == "vni"
    assert not looks_like_legacy("Kế hoạch cải cách hành chính ngành Y tế")
    assert not looks_like_legacy("Cải cách hoá, hoàn thành")  # Unicode with Latin-1 letters
    assert not looks_like_legacy("Plain ASCII text only")
    assert not looks_like_legacy("Le café où l'été déjà")
    # a PDF font subset holding only the Latin-1 letters of Unicode Vietnamese text
    assert not looks_like_legacy("hoà thà cô có chí tiê quá quâ hoá cò ó ò ì í à á ã ê ô ú ý")
    assert not looks_like_legacy("")
    assert has_unicode_vietnamese("người") and not has_unicode_vietnamese("ng\xadêi")


# --------------------------------------------------------------------------- pdfplumber chars


def _char(text: str, x0: float, x1: float, font: str, top: float = 100.0) -> dict[str, object]:
    return {
        "text": text,
        "fontname": font,
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": top + 12,
        "doctop": top,
        "y0": 700 - top - 12,
        "y1": 700 - top,
        "width": x1 - x0,
        "height": 12.0,
        "size": 12.0,
        "upright": True,
    }


def test_vni_base_and_mark_merge_into_one_char() -> None:
    chars = [
        _char("h", 0, 6, "VNI-Times"),
        _char("a", 6, 12, "VNI-Times"),
        _char("ï", 12, 12, "VNI-Times"),  # zero-width mark drawn over the "a"
        _char("c", 12, 18, "VNI-Times"),
        _char("h", 18, 24, "VNI-Times"),
        _char(" ", 24, 27, "Arial"),
        _char("x", 27, 33, "Arial"),
    ]
    out = decode_page_chars(chars)
    assert "".join(c["text"] for c in out) == "hạch x"
    merged = out[1]
    assert (merged["x0"], merged["x1"], merged["legacy_encoding"]) == (6, 12, "vni")
    assert out[-1] is chars[-1] and "legacy_encoding" not in out[-1]
    assert decoded_char_count(out) == 4  # the merged pair counts once


def test_tcvn3_chars_cid_and_combining() -> None:
    chars = [
        _char("(cid:167)", 0, 8, "ABCDEF+.VnTime"),  # font without a usable encoding
        _char("A", 8, 16, "ABCDEF+.VnTime"),
        _char("\xb3", 16, 16, "ABCDEF+.VnTime"),  # combining acute code
        _char("o", 16, 22, "ABCDEF+.VnTimeH"),
    ]
    assert "".join(c["text"] for c in decode_page_chars(chars)) == "ĐÁO"


def test_marks_on_other_lines_are_not_merged() -> None:
    chars = [_char("a", 0, 6, "VNI-Times", top=100), _char("ù", 0, 6, "VNI-Times", top=140)]
    assert [c["text"] for c in decode_page_chars(chars)] == ["a", "ù"]


def test_unicode_text_in_a_legacy_named_font_is_untouched() -> None:
    chars = [_char(c, i * 6, i * 6 + 6, ".VnTime") for i, c in enumerate("Kế hoạch á")]
    assert decode_page_chars(chars) == chars


def test_unknown_font_is_guessed_from_its_text() -> None:
    text = "KÕ ho¹ch c¶i c¸ch hµnh chÝnh n¨m 2024 cña Së Y tÕ"
    chars = [_char(c, i * 6, i * 6 + 6, "F1") for i, c in enumerate(text)]
    assert (
        "".join(c["text"] for c in decode_page_chars(chars))
        == "Kế hoạch cải cách hành chính năm 2024 của Sở Y tế"
    )
    assert decode_page_chars(chars, guess_unknown=False) == chars


# --------------------------------------------------------------------------- real and built PDFs


def test_real_sample_first_page_matches_digital() -> None:
    with pdfplumber.open(LEGACY_PDF) as legacy, pdfplumber.open(DIGITAL_PDF) as digital:
        raw = legacy.pages[0].extract_text()
        fixed_page = legacy_fix_page(legacy.pages[0])
        fixed = fixed_page.extract_text()
        expected = digital.pages[0].extract_text()
    assert "KÕ ho¹ch" in raw.replace("kÕ ho¹ch", "KÕ ho¹ch") and looks_like_legacy(raw)
    assert decoded_char_count(fixed_page.chars) > 500
    assert fuzz.ratio(fixed, expected) / 100 >= 0.98
    assert fixed.splitlines()[:6] == expected.splitlines()[:6]
    assert "KẾ HOẠCH" in fixed and not looks_like_legacy(fixed)
    assert unicodedata.is_normalized("NFC", fixed)


def test_real_sample_tables_pass_through() -> None:
    """The sample's appendix table is Unicode: decoding must leave its cells as they are."""
    with pdfplumber.open(LEGACY_PDF) as legacy, pdfplumber.open(DIGITAL_PDF) as digital:
        page = legacy_fix_page(legacy.pages[2])
        assert page is legacy.pages[2]  # no legacy font on this page: same object, no copy
        got = legacy_fix_page(legacy.pages[1]).find_tables()[0].extract()
        assert got == digital.pages[1].find_tables()[0].extract()


def _pdf_with_table(rows: list[list[tuple[str, bytes]]]) -> bytes:
    """A one-page PDF: a ruled grid of 2 columns x len(rows), each cell one text run.

    Fonts are simple TrueType fonts named like the legacy ones, WinAnsi-encoded, not embedded;
    VNI mark codes get zero width, as in the real fonts.
    """
    vni_marks = set("ùøûõïâáàåãäêéèúüë".encode("latin-1") + "ÙØÛÕÏÂÁÀÅÃÄÊÉÈÚÜË".encode("latin-1"))
    widths = {
        "F1": " ".join("500" for _ in range(32, 256)),
        "F2": " ".join("0" if b in vni_marks else "500" for b in range(32, 256)),
    }
    fonts = {"F1": b"ABCDEF+.VnTime", "F2": b"ABCDEF+VNI-Times"}
    x = (20, 170, 320)
    top = 40 + 30 * len(rows)
    ops = [b"0.5 w"]
    for i in range(len(rows) + 1):
        ops.append(b"20 %d m 320 %d l S" % (top - 30 * i, top - 30 * i))
    for xi in x:
        ops.append(b"%d %d m %d %d l S" % (xi, top, xi, top - 30 * len(rows)))
    for r, row in enumerate(rows):
        for c, (font, text) in enumerate(row):
            safe = text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
            ops.append(
                b"BT /%s 10 Tf %d %d Td (%s) Tj ET" % (font.encode(), x[c] + 5, top - 30 * r - 20, safe)
            )
    stream = b"\n".join(ops)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 340 %d] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>" % (top + 40),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    for n, key in enumerate(("F1", "F2")):
        objs.append(
            b"<< /Type /Font /Subtype /TrueType /BaseFont /%s /FirstChar 32 /LastChar 255 "
            b"/Widths [%s] /Encoding /WinAnsiEncoding /FontDescriptor %d 0 R >>"
            % (fonts[key], widths[key].encode(), 7 + n)
        )
    for key in ("F1", "F2"):
        objs.append(
            b"<< /Type /FontDescriptor /FontName /%s /Flags 32 /FontBBox [0 -200 1000 900] "
            b"/ItalicAngle 0 /Ascent 900 /Descent -200 /CapHeight 700 /StemV 80 >>" % fonts[key]
        )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_legacy_table_cells_decode(tmp_path: Path) -> None:
    rows = [
        [("F1", "KÕ ho¹ch".encode("latin-1")), ("F1", "Së Y tÕ".encode("latin-1"))],
        [("F2", "Ñoàng Nai".encode("latin-1")), ("F2", "Ngöôøi daân".encode("latin-1"))],
    ]
    path = tmp_path / "legacy_table.pdf"
    path.write_bytes(_pdf_with_table(rows))
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[0]
        assert page.find_tables()[0].extract()[0] == ["KÕ ho¹ch", "Së Y tÕ"]
        fixed = legacy_fix_page(page)
        assert fixed.find_tables()[0].extract() == [["Kế hoạch", "Sở Y tế"], ["Đồng Nai", "Người dân"]]
        assert fixed.extract_text().splitlines() == ["Kế hoạch Sở Y tế", "Đồng Nai Người dân"]
        words = [w["text"] for w in fixed.extract_words()]
        assert words == ["Kế", "hoạch", "Sở", "Y", "tế", "Đồng", "Nai", "Người", "dân"]
