"""The transcript DOCX the out-tasker reads: labelled, timed, and with nothing confidential."""

from __future__ import annotations

import datetime
import re
from collections import Counter

import docx

from deck_builder.interview_form import Executive, InterviewForm
from deck_builder.redact import Redactor
from deck_builder.transcript_docx import speaker_labels, transcript_docx
from transcription.transcript import QualityFlag, QualityReport, Segment, Transcript

TERMS = ("Zentravia", "Halvorsen Logistics")
EXECUTIVE = "Ingrid Halvorsen"


def _segment(start: float, end: float, text: str, speaker: str) -> Segment:
    return Segment(start, end, text, -0.2, 0.01, (), speaker)


def _transcript() -> Transcript:
    return Transcript(
        segments=(
            _segment(0.0, 4.0, "Thanks for joining, Ingrid.", "SPEAKER_00"),
            _segment(4.5, 9.0, "Happy to. At Zen Travia we price by margin.", "SPEAKER_01"),
            _segment(9.0, 12.0, "Mail me at ingrid.halvorsen@zentravia.com.", "SPEAKER_01"),
            _segment(75.2, 80.0, "How does Halverson logistics compare?", "SPEAKER_00"),
            _segment(3725.0, 3730.0, "Call +1 (415) 555-0132 if Halvorsen is unsure.",
                     "SPEAKER_01"),
        ),
        duration=3731.0, language="en",
        roles={"SPEAKER_00": "interviewer", "SPEAKER_01": "interviewee"},
        quality=QualityReport((QualityFlag("low-confidence", "Sentravia figures unclear",
                                           75.2, 80.0),
                               QualityFlag("language", "mostly English"))))


def _form() -> InterviewForm:
    return InterviewForm(
        engagement="zentravia/pricing-2026", interviewer="Sam Lee",
        executive=Executive(name=EXECUTIVE, title="CFO of Zentravia", company="Zentravia AG",
                            role="buyer"),
        date=datetime.date(2026, 11, 2), consent_to_record=True)


def _all_text(path) -> str:
    document = docx.Document(str(path))
    parts = [run.text for p in document.paragraphs for run in p.runs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    props = document.core_properties
    parts += [str(getattr(props, attr)) for attr in (
        "author", "category", "comments", "content_status", "identifier", "keywords", "language",
        "last_modified_by", "subject", "title", "version")]
    return "\n".join(parts)


def test_transcript_docx_is_labelled_timed_and_redacted(tmp_path):
    redactor = Redactor(terms=TERMS, names=Redactor.for_names([EXECUTIVE]))
    tally: Counter[str] = Counter()
    out = transcript_docx(_transcript(), tmp_path / "brief" / "interview-2.docx",
                          title="Interview 2", redactor=redactor, tally=tally,
                          speaker_names={"SPEAKER_01": "Executive A"}, form=_form())
    text = _all_text(out)
    lowered = text.lower()
    for secret in (*TERMS, "zen travia", "halverson", "sentravia", "ingrid", "halvorsen",
                   "@", "555-0132"):
        assert secret.lower() not in lowered, secret
    assert "[00:00] Interviewer:" in text
    assert "[00:04] Executive A:" in text
    assert "[01:15] Interviewer:" in text
    assert "[1:02:05] Executive A:" in text
    assert "[email]" in text and "[phone]" in text
    assert "Passages to check" in text
    assert "[01:15-01:20] [redacted] figures unclear (low-confidence)" in text
    assert "[whole recording] mostly English (language)" in text
    assert "CFO of [redacted]" in text and "buyer" in text
    assert tally == Counter(term=5, name=2, email=1, phone=1)

    document = docx.Document(str(out))
    turns = [p for p in document.paragraphs if re.match(r"\[\d+:\d\d(:\d\d)?\] ", p.text)]
    assert len(turns) == 4  # consecutive segments of one speaker are one turn
    assert turns[1].runs[0].bold and turns[1].runs[0].text == "[00:04] Executive A:"
    assert turns[1].runs[1].text == (" Happy to. At [redacted] we price by margin. "
                                     "Mail me at [email].")
    props = document.core_properties
    assert (props.author, props.title, props.last_modified_by) == ("outtask", "Interview 2",
                                                                   "outtask")
    assert props.comments == props.keywords == props.subject == props.category == ""


def test_default_labels_come_from_roles_then_ids():
    transcript = _transcript()
    assert speaker_labels(transcript) == {"SPEAKER_00": "Interviewer", "SPEAKER_01": "Executive"}
    no_roles = Transcript(segments=transcript.segments, duration=transcript.duration)
    assert speaker_labels(no_roles) == {"SPEAKER_00": "SPEAKER_00", "SPEAKER_01": "SPEAKER_01"}
    two = Transcript(segments=transcript.segments, duration=transcript.duration,
                     roles={"SPEAKER_00": "interviewee", "SPEAKER_01": "interviewee"})
    assert speaker_labels(two) == {"SPEAKER_00": "Executive", "SPEAKER_01": "Executive 2"}


def test_without_form_or_names(tmp_path):
    tally: Counter[str] = Counter()
    out = transcript_docx(_transcript(), tmp_path / "t.docx", title="Interview 3",
                          redactor=Redactor(terms=TERMS), tally=tally)
    text = _all_text(out)
    assert "[00:04] Executive:" in text and "Zentravia" not in text
    assert not docx.Document(str(out)).tables
