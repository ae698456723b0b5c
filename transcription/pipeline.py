"""One recording to one transcript: inspect, then decode, transcribe and find speakers in
windows, then run the quality gate. The single entry point is :class:`Transcriber`."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import audio, quality, vocabulary
from .engines import DEFAULT_ENGINE, DecodeOptions, Engine, load_engine
from .models import DEFAULT_MODEL, ResolvedModel, default_cache_dir, resolve
from .transcript import Segment, Transcript, Word

#: (stage, seconds of audio done, seconds of audio in all)
Progress = Callable[[str, float, float], None]

#: the prompt carried into the next window: enough context for names and style, short enough
#: that a bad window cannot drag the next one into the same loop
PROMPT_CHARS = 200


@dataclass(frozen=True)
class TranscribeOptions:
    engine: str = DEFAULT_ENGINE
    model: str = DEFAULT_MODEL
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    #: seconds per window; bounds memory whatever the recording's length
    window_seconds: float = 300.0
    diarize: bool = True
    max_speakers: int = 4
    num_speakers: int | None = None
    #: the speaker label the interview form names as interviewer, if any
    interviewer: str | None = None
    max_hours: float = 4.0
    #: names, companies and products the speakers may say: decoding hints (with VAD on, as
    #: hints echo into silence) and the spellings that near misses are corrected to
    vocabulary: tuple[str, ...] = ()
    #: also give the vocabulary to the decoder (hotwords / prompt). Off: measured on scripted
    #: interviews (bench/interviews.py), tiny.en with the names as hints skipped or garbled
    #: whole stretches of speech (pooled WER 29 % -> 42-47 %), so names are only respelled
    hint_decoding: bool = False

    def identity(self) -> dict[str, object]:
        """What, besides the audio and the model's hash, decides the transcript's content."""
        # vocabulary only when there is one, so that transcripts made without stay as they were
        return {"engine": self.engine, "model": self.model, **self.decode.as_dict(),
                "window_seconds": self.window_seconds, "diarize": self.diarize,
                "max_speakers": self.max_speakers, "num_speakers": self.num_speakers,
                **({"vocabulary": list(self.vocabulary), "hint_decoding": self.hint_decoding}
                   if self.vocabulary else {})}


@dataclass
class RunStats:
    inspect_s: float = 0.0
    transcribe_s: float = 0.0
    speakers_s: float = 0.0
    windows: int = 0
    #: windows decoded again without vocabulary hints (see heard_share)
    rehinted: int = 0


class Transcriber:
    """Loads a model and engine once and transcribes any number of recordings with them."""

    def __init__(self, options: TranscribeOptions | None = None, *,
                 cache_dir: Path | None = None) -> None:
        self.options = options or TranscribeOptions()
        self.cache_dir = cache_dir or default_cache_dir()
        self._model: ResolvedModel | None = None
        self._engine: Engine | None = None
        self.stats = RunStats()
        #: the speaker turns of the last recording transcribed (for measuring diarization)
        self.last_turns: list = []

    @property
    def model(self) -> ResolvedModel:
        if self._model is None:
            self._model = resolve(self.options.model, self.cache_dir)
        return self._model

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = load_engine(self.options.engine, self.model, self.options.decode,
                                       self.cache_dir)
        return self._engine

    def with_options(self, **changes: object) -> Transcriber:
        """A transcriber for one recording's own options (its vocabulary, how many people
        speak) that shares this one's loaded model and engine: those options do not change
        the weights or the decoder."""
        options = replace(self.options, **changes)
        if (options.engine, options.model, options.decode) != (
                self.options.engine, self.options.model, self.options.decode):
            raise ValueError("with_options changes only per-recording options")
        other = Transcriber(options, cache_dir=self.cache_dir)
        other._model, other._engine, other.stats = self.model, self.engine, self.stats
        return other

    def inspect(self, path: Path) -> audio.AudioInfo:
        return audio.inspect(path, max_hours=self.options.max_hours)

    def transcribe(self, path: Path, *, info: audio.AudioInfo | None = None,
                   progress: Progress | None = None) -> Transcript:
        o = self.options
        t0 = time.perf_counter()
        info = info or self.inspect(path)
        self.stats.inspect_s += time.perf_counter() - t0
        engine = self.engine  # load before the clock: a model load is not per-file work
        stereo = info.distinct_channels and o.diarize
        if o.diarize:
            from . import speakers
        diarizer = (speakers.Diarizer(mode="channels" if stereo else "voices",
                                      max_speakers=o.max_speakers, num_speakers=o.num_speakers)
                    if o.diarize else None)
        segments = []
        languages = []
        prompt = None
        if progress:
            progress("transcribing", 0.0, info.duration)
        for offset, window in audio.windows(path, window_seconds=o.window_seconds, stereo=stereo):
            mono = window.mean(axis=1) if window.ndim == 2 else window
            t1 = time.perf_counter()
            hints = o.vocabulary if o.decode.vad and o.hint_decoding else ()
            result = engine.transcribe(mono, offset=offset, prompt=prompt, hints=hints)
            if hints and heard_share(result.segments, mono, offset) < MIN_HEARD_SHARE:
                # the hints made the decoder jump over speech (its first timestamp lands
                # seconds late): this window again without them, spellings still corrected
                self.stats.rehinted += 1
                result = engine.transcribe(mono, offset=offset, prompt=prompt)
            t2 = time.perf_counter()
            if diarizer is not None:
                diarizer.add_window(offset, window)
            t3 = time.perf_counter()
            self.stats.transcribe_s += t2 - t1
            self.stats.speakers_s += t3 - t2
            self.stats.windows += 1
            segments.extend(result.segments)
            end = offset + len(mono) / audio.SAMPLE_RATE
            if result.segments:
                languages.append((offset, end, result.language, result.language_probability))
            text = " ".join(s.text for s in result.segments)
            prompt = text[-PROMPT_CHARS:] if o.decode.condition_on_previous_text and text else None
            if progress:
                progress("transcribing", min(end, info.duration), info.duration)
        roles: dict[str, str] = {}
        if diarizer is not None:
            t4 = time.perf_counter()
            turns = diarizer.turns()
            self.last_turns = turns
            segments = split_at_speaker_changes(segments, turns)
            roles = speakers.roles(turns, o.interviewer)
            self.stats.speakers_s += time.perf_counter() - t4
        main_language = _main_language(languages)
        transcript = Transcript(
            segments=tuple(segments), duration=round(info.duration, 3),
            language=main_language[0] if main_language else o.decode.language,
            language_probability=main_language[1] if main_language else None,
            engine=engine.name, model=self.model.name, model_sha256=self.model.sha256,
            options=o.identity(), roles=roles, source_sha256=info.sha256)
        transcript = vocabulary.correct(transcript, o.vocabulary,
                                        hinted=o.decode.vad and o.hint_decoding,
                                        second_levels_dbfs=info.second_levels_dbfs)
        report = quality.check(transcript, info.second_levels_dbfs,
                               expected_language=o.decode.language, languages=languages,
                               multilingual=self.model.multilingual)
        if progress:
            progress("done", info.duration, info.duration)
        return transcript.with_quality(report)


#: a hinted window whose segments cover less than this share of its loud seconds is decoded
#: again without hints (tiny.en skipped 40-90 % of a 30 s interview with the names as hints)
MIN_HEARD_SHARE = 0.8
_LOUD_DBFS = -40.0


def heard_share(segments: tuple[Segment, ...] | list[Segment], mono, offset: float) -> float:
    """The share of a window's loud seconds (RMS above -40 dBFS) that some segment covers."""
    import numpy as np

    n = len(mono) // audio.SAMPLE_RATE
    if n == 0:
        return 1.0
    x = np.asarray(mono[: n * audio.SAMPLE_RATE], dtype=np.float64).reshape(n, -1)
    loud = np.flatnonzero(10 * np.log10(np.mean(x ** 2, axis=1) + 1e-12) > _LOUD_DBFS)
    if not len(loud):
        return 1.0
    covered = sum(1 for sec in loud.tolist()
                  if any(s.start - 1.0 <= offset + sec + 0.5 <= s.end + 1.0 for s in segments))
    return covered / len(loud)


def _main_language(languages: list[tuple[float, float, str | None, float | None]],
                   ) -> tuple[str, float | None] | None:
    """The language of most of the recording's windows, by duration."""
    by_lang: dict[str, float] = {}
    prob: dict[str, float | None] = {}
    for start, end, lang, p in languages:
        if lang:
            by_lang[lang] = by_lang.get(lang, 0.0) + end - start
            prob.setdefault(lang, p)
    if not by_lang:
        return None
    lang = max(by_lang, key=by_lang.__getitem__)
    return lang, prob[lang]


def split_at_speaker_changes(segments: list[Segment], turns: list) -> list[Segment]:
    """Label each segment with its speaker; a segment whose words span a change of speaker
    (Whisper happily runs a question and its answer together) is split at the change, using
    the word timings, so that each speaker turn becomes its own paragraph."""
    from .speakers import assign_speakers

    out: list[Segment] = []
    for seg in segments:
        if len(seg.words) < 2:
            [label] = assign_speakers([(seg.start, seg.end)], turns)
            out.append(replace(seg, speaker=label))
            continue
        labels = assign_speakers([(w.start, w.end) for w in seg.words], turns)
        groups: list[tuple[str | None, list[Word]]] = []
        for word, label in zip(seg.words, labels, strict=True):
            if groups and (groups[-1][0] == label or label is None):
                groups[-1][1].append(word)
            else:
                groups.append((label, [word]))
        # a lone word flipping speaker is more likely a timing wobble than a turn
        merged: list[tuple[str | None, list[Word]]] = []
        for label, words in groups:
            if merged and (len(words) == 1 or merged[-1][0] is None):
                merged[-1] = (merged[-1][0] or label, merged[-1][1] + words)
            else:
                merged.append((label, words))
        if len(merged) == 1:
            out.append(replace(seg, speaker=merged[0][0]))
            continue
        for label, words in _at_sentence_ends(merged):
            out.append(replace(seg, start=words[0].start, end=words[-1].end, words=tuple(words),
                               text=_join_words(words), speaker=label))
    return out


#: a change of speaker this many words from a sentence's end moves to it
SNAP_WORDS = 3


def _at_sentence_ends(groups: list[tuple[str | None, list[Word]]],
                      ) -> list[tuple[str | None, list[Word]]]:
    """Speaker changes moved to the nearest sentence end within SNAP_WORDS words: people take
    turns at the end of a sentence, while a voice change found from 1.6 s embeddings lands a
    word or two off ("...based on what? The market" is the answer's first words)."""
    words = [w for _, ws in groups for w in ws]
    labels = [label for label, ws in groups for _ in ws]
    cuts = list(itertools.accumulate(len(ws) for _, ws in groups))[:-1]
    for n, cut in enumerate(cuts):
        lo = cuts[n - 1] + 1 if n else 1
        hi = cuts[n + 1] - 1 if n + 1 < len(cuts) else len(words) - 1
        ends = [i + 1 for i in range(max(lo - 1, cut - SNAP_WORDS - 1),
                                     min(hi, cut + SNAP_WORDS))
                if words[i].text.rstrip().endswith((".", "?", "!")) and lo <= i + 1 <= hi]
        if ends and cut not in ends:
            best = min(ends, key=lambda e: (abs(e - cut), e))
            a, b = sorted((cut, best))
            labels[a:b] = [labels[cut - 1] if best > cut else labels[cut]] * (b - a)
            cuts[n] = best
    out: list[tuple[str | None, list[Word]]] = []
    for label, word in zip(labels, words, strict=True):
        if out and out[-1][0] == label:
            out[-1][1].append(word)
        else:
            out.append((label, [word]))
    return out


def _join_words(words: list[Word]) -> str:
    # Whisper's word texts carry their own punctuation; they are joined with single spaces
    return " ".join(w.text for w in words).strip()
