"""What a brief holds: the job spec the out-tasker works to, the interviews, and quote
candidates per question.

Pure values and functions: :mod:`deck_builder.package` writes them to files, ``flows`` feeds
them from the bucket and the database.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transcription.transcript import Transcript

from .answers import Sentence
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
    #: interview numbers where this question got no answer
    unanswered: tuple[int, ...] = ()


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

#: a quote is one to three complete sentences of the interviewee, this many words
QUOTE_WORDS = (8, 60)


#: two sentences further apart than this are not one passage: someone spoke in between
#: whose words the speech model lost ("Can you say more about that?")
PASSAGE_GAP_S = 1.5


def _passages(said: list[Sentence], heard: list[Sentence] | None = None,
              ) -> list[list[Sentence]]:
    """Runs of 1-3 sentences within QUOTE_WORDS (the whole answer when it is shorter than
    that but still an answer), each run said in one go: no other sentence of the transcript
    (``heard``), and no pause longer than PASSAGE_GAP_S, between its sentences."""
    starts = sorted(s.start for s in heard) if heard is not None else []

    def joined(a: Sentence, b: Sentence) -> bool:
        between = bisect.bisect_left(starts, b.start) - bisect.bisect_right(starts, a.start)
        return b.start - a.end <= PASSAGE_GAP_S and between <= 0

    out = []
    for i in range(len(said)):
        for j in range(i + 1, min(i + 3, len(said)) + 1):
            if j - i > 1 and not joined(said[j - 2], said[j - 1]):
                break
            n = sum(len(s.text.split()) for s in said[i:j])
            if QUOTE_WORDS[0] <= n <= QUOTE_WORDS[1]:
                out.append(said[i:j])
    total = sum(len(s.text.split()) for s in said)
    whole = said and total <= QUOTE_WORDS[1] and all(
        joined(a, b) for a, b in zip(said, said[1:], strict=False))
    return out or ([said] if whole else [])


def _confidence(segments: list, start: float, end: float) -> float:
    probs = [w.probability for seg in segments if seg.start < end and seg.end > start
             for w in seg.words if start <= (w.start + w.end) / 2 <= end]
    return sum(probs) / len(probs) if probs else 0.5


def quote_candidates(questions: tuple[str, ...] | list[str],
                     interviews: tuple[BriefInterview, ...], *, per_interview: int = 1,
                     embed=None) -> list[QuestionQuotes]:
    """Per question, the best quote(s) of every interview that answered it, and the interviews
    that did not. A quote is complete sentences of the interviewee's answer to that question
    (``Transcript.answers``, see :mod:`deck_builder.answers`): never the interviewer's words,
    never the same passage under two questions."""
    from .answers import answer_sentences, find_answers, question_similarity, sentences

    found: dict[str, list[Quote]] = {q: [] for q in questions}
    unanswered: dict[str, list[int]] = {q: [] for q in questions}
    for n, iv in enumerate(interviews, 1):
        t, used = iv.transcript, set()
        if any(q not in {a.question for a in t.answers} for q in questions):
            t = t.with_answers(*find_answers(t, questions, form=iv.form, embed=embed))
        by_question = {a.question: a for a in t.answers}
        sents = sentences(t.segments)  # once per interview, not once per question
        for question in questions:
            answer = by_question.get(question)
            said = [s for s in (answer_sentences(t, answer, sents) if answer else [])
                    if (s.start, s.end) not in used]
            passages = _passages(said, sents)
            if not passages:
                unanswered[question].append(n)
                continue
            # the answer's own segments: each passage's confidence looks only there
            inside = [seg for seg in t.segments
                      if seg.start < said[-1].end and seg.end > said[0].start]
            texts = [" ".join(s.text for s in p) for p in passages]
            relevance = question_similarity([question], texts, embed)[0]
            ranked = []
            for p, text, rel in zip(passages, texts, relevance, strict=True):
                words = len(text.split())
                score = (float(rel) + min(words, 35) / 70
                         + _confidence(inside, p[0].start, p[-1].end)
                         + (0.3 if text.rstrip().endswith((".", "!")) else 0.0))
                ranked.append((round(score, 4), p, text))
            ranked.sort(key=lambda r: (-r[0], r[1][0].start))
            chosen: list[list[Sentence]] = []
            for score, p, text in ranked:
                if len(chosen) == per_interview:
                    break
                if any(set(map(id, p)) & set(map(id, c)) for c in chosen):
                    continue  # overlapping passages: one of them
                chosen.append(p)
                used.update((s.start, s.end) for s in p)
                found[question].append(Quote(text, n, p[0].start, p[-1].end, p[0].speaker,
                                             score))
    return [QuestionQuotes(q, tuple(sorted(found[q], key=lambda x: (-x.score, x.interview))),
                           tuple(unanswered[q])) for q in questions]
