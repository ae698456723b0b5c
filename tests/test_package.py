"""The brief package built directly from hand-made transcripts and forms (no audio, no
database): every byte the out-tasker receives is searched for what must never leave the firm,
and the manifest, zip and job spec are checked for what they promise."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document
from pptx import Presentation

from deck_builder.brief import BriefInput, BriefInterview, JobTerms, quote_candidates
from deck_builder.errors import DeckBuilderError, ManifestError
from deck_builder.interview_form import InterviewForm
from deck_builder.package import build_brief, verify_package, zip_package
from deck_builder.preview import preview_available
from tests.brief_scan import everything_in, leaks
from tests.conftest import require_service
from transcription.transcript import QualityFlag, QualityReport, Segment, Transcript

TERMS = ("Zentravia", "Halvorsen Logistics", "Project Bluebird")
EMAIL, PHONE = "diane.k@zentravia.com", "+1 (415) 555-0132"
QUESTIONS = (
    # the eighth word cuts the term in two: the theme title must be redacted before it is cut
    "What do you think the board of Halvorsen Logistics wants from the merger?",
    # and here the phone number
    f"Should the board call Quorvex on {PHONE} before the Project Bluebird vote?",
)
SPOKEN = {  # what the speech model made of it: split and misspelled terms, names, contacts
    "ask": "Thanks for joining, I am Sam Lee. What does the board of Halvorsen Logistics want?",
    "answer": ("Well Sam, the board of Halvorson Logistics wants Zen Travia to close the merger "
               "before Sentravia loses the Rotterdam hub and the whole northern corridor."),
    "contact": (f"Dianne Keler here, call me on {PHONE}, in Berlin on +49 30 1234567, or mail "
                f"{EMAIL}; the Project Blue bird vote at Quorvex comes before the board of "
                "Halvorsen Logistics meets again."),
}
SECRETS = [*TERMS, "zen travia", "sentravia", "halvorson", "blue bird", "quorvex", EMAIL,
           "diane.k", "zentravia.com", PHONE, "555-0132", "555 0132", "1234567", r"\b415\b",
           r"\bacme\b", "zentravia-2026", "sam lee", r"\bsam\b", r"\blee\b"]
PEOPLE = ["diane", "dianne", "keller", "keler", "ingrid", "halvorsen"]


def segment(start: float, end: float, text: str, speaker: str | None) -> Segment:
    return Segment(start, end, text, avg_logprob=-0.2, no_speech_prob=0.01, speaker=speaker)


def transcript(speakers: tuple[str, str], roles: bool) -> Transcript:
    asks, answers = speakers
    return Transcript(
        segments=(segment(0, 6, SPOKEN["ask"], asks), segment(6, 16, SPOKEN["answer"], answers),
                  segment(16, 28, SPOKEN["contact"], answers),
                  segment(28, 32, f"Which vote at Quorvex, and when, {EMAIL}?", asks),
                  segment(32, 44, SPOKEN["answer"], answers)),
        duration=44.0,
        roles={asks: "interviewer", answers: "interviewee"} if roles else {},
        quality=QualityReport(flags=(QualityFlag("low-confidence", "Zentravia mumbled at "
                                                 f"{PHONE}", 16.0, 18.0),)))


def form(name: str, company: str, answered_at: str) -> InterviewForm:
    return InterviewForm.model_validate({
        "engagement": "acme/zentravia-2026",
        "executive": {"name": name, "title": f"Head of Zentravia Labs ({EMAIL})",
                      "company": company, "role": f"Halvorsen Logistics liaison, {PHONE}"},
        "interviewer": "Sam Lee", "date": "2026-11-02", "consent_to_record": True,
        "answers": [{"question": QUESTIONS[0], "answered_at": [answered_at],
                     "key_points": [f"Reach {name.split()[0]} on {PHONE} or {EMAIL}",
                                    "Sentravia wants the Project Bluebird merger"]},
                    {"question": f"Anything else about Quorvex, {name}?",
                     "key_points": [f"{name} of {company}"]}]})


def brief_input(*, pseudonymise: bool, job_id: str = "job-0a1b2c3d4e",
                target_slides: int | None = None) -> BriefInput:
    interviews = (
        BriefInterview(transcript(("Speaker 1", "Speaker 2"), roles=True),
                       form("Diane Keller", "Quorvex Holdings Inc.", "00:06-00:28")),
        BriefInterview(transcript(("Speaker 1", "Speaker 2"), roles=True),
                       form("Ingrid Halvorsen", "Halvorsen Logistics", "00:30-00:44")),
        # no form, no roles, and speaker ids that are themselves confidential
        BriefInterview(transcript(("Zentravia host", f"{EMAIL}"), roles=False)),
    )
    return BriefInput(job_id=job_id, version=3, issued_at=datetime(2026, 11, 4, 9, 30, tzinfo=UTC),
                      terms=JobTerms(1100, "USD", 24), interviews=interviews, questions=QUESTIONS,
                      redact_terms=TERMS, target_slides=target_slides,
                      vendor_timezone="Asia/Manila", pseudonymise=pseudonymise)


def build(tmp_path: Path, inp: BriefInput, *, preview: bool = False) -> Path:
    folder = tmp_path / "acme" / "zentravia-2026" / "v3"  # named as the caller likes
    build_brief(inp, folder, preview=preview)
    return zip_package(folder, tmp_path / "brief.zip", root=f"{inp.job_id}-v3")


@pytest.mark.parametrize("pseudonymise", [False, True])
def test_no_secret_reaches_any_file_of_the_package(tmp_path, pseudonymise):
    local = build(tmp_path, brief_input(pseudonymise=pseudonymise))
    manifest = verify_package(local)
    seen = everything_in(local)
    assert leaks(seen, SECRETS + (PEOPLE if pseudonymise else [])) == []
    assert "the board of halvorsen" not in seen  # the term cut by a theme title's length
    counts = manifest.redactions
    assert counts["term"] > 0 and counts["email"] > 0 and counts["phone"] > 0
    assert counts["name"] > 0  # the interviewer, named in speech, always
    if pseudonymise:
        assert "executive a" in seen and "executive b" in seen
    else:
        assert "diane keller" in seen and "ingrid halvorsen" in seen


def test_the_preview_is_rendered_from_the_redacted_deck(tmp_path):
    if not preview_available():
        require_service("LibreOffice", "soffice or pdftoppm is not on PATH (apt-get install "
                        "libreoffice-impress-nogui poppler-utils)")
    local = build(tmp_path, brief_input(pseudonymise=True), preview=True)
    manifest = verify_package(local)
    assert manifest.preview == "ok"
    pngs = [f.path for f in manifest.files if f.path.startswith("preview/")]
    assert pngs == ["preview/page-1.png", "preview/page-2.png", "preview/page-3.png"]
    with zipfile.ZipFile(local) as z:
        assert all(z.read(f"job-0a1b2c3d4e-v3/{p}").startswith(b"\x89PNG") for p in pngs)
    assert leaks(everything_in(local), SECRETS + PEOPLE) == []


def test_a_failed_preview_does_not_name_the_build_folder(tmp_path, monkeypatch):
    def fail(deck: Path, out_dir: Path, **_: object) -> list[Path]:
        raise DeckBuilderError(f"LibreOffice failed on {deck} (exit 1): cannot open "
                               f"{deck.resolve()} for Zentravia", path=deck)

    monkeypatch.setattr("deck_builder.package.render_preview", fail)
    local = build(tmp_path, brief_input(pseudonymise=True), preview=True)
    manifest = verify_package(local)
    assert manifest.preview.startswith("unavailable: LibreOffice failed on ./starter-deck.pptx")
    assert leaks(everything_in(local), SECRETS) == []


def test_interviews_are_labelled_by_who_is_known_to_speak(tmp_path):
    local = build(tmp_path, brief_input(pseudonymise=True))
    with zipfile.ZipFile(local) as z:
        docs = [Document(io.BytesIO(z.read(f"job-0a1b2c3d4e-v3/interviews/interview-0{n}.docx")))
                for n in (1, 3)]
        quotes = json.loads(z.read("job-0a1b2c3d4e-v3/quotes.json"))
    labels = [[m[1] for p in d.paragraphs if (m := re.match(r"\[\d\d:\d\d\] ([^:]+):", p.text))]
              for d in docs]
    assert labels[0] == ["Interviewer", "Executive A", "Interviewer", "Executive A"]
    # no roles from diarization: the speaker who asks the engagement's questions is the
    # interviewer, the other one the executive (their confidential ids are never shown)
    assert labels[1] == ["Interviewer", "Executive", "Interviewer", "Executive"]
    who = {q["interview"]: q["who"] for qq in quotes for q in qq["quotes"]}
    assert who[1] == "Executive A (Head of [redacted] Labs ([email]))"
    assert who[3] == "Executive"


def test_job_spec_keeps_the_job_id_and_states_money_and_deadlines(tmp_path):
    inp = brief_input(pseudonymise=False, job_id="job-5551234567")  # all hex digits decimal
    local = build(tmp_path, inp)
    root = "job-5551234567-v3"
    with zipfile.ZipFile(local) as z:
        spec = json.loads(z.read(f"{root}/job-spec.json"))
        spec_md = z.read(f"{root}/job-spec.md").decode()
        form_json = json.loads(z.read(f"{root}/interviews/interview-01.form.json"))
        deck = Presentation(io.BytesIO(z.read(f"{root}/starter-deck.pptx")))
    assert spec["job_id"] == form_json["engagement"] == "job-5551234567"
    assert spec_md.startswith("# Job job-5551234567, brief version 3")
    assert deck.core_properties.subject == "Job job-5551234567"
    assert (spec["deadline_utc"], spec["deadline_local"]) == (
        "2026-11-05T09:30:00+00:00", "2026-11-05T17:30:00+08:00")
    assert spec["price_per_slide_cents"] == 1100 and isinstance(spec["price_per_slide_cents"], int)
    assert spec["estimated_total_cents"] == 1100 * spec["target_slides"] == 1100 * len(deck.slides)
    assert "Price per slide: 11.00 USD; estimate " in spec_md
    assert f"{spec['estimated_total_cents'] // 100}.00 USD" in spec_md
    assert spec["questions"][0] == ("What do you think the board of [redacted] wants from the "
                                    "merger?")


def test_a_slide_target_is_met_by_giving_up_quote_slides(tmp_path):
    local = build(tmp_path, brief_input(pseudonymise=True, target_slides=8))
    with zipfile.ZipFile(local) as z:
        spec = json.loads(z.read("job-0a1b2c3d4e-v3/job-spec.json"))
        deck = Presentation(io.BytesIO(z.read("job-0a1b2c3d4e-v3/starter-deck.pptx")))
    assert len(deck.slides) == spec["target_slides"] == 8
    assert "Quote" not in {s.slide_layout.name for s in deck.slides}
    assert spec["note"] is None


def test_a_target_below_the_skeleton_is_said_in_the_job_spec(tmp_path):
    local = build(tmp_path, brief_input(pseudonymise=True, target_slides=3))
    with zipfile.ZipFile(local) as z:
        spec = json.loads(z.read("job-0a1b2c3d4e-v3/job-spec.json"))
        md = z.read("job-0a1b2c3d4e-v3/job-spec.md").decode()
        slides = len(Presentation(io.BytesIO(
            z.read("job-0a1b2c3d4e-v3/starter-deck.pptx"))).slides)
    assert slides > 3
    assert f"The starter deck has {slides} slides, more than the target of 3" in spec["note"]
    assert "**Note.**" in md


def test_the_zip_sits_under_one_folder_and_a_changed_byte_fails_it(tmp_path):
    local = build(tmp_path, brief_input(pseudonymise=False))
    manifest = verify_package(local)
    with zipfile.ZipFile(local) as z:
        names = z.namelist()
        listed = json.loads(z.read("job-0a1b2c3d4e-v3/manifest.json"))
    assert {n.split("/", 1)[0] for n in names} == {"job-0a1b2c3d4e-v3"}
    assert "manifest.json" not in [f["path"] for f in listed["files"]]  # it cannot hash itself
    assert sorted(f.path for f in manifest.files) == sorted(
        n.split("/", 1)[1] for n in names if not n.endswith("manifest.json"))
    assert listed["issued_at"] == "2026-11-04T09:30:00+00:00" and listed["brief_version"] == 3

    def rezip(edit: dict[str, bytes]) -> Path:
        out = tmp_path / "edited.zip"
        with zipfile.ZipFile(local) as old, zipfile.ZipFile(out, "w") as new:
            for n in old.namelist():
                new.writestr(n, edit.get(n, old.read(n)))
        return out

    with pytest.raises(ManifestError, match="quotes.md does not match"):
        verify_package(rezip({"job-0a1b2c3d4e-v3/quotes.md": b"edited"}))
    with pytest.raises(ManifestError, match="is not a brief manifest"):
        verify_package(rezip({"job-0a1b2c3d4e-v3/manifest.json": b"{\"files\": []}"}))
    (tmp_path / "cut.zip").write_bytes(local.read_bytes()[:1000])
    with pytest.raises(ManifestError, match="not a readable zip"):
        verify_package(tmp_path / "cut.zip")


def test_quotes_come_from_the_span_of_the_question_the_form_matches_best():
    narrow, wide = "What drives pricing?", "What drives pricing in Europe?"
    t = Transcript(segments=(
        segment(0, 10, "Pricing is driven by what our largest customers pay for service today.",
                "Speaker 2"),
        segment(20, 30, "In Europe pricing follows the regulators and the energy costs we carry.",
                "Speaker 2")), duration=30.0)
    f = InterviewForm.model_validate({
        "engagement": "acme/pricing", "executive": {"name": "Jane Doe", "title": "CFO",
                                                   "company": "Acme", "role": "CFO"},
        "interviewer": "Sam Lee", "date": "2026-11-02", "consent_to_record": True,
        "answers": [{"question": narrow, "answered_at": ["00:00-00:10"]},
                    {"question": wide, "answered_at": ["00:20-00:30"]}]})
    found = quote_candidates([narrow, wide], (BriefInterview(t, f),))
    assert [[q.start for q in qq.quotes] for qq in found] == [[0.0], [20.0]]
