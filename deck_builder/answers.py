"""Which passage of an interview answers which of the engagement's questions.

The interview form may say where each question was answered (``answered_at``); most forms do
not. Then the interviewer's own words say it: the turns in which the interviewer asks each
question are found by meaning (sentence embeddings), words and sound (for what the speech
model misheard), one question per asking turn, in any order; the interviewee's speech from
there to the next question asked is the answer. Follow-ups in between ("Why is that?") match
no question and stay inside the answer; the interviewer's words never count as answer.

The person who asks the form's questions is the interviewer, whatever diarization guessed from
talk time. When diarization heard only one voice, sentences are told apart instead: the
questions that match the form are asked, the statements after them are answered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from transcription.transcript import Answer, Segment, Transcript

from .interview_form import InterviewForm

__all__ = ["Sentence", "find_answers", "find_engagement_answers", "form_spans",
           "question_similarity", "sentences"]

#: an asking turn must be at least this similar to a question (scale: question_similarity)
MIN_SCORE = 0.42
#: how much of the interviewee's reply to a turn says what the turn asked (2-8 measured
#: alike on the tune seeds)
REPLY_SENTENCES = 3
#: an interviewee passage shorter than this is no answer (a "yes" before the next question)
MIN_ANSWER_WORDS = 3

_WORD = re.compile(r"[a-z0-9']+")
_CLAUSE = re.compile(r"[,;:]")
_STOP = frozenset("""a about above after again all am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers him his how i if in into is it its itself
just me more most my no nor not now of off on once only or other our ours out over own same
she should so some such than that the their theirs them then there these they this those
through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself think kind sort really yeah well like know mean going get
got one also thing things lot much many say said tell""".split())  # noqa: SIM905
#: words that carry no topic of their own: sharing one says nothing about the question
_GENERIC = frozenset("""need needs want wants make makes take takes see come go goes give put keep
let look seem try use feel happen""".split())  # noqa: SIM905
_ASKING = frozenset("""what which who whom whose when where why how is are was were do does did
can could would should will shall have has had may might tell describe walk talk explain share
give imagine suppose picture say""".split())  # noqa: SIM905


@dataclass(frozen=True)
class Sentence:
    start: float
    end: float
    speaker: str | None
    text: str
    #: when each of its words (``text.split()``) ends, where the speech model timed them
    ends: tuple[float, ...] = field(default=(), compare=False, repr=False)

    @property
    def is_question(self) -> bool:
        words = _WORD.findall(self.text.lower())
        return self.text.rstrip().endswith("?") or bool(words and words[0] in _ASKING)

    @property
    def asks_within(self) -> bool:
        """A question, or a clause that starts like one ("If you picture the coming year,
        which goal matters most." as the speech model heard it)."""
        return self.is_question or any(
            words and words[0] in _ASKING
            for words in (_WORD.findall(c) for c in _CLAUSE.split(self.text.lower())))


def sentences(segments: Sequence[Segment]) -> list[Sentence]:
    """The transcript cut into sentences at sentence-final punctuation, with word timings."""
    out: list[Sentence] = []
    for seg in segments:
        if not seg.text.strip():
            continue
        if not seg.words:
            out.append(Sentence(seg.start, seg.end, seg.speaker, seg.text.strip()))
            continue
        run: list = []
        for w in seg.words:
            run.append(w)
            if w.text.rstrip().endswith((".", "?", "!")):
                out.append(_sentence(run, seg.speaker))
                run = []
        if run:
            out.append(_sentence(run, seg.speaker))
    return [s for s in out if s.text]


def _sentence(run: list, speaker: str | None) -> Sentence:
    ends = tuple(w.end for w in run for _ in w.text.split())
    return Sentence(run[0].start, run[-1].end, speaker,
                    " ".join(x.text.strip() for x in run).strip(), ends)


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    """The text's content words, crudely stemmed ("pricing", "prices" -> "pric")."""
    words = {w.strip("'") for w in _WORD.findall(text.lower())} - _STOP - _GENERIC
    return {_stem(w) for w in words} - {""}


_content = content_words


_SOUND = str.maketrans("bpdtgkcqfvszmnlrjxw", "PPTTKKKKFFSSNNRRJKW")


def _sound(word: str) -> str:
    """A rough English sound key: first letter class, then consonant classes, no repeats
    ("board" and "lord" share "RT"; "pricing" and "prizing" are one key)."""
    key = word[:1].translate(_SOUND).upper()
    for ch in word[1:]:
        c = ch.translate(_SOUND)
        if c.isupper() and not key.endswith(c):
            key += c
    return key[1:] if len(key) > 2 else key


def _sound_overlap(question: set[str], text: set[str]) -> float:
    if not question or not text:
        return 0.0
    keys = {_sound(w) for w in text}
    tails = {k[-2:] for k in keys if len(k) >= 2}
    hits = sum(1.0 if _sound(w) in keys else 0.5 if _sound(w)[-2:] in tails else 0.0
               for w in question)
    return hits / len(question)


def question_similarity(questions: Sequence[str], texts: Sequence[str],
                        embed=None) -> np.ndarray:
    """(len(questions), len(texts)) similarity: meaning (cosine of sentence embeddings), plus
    the share of the question's content words said, plus a quarter of the share heard alike."""
    if embed is None:
        from .embeddings import embedder

        embed = embedder().embed
    if not questions or not texts:
        return np.zeros((len(questions), len(texts)))
    vectors = embed([*questions, *texts])
    return _similarity(questions, texts, vectors[: len(questions)], vectors[len(questions):])


def _similarity(questions: Sequence[str], texts: Sequence[str], qv: np.ndarray,
                tv: np.ndarray) -> np.ndarray:
    meaning = qv @ tv.T
    qwords, twords = [_content(q) for q in questions], [_content(t) for t in texts]
    words = np.array([[len(q & t) / len(q) if q else 0.0 for t in twords] for q in qwords])
    sound = np.array([[_sound_overlap(q, t) for t in twords] for q in qwords])
    return meaning + 0.5 * words + 0.25 * sound


def form_spans(form: InterviewForm, question: str) -> list[tuple[float, float]]:
    """Where the form says ``question`` was answered: the answer(s) on the form whose question
    matches it best, by its words, else by at least half of its content words. Only the best:
    "What drives pricing?" must not take the spans of "What drives pricing in Europe?"."""
    wanted, qwords = _WORD.findall(question.lower()), _content(question)
    best, spans = 0.0, []
    for answer in form.answers:
        awords = _content(answer.question)
        if _WORD.findall(answer.question.lower()) == wanted:
            score = 2.0
        elif qwords and len(qwords & awords) / len(qwords) >= 0.5:
            score = len(qwords & awords) / len(qwords | awords)
        else:
            continue
        if score > best:
            best, spans = score, []
        if score == best:
            spans += [(s.start, s.end) for s in answer.answered_at]
    return spans


@dataclass
class _Turn:
    """An asking candidate: consecutive sentences of the interviewer (or, with one voice,
    consecutive questions)."""

    first: int  # index of its first sentence
    last: int
    text: str


def _asking_turns(sents: list[Sentence], interviewer: str | None) -> list[_Turn]:
    """The interviewer's turns (with one voice: runs of questions). Every turn is a candidate:
    a question the speech model heard without its question mark, or cut into two turns, is
    still one; a turn that asks nothing scores less (_turn_scores)."""
    turns: list[_Turn] = []
    for i, s in enumerate(sents):
        asks = s.speaker == interviewer if interviewer is not None else s.is_question
        if not asks:
            continue
        if turns and turns[-1].last == i - 1:
            turns[-1].last, turns[-1].text = i, f"{turns[-1].text} {s.text}"
        else:
            turns.append(_Turn(i, i, s.text))
    return turns


#: what an interviewer asks to hear more of the same answer, not a new question
FOLLOW_UPS = ("Can you say more about that?", "Why is that?", "What do you mean by that?",
              "Could you give me an example?", "How so?", "Tell me more.",
              "What makes you say that?", "And then what happened?")
#: a turn this close to a follow-up, and not to any question, is one
_FOLLOW_UP = 0.6
#: how interviews open and close: a turn this close to one asks nothing of the form's
SMALL_TALK = ("Hello, thanks for making the time to talk to me today.",
              "Hi, my name is Sarah, I lead the project on our side.",
              "Good morning, I am calling from the strategy team.",
              "That was all my questions, thank you so much.",
              "We are out of time, thanks again for your help.")
_SMALL_TALK = 0.5
#: what a turn with neither a question mark nor a question's first word loses
_NOT_ASKING = 0.15
#: with the order of the form as a guide, a turn still needs this much of a question's meaning
_FLOOR = 0.12
#: an interviewer sentence this long that asks ends an answer, even without a question mark
_STOP_WORDS = 4
#: what matching one more question in the form's order is worth against a skip
_ORDER_BONUS = 0.25


@dataclass
class _Scored:
    """One interview's asking turns against the questions."""

    scores: np.ndarray  # (questions, turns)
    new_question: np.ndarray  # (turns,) bool: asks something, the form's or not
    parts: list[np.ndarray]  # per turn, the vectors of its asking texts (texts, dim)
    replies: np.ndarray | None  # (turns, dim): what the interviewee says next


def _turn_scores(questions: Sequence[str], sents: list[Sentence], turns: list[_Turn],
                 interviewer: str | None, embed) -> _Scored:
    """Each question against each asking turn: the turn's question sentences (alone, and the
    last two together: an interviewer sets a question up, then asks it), plus half of how well
    the question fits what the interviewee says next (a paraphrase that shares nothing with
    the form's words still gets an answer about the same thing)."""
    texts, owner = [], []
    for t, turn in enumerate(turns):
        parts = [sents[i].text for i in range(turn.first, turn.last + 1)]
        for text in parts + ([" ".join(parts[-2:])] if len(parts) > 1 else []):
            texts.append(text)
            owner.append(t)
    replies = []
    for n, turn in enumerate(turns):
        stop = turns[n + 1].first if n + 1 < len(turns) else len(sents)
        said = _answer_sentences(sents, turn.last + 1, stop, interviewer, last=False)
        said = said[:REPLY_SENTENCES]
        replies.append(" ".join(x.text for x in said))
    nq, nx = len(questions), len(texts)
    nonempty = [r for r in replies if r]
    qv, tv, rv, fv, gv, uv = np.split(
        embed([*questions, *texts, *nonempty, *FOLLOW_UPS, *SMALL_TALK,
               *(t.text for t in turns)]),
        np.cumsum([nq, nx, len(nonempty), len(FOLLOW_UPS), len(SMALL_TALK)]))
    sim = _similarity(questions, texts, qv, tv)
    out = np.full((nq, len(turns)), -np.inf)
    for j, t in enumerate(owner):
        out[:, t] = np.maximum(out[:, t], sim[:, j])
    owners = np.array(owner)
    parts = [tv[owners == t] for t in range(len(turns))]
    # a turn nobody answers (the closing "thanks for your time") asks nothing of the form's
    silent = np.array([len(r.split()) < MIN_ANSWER_WORDS for r in replies])
    reply_vectors = None
    if nonempty:  # by meaning only: an answer repeats a question's words by chance
        reply_vectors = np.zeros((len(turns), rv.shape[1]), dtype=rv.dtype)
        reply_vectors[[n for n, r in enumerate(replies) if r]] = rv
        out += 0.5 * (qv @ reply_vectors.T)
    follow = (fv @ uv.T).max(axis=0)
    out -= np.where(follow >= _FOLLOW_UP, 0.3, 0.0)[None, :]
    out -= np.where((gv @ uv.T).max(axis=0) >= _SMALL_TALK, 0.3, 0.0)[None, :]
    asks = np.array([any(sents[i].is_question for i in range(t.first, t.last + 1))
                     for t in turns])
    out -= np.where(asks, 0.0, _NOT_ASKING)[None, :]
    out[:, silent] = -np.inf
    # what ends an answer: a question the form does not have; not a stray fragment that
    # diarization gave the interviewer ("when the"), unless punctuated as a question
    new = np.array([any(sents[i].text.rstrip().endswith("?") or (
        sents[i].asks_within and len(_WORD.findall(sents[i].text)) >= _STOP_WORDS)
        for i in range(t.first, t.last + 1)) for t in turns])
    return _Scored(out, new & (follow < _FOLLOW_UP), parts, reply_vectors)


def _interviewer(transcript: Transcript, sents: list[Sentence], questions: Sequence[str],
                 embed) -> str | None:
    """The speaker whose questions match the form's best; with one voice, None."""
    speakers = [s for s in transcript.speakers if any(x.speaker == s for x in sents)]
    if len(speakers) < 2:
        return None
    # what the speech model punctuated as a question, else what starts like one: an
    # executive's long answer holds many sentences that start with "what" or "how"
    marked = [x for x in sents if x.text.rstrip().endswith("?")]
    asked = marked if len(marked) >= len(questions) / 2 else [
        x for x in sents if x.is_question] or sents
    sim = question_similarity(questions, [x.text for x in asked], embed)
    best = {sp: float(np.sum([max([sim[q, j] for j, x in enumerate(asked) if x.speaker == sp],
                                  default=0.0) for q in range(len(questions))]))
            for sp in speakers}
    ranked = sorted(best, key=lambda sp: -best[sp])
    if best[ranked[0]] - best[ranked[1]] < 0.05 * len(questions):
        # no clear asker: diarization's guess (the one who talks less) stands
        return next((sp for sp, role in transcript.roles.items() if role == "interviewer"),
                    ranked[0])
    return ranked[0]


@dataclass
class _Interview:
    """One interview on its way to its answers."""

    sents: list[Sentence]
    interviewer: str | None
    roles: dict[str, str]
    turns: list[_Turn]
    scored: _Scored | None
    asked: dict[int, int]  # question -> turn
    sure: set[int]  # questions plainly asked (one question, well above MIN_SCORE)


def _prepare(transcript: Transcript, questions: Sequence[str], embed) -> _Interview:
    sents = sentences(transcript.segments)
    if not questions or not sents:
        return _Interview(sents, None, dict(transcript.roles), [], None, {}, set())
    interviewer = _interviewer(transcript, sents, questions, embed)
    roles = dict(transcript.roles)
    if interviewer is not None:
        roles = {sp: "interviewer" if sp == interviewer else "interviewee"
                 for sp in transcript.speakers}
    turns = _asking_turns(sents, interviewer)
    scored = _turn_scores(questions, sents, turns, interviewer, embed) if turns else None
    asked, sure = (_assign(scored.scores) if scored is not None
                   else ({}, set()))
    return _Interview(sents, interviewer, roles, turns, scored, asked, sure)


def _answers(iv: _Interview, questions: Sequence[str], form: InterviewForm | None,
             ) -> tuple[tuple[Answer, ...], dict[str, str]]:
    sents, turns, roles, interviewer = iv.sents, iv.turns, iv.roles, iv.interviewer
    answers: dict[int, Answer] = {}
    if iv.scored is not None:
        scores = iv.scored.scores
        # an answer runs to the next question asked: one of the form's, or one the form does
        # not have (an interviewer asks more than the guide); follow-ups stay inside it
        stops = sorted({turns[t].first for t in iv.asked.values()}
                       | {turns[t].first
                          for t in np.flatnonzero(iv.scored.new_question).tolist()})
        for t, q in sorted((t, q) for q, t in iv.asked.items()):
            turn = turns[t]
            later = [i for i in stops if i > turn.first]
            stop = later[0] if later else len(sents)
            said = _answer_sentences(sents, turn.last + 1, stop, interviewer, last=not later)
            conf = round(float(np.clip((scores[q, t] - MIN_SCORE) / 0.5 + 0.5, 0.0, 1.0)), 2)
            asked_at, asked_text = sents[turn.first].start, turn.text
            if sum(len(s.text.split()) for s in said) < MIN_ANSWER_WORDS:
                answers[q] = Answer(questions[q], None, None, None, "none", conf, asked_at,
                                    asked_text)
                continue
            answers[q] = Answer(questions[q], said[0].start, said[-1].end, said[0].speaker,
                                "asked", conf, asked_at, asked_text)
    out = []
    for q, question in enumerate(questions):
        spans = form_spans(form, question) if form is not None else []
        if spans:
            who = next((sp for sp, r in roles.items() if r == "interviewee"), None)
            out.append(Answer(question, min(a for a, _ in spans), max(b for _, b in spans),
                              who, "form", 1.0))
        else:
            out.append(answers.get(q, Answer(question, None, None)))
    return tuple(out), roles


def find_answers(transcript: Transcript, questions: Sequence[str], *,
                 form: InterviewForm | None = None, embed=None,
                 ) -> tuple[tuple[Answer, ...], dict[str, str]]:
    """Each question's answer in this interview (one per question, in the questions' order)
    and the speaker roles as the questions show them (speaker -> interviewer / interviewee).

    ``embed``: a function of texts to unit vectors (default: the MiniLM embedder)."""
    if embed is None and questions:
        from .embeddings import embedder

        embed = embedder().embed
    return _answers(_prepare(transcript, questions, embed), questions, form)


#: two asking texts this alike (cosine) ask the same thing in nearly the same words
SAME_ASKING = 0.85
#: what the other interviews' scores of such askings are worth, above their mean over the
#: questions (a greeting that is as close to every question gains nothing)
ASKED_ALIKE = 0.5
#: what a reply that sounds like the other interviews' answers to a question is worth
ANSWERED_ALIKE = 0.5
#: ... once every question has this many plainly asked answers in the other interviews (a
#: centre of two or three answers misleads: 12 interviews of 90 s, 21/36 -> 19/36 with 2)
MIN_EXAMPLES = 4


def find_engagement_answers(transcripts: Sequence[Transcript], questions: Sequence[str], *,
                            forms: Sequence[InterviewForm | None] | None = None, embed=None,
                            ) -> list[tuple[tuple[Answer, ...], dict[str, str]]]:
    """:func:`find_answers` for all interviews of an engagement at once: the questions that
    are plainly asked in some interviews show how the interviewers word them, and what
    executives say in answer, and that finds them where they were asked in other words or
    misheard. Each interview learns from the others only (never from its own guesses), so
    one interview's answers do not depend on themselves."""
    if embed is None and questions:
        from .embeddings import embedder

        embed = embedder().embed
    forms = list(forms) if forms is not None else [None] * len(transcripts)
    if len(forms) != len(transcripts):
        raise ValueError(f"{len(forms)} forms for {len(transcripts)} transcripts: give one "
                         "form (or None) per transcript, in the same order")
    ivs = [_prepare(t, questions, embed) for t in transcripts]
    # every asking text of the engagement, and whose turn it is
    vecs, whose = [], []
    for n, iv in enumerate(ivs):
        if iv.scored is None:
            continue
        for t, parts in enumerate(iv.scored.parts):
            vecs.append(parts)
            whose += [(n, t)] * len(parts)
    # what executives said in answer to each question, where it was plainly asked (once:
    # learning again from answers found this way drifts: 87.8 % -> 85.6 % on the tune set)
    answered: list[list[tuple[int, np.ndarray]]] = [[] for _ in questions]
    for n, iv in enumerate(ivs):
        if iv.scored is None or iv.scored.replies is None:
            continue
        for q in iv.sure:
            reply = iv.scored.replies[iv.asked[q]]
            if np.any(reply):
                answered[q].append((n, reply))
    every = np.concatenate(vecs) if vecs else None
    out = []
    for n, iv in enumerate(ivs):
        if iv.scored is not None and questions and every is not None:
            scores = (iv.scored.scores + _alike(n, iv, ivs, every, whose)
                      + _answered_alike(n, iv.scored, answered))
            asked, sure = _assign(scores)
            iv = replace(iv, scored=replace(iv.scored, scores=scores), asked=asked, sure=sure)
        out.append(_answers(iv, questions, forms[n]))
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(1e-9, float(np.linalg.norm(v)))


def _alike(n: int, iv: _Interview, ivs: list[_Interview], vecs: np.ndarray,
           whose: list[tuple[int, int]]) -> np.ndarray:
    """(questions, turns): what the turns of other interviews that ask the same thing in
    nearly the same words say about each question, above their mean over the questions."""
    scored = iv.scored
    nq, nt = scored.scores.shape
    bonus = np.zeros((nq, nt))
    own = np.array([m == n for m, _ in whose])
    for t, parts in enumerate(scored.parts):
        sim = (parts @ vecs.T).max(axis=0)
        near = {whose[j] for j in np.flatnonzero((sim >= SAME_ASKING) & ~own).tolist()}
        rows = [ivs[m].scored.scores[:, u] for m, u in near]
        rows = [r - r.mean() for r in rows if np.all(np.isfinite(r))]
        if rows:
            bonus[:, t] = ASKED_ALIKE * np.mean(rows, axis=0)
    return bonus


def _answered_alike(n: int, scored: _Scored, answered) -> np.ndarray:
    """(questions, turns): how much closer each turn's reply is to what the other interviews'
    executives said in answer to each question than to their answers to the others."""
    nq, nt = scored.scores.shape
    if scored.replies is None or any(sum(1 for m, _ in a if m != n) < MIN_EXAMPLES
                                     for a in answered):
        return np.zeros((nq, nt))
    centres = [np.mean([v for m, v in a if m != n], axis=0) for a in answered]
    mean = np.mean(centres, axis=0)
    fit = np.stack([_unit(c - mean) for c in centres]) @ scored.replies.T
    return ANSWERED_ALIKE * fit


def _assign(scores: np.ndarray) -> tuple[dict[int, int], set[int]]:
    """Question -> asking turn, and the questions plainly asked. First the turns that plainly
    ask one question (at least MIN_SCORE alike and clearly more than any other question: the
    one-to-one assignment of the highest total), in any order; then the questions left over in
    the form's order onto the turns left over in time order (a monotone alignment that may
    skip either), each at least _FLOOR alike: interviews mostly follow their guide, and a
    misheard or loosely paraphrased question still sits where the guide puts it."""
    from scipy.optimize import linear_sum_assignment

    if scores.size == 0:
        return {}, set()
    nq, nt = scores.shape
    gain = np.where(scores >= MIN_SCORE, scores, 0.0)
    gain = gain - 1e-4 * np.arange(nt)[None, :] / max(1, nt)  # ties: the earlier turn
    rows, cols = linear_sum_assignment(-gain)
    out = {}
    for q, t in zip(rows.tolist(), cols.tolist(), strict=True):
        others = np.delete(scores[:, t], q)
        if scores[q, t] >= MIN_SCORE and (not len(others) or scores[q, t] - others.max() >= 0.05):
            out[q] = t
    sure = set(out)
    left_q = [q for q in range(nq) if q not in out]
    left_t = [t for t in range(nt) if t not in out.values()]
    # best[i][j]: the best total for the first i questions and first j turns left
    best = np.zeros((len(left_q) + 1, len(left_t) + 1))
    for i in range(1, len(left_q) + 1):
        for j in range(1, len(left_t) + 1):
            s = scores[left_q[i - 1], left_t[j - 1]]
            take = best[i - 1, j - 1] + s + _ORDER_BONUS if s >= _FLOOR else -np.inf
            best[i, j] = max(best[i - 1, j], best[i, j - 1], take)
    i, j = len(left_q), len(left_t)
    while i and j:
        s = scores[left_q[i - 1], left_t[j - 1]]
        if s >= _FLOOR and np.isclose(best[i, j], best[i - 1, j - 1] + s + _ORDER_BONUS):
            out[left_q[i - 1]] = left_t[j - 1]
            i, j = i - 1, j - 1
        elif np.isclose(best[i, j], best[i - 1, j]):
            i -= 1
        else:
            j -= 1
    return out, sure


def _answer_sentences(sents: list[Sentence], first: int, stop: int, interviewer: str | None,
                      *, last: bool) -> list[Sentence]:
    """The interviewee's sentences in [first, stop): with one voice, the statements. After the
    last question, the answer ends where the interviewer speaks without asking (closing)."""
    out: list[Sentence] = []
    for s in sents[first:stop]:
        mine = s.speaker == interviewer if interviewer is not None else s.is_question
        if mine:
            if last and out and not s.is_question and len(s.text.split()) >= 4:
                break  # a closing ("Thank you, that is all I have"), not a stray word
            continue
        out.append(s)
    return out


def answer_sentences(transcript: Transcript, answer: Answer,
                     sents: list[Sentence] | None = None) -> list[Sentence]:
    """The interviewee's sentences inside an answer's span (its passage, executive only).
    ``sents``: the transcript's sentences, when the caller has them already.

    Diarization and the speech model blur the edges of turns, so a sentence labelled as the
    interviewee's is left out when it sounds like the interviewer: it asks the interviewee
    something ("..., when you lose a deal who takes it"), it is the tail of the other
    speaker's question (starts in lower case right after it), or, with one voice, it is a
    short acknowledgement right before a question ("That is helpful."). A sentence that ends
    where the interviewer takes the floor back ("..., but slowly, great." before "Thanks for
    your time") loses that last word."""
    if answer.start is None or answer.end is None:
        return []
    interviewers = {s for s, r in transcript.roles.items() if r == "interviewer"}
    sents = sents if sents is not None else sentences(transcript.segments)
    out, asking = [], False  # asking: the sentence before asked, in the interviewee's name
    for i, s in enumerate(sents):
        asker = s.speaker in interviewers or (not interviewers and (s.is_question or (
            i + 1 < len(sents) and sents[i + 1].is_question
            and len(_WORD.findall(s.text)) <= _ACKNOWLEDGEMENT_WORDS)))
        # a question given to the interviewee, and the rest of it ("... what you charge",
        # "and based on what"); after the interviewer's own turn, lower case is only where
        # the speech model's segment was cut at the speaker change ("cost plus a margin")
        asking = not asker and (_asks_you(s.text) or (asking and s.text[:1].islower()))
        if asker or asking or not (s.start < answer.end and s.end > answer.start):
            continue
        if _ends_acknowledging(s.text) and (
                i + 1 == len(sents) or sents[i + 1].speaker in interviewers):
            # the interviewer's "Great, thanks for your time." begun inside the last sentence
            s = _without_last_clause(s)
        if s is not None:
            out.append(s)
    return out


def _without_last_clause(s: Sentence) -> Sentence | None:
    """The sentence up to its last comma (word for word: no full stop added), ending with
    its last word kept (where the speech model timed its words; else not at all)."""
    kept = s.text[: s.text.rfind(",")].rstrip()
    n = len(kept.split())
    if not n or len(s.ends) != len(s.text.split()):
        return None
    return Sentence(s.start, s.ends[n - 1], s.speaker, kept, s.ends[:n])


#: with one voice, a statement this short right before a question is the asker's
_ACKNOWLEDGEMENT_WORDS = 4
_WH = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])


#: what an interviewer says on taking the floor back ("..., great." heard at a turn's end)
_ACKNOWLEDGING = frozenset(["great", "thanks", "thank", "okay", "ok", "right", "understood",
                            "interesting", "perfect", "wonderful", "excellent", "lovely"])


def _ends_acknowledging(text: str) -> bool:
    """The sentence's last clause is one word of acknowledgement ("..., but slowly, great.")."""
    clauses = _CLAUSE.split(text.lower())
    words = _WORD.findall(clauses[-1]) if len(clauses) > 1 else []
    return len(words) == 1 and words[0] in _ACKNOWLEDGING


def _asks_you(text: str) -> bool:
    """A question mark, or a clause that asks the listener something ("which demands from
    clients surprised you", "when you lose a deal who takes it"): the interviewer's words."""
    if text.rstrip().endswith("?"):
        return True
    for clause in _CLAUSE.split(text.lower()):
        words = _WORD.findall(clause)
        if words and words[0] in _WH and {"you", "your"} & set(words):
            return True
    return False
