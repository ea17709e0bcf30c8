"""Tasks stated in the body text: labelled fields (004 part B) and bulleted tasks under the
numbered areas of a plan without an appendix (002).

Expectations come from the samples: 002's bullets are re-read from its converted text by a
plain line scan below, and the 004 facts were read off its PDF pages 3-16.
"""

from __future__ import annotations

import re

import pytest

from extractors.model import BBox, Document, Line, Page
from extractors.text import parse_text
from parsers.body import bulleted_tasks, labelled_tasks, match_field, paragraphs
from parsers.plan import parse_document

FORMATS = ("pdf", "txt")
QN = "004_07b90c17cd1837c6"
HB = "002_5402a99ec6066c4b"


def _body(samples, doc_id, fmt):
    return [t for t in samples.parsed(doc_id, fmt).tasks if t.source == "body"]


def _item(tasks, item, start=""):
    hits = [t for t in tasks if t.item == item and t.task.startswith(start)]
    assert len(hits) >= 1, item
    return hits[0]


# --------------------------------------------------------------------------- 004: labelled fields


def _labels_before_part_c(doc: Document, label: str) -> int:
    n = 0
    for _, b in doc.blocks():
        if isinstance(b, Line):
            if b.text.startswith("C. TỔ CHỨC THỰC HIỆN"):
                break
            n += bool(re.match(rf"^(- )?{label}:", b.text))
    return n


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_labelled_paragraph_is_one_body_task(samples, fmt):
    doc = samples.document(QN, fmt)
    tasks = _body(samples, QN, fmt)
    # Each task of part B states its timing once: one "Thời gian thực hiện:" per task.
    n_deadlines = _labels_before_part_c(doc, "Thời gian thực hiện")
    assert n_deadlines == 20
    assert len(tasks) == n_deadlines
    assert all(t.deadline_raw for t in tasks)
    # Body tasks come first (part B precedes the appendix).
    parsed = samples.parsed(QN, fmt).tasks
    assert [t.source for t in parsed[:20]] == ["body"] * 20
    assert {t.source for t in parsed[20:]} == {"appendix"}
    assert list(dict.fromkeys(t.section_code for t in tasks)) == ["I", "II", "III", "IV"]
    for t in tasks:
        # Field labels never leak into the task text.
        assert not re.search(r"(Đơn vị (chủ trì|phối hợp|đầu mối)|Thời gian thực hiện)[^:]{0,40}:", t.task), t.seq
        assert t.lead_units_raw or t.monitoring_units_raw


@pytest.mark.parametrize("fmt", FORMATS)
def test_labelled_fields_fill_their_roles(samples, fmt):
    tasks = _body(samples, QN, fmt)
    first = tasks[0]
    assert (first.section_code, first.section_title, first.item) == (
        "I", "Đối với Chỉ số cải cách hành chính (PAR INDEX)", "1")
    assert first.task.startswith("Các Phòng chức năng, các đơn vị trực thuộc trên cơ sở chức năng, nhiệm vụ, tham mưu")
    assert first.task.endswith("các nhiệm vụ công tác CCHC khác được Tỉnh ủy, UBND tỉnh, Chủ tịch UBND tỉnh giao.")
    # "Đơn vị đầu mối theo dõi, đôn đốc thực hiện:" is the monitoring unit, not the lead.
    assert first.monitoring_units_raw == "Phòng Tổ chức - Cán bộ."
    assert first.lead_units_raw is None
    # Wrapped onto a second line in the PDF.
    assert first.coordinating_units_raw == ("Các Phòng chức năng và các đơn vị trực thuộc Sở Y tế; "
                                            "các cơ quan, đơn vị liên quan.")
    assert first.deadline_raw == ("Thường xuyên hằng năm; giai đoạn 2021-2025; theo Nghị quyết, Chương trình, "
                                  "Kế hoạch của Tỉnh ủy, UBND tỉnh ban hành.")
    second = tasks[1]
    assert second.lead_units_raw == ("Các Phòng chức năng và các đơn vị trực thuộc Sở Y tế (theo nhiệm vụ cụ thể "
                                     "được phân công tại Kế hoạch).")
    # "Đơn vị đầu mối theo dõi, đôn đốc và chủ trì thực hiện: Thanh tra." names both roles.
    t21 = _item(tasks, "2.1")
    assert (t21.section_code, t21.lead_units_raw, t21.monitoring_units_raw) == ("II", "Thanh tra.", "Thanh tra.")
    assert t21.task.startswith("Đối với tiêu chí “Kiểm soát tham nhũng trong chính quyền")


@pytest.mark.parametrize("fmt", FORMATS)
def test_plus_sub_bullets_stay_in_the_deadline(samples, fmt):
    t5 = _item(_body(samples, QN, fmt), "5", "Trưởng các Phòng chức năng (thành viên Ban chỉ đạo")
    assert t5.deadline_raw.startswith("Thường xuyên hàng năm, cụ thể: + Gửi tài liệu kiểm chứng đợt 01 trước ngày "
                                      "30/6 hàng năm.")
    assert "+ Gửi tài liệu kiểm chứng đợt 03 trước ngày 15/11 hàng năm." in t5.deadline_raw
    assert "**" not in t5.deadline_raw


@pytest.mark.parametrize("fmt", FORMATS)
def test_footnote_is_not_part_of_the_task(samples, fmt):
    # 004 I.4: "… được phân công⁽¹⁾, Trưởng các Phòng …" is interrupted by the footnote
    # "⁽¹⁾ Nhiệm vụ cụ thể được phân công tại Công văn số 2202/SYT-TCCB …" (PDF page 4).
    doc = samples.document(QN, fmt)
    assert any(isinstance(b, Line) and b.text.startswith("⁽¹⁾ Nhiệm vụ cụ thể") for _, b in doc.blocks())
    t4 = _item(_body(samples, QN, fmt), "4", "Trên cơ sở nhiệm vụ được phân công")
    assert t4.task.startswith("Trên cơ sở nhiệm vụ được phân công, Trưởng các Phòng chức năng, Thủ trưởng các đơn "
                              "vị trực thuộc (thành viên Ban chỉ đạo CCHC ngành Y tế) chủ động tham mưu, đề xuất")
    assert t4.task.endswith("nâng cao Chỉ số PAR INDEX của Sở Y tế và của tỉnh Quảng Ngãi.")
    assert "2202/SYT-TCCB" not in t4.task and "Quy chế hoạt động" not in t4.task
    assert not re.search("[⁽⁾⁰¹²³⁴⁵⁶⁷⁸⁹]", t4.task)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sub_items_without_fields_of_their_parent(samples, fmt):
    tasks = _body(samples, QN, fmt)
    # II.2 states no fields itself; its "2.1." and "2.2." paragraphs are the tasks.
    assert [t.item for t in tasks if t.section_code == "II"] == ["1", "2.1", "2.2"]
    # III.5 "a)" / "b)" take the parent's number.
    assert {t.item for t in tasks if t.section_code == "III"} >= {"5.a", "5.b"}
    # A run-in heading "1. Tiếp cận dịch vụ:" takes the paragraph it introduces.
    t = _item([t for t in tasks if t.section_code == "III"], "1")
    assert t.task.startswith("Tiếp cận dịch vụ")
    assert "Phối hợp với Văn phòng UBND tỉnh (Trung tâm Phục vụ hành chính công" in t.task
    assert t.lead_units_raw == t.monitoring_units_raw == "Văn phòng Sở."


def test_body_tasks_are_the_same_from_pdf_and_text(samples):
    fields = ("section_code", "section_title", "item", "task", "lead_units_raw", "coordinating_units_raw",
              "monitoring_units_raw", "deadline_raw")
    pdf = [tuple(getattr(t, f) for f in fields) for t in _body(samples, QN, "pdf")]
    txt = [tuple(getattr(t, f) for f in fields) for t in _body(samples, QN, "txt")]
    assert pdf == txt


# --------------------------------------------------------------------------- 002: bullets


def _bullets_in_text_file(raw: str) -> list[tuple[tuple[str, str], str]]:
    """(area code, area title) and text of each "- " bullet of part II, its hard-wrapped
    lines joined, read straight off the converted text."""
    lines = [" ".join(ln.split()) for ln in raw.splitlines()]
    start = next(i for i, ln in enumerate(lines) if ln.startswith("II. NỘI DUNG KẾ HOẠCH"))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("III. TỔ CHỨC THỰC HIỆN"))
    area, out, wraps = None, [], 0
    for s in lines[start + 1:end]:
        if not s:
            continue
        m = re.match(r"^(\d+)\. (.+)$", s)
        if m:
            area = (m.group(1), m.group(2))
        elif s.startswith("- "):
            out.append([area, s[2:]])
        elif s.startswith("("):
            continue  # "(Có Phụ lục … kèm theo Kế hoạch này)." is a note, not bullet text
        else:
            out[-1][1] += " " + s
            wraps += 1
    assert wraps > 40, "the converted text hard-wraps its bullets"
    return [(a, t) for a, t in out]


@pytest.mark.parametrize("fmt", FORMATS)
def test_plan_without_appendix_lists_bullets_under_numbered_areas(samples, raw_dir, fmt):
    expected = _bullets_in_text_file((raw_dir / f"{HB}.txt").read_text(encoding="utf-8"))
    parsed = samples.parsed(HB, fmt)
    assert parsed.has_appendix is False and parsed.warnings == []
    assert all(t.source == "body" for t in parsed.tasks)
    got = [((t.section_code, t.section_title), t.task) for t in parsed.tasks]
    assert got == expected
    assert [a for a, _ in expected][0] == ("1", "Công tác chỉ đạo, điều hành")
    assert list(dict.fromkeys(code for (code, _), _ in expected)) == [str(i) for i in range(1, 8)]
    for t in parsed.tasks:
        assert t.item is None and t.lead_units_raw is None and t.deadline_raw is None
        assert "  " not in t.task and not t.task.startswith("-")


def test_wrapped_lines_join_with_one_space_and_hyphenated_codes_stay_whole(samples):
    tasks = samples.parsed(HB, "pdf").tasks
    # PDF page 2: "… điều tra" / "xã hội học …" and "… Ban hành kế" / "hoạch nhằm cải thiện …".
    assert tasks[0].task.startswith("Triển khai công tác xác định Chỉ số cải cách hành chính của tỉnh; điều tra xã "
                                    "hội học để đo lường sự hài lòng")
    assert "Ban hành kế hoạch nhằm cải thiện" in tasks[0].task
    assert tasks[0].task.endswith("Chỉ số hiệu quả quản trị hành chính công cấp tỉnh (PAPI) của tỉnh.")
    # PDF page 5 ends a line with "Nghị định số 32/2019/NĐ-" and goes on "CP ngày 10/4/2019".
    hit = [t for t in tasks if "32/2019" in t.task]
    assert len(hit) == 1 and "Nghị định số 32/2019/NĐ-CP ngày 10/4/2019 của Chính phủ." in hit[0].task


# --------------------------------------------------------------------------- hand-made text


def test_field_labels_match_at_line_start_only():
    assert match_field("- Đơn vị chủ trì thực hiện: Văn phòng Sở.") == (("lead",), "Văn phòng Sở.")
    assert match_field("Đơn vị đầu mối theo dõi, đôn đốc và chủ trì thực hiện: Thanh tra.") == (
        ("monitoring", "lead"), "Thanh tra.")
    assert match_field("Đơn vị đầu mối theo dõi, đôn đốc thực hiện: Phòng Tổ chức - Cán bộ.") == (
        ("monitoring",), "Phòng Tổ chức - Cán bộ.")
    assert match_field("Thời gian thực hiện: Quý II/2022") == (("deadline",), "Quý II/2022")
    assert match_field("Giao Văn phòng Sở chủ trì thực hiện: rà soát") is None


def test_hand_made_labelled_tasks_and_footnote_geometry():
    def line(text, x0, top, height=13.0):
        return Line(text, bbox=BBox(x0, top, x0 + 400, top + height))

    page = Page(number=1, width=595, height=842, blocks=[
        line("I. Cải cách thủ tục hành chính:", 114, 56),
        line("1. Rà soát, đơn giản hóa thủ tục hành chính thuộc thẩm quyền⁽²⁾ của", 114, 80),
        line("¹ Theo Quyết định số 10/QĐ-UBND ngày 01/02/2022.", 114, 100, height=10.0),
        line("Sở Y tế theo kế hoạch của UBND tỉnh.", 85, 120),
        line("- Đơn vị chủ trì thực hiện: Văn phòng Sở Y tế.", 114, 145),
        line("- Đơn vị phối hợp: Các phòng chức năng; các đơn vị", 114, 170),
        line("trực thuộc Sở Y tế.", 85, 188),
        line("- Thời gian thực hiện: Quý II/2022.", 114, 212),
        line("2. Tổ chức đối thoại với doanh nghiệp.", 114, 237),
        line("Nơi nhận:", 85, 300),
        line("3. Không phải nhiệm vụ.", 114, 320),
    ])
    doc = Document(source_path="x.pdf", source_format="pdf", pages=[page])
    tasks = labelled_tasks(paragraphs(doc))
    assert len(tasks) == 1  # item 2 states no field; item 3 is after "Nơi nhận"
    t = tasks[0]
    assert (t.source, t.section_code, t.section_title, t.item) == ("body", "I", "Cải cách thủ tục hành chính", "1")
    assert t.task == ("Rà soát, đơn giản hóa thủ tục hành chính thuộc thẩm quyền của Sở Y tế theo kế hoạch "
                      "của UBND tỉnh.")
    assert t.lead_units_raw == "Văn phòng Sở Y tế."
    assert t.coordinating_units_raw == "Các phòng chức năng; các đơn vị trực thuộc Sở Y tế."
    assert t.deadline_raw == "Quý II/2022."


def test_hand_made_bullets_in_converted_text():
    text = "\n".join([
        "KẾ HOẠCH", "Cải cách hành chính năm 2025",
        "I. MỤC ĐÍCH, YÊU CẦU", "1. Mục đích", "- Nâng cao nhận thức.",
        "II. NHIỆM VỤ TRỌNG TÂM", "1. Cải cách thể chế",
        "- Rà soát văn bản quy phạm pháp luật do Sở tham mưu", "ban hành.",
        "- Theo dõi thi hành pháp luật.",
        "2. Cải cách tài chính công", "- Thực hiện tự chủ tài chính.",
        "III. TỔ CHỨC THỰC HIỆN", "1. Văn phòng Sở", "- Theo dõi, tổng hợp.",
    ])
    doc = Document(source_path="x.txt", source_format="txt", pages=parse_text(text))
    tasks = bulleted_tasks(paragraphs(doc))
    assert [(t.section_code, t.section_title, t.task) for t in tasks] == [
        ("1", "Cải cách thể chế", "Rà soát văn bản quy phạm pháp luật do Sở tham mưu ban hành."),
        ("1", "Cải cách thể chế", "Theo dõi thi hành pháp luật."),
        ("2", "Cải cách tài chính công", "Thực hiện tự chủ tài chính."),
    ]
    # parse_document uses the bullets only when the plan has neither appendix nor labelled tasks.
    assert [t.task for t in parse_document(doc).tasks] == [t.task for t in tasks]


def test_lettered_items_under_an_area_are_tasks_like_bullets():
    doc = parse_text("\n".join([
        "KẾ HOẠCH", "Cải cách hành chính năm 2025",
        "I. MỤC TIÊU", "- Nâng cao chỉ số cải cách hành chính.",
        "II. NHIỆM VỤ, GIẢI PHÁP", "1. Cải cách thể chế",
        "a) Rà soát văn bản quy phạm pháp luật do Sở tham mưu.",
        "b) Tổ chức thi hành pháp luật.",
        "2. Cải cách thủ tục hành chính", "- Công bố thủ tục hành chính kịp thời.",
        "III. TỔ CHỨC THỰC HIỆN", "- Văn phòng Sở theo dõi, tổng hợp.",
    ]))
    tasks = bulleted_tasks(paragraphs(Document(source_path="x.txt", source_format="txt", pages=doc)))
    assert [(t.section_code, t.item, t.task) for t in tasks] == [
        ("1", "a", "Rà soát văn bản quy phạm pháp luật do Sở tham mưu."),
        ("1", "b", "Tổ chức thi hành pháp luật."),
        ("2", None, "Công bố thủ tục hành chính kịp thời."),
    ]


# --------------------------------------------------------------------------- field blocks of any issuer


def _tasks_of(lines: list[str]):
    doc = Document(source_path="x.txt", source_format="txt", pages=parse_text("\n".join(lines)))
    return parse_document(doc).tasks


def test_a_task_field_with_bullets_and_a_group_label_of_units():
    tasks = _tasks_of([
        "KẾ HOẠCH", "CHUYỂN ĐỔI SỐ NĂM 2026", "I. MỤC ĐÍCH, YÊU CẦU", "1. Mục đích", "- Nâng cao hiệu quả.",
        "II. NHIỆM VỤ", "1. Về hạ tầng số",
        "a) Nhiệm vụ:", "- Nâng cấp mạng truyền số liệu chuyên dùng.", "- Mở rộng điểm truy cập công cộng.",
        "b) Cơ quan thực hiện:", "- Đơn vị chủ trì: Sở Khoa học và Công nghệ.", "- Đơn vị phối hợp: UBND cấp xã.",
        "c) Thời gian thực hiện: Quý IV/2026.",
        "2. Về dữ liệu",
        "- Nội dung thực hiện: Xây dựng kho dữ liệu dùng chung.", "- Cơ quan chủ trì: Văn phòng UBND tỉnh.",
        "- Thời gian thực hiện: Năm 2026.",
        "- Nội dung thực hiện: Công bố dữ liệu mở.", "- Cơ quan chủ trì: Sở Tài chính.",
        "- Thời gian thực hiện: Năm 2027.",
        "3. Về nguồn lực", "Các cơ quan bố trí cán bộ chuyên trách chuyển đổi số.",
        "III. TỔ CHỨC THỰC HIỆN", "1. Sở Khoa học và Công nghệ", "- Theo dõi, đôn đốc thực hiện Kế hoạch.",
    ])
    assert [(t.task, t.lead_units_raw, t.coordinating_units_raw, t.deadline_raw) for t in tasks] == [
        ("Nâng cấp mạng truyền số liệu chuyên dùng. Mở rộng điểm truy cập công cộng.",
         "Sở Khoa học và Công nghệ.", "UBND cấp xã.", "Quý IV/2026."),
        # two field blocks under one heading are two tasks
        ("Xây dựng kho dữ liệu dùng chung.", "Văn phòng UBND tỉnh.", None, "Năm 2026."),
        ("Công bố dữ liệu mở.", "Sở Tài chính.", None, "Năm 2027."),
        # an item without fields among labelled ones is a task with its own text and no units
        ("Các cơ quan bố trí cán bộ chuyên trách chuyển đổi số.", None, None, None),
    ]  # and the duties per unit of "TỔ CHỨC THỰC HIỆN" are not tasks


def test_numbered_statements_with_an_inline_assignment():
    tasks = _tasks_of([
        "KẾ HOẠCH", "PHÒNG CHỐNG DỊCH BỆNH NĂM 2026", "I. MỤC ĐÍCH", "1. Chủ động phòng bệnh.",
        "II. NỘI DUNG", "1. Tuyên truyền về phòng bệnh trên các phương tiện thông tin đại chúng.",
        "2. Xây dựng phương án đáp ứng khi có dịch (Giao Sở Y tế chủ trì, phối hợp với Công an tỉnh; "
        "các cơ quan có liên quan thực hiện).",
        "3. Kiểm tra công tác phòng bệnh tại cơ sở (Giao Sở Y tế tham mưu).",
        "III. PHÂN CÔNG NHIỆM VỤ", "1. Sở Y tế", "- Hướng dẫn chuyên môn.",
    ])
    assert [(t.item, t.task, t.lead_units_raw, t.coordinating_units_raw) for t in tasks] == [
        ("1", "Tuyên truyền về phòng bệnh trên các phương tiện thông tin đại chúng.", None, None),
        ("2", "Xây dựng phương án đáp ứng khi có dịch.", "Sở Y tế", "Công an tỉnh; các cơ quan có liên quan"),
        ("3", "Kiểm tra công tác phòng bệnh tại cơ sở.", "Sở Y tế", None),
    ]
    assert {t.section_code for t in tasks} == {"II"}


def test_a_line_that_only_assigns_the_task_above():
    tasks = _tasks_of([
        "KẾ HOẠCH", "CẢI CÁCH HÀNH CHÍNH NĂM 2026", "II. NHIỆM VỤ",
        "1. Rà soát thủ tục hành chính.", "Sở Tư pháp chủ trì; các sở, ngành phối hợp.",
        "- Thời gian thực hiện: Quý II/2026.",
    ])
    assert [(t.task, t.lead_units_raw, t.coordinating_units_raw) for t in tasks] == [
        ("Rà soát thủ tục hành chính.", "Sở Tư pháp", "các sở, ngành")]


def test_a_lower_case_giao_in_a_sentence_is_no_assignment():
    tasks = _tasks_of([
        "KẾ HOẠCH", "CẢI CÁCH HÀNH CHÍNH NĂM 2026", "II. NHIỆM VỤ",
        "1. Thực hiện các nhiệm vụ (giao cơ quan, đơn vị mình chủ trì) đúng tiến độ.",
        "- Đơn vị chủ trì: Các phòng.", "- Thời gian thực hiện: Năm 2026.",
    ])
    assert tasks[0].task == "Thực hiện các nhiệm vụ (giao cơ quan, đơn vị mình chủ trì) đúng tiến độ."


def test_an_assignment_in_parentheses_without_giao():
    tasks = _tasks_of([
        "KẾ HOẠCH", "CẢI CÁCH HÀNH CHÍNH NĂM 2026", "II. NHIỆM VỤ",
        "1. Rà soát thủ tục hành chính nội bộ (Sở Tư pháp chủ trì; các sở, ngành phối hợp).",
        "2. Tổ chức hội nghị đối thoại doanh nghiệp (Quý II/2026).",
    ])
    assert [(t.task, t.lead_units_raw, t.coordinating_units_raw) for t in tasks] == [
        ("Rà soát thủ tục hành chính nội bộ.", "Sở Tư pháp", "các sở, ngành"),
        ("Tổ chức hội nghị đối thoại doanh nghiệp (Quý II/2026).", None, None),
    ]


# --------------------------------------------------------------------------- OCR specks


@pytest.mark.parametrize(("line", "expected"), [
    ("I Đối với Chỉ số cải cách hành chính (PAR INDEX):", ("I", "Đối với Chỉ số cải cách hành chính (PAR INDEX):")),
    ("IV Cải cách tài chính công", ("IV", "Cải cách tài chính công")),
    ("X quang phổi cho người lao động", (None, "X quang phổi cho người lao động")),
    ("I am not a heading", (None, "I am not a heading")),
])
def test_a_roman_numeral_whose_dot_ocr_lost_is_still_a_code(line, expected):
    from parsers.textutil import split_code

    assert split_code(line) == expected


@pytest.mark.parametrize("line", [":- -Thực hiện nghiêm chỉ đạo", "- Thực hiện nghiêm chỉ đạo",
                                  ". – Thực hiện nghiêm chỉ đạo"])
def test_a_bullet_with_an_ocr_speck_before_it_is_a_bullet(line):
    from parsers.body import _strip_bullet

    assert _strip_bullet(line) == "Thực hiện nghiêm chỉ đạo"
