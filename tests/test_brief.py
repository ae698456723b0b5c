"""Brief packaging end to end: real recordings transcribed by the pipeline, forms in YAML and
DOCX, the package built by the engagement flow, then every byte the out-tasker receives read
back and searched for what must never leave the firm."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import time
import zipfile

import pytest
from docx import Document
from pptx import Presentation

from tests.brief_scan import everything_in, leaks
from tests.conftest import ffmpeg

pytestmark = pytest.mark.slow

REF = "acme/zentravia-2026"
TERMS = ["Zentravia", "Halvorsen Logistics", "New Jersey", "Chicago"]
EMAIL, PHONE = "diane.k@zentravia.com", "+1 (415) 555-0132"
QUESTIONS = ["Where are you based and where are you from?",
             "What did Zentravia and Halvorsen Logistics agree on Rotterdam?"]
ENGAGEMENT_YAML = f"""\
name: Zentravia growth strategy
expected_interviews: 2
target_slides: 14
questions: {json.dumps(QUESTIONS)}
redact_terms: {json.dumps(TERMS)}
"""
CALL_FORM = f"""\
engagement: {REF}
executive: {{name: Diane Keller, title: VP Operations, company: Zentravia, role: operator}}
interviewer: Sam Lee
date: 2026-11-02
consent_to_record: true
answers:
  - question: {QUESTIONS[0]}
    answered_at: ["00:00-00:30"]
    key_points: ["Reach Diane on {PHONE} or {EMAIL}", "Grew up near Chicago"]
"""
SPOKEN = ("Our client Zentravia works with Halvorsen Logistics in Rotterdam. The people at "
          "Zentravia agreed with Halvorsen Logistics to open the Rotterdam hub next spring.")


@pytest.fixture
def engagement_inbox(pipeline, audio_dir, tmp_path, espeak):
    """Two interviews: the shared call (two real voices), and an executive spoken by
    espeak-ng naming the confidential client, so that the speech model misspells it."""
    from deck_builder.interview_form import blank_form_docx

    rt = pipeline
    folder = f"inbox/{REF}"
    rt.bucket.write_bytes(f"{folder}/engagement.yaml", ENGAGEMENT_YAML.encode())
    rt.bucket.upload(audio_dir / "pyannote-sample.wav", f"{folder}/call.wav")
    rt.bucket.write_bytes(f"{folder}/call.form.yaml", CALL_FORM.encode())
    wav = tmp_path / "spoken.wav"
    subprocess.run([espeak, "-v", "en-gb+m3", "-s", "160", "-w", str(wav), SPOKEN], check=True)
    m4a = tmp_path / "zentravia-cfo.m4a"
    ffmpeg("-i", str(wav), "-c:a", "aac", "-b:a", "64k", str(m4a))
    rt.bucket.upload(m4a, f"{folder}/zentravia-cfo.m4a")
    blank = blank_form_docx(tmp_path / "blank.docx", engagement=REF, questions=QUESTIONS)
    doc = Document(str(blank))
    fill = {"name": "Ingrid Halvorsen", "title": "Chief Financial Officer",
            "company": "Halvorsen Logistics", "role": "partner", "interviewer": "Sam Lee",
            "date": "2026-11-03", "consent": "yes"}
    for table in doc.tables:
        for row in table.rows:
            label = row.cells[0].text.lower()
            for key, value in fill.items():
                if key in label and not row.cells[1].text.strip():
                    row.cells[1].text = value
    form_docx = tmp_path / "zentravia-cfo.form.docx"
    doc.save(str(form_docx))
    rt.bucket.upload(form_docx, f"{folder}/zentravia-cfo.form.docx")
    return rt


def _run(rt):
    from flows.engagement import run_pending, scan_inbox

    scan = scan_inbox(rt, now=time.time() + 60)
    assert scan.refused == []
    return run_pending(rt, changed=scan.changed)


def test_brief_from_real_recordings_is_complete_valid_and_redacted(engagement_inbox, tmp_path):
    from deck_builder.package import verify_package
    from deck_builder.redact import Redactor
    from flows import db
    from transcription.transcript import Transcript

    rt = engagement_inbox
    assert sorted(_run(rt).values()) == ["transcribed", "transcribed"]
    with rt.sessions() as s:  # built by the engagement flow: both expected interviews are in
        brief = s.query(db.Brief).one()
        transcripts = [Transcript.from_json(rt.bucket.read_bytes(iv.transcript.outputs["json"])
                                            .decode()) for iv in s.query(db.Interview)]
        job_id = brief.engagement.job_id
    assert (brief.version, brief.interviews) == (1, 2)
    assert re.fullmatch(r"job-[0-9a-f]{10}", job_id)

    local = tmp_path / "brief.zip"
    local.write_bytes(rt.bucket.read_bytes(brief.zip_key))
    manifest = verify_package(local)
    assert manifest.job_id == job_id and manifest.version == 1
    names = zipfile.ZipFile(local).namelist()
    assert {n.split("/", 1)[0] for n in names} == {f"{job_id}-v1"}
    assert {n.split("/", 1)[1] for n in names} >= {
        "manifest.json", "job-spec.json", "job-spec.md", "quotes.json", "quotes.md",
        "starter-deck.pptx", "interviews/interview-01.docx", "interviews/interview-02.docx",
        "interviews/interview-01.form.json", "interviews/interview-02.form.json"}
    # the same files also lie unzipped in the bucket, matching the manifest
    for f in manifest.files:
        assert rt.bucket.stat(f"{brief.prefix}/{f.path}").size == f.bytes

    # What the speech model made of the confidential names: the redactor must find them in
    # the transcripts, and at least one must be a misspelling, not the exact term.
    redactor = Redactor(terms=tuple(TERMS))
    heard: set[str] = set()
    for t in transcripts:
        words = [w.strip(".,?!'\"") for w in t.text.split()]
        for n in (1, 2, 3):
            for i in range(len(words) - n + 1):
                window = " ".join(words[i:i + n])
                if redactor.redact(window) == "[redacted]":
                    heard.add(window.lower())
    exact = {term.lower() for term in TERMS}
    assert heard - exact, f"the speech model spelled every term right: {heard}"

    seen = everything_in(local)
    assert leaks(seen, [*TERMS, *heard, EMAIL, PHONE, "555-0132", "acme", "zentravia",
                        "Sam Lee"]) == []
    counts = json.loads(zipfile.ZipFile(local).read(f"{job_id}-v1/manifest.json"))["redactions"]
    assert counts["term"] > 0 and counts["email"] >= 1 and counts["phone"] >= 1

    # the deliverables open, and the starter deck is built on the house layouts
    with zipfile.ZipFile(local) as z:
        deck = Presentation(io.BytesIO(z.read(f"{job_id}-v1/starter-deck.pptx")))
        spec = json.loads(z.read(f"{job_id}-v1/job-spec.json"))
        docx = Document(io.BytesIO(z.read(f"{job_id}-v1/interviews/interview-02.docx")))
        quotes = json.loads(z.read(f"{job_id}-v1/quotes.json"))
    assert len(deck.slides) == 14 == spec["target_slides"]
    assert {s.slide_layout.name for s in deck.slides} <= {
        "Title", "Agenda", "Section", "Finding", "Quote", "Roster", "Closing"}
    assert spec["price_per_slide_cents"] == 1100 and spec["estimated_total_cents"] == 15400
    assert spec["deadline_utc"].endswith("+00:00")
    body = "\n".join(p.text for p in docx.paragraphs)
    assert re.search(r"\[\d\d:\d\d\] ", body)
    assert [q["question"] for q in quotes] == [redactor.redact(q) for q in QUESTIONS]
    assert quotes[0]["quotes"], "no quote for the question the form placed in the call"
    assert all(q["interview"] == 1 for q in quotes[0]["quotes"][:1])


def test_a_new_version_only_when_inputs_change_and_a_tampered_package_fails(
        engagement_inbox, tmp_path):
    from deck_builder.errors import ManifestError
    from deck_builder.package import verify_package
    from flows.brief import build_engagement_brief

    rt = engagement_inbox
    _run(rt)
    again = build_engagement_brief(rt, REF, preview=False)
    assert (again.version, again.built) == (1, False)
    rt.bucket.write_bytes(f"inbox/{REF}/engagement.yaml",
                          ENGAGEMENT_YAML.replace("target_slides: 14", "target_slides: 20")
                          .encode())
    _run(rt)  # the changed engagement.yaml is taken in; the engagement flow rebuilds
    v2 = build_engagement_brief(rt, REF, preview=False)
    assert v2.version == 2 and not v2.built and v2.slides == 20
    pseudo = build_engagement_brief(rt, REF, preview=False, pseudonymise=True)
    assert pseudo.version == 3 and pseudo.built
    local = tmp_path / "v3.zip"
    local.write_bytes(rt.bucket.read_bytes(pseudo.zip_key))
    seen = everything_in(local)
    assert leaks(seen, ["diane", "keller", "ingrid", "halvorsen"]) == []
    assert "executive a" in seen and "executive b" in seen

    from typer.testing import CliRunner

    from flows.cli import app

    shown = CliRunner().invoke(app, ["brief", "show", REF, "--json"])
    assert shown.exit_code == 0
    briefs = json.loads(shown.stdout)["briefs"]
    assert [(b["version"], b["slides"], b["pseudonymised"]) for b in briefs] == [
        (3, 20, True), (2, 20, False), (1, 14, False)]
    table = CliRunner().invoke(app, ["brief", "show", REF])
    assert "briefs of acme/zentravia-2026" in table.stdout and "11.00 USD" in table.stdout

    unzipped = tmp_path / "v3"
    with zipfile.ZipFile(local) as z:
        z.extractall(unzipped)
    folder = next(unzipped.iterdir())
    verify_package(folder)
    (folder / "quotes.md").write_text("edited", encoding="utf-8")
    (folder / "extra.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ManifestError) as e:
        verify_package(folder)
    assert "quotes.md does not match" in e.value.message and "extra.txt" in e.value.message
    shutil.rmtree(unzipped)


def test_a_bad_form_is_quarantined_with_the_field_and_the_brief_goes_without_it(pipeline):
    from flows.engagement import scan_inbox

    rt = pipeline
    rt.bucket.write_bytes(f"inbox/{REF}/call.form.yaml",
                          CALL_FORM.replace("date: 2026-11-02", "date: 2 Nov").encode())
    rt.bucket.write_bytes(f"inbox/{REF}/other.form.yaml",
                          CALL_FORM.replace(REF, "acme/another").encode())
    scan = scan_inbox(rt, now=time.time() + 60)
    assert sorted(scan.refused) == [f"inbox/{REF}/call.form.yaml", f"inbox/{REF}/other.form.yaml"]
    reason = json.loads(rt.bucket.read_bytes(
        f"quarantine/{REF}/call.form.yaml.reason.json"))
    assert "date" in reason["message"] and "YYYY-MM-DD" in reason["message"]
    other = json.loads(rt.bucket.read_bytes(f"quarantine/{REF}/other.form.yaml.reason.json"))
    assert "acme/another" in other["message"]
