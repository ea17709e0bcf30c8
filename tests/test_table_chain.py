"""Each step of the task-table chain on small hand-made grids, then the chain end to end
with its provenance and report."""

from __future__ import annotations

from extractors.model import BBox, Cell, Document, Line, Page, Table
from extractors.text import parse_text
from parsers.tables import parse_tables
from parsers.tables.model import LogicalTable, Piece, Row, Slot, SourceCell
from parsers.tables.stitch import slots_of, stitch_tables
from parsers.tables.transforms import (
    ContinuationSettings,
    assign_sections,
    fill_down,
    is_continuation,
    join_continued_rows,
    section_row,
    split_merged_row,
    table_rows,
    to_records,
)

ROLES = ["item", "task", "lead", "deadline"]


def _row(*texts, page=1, at_break=False, spans_known=True, bold=None):
    slots = [Slot(text=t, starts=True, bold=bold, source=SourceCell(page, 0, j)) for j, t in enumerate(texts)]
    return Row(page=page, slots=slots, at_break=at_break, spans_known=spans_known)


def _cell(r, c, text, rs=1, cs=1, box=None):
    return Cell(row=r, col=c, text=text, row_span=rs, col_span=cs, bbox=box)


# --------------------------------------------------------------------------- step 2


def test_table_rows_drop_repeated_headers_and_mark_the_break():
    t1 = Table(n_rows=2, n_cols=4, cells=[_cell(0, j, x) for j, x in enumerate(["1", "Việc một", "Sở A", "2025"])] +
               [_cell(1, j, x) for j, x in enumerate(["2", "Việc hai", "Sở B", "2026"])])
    head = ["TT", "Nhiệm vụ", "Chủ trì", "Thời gian"]
    t2 = Table(n_rows=2, n_cols=4, cells=[_cell(0, j, x) for j, x in enumerate(head)] +
               [_cell(1, j, x) for j, x in enumerate(["3", "Việc ba", "Sở C", "2027"])])
    lt = LogicalTable(roles=ROLES, segments=[
        Piece(1, t1, 1, slots_of(t1, 1), continued=False),
        Piece(2, t2, 1, slots_of(t2, 2), continued=True),
    ], sections_before={1: ("II", "Nhóm hai")})
    rows, dropped = table_rows(lt)
    assert dropped == 1
    assert [(r.kind, r.page, r.at_break) for r in rows] == [
        ("data", 1, False), ("data", 1, False), ("heading", 2, False), ("data", 2, True)]
    assert rows[0].slots[2].source.role == "lead"


# --------------------------------------------------------------------------- step 3


def test_a_row_cut_by_a_page_break_is_joined_with_both_pages_cells():
    prev = _row("1", "Tổ chức kiểm tra công tác cải cách hành chính tại các đơn", "Thanh tra Sở", "Quý III")
    cont = _row("", "vị trực thuộc", "", "", page=2, at_break=True)
    assert is_continuation(cont, prev, ROLES)
    out = join_continued_rows([prev, cont], ROLES, set())
    assert len(out) == 1
    assert out[0].slots[1].text.endswith("các đơn vị trực thuộc")
    assert out[0].page_end == 2 and [s.page for s in out[0].extra_sources] == [2]


def test_a_new_numbered_row_after_a_break_is_not_a_continuation():
    prev = _row("1", "Việc một", "Sở A", "2025")
    new = _row("2", "Việc hai", "Sở B", "2026", page=2, at_break=True)
    assert not is_continuation(new, prev, ROLES)
    capital = _row("", "Triển khai phần mềm mới.", "Sở B", "Năm 2026", page=2, at_break=True)
    assert not is_continuation(capital, prev, ROLES, ContinuationSettings())


MERGED_ROLES = ["item", "objective", "task", "lead", "deadline"]


def test_a_continued_row_holding_two_merged_rows_is_split_at_the_new_label():
    # the converter put the rest of row 1 and the whole of the next row in one row
    prev = _row("1", "Mục tiêu 1: Nâng cao chất lượng", "Nhiệm vụ 1: Rà soát bộ máy bảo", "Phòng A", "",
                spans_known=False)
    cont = _row("", "dịch vụ công.", "đảm tiêu chí. Nhiệm vụ 2: Sắp xếp lại phòng.", "Phòng B",
                "Tháng 11/2023 Khi đơn vị đề nghị", page=2, at_break=True, spans_known=False)
    out = fill_down(join_continued_rows([prev, cont], MERGED_ROLES, set()), MERGED_ROLES)
    assert [r.values for r in out] == [
        ["1", "Mục tiêu 1: Nâng cao chất lượng dịch vụ công.", "Nhiệm vụ 1: Rà soát bộ máy bảo đảm tiêu chí.",
         "Phòng A", "Tháng 11/2023"],
        ["1", "Mục tiêu 1: Nâng cao chất lượng dịch vụ công.", "Nhiệm vụ 2: Sắp xếp lại phòng.",
         "Phòng B", "Khi đơn vị đề nghị"],
    ]
    assert out[0].page_end == 2 and out[1].page == 2


def test_a_row_is_split_only_at_a_label_of_its_cells_own_kind_after_a_sentence_end():
    one = _row("1", "Mục tiêu 1: X", "Nhiệm vụ 1: Việc một. Nhiệm vụ 2: Việc hai.", "Sở A",
               "Tháng 3/2024; tháng 6/2024")
    first, second = split_merged_row(one, MERGED_ROLES)
    assert [s.text for s in first.slots] == ["1", "Mục tiêu 1: X", "Nhiệm vụ 1: Việc một.", "Sở A", "Tháng 3/2024"]
    assert [s.text for s in second.slots] == ["", "", "Nhiệm vụ 2: Việc hai.", "", "tháng 6/2024"]
    assert second.slots[1].from_above  # the objective spans both rows
    # a label of another kind, a label inside a sentence, or no label: one row
    for task in ("Nhiệm vụ 1: Việc một. Hoạt động 2: bước hai.", "Nhiệm vụ 1: làm như nhiệm vụ 2: nêu trên",
                 "Rà soát. Nhiệm vụ 2: Việc hai."):
        assert split_merged_row(_row("1", "", task, "Sở A", "Năm 2024"), MERGED_ROLES) is None
    # a deadline cell is not cut when the parser does not read exactly two phrases
    first, second = split_merged_row(
        _row("1", "", "Nhiệm vụ 1: A. Nhiệm vụ 2: B.", "Sở A", "Thường xuyên"), MERGED_ROLES)
    assert first.slots[4].text == "Thường xuyên" and second.slots[4].text == ""


def test_group_rows_at_any_depth():
    styles = {"dotted"}
    assert section_row(_row("A", "PHÁT TRIỂN NỀN MÓNG", "", ""), ROLES, styles) == ("A", "PHÁT TRIỂN NỀN MÓNG")
    assert section_row(_row("I", "Hoàn thiện thể chế", "", ""), ROLES, styles) == ("I", "Hoàn thiện thể chế")
    # a bold sub-group padded into a detail column
    assert section_row(_row("5.1", "", "Thương mại", "", bold=True), ROLES, styles) == ("5.1", "Thương mại")
    # ... or, not bold, numbered as the parent of the next row
    assert section_row(_row("5.2", "", "Công nghiệp", ""), ROLES, styles, next_item="5.2.1") == ("5.2", "Công nghiệp")
    assert section_row(_row("5.2", "", "Sở Công Thương", ""), ROLES, styles, next_item="5.3") is None
    # a title in the STT cell
    assert section_row(_row("II. Cải cách thủ tục hành chính", "", "", ""), ROLES, styles) == (
        "II", "Cải cách thủ tục hành chính")
    # a task row of the table's own numbering is not a group row
    assert section_row(_row("1.1", "Rà soát quy định", "", ""), ROLES, styles) is None
    assert section_row(_row("1.1", "Rà soát quy định", "Sở Tư pháp", "2026"), ROLES, styles) is None


# --------------------------------------------------------------------------- step 4


def test_fill_down_copies_merged_cells_and_keeps_their_origin():
    a = _row("1", "Việc một", "Văn phòng Sở", "Quý I", spans_known=False)
    b = _row("2", "Việc hai", "", "", spans_known=False)
    group = Row(page=1, slots=[], kind="section", section=("II", "Nhóm hai"))
    c = _row("1", "Việc ba", "", "", spans_known=False)
    out = fill_down([a, b, group, c], ROLES)
    data = [r for r in out if r.kind == "data"]
    assert data[1].values == ["2", "Việc hai", "Văn phòng Sở", "Quý I"]
    assert data[1].filled_down == 2
    assert [(c.page, c.col) for c in data[1].sources[2]] == [(1, 2)]  # the cell the value was printed in
    assert data[2].values == ["1", "Việc ba", "", ""]  # a group row starts afresh


def test_fill_down_with_known_spans_copies_only_covered_cells():
    a = _row("1", "Việc một", "Văn phòng Sở", "Quý I")
    b = _row("2", "Việc hai", "", "")
    b.slots[2] = Slot(text="", starts=False, from_above=True)
    out = fill_down([a, b], ROLES)
    assert out[1].values == ["2", "Việc hai", "Văn phòng Sở", ""]


# --------------------------------------------------------------------------- steps 5-6


def test_sections_and_records_carry_table_id_sources_and_extra():
    lt = LogicalTable(roles=["item", "task", None, "lead"], table_id="p3-t1",
                      headers=["TT", "Nhiệm vụ", "Ghi chép", "Chủ trì"])
    rows = [Row(page=3, slots=[], kind="section", section=("I", "Nhóm một")),
            _row("1", "Việc một", "xem phụ lục 2", "Sở A", page=3)]
    data = assign_sections(fill_down(rows, lt.roles))
    (rec,) = to_records(data, lt, seq_start=5)
    assert (rec.seq, rec.section_code, rec.section_title, rec.item, rec.task, rec.lead_units_raw) == (
        5, "I", "Nhóm một", "1", "Việc một", "Sở A")
    assert rec.table_id == "p3-t1"
    assert rec.extra == {"Ghi chép": "xem phụ lục 2"}  # nothing dropped
    assert [(c["page"], c["col"]) for c in rec.source_cells] == [(3, 0), (3, 1), (3, 2), (3, 3)]


# --------------------------------------------------------------------------- the chain


def _two_page_pdf_like() -> Document:
    box = BBox(10, 20, 30, 40)
    words = ["TT", "Việc cần làm", "Thời gian triển khai", "Đơn vị chịu trách nhiệm"]
    head = [_cell(0, j, h, box=box) for j, h in enumerate(words)]
    p1 = Table(n_rows=3, n_cols=4, cells=[*head,
        _cell(1, 0, "1", box=box), _cell(1, 1, "Rà soát các thủ tục hành chính còn chồng chéo, gây phiền hà", box=box),
        _cell(1, 2, "Quý I/2026", box=box), _cell(1, 3, "Sở Tư pháp", box=box),
        _cell(2, 0, "2", box=box), _cell(2, 1, "Tổ chức tập huấn kỹ năng số cho cán bộ công chức cấp", box=box),
        _cell(2, 2, "Năm 2026", box=box), _cell(2, 3, "Sở Nội vụ", box=box)])
    p2 = Table(n_rows=3, n_cols=4, cells=[*[_cell(0, j, c.text, box=box) for j, c in enumerate(head)],
        _cell(1, 0, "", box=box), _cell(1, 1, "xã trên địa bàn tỉnh", box=box), _cell(1, 2, "", box=box),
        _cell(1, 3, "", box=box),
        _cell(2, 0, "3", box=box), _cell(2, 1, "Xây dựng kho dữ liệu dùng chung của tỉnh", box=box),
        _cell(2, 2, "Thường xuyên", box=box), _cell(2, 3, "Sở Khoa học và Công nghệ", box=box)])
    return Document("x.pdf", "pdf", pages=[Page(1, [Line("PHỤ LỤC"), p1]), Page(2, [p2])])


def test_chain_on_unseen_wordings_with_provenance_and_report():
    tasks, reports = parse_tables(_two_page_pdf_like())
    assert [(t.item, t.task, t.deadline_raw, t.lead_units_raw) for t in tasks] == [
        ("1", "Rà soát các thủ tục hành chính còn chồng chéo, gây phiền hà", "Quý I/2026", "Sở Tư pháp"),
        ("2", "Tổ chức tập huấn kỹ năng số cho cán bộ công chức cấp xã trên địa bàn tỉnh", "Năm 2026", "Sở Nội vụ"),
        ("3", "Xây dựng kho dữ liệu dùng chung của tỉnh", "Thường xuyên", "Sở Khoa học và Công nghệ"),
    ]
    assert {t.table_id for t in tasks} == {"p1-t1"}
    continued = tasks[1]
    assert (continued.page_start, continued.page_end) == (1, 2)
    assert {c["page"] for c in continued.source_cells} == {1, 2}
    assert all(c["x0"] == 10 and c["bottom"] == 40 for c in continued.source_cells)
    (rep,) = reports
    assert rep.is_task_table and rep.pages == [1, 2] and rep.tasks == 3 and rep.rows_joined == 1
    assert [(c.role, c.evidence.split(":")[0]) for c in rep.columns] == [
        ("item", "header"), ("task", "content"), ("deadline", "header"), ("lead", "header")]
    assert rep.columns_without_role == [] and rep.warnings == []


def test_a_column_nobody_can_read_is_kept_and_flagged():
    text = "\n".join([
        "STT\tNội dung công việc\tĐơn vị chủ trì\tXếp hạng",
        "1\tRà soát thủ tục hành chính\tVăn phòng Sở\tA+",
        "2\tKiểm tra công vụ\tThanh tra Sở\tB",
    ])
    tasks, reports = parse_tables(Document("x.txt", "txt", pages=parse_text(text)))
    assert [t.extra for t in tasks] == [{"Xếp hạng": "A+"}, {"Xếp hạng": "B"}]
    assert reports[0].columns_without_role == ["Xếp hạng"]
    assert reports[0].warnings and "no role" in reports[0].warnings[0]


def test_report_forms_give_no_task_but_a_report():
    table = Table(n_rows=3, n_cols=4, cells=[
        _cell(0, 0, "STT"), _cell(0, 1, "Đơn vị thực hiện"), _cell(0, 2, "Số lượng"), _cell(0, 3, "Ghi chú"),
        _cell(1, 0, "1"), _cell(1, 1, ""), _cell(1, 2, ""), _cell(1, 3, ""),
        _cell(2, 0, "2"), _cell(2, 1, ""), _cell(2, 2, ""), _cell(2, 3, ""),
    ])
    tasks, reports = parse_tables(Document("x.pdf", "pdf", pages=[Page(1, [table])]))
    assert tasks == [] and len(reports) == 1 and not reports[0].is_task_table


def test_stitch_keeps_other_tables_apart():
    task = Table(n_rows=2, n_cols=3, cells=[_cell(0, 0, "TT"), _cell(0, 1, "Nhiệm vụ"), _cell(0, 2, "Chủ trì"),
                                             _cell(1, 0, "1"), _cell(1, 1, "Việc một"), _cell(1, 2, "Sở A")])
    staff = Table(n_rows=2, n_cols=3, cells=[_cell(0, 0, "STT"), _cell(0, 1, "Họ và tên"), _cell(0, 2, "Ghi chú"),
                                              _cell(1, 0, "1"), _cell(1, 1, "Nguyễn Văn A"), _cell(1, 2, "")])
    tasks, others = stitch_tables(Document("x.pdf", "pdf", pages=[Page(1, [task, staff])]))
    assert [t.table_id for t in tasks] == ["p1-t1"] and [t.table_id for t in others] == ["p1-t2"]


# --------------------------------------------------------------------------- provenance on the samples


def test_every_appendix_task_of_a_pdf_points_at_cells_inside_its_pages(samples):
    from conftest import SAMPLE_IDS

    n = 0
    for doc_id in SAMPLE_IDS:
        doc = samples.document(doc_id, "pdf")
        sizes = {p.number: (p.width, p.height) for p in doc.pages}
        for t in samples.parsed(doc_id, "pdf").tasks:
            if t.source != "appendix":
                continue
            n += 1
            assert t.table_id and t.source_cells, (doc_id, t.seq)
            pages = {c["page"] for c in t.source_cells}
            # its own pages, and an earlier one where a value it shares was printed (filled down)
            assert t.page_start in pages and max(pages) == t.page_end, (doc_id, t.seq, pages)
            for c in t.source_cells:
                w, h = sizes[c["page"]]
                assert 0 <= c["x0"] < c["x1"] <= w and 0 <= c["top"] < c["bottom"] <= h, (doc_id, t.seq, c)
            roles = {c["role"] for c in t.source_cells}
            assert "task" in roles or "activity" in roles or "objective" in roles, (doc_id, t.seq, roles)
    assert n > 100


def test_a_header_in_words_nobody_listed_is_found_from_the_rows_under_it():
    head = ["#", "Việc cần làm", "Ai lo", "Hạn chót"]
    rows = [["1", "Rà soát các thủ tục hành chính còn chồng chéo trên địa bàn tỉnh", "Sở Tư pháp", "Quý I/2026"],
            ["2", "Tổ chức tập huấn kỹ năng số cho cán bộ, công chức cấp xã", "Sở Nội vụ", "Năm 2026"]]
    table = Table(n_rows=3, n_cols=4, cells=[_cell(i, j, x) for i, r in enumerate([head, *rows])
                                             for j, x in enumerate(r)])
    tasks, reports = parse_tables(Document("x.pdf", "pdf", pages=[Page(1, [table])]))
    assert [(t.task, t.lead_units_raw, t.deadline_raw) for t in tasks] == [
        (rows[0][1], "Sở Tư pháp", "Quý I/2026"), (rows[1][1], "Sở Nội vụ", "Năm 2026")]
    assert [c.evidence.split(":")[0] for c in reports[0].columns][1:] == ["content", "content", "content"]
