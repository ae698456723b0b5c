"""What the executives said together: per question, their answers grouped into themes by
meaning, each theme counted by distinct interviews, titled in the executives' own words and
backed by verbatim quotes.

Pure and deterministic: the same transcripts (with their ``answers``, see
:mod:`deck_builder.answers`) and questions give the same themes. Sentences are embedded with
:mod:`deck_builder.embeddings` (or an ``embed`` function given in, for tests and benches).

How it groups (measured in ``bench/synthesis.py``):

- each interview's answer to a question is its interviewee's sentences in the answer's span;
  sentences of fewer than :data:`MIN_POINT_WORDS` words ("Good question.") carry no point;
- sentence embeddings are centred on the question's mean (what every answer to the question
  shares, its topic, would otherwise make all answers alike), and an answer is the weighted
  mean of its sentences, earlier sentences weighing more (the main point comes first);
- answers are clustered by average linkage on cosine similarity, merging while the closest
  two groups are clearly more alike than two answers to the question usually are
  (:data:`MERGE_Z`): the number of themes follows from the answers, a lone view stays a
  one-person theme;
- an interview's other points (``also``) are sentences much nearer another theme's centre
  than its own theme's;
- a theme's title is its most distinctive phrases (class-based TF-IDF over distinct
  interviews, re-ranked by closeness to the theme's centre): words executives said, no
  generated text;
- its quotes are sentences near the centre, from different interviews where it can, each
  checked to be verbatim in its transcript.

An interview that answered with nothing to group (only short sentences) is listed under
``other``; nobody is dropped.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from transcription.transcript import Transcript

from .answers import Sentence, answer_sentences, sentences

__all__ = ["MERGE_Z", "MIN_POINT_WORDS", "QuestionSynthesis", "Synthesis",
           "SynthesisQuote", "SynthesisTheme", "adjusted_rand_index", "synthesise",
           "verbatim"]

Embed = Callable[[Sequence[str]], np.ndarray]

#: a sentence shorter than this carries no point of its own
MIN_POINT_WORDS = 5
#: average-linkage merging stops when the closest two groups are less alike than the mean
#: similarity of the question's answers (centred) plus this many standard deviations
MERGE_Z = 0.5
#: with fewer answers than this, centring means nothing: groups merge while at least
#: FEW_SIMILARITY alike (raw cosine)
FEW = 4
FEW_SIMILARITY = 0.45
#: weight of an answer's i-th sentence: DECAY ** i
DECAY = 0.6
#: sentences this alike are the same sentence; said under another question too, a sentence
#: weighs GENERIC_WEIGHT
DUPLICATE = 0.9
GENERIC_WEIGHT = 0.1
#: an ``also`` point: a sentence at least this near another theme's centre ...
ALSO_SIMILARITY = 0.30
#: ... and this much nearer to it than to its own theme's centre
ALSO_MARGIN = 0.15
#: quotes per theme at most; a quote is one sentence of this many words
QUOTES = 3
QUOTE_WORDS = (MIN_POINT_WORDS, 60)
#: phrases in a title at most, and words in a phrase
TITLE_PHRASES = 2
PHRASE_WORDS = 3
#: sentences of each member answer a title is drawn from (those nearest the theme's centre)
TITLE_SENTENCES = 2

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
_BREAK = re.compile(r"[,;:.!?()\u2014\u2013\"]+|\s-\s")
_STOP = frozenset("""a about above after again against all also am an and any are as at
be because been before
being below between both but by can could did do does doing done down during each even ever
every few for from further get gets getting got had has have having he her here hers him his
how i if in into is it its itself just kind know let like lot lots make many me more most
much must my no nor not now of off on once one only or other our ours out over own pretty
quite rather really right same say see she should so some something still such sure than
that the their theirs them then there these they thing things think this those through to
too under until up us very want was way we well were what when where which while who whom
why will with would yes yet you your honestly frankly basically actually maybe probably
perhaps mean guess okay oh um uh yeah""".split())  # noqa: SIM905
_NORMAL_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class SynthesisQuote:
    interview: int
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class SynthesisTheme:
    title: str
    interviews: tuple[int, ...]  # whose main point this is
    also: tuple[int, ...] = ()  # who made this point besides their main one
    quotes: tuple[SynthesisQuote, ...] = ()


@dataclass(frozen=True)
class QuestionSynthesis:
    question: str
    answered: int
    themes: tuple[SynthesisTheme, ...] = ()
    #: answered, but with nothing to group (see the module's notes)
    other: tuple[int, ...] = ()


@dataclass(frozen=True)
class Synthesis:
    interviews: int
    questions: tuple[QuestionSynthesis, ...]

    def to_dict(self) -> dict[str, Any]:
        """The shape of ``synthesis.json`` (CONVENTIONS, "Synthesis")."""
        return {"interviews": self.interviews, "questions": [
            {"question": q.question, "answered": q.answered, "themes": [
                {"title": t.title, "interviews": list(t.interviews), "also": list(t.also),
                 "quotes": [{"interview": x.interview, "start": round(x.start, 2),
                             "end": round(x.end, 2), "text": x.text} for x in t.quotes]}
                for t in q.themes], "other": list(q.other)} for q in self.questions]}


# -- helpers -------------------------------------------------------------------------------

def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n < 1e-12, 1.0, n)


def _first_words(text: str, n: int) -> str:
    """The text up to its n-th word (still verbatim: a prefix of it)."""
    words = list(_WORD.finditer(text))
    return text if len(words) <= n else text[:words[n - 1].end()]


def _normal(text: str) -> str:
    return _NORMAL_SPACE.sub(" ", text).strip()


def verbatim(text: str, transcript: Transcript) -> bool:
    """Whether ``text`` is word for word in the transcript (spacing aside)."""
    return _normal(text) in _normal(transcript.text)


def adjusted_rand_index(a: Sequence[object], b: Sequence[object]) -> float:
    """Hubert and Arabie's adjusted Rand index of two labelings of the same items (1.0: the
    same grouping; about 0: no better than chance)."""
    if len(a) != len(b):
        raise ValueError("both labelings must label the same items")
    n = len(a)
    if n < 2:
        return 1.0
    pairs = Counter(zip(a, b, strict=True))
    comb = lambda k: k * (k - 1) / 2  # noqa: E731
    index = sum(comb(v) for v in pairs.values())
    rows = sum(comb(v) for v in Counter(a).values())
    cols = sum(comb(v) for v in Counter(b).values())
    expected = rows * cols / comb(n)
    most = (rows + cols) / 2
    return 1.0 if most == expected else (index - expected) / (most - expected)


def _average_linkage(sim: np.ndarray, threshold: float) -> list[list[int]]:
    """Groups of items (indices, ascending) by average-linkage agglomeration on a similarity
    matrix, merging the most similar pair of groups while it is at least ``threshold``. Ties
    go to the pair with the lowest indices, so the result depends on the input only."""
    groups: list[list[int]] = [[i] for i in range(len(sim))]
    total = sim.astype(np.float64).copy()  # sum of pairwise similarities between groups
    while len(groups) > 1:
        sizes = np.array([len(g) for g in groups], dtype=np.float64)
        avg = total / np.outer(sizes, sizes)
        np.fill_diagonal(avg, -np.inf)
        best = float(avg.max())
        if best < threshold:
            break
        i, j = (int(x) for x in np.argwhere(avg == best)[0])
        i, j = min(i, j), max(i, j)
        groups[i] = sorted(groups[i] + groups[j])
        total[i, :] += total[j, :]
        total[:, i] += total[:, j]
        total = np.delete(np.delete(total, j, axis=0), j, axis=1)
        del groups[j]
    return groups


# -- titles --------------------------------------------------------------------------------

def _phrases(text: str) -> set[tuple[str, ...]]:
    """Candidate title phrases of a sentence: runs of 1-3 words inside a clause that neither
    start nor end with a filler word, lower-cased."""
    out: set[tuple[str, ...]] = set()
    for clause in _BREAK.split(text):
        words = [w.lower() for w in _WORD.findall(clause)]
        for i in range(len(words)):
            for j in range(i + 1, min(i + PHRASE_WORDS, len(words)) + 1):
                p = tuple(words[i:j])
                if p[0] in _STOP or p[-1] in _STOP or all(w.isdigit() for w in p):
                    continue
                if len(p) == 1 and len(p[0]) < 4:
                    continue
                out.add(p)
    return out


def _surface(phrase: tuple[str, ...], texts: Sequence[str]) -> str:
    """The phrase as the executives wrote it (their capitals), its most common form."""
    pattern = re.compile(r"(?<![A-Za-z0-9'])" + r"\W+".join(map(re.escape, phrase))
                         + r"(?![A-Za-z0-9'])", re.IGNORECASE)
    forms = Counter(m.group(0) for t in texts for m in pattern.finditer(t))
    return forms.most_common(1)[0][0] if forms else " ".join(phrase)


def _titles(groups: list[list[int]], texts: list[list[str]], centres: np.ndarray,
            embed: Embed) -> list[str]:
    """A title per group from its members' own words. ``texts[k]``: the sentences of answer
    k; ``centres``: each group's centre in the raw embedding space."""
    per_answer = [set().union(*(_phrases(s) for s in ss)) if ss else set() for ss in texts]
    everywhere = Counter(p for ps in per_answer for p in ps)
    n = len(texts)
    scored: list[list[tuple[float, tuple[str, ...]]]] = []
    for g in groups:
        df = Counter(p for k in g for p in per_answer[k])
        rows = []
        for p, c in df.items():
            # share of the group that said it, times how rare it is elsewhere; longer phrases
            # say more when they are as shared
            tfidf = c / len(g) * math.log(1 + n / everywhere[p]) * (1 + 0.15 * (len(p) - 1))
            rows.append((tfidf, p))
        rows.sort(key=lambda r: (-r[0], r[1]))
        scored.append(rows[:12])
    candidates = sorted({p for rows in scored for _, p in rows})
    vectors = dict(zip(candidates, embed([" ".join(p) for p in candidates]), strict=True)) \
        if candidates else {}
    titles = []
    for g, rows, centre in zip(groups, scored, centres, strict=True):
        if not rows:
            titles.append("(no words to title it)")
            continue
        top = rows[0][0]
        ranked = sorted(((r / top + float(vectors[p] @ centre), p) for r, p in rows),
                        key=lambda r: (-r[0], r[1]))
        chosen: list[tuple[str, ...]] = []
        for _, p in ranked:
            if len(chosen) == TITLE_PHRASES:
                break
            if any(set(p) & set(c) for c in chosen):
                continue  # a second phrase says something else
            chosen.append(p)
        said = [s for k in g for s in texts[k]]
        words = [_surface(p, said) for p in chosen]
        title = "; ".join(words)
        titles.append(title[:1].upper() + title[1:])
    return titles


# -- grouping ------------------------------------------------------------------------------

@dataclass
class _Answer:
    interview: int
    sentences: list[Sentence]  # the points (long enough)
    rows: list[int]  # their rows in the question's embedding matrix


def _quotes(members: list[_Answer], vectors: np.ndarray, centre: np.ndarray,
            spoken: dict[int, str], generic: np.ndarray,
            ) -> tuple[SynthesisQuote, ...]:
    """Up to QUOTES sentences near the centre, the most representative first, a new interview
    preferred each time and no two alike (maximal marginal relevance), each verbatim in its
    transcript; a sentence said under
    other questions too is quoted only when nothing else is."""
    said = [(a.interview, s, r) for a in members for s, r in zip(a.sentences, a.rows,
                                                                   strict=True)
            if _normal(s.text) in spoken[a.interview]]
    pool = [it for it in said if _words(it[1].text) <= QUOTE_WORDS[1]]
    if not pool:  # only run-on sentences (no punctuation heard): their first words
        pool = [(n, replace(s, text=_first_words(s.text, QUOTE_WORDS[1])), r)
                for n, s, r in said]
    pool = [it for it in pool if generic[it[2]] == 1.0] or pool
    chosen: list[tuple[int, Sentence, int]] = []
    while pool and len(chosen) < QUOTES:
        def gain(item: tuple[int, Sentence, int]) -> float:
            n, s, r = item
            relevance = float(vectors[r] @ centre)
            if not chosen:
                return relevance
            alike = max(float(vectors[r] @ vectors[c[2]]) for c in chosen)
            repeat = 0.3 if any(c[0] == n for c in chosen) else 0.0
            return relevance - 0.5 * alike - repeat
        best = max(pool, key=lambda it: (round(gain(it), 6), -it[0], -it[1].start))
        chosen.append(best)
        pool.remove(best)
        if len(chosen) >= min(QUOTES, max(2, len(members))) and len(members) < 3:
            break
    return tuple(SynthesisQuote(n, s.start, s.end, _normal(s.text)) for n, s, _ in chosen)


def _question(question: str, answers: list[_Answer], answered: int, other: list[int],
              vectors: np.ndarray, raw: np.ndarray, generic: np.ndarray,
              spoken: dict[int, str], embed: Embed) -> QuestionSynthesis:
    if not answers:
        return QuestionSynthesis(question, answered, (), tuple(sorted(other)))
    weights = [np.array([DECAY ** i for i in range(len(a.rows))]) * generic[a.rows]
               for a in answers]
    points = _unit(np.stack([(w[:, None] * vectors[a.rows]).sum(axis=0)
                             for a, w in zip(answers, weights, strict=True)]))
    if len(points) >= FEW:
        sim = points @ points.T
        off = sim[~np.eye(len(points), dtype=bool)]
        groups = _average_linkage(sim, float(off.mean() + MERGE_Z * off.std()))
    else:  # too few answers to centre: as alike as paraphrases are, in the raw space
        plain = _unit(np.stack([(w[:, None] * raw[a.rows]).sum(axis=0)
                                for a, w in zip(answers, weights, strict=True)]))
        groups = _average_linkage(plain @ plain.T, FEW_SIMILARITY)
    centres = _unit(np.stack([points[g].mean(axis=0) for g in groups]))
    raw_centres = _unit(np.stack([
        np.concatenate([w[:, None] * raw[answers[k].rows]
                        for k, w in ((k, weights[k]) for k in g)]).sum(axis=0)
        for g in groups]))
    primary = {k: gi for gi, g in enumerate(groups) for k in g}
    also: list[set[int]] = [set() for _ in groups]
    for k, a in enumerate(answers):
        own = centres[primary[k]]
        for gi, centre in enumerate(centres):
            if gi == primary[k]:
                continue
            near = vectors[a.rows] @ centre
            mine = vectors[a.rows] @ own
            if bool(np.any((near >= ALSO_SIMILARITY) & (near - mine >= ALSO_MARGIN))):
                also[gi].add(a.interview)
    # a title comes from each member's sentences nearest the theme (its point, not filler)
    said = [[] for _ in answers]
    for gi, g in enumerate(groups):
        for k in g:
            near = vectors[answers[k].rows] @ centres[gi]
            keep = np.argsort(-near, kind="stable")[:TITLE_SENTENCES]
            said[k] = [answers[k].sentences[i].text for i in sorted(keep)]
    titles = _titles(groups, said, raw_centres, embed)
    themes = [SynthesisTheme(title, tuple(sorted(answers[k].interview for k in g)),
                             tuple(sorted(also[gi])),
                             _quotes([answers[k] for k in g], vectors, centres[gi],
                                     spoken, generic))
              for gi, (g, title) in enumerate(zip(groups, titles, strict=True))]
    themes.sort(key=lambda t: (-len(t.interviews), t.interviews[0]))
    return QuestionSynthesis(question, answered, tuple(themes), tuple(sorted(other)))


def synthesise(questions: Sequence[str], transcripts: Sequence[Transcript], *,
               embed: Embed | None = None) -> Synthesis:
    """The themes of every question across ``transcripts`` (interview numbers are their
    1-based positions). Each transcript's ``answers`` say where each question was answered;
    an interview without an answer to a question is not counted for it."""
    if embed is None:
        from .embeddings import embedder

        embed = embedder().embed
    by_number = {n: t for n, t in enumerate(transcripts, 1)}
    per_question: list[tuple[list[_Answer], int, list[int]]] = []
    texts: list[str] = []
    said_in = {n: sentences(t.segments) for n, t in by_number.items()}  # once per interview
    # each transcript's text, spacing normalised once: every quote is checked against it
    spoken = {n: _normal(t.text) for n, t in by_number.items()}
    for question in questions:
        answers, answered, other = [], 0, []
        for n, t in by_number.items():
            answer = next((a for a in t.answers if a.question == question), None)
            said = answer_sentences(t, answer, said_in[n]) if answer else []
            if not said:
                continue
            answered += 1
            points = [s for s in said if _words(s.text) >= MIN_POINT_WORDS]
            if not points:
                other.append(n)
                continue
            rows = list(range(len(texts), len(texts) + len(points)))
            texts += [s.text for s in points]
            answers.append(_Answer(n, points, rows))
        per_question.append((answers, answered, other))
    raw = embed(texts) if texts else np.zeros((0, 384), np.float32)
    rows_of = [[r for a in answers for r in a.rows] for answers, _, _ in per_question]
    # a sentence said (nearly word for word) in answers to another question too is not a point
    # of this one ("That is how I see it."): it keeps a small weight
    generic = np.ones(len(texts))
    asked = np.empty(len(texts), dtype=int)
    for k, rows in enumerate(rows_of):
        asked[rows] = k
    if len(texts):
        dup = (raw @ raw.T >= DUPLICATE) & (asked[:, None] != asked[None, :])
        generic[dup.any(axis=1)] = GENERIC_WEIGHT
    out = []
    for question, (answers, answered, other), rows in zip(questions, per_question, rows_of,
                                                         strict=True):
        vectors = np.zeros_like(raw)
        if rows:  # centred on what the question's answers share
            vectors[rows] = _unit(raw[rows] - raw[rows].mean(axis=0))
        out.append(_question(question, answers, answered, other, vectors, raw, generic,
                             spoken, embed))
    return Synthesis(len(transcripts), tuple(out))
