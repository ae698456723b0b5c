"""Confidentiality: everything the out-tasker sees goes through one :class:`Redactor`.

Client names, product code names and people listed in ``engagement.yaml`` (``redact_terms``)
become ``[redacted]``, e-mail addresses ``[email]``, phone numbers ``[phone]``, and the
executives' names their pseudonym ("Executive A").

Transcripts are written by a speech model, which misspells names it has never heard:
"Zentravia" comes out as "Zen Travia", "zentra via", "Zentravian" or "Sentravia". Terms are
therefore matched on windows of consecutive words glued together (so split and hyphenated
spellings meet the term), compared by edit distance with an allowance that grows with the
term's length, plus a little more when a sound-alike key agrees (s/z, c/k, ph/f, v/f, d/t).
Terms of four letters or fewer match exactly only: a short code name one letter away from an
ordinary word ("Acme"/"acne") would otherwise redact that word everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePath

__all__ = ["KINDS", "PLACEHOLDERS", "Redactor", "pseudonyms"]

#: what gets redacted, as counted in a tally
KINDS: tuple[str, ...] = ("term", "email", "phone", "name")
#: what replaces each kind ("name" is replaced by the person's pseudonym instead)
PLACEHOLDERS: dict[str, str] = {"term": "[redacted]", "email": "[email]", "phone": "[phone]"}

_WORD = re.compile(r"[^\W_]+")
#: what may separate the words of one spoken term: spaces, hyphens, underscores (file names)
_GAP = re.compile(r"[\s\-\u2010\u2011\u2013_]{1,3}")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_PHONE = re.compile(
    r"(?<![\w$€£¥+])(?<!\d[.,:])"
    r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?"
    r"(?:\d{1,5}(?:[ .-]\d{2,4}|[ -]\d{5,8}){1,4}|(?<=\))\d{3,4}[ .-]?\d{4}|\d{10,15})"
    r"(?![\w%]|[.,:]\d)"
)
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_YEAR = re.compile(r"(?:19|20)\d\d")
_MASK = "\x00"  # stands in for an e-mail or phone already found, so no word window spans it


def _fold(text: str) -> str:
    """Lower-case letters and digits only, accents removed: "Zentravía's" -> "zentravias"."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text.casefold() if c.isalnum() and not unicodedata.combining(c))


_SOUNDS = (("ph", "f"), ("ck", "k"), ("qu", "kw"), ("x", "ks"), ("q", "k"), ("z", "s"),
           ("v", "f"), ("d", "t"))


@lru_cache(maxsize=65536)
def _sound_key(folded: str) -> str:
    """A cheap sound-alike key: consonant skeleton after merging letters a speech model confuses
    ("Sentravia" and "Zentravia" -> "sntrf", "Quantix" and "Kwantix" -> "kwntks")."""
    s = re.sub(r"c(?=[eiy])", "s", folded)
    for a, b in _SOUNDS:
        s = s.replace(a, b)
    s = s.replace("c", "k")
    if not s:
        return s
    s = s[0] + re.sub(r"[aeiouyh]", "", s[1:])
    return re.sub(r"(.)\1+", r"\1", s)


@lru_cache(maxsize=65536)
def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` as soon as it exceeds ``limit``.
    Only the diagonal band ``|i - j| <= limit`` is computed: cells outside cannot be in reach."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    over = limit + 1
    previous = [j if j <= limit else over for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        current = [i if i <= limit else over] + [over] * len(b)
        best = current[0]
        for j in range(max(1, i - limit), min(len(b), i + limit) + 1):
            cost = previous[j - 1] + (ca != b[j - 1])
            if previous[j] + 1 < cost:
                cost = previous[j] + 1
            if current[j - 1] + 1 < cost:
                cost = current[j - 1] + 1
            current[j] = cost = min(cost, over)
            if cost < best:
                best = cost
        if best > limit:
            return over
        previous = current
    return previous[-1]


def _allowance(length: int) -> tuple[int, int]:
    """Edits allowed for a term of ``length`` letters: (plain, when the sound-alike keys agree)."""
    if length <= 4:
        return 0, 0
    plain = 0 if length <= 7 else 1 if length <= 11 else 2 if length <= 17 else 3
    return plain, max(plain + 1, 2)


class _Pattern:
    """One thing to find: a term, a full name, or a first or last name alone."""

    __slots__ = ("kind", "replacement", "target", "n_words", "capitalised", "plain",
                 "sounding", "letters", "counts", "key")

    def __init__(self, kind: str, replacement: str, text: str, *, capitalised: bool) -> None:
        self.kind, self.replacement, self.capitalised = kind, replacement, capitalised
        self.target = _fold(text)
        self.n_words = len(_WORD.findall(text))
        self.plain, self.sounding = _allowance(len(self.target))
        self.letters = frozenset(self.target)
        self.counts = Counter(self.target)
        self.key = _sound_key(self.target)

    def match(self, folded: str) -> int | None:
        """Edit distance of a folded window to this pattern, or None when it is no match."""
        if folded == self.target:
            return 0
        # cheap early noes: an edit changes at most two letters of the set of letters used, and
        # at most one letter more and one fewer of the multiset
        if len(self.letters.symmetric_difference(folded)) > 2 * self.sounding:
            return None
        counts = Counter(folded)
        if max((counts - self.counts).total(), (self.counts - counts).total()) > self.sounding:
            return None
        d = _distance(folded, self.target, self.sounding)
        if d <= self.plain or (d <= self.sounding and _sound_key(folded) == self.key):
            return d
        return None


def pseudonyms(people: Iterable[str], prefix: str = "Executive") -> dict[str, str]:
    """Real name -> "<prefix> A", "<prefix> B", ..., "<prefix> Z", "<prefix> AA", ... in order;
    a name given twice keeps its first pseudonym."""
    out: dict[str, str] = {}
    for person in people:
        person = " ".join(person.split())
        if person and person not in out:
            n, letters = len(out), ""
            while True:
                n, r = divmod(n, 26)
                letters = chr(ord("A") + r) + letters
                if n == 0:
                    break
                n -= 1
            out[person] = f"{prefix} {letters}"
    return out


@dataclass(frozen=True)
class Redactor:
    """Replaces confidential terms, e-mails, phone numbers and people's names in text.

    ``terms``: ``redact_terms`` of the engagement. ``names``: real name -> pseudonym; the full
    name, the first name alone and the last name alone (3 letters or more, written with a
    capital) are replaced. Counting is the caller's: pass a :class:`~collections.Counter` as
    ``tally`` and it gains one per replacement, by kind (see :data:`KINDS`).
    """

    terms: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: window length (letters) -> the patterns a window of that length may match
    _by_length: dict[int, tuple[_Pattern, ...]] = field(init=False, repr=False, compare=False,
                                                         hash=False)

    def __post_init__(self) -> None:
        given = (self.terms,) if isinstance(self.terms, str) else self.terms
        terms = tuple(dict.fromkeys(t.strip() for t in given if _fold(t)))
        object.__setattr__(self, "terms", terms)
        patterns = [_Pattern("term", PLACEHOLDERS["term"], t, capitalised=False) for t in terms]
        for real, pseudonym in self.names.items():
            words = _WORD.findall(real)
            if not words:
                continue
            patterns.append(_Pattern("name", pseudonym, real, capitalised=False))
            for part in dict.fromkeys((words[0], words[-1])) if len(words) > 1 else ():
                if len(_fold(part)) >= 3:
                    patterns.append(_Pattern("name", pseudonym, part, capitalised=True))
        by_length: dict[int, list[_Pattern]] = {}
        for pattern in patterns:
            for n in range(len(pattern.target) - pattern.sounding,
                           len(pattern.target) + pattern.sounding + 1):
                by_length.setdefault(n, []).append(pattern)
        object.__setattr__(self, "_by_length", {n: tuple(p) for n, p in by_length.items()})

    for_names = staticmethod(pseudonyms)

    def redact(self, text: str, tally: Counter[str] | None = None) -> str:
        """``text`` with every confidential thing replaced; ``tally`` counts them by kind."""
        spans: list[tuple[int, int, str, str]] = []  # start, end, kind, replacement
        masked = text
        for kind, find in (("email", _EMAIL.finditer), ("phone", _phones)):
            for m in list(find(masked)):
                spans.append((m.start(), m.end(), kind, PLACEHOLDERS[kind]))
                masked = masked[:m.start()] + _MASK * (m.end() - m.start()) + masked[m.end():]
        spans += self._word_matches(text, masked)
        spans.sort()
        out, at = [], 0
        for start, end, kind, replacement in spans:
            out.append(text[at:start])
            out.append(replacement)
            at = end
            if tally is not None:
                tally[kind] += 1
        out.append(text[at:])
        return "".join(out)

    def counts(self, text: str) -> Counter[str]:
        """How many things of each kind :meth:`redact` would replace in ``text``."""
        tally: Counter[str] = Counter()
        self.redact(text, tally)
        return tally

    def redact_filename(self, name: str, tally: Counter[str] | None = None) -> str:
        """A file name safe to show: redacted, then reduced to letters, digits, ``.-_``
        ("Zentravia CFO (jane@x.com).m4a" -> "redacted-CFO-email.m4a")."""
        path = PurePath(name)
        stem, suffix = (path.stem, path.suffix) if _fold(path.stem) else (path.name, "")
        safe = re.sub(r"[^\w.-]+", "-", self.redact(stem, tally), flags=re.ASCII)
        safe = re.sub(r"-{2,}", "-", safe).strip("-.") or "file"
        return safe + re.sub(r"[^\w.]", "", suffix, flags=re.ASCII)

    def _word_matches(self, text: str, masked: str) -> list[tuple[int, int, str, str]]:
        words = [(m.start(), m.end(), _fold(m.group())) for m in _WORD.finditer(masked)]
        # -n_words, distance, length, start, end, pattern
        found: list[tuple[int, int, int, int, int, _Pattern]] = []
        if not self._by_length:
            return []
        longest = max(self._by_length)
        most_words = max(p.n_words for ps in self._by_length.values() for p in ps) + 2
        for i, (start, _, _) in enumerate(words):
            capital = text[start].isupper()
            glued = ""
            for j in range(i, min(len(words), i + most_words)):
                if j > i and not _GAP.fullmatch(masked, words[j - 1][1], words[j][0]):
                    break
                glued += words[j][2]
                if len(glued) > longest:
                    break
                for pattern in self._by_length.get(len(glued), ()):
                    if j - i >= pattern.n_words + 2 or (pattern.capitalised and not capital):
                        continue
                    d = pattern.match(glued)
                    if d is not None:
                        found.append((-pattern.n_words, d, words[j][1] - start, start,
                                      words[j][1], pattern))
        # longest pattern first, then the closest window, then the shortest: "a Zentravia"
        # replaces "Zentravia" (distance 0), not "a Zentravia" (distance 1)
        found.sort(key=lambda f: f[:4])
        taken: list[tuple[int, int]] = []
        spans = []
        for *_, start, end, pattern in found:
            if all(end <= s or start >= e for s, e in taken):
                taken.append((start, end))
                spans.append((start, end, pattern.kind, pattern.replacement))
        return spans


def _phones(text: str) -> list[re.Match[str]]:
    """Phone numbers in ``text``, leaving out dates, year ranges, money, times and counts."""
    found = []
    for m in _PHONE.finditer(text):
        number = m.group()
        groups = re.findall(r"\d+", number)
        digits = sum(map(len, groups))
        if not 7 <= digits <= 15 or _DATE.fullmatch(number):
            continue
        international = number.startswith("+") or "(" in number
        if not international and (all(_YEAR.fullmatch(g) for g in groups)
                                  or max(map(len, groups)) < 3):
            continue  # "1999-2004", "2024 2025", "10 20 30 40"
        if len(groups) > 1 and max(map(len, groups)) > 4 and not (
                international or number.startswith("0")):
            continue  # "in 2023 150000 trucks"; but "+49 30 1234567", "07700 900123" are phones
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+|\d{1,2}(?: \d{3})+", number):
            continue  # "1.100.000", "12 500 000": thousands separators (phones end in 4 digits)
        found.append(m)
    return found
