"""Plan metadata from the header block, the title and the signature block.

Facts per sample were read off the first and the signature page of each sample PDF (the
converted text says the same): "Số: /KH-SYT" left blank in 000 and 002, "ngày   tháng 12
năm 2023" without a day in 000, the two-line signer title of 003, the five-line title of 004.
"""

from __future__ import annotations

from datetime import date

import pytest
from conftest import SAMPLE_IDS, header_band

from extractors.model import BBox, Document, Line, LineWord, Page
from extractors.text import parse_text
from parsers.metadata import canonical_province, parse_metadata

FORMATS = ("pdf", "txt")

EXPECTED = {
    "000_c01f5def24a8cc1f": dict(
        province="Thanh Hóa", doc_number=None, doc_symbol="KH-SYT",
        issue_date=date(2023, 12, 1), issue_date_precision="month",
        plan_year=2024, plan_period_start=2024, plan_period_end=2024,
        title="Cải cách hành chính năm 2024 ngành Y tế Thanh Hóa",
        signer_name="Nguyễn Bá Cẩn", signer_title="Q. GIÁM ĐỐC"),
    "001_174c7ea9301aa0d6": dict(
        province="Đồng Nai", doc_number="2027/KH-SYT", doc_symbol="KH-SYT",
        issue_date=date(2020, 4, 16), issue_date_precision="day",
        plan_year=2020, plan_period_start=2020, plan_period_end=2020,
        title="Khắc phục những điểm yếu trong công tác cải cách hành chính năm 2020",
        signer_name="Phan Huy Anh Vũ", signer_title="GIÁM ĐỐC"),
    "002_5402a99ec6066c4b": dict(
        province="Hòa Bình", doc_number=None, doc_symbol="KH-SYT",
        issue_date=date(2024, 1, 1), issue_date_precision="month",
        plan_year=2024, plan_period_start=2024, plan_period_end=2024,
        title="Cải cách hành chính năm 2024",
        signer_name="Bùi Thu Hằng", signer_title="GIÁM ĐỐC"),
    "003_453ccdb535033752": dict(
        province="Bắc Giang", doc_number="14/KH-SYT", doc_symbol="KH-SYT",
        issue_date=date(2023, 1, 15), issue_date_precision="day",
        plan_year=2023, plan_period_start=2023, plan_period_end=2023,
        title="Cải cách hành chính lĩnh vực Y tế năm 2023",
        signer_name="Nguyễn Văn Bình", signer_title="KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"),
    "004_07b90c17cd1837c6": dict(
        province="Quảng Ngãi", doc_number="2609/KH-SYT", doc_symbol="KH-SYT",
        issue_date=date(2021, 10, 4), issue_date_precision="day",
        plan_year=2021, plan_period_start=2021, plan_period_end=2025,
        signer_name="Nguyễn Xuân Mến", signer_title="GIÁM ĐỐC"),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("doc_id", SAMPLE_IDS)
def test_sample_metadata(samples, doc_id, fmt):
    meta = samples.parsed(doc_id, fmt).meta
    for field, value in EXPECTED[doc_id].items():
        assert getattr(meta, field) == value, field
    assert meta.issuer == f"Sở Y tế {EXPECTED[doc_id]['province']}"
    assert meta.low_confidence == {}


@pytest.mark.parametrize("doc_id", SAMPLE_IDS)
def test_pdf_and_txt_give_the_same_title(samples, doc_id):
    assert samples.parsed(doc_id, "pdf").meta.title == samples.parsed(doc_id, "txt").meta.title


def test_title_printed_over_several_lines_is_joined(samples):
    # 004's PDF prints the title on five centred bold lines under "KẾ HOẠCH".
    lines = samples.document("004_07b90c17cd1837c6", "pdf").pages[0].lines
    start = next(i for i, ln in enumerate(lines) if ln.text == "KẾ HOẠCH")
    title_lines = lines[start + 1: start + 6]
    assert all(ln.bold for ln in title_lines) and not lines[start + 6].bold
    title = samples.parsed("004_07b90c17cd1837c6", "pdf").meta.title
    assert title == " ".join(ln.text for ln in title_lines)
    assert title.startswith("Thực hiện cải thiện, nâng cao các Chỉ số cải cách hành chính (PAR INDEX), ")
    assert title.endswith("năm 2021 và giai đoạn 2021 - 2025 của ngành Y tế")
    assert "Căn cứ" not in title


def test_title_on_the_same_line_as_ke_hoach(samples):
    # 000.txt: "KẾ HOẠCH **Cải cách hành chính năm 2024 ngành Y tế Thanh Hóa**" on one line.
    first = samples.document("000_c01f5def24a8cc1f", "txt").pages[0].lines
    assert any(ln.text == "KẾ HOẠCH Cải cách hành chính năm 2024 ngành Y tế Thanh Hóa" for ln in first)
    assert samples.parsed("000_c01f5def24a8cc1f", "txt").meta.title == (
        "Cải cách hành chính năm 2024 ngành Y tế Thanh Hóa")


# --------------------------------------------------------------------------- hand-made documents


def _doc(*texts: str, source_format: str = "txt") -> Document:
    return Document(source_path=f"made-up.{source_format}", source_format=source_format,
                    pages=[Page(number=1, blocks=[Line(t) for t in texts], method="text_file")])


BODY = ("Căn cứ Quyết định số 1/QĐ-UBND ngày 02/01/2022 của UBND thành phố;", "I. MỤC ĐÍCH, YÊU CẦU",
        "1. Nâng cao chất lượng phục vụ người dân.", "Nơi nhận:", "- Như trên;", "- Lưu: VT.")


def test_hand_made_header_with_number_and_full_date():
    meta = parse_metadata(_doc(
        "UBND THÀNH PHỐ HÀ NỘI", "SỞ Y TẾ", "Số: 123/KH-SYT", "Hà Nội, ngày 05 tháng 3 năm 2022",
        "KẾ HOẠCH", "Triển khai công tác cải cách hành chính", "năm 2022 của ngành Y tế", *BODY,
        "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn An"))
    assert meta.province == "Hà Nội"
    assert meta.issuer == "Sở Y tế Hà Nội"
    assert meta.doc_number == "123/KH-SYT"
    assert (meta.issue_date, meta.issue_date_precision) == (date(2022, 3, 5), "day")
    assert meta.title == "Triển khai công tác cải cách hành chính năm 2022 của ngành Y tế"
    assert (meta.plan_year, meta.plan_period_start, meta.plan_period_end) == (2022, 2022, 2022)
    assert (meta.signer_title, meta.signer_name) == ("KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC", "Nguyễn Văn An")


@pytest.mark.parametrize("number_line, expected", [
    ("Số: /KH-SYT", None),
    ("Số:        /KH-SYT", None),
    ("Số : 2027/KH-SYT", "2027/KH-SYT"),
    ("Số: 14 /KH-SYT", "14/KH-SYT"),
    ("Số: 1.234/KH-SYT", "1.234/KH-SYT"),
])
def test_doc_number_blank_or_printed(number_line, expected):
    meta = parse_metadata(_doc("SỞ Y TẾ", number_line, "Hà Nội, ngày 05 tháng 3 năm 2022", "KẾ HOẠCH",
                               "Cải cách hành chính năm 2022", *BODY))
    assert meta.doc_number == expected


@pytest.mark.parametrize("date_line, expected", [
    ("Đồng Nai, ngày 16 tháng 4 năm 2020", (date(2020, 4, 16), "day")),
    ("Thanh Hóa, ngày   tháng 12 năm 2023", (date(2023, 12, 1), "month")),
    ("Hòa Bình, ngày         tháng   01  năm 2024", (date(2024, 1, 1), "month")),
    ("Bắc Giang, ngày   tháng   năm 2023", (date(2023, 1, 1), "year")),
])
def test_issue_date_precision_follows_blank_parts(date_line, expected):
    meta = parse_metadata(_doc("Số: /KH-SYT", date_line, "KẾ HOẠCH", "Cải cách hành chính", *BODY))
    assert (meta.issue_date, meta.issue_date_precision) == expected
    # The place of the date line names the province when no "UBND TỈNH" header is printed.
    assert meta.province == date_line.split(",")[0]


def test_number_and_date_on_one_joined_line():
    # A conversion that keeps both header columns on one line (as 002.txt does).
    meta = parse_metadata(_doc(
        " UBND TỈNH HÒA BÌNH         CỘNG  HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM ",
        "      Số :            /KH-SYT                     Hòa Bình, ngày         tháng   01  năm 2024 ",
        "KẾ HOẠCH", "Cải cách hành chính năm 2024", *BODY))
    assert (meta.province, meta.doc_number) == ("Hòa Bình", None)
    assert (meta.issue_date, meta.issue_date_precision) == (date(2024, 1, 1), "month")


@pytest.mark.parametrize("title, years", [
    ("Cải cách hành chính năm 2024", (2024, 2024, 2024)),
    ("Thực hiện cải thiện các Chỉ số năm 2021 và giai đoạn 2021 - 2025 của ngành Y tế", (2021, 2021, 2025)),
    ("Cải cách hành chính giai đoạn 2021-2025", (2021, 2021, 2025)),
    ("Cải cách hành chính giai đoạn 2021 đến năm 2030", (2021, 2021, 2030)),
    ("Khắc phục những điểm yếu trong công tác cải cách hành chính", (2019, 2019, 2019)),  # from the date
])
def test_plan_year_and_period_from_the_title(title, years):
    meta = parse_metadata(_doc("Số: 9/KH-SYT", "Lào Cai, ngày 20 tháng 12 năm 2019", "KẾ HOẠCH", title, *BODY))
    assert meta.title == title
    assert (meta.plan_year, meta.plan_period_start, meta.plan_period_end) == years


def test_signer_in_the_right_column_beside_the_recipients():
    # PDF geometry: "Nơi nhận" and its list on the left, title and name on the right.
    def line(text, x0, top, bold=False):
        return Line(text, bbox=BBox(x0, top, x0 + 6 * len(text), top + 12), bold=bold)

    page = Page(number=1, width=595, height=842, blocks=[
        line("Số: 55/KH-SYT", 116, 100), line("Lạng Sơn, ngày 02 tháng 02 năm 2023", 280, 100),
        line("KẾ HOẠCH", 274, 135, True), line("Cải cách hành chính năm 2023", 200, 153, True),
        line("Căn cứ Kế hoạch số 10/KH-UBND ngày 01/01/2023 của UBND tỉnh;", 85, 190),
        line("Nơi nhận:", 85, 609, True), line("KT. GIÁM ĐỐC", 369, 609, True),
        line("- UBND tỉnh (b/c);", 85, 623), line("PHÓ GIÁM ĐỐC", 366, 625, True),
        line("- Lưu: VT, VP.", 85, 686), line("Hoàng Văn Tám", 85, 700), line("Lê Thị Mai", 367, 705, True),
    ])
    meta = parse_metadata(Document(source_path="x.pdf", source_format="pdf", pages=[page]))
    assert meta.signer_title == "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"
    assert meta.signer_name == "Lê Thị Mai"
    assert meta.province == "Lạng Sơn"
    assert (meta.doc_number, meta.issue_date) == ("55/KH-SYT", date(2023, 2, 2))


@pytest.mark.parametrize("title_lines, expected", [
    (["GIÁM ĐỐC"], "GIÁM ĐỐC"),
    (["Q. GIÁM ĐỐC"], "Q. GIÁM ĐỐC"),
    (["**KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC**"], "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"),
])
def test_signer_title_forms_in_converted_text(title_lines, expected):
    text = "\n".join(["Số: 7/KH-SYT", "Hà Nam, ngày 03 tháng 5 năm 2021", "KẾ HOẠCH", "Cải cách hành chính năm 2021",
                      *BODY, "", *title_lines, "", "", "Trần Quốc Huy"])
    meta = parse_metadata(Document(source_path="x.txt", source_format="txt", pages=parse_text(text)))
    assert (meta.signer_title, meta.signer_name) == (expected, "Trần Quốc Huy")


def test_document_without_header_gives_nulls_not_errors():
    meta = parse_metadata(_doc("Một đoạn văn bản bất kỳ không có tiêu đề kế hoạch."))
    assert (meta.province, meta.doc_number, meta.issue_date, meta.title, meta.signer_name) == (None,) * 5
    assert meta.plan_year is None and meta.issuer is None


@pytest.mark.parametrize("spelling", ["Thanh Hoá", "THANH HÓA", "thanh hóa", "Thanh  Hóa"])
def test_province_spellings_are_canonical(spelling):
    assert canonical_province(spelling) == "Thanh Hóa"


def test_number_without_colon_and_signer_name_in_capitals():
    meta = parse_metadata(_doc(
        "UBND TỈNH BÌNH ĐỊNH", "SỞ Y TẾ", "Số 45/KH-SYT", "Bình Định, ngày 10 tháng 02 năm 2022",
        "KẾ HOẠCH", "Cải cách hành chính năm 2022", *BODY, "GIÁM ĐỐC", "(Đã ký)", "TRẦN THỊ BÌNH"))
    assert meta.doc_number == "45/KH-SYT"
    assert meta.province == "Bình Định"
    assert (meta.signer_title, meta.signer_name) == ("GIÁM ĐỐC", "TRẦN THỊ BÌNH")


def test_body_citation_is_not_the_plan_number():
    meta = parse_metadata(_doc("Số: /KH-SYT", "Đồng Nai, ngày 16 tháng 4 năm 2020", "KẾ HOẠCH",
                               "Cải cách hành chính", "Thực hiện Kế hoạch số 244/KH-UBND ngày 25/12/2023;"))
    assert meta.doc_number is None


# --------------------------------------------------------------------------- issue date vs own dates

_LETTER = """UBND TỈNH KIÊN GIANG
SỞ Y TẾ
Số: 2242/SYT-NVY
Kiên Giang, ngày {day} tháng 12 năm 2017
V/v báo cáo công tác chăm sóc sức khỏe người cao tuổi năm 2017
Kính gửi: Giám đốc các bệnh viện trong tỉnh.
Căn cứ Công văn số 3544/LĐTBXH-BTXH ngày 27/11/2017 của Sở Lao động – Thương binh và Xã hội;
Văn bản báo cáo gửi về Sở Y tế trước ngày 21/12/2017.
"""


def _meta(text: str):
    return parse_metadata(Document(source_path="x.txt", source_format="txt", pages=parse_text(text)))


def test_an_issue_date_after_the_deadline_the_document_sets_is_cut_and_flagged():
    meta = _meta(_LETTER.format(day="11"))  # issued before its deadline: kept as read
    assert (meta.issue_date, meta.issue_date_precision) == (date(2017, 12, 11), "day")
    assert "issue_date" not in meta.low_confidence
    meta = _meta(_LETTER.format(day="28"))  # "28" cannot be: the reports are due on the 21st
    assert (meta.issue_date, meta.issue_date_precision) == (date(2017, 12, 1), "month")
    assert "issue_date" in meta.low_confidence
    # a deadline in another year (a body date OCR'd "2010" for 2017, a cited old deadline):
    # the date is kept for a human to judge, and flagged
    meta = _meta(_LETTER.format(day="11").replace("21/12/2017", "21/12/2010"))
    assert meta.issue_date == date(2017, 12, 11) and "issue_date" in meta.low_confidence


_PLAN = """UBND TỈNH THANH HÓA
SỞ Y TẾ
Số: 15/KH-SYT
Thanh Hóa, ngày 20 tháng 12 năm {year}
KẾ HOẠCH
Cải cách hành chính năm 2024
"""


@pytest.mark.parametrize("year, flagged", [(2023, False), (2024, False), (2025, True), (2021, True)])
def test_a_plan_is_not_issued_after_its_period_nor_long_before_it(year, flagged):
    meta = _meta(_PLAN.format(year=year))
    assert (meta.plan_period_start, meta.plan_period_end) == (2024, 2024)
    assert meta.issue_date == date(year, 12, 20)  # another year: kept, for a human to judge
    assert ("issue_date" in meta.low_confidence) is flagged


def test_the_last_dated_task_deadline_bounds_the_issue_date():
    from parsers.metadata import check_issue_date
    from parsers.plan import task_due_dates
    from parsers.records import PlanMeta

    meta = PlanMeta(issue_date=date(2024, 3, 28), issue_date_precision="day", plan_year=2024,
                    plan_period_start=2024, plan_period_end=2024, period_stated=True, plan_heading=True)
    cells = ["Trước ngày 15/3/2024", "Quý I/2024", "Thường xuyên", "Trước ngày 20/3", None]
    assert task_due_dates(meta, cells) == [date(2024, 3, 15)]  # day-dated and with its year only
    check_issue_date(meta, task_due_dates(meta, cells))
    assert (meta.issue_date, meta.issue_date_precision) == (date(2024, 3, 1), "month")
    assert "issue_date" in meta.low_confidence


@pytest.mark.parametrize("conf, flagged", [(50.0, False), (90.0, True)])
def test_a_deadline_ocr_read_unsure_does_not_bound_the_issue_date(conf, flagged):
    """pAs_11: "trước ngày 10/8/2010." read at 50 for 10/8/2017, under a date read surely: no
    evidence against it.  The same deadline read surely is (the years then disagree: flagged)."""
    from extractors.model import LineWord

    date_line = Line(text="Kiên Giang, ngày 03 tháng 08 năm 2017", bbox=BBox(258, 98, 500, 109), confidence=93.0,
                     words=[LineWord(w, 93.0) for w in "Kiên Giang, ngày 03 tháng 08 năm 2017".split()])
    words = [("cần", 96.0), ("gửi", 71.0), ("về", 94.0), ("Sở", 85.0), ("Y", 39.0), ("tế", 90.0), ("trước", 96.7),
             ("ngày", 96.0), ("10/8/2010.", conf)]
    body = Line(text=" ".join(w for w, _ in words), bbox=BBox(70, 400, 520, 411), confidence=80.0,
                words=[LineWord(w, c) for w, c in words])
    meta = _scan(_ocr("Số: 11/SYT-GAVI", 78, 96, 93), date_line, body)
    assert meta.issue_date == date(2017, 8, 3)
    assert ("issue_date" in meta.low_confidence) is flagged


def test_not_after_keeps_the_part_of_a_date_that_can_stand():
    from parsers.handwriting import not_after

    d = date(2024, 12, 28)
    assert not_after(d, "day", date(2024, 12, 31)) == (d, "day")
    assert not_after(d, "day", date(2024, 12, 15)) == (date(2024, 12, 1), "month")
    assert not_after(d, "day", date(2024, 11, 30)) == (date(2024, 1, 1), "year")
    assert not_after(d, "day", date(2023, 12, 31)) == (None, None)
    assert not_after(date(2024, 12, 1), "month", date(2024, 12, 1)) == (date(2024, 12, 1), "month")


# --------------------------------------------------------------------------- signer under a stamp


def _ocr(text: str, x0: float, top: float, conf: float = 90.0) -> Line:
    from extractors.model import LineWord

    words = text.split()
    x1 = x0 + 7 * len(text)
    return Line(text=text, bbox=BBox(x0, top, x1, top + 11), confidence=conf,
                words=[LineWord(w, conf) for w in words])


def _scan(*lines: Line):
    return parse_metadata(Document("x.pdf", "pdf", [Page(1, blocks=list(lines), width=601.0, height=842.0,
                                                        method="ocr")]))


def test_a_signer_name_below_the_stamp_is_taken_over_a_misread_title_tail():
    # SQo_2264 as read: "CHÁNH VĂN PHÒNG" read "CHÁNH" / "VĂN PHO", the stamp's specks, then the name
    meta = _scan(_ocr("TL. GIÁM ĐỐC", 366, 512), _ocr("Nơi nhận:", 75, 516), _ocr("CHÁNH", 342, 528),
                 _ocr("VĂN PHO", 397, 530), _ocr("- Như trên;", 76, 533), _ocr("sở,", 360, 563, 85),
                 _ocr("VÀ", 406, 574, 61), _ocr("XIỆN GÀ", 352, 613, 68), _ocr("Phạm Minh Tâm", 353, 629, 96))
    assert meta.signer_name == "Phạm Minh Tâm" and "signer_name" not in meta.low_confidence


@pytest.mark.parametrize("read, why", [("Văn Phúc", "the family name under the stamp"),
                                       ("Tà Văn Phúc", "a family name misread"),
                                       ("Hoàng Anh", "two words: a part may be lost")])
def test_an_ocr_signer_name_that_may_have_lost_a_part_is_flagged(read, why):
    meta = _scan(_ocr("KT. GIÁM ĐỐC", 360, 600), _ocr("PHÓ GIÁM ĐỐC", 366, 609), _ocr(read, 369, 700, 96))
    assert meta.signer_name == read and "signer_name" in meta.low_confidence, why
    meta = _scan(_ocr("KT. GIÁM ĐỐC", 360, 600), _ocr("PHÓ GIÁM ĐỐC", 366, 609), _ocr("Hà Văn Phúc", 369, 700, 96))
    assert meta.signer_name == "Hà Văn Phúc" and "signer_name" not in meta.low_confidence


def test_a_misread_title_is_no_name_and_a_scan_without_a_signer_is_flagged():
    # 28l_02: the title "GIÁM ĐỐC" read "IÁM ĐÓC" under the stamp, the name not read at all
    meta = _scan(_ocr("Nơi nhận:", 75, 600), _ocr("- Như trên;", 76, 612), _ocr("IÁM ĐÓC", 401, 709, 70))
    assert meta.signer_name is None and "signer_name" in meta.low_confidence
    # D04_02: "Nơi nhận" read "Noi hhận", the title lost, the name alone in the right half
    meta = _scan(_ocr("Noi hhận:", 87, 339, 74), _ocr("- Lưu: VT, kvXuyen.", 87, 402),
                 _ocr("TÁM ĐÓC SỞ Y TẾ", 370, 439, 80), _ocr("Lê Hoàng Anh", 382, 458, 96))
    assert meta.signer_name == "Lê Hoàng Anh" and "signer_title" in meta.low_confidence
    assert "signer_name" not in meta.low_confidence


@pytest.mark.parametrize("lines, why", [
    ((("TL. GIÁM ĐỐC", 366, 600), ("CHÁNH", 380, 612)), "SQo_2264: 'VĂN PHÒNG' under the stamp"),
    ((("TRƯỞNG BAN", 380, 600), ("TÁM ĐÓC SỞ Y TẾ", 366, 612)), "D04_02: 'GIÁM' read 'TÁM'"),
])
def test_an_ocr_title_line_that_names_no_office_flags_the_title(lines, why):
    meta = _scan(*(_ocr(t, x, y) for t, x, y in lines), _ocr("Hà Văn Phúc", 369, 700, 96))
    assert meta.signer_title is not None and "signer_title" in meta.low_confidence, why
    # the same block read right is trusted
    meta = _scan(_ocr("KT. GIÁM ĐỐC", 360, 600), _ocr("PHÓ GIÁM ĐỐC", 366, 612), _ocr("Hà Văn Phúc", 369, 700, 96))
    assert meta.signer_title == "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC" and "signer_title" not in meta.low_confidence
    meta = _scan(_ocr("TM. ỦY BAN NHÂN DÂN", 350, 590), _ocr("KT. CHỦ TỊCH", 360, 600), _ocr("PHÓ CHỦ TỊCH", 366, 612),
                 _ocr("Hà Văn Phúc", 369, 700, 96))
    assert meta.signer_title == "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH" and "signer_title" not in meta.low_confidence


@pytest.mark.parametrize("lines, why", [
    ((("GIÁM ĐỐC", 366, 600), ("PHÓGIÁM ĐỚC", 366, 612)), "Kjk_05: the deputy's line run together"),
    ((("GIÁM ĐỐC", 402, 594), ("PHÓ GIÁM ĐỐC", 366, 609), ("e.", 350, 692)), "zmQ_2276: a speck of the stamp"),
    ((("GIÁM ĐÓC", 402, 594), ("PHÓ GIÁM ĐỐC", 366, 609)), "the bold ố read ó"),
])
def test_a_deputy_block_read_without_its_prefix_gets_the_prefix_its_office_prints(lines, why):
    """ "KT." (ký thay) is what a deputy signing for the head prints before the head's office
    (Decree 30/2020): a scan's "GIÁM ĐỐC / PHÓ GIÁM ĐỐC" lost it under the signature.  A line
    with an office's letters but not its diacritics or spaces is that office."""
    meta = _scan(*(_ocr(t, x, y) for t, x, y in lines), _ocr("Hà Văn Phúc", 369, 718, 96))
    assert meta.signer_title == "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC" and "signer_title" not in meta.low_confidence, why
    assert meta.signer_name == "Hà Văn Phúc", why


@pytest.mark.parametrize("lines, why", [
    ((("GIÁM ĐỐC", 384, 666), ("PHÓ CIẮM ĐỐC", 345, 671)), "dQP_2242: the red deputy line, one letter misread"),
    ((("GIÁM ĐỐC", 384, 666), ("HỎ GIẢM ĐỚC", 348, 671)), "its first letter cut off"),
    ((("GIÁM ĐÓ", 370, 716), ("SSHÓ GIẢM ĐỐC", 350, 722)), "Xr7_02: a title and its deputy line both damaged"),
    ((("\\-GIÁM ĐÓ", 368, 630), ("ĐỐC", 425, 631), ("PHÓ GIẢM ĐỐC", 350, 637)), "kwa_179: in two pieces"),
    ((("VI. GIÁM ĐỐC", 349, 658), ("⁄RHÓ GIÁM ĐỐC", 323, 663), ("+4", 431, 695), ("SỐ ( VÀ", 336, 697)),
     "Q5P_17: a handwritten KT. read VI., the stamp's ring text under the block"),
])
def test_a_damaged_deputy_line_under_its_office_is_the_deputys_title(lines, why):
    """A line read under an office with a letter or two of its deputy's title lost or misread is
    that title (the letters closer to "PHÓ GIÁM ĐỐC" than to "GIÁM ĐỐC"); a title line damaged
    the same way is its office when the deputy line under it names the same one."""
    meta = _scan(*(_ocr(t, x, y) for t, x, y in lines), _ocr("Hà Văn Phúc", 369, 790, 96))
    assert meta.signer_title == "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC" and "signer_title" not in meta.low_confidence, why


@pytest.mark.parametrize("again", ["PHÓ GIÁM ĐỐC", "HÓ GIẢM ĐỐC"])
def test_a_deputy_line_read_twice_is_one_line(again):
    """A page whose page pass read the whole deputy block, and the band under the title read its
    second line again: the title is the block's, not three lines."""
    meta = _scan(_ocr("KT. GIÁM ĐỐC", 360, 600), _ocr("PHÓ GIÁM ĐỐC", 366, 612), _ocr(again, 362, 616, 70),
                 _ocr("Hà Văn Phúc", 369, 700, 96))
    assert meta.signer_title == "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC" and "signer_title" not in meta.low_confidence
    assert meta.signer_name == "Hà Văn Phúc"


@pytest.mark.parametrize("lines, why", [
    ((("GIÁM ĐỐC", 384, 666), ("GIẢM ĐỐC", 348, 671)), "the office twice: the deputy's PHÓ not read"),
    ((("GIÁM ĐÓ", 370, 716), ("GIẢM ĐỐC", 350, 722)), "a damaged title over the office read again"),
    ((("GIÁM ĐÓ", 370, 716),), "a damaged title alone"),
])
def test_an_office_read_twice_or_damaged_alone_is_no_confident_title(lines, why):
    meta = _scan(*(_ocr(t, x, y) for t, x, y in lines), _ocr("Hà Văn Phúc", 369, 790, 96))
    assert meta.signer_title != "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC", why
    assert meta.signer_title is None or "signer_title" in meta.low_confidence, why


def test_deputy_readings_are_judged_against_the_office_itself():
    from parsers.signers import as_deputy, office_misread, office_of

    assert as_deputy("PHÓ CIẮM ĐỐC", "GIÁM ĐỐC") == "PHÓ GIÁM ĐỐC"
    assert as_deputy("PHO CHU TICH", "CHỦ TỊCH") == "PHÓ CHỦ TỊCH"
    for read in ("GIÁM ĐỐC", "GIẢM ĐỐC", "1 CẮM ĐỒC.", "CHÁNH VĂN PHÒNG", "PHÓ CHỦ TỊCH"):
        assert as_deputy(read, "GIÁM ĐỐC") is None, read
    assert office_misread("GIÁM ĐÓ") == office_misread("VI. GIÁM ĐỐC") == "GIÁM ĐỐC"
    assert office_misread("ĐÓC") is None and office_misread("Hà Văn Phúc") is None
    assert office_of("KT. GIÁM ĐỐC") == "GIÁM ĐỐC" and office_of("GIÁM ĐỐC / PHÓ GIÁM ĐỐC") is None


def test_a_scan_title_whose_name_was_not_read_is_kept():
    """A clean "GIÁM ĐỐC" in the right half, the name under it lost to the stamp: the title is
    what the page says; the name is null and flagged."""
    meta = _scan(_ocr("Nơi nhận:", 75, 512), _ocr("GIÁM ĐỐC", 415, 512), _ocr("- Như trên;", 76, 525))
    assert meta.signer_title == "GIÁM ĐỐC" and "signer_title" not in meta.low_confidence
    assert meta.signer_name is None and "signer_name" in meta.low_confidence
    # in the left half it is no signer block
    meta = _scan(_ocr("GIÁM ĐỐC", 80, 512), _ocr("- Như trên;", 76, 525))
    assert meta.signer_title is None


@pytest.mark.parametrize("lines, why", [
    ([("TL. GIÁM ĐỐC", 366, 600)], "TL. puts the signer's own office under it (SQo_2264: CHÁNH VĂN PHÒNG lost)"),
    ([("KT. GIÁM ĐỐC", 360, 600)], "KT. puts the deputy's office under it"),
    ([("PHÓ GIÁM ĐỐC", 366, 609)], "a deputy signs for the head: the KT. GIÁM ĐỐC line lost (dQP_2242 as a JPEG)"),
])
def test_an_ocr_title_that_cannot_be_whole_is_flagged(lines, why):
    meta = _scan(*(_ocr(t, x, y) for t, x, y in lines), _ocr("Hà Văn Phúc", 369, 700, 96))
    assert meta.signer_title is not None and "signer_title" in meta.low_confidence, why
    assert meta.signer_name == "Hà Văn Phúc"
    # the whole titles are not flagged; a text layer cannot lose a line to a stamp
    for whole in ([("TL. GIÁM ĐỐC", 366, 600), ("CHÁNH VĂN PHÒNG", 362, 612)], [("Q. GIÁM ĐỐC", 366, 600)],
                  [("KT. GIÁM ĐỐC", 360, 600), ("PHÓ GIÁM ĐỐC", 366, 612)]):
        meta = _scan(*(_ocr(t, x, y) for t, x, y in whole), _ocr("Hà Văn Phúc", 369, 700, 96))
        assert "signer_title" not in meta.low_confidence, whole
    typed = [Line(text=t, bbox=BBox(x, y, x + 100, y + 11)) for t, x, y in [*lines, ("Hà Văn Phúc", 369, 700)]]
    meta = parse_metadata(Document("x.pdf", "pdf", [Page(1, blocks=typed, width=601.0, height=842.0)]))
    assert meta.signer_title is not None and "signer_title" not in meta.low_confidence


def test_a_typed_block_keeps_its_title_as_printed():
    typed = [Line(text=t, bbox=BBox(366, y, 470, y + 11)) for t, y in (("GIÁM ĐỐC", 600), ("PHÓ GIÁM ĐỐC", 612),
                                                                       ("Hà Văn Phúc", 700))]
    meta = parse_metadata(Document("x.pdf", "pdf", [Page(1, blocks=list(typed), width=601.0, height=842.0)]))
    assert meta.signer_title == "GIÁM ĐỐC / PHÓ GIÁM ĐỐC"


def test_office_spelling_and_the_deputy_prefix_come_from_the_vocabulary():
    from parsers.signers import office_as_printed, with_head_prefix

    assert office_as_printed("PHÓGIÁM ĐỚC") == "PHÓ GIÁM ĐỐC"
    assert office_as_printed("KT. GIÁM ĐÓC") == "KT. GIÁM ĐỐC"
    assert office_as_printed("CHỦ TICH") == "CHỦ TỊCH"
    # letters lost or changed are no spelling: left as read (and judged as a misreading)
    for read in ("IÁM ĐÓC", "TÁM ĐÓC SỞ Y TẾ", "CHÁNH", "GIÁM ĐỐC SỞ Y TẾ"):
        assert office_as_printed(read) == read
    assert with_head_prefix("CHỦ TỊCH / PHÓ CHỦ TỊCH") == "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"
    for title in ("GIÁM ĐỐC", "TL. GIÁM ĐỐC / CHÁNH VĂN PHÒNG", "GIÁM ĐỐC / PHÓ CHÁNH VĂN PHÒNG",
                  "Q. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"):
        assert with_head_prefix(title) == title


def test_a_scan_whose_signer_title_was_not_read_flags_it():
    meta = _scan(_ocr("Nơi nhận:", 75, 600), _ocr("- Như trên;", 76, 612), _ocr("Lê Hoàng Anh", 382, 700, 96))
    assert meta.signer_title is None and "signer_title" in meta.low_confidence


# --------------------------------------------------------------------------- agency lines of a scan


def test_a_misread_agency_line_is_the_known_body_and_a_damaged_motto_no_agency():
    # U2Z_22 as read: the motto damaged ("Đôc lập — Tư do — Hành phức") between the agency
    # lines, "SỞ Y TẾ" after it, the symbol's "SYT" read "SVT"
    meta = _scan(_ocr("UBND TỈNH KIÊN GIANG", 72, 60), _ocr("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAX", 246, 60),
                 _ocr("Đôc lập — Tư do — Hành phức", 288, 72), _ocr("SỞ Y TẾ", 108, 74), _ocr("Số: 22/GM-SVT", 78, 96),
                 _ocr("Kiên Giang, ngày 08 tháng 9 năm 2017", 258, 98))
    assert (meta.issuer, meta.province, meta.doc_number) == ("Sở Y tế Kiên Giang", "Kiên Giang", "22/GM-SYT")
    # 28l_02 / dQP_2242: "SỞ Y TẾ" read "Sơyte", "Sớy Tẻ"; a unit code is left as read
    for read in ("Sơyte", "Sớy Tẻ", "SỞ V TẾ"):
        meta = _scan(_ocr("UBND TỈNH KIÊN GIANG", 72, 60), _ocr(read, 108, 74), _ocr("Số: 513/SYT-NVD", 78, 96),
                     _ocr("Kiên Giang, ngày 24 tháng 4 năm 2018", 258, 98))
        assert (meta.issuer, meta.doc_number) == ("Sở Y tế Kiên Giang", "513/SYT-NVD"), read
    # a line OCR joined across both columns still gives its agency part
    meta = _scan(_ocr("UBND TỈNH KIÊN GIANG CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 107, 60), _ocr("SỞ Y TẾ", 141, 74),
                 _ocr("Số: 22/SYT-NVY", 125, 96))
    assert meta.issuer == "Sở Y tế Kiên Giang"


# --------------------------------------------------------------------------- the printed symbol


def _band_meta(stem: str, *above: Line):
    """parse_metadata on the real OCR'd number and date lines of a scan's header band (below
    ``above``, agency lines as read on the same scan)."""
    lines, _ = header_band(stem)
    return _scan(*above, *lines)


@pytest.mark.parametrize("stem, symbol, why", [
    ("QSx_29_SYT_KHTC", "SYT-KHTC", "'29' read '2 2' (one word at 0), the line's mean 55; '/SYT-KHTC' at 79"),
    ("zmQ_2276_TB_SYT", "TB-SYT", "'2276' read '29+É' at 0; '/TB' '-SYT' at 89 and 91, the dash apart"),
])
def test_unsure_handwritten_digits_keep_the_printed_symbol(stem, symbol, why):
    meta = _band_meta(stem)
    assert meta.doc_number is None and "doc_number" in meta.low_confidence, why
    assert meta.doc_symbol == symbol and "doc_symbol" not in meta.low_confidence, why


def test_a_symbol_glued_to_the_handwriting_is_kept_and_flagged():
    # 9uV_2275: "Số:22#2/SYT-NVY" one word at 50: the symbol right, but nothing of it was read
    # surely on its own, so a human checks it as well as the number
    lines, _ = header_band("9uV_2275_SYT_NVY")
    assert [(w.text, w.conf) for w in lines[0].words] == [("Số:22#2/SYT-NVY", 49.5)]
    meta = _band_meta("9uV_2275_SYT_NVY")
    assert meta.doc_number is None and meta.doc_symbol == "SYT-NVY"
    assert {"doc_number", "doc_symbol"} <= set(meta.low_confidence)


def test_a_read_number_and_its_symbol_agree_and_the_issuer_code_is_put_back_without_the_number():
    # U2Z_22 as read, under its agency lines: "Số: 22/GM-SVT" → 22/GM-SYT, symbol GM-SYT
    agency = (_ocr("UBND TỈNH KIÊN GIANG", 72, 60), _ocr("SỞ Y TẾ", 108, 74))
    meta = _band_meta("U2Z_22_gm_syt_2_", *agency)
    assert (meta.doc_number, meta.doc_symbol) == ("22/GM-SYT", "GM-SYT")
    assert not {"doc_number", "doc_symbol"} & set(meta.low_confidence)
    # the same code misread beside handwriting Tesseract read as strokes (BeW_10's "Số:JU"):
    # the number is flagged, the issuer's own code is put back into the symbol all the same
    meta = _scan(*agency, _ocr("Số:JU /GM-SVT", 78, 96), _ocr("Kiên Giang, ngày 16 tháng 01 năm 2018", 258, 98))
    assert meta.doc_number is None and "doc_number" in meta.low_confidence
    assert meta.doc_symbol == "GM-SYT" and "doc_symbol" not in meta.low_confidence


def test_a_scan_whose_number_line_was_not_read_flags_the_symbol():
    # dQP_2242 as read: the "Số: 2242/SYT-NVY" line lost entirely under the handwriting
    meta = _scan(_ocr("UBND TỈNH KIÊN GIANG", 72, 60), _ocr("SỚY TẺ", 108, 74, 69),
                 _ocr("Kiên Giang, ngày /Í tháng 12 năm 2017", 258, 98, 87))
    assert meta.doc_number is None and meta.doc_symbol is None
    assert {"doc_number", "doc_symbol"} <= set(meta.low_confidence)


def test_a_typed_symbol_is_kept_with_a_blank_number_and_never_flagged():
    meta = parse_metadata(_doc("SỞ Y TẾ", "Số: /KH - SYT-CĐN", "Hà Nội, ngày   tháng 12 năm 2023", "KẾ HOẠCH",
                               "Phòng chống dịch năm 2024", *BODY))
    assert (meta.doc_number, meta.doc_symbol, meta.doc_type) == (None, "KH-SYT-CĐN", "KH")
    assert "doc_symbol" not in meta.low_confidence


def test_a_number_whose_symbol_is_unsure_is_flagged_with_it():
    # AQr_2193: "2193" by hand read by two recognisers, the symbol glued to it at 35 ("TB-SVT")
    from extractors.model import Reread

    line = _ocr("Số:2/13/TB-SVT", 78, 96, 35)
    line.rereads = [Reread("number", "2193", 32.2, "rapid"), Reread("number", "2193", 75.7, "mnist", view="glyphs")]
    meta = _scan(line)
    assert meta.doc_number == "2193/TB-SVT" and meta.doc_symbol == "TB-SVT"
    assert {"doc_number", "doc_symbol"} <= set(meta.low_confidence)
    # the same digits beside a symbol read surely on its own word are trusted
    line = Line(text="Số: 2/13 /TB-SYT", bbox=BBox(78, 96, 190, 107), confidence=70.0,
                words=[LineWord("Số:", 93.0), LineWord("2/13", 35.0), LineWord("/TB-SYT", 90.0)])
    line.rereads = [Reread("number", "2193", 32.2, "rapid"), Reread("number", "2193", 75.7, "mnist", view="glyphs")]
    meta = _scan(line)
    assert meta.doc_number == "2193/TB-SYT" and not {"doc_number", "doc_symbol"} & set(meta.low_confidence)


def test_a_symbol_glued_to_the_handwriting_is_judged_by_its_reading_alone():
    """AQr_2193 as read: the symbol glued to the handwritten number at 35 ("TB-SVT"); read alone
    (extractors.ocr._reread_symbol) it is "/TB-SYT" at 85, which stands: the number is trusted.
    A reading alone no surer than the first, or below the symbol's bar, changes nothing."""
    from extractors.model import Reread

    digits = [Reread("number", "2193", 32.2, "rapid"), Reread("number", "2193", 75.7, "mnist", view="glyphs")]
    for alone, symbol, trusted in ((Reread("symbol", "/TB-SYT,", 85.0, "tess", view="alone"), "TB-SYT", True),
                                   (Reread("symbol", "/TB-SYT", 30.0, "tess", view="alone"), "TB-SVT", False),
                                   (Reread("symbol", "/TB-SYT", 58.0, "tess", view="alone"), "TB-SVT", False),
                                   (Reread("symbol", "Z7 ,.", 90.0, "tess", view="alone"), "TB-SVT", False)):
        line = _ocr("Số:2/13/TB-SVT", 78, 96, 35)
        line.rereads = [*digits, alone]
        meta = _scan(line)
        assert meta.doc_symbol == symbol and meta.doc_number == f"2193/{symbol}", alone
        assert trusted == (not {"doc_number", "doc_symbol"} & set(meta.low_confidence)), alone


def test_the_symbol_names_the_issuer_when_the_handwritten_number_is_unsure():
    # no agency line read, the number a stroke ("JU"): the printed symbol still says who issued it
    meta = _scan(_ocr("Số:JU /KH-SYT", 78, 96, 60), _ocr("Kiên Giang, ngày 08 tháng 9 năm 2017", 258, 98))
    assert meta.doc_number is None and meta.doc_symbol == "KH-SYT"
    assert meta.issuer is not None and meta.issuer.startswith("Sở Y tế") and meta.doc_type == "KH"
