"""Reform-area classification (parsers.areas): headings first, then task text."""

from __future__ import annotations

import pytest

from parsers.areas import AREAS, area_label, classify_area

TITLE_CASES = [
    # headings as provinces print them, old and new programme wording, with/without diacritics
    ("Cải cách thể chế", "institutions"),
    ("Xây dựng và tổ chức thực hiện văn bản QPPL", "institutions"),
    ("Cải cách thủ tục hành chính", "procedures"),
    ("Cải cách TTHC", "procedures"),
    ("CẢI CÁCH THỦ TỤC HÀNH CHÍNH", "procedures"),
    ("Cải cách tổ chức bộ máy hành chính nhà nước", "organisation"),
    ("Cải cách chế độ công vụ", "civil_service"),
    ("Xây dựng và nâng cao chất lượng đội ngũ CCVC", "civil_service"),
    ("Cải cách tài chính công", "public_finance"),
    ("Xây dựng và phát triển Chính quyền điện tử, Chính quyền số", "e_government"),
    ("Hiện đại hoá nền hành chính", "e_government"),
    ("Hien dai hoa hanh chinh", "e_government"),
    ("Công tác chỉ đạo, điều hành", "direction"),
    ("Công tác chỉ đạo, điều hành, tuyên truyền về CCHC", "direction"),
]


@pytest.mark.parametrize("title,area", TITLE_CASES)
def test_heading_decides(title, area):
    assert classify_area(title, "Tổ chức tập huấn về công nghệ thông tin") == area


TEXT_CASES = [
    ("Rà soát, hệ thống hóa văn bản quy phạm pháp luật trong lĩnh vực y tế", "institutions"),
    ("Tiếp nhận và trả hồ sơ TTHC qua dịch vụ bưu chính công ích", "procedures"),
    ("Sắp xếp, kiện toàn tổ chức bộ máy các đơn vị", "organisation"),
    ("Phê duyệt Đề án vị trí việc làm và tuyển dụng viên chức", "civil_service"),
    ("Giao quyền tự chủ chi thường xuyên cho đơn vị sự nghiệp", "public_finance"),
    ("Nâng cao tỷ lệ hồ sơ trực tuyến mức độ 3, mức độ 4 và chữ ký số", "e_government"),
    ("Ban hành Kế hoạch cải cách hành chính năm 2024", "direction"),
]


@pytest.mark.parametrize("text,area", TEXT_CASES)
def test_text_decides_when_heading_names_no_area(text, area):
    assert classify_area("Chỉ tiêu 3.2 của tỉnh", text) == area
    assert classify_area(None, text) == area


@pytest.mark.parametrize("title,text", [(None, None), ("", ""), ("Mục tiêu chung", "Thực hiện tốt nhiệm vụ")])
def test_nothing_to_go_on(title, text):
    assert classify_area(title, text) is None


def test_labels_cover_every_area():
    assert all(area_label(a) for a in AREAS)
    assert area_label(None) is None
