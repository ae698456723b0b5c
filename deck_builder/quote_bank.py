"""The quote bank: every executive sentence of an engagement's interviews, searchable by
meaning and by words ("pricing pressure" finds "our prices are far above the market").

Pure: the caller hands in the transcripts (with their ``answers``, so each hit says which
question it answered) and, when it has them, the sentences' embeddings from an earlier
search (:func:`sentence_vectors` makes them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from transcription.transcript import Transcript

from .answers import content_words, sentences
from .errors import DeckBuilderError

__all__ = ["Hit", "Passage", "passages", "search", "sentence_vectors"]

Embed = Callable[[Sequence[str]], np.ndarray]

#: a searchable passage is an executive sentence of at least this many words
MIN_WORDS = 5
#: weight of meaning (cosine of embeddings) against words (share of the query's words said)
MEANING = 0.7
#: hits scoring below this are not worth reading
MIN_SCORE = 0.2
_WORD = re.compile(r"[A-Za-z0-9']+")


@dataclass(frozen=True)
class Passage:
    interview: int  # 1-based, as in the brief
    start: float
    end: float
    text: str
    question: str | None  # the engagement question whose answer holds it


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    meaning: float
    words: float


def passages(transcript: Transcript, interview: int) -> list[Passage]:
    """The interviewee's sentences of one interview (never the interviewer's), each with the
    question it answers when it lies in an answer."""
    interviewers = {s for s, r in transcript.roles.items() if r == "interviewer"}
    spans = [(a.start, a.end, a.question) for a in transcript.answers
             if a.start is not None and a.end is not None]
    out = []
    for s in sentences(transcript.segments):
        if s.speaker in interviewers or (not interviewers and s.is_question):
            continue
        if len(_WORD.findall(s.text)) < MIN_WORDS:
            continue
        mid = (s.start + s.end) / 2
        question = next((q for a, b, q in spans if a <= mid <= b), None)
        out.append(Passage(interview, s.start, s.end, s.text, question))
    return out


def sentence_vectors(items: Sequence[Passage], embed: Embed) -> np.ndarray:
    return embed([p.text for p in items]) if items else np.zeros((0, 384), np.float32)


def search(query: str, items: Sequence[Passage], vectors: np.ndarray, embed: Embed, *,
           limit: int = 10) -> list[Hit]:
    """The passages best matching ``query``, best first: MEANING x cosine + (1 - MEANING) x
    the share of the query's content words the passage says. Ties go to the earlier
    interview and time, so a search gives the same answer every time."""
    query = " ".join(query.split())
    if not query:
        raise DeckBuilderError("the search is empty", fix='say what to look for, e.g. '
                               '"pricing pressure"')
    if limit < 1:
        raise DeckBuilderError(f"limit {limit} finds nothing", fix="ask for 1 or more hits")
    if not items:
        return []
    q = embed([query])[0]
    wanted = content_words(query)
    meaning = vectors @ q
    hits = []
    for p, m in zip(items, meaning, strict=True):
        words = len(wanted & content_words(p.text)) / len(wanted) if wanted else 0.0
        score = MEANING * max(float(m), 0.0) + (1 - MEANING) * words
        if score >= MIN_SCORE:
            hits.append(Hit(p, round(score, 4), round(float(m), 4), round(words, 4)))
    hits.sort(key=lambda h: (-h.score, h.passage.interview, h.passage.start))
    return hits[:limit]
