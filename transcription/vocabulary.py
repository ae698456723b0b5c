"""Names right: an engagement's vocabulary (executives, company, products) as decoding hints,
and deterministic correction of near-miss spellings in a transcript.

A speech model hears "Hester Prin" for Hester Prynne and "mentravia" for Zentravia. Given the
names that the interview form and engagement list, :func:`correct` rewrites such near misses to
the listed spelling by one fixed rule (see :func:`match_score`): the candidate and the term must
sound alike (an English phonetic key, Metaphone-like) *and* be spelled alike (edit distance over
length). Ordinary words are protected: a word among the ~2,800 most frequent English words
needs a far closer match, short words are never rewritten alone, and a span of several words
is only rewritten into a multi-word term with an anchor or a very close spelling.

Hints have a known failure: a model told about names emits them where nobody said them, on
silence and noise, and reads the glossary back over speech it cannot make out. So the pipeline
hints only with VAD on, and :func:`correct` drops segments that :func:`is_phantom` finds (mostly
vocabulary words the model judged not speech, squeezed into no time, in silence, or repeated)
and, after a hinted decode, names the model gave almost no probability (:func:`drop_unlikely`).

Public: :func:`correct`, :func:`correct_segment`, :func:`correct_text`, :func:`is_phantom`,
:func:`drop_unlikely`, :func:`glossary`, :func:`terms`, :func:`match_score`,
:func:`phonetic_key`, :func:`edit_distance`, :func:`is_common`, :class:`Term`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import combinations

from .quality import SOUND_MIN_DBFS
from .transcript import Segment, Transcript, Word

#: words shorter than this are never respelled on their own (too many ordinary look-alikes:
#: "liars" is not Lars), only recased
MIN_LETTERS = 5
RECASE_MIN_LETTERS = 4
#: one word to a one-word term: same phonetic key and at most this spelling distance ...
SAME_KEY_MAX = 0.25
#: ... or, in a word this long, a phonetic key one sound off and a spelling this close
#: ("mentravia"; but "chester" is not Hester)
NEAR_KEY_MIN_LETTERS = 8
NEAR_KEY_MAX, NEAR_KEY_SPELLING_MAX = 0.25, 0.15
#: a common English word is only rewritten when spelled this close and sounding the same
COMMON_MAX = 0.1
#: a single word the model was this sure of is only recased, never respelled: a rarer word
#: ("cauldron", "meridian") said and heard right looks like a near miss of a name
SURE_PROBABILITY = 0.85
#: several words to a term: phonetic keys of the joined letters at most this far apart ...
PHRASE_KEY_MAX = 0.25
#: ... and spelling at most this far, with an anchor (one word spelled exactly as the term's)
PHRASE_ANCHORED_MAX = 0.34
#: ... or this far without one ...
PHRASE_MAX = 0.25
#: ... or this far when an ordinary word would be rewritten ("Hester Prince")
PHRASE_ORDINARY_MAX = 0.2
#: each word of a phrase: at most this far from the term's word
PHRASE_WORD_MAX = 0.5
#: a segment is a phantom candidate when this share of its words are vocabulary words ...
PHANTOM_SHARE = 0.5
#: ... and the model itself thought it was not speech ...
PHANTOM_NO_SPEECH = 0.6
#: ... or its vocabulary words take less time than anyone can say them (seconds per word) ...
PHANTOM_WORD_S = 0.08
#: ... or it is this much vocabulary and says one name twice ("Kestrelmoor Foods, Kestrelmoor
#: Foods"): the glossary read back
PHANTOM_ECHO_SHARE = 0.75
#: after a hinted decode, a name with a word the model gave less probability than this is
#: dropped: what the hint forced in over other words (real names heard with hints: >= 0.04,
#: with one exception, in the measurements of tests/test_vocabulary.py)
PHANTOM_PROBABILITY = 0.02
#: ... and so is a name the model was unsure of throughout (mean word probability below
#: this) that it squeezed into less time than anyone says its letters (seconds per letter;
#: fast speech is ~20 letters a second, 0.05): "Hester Prynne" written in 0.4 s over "hired
#: Thaddeus", at probabilities 0.06 and 0.03
PHANTOM_UNSURE = 0.1
PHANTOM_LETTER_S = 0.045
#: hints go to the decoder as one short glossary (characters): the rest is correction only
HINT_CHARS = 160


@dataclass(frozen=True)
class Term:
    """One vocabulary entry as the matcher sees it: its spelling, its words, and the letters
    and phonetic key of the whole (spaces, hyphens and case do not count)."""

    text: str
    words: tuple[str, ...]
    letters: str
    key: str
    word_letters: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Term:
        words = tuple(text.split())
        word_letters = tuple(letters_of(w) for w in words)
        joined = "".join(word_letters)
        return cls(" ".join(words), words, joined, phonetic_key(joined), word_letters)


# -- spelling and sound --------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def letters_of(word: str) -> str:
    """Lowercase ASCII letters and digits of a word: accents folded, punctuation dropped."""
    folded = unicodedata.normalize("NFKD", word)
    return re.sub(r"[^a-z0-9]", "", folded.encode("ascii", "ignore").decode().lower())


_VOWELS = frozenset("aeiou")
_FRONT = frozenset("eiy")  # c and g soften before these


@lru_cache(maxsize=1 << 16)
def phonetic_key(word: str) -> str:
    """An English sound key in the spirit of Metaphone: consonant sounds only (a leading vowel
    is kept as ``A``), letters that sound alike mapped together (c/k/q, s/z, f/v/ph, t/d...),
    silent letters dropped and repeats collapsed. "Prynne", "Prin" -> ``PRN``; "Claflin",
    "Klafflin" -> ``KLFLN``; "Zentravia" -> ``SNTRF``."""
    w = re.sub(r"[^a-z]", "", letters_of(word))
    if not w:
        return ""
    if w[:2] in ("kn", "gn", "pn", "wr", "ps"):
        w = w[1:]
    elif w[0] == "x":
        w = "s" + w[1:]
    elif w[:2] == "wh":
        w = "w" + w[2:]
    codes: list[str] = []
    n = len(w)
    for i, c in enumerate(w):
        prev = w[i - 1] if i else ""
        nxt = w[i + 1] if i + 1 < n else ""
        three = w[i:i + 3]
        if c in _VOWELS or (c == "y" and nxt not in _VOWELS):
            code = "A" if i == 0 else ""
        elif c == "b":
            code = "" if prev == "m" and i == n - 1 else "P"
        elif c == "c":
            code = "X" if nxt == "h" or three in ("cia", "cio") else "S" if nxt in _FRONT else "K"
        elif c == "d":
            code = "J" if three in ("dge", "dgi", "dgy") else "T"
        elif c == "g":
            if nxt == "h":
                code = "K" if i + 2 < n and w[i + 2] in _VOWELS else ""
            elif nxt == "n" and i + 2 == n:
                code = ""
            else:
                code = "J" if nxt in _FRONT and prev != "g" else "K"
        elif c == "h":
            code = "H" if prev not in ("c", "s", "p", "t", "g", "w") and nxt in _VOWELS else ""
        elif c == "k":
            code = "" if prev == "c" else "K"
        elif c == "p":
            code = "F" if nxt == "h" else "P"
        elif c == "q":
            code = "K"
        elif c == "s":
            code = "X" if nxt == "h" or three in ("sio", "sia") else "S"
        elif c == "t":
            code = "X" if three in ("tia", "tio") else "0" if nxt == "h" else "T"
        elif c == "v":
            code = "F"
        elif c in "wy":
            code = c.upper()  # only before a vowel (see above for y)
            if c == "w" and nxt not in _VOWELS:
                code = ""
        elif c == "x":
            code = "KS"
        elif c == "z":
            code = "S"
        else:  # f j l m n r
            code = c.upper()
        codes.append(code)
    key = "".join(codes)
    return re.sub(r"(.)\1+", r"\1", key)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions each cost one."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    # Myers' bit-parallel algorithm: one machine word per column, the shorter string as pattern
    m = len(b)
    full = (1 << m) - 1
    last = 1 << (m - 1)
    peq: dict[str, int] = {}
    for i, c in enumerate(b):
        peq[c] = peq.get(c, 0) | (1 << i)
    pv, mv, score = full, 0, m
    for c in a:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
    return score


@lru_cache(maxsize=1 << 16)
def _distance(a: str, b: str) -> float:
    """Edit distance over the longer length: 0 the same, 1 nothing in common."""
    return edit_distance(a, b) / max(len(a), len(b), 1)


def is_common(letters: str) -> bool:
    """An ordinary English word (or a plain inflection of one), or any word of two letters."""
    if len(letters) <= 2 or letters in _COMMON:
        return True
    for ending in ("s", "es", "ed", "d", "ing", "ly"):
        if letters.endswith(ending) and letters[:-len(ending)] in _COMMON:
            return True
    return False


# -- the rule --------------------------------------------------------------------------------


def match_score(cores: Sequence[str], term: Term) -> float | None:
    """How far the words ``cores`` (without punctuation) are from ``term``, when they are a
    near miss of it that may be rewritten; None when they may not (too far, or an ordinary
    word that would need a closer match); 0.0 when only case or spacing differ."""
    return _score(tuple(letters_of(c) for c in cores), term)


#: no rule accepts a spelling further than this, so a longer or shorter candidate is skipped
_WIDEST = max(SAME_KEY_MAX, PHRASE_ANCHORED_MAX, PHRASE_MAX)


@lru_cache(maxsize=1 << 18)
def _score(letters: tuple[str, ...], term: Term) -> float | None:
    joined = "".join(letters)
    if not joined or not all(letters):
        return None
    longest = max(len(joined), len(term.letters))
    if abs(len(joined) - len(term.letters)) > _WIDEST * longest:
        return None
    single = len(letters) == 1 and len(term.words) == 1
    if joined == term.letters:
        if single and (is_common(joined) or len(joined) < RECASE_MIN_LETTERS):
            return None  # "apple" said of the fruit stays lowercase
        return 0.0
    if joined in (term.letters + "s", term.letters + "es"):
        return None  # "kestrels": a plural (or a verb) of an ordinary word, not the name
    if single and (len(joined) < MIN_LETTERS or len(term.letters) < MIN_LETTERS):
        return None
    # every rule wants the sounds close: the short keys first, the spelling only then
    key, widest_key = phonetic_key(joined), max(NEAR_KEY_MAX, PHRASE_KEY_MAX)
    if abs(len(key) - len(term.key)) > widest_key * max(len(key), len(term.key)):
        return None
    k = _distance(key, term.key)
    if k > widest_key:
        return None
    d = edit_distance(joined, term.letters) / longest
    if d > _WIDEST:
        return None
    if single:
        if is_common(joined):
            ok = k == 0 and d <= COMMON_MAX
        else:
            ok = (k == 0 and d <= SAME_KEY_MAX) or (
                k <= NEAR_KEY_MAX and d <= NEAR_KEY_SPELLING_MAX
                and len(joined) >= NEAR_KEY_MIN_LETTERS)
        return d if ok else None
    if k > PHRASE_KEY_MAX:
        return None
    if len(letters) == len(term.words):
        pairs = [_distance(a, b) for a, b in zip(letters, term.word_letters, strict=True)]
        if max(pairs) > PHRASE_WORD_MAX:
            return None
        anchored = min(pairs) == 0
        ordinary = any(p > 0 and is_common(a) for a, p in zip(letters, pairs, strict=True))
    else:
        if any(len(x) <= 2 for x in letters):
            return None  # "a Zentravia" must not swallow the article
        anchored = False
        ordinary = any(is_common(x) for x in letters)
    limit = (PHRASE_ORDINARY_MAX if ordinary else
             PHRASE_ANCHORED_MAX if anchored else PHRASE_MAX)
    return d if d <= limit else None


@lru_cache(maxsize=64)
def _terms(vocabulary: tuple[str, ...]) -> tuple[Term, ...]:
    """The entries, cleaned and de-duplicated, plus each uncommon word of a multi-word entry on
    its own ("Prynne" for Hester Prynne), so that a surname said alone is corrected too; not
    the generic word of a company's name ("Logistics"), which is also an ordinary word."""
    seen: dict[str, Term] = {}
    entries = [Term.of(v) for v in vocabulary if v and v.strip()]
    for term in entries:
        seen.setdefault(term.letters, term)
    for term in entries:
        if len(term.words) > 1:
            for word, letters in zip(term.words, term.word_letters, strict=True):
                if (len(letters) >= MIN_LETTERS and not is_common(letters)
                        and letters not in _GENERIC):
                    seen.setdefault(letters, Term.of(word))
    return tuple(t for t in seen.values() if t.letters)


def terms(vocabulary: Iterable[str]) -> tuple[Term, ...]:
    return _terms(tuple(vocabulary))


# -- applying it -----------------------------------------------------------------------------

_TOKEN = re.compile(r"^(\W*)(\w(?:[\w'’-]*?\w)?)((?:['’]s)?\W*)$")


@dataclass(frozen=True)
class _Fix:
    start: int
    end: int  # exclusive
    term: Term
    score: float


def _find(tokens: Sequence[str], vocab: Sequence[Term]) -> list[_Fix]:
    """Non-overlapping rewrites of ``tokens`` (whitespace-separated, punctuation attached),
    best matches first; a span already spelled right blocks rewrites over it."""
    parts = [_TOKEN.match(t) for t in tokens]
    letters = [letters_of(p.group(2)) if p else "" for p in parts]
    widest = max((len(t.words) for t in vocab), default=0) + 2
    candidates: list[_Fix] = []
    for i in range(len(tokens)):
        for j in range(i + 1, min(i + widest, len(tokens)) + 1):
            last = parts[j - 1]
            # punctuation between the words means they are not one name
            if last is None or (j - 1 > i and last.group(1)):
                break
            cores = tuple(p.group(2) for p in parts[i:j] if p is not None)
            spelled = tuple(letters[i:j])
            size = sum(map(len, spelled))
            for term in vocab:
                if not len(term.words) <= j - i <= len(term.words) + 2:
                    continue
                if abs(size - len(term.letters)) > _WIDEST * max(size, len(term.letters)):
                    continue  # no rule takes a spelling that much longer or shorter
                if cores == term.words:
                    candidates.append(_Fix(i, j, term, -1.0))  # already right
                    continue
                score = _score(spelled, term)
                if score is not None:
                    candidates.append(_Fix(i, j, term, score))
            if last.group(3):
                break
    # names spelled right first, then the fuller names ("right water analytic" is Brightwater
    # Analytics, not Brightwater and a stray word), then the closest spellings
    candidates.sort(key=lambda f: (f.score >= 0, -len(f.term.words), f.score,
                                   abs(f.end - f.start - len(f.term.words)), f.start))
    taken: list[_Fix] = []
    for fix in candidates:
        overlaps = [t for t in taken if fix.start < t.end and t.start < fix.end]
        # a name spelled right keeps its neighbours ("the Zentravia"), but a first name
        # spelled right is the anchor of a full name, not a reason to leave its surname
        if overlaps and all(t.score < 0 and len(t.term.words) < len(fix.term.words)
                            for t in overlaps):
            taken = [t for t in taken if t not in overlaps]
            overlaps = []
        if not overlaps:
            taken.append(fix)
    return sorted((f for f in taken if f.score >= 0), key=lambda f: f.start)


def _spelled(fix: _Fix, tokens: Sequence[str]) -> list[str]:
    first = _TOKEN.match(tokens[fix.start])
    last = _TOKEN.match(tokens[fix.end - 1])
    assert first is not None and last is not None
    words = list(fix.term.words)
    words[0] = first.group(1) + words[0]
    words[-1] = words[-1] + last.group(3)
    return words


def _retimed(old: Sequence[Word], texts: Sequence[str]) -> list[Word]:
    """New words ``texts`` over the times of the ``old`` words they replace."""
    if len(old) == len(texts):
        return [replace(w, text=t) for w, t in zip(old, texts, strict=True)]
    if len(old) > len(texts):
        # a name heard as more words ("Venkata Raman"): each new word takes the run of old
        # words closest to it in spelling, from the start of the first to the end of the last
        target = [letters_of(t) for t in texts]

        def cost(cuts: tuple[int, ...]) -> int:
            bounds = (0, *cuts, len(old))
            return sum(edit_distance("".join(letters_of(w.text) for w in old[a:b]), t)
                       for a, b, t in zip(bounds[:-1], bounds[1:], target, strict=True))

        cuts = min(combinations(range(1, len(old)), len(texts) - 1), key=cost)
        bounds = (0, *cuts, len(old))
        return [Word(old[a].start, old[b - 1].end, t, min(w.probability for w in old[a:b]))
                for a, b, t in zip(bounds[:-1], bounds[1:], texts, strict=True)]
    # fewer words than the name has: share their time by length of spelling
    start, end = old[0].start, old[-1].end
    probability = min(w.probability for w in old)
    weights = [max(len(letters_of(t)), 1) for t in texts]
    out, t0, done = [], start, 0
    for text, weight in zip(texts, weights, strict=True):
        done += weight
        t1 = round(start + (end - start) * done / sum(weights), 3)
        out.append(Word(t0, t1, text, probability))
        t0 = t1
    return out


def _apply(tokens: Sequence[str], fixes: Sequence[_Fix]) -> list[str]:
    out: list[str] = []
    at = 0
    for fix in fixes:
        out += tokens[at:fix.start]
        out += _spelled(fix, tokens)
        at = fix.end
    return out + list(tokens[at:])


def correct_text(text: str, vocabulary: Iterable[str]) -> tuple[str, int]:
    """``text`` with near misses of the vocabulary respelled, and how many were."""
    tokens = text.split()
    fixes = _find(tokens, terms(vocabulary))
    return (" ".join(_apply(tokens, fixes)), len(fixes)) if fixes else (text, 0)


def correct_segment(segment: Segment, vocabulary: Iterable[str]) -> tuple[Segment, int]:
    """The segment with near misses respelled in its words and its text alike (words keep
    their times; a name heard as two words becomes one word over both), and how many."""
    vocab = terms(vocabulary)
    if not segment.words:
        text, n = correct_text(segment.text, [t.text for t in vocab])
        return (replace(segment, text=text), n) if n else (segment, 0)
    tokens = [w.text for w in segment.words]
    fixes = [f for f in _find(tokens, vocab)
             if f.score == 0 or f.end - f.start > 1
             or segment.words[f.start].probability < SURE_PROBABILITY]
    if not fixes:
        return segment, 0
    words: list[Word] = []
    at = 0
    for fix in fixes:
        words += segment.words[at:fix.start]
        words += _retimed(segment.words[fix.start:fix.end], _spelled(fix, tokens))
        at = fix.end
    words += segment.words[at:]
    if segment.text.split() == tokens:
        text = " ".join(w.text for w in words)
    else:  # the text splits differently from the words ("cold-run" vs "cold", "-run")
        text, _ = correct_text(segment.text, [t.text for t in vocab])
    return replace(segment, words=tuple(words), text=text), len(fixes)


# -- phantoms --------------------------------------------------------------------------------


def _occurrences(tokens: Sequence[str], vocab: Sequence[Term]) -> list[tuple[int, int]]:
    """Where the tokens spell a vocabulary term exactly (longest first, no overlaps)."""
    cores = [m.group(2) if (m := _TOKEN.match(t)) else "" for t in tokens]
    spelled = [letters_of(c) for c in cores]
    found: list[tuple[int, int]] = []
    for term in sorted(vocab, key=lambda t: -len(t.words)):
        n = len(term.words)
        for i in range(len(tokens) - n + 1):
            if (tuple(spelled[i:i + n]) == term.word_letters
                    and all(i >= e or i + n <= s for s, e in found)):
                found.append((i, i + n))
    return sorted(found)


def is_phantom(segment: Segment, vocabulary: Iterable[str],
               sound: Sequence[bool] | None = None, *, hinted: bool = False) -> bool:
    """A segment that echoes the hints rather than something said: mostly vocabulary words
    that the model itself judged not to be speech, that go by faster than anyone says them,
    that lie in silence (``sound``: per second of the recording, whether it has sound), or
    that repeat a name over and over. With ``hinted``, also any segment the model judged not
    to be speech whose words go by that fast (a hinted decode runs on into the padding)."""
    vocab = terms(vocabulary)
    tokens = [w.text for w in segment.words] or segment.text.split()
    found = _occurrences(tokens, vocab)
    hits = [i for s, e in found for i in range(s, e)]
    words = sum(1 for t in tokens if letters_of(t))
    if (hinted and segment.words and segment.no_speech_prob >= PHANTOM_NO_SPEECH
            and segment.words[-1].end - segment.words[0].start < PHANTOM_WORD_S * len(tokens)):
        return True
    if not hits or len(hits) < PHANTOM_SHARE * words:
        return False
    said = [" ".join(tokens[s:e]).lower() for s, e in found]
    if len(hits) >= PHANTOM_ECHO_SHARE * words and len(set(said)) < len(said):
        return True
    if segment.no_speech_prob >= PHANTOM_NO_SPEECH:
        return True
    if segment.words:
        duration = sum(segment.words[i].end - segment.words[i].start for i in hits)
        if duration < PHANTOM_WORD_S * len(hits):
            return True
    if sound is not None and len(sound):
        first = max(int(segment.start), 0)
        last = min(int(segment.end) + 1, len(sound))
        if first < last and not any(sound[first:last]):
            return True
    return False


def _forced(words: Sequence[Word]) -> bool:
    """A name the hints forced in: a word of it almost impossible, or all of it unsure and
    said faster than speech goes."""
    probs = [w.probability for w in words]
    if min(probs) < PHANTOM_PROBABILITY:
        return True
    letters = sum(len(letters_of(w.text)) for w in words)
    seconds = words[-1].end - words[0].start
    return (sum(probs) / len(probs) < PHANTOM_UNSURE and letters > 0
            and seconds / letters < PHANTOM_LETTER_S)


def drop_unlikely(segment: Segment, vocabulary: Iterable[str]) -> tuple[Segment, int]:
    """The segment without the names in it that the model gave almost no probability (a hint
    forced in over other words); a name's other words go with it. And how many were dropped."""
    vocab = terms(vocabulary)
    tokens = [w.text for w in segment.words]
    gone = [(s, e) for s, e in _occurrences(tokens, vocab) if _forced(segment.words[s:e])]
    if not gone:
        return segment, 0
    drop = {i for s, e in gone for i in range(s, e)}
    words = tuple(w for i, w in enumerate(segment.words) if i not in drop)
    text = " ".join(w.text for w in words)
    if segment.text.split() != tokens:  # the text splits differently from the words
        text_tokens = segment.text.split()
        cut = {i for s, e in _occurrences(text_tokens, vocab) for i in range(s, e)
               if any(" ".join(text_tokens[s:e]) == " ".join(tokens[a:b]) for a, b in gone)}
        text = " ".join(t for i, t in enumerate(text_tokens) if i not in cut)
    if not words:
        return replace(segment, words=(), text=""), len(gone)
    return replace(segment, words=words, text=text, start=words[0].start,
                   end=words[-1].end), len(gone)


def correct(transcript: Transcript, vocabulary: Iterable[str], *,
            second_levels_dbfs: Sequence[float] | None = None,
            hinted: bool = False) -> Transcript:
    """The transcript with near misses of ``vocabulary`` respelled and phantom segments (see
    :func:`is_phantom`) dropped; ``hinted``: the decoder was given the vocabulary as hints, so
    names it gave almost no probability are dropped too (see :func:`drop_unlikely`).
    ``options`` records ``vocabulary_corrections`` and ``vocabulary_phantoms`` (segments and
    names dropped); with no vocabulary the transcript comes back as it was."""
    vocab = [t.text for t in terms(vocabulary)]
    if not vocab:
        return transcript
    # absolute, not against the recording's floor: in a short clip all speech, none would count
    sound = [level >= SOUND_MIN_DBFS for level in second_levels_dbfs or ()] or None
    kept: list[Segment] = []
    corrections = phantoms = 0
    for segment in transcript.segments:
        fixed, n = correct_segment(segment, vocab)
        if is_phantom(fixed, vocab, sound, hinted=hinted):
            phantoms += 1
            continue
        if hinted:
            fixed, dropped = drop_unlikely(fixed, vocab)
            phantoms += dropped
            if not fixed.text.strip():
                continue
        kept.append(fixed)
        corrections += n
    options = {**transcript.options, "vocabulary_corrections": corrections,
               "vocabulary_phantoms": phantoms}
    return replace(transcript, segments=tuple(kept), options=options)


def glossary(vocabulary: Iterable[str], max_chars: int = HINT_CHARS) -> str | None:
    """The vocabulary as one short hint for the decoder ("Hester Prynne, Zentravia."), whole
    entries in the order given, as many as fit in ``max_chars``; None for none."""
    out: list[str] = []
    size = 0
    for entry in dict.fromkeys(" ".join(v.split()) for v in vocabulary):
        if not entry:
            continue
        if size + len(entry) + 2 > max_chars:
            break
        out.append(entry)
        size += len(entry) + 2
    return ", ".join(out) + "." if out else None


#: words in company and product names that are ordinary words too, so never terms on their own
_GENERIC_WORDS = """
analytics bank biotech brands capital cloud consulting desk energy flow foods freight group
health holdings industries insurance labs ledger logistics media motors networks partners pay
pharma rail retail software solutions sync systems technologies therapeutics ventures
"""
_GENERIC = frozenset(_GENERIC_WORDS.split())

#: the ~2,800 most frequent English words of three letters or more (wordfreq 3.1, top 3,000);
#: a vocabulary term never rewrites one of these unless spelled almost exactly like it
_COMMON_WORDS = """
ability able about above absolute absolutely abuse academic academy accept accepted access accident
according account accounts accurate achieve across act acting action actions active activities
activity actor acts actual actually adam add added adding addition additional address
administration admit adopted adult adults advance advanced advantage advertising advice affairs
affect affected afford afraid africa african after afternoon again against age aged agencies agency
agent agents ages ago agree agreed agreement ahead aid aim air aircraft airport album alcohol alex
alive all allow allowed allowing allows almost alone along already also alternative although always
amazing amazon america american americans among amount analysis ancient and andrew angeles angry
animal animals anniversary announced annual another answer answers anti any anybody anymore anyone
anything anyway anywhere apart apartment app apparently appeal appear appearance appeared appears
apple application applications applied apply appointed appreciate approach appropriate approval
approved approximately april are area areas argument arm armed arms army around arrest arrested
arrived art article articles artist artists arts asia asian aside ask asked asking aspects assembly
assets assistance assistant associated association assume attached attack attacked attacks attempt
attempts attend attention attitude attorney attractive audience august australia australian author
authorities authority automatically available average avoid award awards aware away awesome baby
back background bad bag balance ball balls ban band bank banks bar base baseball based basic
basically basis basketball bathroom battery battle bay bbc beach bear beat beautiful beauty became
because become becomes becoming bed been beer before began begin beginning begins behavior behind
being believe believed bell below ben benefit benefits besides best bet better between beyond bible
big bigger biggest bike bill billion bills bird birds birth birthday bit black blame blind block
blog blood blow blue board boat bob bodies body bomb bond book books border born boss boston both
bottle bottom bought bowl box boy boyfriend boys brain branch brand brazil bread break breakfast
breaking breath bridge brief bright brilliant bring bringing brings britain british broad broke
broken brother brothers brought brown budget build building buildings built bunch burn burning bus
business businesses busy but button buy buying cable cake california call called calling calls calm
came camera camp campaign campus can canada canadian cancer candidate candidates cannot cap capable
capacity capital captain car carbon card cards care career careful carolina carried carry carrying
cars case cases cash cast cat catch category catholic caught cause caused causes causing cell cells
cent center central centre century certain certainly chain chair chairman challenge champion
champions championship chance chances change changed changes changing channel chapter character
characters charge charged charges charles chat cheap check checked cheese chemical chest chicago
chicken chief child childhood children china chinese choice choose chose chosen chris christ
christian christmas church circle circumstances cities citizens city civil claim claimed claims
class classes classic clean clear clearly click client climate clinical clinton close closed
closely closer clothes club clubs coach coast code coffee cold collected collection college color
combat combination combined come comedy comes comfortable coming command commander comment comments
commercial commission committed committee common communication communications communities community
companies company compared comparison competition competitive complete completed completely complex
computer concept concern concerned concerns concert condition conditions conduct conducted
conference confidence confirmed conflict congress connected connection conservative consider
considered considering constant constantly constitution construction consumer contact contain
contains content contest context continue continued continues contract control controlled
convention conversation cook cool copy core corner corporate corporation correct cost costs could
council count counter countries country county couple course court cover coverage covered covers
crash crazy cream create created creating creation creative credit crew crime criminal crisis
critical cross crowd crown cry crying cultural culture cup current currently customer customers cut
cute cutting cycle dad daily damage damn dan dance dancing danger dangerous daniel dark data date
dates dating daughter david day days dead deal dealing deals dear death deaths debate debt debut
decade decades december decide decided decision decisions declared dedicated deep defeat defence
defense defined definitely definition degree degrees deliver delivered delivery demand democracy
democratic democrats department depending depends depression depth deputy describe described
description deserve design designed desire despite destroy destroyed detail detailed details
determine determined develop developed developing development device devices did die died diet
difference differences different difficult digital dinner direct directed direction directly
director dirty discovered discuss discussion disease display distance distribution district
division doctor doctors document documents does dog dogs doing dollar dollars domestic don done
dont door doors double doubt down download draft drama draw drawing drawn dream dreams dress drink
drinking drive driven driver drivers driving drop dropped drug drugs drunk dry dude due dumb during
duty dying each earlier early earned earth easier easily east eastern easy eat eating economic
economy edge edition editor education educational edward effect effective effects effort efforts
eggs eight either elected election elections electric electronic elements else email emergency
emotional empire employee employees employment empty end ended ending ends enemy energy engaged
engine engineer engineering england english enjoy enjoyed enough ensure enter entered entertainment
entire entirely entitled entry environment environmental episode equal equipment equivalent era
error escape especially essential established estate estimated etc europe european even evening
event events eventually ever every everybody everyone everything everywhere evidence evil exact
exactly example examples excellent except exchange excited exciting exclusive excuse executive
exercise exist existence existing expansion expect expected expensive experience experienced
experiences expert experts explain explained exposed express expressed expression extended external
extra extreme extremely eye eyes face facebook faces facilities facility facing fact factor factors
factory facts fail failed failure fair fairly faith fake fall falling falls false familiar families
family famous fan fans fantastic fantasy far farm fashion fast faster fat father fault favor
favorite favourite fear feature features february fed federal fee feed feel feeling feelings feels
fees feet fell fellow felt female festival few field fields fifth fight fighting figure figures
file fill filled film films final finally finance financial find finding finds fine fingers finish
finished fire fired firm first fish fit five fix fixed flag flat flight floor florida flow flowers
fly flying focus focused folks follow followed following follows food foot football for force
forced forces ford foreign forest forever forget forgot form formed former forms forward found
foundation founded four fourth fox frame france francisco frank free freedom french frequently
fresh friday friend friendly friends from front fruit fuel full fully fun function functions fund
funding funds funny further future gain game games gang garden gas gave gay gender general
generally generation george german germany get gets getting giant gift girl girlfriend girls give
given gives giving glad glass global goal goals god goes going gold golden golf gone gonna good
goods google got gotta government governor grab grace grade graduate grand grant granted great
greater greatest green grew ground group groups grow growing grown growth guard guess guest guide
guilty gun guns guy guys had haha hair half hall hand handle hands hang happen happened happening
happens happy hard harder hardly harry has hat hate have having head headed heads health healthy
hear heard hearing heart heat heaven heavily heavy height held hell hello help helped helping helps
henry her here hero herself hey hidden hide high higher highest highly hill him himself his
historical history hit hits hold holding holds hole holiday hollywood holy home homes honest
honestly hong honor hope hopefully hoping horse hospital host hot hotel hour hours house houses
housing how however http huge human humans hundred hundreds hurt husband ice idea ideas identified
identify identity iii ill illegal image images imagine immediate immediately impact importance
important impossible improve improved inc incident include included includes including income
increase increased increasing incredible indeed independence independent index india indian
individual individuals industrial industry influence info information initial injured injury inside
inspired instance instead institute institutions insurance intelligence intended interest
interested interesting interests interior internal international internet interview into introduced
introduction investigation investment invited involved iran ireland irish iron island israel issue
issued issues italian italy item items its itself jack jackson jail james jan january japan
japanese jersey jesus jewish jim job jobs joe john johnson join joined joint joke jones jordan
joseph journal journey joy judge july jump june just justice keep keeping keeps kept kevin key kick
kid kids kill killed killing kim kind kinda kinds king kingdom kiss kitchen knew know knowing
knowledge known knows korea labor labour lack ladies lady laid lake land lane language large
largely larger largest last late later latest latter laugh laughing launch launched law laws lawyer
lay lead leader leaders leadership leading leads league learn learned learning least leave leaves
leaving led lee left leg legal legislation legs length less let lets letter letters letting level
levels liberal library license lie lies life light lights like liked likely likes limit limited
line lines link linked links list listed listen listening literally literature little live lived
lives living load loan loans local located location lock lol london long longer look looked looking
looks lord los lose losing loss lost lot lots loud louis love loved lovely loves low lower luck
lucky lunch lying machine mad made magazine magic mail main mainly maintain maintenance major
majority make makes making male man manage managed management manager manchester manner
manufacturing many map march marine mark market marketing markets marriage married martin mary mass
massive master match matches mate material materials matt matter matters max maximum may maybe
mayor mean meaning means meant measure measures meat media medical medicine medium meet meeting
member members memory men mental mention mentioned mess message messages met metal method methods
mexico michael michigan mid middle might mike mile miles military milk million millions mind mine
minimum mining minister ministry minor minute minutes miss missed missing mission mistake mix mixed
mobile mode model models modern mom moment moments monday money month months moon more morning most
mostly mother motion motor mountain mouth move moved movement moves movie movies moving mrs much
multi multiple murder museum music musical muslim must myself name named names nation national
nations native natural nature navy near nearby nearly necessary neck need needed needs negative
neither net network never new news newspaper next nfl nice nick night nine nobody noise non none
nor normal normally north northern nose not note noted notes nothing notice noticed novel november
now nuclear number numbers numerous obama object objects obvious obviously occurred ocean october
off offer offered offering offers office officer officers official officially officials often ohio
oil okay old older once one ones online only onto open opened opening operating operation
operations opinion opportunities opportunity opposed opposite opposition option options orange
order ordered orders organization organizations organized origin original originally other others
otherwise our ourselves out outside over overall own owned owner owners pacific pack page pages
paid pain paint painting pair pakistan panel paper papers parent parents paris park parliament part
particular particularly parties partner partners parts party pass passed passing past path patient
patients pattern paul pay paying payment peace peak people per percent perfect perfectly perform
performance performed performing perhaps period permanent person personal personality personally
personnel perspective peter phase phone photo photos physical pick picked picture pictures piece
pieces pilot pink place placed places plan plane planet planned planning plans plant plants plastic
plate platform play played player players playing plays please pleasure plenty plot plus point
points police policies policy political politicians politics pool poor pop popular population port
portion position positions positive possibility possible possibly post posted posts potential
pounds power powerful powers practice practices pre prefer pregnant premier prepare prepared
presence present presented president presidential press pressure pretty prevent previous previously
price prices primary prime prince princess principal print prior prison private prize pro probably
problem problems process produce produced product production products professional professor
profile profit program programme programs progress project projects promise promote proof proper
properly properties property proposed protect protected protection protein proud prove provide
provided provides providing public published pull pulled purchase pure purpose purposes push put
puts putting quality quarter queen question questions quick quickly quiet quit quite quote race
radio rain raise raised ran random range rare rate rates rather raw ray reach reached reaction read
reading ready real reality realize realized really reason reasonable reasons receive received
receiving recent recently recognize recognized recommend record recorded recording records recovery
red reduce reduced reference referred reform refused regarding region regional regions register
registered regular regularly related relations relationship relationships relatively release
released relevant relief religion religious remain remained remaining remains remember remove
removed rent replace replaced report reported reporting reports represent representative
representatives represented republic republican request require required requirements requires
research reserve residents resistance resolution resources respect respond response responsibility
responsible rest restaurant result results retail retirement return returned returns revealed
revenue review reviews revolution rice rich richard ride right rights ring rise rising risk river
road roads robert rock role roll roof room rooms rose round route row royal rule rules run running
runs rural russia russian ryan sad safe safety said sale sales salt sam same sample san sat
saturday save saved saving saw say saying says scale scared scene scenes schedule scheme school
schools science scientific score scored scotland scott scottish screen sea search season seasons
seat seats second secondary seconds secret secretary section sector secure security see seeing seek
seeking seem seemed seems seen sees selected selection self sell selling semi senate senator send
sending senior sense sent sentence separate september series serious seriously serve served service
services serving session set sets setting seven several severe sex sexual shall shame shape share
shared shares sharing she shift ship shipping ships shirt shoes shoot shooting shop shopping short
shot shots should show showed showing shown shows shut sick side sides sight sign signal signed
significant significantly signs silver similar simple simply since sing singer singing single sir
sister sit site sites sitting situation six size skills skin sky sleep sleeping slightly slow
slowly small smaller smart smile smith smoke smoking snow social society soft software solar sold
soldiers solid solo solution some somebody somehow someone something sometimes somewhat somewhere
son song songs soon sorry sort soul sound sounds source sources south southern soviet space spain
spanish speak speaking special species specific specifically speech speed spend spending spent
spirit split spoke sport sports spot spread spring squad square stadium staff stage stand standard
standards standing stands star stars start started starting starts state stated statement
statements states station statistics status stay stayed staying steam steel step steps steve stick
still stock stone stood stop stopped storage store stores stories storm story straight strange
strategy stream street streets strength stress strike strong stronger structure struggle stuck
student students studies studio study stuff stupid style sub subject success successful such
suddenly suffered suffering sugar suggest suggested suicide suit summer sun sunday super supply
support supported supporting suppose supposed supreme sure surely surface surgery surprise
surprised survey survive suspect swear sweet switch sydney system systems table take taken takes
taking talent talk talked talking talks tall tank target task taste taught tax taxes taylor tea
teach teacher teachers teaching team teams tech technical techniques technology teeth television
tell telling tells temperature ten tend term terms terrible territory test testing tests texas text
than thank thanks that thats the theatre their them theme themselves then theory therapy there
therefore these they thing things think thinking thinks third this thomas those though thought
thoughts thousand thousands threat three through throughout throw thursday thus ticket tickets tie
tight till tim time times tiny tip tips tired title today together told tom tomorrow tonight tony
too took tool tools top total totally touch tough tour tournament toward towards town track trade
trading traditional traffic train trained training transfer transport transportation travel treat
treated treatment tree trees trend trial tried tries trip troops trouble truck true truly trump
trust truth try trying tuesday turkey turn turned turning turns twenty twice twitter two type types
typical typically ultimate ultimately unable under understand understanding understood
unfortunately union unique unit united units universe university unknown unless unlike until update
updated upon upper upset urban usa use used useful user users uses using usual usually valley
valuable value values van variety various vehicle vehicles version very via vice victim victims
victory video videos view views village violence virginia vision visit voice volume vote voted
votes voting wait waiting wake wales walk walked walking wall walls wanna want wanted wants war
warm warning wars was washington waste watch watched watching water wave way ways weak wealth
weapon weapons wear wearing weather web website wedding wednesday week weekend weekly weeks weight
weird welcome well went were west western wet what whatever when whenever where whether which while
white who whole whom whose why wide widely wife wild will william williams willing wilson win wind
window windows wine wing winner winning wins winter wise wish with within without witness woman
women won wonder wonderful wondering wood word words work worked workers working works world
worldwide worried worry worse worst worth would wow write writer writers writing written wrong
wrote yard yards yeah year years yellow yes yesterday yet york you young younger your yours
yourself youth youtube zero zone
"""
_COMMON = frozenset(_COMMON_WORDS.split())
