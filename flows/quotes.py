"""The engagement's quote bank, searched from ``outtask quotes search`` and the portal's
engagement page: every executive sentence of its transcribed interviews, ranked by meaning
and words (:mod:`deck_builder.quote_bank`), each hit saying who said it, where, and to which
question. Every search is recorded in the audit log.

Interview numbers are the brief's (interviews in the order they were registered), so a hit's
"Interview 3" is interview-03 in every brief.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass

import numpy as np
from sqlalchemy.orm import Session

from deck_builder.answers import find_answers
from deck_builder.embeddings import embedder
from deck_builder.interview_form import format_clock
from deck_builder.quote_bank import Passage, passages, search, sentence_vectors
from transcription.transcript import Transcript

from . import accounts, db
from .brief import transcribed_interviews
from .interview import form_for
from .storage import Bucket

__all__ = ["QuoteHit", "search_quotes"]

#: transcripts whose sentences stay embedded in memory between searches (a portal process)
_CACHED = 256
_cache: OrderedDict[tuple[str, str, tuple[str, ...]], tuple[list[Passage], np.ndarray]] = \
    OrderedDict()


@dataclass(frozen=True)
class QuoteHit:
    rank: int
    score: float
    text: str
    who: str
    interview: int
    file: str
    start: float
    end: float
    question: str | None

    @property
    def where(self) -> str:
        return f"Interview {self.interview}, {format_clock(self.start)}"

    def to_dict(self) -> dict:
        return {**asdict(self), "start": round(self.start, 2), "end": round(self.end, 2),
                "where": self.where}


def _bank(bucket: Bucket, iv: db.Interview, number: int, questions: tuple[str, ...],
          ) -> tuple[list[Passage], np.ndarray, str]:
    key = iv.transcript.outputs["json"]
    form, _, _ = form_for(bucket, iv.key)
    who = (f"{form.executive.name} ({form.executive.title})" if form is not None
           else "Executive")
    cache_key = (key, str(iv.transcript_id), questions)
    if cache_key in _cache:
        _cache.move_to_end(cache_key)
        items, vectors = _cache[cache_key]
    else:
        t = Transcript.from_json(bucket.read_bytes(key).decode("utf-8"))
        if questions and {a.question for a in t.answers} != set(questions):
            t = t.with_answers(*find_answers(t, questions, form=form))
        items = passages(t, number)
        vectors = sentence_vectors(items, embedder().embed)
        _cache[cache_key] = (items, vectors)
        while len(_cache) > _CACHED:
            _cache.popitem(last=False)
    return [Passage(number, p.start, p.end, p.text, p.question) for p in items], vectors, who


def search_quotes(s: Session, bucket: Bucket, eng: db.Engagement, query: str, *,
                  limit: int = 10, user: db.User | None = None, address: str = "",
                  via: str = "cli") -> list[QuoteHit]:
    """The ``limit`` best executive sentences for ``query`` in the engagement's interviews.
    Raises :class:`deck_builder.errors.DeckBuilderError` for an empty query."""
    questions = tuple(eng.questions or ())
    items: list[Passage] = []
    vectors: list[np.ndarray] = []
    who: dict[int, tuple[str, str]] = {}
    for number, iv in enumerate(transcribed_interviews(s, eng), 1):
        found, vecs, label = _bank(bucket, iv, number, questions)
        items += found
        vectors.append(vecs)
        who[number] = (label, iv.file)
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, 384), np.float32)
    hits = search(query, items, matrix, embedder().embed, limit=limit)
    accounts.audit(s, "search-quotes", user=user,
                   target=f"engagement {accounts.engagement_ref(eng)}",
                   client_id=eng.client_id, address=address,
                   detail={"query": query[:200], "hits": len(hits), "via": via})
    s.commit()
    return [QuoteHit(rank, h.score, h.passage.text, who[h.passage.interview][0],
                     h.passage.interview, who[h.passage.interview][1], h.passage.start,
                     h.passage.end, h.passage.question)
            for rank, h in enumerate(hits, 1)]
