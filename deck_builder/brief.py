"""What a brief holds: the job spec the out-tasker works to, the interviews, and quote
candidates per question.

Pure values and functions: :mod:`deck_builder.package` writes them to files, ``flows`` feeds
them from the bucket and the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transcription.transcript import Segment, Transcript

from .errors import DeckBuilderError
from .interview_form import InterviewForm, format_clock

__all__ = ["BriefInput", "BriefInterview", "JobTerms", "Quote", "QuestionQuotes",
           "deadline", "job_spec", "quote_candidates"]

#: the out-tasker's revision policy, quoted in every job spec
REVISION_POLICY = (
    "{rounds} revision rounds are included, each returned within {hours} hours of the request. "
    "Corrections of anything that does not follow this brief are free; slides added at the "
    "firm's request are billed at the same rate per slide.")

STYLE_RULES = (
    "Use only the layouts of starter-deck.pptx (Title, Agenda, Section, Finding, Quote, Roster, "
    "Closing); do not add fonts, colours or other templates.",
    "One message per Finding slide: an action title of at most two lines that states the "
    "finding, supported by at most five bullets.",
    "Quotes are verbatim from quotes.md or the transcripts, attributed exactly as given there "
    "(label and time); never name anyone the brief does not name.",
    "No logos, stock photos or external links; charts are native PowerPoint charts.",
    "Deliver one .pptx (not .pptm, no macros, no linked files); hidden and empty slides are not "
    "billed.",
)


@dataclass(frozen=True)
class JobTerms:
    """Price and turnaround: the default rate until a vendor is chosen, then the vendor's."""

    slide_rate_cents: int
    currency: str
    turnaround_hours: int
    vendor: str | None = None
    revision_rounds: int = 2
    revision_hours: int = 12


@dataclass(frozen=True)
class BriefInterview:
    transcript: Transcript
    form: InterviewForm | None = None


@dataclass(frozen=True)
class BriefInput:
    """Everything one brief version is built from. ``job_id`` is the only name of the job the
    out-tasker ever sees; nothing else identifies the client."""

    job_id: str
    version: int
    issued_at: datetime
    terms: JobTerms
    interviews: tuple[BriefInterview, ...]
    questions: tuple[str, ...] = ()
    redact_terms: tuple[str, ...] = ()
    target_slides: int | None = None
    vendor_timezone: str = "UTC"
    pseudonymise: bool = False

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware (UTC)")
        if not self.interviews:
            raise DeckBuilderError(
                "a brief needs at least one transcribed interview",
                fix="wait until an interview is transcribed (outtask status), then build it")


@dataclass(frozen=True)
class Quote:
    text: str
    interview: int  # 1-based interview number in the brief
    start: float
    end: float
    speaker: str | None = None
    score: float = 0.0

    @property
    def where(self) -> str:
        return f"Interview {self.interview}, {format_clock(self.start)}"


@dataclass(frozen=True)
class QuestionQuotes:
    question: str
    quotes: tuple[Quote, ...] = field(default_factory=tuple)


def deadline(issued_at: datetime, hours: int) -> datetime:
    return issued_at.astimezone(UTC) + timedelta(hours=hours)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise DeckBuilderError(
            f"unknown time zone {name!r} for the out-tasker",
            fix="use an IANA name such as Asia/Manila, Europe/Berlin or UTC") from e


def job_spec(inp: BriefInput, *, slides: int) -> dict:
    """The job spec as data (written as job-spec.json and rendered as job-spec.md)."""
    due = deadline(inp.issued_at, inp.terms.turnaround_hours)
    local = due.astimezone(_zone(inp.vendor_timezone))
    target = inp.target_slides or slides
    return {
        "job_id": inp.job_id,
        "brief_version": inp.version,
        "issued_at_utc": inp.issued_at.astimezone(UTC).isoformat(),
        "deliverable": (
            f"A PowerPoint deck (.pptx, 16:9) of about {target} slides that summarises "
            f"{len(inp.interviews)} executive interview(s), built on starter-deck.pptx."),
        "target_slides": target,
        "interviews": len(inp.interviews),
        "deadline_utc": due.isoformat(),
        "deadline_local": local.isoformat(),
        "deadline_timezone": inp.vendor_timezone,
        "turnaround_hours": inp.terms.turnaround_hours,
        "price_per_slide_cents": inp.terms.slide_rate_cents,
        "currency": inp.terms.currency,
        "estimated_total_cents": inp.terms.slide_rate_cents * target,
        "vendor": inp.terms.vendor,
        "revision_policy": REVISION_POLICY.format(rounds=inp.terms.revision_rounds,
                                                  hours=inp.terms.revision_hours),
        "style_rules": list(STYLE_RULES),
        "questions": list(inp.questions),
        "note": (f"The starter deck has {slides} slides, more than the target of {target}: "
                 "its skeleton (title, agenda, roster, a section and a finding per question, "
                 "closing) needs them. Merge sections rather than drop a question; only "
                 "visible, non-empty slides are billed."
                 if inp.target_slides and slides > inp.target_slides else None),
    }


# -- quotes --------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9']+")
_STOP = frozenset("""a about above after again all am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers him his how i if in into is it its itself
just me more most my no nor not now of off on once only or other our ours out over own same
she should so some such than that the their theirs them then there these they this those
through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself think kind sort really yeah well like know mean going get
got one also thing things lot much many say said tell""".split())  # noqa: SIM905


def _content_words(text: str) -> set[str]:
    return {w.strip("'") for w in _WORD.findall(text.lower())} - _STOP


def _overlap(question: set[str], text: str) -> float:
    words = _content_words(text)
    if not question or not words:
        return 0.0
    return len(question & words) / len(question)


def _form_spans(form: InterviewForm, question: str) -> list[tuple[float, float]]:
    """Where the form says ``question`` was answered: the answer(s) on the form whose question
    matches it best, by its words, else by at least half of its content words. Only the best:
    "What drives pricing?" must not take the spans of "What drives pricing in Europe?"."""
    wanted, qwords = _WORD.findall(question.lower()), _content_words(question)
    best, spans = 0.0, []
    for answer in form.answers:
        awords = _content_words(answer.question)
        if _WORD.findall(answer.question.lower()) == wanted:
            score = 2.0
        elif _overlap(qwords, answer.question) >= 0.5:
            score = len(qwords & awords) / len(qwords | awords)
        else:
            continue
        if score > best:
            best, spans = score, []
        if score == best:
            spans += [(s.start, s.end) for s in answer.answered_at]
    return spans


def _interviewee_segments(t: Transcript) -> list[Segment]:
    interviewers = {s for s, role in t.roles.items() if role == "interviewer"}
    return [s for s in t.segments if s.text.strip() and s.speaker not in interviewers]


def _answer_after_question(t: Transcript, question: set[str]) -> list[Segment]:
    """The interviewee's turn(s) after the interviewer turn that best matches the question."""
    interviewers = {s for s, role in t.roles.items() if role == "interviewer"}
    if not interviewers:
        return []
    best, best_at = 0.34, None  # at least a third of the question's content words
    for i, seg in enumerate(t.segments):
        if seg.speaker in interviewers:
            score = _overlap(question, seg.text)
            if score > best:
                best, best_at = score, i
    if best_at is None:
        return []
    answer = []
    for seg in t.segments[best_at + 1:]:
        if seg.speaker in interviewers and answer:
            break
        if seg.speaker not in interviewers and seg.text.strip():
            answer.append(seg)
    return answer


def _candidates(segments: list[Segment], question: set[str], interview: int,
                bonus: float) -> list[Quote]:
    """Quote-sized passages: runs of consecutive segments of one speaker, 8-70 words."""
    out: list[Quote] = []
    run: list[Segment] = []

    def flush() -> None:
        if not run:
            return
        text = " ".join(s.text.strip() for s in run)
        n = len(text.split())
        if 8 <= n <= 70:
            confidence = sum(s.avg_logprob for s in run) / len(run)
            score = bonus + _overlap(question, text) + min(n, 40) / 80 + max(confidence, -1.0)
            out.append(Quote(text, interview, run[0].start, run[-1].end, run[0].speaker,
                             round(score, 4)))
        run.clear()

    for seg in segments:
        words = len(" ".join(s.text for s in run).split())
        if run and (seg.speaker != run[-1].speaker or seg.start - run[-1].end > 2.0
                    or words + len(seg.text.split()) > 70):
            flush()
        run.append(seg)
    flush()
    return out


def quote_candidates(questions: tuple[str, ...] | list[str],
                     interviews: tuple[BriefInterview, ...], *,
                     per_question: int = 3) -> list[QuestionQuotes]:
    """Up to ``per_question`` quotes per question, best first, at most one per interview while
    other interviews still have one. Where a form says when a question was answered, quotes
    come from that span; otherwise from the answer after the interviewer asked something like
    it; otherwise from whatever the executive said that shares the question's words."""
    out = []
    for question in questions:
        qwords = _content_words(question)
        pool: list[Quote] = []
        for n, iv in enumerate(interviews, 1):
            t = iv.transcript
            spans = _form_spans(iv.form, question) if iv.form is not None else []
            segs = [s for s in _interviewee_segments(t)
                    if any(s.start < end and s.end > start for start, end in spans)]
            found = _candidates(segs, qwords, n, bonus=2.0)
            if found:  # else the span holds no quote-sized passage: look as if there were none
                pool += found
                continue
            answer = _answer_after_question(t, qwords)
            if answer:
                pool += _candidates(answer, qwords, n, bonus=1.0)
            else:
                pool += [q for q in _candidates(_interviewee_segments(t), qwords, n, 0.0)
                         if _overlap(qwords, q.text) > 0]
        pool.sort(key=lambda q: (-q.score, q.interview, q.start))
        chosen: list[Quote] = []
        for q in pool:  # first pass: one per interview, to hear several voices
            if len(chosen) < per_question and all(c.interview != q.interview for c in chosen):
                chosen.append(q)
        for q in pool:
            if len(chosen) < per_question and q not in chosen:
                chosen.append(q)
        out.append(QuestionQuotes(question, tuple(chosen)))
    return out
