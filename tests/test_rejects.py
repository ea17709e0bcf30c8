"""Bad inputs become ``rejects`` rows with a stage and a reason; they never stop a batch and
never replace the rows of an earlier good extraction of the same file."""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import struct
from pathlib import Path

import pandas as pd
import pytest

from khsyt.cli import EXIT_ALL_REJECTED, main
from khsyt.extract import Settings, extract_plan, partition_key, plan_id_of
from khsyt.results import Extracted, Rejected

GOOD_TXT = "003_453ccdb535033752.txt"
GOOD_PDF = "001_174c7ea9301aa0d6.pdf"

# --------------------------------------------------------------------------- hand-built PDFs

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for b in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(b ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def make_pdf(lines: list[str], user_password: str | None = None, owner_password: str = "owner") -> bytes:
    """A one-page PDF printing ASCII ``lines`` in Helvetica.  With ``user_password`` it is
    encrypted with the PDF Standard security handler (RC4 40-bit, revision 2): an empty user
    password opens it, any other needs the password."""
    doc_id = hashlib.md5(b"khsyt-test").digest()
    ops = ["BT /F1 12 Tf 72 750 Td 14 TL"]
    ops += ["(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for ln in lines]
    content = "\n".join([*ops, "ET"]).encode("latin-1")
    perms = -4
    encrypt = None
    if user_password is not None:
        upw = (user_password.encode() + _PAD)[:32]
        opw = (owner_password.encode() + _PAD)[:32]
        o_entry = _rc4(hashlib.md5(opw).digest()[:5], upw)
        key = hashlib.md5(upw + o_entry + struct.pack("<i", perms) + doc_id).digest()[:5]
        u_entry = _rc4(key, _PAD)
        obj_key = hashlib.md5(key + struct.pack("<i", 4)[:3] + b"\x00\x00").digest()[:10]
        content = _rc4(obj_key, content)  # object 4 is the content stream
        encrypt = (b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
                   % (o_entry.hex().encode(), u_entry.hex().encode(), perms))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if encrypt:
        objs.append(encrypt)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    trailer = b"<< /Size %d /Root 1 0 R /ID [<%s> <%s>]" % (len(objs) + 1, doc_id.hex().encode(), doc_id.hex().encode())
    if encrypt:
        trailer += b" /Encrypt %d 0 R" % len(objs)
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


RECIPE_VI = ("Cách nấu phở bò\n\nNguyên liệu: 500 g bánh phở, 300 g thịt bò, hành, gừng, quế, hồi.\n"
             "Bước 1: Nướng hành và gừng cho thơm.\nBước 2: Ninh xương bò trong 6 giờ, vớt bọt.\n"
             "Bước 3: Chần bánh phở, xếp thịt bò, chan nước dùng.\n")
RECIPE_EN = ["Pancake recipe", "Mix 200 g flour, 2 eggs and 300 ml milk into a smooth batter.",
             "Fry in a hot pan for two minutes on each side and serve warm."]


def _signature_page(raw_dir: Path) -> bytes:
    """Only the last body page of 004 (signer, "Nơi nhận" list): real Vietnamese text, no plan."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(raw_dir / "004_07b90c17cd1837c6.pdf")
    new = pdfium.PdfDocument.new()
    new.import_pages(src, [17])
    buf = io.BytesIO()
    new.save(buf)
    new.close()
    src.close()
    return buf.getvalue()


def _bad_files(folder: Path, raw_dir: Path) -> dict[str, tuple[str, ...]]:
    """Write the bad inputs; name → stages at which each may be rejected."""
    rng = random.Random(20240101)
    files = {
        "corrupt.pdf": (bytes(rng.randrange(256) for _ in range(4096)), ("open",)),
        "truncated.pdf": ((raw_dir / GOOD_PDF).read_bytes()[:15000], ("open", "extract")),
        "encrypted.pdf": (make_pdf(RECIPE_EN, user_password="secret"), ("open",)),
        "empty.txt": (b"", ("extract", "decode")),
        "empty.pdf": (b"", ("open",)),
        "blank_page.pdf": (make_pdf([]), ("ocr", "extract")),
        "recipe.txt": (RECIPE_VI.encode("utf-8"), ("parse",)),
        # English text: either read and found not to be a plan, or judged not Vietnamese and
        # sent to OCR, which is switched off.
        "recipe.pdf": (make_pdf(RECIPE_EN), ("parse", "ocr")),
        "signature_page.pdf": (_signature_page(raw_dir), ("parse",)),
        "binary.txt": (b"\x00\x01\x02\x03 abc" * 200, ("decode",)),
        "sheet.xlsx": (b"PK\x03\x04 not a plan", ("detect_format",)),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    return {name: stages for name, (_, stages) in files.items()}


@pytest.fixture(scope="module")
def batch(raw_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    stages = _bad_files(folder, raw_dir)
    shutil.copy(raw_dir / GOOD_TXT, folder / GOOD_TXT)
    out = tmp_path_factory.mktemp("curated")
    inputs = [folder / GOOD_TXT, *(folder / n for n in stages)]
    rc = main(["extract", *map(str, inputs), "--out", str(out), "--no-ocr"])
    return rc, folder, out, stages


def test_bad_files_do_not_stop_the_batch(batch):
    rc, folder, out, stages = batch
    assert rc == 0
    plans = pd.read_parquet(out / "plans")
    assert list(plans["source_path"]) == [str(folder / GOOD_TXT)]
    tasks = pd.read_parquet(out / "tasks")
    assert len(tasks) == int(plans["n_tasks"].iloc[0]) > 30
    assert set(tasks["plan_id"]) == set(plans["plan_id"])
    for name in ("pages", "legal_refs"):
        assert set(pd.read_parquet(out / name)["plan_id"]) <= set(plans["plan_id"])


def test_each_bad_file_has_a_rejects_row(batch):
    _, folder, out, stages = batch
    rejects = pd.read_parquet(out / "rejects").set_index("source_path")
    assert sorted(rejects.index) == sorted(str(folder / n) for n in stages)
    for name, allowed in stages.items():
        row = rejects.loc[str(folder / name)]
        assert row["partition_key"] == partition_key(name)
        assert row["stage"] in allowed, (name, row["stage"], row["reason"])
        assert len(row["reason"]) > 10, name
        assert not pd.isna(row["rejected_at"]) and row["pipeline_version"]
        assert row["source_sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    assert (out / "rejects" / f"{partition_key(GOOD_TXT)}.parquet").exists() is False


def test_rejects_say_why(batch):
    _, folder, out, stages = batch
    rejects = pd.read_parquet(out / "rejects").set_index("source_path")
    reason = {n: rejects.loc[str(folder / n), "reason"] for n in stages}
    for name, text in reason.items():
        # A reason an analyst can act on, not a trace of a crash nobody foresaw.
        assert not text.startswith("unexpected error"), (name, text)
    assert "not a plan" in reason["recipe.txt"] and "not a plan" in reason["signature_page.pdf"]
    assert "not a plan" in reason["recipe.pdf"] or "OCR" in reason["recipe.pdf"]
    assert "no readable text" in reason["empty.txt"]
    assert "OCR" in reason["blank_page.pdf"] or "no readable text" in reason["blank_page.pdf"]
    assert "unsupported file type .xlsx" in reason["sheet.xlsx"]
    assert "cannot open PDF" in reason["corrupt.pdf"]


def test_encrypted_pdf_reason_names_the_password(batch):
    _, folder, out, _ = batch
    row = pd.read_parquet(out / "rejects").set_index("source_path").loc[str(folder / "encrypted.pdf")]
    assert row["stage"] == "open"
    assert any(w in row["reason"].lower() for w in ("password", "encrypt")), row["reason"]


def test_pdf_encrypted_for_the_owner_only_is_read(tmp_path):
    # An empty user password (permissions only) opens without asking: the text is decrypted
    # and read, and the file is rejected later (it is no plan), not at opening.
    path = tmp_path / "owner_only.pdf"
    path.write_bytes(make_pdf(RECIPE_EN, user_password=""))
    from extractors.pdf import extract_pdf

    assert [ln.text for ln in extract_pdf(path).pages[0].lines] == RECIPE_EN
    res = extract_plan(path, Settings(ocr=False))
    assert isinstance(res, Rejected) and res.stage in ("parse", "ocr"), res


def test_missing_file_is_a_reject_not_a_crash(tmp_path):
    res = extract_plan(tmp_path / "gone.pdf", Settings(ocr=False))
    assert isinstance(res, Rejected)
    assert (res.stage, res.source_sha256, res.partition_key) == ("open", None, "gone_pdf")
    assert "gone.pdf" in res.reason or "No such file" in res.reason


@pytest.mark.parametrize("good", [GOOD_TXT, GOOD_PDF])
def test_a_good_file_turned_corrupt_keeps_its_published_rows(raw_dir, tmp_path, good):
    src = tmp_path / "in" / good
    src.parent.mkdir()
    shutil.copy(raw_dir / good, src)
    out = tmp_path / "out"
    key = partition_key(good)

    assert main(["extract", str(src), "--out", str(out), "--no-ocr"]) == 0
    plan_file, task_file = out / "plans" / f"{key}.parquet", out / "tasks" / f"{key}.parquet"
    assert plan_file.exists(), "the good file was not extracted"
    before_plan, before_tasks = pd.read_parquet(plan_file), pd.read_parquet(task_file)
    assert len(before_tasks) > 10

    src.write_bytes(os.urandom(3000) if good.endswith(".pdf") else b"\xff\xfe\x00garbage" * 100)
    assert main(["extract", str(src), "--out", str(out), "--no-ocr"]) == EXIT_ALL_REJECTED  # the only file
    pd.testing.assert_frame_equal(pd.read_parquet(plan_file), before_plan)
    pd.testing.assert_frame_equal(pd.read_parquet(task_file), before_tasks)
    rejects = pd.read_parquet(out / "rejects" / f"{key}.parquet")
    assert len(rejects) == 1
    assert rejects["source_sha256"].iloc[0] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert rejects["source_sha256"].iloc[0] != before_plan["source_sha256"].iloc[0]
    assert rejects["stage"].iloc[0] in ("open", "decode")

    # Fixed again: the new rows replace the old and the rejects row goes.
    shutil.copy(raw_dir / good, src)
    assert main(["extract", str(src), "--out", str(out), "--no-ocr"]) == 0
    assert not (out / "rejects" / f"{key}.parquet").exists()
    assert len(pd.read_parquet(task_file)) == len(before_tasks)


def test_extract_plan_returns_results_for_good_files(raw_dir):
    res = extract_plan(raw_dir / GOOD_TXT, Settings(ocr=False))
    assert isinstance(res, Extracted)
    assert res.plan["plan_id"] == plan_id_of(hashlib.sha256((raw_dir / GOOD_TXT).read_bytes()).hexdigest(),
                                             partition_key(GOOD_TXT))
    assert res.plan["n_tasks"] == len(res.tasks)


def test_image_only_pdf_without_ocr_is_rejected_not_kept_as_garbage(raw_dir):
    """A page whose text layer cannot be trusted and cannot be OCRed gives a rejects row
    with that reason, never a plan with empty or garbage text."""
    scan = raw_dir / "001_174c7ea9301aa0d6.scan200.pdf"
    res = extract_plan(scan, Settings(ocr=False))
    assert isinstance(res, Rejected)
    assert res.stage == "ocr"
    assert "text layer" in res.reason and "OCR" in res.reason
