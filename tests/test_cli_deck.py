"""``outtask deck check``, ``outtask form …`` and ``outtask brief …`` as a user and a script
see them: tables, one JSON document on stdout, exit codes, no tracebacks."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from pptx import Presentation

from tests.test_cli import run


def _deck(path: Path, *, hidden: int | None = None) -> Path:
    prs = Presentation()
    for i in range(3):
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = f"Finding {i + 1}"
        slide.placeholders[1].text = "What the executives said"
    prs.slides.add_slide(prs.slide_layouts[6])  # blank: not billable
    if hidden is not None:
        prs.slides[hidden]._element.set("show", "0")
    prs.save(str(path))
    return path


def test_deck_check_json_table_and_refusal(tmp_path):
    deck = _deck(tmp_path / "returned.pptx", hidden=0)
    r = run("deck", "check", str(deck), "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {k: doc[k] for k in ("file", "slides", "billable_slides", "hidden_slides",
                                "empty_slides")} == {
        "file": "returned.pptx", "slides": 4, "billable_slides": 2, "hidden_slides": 1,
        "empty_slides": 1}
    assert {f["kind"] for f in doc["flags"]} >= {"hidden", "empty", "layout"}

    table = run("deck", "check", str(deck), cwd=tmp_path)
    assert table.returncode == 0 and "2 billable" in table.stdout and "layout" in table.stdout

    with zipfile.ZipFile(deck) as src, zipfile.ZipFile(tmp_path / "bad.pptx", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "ppt/presentation.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1)
            dst.writestr(item, data)
    bad = run("deck", "check", str(tmp_path / "bad.pptx"), "--json", cwd=tmp_path)
    assert bad.returncode == 1
    refused = json.loads(bad.stdout)
    assert refused["file"] == "bad.pptx" and "DOCTYPE" in refused["refused"]
    assert "Traceback" not in bad.stderr

    missing = run("deck", "check", str(tmp_path / "nope.pptx"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_form_blank_schema_and_check(tmp_path):
    blank = tmp_path / "exec-1.form.docx"
    r = run("form", "blank", "acme/market-entry", "--out", str(blank), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert blank.is_file()
    schema = json.loads(run("form", "schema", cwd=tmp_path).stdout)
    assert {"engagement", "executive", "consent_to_record"} <= set(schema["required"])

    unfilled = run("form", "check", str(blank), cwd=tmp_path)
    assert unfilled.returncode == 1 and "Traceback" not in unfilled.stderr
    good = tmp_path / "exec-1.form.yaml"
    good.write_text("engagement: acme/market-entry\nexecutive: {name: A B, title: CFO, "
                    "company: Acme, role: buyer}\ninterviewer: C D\ndate: 2026-11-02\n"
                    "consent_to_record: true\n")
    ok = run("form", "check", str(good), cwd=tmp_path)
    assert ok.returncode == 0 and "valid form for acme/market-entry" in ok.stdout
    good.write_text(good.read_text().replace("2026-11-02", "02/11/2026"))
    bad = run("form", "check", str(good), cwd=tmp_path)
    assert bad.returncode == 1 and "date" in bad.stderr and "YYYY-MM-DD" in bad.stderr


def test_brief_commands_before_any_transcript(tmp_path):
    created = run("engagement", "create", "acme/market-entry", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    build = run("brief", "build", "acme/market-entry", cwd=tmp_path)
    assert build.returncode == 1 and "no transcribed interview" in build.stderr
    show = run("brief", "show", "acme/market-entry", "--json", cwd=tmp_path)
    assert show.returncode == 0
    assert json.loads(show.stdout) == {"engagement": "acme/market-entry", "briefs": []}
    unknown = run("brief", "show", "acme/nothing", cwd=tmp_path)
    assert unknown.returncode == 2 and "no engagement" in unknown.stderr
    bad_ref = run("brief", "build", "acme", cwd=tmp_path)
    assert bad_ref.returncode == 2 and "<client>/<engagement>" in bad_ref.stderr
