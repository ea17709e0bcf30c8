"""Column roles from evidence: header words in other wordings, cell content, table rules.

The wordings here are not those of the samples: they are the kind a plan of another
issuer prints, and each test states which evidence must carry the role.
"""

from __future__ import annotations

import re

import pytest
import yaml

from parsers.columns import (
    DEFAULT_ROLE_SETTINGS,
    assign_roles,
    content_evidence,
    header_match,
    is_task_header,
    vocabulary,
)
from parsers.tables.transforms import fill_down_policy
from tests.conftest import REPO_ROOT

DATA = REPO_ROOT / "parsers" / "data"


@pytest.mark.parametrize(("header", "role"), [
    ("Thời gian triển khai", "deadline"),
    ("Lộ trình thực hiện", "deadline"),
    ("Đơn vị chịu trách nhiệm", "lead"),
    ("Nội dung/nhiệm vụ", "task"),
    ("Kết quả thực hiện", "product"),
    ("Người đứng đầu chịu trách nhiệm", "responsible_head"),  # a person, not the lead unit
    # one column stating both roles is read as the lead; the records split "A phối hợp B"
    ("Chủ trì, phối hợp", "lead"),
    ("Đơn vị, cơ quan phối hợp thực hiện", "coordinating"),  # words in another order
    ("THỜI GIAN HOÀN THÀNH", "deadline"),
    ("Thòi hạn hoàn thanh", "deadline"),  # OCR lost diacritics
    ("Nhiêm vụ cu thê", "task"),
    ("(3) Sản phẩm dự kiến", "product"),
])
def test_header_words_in_other_wordings(header, role):
    m = header_match(header)
    assert (m.role if m else None) == role, (header, m)


def test_a_data_cell_is_not_a_header():
    assert header_match("Nhiệm vụ 1: Xác định công tác xây dựng văn bản") is None
    assert header_match("Tổ chức thực hiện kế hoạch cải cách hành chính trên địa bàn toàn tỉnh năm 2025") is None


def test_content_evidence_reads_cells_with_the_projects_parsers():
    dl = content_evidence(["Quý III/2025", "Thường xuyên", "Tháng 12/2025", "2026-2030"])
    assert dl.deadline == 1.0 and dl.strongest() == "deadline"
    units = content_evidence(["Sở Tư pháp", "UBND các xã, phường", "Các sở, ban, ngành", "Sở Y tế; Công an tỉnh"])
    assert units.units == 1.0 and units.strongest() == "units"
    persons = content_evidence(["Giám đốc Sở Y tế", "Cục trưởng Cục Du lịch", "Thủ trưởng các đơn vị"])
    assert persons.strongest() == "persons"
    money = content_evidence(["1.500", "200", "35,5"])
    assert money.strongest() == "money"
    clauses = content_evidence(["Rà soát, sửa đổi, bổ sung các quy định về thủ tục hành chính còn chồng chéo",
                                "Tổ chức tập huấn kỹ năng số cho cán bộ, công chức cấp xã trên địa bàn"])
    assert clauses.strongest() == "clauses"
    assert content_evidence(["", "  "]).strongest() is None


def _columns(*cols):
    return [list(c) for c in cols]


def test_columns_without_known_headers_get_roles_from_their_cells():
    headers = ["TT", "Việc cần làm", "Ai làm", "Khi nào xong"]
    cols = _columns(
        ["1", "2", "3"],
        ["Rà soát, sửa đổi các quy định về thủ tục hành chính còn chồng chéo",
         "Tổ chức tập huấn kỹ năng số cho cán bộ, công chức cấp xã trên địa bàn",
         "Xây dựng kho dữ liệu dùng chung của tỉnh phục vụ chỉ đạo điều hành"],
        ["Sở Tư pháp", "Sở Nội vụ", "Sở Khoa học và Công nghệ"],
        ["Quý I/2026", "Năm 2026", "Thường xuyên"],
    )
    roles = assign_roles(headers, cols)
    assert [c.role for c in roles] == ["item", "task", "lead", "deadline"]
    assert [c.evidence.split(":")[0] for c in roles] == ["header", "content", "content", "content"]
    assert is_task_header([c.role for c in roles])


def test_two_unit_columns_without_headers_are_lead_then_coordinating():
    headers = ["STT", "Nội dung", "Cột A", "Cột B"]
    cols = _columns(["1", "2"], ["Rà soát các thủ tục hành chính thuộc thẩm quyền giải quyết của tỉnh",
                                 "Công bố danh mục thủ tục hành chính được chuẩn hóa trên cổng"],
                    ["Văn phòng UBND tỉnh", "Sở Tư pháp"], ["Các sở, ban, ngành", "UBND các xã, phường"])
    assert [c.role for c in assign_roles(headers, cols)] == ["item", "task", "lead", "coordinating"]


def test_unit_header_over_cells_naming_persons_is_a_person_column():
    headers = ["TT", "Nhiệm vụ", "Chịu trách nhiệm", "Cơ quan chủ trì", "Thời hạn"]
    cols = _columns(["1", "2"], ["Xây dựng cơ sở dữ liệu ngành văn hóa", "Đóng giao diện cổng dịch vụ công"],
                    ["Cục trưởng Cục Di sản văn hóa", "Giám đốc Trung tâm Chuyển đổi số"],
                    ["Cục Di sản văn hóa", "Trung tâm Chuyển đổi số"], ["Tháng 12/2025", "01/03/2026"])
    roles = assign_roles(headers, cols)
    assert [c.role for c in roles] == ["item", "task", "responsible_head", "lead", "deadline"]
    assert roles[2].evidence.startswith("table:")
    # alone, a column of heads is the only lead the table states
    alone = assign_roles([headers[i] for i in (0, 1, 2, 4)], [cols[i] for i in (0, 1, 2, 4)])
    assert [c.role for c in alone] == ["item", "task", "lead", "deadline"]


def test_the_only_text_column_is_the_task():
    """A table of targets (TT / Chỉ tiêu / Chủ trì) states its work in the one text column."""
    roles = assign_roles(["TT", "Chỉ tiêu", "Chủ trì"],
                         _columns(["1"], ["Kinh tế số chiếm 45% GRDP tỉnh"], ["Sở Tài chính"]))
    assert [c.role for c in roles] == ["item", "task", "lead"]


def test_one_task_column():
    roles = assign_roles(["TT", "Nội dung", "Nhiệm vụ cụ thể", "Chủ trì"],
                         _columns(["1"], ["Cải cách thể chế"], ["Rà soát văn bản quy phạm pháp luật"], ["Sở Tư pháp"]))
    assert [c.role for c in roles].count("task") == 1
    assert roles[2].role == "task"  # the longer, more specific synonym


def test_a_form_of_blank_counts_is_not_a_task_table():
    roles = assign_roles(["STT", "Họ và tên", "Số lượng", "Ghi chú"],
                         _columns(["1", "2"], ["Nguyễn Văn A", "Trần Thị B"], ["", ""], ["", ""]))
    assert not is_task_header([c.role for c in roles])


# --------------------------------------------------------------------------- the data files


def test_header_synonyms_file_is_well_formed():
    d = yaml.safe_load((DATA / "header_synonyms.yaml").read_text(encoding="utf-8"))
    roles = set(d["roles"])
    assert set(d["task_table"]["required"]) <= roles and set(d["task_table"]["details"]) <= roles
    seen: dict[tuple[str, ...], str] = {}
    for role, words in d["roles"].items():
        for w in words:
            assert isinstance(w, str) and w == w.strip() and w == w.lower(), (role, w)
            key = tuple(re.sub(r"[^\w\s]", " ", w).split())
            assert seen.setdefault(key, role) == role, f"{w!r} names two roles"
    for name in ("person_titles", "unit_determiners"):
        assert all(isinstance(t, str) and t for t in d["content"][name])
    assert vocabulary().synonyms and DEFAULT_ROLE_SETTINGS.min_header_coverage > 0


def test_table_rules_file_names_known_roles():
    d = yaml.safe_load((DATA / "table_rules.yaml").read_text(encoding="utf-8"))
    roles = set(yaml.safe_load((DATA / "header_synonyms.yaml").read_text(encoding="utf-8"))["roles"])
    for key, names in d["fill_down"].items():
        assert set(names) <= roles, (key, set(names) - roles)
    policy = fill_down_policy()
    assert policy.empty_without_spans <= policy.spanned and policy.hierarchy <= policy.spanned
