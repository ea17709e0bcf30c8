"""Handwritten numbers and days in headers: a value is published only when its own confidence,
its shape and its plausibility support it; otherwise null and doubtful (the field is flagged).
Readings below are OCR outputs of the real scans in tests/fixtures/realscans (words with their
confidences as the engine gave them), and constructed variants of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from parsers.handwriting import MIN_DIGIT_CONF, judge_digits, read_date, read_number


@dataclass(frozen=True)
class W:
    text: str
    conf: float


def words(spec: str) -> list[W]:
    """'Số:(95) 2275(91) /SYT-NVY(96)' -> words with confidences."""
    out = []
    for tok in spec.split():
        text, conf = tok.rsplit("(", 1)
        out.append(W(text, float(conf.rstrip(")"))))
    return out


def line(spec: str) -> tuple[str, list[W]]:
    ws = words(spec)
    return " ".join(w.text for w in ws), ws


def test_a_confident_clean_number_is_kept_with_any_symbol() -> None:
    for spec, number, symbol in [
        ("Số:(96) 2275(91) /SYT-NVY(95)", "2275", "SYT-NVY"),
        ("Số:(96) 05(88) /SYT-NVY(95)", "05", "SYT-NVY"),
        ("Số:(96) 15/KH-SYT-CĐN(90)", "15", "KH-SYT-CĐN"),
        ("Số:(96) 2193/TB-SYT(92)", "2193", "TB-SYT"),
        ("Số:(96) 118/BC-SYT(92)", "118", "BC-SYT"),
    ]:
        r = read_number(*line(spec))
        assert r is not None and (r.number, r.symbol, r.doubtful) == (number, symbol, False), spec


def test_a_misread_or_unsure_number_is_null_and_doubtful() -> None:
    # real readings: "2275" read as "22#2" (one word with the printed part), "2264" as "290/1"
    for spec, reason in [
        ("Số:22#2/SYT-NVY(49)", "not_digits"),
        ("Số:(60) 0x(52) /GM-SYT(93)", "not_digits"),
        ("Số:(95) 352(61) /KH-SYT(95)", "low_confidence"),  # 359 written, 352 read unsure
        ("Số:(95) 2442(79) /KH-SYT(95)", "low_confidence"),
    ]:
        r = read_number(*line(spec))
        assert r is not None and r.number is None and r.doubtful and r.reason == reason, spec
    # "2193" read as "2/13": the slash inside is a stroke, not the separator
    r = read_number(*line("Số:2/13/TB-SVT(34)"))
    assert r is not None and (r.number, r.symbol, r.reason) == (None, "TB-SVT", "not_digits")


def test_a_blank_number_is_null_but_not_doubtful() -> None:
    r = read_number(*line("Số:(96) /KH-SYT(95)"))
    assert r is not None and r.number is None and not r.doubtful and r.symbol == "KH-SYT"


def test_text_layer_numbers_are_typed_and_trusted() -> None:
    r = read_number("Số: 118/KH-SYT", None)
    assert r is not None and (r.number, r.doubtful) == ("118", False)


def test_a_lost_handwritten_day_keeps_the_printed_month_and_year() -> None:
    # real reading of 9uV_2275: day "18" written by hand read as "Ä"
    r = read_date(*line("Kiên(96) Giang,(96) ngày(96) Ä(30) tháng(96) 12(96) năm(96) 2017(96)"))
    assert r is not None and (r.value, r.precision, r.doubtful) == (date(2017, 12, 1), "month", True)
    assert r.reason == "day:not_digits"
    # a day read as digits but unsure, or impossible
    r = read_date(*line("ngày(96) 19(55) tháng(96) 11(96) năm(96) 2017(96)"))
    assert (r.value, r.precision, r.doubtful) == (date(2017, 11, 1), "month", True)
    r = read_date(*line("ngày(96) 42(90) tháng(96) 12(96) năm(96) 2017(96)"))
    assert (r.value, r.doubtful, r.reason) == (date(2017, 12, 1), True, "day:implausible")
    r = read_date(*line("ngày(96) 31(90) tháng(96) 4(96) năm(96) 2017(96)"))
    assert (r.value, r.precision, r.doubtful) == (date(2017, 4, 1), "month", True)


def test_a_clear_date_and_a_blank_day() -> None:
    r = read_date(*line("Kiên(96) Giang,(96) ngày(96) 06(93) tháng(96) 9(95) năm(96) 2017(96)"))
    assert (r.value, r.precision, r.doubtful) == (date(2017, 9, 6), "day", False)
    r = read_date("Hà Nội, ngày    tháng 12 năm 2023", None)  # a blank day in a typed plan
    assert (r.value, r.precision, r.doubtful) == (date(2023, 12, 1), "month", False)


def test_an_implausible_year_loses_the_date_and_is_doubtful() -> None:
    # real reading of U2Z_22: printed "2017" read as "2077"
    r = read_date(*line("ngày(96) 08(92) tháng(96) 9(93) năm(96) 2077(88)"), latest=date(2026, 12, 1))
    assert r.value is None and r.doubtful and r.reason == "year:implausible"
    # an issue date after the plan's own dates is not published as such
    r = read_date(*line("ngày(96) 28(92) tháng(96) 12(93) năm(96) 2024(96)"), latest=date(2024, 12, 15))
    assert (r.value, r.precision, r.doubtful) == (date(2024, 12, 1), "month", True)


def test_digit_judgement() -> None:
    assert judge_digits("2 275", MIN_DIGIT_CONF, 6) == ("2275", "ok")
    assert judge_digits("2275", MIN_DIGIT_CONF - 1, 6) == (None, "low_confidence")
    assert judge_digits("1234567", 99, 6) == (None, "too_long")
    assert judge_digits("...", 99, 6) == (None, "blank")
    assert judge_digits("4†", 99, 6) == (None, "not_digits")


def _ocr_line(spec: str):
    from extractors.model import Line, LineWord

    ws = words(spec)
    return Line(text=" ".join(w.text for w in ws), confidence=sum(w.conf for w in ws) / len(ws),
                words=[LineWord(w.text, w.conf) for w in ws])


def test_metadata_of_an_ocr_header_uses_the_judge() -> None:
    """The header of 9uV_2275 as the OCR read it: the handwritten number and day are lost, so
    both fields are flagged; the printed month and year are kept."""
    from extractors.model import Document, Page
    from parsers.metadata import parse_metadata

    lines = [
        _ocr_line("UBND(95) TỈNH(95) KIÊN(95) GIANG(95)"),
        _ocr_line("SỞ(90) Y(90) TẾ(90)"),
        _ocr_line("Số:22#2/SYT-NVY(49)"),
        _ocr_line("Kiên(96) Giang,(96) ngày(93) Ä(9) tháng(96) 12(96) năm(96) 2017(96)"),
        _ocr_line("V/v(95) báo(96) cáo(96) nhanh(96) số(96) liệu(96)"),
    ]
    meta = parse_metadata(Document("x.pdf", "pdf", [Page(1, blocks=lines, method="ocr")]))
    assert meta.doc_number is None and "doc_number" in meta.low_confidence
    assert (meta.issue_date, meta.issue_date_precision) == (date(2017, 12, 1), "month")
    assert "issue_date" in meta.low_confidence
    # the same header read cleanly: published, not flagged
    lines[2] = _ocr_line("Số:(95) 2275(90) /SYT-NVY(95)")
    lines[3] = _ocr_line("Kiên(96) Giang,(96) ngày(93) 18(88) tháng(96) 12(96) năm(96) 2017(96)")
    meta = parse_metadata(Document("x.pdf", "pdf", [Page(1, blocks=lines, method="ocr")]))
    assert meta.doc_number == "2275/SYT-NVY" and meta.issue_date == date(2017, 12, 18)
    assert not {"doc_number", "issue_date"} & set(meta.low_confidence)
