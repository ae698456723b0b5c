"""Checks that flag a transcript for a human look, each with a reason and a place.

Pure functions of a transcript and the recording's per-second levels (from ``audio.inspect``):
- repetition: Whisper's failure mode of looping on a phrase (many short identical segments,
  or a phrase repeated back to back, or text that compresses far too well);
- no-words: a long stretch with sound in it but no transcribed words;
- low-confidence: segments whose average token log-probability is poor;
- language: a multilingual model heard another language than the one expected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .transcript import QualityFlag, QualityReport, Segment, Transcript

#: Whisper's own threshold for a decode that is "too repetitive" (gzip compression ratio)
COMPRESSION_RATIO_LIMIT = 2.4
#: identical consecutive segments, or a phrase repeated back to back, this often = a loop
REPEAT_LIMIT = 3
PHRASE_REPEAT_LIMIT = 4
#: this many back-to-back short segments with whole-second edges = looping timestamps
GRID_RUN = 5
GRID_MAX_S = 2.0
#: a stretch of sound with no words this long (seconds) is worth a look
NO_WORDS_MIN_S = 10.0
#: a second counts as "sound" when it is this far above the recording's noise floor ...
SOUND_ABOVE_FLOOR_DB = 15.0
#: ... and at least this loud in absolute terms
SOUND_MIN_DBFS = -45.0
LOW_LOGPROB = -1.0
#: low-confidence flags when poor segments add up to this much time or share of speech
LOW_CONFIDENCE_MIN_S = 5.0
LOW_CONFIDENCE_MIN_SHARE = 0.2
LANGUAGE_MIN_PROBABILITY = 0.5

CHECKS = ("repetition", "no-words", "low-confidence", "language")




def _words(text: str) -> list[str]:
    return re.sub(r"[^\w' ]+", " ", text.lower()).split()


def _clock(t: float) -> str:
    m, s = divmod(int(t), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def repetition_flags(segments: Sequence[Segment]) -> list[QualityFlag]:
    flags: list[QualityFlag] = []
    # 1. runs of consecutive segments with the same words
    i = 0
    while i < len(segments):
        j = i
        key = _words(segments[i].text)
        while j + 1 < len(segments) and key and _words(segments[j + 1].text) == key:
            j += 1
        if key and j - i + 1 >= REPEAT_LIMIT:
            flags.append(QualityFlag(
                "repetition",
                f"the same text repeats in {j - i + 1} consecutive segments "
                f"({_clock(segments[i].start)}–{_clock(segments[j].end)}): "
                f"\"{segments[i].text.strip()[:60]}\" — likely a decoding loop, not speech",
                segments[i].start, segments[j].end))
        i = j + 1
    # 2. a phrase repeated back to back inside the running text
    words: list[tuple[str, Segment]] = [(w, s) for s in segments for w in _words(s.text)]
    tokens = [w for w, _ in words]
    k = 0
    while k < len(tokens):
        found = False
        for n in range(1, 9):
            phrase = tokens[k:k + n]
            if len(phrase) < n:
                break
            reps = 1
            while tokens[k + reps * n:k + (reps + 1) * n] == phrase:
                reps += 1
            if reps >= max(PHRASE_REPEAT_LIMIT, 8 if n == 1 else 0):
                start, end = words[k][1].start, words[k + reps * n - 1][1].end
                if not any(f.start is not None and f.start <= start <= (f.end or start)
                           for f in flags):
                    flags.append(QualityFlag(
                        "repetition",
                        f"\"{' '.join(phrase)}\" repeats {reps} times back to back "
                        f"({_clock(start)}–{_clock(end)}) — likely a decoding loop",
                        start, end))
                k += reps * n
                found = True
                break
        if not found:
            k += 1
    # 3. timestamps stuck in a loop: back-to-back short segments whose edges all sit on whole
    #    seconds. Real segment edges fall on Whisper's 20 ms grid anywhere; base without VAD on
    #    the shared call emits runs like 5-6, 6-7, ... 11-12 s (or 0-2, 2-4, ... 8-9, 9-10 s:
    #    the temperature fallback samples, so the exact run varies)
    def on_grid(seg: Segment) -> bool:
        return (abs(seg.start - round(seg.start)) < 0.011 and abs(seg.end - round(seg.end)) < 0.011
                and 0 < seg.end - seg.start <= GRID_MAX_S)

    i = 0
    while i < len(segments):
        j = i
        while (on_grid(segments[i]) and j + 1 < len(segments) and on_grid(segments[j + 1])
               and abs(segments[j + 1].start - segments[j].end) < 0.011):
            j += 1
        if j - i + 1 >= GRID_RUN:
            flags.append(QualityFlag(
                "repetition",
                f"{j - i + 1} back-to-back segments on a whole-second grid "
                f"({_clock(segments[i].start)}–{_clock(segments[j].end)}): the model's "
                "timestamps are looping, so times (and likely words) are unreliable",
                segments[i].start, segments[j].end))
        i = j + 1
    # 4. text that compresses too well (Whisper's own hallucination heuristic)
    for s in segments:
        if s.compression_ratio > COMPRESSION_RATIO_LIMIT and not any(
                f.start is not None and f.start <= s.start <= (f.end or s.start) for f in flags):
            flags.append(QualityFlag(
                "repetition",
                f"segment at {_clock(s.start)} is highly repetitive (compression ratio "
                f"{s.compression_ratio:.1f} > {COMPRESSION_RATIO_LIMIT})", s.start, s.end))
    return flags


def _sound_seconds(levels: Sequence[float]) -> np.ndarray:
    arr = np.asarray(levels, dtype=np.float64)
    if not len(arr):
        return np.zeros(0, dtype=bool)
    floor = float(np.percentile(arr, 10))
    return (arr > floor + SOUND_ABOVE_FLOOR_DB) & (arr > SOUND_MIN_DBFS)


def no_words_flags(segments: Sequence[Segment], levels: Sequence[float]) -> list[QualityFlag]:
    sound = _sound_seconds(levels)
    covered = np.zeros(len(sound), dtype=bool)
    for s in segments:
        if s.text.strip():
            # a second of slack either side: segment edges are approximate
            covered[max(0, int(s.start) - 1):min(len(sound), int(np.ceil(s.end)) + 1)] = True
    gap = sound & ~covered
    flags = []
    start = None
    quiet = 0
    for t in range(len(gap) + 1):
        on = t < len(gap) and gap[t]
        if on:
            start = t if start is None else start
            quiet = 0
        elif start is not None:
            quiet += 1
            # a pause of up to 2 s inside the stretch does not end it
            if quiet > 2 or t >= len(gap):
                end = t - quiet + 1
                if end - start >= NO_WORDS_MIN_S:
                    flags.append(QualityFlag(
                        "no-words",
                        f"{end - start:.0f} s with sound but no words ({_clock(start)}–"
                        f"{_clock(end)}): speech the model missed, music or noise",
                        float(start), float(end)))
                start, quiet = None, 0
    return flags


def low_confidence_flags(segments: Sequence[Segment]) -> list[QualityFlag]:
    spoken = [s for s in segments if s.text.strip()]
    total = sum(s.end - s.start for s in spoken)
    poor = [s for s in spoken if s.avg_logprob < LOW_LOGPROB and s.no_speech_prob < 0.6]
    poor_s = sum(s.end - s.start for s in poor)
    if not poor or (poor_s < LOW_CONFIDENCE_MIN_S and poor_s < LOW_CONFIDENCE_MIN_SHARE * total):
        return []
    return [QualityFlag(
        "low-confidence",
        f"{len(poor)} segment(s), {poor_s:.0f} s of {total:.0f} s spoken, decoded with low "
        f"confidence (average log-probability < {LOW_LOGPROB}); first at {_clock(poor[0].start)}",
        poor[0].start, poor[-1].end)]


def language_flags(languages: Sequence[tuple[float, float, str | None, float | None]],
                   expected: str) -> list[QualityFlag]:
    """``languages``: (start, end, detected language, probability) per window."""
    flags = []
    for start, end, lang, prob in languages:
        if lang and lang != expected and (prob is None or prob >= LANGUAGE_MIN_PROBABILITY):
            p = f", probability {prob:.2f}" if prob is not None else ""
            flags.append(QualityFlag(
                "language",
                f"the speech at {_clock(start)}–{_clock(end)} is in '{lang}'{p}, not the "
                f"expected '{expected}'", start, end))
    return flags


def check(transcript: Transcript, levels: Sequence[float], *, expected_language: str = "en",
          languages: Sequence[tuple[float, float, str | None, float | None]] = (),
          multilingual: bool = True) -> QualityReport:
    segs = transcript.segments
    flags = [*repetition_flags(segs), *no_words_flags(segs, levels), *low_confidence_flags(segs)]
    checked = ["repetition", "no-words", "low-confidence"]
    if multilingual:
        flags += language_flags(languages, expected_language)
        checked.append("language")
    flags.sort(key=lambda f: (f.start if f.start is not None else -1.0, f.kind))
    return QualityReport(tuple(flags), tuple(checked))
