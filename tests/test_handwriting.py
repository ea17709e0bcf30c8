"""Handwritten numbers and days in headers: a value is published only when its own confidence,
its shape and its plausibility support it; otherwise null and doubtful (the field is flagged).
Readings below are OCR outputs of the real scans in tests/fixtures/realscans (words with their
confidences as the engine gave them), and constructed variants of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from parsers.handwriting import (
    GLYPHS_VETO_CONF,
    MIN_AGREEING_CONF,
    MIN_DIGIT_CONF,
    judge_digits,
    read_date,
    read_number,
)


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


def test_a_day_blank_in_which_the_second_recogniser_saw_marks_is_not_blank() -> None:
    # zPs_171 fed askew: the handwritten "11" read as nothing, the second recogniser "1" at 27
    spec = "Kiên(96) Giang,(96) ngày(80) tháng(99) 12(99) năm(99) 2017(99)"
    r = read_date(*line(spec), rereads=[R("day", "1", 26.6), R("day", "", 0.0, "blank_ink")])
    assert (r.value, r.precision, r.doubtful) == (date(2017, 12, 1), "month", True)
    # both views empty (an unsigned plan's blank day, as the samples' scans read): blank
    r = read_date(*line(spec), rereads=[R("day", "", 0.0), R("day", "", 0.0, "blank_ink")])
    assert (r.value, r.precision, r.doubtful) == (date(2017, 12, 1), "month", False)


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


# --------------------------------------------------------------------------- a second reading


@dataclass(frozen=True)
class R:
    """A second recogniser's reading of a blank (extractors.model.Reread's fields)."""

    field: str
    text: str
    conf: float
    view: str = "token"


def test_two_readings_that_agree_are_trusted_even_when_the_first_was_unsure() -> None:
    # real readings of D04_02: printed "02" read by Tesseract at 70, by the second reader at 98
    spec = "Số:(93) 02/ĐL-BTC.(70)"
    assert read_number(*line(spec)).reason == "low_confidence"
    r = read_number(*line(spec), [R("number", "02", 98.31)])
    assert (r.number, r.symbol, r.doubtful, r.reason) == ("02", "ĐL-BTC", False, "agreed")
    # ... but an agreeing reading that is itself unsure lifts nothing
    r = read_number(*line(spec), [R("number", "02", MIN_AGREEING_CONF - 1)])
    assert r.number is None and r.doubtful


def test_two_readings_that_disagree_are_flagged_even_when_one_was_sure() -> None:
    # real readings of Kjk_05: "05" written by hand, Tesseract "02" (76), the second reader "05"
    r = read_number(*line("Số:(81) 02(76) /SYT-NVY(88)"), [R("number", "05", 99.5)])
    assert (r.number, r.doubtful, r.reason) == (None, True, "disagree")
    r = read_number(*line("Số:(96) 2275(91) /SYT-NVY(95)"), [R("number", "2215", 90)])
    assert (r.number, r.doubtful, r.reason) == (None, True, "disagree")
    # 28l_02: a printed month "3" written over, Tesseract "2", the second reader "3": the date
    # keeps its year only
    r = read_date(*line("Kiên(95) Giang,(96) ngày(96) Ê(20) tháng(96) 2(92) năm(96) 2018(96)"),
                  rereads=[R("day", "", 0.0), R("month", "3", 88.48)])
    assert (r.value, r.precision, r.doubtful) == (date(2018, 1, 1), "year", True)
    assert "month:disagree" in r.reason


def test_an_unsure_or_empty_second_reading_leaves_the_first() -> None:
    # 28l_02: the second reader read "802" at 4 across "Số: 02": no reading
    r = read_number(*line("Số:(96) 02(80) /SYT-GAVI(80)"), [R("number", "802", 4.27)])
    assert (r.number, r.doubtful) == ("02", False)
    r = read_date(*line("ngày(96) 18(96) tháng(96) 12(96) năm(96) 2017(96)"), rereads=[R("day", "", 0.0)])
    assert (r.value, r.doubtful) == (date(2017, 12, 18), False)
    # AQr_2193: the printed month "11" read at 69 and by the second reader at 96: the month is
    # known; the handwritten day is still lost
    r = read_date(*line("Kiên(95) Giang,(96) ngày(93) Â(77) 2(60) tháng(82) 11(69) năm(96) 2017(96)"),
                  rereads=[R("day", "", 0.0), R("month", "11", 96.27)])
    assert (r.value, r.precision, r.doubtful) == (date(2017, 11, 1), "month", True)


def test_a_second_reading_alone_stands_only_when_its_two_views_agree(monkeypatch) -> None:
    import parsers.handwriting as hw

    # P7f_11: the day "16" written by hand, Tesseract "ÍÚ", the second reader "16" at 97 in the
    # token's view and 79 over the whole blank
    spec = "Kiên(95) Giang,(96) ngày(96) ÍÚ(30) tháng(96) 01(96) năm(96) 2018(96)"
    both = [R("day", "16", 97.25), R("day", "16", 79.0, "blank_ink"), R("month", "01", 99.03)]
    r = read_date(*line(spec), rereads=both)
    assert (r.value, r.precision, r.doubtful) == (date(2018, 1, 16), "day", False)
    # one view only (a cache of an older reader), or views that differ: the day is lost, flagged
    for rereads in ([R("day", "16", 97.25)], [R("day", "16", 97.25), R("day", "18", 90.0, "blank_ink")],
                    [R("day", "16", 97.25), R("day", "16", hw.MIN_SECOND_CONF - 1, "blank_ink")]):
        r = read_date(*line(spec), rereads=rereads)
        assert (r.value, r.precision, r.doubtful) == (date(2018, 1, 1), "month", True), rereads
    # both views agreeing but neither sure enough
    r = read_date(*line(spec), rereads=[R("day", "16", 55.0), R("day", "16", 58.0, "blank_ink")])
    assert r.precision == "month" and r.doubtful
    # and never when switched off
    monkeypatch.setattr(hw, "ALONE_CONF", None)
    r = read_date(*line(spec), rereads=both)
    assert r.precision == "month" and r.doubtful
    # a blank stays blank whatever a second reader makes of the dots
    r = read_number(*line("Số:(96) /KH-SYT(95)"), [R("number", "7", 99.0), R("number", "7", 99.0, "blank_ink")])
    assert r.number is None and not r.doubtful


def test_a_second_reading_with_fewer_digits_than_the_first_saw_is_no_reading() -> None:
    # 9uV_2275: "2275" by hand, Tesseract "22#2" (three digits and a stroke); had both views
    # read "25", two digits cannot be the number in which Tesseract saw three
    r = read_number(*line("Số:22#2/SYT-NVY(49)"), [R("number", "25", 83.0), R("number", "25", 80.0, "blank_ink")])
    assert (r.number, r.doubtful) == (None, True)
    r = read_number(*line("Số:22#2/SYT-NVY(49)"), [R("number", "2275", 83.0), R("number", "2275", 80.0, "blank_ink")])
    assert (r.number, r.doubtful, r.reason) == ("2275", False, "second_reader")
    # a day of 32, or number 0, read alone is still impossible
    r = read_date(*line("ngày(96) ÍÚ(30) tháng(96) 01(96) năm(96) 2018(96)"),
                  rereads=[R("day", "32", 99.0), R("day", "32", 99.0, "blank_ink")])
    assert r.precision == "month" and "day:implausible" in r.reason
    r = read_number(*line("Số:JU(61) /GM-SYT(89)"), [R("number", "00", 99.0), R("number", "00", 99.0, "blank_ink")])
    assert (r.number, r.doubtful) == (None, True)


def test_unsure_digits_give_way_only_to_two_very_sure_views_of_as_many_digits() -> None:
    # Kjk_05: "05" by hand, Tesseract "02" at 77 (below MIN_DIGIT_CONF), both views "05" at 99+
    spec = "Số:(81) 02(77) /SYT-NVY(88)"
    r = read_number(*line(spec), [R("number", "05", 99.5), R("number", "05", 99.0, "blank_ink")])
    assert (r.number, r.doubtful, r.reason) == ("05", False, "second_reader")
    # not when one view is merely fairly sure, nor with another number of digits
    r = read_number(*line(spec), [R("number", "05", 99.5), R("number", "05", 80.0, "blank_ink")])
    assert (r.number, r.reason) == (None, "disagree")
    r = read_number(*line(spec), [R("number", "051", 99.5), R("number", "051", 99.0, "blank_ink")])
    assert (r.number, r.reason) == (None, "disagree")
    # nor against digits Tesseract was sure of: two sure readings that differ are for a human
    r = read_number(*line("Số:(96) 2275(91) /SYT-NVY(95)"),
                    [R("number", "2215", 99.0), R("number", "2215", 99.0, "blank_ink")])
    assert (r.number, r.doubtful, r.reason) == (None, True, "disagree")


def test_an_impossible_printed_year_is_read_again() -> None:
    # U2Z_22: the printed year "2017" read "2077" (after the latest plausible year)
    spec = "Kiên(90) Giang,(96) ngày(95) 08(95) tháng(94) 9(94) năm(96) 2077(94)"
    r = read_date(*line(spec), latest=date(2018, 6, 1))
    assert r.value is None and "year:implausible" in r.reason
    r = read_date(*line(spec), latest=date(2018, 6, 1),
                  rereads=[R("year", "2017", 100.0), R("year", "2017", 100.0, "blank_ink")])
    assert (r.value, r.precision, r.doubtful) == (date(2017, 9, 8), "day", False)


def test_loose_first_readings_of_a_number_line_are_still_number_lines() -> None:
    for spec, symbol in [("số(48) :2(0) 2(93) /SYT-KHTC(79)", "SYT-KHTC"), ("Số:JU(61) /GM-SYT(89)", "GM-SYT"),
                         ("só::29+É(0) /TB(88) -SYT(91)", "TB-SYT"), ("sé:/3Í(19) /GM-SYT(85)", "GM-SYT"),
                         # U9c_513: the label's "ố" read "ẻ", the symbol's "Y" read "y"
                         ("sẻ:(74) 2Ö(29) /SyT-NVD(88)", "SYT-NVD")]:
        r = read_number(*line(spec))
        assert r is not None and (r.number, r.symbol, r.doubtful) == (None, symbol, True), spec
    # "Sở" is not "Số", and a lower-case word is no number
    assert read_number(*line("SỞ(90) Y(90) TẾ(90) 12/KH-SYT(90)")) is None
    assert read_number(*line("Số(90) lượng(90) 12/KH-SYT(90)")) is None
    # only letters whose small form has the capital's shape are taken for capitals in a symbol
    assert read_number(*line("Số:(90) 12/kh-syt(90)")) is None


def test_a_second_reading_alone_with_more_digits_than_marks_in_the_blank_is_no_reading() -> None:
    # Q5P_17: both views of the second reader read "177" across "17/" (the symbol's slash as a
    # 7); here Tesseract read one mark in the blank: three digits cannot come from it
    both = [R("number", "177", 90.0), R("number", "177", 90.0, "blank_ink")]
    r = read_number(*line("Số:(93) x(40) /GM-SYT(92)"), both)
    assert (r.number, r.doubtful) == (None, True)
    # two marks may be three digits' strokes run together ("JU" for a wide "10" and more)
    both = [R("number", "110", 90.0), R("number", "110", 90.0, "blank_ink")]
    r = read_number(*line("Số:(93) JU(40) /GM-SYT(92)"), both)
    assert (r.number, r.reason) == ("110", "second_reader")


# --------------------------------------------------------------------------- third reader


def G(field: str, text: str, conf: float = 92.0) -> R:
    """The handwritten-digit classifier's reading of a blank (view "glyphs")."""
    return R(field, text, conf, "glyphs")


def test_the_classifier_agreeing_with_another_reader_publishes_the_digits() -> None:
    # QSx_29: "29" by hand, Tesseract "2 2" unsure, both views of the second "29" (64, 58)
    spec = "số(90) :2(40) 2(40) /SYT-KHTC(88)"
    views = [R("number", "29", 64.0), R("number", "29", 58.0, "blank_ink")]
    assert read_number(*line(spec), views).number is None
    r = read_number(*line(spec), [*views, G("number", "29")])
    assert (r.number, r.doubtful, r.reason) == ("29", False, "glyphs_agree")
    # AQr_2193: the second's token view "2193" at 32 only, its blank view "21931"
    r = read_number(*line("Số:2/13/TB-SVT(35)"),
                    [R("number", "2193", 32.2), R("number", "21931", 54.9, "blank_ink"), G("number", "2193", 75.7)])
    assert (r.number, r.reason) == ("2193", "glyphs_agree")
    # 28l_02: a day Tesseract read "Ê", the second "6" at 8: the classifier's "6" is the partner
    r = read_date(*line("ngày(93) Ê(21) tháng(96) 3(95) năm(96) 2018(96)"),
                  rereads=[R("day", "", 0.0), R("day", "6", 7.5, "blank_ink"), G("day", "6", 94.0)])
    assert (r.value, r.precision, r.doubtful) == (date(2018, 3, 6), "day", False)
    # the first reading's unsure digits are a partner too (a leading zero kept)
    r = read_number(*line("Số:(93) 02(60) /GM-SYT(92)"), [G("number", "2")])
    assert (r.number, r.reason) == ("02", "glyphs_agree")


def test_the_classifier_alone_is_never_enough() -> None:
    # zPs_171: Tesseract "|JJ" (three strokes), the second saw nothing; the classifier's "11" is
    # right, but one recogniser alone is what made confident wrong values
    r = read_date(*line("ngày(75) |JJ(2) tháng(97) 12(97) năm(97) 2017(97)"),
                  rereads=[R("day", "", 0.0), R("day", "", 0.0, "blank_ink"), G("day", "11", 92.7)])
    assert (r.precision, r.doubtful) == ("month", True)
    # kwa_179: Tesseract "4†", no digits from the second: "179" from the classifier alone
    r = read_number(*line("Số4†(59) /GM-SYT(92)"), [R("number", "", 0.0), R("number", "", 0.0, "blank_ink"),
                                                    G("number", "179", 91.3)])
    assert (r.number, r.doubtful) == (None, True)
    # nor with readers that read other digits (zmQ_2276: "2276" read "29+É", "246"/"46", "276")
    r = read_number(*line("só::29+É(45) /TB-SYT(80)"),
                    [R("number", "246", 13.0), R("number", "46", 50.0, "blank_ink"), G("number", "276", 91.1)])
    assert (r.number, r.doubtful) == (None, True)
    # and too many digits for the field is no reading
    r = read_number(*line("Số:(93) JU(40) /GM-SYT(92)"), [R("number", "1234567", 40.0), G("number", "1234567")])
    assert r.number is None


def test_a_sure_reader_is_outvoted_only_by_two_with_one_as_sure() -> None:
    # 28l_02: the month "3" by hand, Tesseract sure of "2" (95), the second "3" at 88 and 99.7
    spec = "ngày(93) 6(96) tháng(96) 2(95) năm(96) 2018(96)"
    views = [R("month", "3", 88.5), R("month", "3", 99.7, "blank_ink")]
    assert read_date(*line(spec), rereads=views).precision == "year"
    r = read_date(*line(spec), rereads=[*views, G("month", "3", 93.6)])
    assert (r.value, r.doubtful) == (date(2018, 3, 6), False)
    # with the second only fairly sure, the sure first reading is not outvoted
    fair = [R("month", "3", 60.0), R("month", "3", 70.0, "blank_ink"), G("month", "3", 93.6)]
    assert read_date(*line(spec), rereads=fair).precision == "year"


def test_a_sure_classifier_against_the_second_recogniser_alone_flags_the_value() -> None:
    """The second recogniser's two views are one print reader of the same pixels: when it alone
    gave the digits and the classifier surely read others that could fill the blank, it is one
    reader against one, and the value is flagged."""
    # 9uV_2275 read at 150 dpi: the day "18" read "{" by Tesseract, both views of the second "19"
    # (69, 73), the classifier "1" at 99.99: "19" was published, confidently wrong
    spec = "ngày(76) {(40) tháng(99) 12(99) năm(99) 2017(99)"
    views = [R("day", "19", 69.3), R("day", "19", 73.1, "blank_ink")]
    r = read_date(*line(spec), rereads=[*views, G("day", "1", 99.99)])
    assert (r.value, r.precision, r.doubtful) == (date(2017, 12, 1), "month", True)
    assert "day:glyphs_disagree" in r.reason
    # zmQ_2276 at 150 dpi: "29TÍ", both views "2246", the classifier "2276" at 77: flagged too
    r = read_number(*line("sé:29TÍ(57) /TB-SYT(80)"),
                    [R("number", "2246", 70.8), R("number", "2246", 58.7, "blank_ink"), G("number", "2276", 76.6)])
    assert (r.number, r.doubtful) == (None, True)
    # the classifier agreeing, or unsure, leaves the second recogniser's reading
    for glyphs in (G("day", "19", 95.0), G("day", "1", GLYPHS_VETO_CONF - 10)):
        r = read_date(*line(spec), rereads=[*views, glyphs])
        assert (r.value, r.doubtful) == (date(2017, 12, 19), False)


def test_the_classifier_makes_no_other_trusted_value_doubtful() -> None:
    # pAs_11: the month "08", Tesseract unsure "0Ñ", the second sure "08" twice; the classifier
    # "1114", more digits than a month has
    r = read_date(*line("ngày(97) 03(96) tháng(96) 0Ñ(78) năm(78) 2017(95)"),
                  rereads=[R("month", "08", 99.8), R("month", "08", 99.9, "blank_ink"), G("month", "1114", 90.7)])
    assert (r.value, r.doubtful) == (date(2017, 8, 3), False)
    # BeW_10: the day "16" read by both print readers, the classifier "10"
    r = read_date(*line("ngày(96) 16(95) tháng(96) 01(96) năm(96) 2018(96)"),
                  rereads=[R("day", "16", 100.0), G("day", "10", 92.0)])
    assert (r.value, r.doubtful) == (date(2018, 1, 16), False)


def test_a_first_reading_in_the_strokes_of_the_same_digits_partners_the_classifier() -> None:
    """Tesseract, trained on print, reads a pen's "11" as "JÍ" or "/Í" and its "6" as "b"
    (parsers/data/digit_shapes.yaml): those letters are the classifier's digits, a second
    reader agreeing.  Not one stroke alone (the edge of a printed letter), not with an unsure
    classifier, not against a reader sure of other digits."""
    from parsers.handwriting import shape_digits

    assert (shape_digits("JÍ"), shape_digits("/Í"), shape_digits("b"), shape_digits("JU")) == ("11", "11", "6", "10")
    assert shape_digits("|") == shape_digits("I") == shape_digits("4†") == shape_digits("22#2") == ""
    # a digit in the reading is Tesseract's own: zPs_171's "171" fed askew read "J3Í", the
    # classifier "131" — the same "3", both wrong
    assert shape_digits("J3Í") == shape_digits("2b") == ""
    r = read_number(*line("sé:J3Í(67) /GM-SYT(90)"), [R("number", "", 0.0), R("number", "", 0.0, "blank_ink"),
                                                      G("number", "131", 92.8)])
    assert (r.number, r.doubtful) == (None, True)
    # P7f_11: "Số:JÍ /GM-SYT", the second recogniser's token view "1" at 34, its blank view nothing
    spec = "Số:JÍ(73) /GM-SYT(91)"
    views = [R("number", "1", 34.2), R("number", "", 0.0, "blank_ink")]
    r = read_number(*line(spec), [*views, G("number", "11", 92.4)])
    assert (r.number, r.doubtful, r.reason) == ("11", False, "glyphs_shape")
    assert read_number(*line(spec), [*views, G("number", "11", 70.0)]).number is None  # the classifier unsure
    assert read_number(*line(spec), [R("number", "17", 95.0), G("number", "11", 92.4)]).number is None
    # Nsh_2231: day "b", the second recogniser saw nothing, the classifier "6" at 94
    r = read_date(*line("ngày(93) b(0) tháng(96) 12(97) năm(97) 2017(96)"),
                  rereads=[R("day", "", 0.0), R("day", "", 0.0, "blank_ink"), G("day", "6", 93.8)])
    assert (r.value, r.precision, r.doubtful) == (date(2017, 12, 6), "day", False)
    # one stroke: no partner
    r = read_date(*line("ngày(93) |(20) tháng(96) 12(97) năm(97) 2017(96)"),
                  rereads=[R("day", "", 0.0), R("day", "", 0.0, "blank_ink"), G("day", "1", 97.0)])
    assert r.doubtful and r.precision == "month"
