"""Unit-name splitting and canonicalisation (parsers.units).

Each table exercises one rule of parsers/data/units.yaml with the spellings plans actually use,
including OCR damage.  Names are examples of a rule, not answers copied from a sample.
"""

from __future__ import annotations

import pytest

from parsers.units import UnitMatch, normalize_units, resolve_unit, split_assignment, split_units, unit_names

# ---------------------------------------------------------------------------- splitting

SPLIT_CASES = [
    # separators that always cut
    ("Sở Tư pháp; Văn phòng Sở", ["Sở Tư pháp", "Văn phòng Sở"]),
    ("Văn phòng Sở\nPhòng TCCB", ["Văn phòng Sở", "Phòng TCCB"]),
    ("- TTYT Lục Ngạn; - Bệnh viện Tâm thần.", ["TTYT Lục Ngạn", "Bệnh viện Tâm thần"]),
    ("Văn phòng phối hợp Phòng Nghiệp vụ Sở Y tế", ["Văn phòng", "Phòng Nghiệp vụ Sở Y tế"]),
    ("Văn phòng Sở chủ trì, phối hợp với Phòng TCCB", ["Văn phòng Sở", "Phòng TCCB"]),
    # comma / "và" only before a new unit
    ("Văn phòng, Phòng KHTC, Chi cục DS-KHHGD", ["Văn phòng", "Phòng KHTC", "Chi cục DS-KHHGD"]),
    ("Chi cục ATVSTP và Trung tâm GDYK tỉnh", ["Chi cục ATVSTP", "Trung tâm GDYK tỉnh"]),
    ("Sở Thông tin và Truyền thông", ["Sở Thông tin và Truyền thông"]),
    ("Bộ phận Tiếp nhận và trả kết quả", ["Bộ phận Tiếp nhận và trả kết quả"]),
    ("Sở Văn hóa, Thể thao và Du lịch", ["Sở Văn hóa, Thể thao và Du lịch"]),
    ("UBND các huyện, thị xã, thành phố", ["UBND các huyện, thị xã, thành phố"]),
    ("Các cơ quan, đơn vị có liên quan", ["Các cơ quan, đơn vị có liên quan"]),
    ("Phòng Tổ chức - Cán bộ", ["Phòng Tổ chức - Cán bộ"]),
    ("Phòng Kế hoạch - Tài chính; Văn phòng Sở", ["Phòng Kế hoạch - Tài chính", "Văn phòng Sở"]),
    ("Phòng Tổ chức, Cán bộ; Văn phòng Sở", ["Phòng Tổ chức, Cán bộ", "Văn phòng Sở"]),
    # role notes, counts, trailing dots
    ("Văn phòng Sở (đăng tin bài)", ["Văn phòng Sở"]),
    ("Văn phòng (01 sáng kiến), Phòng Nghiệp vụ (01 sáng kiến)", ["Văn phòng", "Phòng Nghiệp vụ"]),
    ("Thanh tra.", ["Thanh tra"]),
    ("Các đơn vị (theo nhiệm vụ; được phân công)", ["Các đơn vị"]),
    ("02 Chi cục", ["Chi cục"]),
    ("cán bộ tại bộ phận một cửa TTPVHCC tỉnh", ["bộ phận một cửa TTPVHCC tỉnh"]),
    # nothing
    (None, []),
    ("", []),
    ("  ", []),
]


@pytest.mark.parametrize("raw,expected", SPLIT_CASES)
def test_split_units(raw, expected):
    assert split_units(raw) == expected


# ---------------------------------------------------------------------------- single mentions

RESOLVE_CASES = [
    # abbreviation expansion (DOMAIN.md list)
    ("Phòng TCCB", "Phòng Tổ chức - Cán bộ", "department_office"),
    ("Phòng TCHC", "Phòng Tổ chức - Hành chính", "department_office"),
    ("Phòng KHTC", "Phòng Kế hoạch - Tài chính", "department_office"),
    ("Phòng NVY", "Phòng Nghiệp vụ Y", "department_office"),
    ("Phòng NVD", "Phòng Nghiệp vụ Dược", "department_office"),
    ("Phòng QLHN", "Phòng Quản lý hành nghề y dược", "department_office"),
    ("Chi cục ATVSTP", "Chi cục An toàn vệ sinh thực phẩm", "subordinate_unit"),
    ("Chi cục DS-KHHGĐ", "Chi cục Dân số - Kế hoạch hóa gia đình", "subordinate_unit"),
    ("Chi cục DS-KHHGD", "Chi cục Dân số - Kế hoạch hóa gia đình", "subordinate_unit"),
    ("TT KSBT", "Trung tâm Kiểm soát bệnh tật", "subordinate_unit"),
    ("Trung tâm GDYK tỉnh", "Trung tâm Giám định y khoa tỉnh", "subordinate_unit"),
    ("TTPVHCC tỉnh", "Trung tâm Phục vụ hành chính công tỉnh", "external_body"),
    ("BHXH tỉnh", "Bảo hiểm xã hội tỉnh", "external_body"),
    ("Bộ phận CCHC", "Bộ phận Cải cách hành chính", "department_office"),
    # spelling variants: case, dashes, tone placement
    ("Phòng Kế hoạch-tài chính", "Phòng Kế hoạch - Tài chính", "department_office"),
    ("Phòng Kế hoạch Tài chính", "Phòng Kế hoạch - Tài chính", "department_office"),
    ("phòng TCHC.", "Phòng Tổ chức - Hành chính", "department_office"),
    ("Hiệp Hội doanh nghiệp tỉnh", "Hiệp hội Doanh nghiệp tỉnh", "external_body"),
    ("Uỷ ban nhân dân tỉnh", "UBND tỉnh", "external_body"),
    # aliases and redundant owner suffixes
    ("Văn phòng", "Văn phòng Sở", "department_office"),
    ("Văn phòng Sở Y tế", "Văn phòng Sở", "department_office"),
    ("Lãnh đạo Sở", "Ban Giám đốc Sở", "department_office"),
    ("Thanh tra", "Thanh tra Sở", "department_office"),
    ("Phòng Thanh Tra", "Thanh tra Sở", "department_office"),
    ("Thanh tra Sở Y tế", "Thanh tra Sở", "department_office"),
    ("Phòng Nghiệp vụ Sở Y tế", "Phòng Nghiệp vụ", "department_office"),
    ("Bộ phận Tiếp nhận và trả kết quả Sở Y tế", "Bộ phận Tiếp nhận và trả kết quả", "department_office"),
    ("Trung tâm Kiểm soát bệnh tật tỉnh Đồng Nai", "Trung tâm Kiểm soát bệnh tật", "subordinate_unit"),
    ("UBND tỉnh Quảng Ngãi", "UBND tỉnh", "external_body"),
    # external bodies keep their names; the provincial inspectorate is not the Sở's
    ("Sở Tư pháp", "Sở Tư pháp", "external_body"),
    ("Văn phòng UBND tỉnh", "Văn phòng UBND tỉnh", "external_body"),
    ("Thanh tra tỉnh", "Thanh tra tỉnh", "external_body"),
    ("Sở Lao động, Thương binh và Xã hội", "Sở Lao động - Thương binh và Xã hội", "external_body"),
    # role notes without parentheses; parent office after a sub-unit
    ("Văn phòng Sở xây dựng Kế hoạch", "Văn phòng Sở", "department_office"),
    ("Phòng TCCB chủ trì", "Phòng Tổ chức - Cán bộ", "department_office"),
    ("Bộ phận CCHC Văn phòng", "Bộ phận Cải cách hành chính", "department_office"),
    # OCR damage: lost or wrong diacritics, a misread letter
    ("Van phong So", "Văn phòng Sở", "department_office"),
    ("Phòng Tô chức - Cán bô", "Phòng Tổ chức - Cán bộ", "department_office"),
    ("PHONG KE HOACH - TAI CHINH", "Phòng Kế hoạch - Tài chính", "department_office"),
    ("Văn phòng 5ở", "Văn phòng Sở", "department_office"),
    ("Chi cuc An toan ve sinh thuc pham", "Chi cục An toàn vệ sinh thực phẩm", "subordinate_unit"),
    # name families
    ("TTYT Lục Ngạn", "Trung tâm Y tế Lục Ngạn", "subordinate_unit"),
    ("Trung tâm Y tế huyện Hiệp Hòa", "Trung tâm Y tế huyện Hiệp Hòa", "subordinate_unit"),
    ("Phòng khám ĐKKV Hà Trung", "Phòng khám Đa khoa khu vực Hà Trung", "subordinate_unit"),
    # collectives
    ("Các phòng cơ quan Sở", "Các phòng thuộc Sở", "collective"),
    ("các phòng chuyên môn", "Các phòng thuộc Sở", "collective"),
    ("Các Phòng chức năng", "Các phòng thuộc Sở", "collective"),
    ("Các đơn vị y tế trong ngành", "Các đơn vị trực thuộc Sở", "collective"),
    ("đơn vị trực thuộc", "Các đơn vị trực thuộc Sở", "collective"),
    ("Các đơn vị sự nghiệp được giao tự chủ chi thường xuyên", "Các đơn vị trực thuộc Sở", "collective"),
    ("Thủ trưởng các đơn vị trực thuộc", "Các đơn vị trực thuộc Sở", "collective"),
    ("Đơn vị có liên quan", "Các cơ quan, đơn vị có liên quan", "collective"),
    ("các đơn vị liên quan", "Các cơ quan, đơn vị có liên quan", "collective"),
    ("Các Trung tâm Y tế huyện", "Các đơn vị trực thuộc Sở", "collective"),
]


@pytest.mark.parametrize("raw,name,kind", RESOLVE_CASES)
def test_resolve_unit(raw, name, kind):
    m = resolve_unit(raw)
    assert isinstance(m, UnitMatch)
    assert (m.name, m.kind) == (name, kind)
    assert m.known
    assert m.raw == raw


def test_fuzzy_match_scores_below_exact():
    exact, fuzzy = resolve_unit("Văn phòng Sở"), resolve_unit("Văn phòng 5ở")
    assert exact.score == 100 and exact.method == "exact"
    assert 0 < fuzzy.score < 100 and fuzzy.method == "fuzzy"


UNKNOWN_CASES = [
    # kept under the cleaned (expanded) name, never dropped, kind guessed from the head noun
    ("Phòng khám GTVT", "Phòng khám Giao thông vận tải", "subordinate_unit"),
    ("Bộ phận một cửa tại đơn vị", "Bộ phận một cửa tại đơn vị", "department_office"),
    ("Chi cục Quản lý chất lượng nông lâm sản và thủy sản",
     "Chi cục Quản lý chất lượng nông lâm sản và thủy sản", "subordinate_unit"),
    ("Văn phòng Sở Xây dựng", "Văn phòng Sở Xây dựng", "department_office"),  # not "Văn phòng Sở" + role
    ("Nhóm công tác đặc biệt (tạm thời)", "Nhóm công tác đặc biệt", None),
]


@pytest.mark.parametrize("raw,name,kind", UNKNOWN_CASES)
def test_unknown_units_are_kept(raw, name, kind):
    m = resolve_unit(raw)
    assert (m.name, m.kind, m.known) == (name, kind, False)


def test_place_names_are_not_fuzzed_into_each_other():
    a, b = resolve_unit("TTYT Lục Ngạn"), resolve_unit("TTYT Lục Nam")
    assert a.name != b.name


# ---------------------------------------------------------------------------- whole cells

NORMALIZE_CASES = [
    ("Các phòng cơ quan Sở, đơn vị y tế trong ngành (cung cấp tin bài)",
     ["Các phòng thuộc Sở", "Các đơn vị trực thuộc Sở"]),
    ("Các phòng, đơn vị trực thuộc", ["Các phòng thuộc Sở", "Các đơn vị trực thuộc Sở"]),
    ("Các phòng, chi cục, đơn vị trực thuộc Sở", ["Các phòng thuộc Sở", "Các đơn vị trực thuộc Sở"]),
    ("Các phòng, ban, đơn vị thuộc Sở", ["Các phòng thuộc Sở", "Các đơn vị trực thuộc Sở"]),
    ("Các phòng, đơn vị có liên quan", ["Các phòng thuộc Sở", "Các cơ quan, đơn vị có liên quan"]),
    ("Các phòng, đơn vị giải quyết TTHC", ["Các phòng thuộc Sở", "Các đơn vị trực thuộc Sở"]),
    # a run of bare heads takes the qualifier printed at its end
    ("Các cơ quan, tổ chức, đơn vị, doanh nghiệp liên quan", ["Các cơ quan, đơn vị có liên quan"]),
    ("Cá nhân, đơn vị có liên quan", ["Các cơ quan, đơn vị có liên quan"]),
    ("Các Phòng chức năng và các đơn vị trực thuộc có liên quan",
     ["Các phòng thuộc Sở", "Các đơn vị trực thuộc Sở"]),
    ("Phòng Tổ chức - Cán bộ và cơ quan, đơn vị có liên quan.",
     ["Phòng Tổ chức - Cán bộ", "Các cơ quan, đơn vị có liên quan"]),
    ("Các sở, ban, ngành; UBND các huyện, thị xã, thành phố",
     ["Các sở, ban, ngành tỉnh", "UBND các huyện, thị xã, thành phố"]),
    # mixed lists, order of first mention, duplicates once
    ("Sở Nội vụ, các Phòng chức năng và các đơn vị trực thuộc Sở Y tế; các cơ quan, đơn vị liên quan.",
     ["Sở Nội vụ", "Các phòng thuộc Sở", "Các đơn vị trực thuộc Sở", "Các cơ quan, đơn vị có liên quan"]),
    ("Văn phòng Sở; Phòng KHTC; Phòng NVY; Văn phòng Sở Y tế",
     ["Văn phòng Sở", "Phòng Kế hoạch - Tài chính", "Phòng Nghiệp vụ Y"]),
    ("Bộ phận CCHC Văn phòng, Bộ phận Tiếp nhận và trả kết quả Sở Y tế và Chi cục ATVSTP",
     ["Bộ phận Cải cách hành chính", "Bộ phận Tiếp nhận và trả kết quả", "Chi cục An toàn vệ sinh thực phẩm"]),
    ("- TTYT Lạng Giang; - Bệnh viện Tâm Thần; - Phòng khám GTVT.",
     ["Trung tâm Y tế Lạng Giang", "Bệnh viện Tâm thần", "Phòng khám Giao thông vận tải"]),
    ("Văn phòng phối hợp Phòng Nghiệp vụ Sở Y tế", ["Văn phòng Sở", "Phòng Nghiệp vụ"]),
    (None, []),
]


@pytest.mark.parametrize("raw,expected", NORMALIZE_CASES)
def test_unit_names(raw, expected):
    assert unit_names(raw) == expected


def test_normalize_units_returns_matches_with_kinds():
    ms = normalize_units("Văn phòng Sở; Sở Tư pháp; các đơn vị có liên quan; Nhóm X")
    assert [m.kind for m in ms] == ["department_office", "external_body", "collective", None]
    assert [m.known for m in ms] == [True, True, True, False]


def test_province_argument_strips_its_name():
    assert unit_names("UBND tỉnh Xyz", province="Xyz") == ["UBND tỉnh"]


SPLIT_ASSIGNMENT_CASES = [
    ("Văn phòng phối hợp Phòng Nghiệp vụ Sở Y tế", ("Văn phòng", "Phòng Nghiệp vụ Sở Y tế")),
    ("Văn phòng Sở chủ trì, phối hợp với các phòng", ("Văn phòng Sở", "các phòng")),
    ("Phòng TCCB", ("Phòng TCCB", None)),
    (None, (None, None)),
]


@pytest.mark.parametrize("raw,expected", SPLIT_ASSIGNMENT_CASES)
def test_split_assignment(raw, expected):
    assert split_assignment(raw) == expected


# ---------------------------------------------------------------------------- plans of other issuers
# A People's Committee's or a ministry's plan keeps its collectives as printed (the registry's
# collective families are a Sở's own), splits enumerations only between units, and never maps
# a central body onto a provincial one.

PRINTED_CASES = [
    # collectives stay whole and as printed
    ("Các bộ, ngành liên quan", ["Các bộ, ngành liên quan"]),
    ("Các sở, ngành", ["Các sở, ngành"]),
    ("các cơ quan, tổ chức, cá nhân có liên quan", ["Các cơ quan, tổ chức, cá nhân có liên quan"]),
    ("Cơ quan, đơn vị liên quan", ["Cơ quan, đơn vị liên quan"]),
    # a repeated determiner, a named body or an actor with its own qualifier starts a new unit
    ("Sở Y tế và các sở, ban, ngành tỉnh", ["Sở Y tế", "Các sở, ban, ngành tỉnh"]),
    ("Các sở, ban, ngành, UBND các huyện", ["Các sở, ban, ngành", "UBND các huyện"]),
    ("Đài Phát thanh và Truyền hình tỉnh, cơ quan báo chí địa phương",
     ["Đài Phát thanh và Truyền hình tỉnh", "Cơ quan báo chí địa phương"]),
    ("Hợp tác xã, nhà phân phối nông sản, nhà bán lẻ", ["Hợp tác xã", "Nhà phân phối nông sản", "Nhà bán lẻ"]),
    # an elliptic coordination of one body is not distributed
    ("UBND xã, phường, thị trấn", ["UBND xã, phường, thị trấn"]),
    # "Các Vụ: A, B" lists distinct bodies of that head; a lower-case head lists kinds of one collective
    ("Các Vụ: Pháp chế, Tổ chức cán bộ", ["Vụ Pháp chế", "Vụ Tổ chức cán bộ"]),
    ("Các Cục: Quản lý dược; Khoa học công nghệ và Đào tạo. Văn phòng Bộ",
     ["Cục Quản lý dược", "Cục Khoa học công nghệ và Đào tạo", "Văn phòng Bộ"]),
    ("Các trường: Đại học, Cao đẳng trên địa bàn", ["Các trường: Đại học, Cao đẳng trên địa bàn"]),
    # role and scope notes are dropped
    ("Sở Tài chính chủ trì tổng hợp, báo cáo", ["Sở Tài chính"]),
    ("UBND cấp huyện thực hiện rà soát hằng năm", ["UBND cấp huyện"]),
    ("Sở Công Thương, các sở, ngành trong phạm vi chức năng, nhiệm vụ của mình",
     ["Sở Công Thương", "Các sở, ngành"]),
    # … but a collective defined by what it was given keeps its words
    ("Các đơn vị được giao thực hiện dự án", ["Các đơn vị được giao thực hiện dự án"]),
    # abbreviations of units and acronyms of a ministry's name are expanded
    ("Sở KH&CN; Sở GDĐT", ["Sở Khoa học và Công nghệ", "Sở Giáo dục và Đào tạo"]),
    ("Viện Chiến lược GDĐT", ["Viện Chiến lược Giáo dục và Đào tạo"]),
    # central bodies stay central
    ("Văn phòng Bộ, Bộ Tài chính", ["Văn phòng Bộ", "Bộ Tài chính"]),
    # a lost separator between two whole registry bodies
    ("Sở Tư pháp Sở Nội vụ", ["Sở Tư pháp", "Sở Nội vụ"]),
]


@pytest.mark.parametrize("raw,expected", PRINTED_CASES)
@pytest.mark.parametrize("level", ["province", "central"])
def test_units_of_other_issuers_stay_as_printed(raw, expected, level):
    assert unit_names(raw, issuer_level=level) == expected


def test_a_sos_plan_still_uses_the_registry_families():
    assert unit_names("Các sở, ngành", issuer_level="department") == ["Các sở, ban, ngành tỉnh"]
    assert unit_names("Các sở, ngành", issuer_level="province") == ["Các sở, ngành"]


@pytest.mark.parametrize("raw", ["Bộ Tài chính", "Văn phòng Bộ", "Thanh tra Bộ"])
def test_central_bodies_are_never_mapped_to_provincial_ones(raw):
    for level in (None, "department", "province"):
        names = unit_names(raw, issuer_level=level)
        assert names and not any("Sở" in n or "tỉnh" in n for n in names), (raw, level, names)
