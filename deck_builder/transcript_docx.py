"""The speaker-labelled transcript the out-tasker reads, as a Word document.

Every piece of text that goes into the document (speaker labels, the form's fields, the spoken
words, the review reasons) passes through the :class:`~deck_builder.redact.Redactor`, so the
document holds no client name, e-mail, phone number or real name of an executive.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import docx

from deck_builder.interview_form import (
    InterviewForm,
    add_label_table,
    format_clock,
    stamp_docx_properties,
)
from deck_builder.redact import Redactor
from transcription.transcript import QualityFlag, Transcript, speaker_turns

__all__ = ["ROLE_LABELS", "speaker_labels", "transcript_docx"]

#: display label of each transcript role
ROLE_LABELS = {"interviewer": "Interviewer", "interviewee": "Executive"}


def speaker_labels(transcript: Transcript,
                   speaker_names: dict[str, str] | None = None) -> dict[str, str]:
    """Speaker id -> display label: ``speaker_names`` where given, else the speaker's role
    ("Interviewer", "Executive"; numbered when two speakers share one), else the raw id."""
    labels: dict[str, str] = {}
    for speaker in transcript.speakers:
        if speaker_names and speaker in speaker_names:
            labels[speaker] = speaker_names[speaker]
        elif transcript.roles.get(speaker) in ROLE_LABELS:
            label = ROLE_LABELS[transcript.roles[speaker]]
            taken = sum(1 for other in labels.values() if other.split(" ")[0] == label)
            labels[speaker] = f"{label} {taken + 1}" if taken else label
        else:
            labels[speaker] = speaker
    return labels


#: how an answer was found, for the reader
_HOW = {"form": "from the interview form", "asked": "where the interviewer asked it",
        "none": "-"}


def _when(flag: QualityFlag) -> str:
    if flag.start is None:
        return "whole recording"
    end = f"-{format_clock(flag.end)}" if flag.end is not None else ""
    return f"{format_clock(flag.start)}{end}"


def transcript_docx(transcript: Transcript, out: Path, *, title: str, redactor: Redactor,
                    tally: Counter[str], speaker_names: dict[str, str] | None = None,
                    form: InterviewForm | None = None) -> Path:
    """Write the transcript to ``out``: a heading (``title``, already opaque, e.g.
    "Interview 2"), the executive's title, role and company when a form is given, one paragraph
    per speaker turn ("[mm:ss] Label: words"), and the passages quality checks flagged."""

    def clean(text: str) -> str:
        return redactor.redact(text, tally)

    heading = clean(title)
    document = docx.Document()
    document.add_heading(heading, level=1)
    if form is not None:
        executive = form.executive
        add_label_table(document, [("Title", clean(executive.title)),
                                   ("Role", clean(executive.role)),
                                   ("Company", clean(executive.company))])
    labels = speaker_labels(transcript, speaker_names)
    if transcript.answers:
        document.add_heading("Answers to the questions", level=2)
        table = document.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("Question", "Answered at", "How found"),
                              strict=True):
            cell.text = text
        for a in transcript.answers:
            row = table.add_row().cells
            row[0].text = clean(a.question)
            row[1].text = (f"{format_clock(a.start)}-{format_clock(a.end)}"
                           if a.start is not None and a.end is not None else "not answered")
            row[2].text = _HOW.get(a.method, a.method) + (
                f" (confidence {a.confidence:.2f})" if a.method == "asked" else "")
    document.add_heading("Transcript", level=2)
    for speaker, segments in speaker_turns(transcript.segments):
        label = labels.get(speaker, "Speaker") if speaker else "Speaker"
        paragraph = document.add_paragraph()
        paragraph.add_run(f"[{format_clock(segments[0].start)}] {clean(label)}:").bold = True
        paragraph.add_run(" " + clean(" ".join(s.text.strip() for s in segments)))
    if transcript.quality.flags:
        document.add_heading("Passages to check", level=2)
        for flag in transcript.quality.flags:
            document.add_paragraph(f"[{_when(flag)}] {clean(f'{flag.reason} ({flag.kind})')}",
                                   style="List Bullet")
    stamp_docx_properties(document, title=heading)
    out.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(out))
    return out
