"""Metadata for any issuer and document type (parsers.issuers, parsers.signers, parsers.metadata).

The headers, signature blocks and titles below are made up in the shapes Vietnamese
administrative documents print (Nghị định 30/2020/NĐ-CP forms): People's Committees of
provinces and of centrally-run cities, a Sở under its committee, ministries and their Cục,
the Prime Minister, a unit of a Sở, hospitals and universities.  None is copied from a
sample; the real dev2 plans are checked in test_dev2_plans.py.
"""

from __future__ import annotations

from datetime import date

import pytest

from extractors.errors import ExtractionError
from extractors.model import BBox, Cell, Document, Line, LineWord, Page, Table
from khsyt.extract import parse_plan
from parsers.issuers import parse_issuer
from parsers.metadata import complete_period, parse_metadata, stated_period
from parsers.signers import parse_signature

# --------------------------------------------------------------------------- issuer chain


@pytest.mark.parametrize("header, name, level, province", [
    ("ỦY BAN NHÂN DÂN TỈNH NGHỆ AN", "UBND tỉnh Nghệ An", "province", "Nghệ An"),
    ("ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG", "UBND Thành phố Đà Nẵng", "province", "Đà Nẵng"),
    ("UBND TỈNH LÀO CAI SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", "Sở Tài nguyên và Môi trường Lào Cai", "department",
     "Lào Cai"),
    ("UBND TỈNH LÀO CAI SỞ Y TẾ", "Sở Y tế Lào Cai", "department", "Lào Cai"),
    ("BỘ TÀI CHÍNH", "Bộ Tài chính", "central", None),
    ("BỘ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN", "Bộ Nông nghiệp và Phát triển nông thôn", "central", None),
    ("THỦ TƯỚNG CHÍNH PHỦ", "Thủ tướng Chính phủ", "central", None),
    ("BỘ Y TẾ CỤC AN TOÀN THỰC PHẨM", "Cục An toàn thực phẩm", "central", None),
    ("SỞ Y TẾ CẦN THƠ THANH TRA SỞ", "Thanh tra Sở", "other", "Cần Thơ"),
    ("SỞ Y TẾ TỈNH BÌNH ĐỊNH BỆNH VIỆN ĐA KHOA TỈNH", "Bệnh viện Đa khoa tỉnh", "other", "Bình Định"),
    ("UBND HUYỆN MƯỜNG LA", "UBND huyện Mường La", "other", None),
    # the motto printed beside the agency on the same line
    ("UBND TỈNH YÊN BÁI         CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "UBND tỉnh Yên Bái", "province", "Yên Bái"),
])
def test_issuer_level_and_province_from_the_header_chain(header, name, level, province):
    iss = parse_issuer(header)
    assert (iss.name, iss.level, iss.province) == (name, level, province)


def test_a_school_under_its_ministry_keeps_the_printed_spelling():
    text = "Trường Đại học Kinh tế Quốc dân ban hành kế hoạch này."
    iss = parse_issuer("BỘ GIÁO DỤC VÀ ĐÀO TẠO TRƯỜNG ĐẠI HỌC KINH TẾ QUỐC DÂN", text)
    assert (iss.name, iss.parents) == ("Trường Đại học Kinh tế Quốc dân", ["Bộ Giáo dục và Đào tạo"])
    assert iss.level == "other"


def test_no_head_noun_is_no_issuer():
    assert parse_issuer("6225/ABC-VP") is None
    assert parse_issuer("") is None


# --------------------------------------------------------------------------- signature


@pytest.mark.parametrize("block, title, name", [
    ("TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH Lê Văn Hai", "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", "Lê Văn Hai"),
    ("TM. ỦY BAN NHÂN DÂN CHỦ TỊCH Đỗ Thị Lan", "CHỦ TỊCH", "Đỗ Thị Lan"),
    ("KT. BỘ TRƯỞNG THỨ TRƯỞNG Phạm Quang Huy", "KT. BỘ TRƯỞNG / THỨ TRƯỞNG", "Phạm Quang Huy"),
    ("KT. THỦ TƯỚNG PHÓ THỦ TƯỚNG Trần Minh Sơn", "KT. THỦ TƯỚNG / PHÓ THỦ TƯỚNG", "Trần Minh Sơn"),
    ("TL. BỘ TRƯỞNG VỤ TRƯỞNG VỤ PHÁP CHẾ Ngô Thị Hà", "TL. BỘ TRƯỞNG / VỤ TRƯỞNG VỤ PHÁP CHẾ", "Ngô Thị Hà"),
    ("Q. HIỆU TRƯỞNG Vũ Đức Anh", "Q. HIỆU TRƯỞNG", "Vũ Đức Anh"),
    ("CHÁNH THANH TRA NGUYỄN VĂN BA", "CHÁNH THANH TRA", "NGUYỄN VĂN BA"),
    ("BỘ TRƯỞNG", "BỘ TRƯỞNG", None),
])
def test_signature_blocks_of_any_office(block, title, name):
    sig = parse_signature(block)
    assert (sig.title, sig.name) == (title, name)


def test_the_authority_line_of_a_decision_is_no_signature():
    # "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH" above "Căn cứ …" names who decides, not who signed
    assert parse_signature("Giám đốc Công an tỉnh") is None
    sig = parse_signature("CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH")
    assert sig.name is None


# --------------------------------------------------------------------------- plan year and period


@pytest.mark.parametrize("text, expected", [
    ("CẢI CÁCH HÀNH CHÍNH NĂM 2026", (2026, 2026, 2026)),
    ("PHÁT TRIỂN DU LỊCH GIAI ĐOẠN 2026 - 2030", (2026, 2026, 2030)),
    ("năm 2025 và giai đoạn 2025–2027", (2025, 2025, 2027)),
    ("PHÁT TRIỂN NGUỒN NHÂN LỰC GIAI ĐOẠN 2026 - 2030, TẦM NHÌN ĐẾN NĂM 2045", (2026, 2026, 2030)),
    # years of a cited document are not a period
    ("THỰC HIỆN NGHỊ QUYẾT SỐ 57/NQ-CP NGÀY 12/3/2025 CỦA CHÍNH PHỦ", None),
    ("THỰC HIỆN QUYẾT ĐỊNH SỐ 12/2024/QĐ-UBND", None),
    ("TRIỂN KHAI LUẬT ĐẤT ĐAI", None),
])
def test_stated_period(text, expected):
    assert stated_period(text) == expected


def _doc(*blocks) -> Document:
    return Document(source_path="made-up.txt", source_format="txt",
                    pages=[Page(number=1, blocks=[Line(b) if isinstance(b, str) else b for b in blocks],
                                method="text_file")])


def _header(agency: str, number: str, place_date: str) -> Table:
    """The header as the cells of a two-column table (how web-page converters give it)."""
    return Table(n_rows=2, n_cols=2, spans_known=False, cells=[
        Cell(0, 0, agency), Cell(0, 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc"),
        Cell(1, 0, number), Cell(1, 1, place_date)])


BODY = ("I. MỤC ĐÍCH, YÊU CẦU", "1. Nâng cao chất lượng.", "II. NHIỆM VỤ",
        "1. Rà soát quy hoạch.", "- Đơn vị chủ trì: Sở Xây dựng.", "- Thời gian thực hiện: Năm 2026.")


def test_a_horizon_ends_the_period_but_does_not_start_it():
    meta = parse_metadata(_doc(
        _header("ỦY BAN NHÂN DÂN TỈNH NGHỆ AN -------", "Số: 77/KH-UBND", "Nghệ An, ngày 03 tháng 3 năm 2025"),
        "KẾ HOẠCH", "PHÁT TRIỂN HẠ TẦNG SỐ ĐẾN NĂM 2030", "Căn cứ Luật Chuyển đổi số;", *BODY,
        "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Hồ Văn Tâm"))
    assert (meta.issuer, meta.issuer_level, meta.province, meta.doc_type) == (
        "UBND tỉnh Nghệ An", "province", "Nghệ An", "KH")
    assert (meta.doc_number, meta.issue_date) == ("77/KH-UBND", date(2025, 3, 3))
    assert (meta.plan_year, meta.plan_period_start, meta.plan_period_end) == (2025, 2025, 2030)
    assert (meta.signer_title, meta.signer_name) == ("KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", "Hồ Văn Tâm")


def test_a_plan_without_a_stated_period_runs_to_the_last_deadline_year():
    meta = parse_metadata(_doc(
        _header("UBND TỈNH NGHỆ AN", "Số: 78/KH-UBND", "Nghệ An, ngày 03 tháng 3 năm 2025"),
        "KẾ HOẠCH", "TRIỂN KHAI LUẬT ĐẤT ĐAI", "Căn cứ Luật Đất đai;", *BODY))
    assert (meta.plan_year, meta.plan_period_end, meta.period_stated) == (2025, 2025, False)
    complete_period(meta, ["Năm 2026 và các năm tiếp theo.", "Quý IV/2025", None])
    assert (meta.plan_period_start, meta.plan_period_end) == (2025, 2026)


def test_a_decision_that_issues_a_plan_gives_that_plan():
    # The Quyết định's header, number, date and signature; the attached Kế hoạch's title.
    doc = _doc(
        _header("ỦY BAN NHÂN DÂN TỈNH YÊN BÁI", "Số: 31/QĐ-UBND", "Yên Bái, ngày 09 tháng 01 năm 2024"),
        "QUYẾT ĐỊNH", "Về việc ban hành Kế hoạch phòng, chống thiên tai năm 2024",
        "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH", "Căn cứ Luật Phòng, chống thiên tai;",
        "QUYẾT ĐỊNH:", "Điều 1. Ban hành kèm theo Quyết định này Kế hoạch phòng, chống thiên tai năm 2024.",
        Table(n_rows=1, n_cols=2, spans_known=False, cells=[
            Cell(0, 0, "Nơi nhận: - Như Điều 3; - Lưu: VT."), Cell(0, 1, "CHỦ TỊCH Trần Huy Tuấn")]),
        "KẾ HOẠCH", "PHÒNG, CHỐNG THIÊN TAI NĂM 2024 (Kèm theo Quyết định số 31/QĐ-UBND ngày 09/01/2024 của "
        "Chủ tịch UBND tỉnh)", *BODY)
    meta = parse_metadata(doc)
    assert (meta.doc_type, meta.doc_number, meta.issue_date) == ("QĐ", "31/QĐ-UBND", date(2024, 1, 9))
    assert meta.title == "PHÒNG, CHỐNG THIÊN TAI NĂM 2024"
    assert (meta.signer_title, meta.signer_name) == ("CHỦ TỊCH", "Trần Huy Tuấn")
    assert (meta.plan_year, meta.province, meta.issuer) == (2024, "Yên Bái", "UBND tỉnh Yên Bái")
    assert parse_plan(_with_sha(doc)).plan["doc_type"] == "QĐ"


def test_a_decision_naming_the_plan_only_in_its_summary_takes_that_title():
    meta = parse_metadata(_doc(
        _header("UBND TỈNH YÊN BÁI", "Số: 32/QĐ-UBND", "Yên Bái, ngày 09 tháng 01 năm 2024"),
        "QUYẾT ĐỊNH", "BAN HÀNH KẾ HOẠCH TUYÊN TRUYỀN PHÁP LUẬT NĂM 2024", "Căn cứ Luật Phổ biến pháp luật;",
        *BODY))
    assert meta.title == "TUYÊN TRUYỀN PHÁP LUẬT NĂM 2024"
    assert meta.plan_heading and meta.plan_year == 2024


def test_a_ministry_letter_with_a_task_appendix_and_no_header():
    # A web page that dropped the letter's own header but kept the site's metadata block.
    doc = _doc("Số hiệu:", "1234/BTC-VP", "Loại văn bản:", "Công văn", "Nơi ban hành:", "Bộ Tài Chính",
               "Ngày ban hành:", "05/06/2025", "Kính gửi: Các đơn vị thuộc Bộ.",
               "Bộ Tài chính đề nghị các đơn vị triển khai các nhiệm vụ tại Phụ lục kèm theo./.", "Nơi nhận:",
               "- Như trên;", "BỘ TRƯỞNG", "Hoàng Văn Minh", "PHỤ LỤC", "DANH MỤC NHIỆM VỤ TRỌNG TÂM NĂM 2025",
               "(Kèm theo Công văn số 1234/BTC-VP ngày 05/6/2025 của Bộ Tài chính)")
    meta = parse_metadata(doc)
    assert (meta.doc_type, meta.doc_number, meta.issue_date) == ("CV", "1234/BTC-VP", date(2025, 6, 5))
    assert (meta.issuer, meta.issuer_level, meta.province) == ("Bộ Tài chính", "central", None)
    assert (meta.signer_title, meta.signer_name) == ("BỘ TRƯỞNG", "Hoàng Văn Minh")
    assert meta.title == "DANH MỤC NHIỆM VỤ TRỌNG TÂM NĂM 2025"
    assert meta.plan_year == 2025
    # it carries a task appendix (even though no table was read): a plan
    assert parse_plan(_with_sha(doc)).plan["doc_number"] == "1234/BTC-VP"


def _with_sha(doc: Document) -> Document:
    doc.sha256 = "0" * 64
    return doc


@pytest.mark.parametrize("kind, number, reason", [
    ("BÁO CÁO", "Số: 15/BC-UBND", "Báo cáo (BC)"),
    ("THÔNG BÁO", "Số: 16/TB-UBND", "Thông báo (TB)"),
])
def test_a_report_or_notice_is_rejected_naming_its_type(kind, number, reason):
    doc = _doc(_header("ỦY BAN NHÂN DÂN TỈNH HÀ GIANG", number, "Hà Giang, ngày 10 tháng 5 năm 2025"),
               kind, "KẾT QUẢ THỰC HIỆN CẢI CÁCH HÀNH CHÍNH QUÝ I NĂM 2025", *BODY)
    with pytest.raises(ExtractionError) as err:
        parse_plan(_with_sha(doc))
    assert reason in err.value.reason and err.value.reason.startswith("not a plan")


def test_a_decision_that_carries_no_plan_is_rejected():
    doc = _doc(_header("ỦY BAN NHÂN DÂN TỈNH HÀ GIANG", "Số: 17/QĐ-UBND", "Hà Giang, ngày 10 tháng 5 năm 2025"),
               "QUYẾT ĐỊNH", "Về việc thành lập Tổ công tác", "Căn cứ Luật Tổ chức chính quyền địa phương;",
               "Điều 1. Thành lập Tổ công tác.", "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.")
    with pytest.raises(ExtractionError) as err:
        parse_plan(_with_sha(doc))
    assert "Quyết định (QĐ)" in err.value.reason


def test_the_type_heading_decides_when_the_number_prints_no_type_code():
    meta = parse_metadata(_doc(
        _header("SỞ Y TẾ", "Số: 88/SYT-NVY", "Hà Nam, ngày 02 tháng 4 năm 2025"),
        "KẾ HOẠCH", "Kiểm tra công tác dược năm 2025", "Căn cứ Luật Dược;", *BODY))
    assert (meta.doc_type, meta.doc_number, meta.issuer_level) == ("KH", "88/SYT-NVY", "department")
    assert (meta.issuer, meta.province) == ("Sở Y tế Hà Nam", "Hà Nam")


def test_a_programme_takes_the_title_under_its_heading():
    meta = parse_metadata(_doc(
        _header("ỦY BAN NHÂN DÂN TỈNH HÀ NAM", "Số: 05/CTr-UBND", "Hà Nam, ngày 02 tháng 4 năm 2025"),
        "CHƯƠNG TRÌNH", "HÀNH ĐỘNG THỰC HIỆN CHUYỂN ĐỔI SỐ NĂM 2025", "Căn cứ Luật Chuyển đổi số;", *BODY))
    assert (meta.doc_type, meta.title, meta.plan_year) == ("CTr", "HÀNH ĐỘNG THỰC HIỆN CHUYỂN ĐỔI SỐ NĂM 2025", 2025)


# --------------------------------------------------------------------------- scans (OCR-shaped headers)
# Shapes seen in real scanned letters (../shared/realscans): handwritten numbers OCR cannot read,
# accents lost on the agency's capitals, a damaged day, a stamp over the signer's title.


def _scan(*texts_at) -> Document:
    from extractors.model import BBox

    blocks = [Line(t, bbox=BBox(x, y, x + 6 * len(t), y + 12), confidence=80.0) for t, x, y in texts_at]
    return Document(source_path="scan.pdf", source_format="pdf",
                    pages=[Page(number=1, blocks=blocks, width=595, height=842, method="ocr")])


def test_an_unreadable_handwritten_number_is_null_and_flagged():
    meta = parse_metadata(_scan(("UBND TỈNH AN GIANG", 60, 40), ("SƠ Y TE", 90, 55), ("Số:JU_ /GM-SYT", 70, 75),
                                ("An Giang, ngày} ? tháng 11 năm 2017.", 320, 75), ("GIÁY MỜI", 260, 110),
                                ("Sở Y tế trân trọng kính mời đại diện các đơn vị dự họp.", 60, 140)))
    assert (meta.doc_type, meta.doc_number) == ("GM", None)
    assert {"doc_number", "issue_date"} <= set(meta.low_confidence)
    assert (meta.issue_date, meta.issue_date_precision) == (date(2017, 11, 1), "month")
    assert (meta.issuer, meta.province) == ("Sở Y tế An Giang", "An Giang")


def test_a_letter_whose_number_was_lost_is_known_by_its_summary_line():
    meta = parse_metadata(_scan(("UBND TỈNH AN GIANG", 60, 40), ("SỞ Y TẾ", 90, 55),
                                ("An Giang, ngày 5 tháng 12 năm 2017", 320, 75), ("V/v báo cáo số liệu", 60, 95),
                                ("Kính gửi: Các đơn vị trực thuộc.", 150, 120)))
    assert meta.doc_type == "CV"


def test_a_stamp_over_the_title_leaves_the_name_flagged():
    meta = parse_metadata(_scan(("SỞ Y TẾ AN GIANG", 60, 40), ("Số: 12/TB-SYT", 70, 75),
                                ("An Giang, ngày 5 tháng 12 năm 2017", 320, 75), ("THÔNG BẢO", 260, 110),
                                ("Sở Y tế thông báo lịch họp giao ban.", 60, 140), ("Nơi nhận:", 60, 600),
                                ("- Như trên;", 60, 615), ("- Lưu: VT.", 60, 630), ("Trần Thị Bích", 400, 700)))
    assert (meta.doc_type, meta.signer_title, meta.signer_name) == ("TB", None, "Trần Thị Bích")
    assert "signer_title" in meta.low_confidence


@pytest.mark.parametrize("name, province, expected", [
    ("Chủ tịch Ủy ban nhân dân tỉnh", "Bắc Ninh", ("UBND tỉnh Bắc Ninh", "province", "Bắc Ninh")),
    ("Sở Y tế", "Thanh Hóa", ("Sở Y tế Thanh Hóa", "department", "Thanh Hóa")),
    ("Bộ Văn hoá, Thể thao và du lịch", "Hà Nội", ("Bộ Văn hóa, Thể thao và du lịch", "central", None)),
])
def test_an_issuer_named_in_a_caption_or_citation(name, province, expected):
    from parsers.issuers import issuer_from_name

    iss = issuer_from_name(name, province)
    assert (iss.name, iss.level, iss.province) == expected


def test_a_party_committee_plan_with_the_partys_number_form():
    meta = parse_metadata(_doc(
        _header("TỈNH ỦY HÀ TĨNH", "Số 12-KH/TU", "Hà Tĩnh, ngày 20 tháng 5 năm 2025"),
        "KẾ HOẠCH", "THỰC HIỆN NGHỊ QUYẾT VỀ CHUYỂN ĐỔI SỐ NĂM 2025", "Căn cứ Nghị quyết số 57-NQ/TW;", *BODY))
    assert (meta.doc_number, meta.doc_type, meta.doc_symbol) == ("12-KH/TU", "KH", "KH/TU")
    assert (meta.issuer, meta.issuer_level, meta.province) == ("Tỉnh ủy Hà Tĩnh", "province", "Hà Tĩnh")


@pytest.mark.parametrize(("title", "unread", "lines", "doubt"), [
    ("GIÁM ĐỐC", (0.12, 0.01), 1, "unread ink before the title"),   # "KT." under the signature
    ("TL. GIÁM ĐỐC", (0.12, 0.01), 1, None),                         # the prefix was read
    ("GIÁM ĐỐC", (0.0, 0.23), 1, "unread ink under the title"),      # "PHÓ GIÁM ĐỐC" under the stamp
    ("KT. GIÁM ĐỐC PHÓ GIÁM ĐỐC", (0.0, 0.23), 2, None),             # the second line was read
    ("GIÁM ĐỐC", (0.02, 0.06), 1, None),                             # a bare title, the signature below
    ("GIÁM ĐỐC", None, 1, None),                                     # not OCR: no evidence either way
])
def test_a_title_with_unread_ink_beside_it_is_doubted(title, unread, lines, doubt):
    from parsers.signers import title_ink_doubt

    assert title_ink_doubt(title, unread, lines) == doubt


def test_an_ocr_title_line_with_a_lost_prefix_flags_the_signer_title():
    """The same page model as OCR gives it: the parser reads the evidence, not the image."""
    def line(text, top, unread=None):
        return Line(text=text, bbox=BBox(320, top, 400, top + 12), confidence=91.0,
                    words=[LineWord(w, 91.0) for w in text.split()], unread_ink=unread)

    page = Page(number=1, width=595, height=842, method="ocr", blocks=[
        line("GIÁM ĐỐC", 600, (0.11, 0.02)), line("Hà Văn Phúc", 700)])
    meta = parse_metadata(Document(source_path="x.pdf", source_format="pdf", pages=[page]))
    assert meta.signer_title == "GIÁM ĐỐC" and meta.signer_name == "Hà Văn Phúc"
    assert "signer_title" in meta.low_confidence
    page.blocks[0].unread_ink = (0.0, 0.02)
    meta = parse_metadata(Document(source_path="x.pdf", source_format="pdf", pages=[page]))
    assert "signer_title" not in meta.low_confidence
