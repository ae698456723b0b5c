"""faster-whisper: CTranslate2 with int8 weights on the CPU."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..models import ResolvedModel
from ..transcript import Segment, Word
from ..vocabulary import glossary
from . import SAMPLING_SEED, DecodeOptions, WindowResult


def _t(offset: float, t: float) -> float:
    return round(float(offset + t), 3)


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(self, model: ResolvedModel, options: DecodeOptions,
                 compute_type: str = "int8") -> None:
        import ctranslate2
        from faster_whisper import WhisperModel

        self.model = model
        self.options = options
        self.compute_type = compute_type
        # CTranslate2 seeds each thread's generator once, from this global seed, when that
        # thread first samples; the model samples on its own worker thread, which no later
        # set_random_seed reaches. So the seed is per engine, not per call: a fresh engine
        # (a worker's flow run has one) samples the same for the same recordings in order.
        ctranslate2.set_random_seed(SAMPLING_SEED)
        self._whisper = WhisperModel(str(model.path), device="cpu", compute_type=compute_type,
                                     cpu_threads=options.threads, num_workers=1)

    def transcribe(self, samples: np.ndarray, *, offset: float = 0.0,
                   prompt: str | None = None, hints: Sequence[str] = ()) -> WindowResult:
        o = self.options
        segments, info = self._whisper.transcribe(
            samples,
            beam_size=o.beam_size,
            # an English-only model cannot detect; a multilingual one detects, so that a
            # recording in another language is flagged rather than forced into English
            language=None if self.model.multilingual else o.language,
            vad_filter=o.vad,
            word_timestamps=o.word_timestamps,
            condition_on_previous_text=o.condition_on_previous_text,
            initial_prompt=prompt,
            # prepended to every 30-second decode, unlike the prompt, which is carried once
            hotwords=glossary(hints),
        )
        out = tuple(
            Segment(
                start=_t(offset, s.start), end=_t(offset, s.end), text=s.text.strip(),
                avg_logprob=float(s.avg_logprob), no_speech_prob=float(s.no_speech_prob),
                compression_ratio=float(s.compression_ratio),
                words=tuple(Word(_t(offset, w.start), _t(offset, w.end),
                                 w.word.strip(), float(w.probability)) for w in (s.words or ())),
            )
            for s in segments
            if s.text.strip()
        )
        detected = self.model.multilingual
        return WindowResult(out, info.language,
                            float(info.language_probability) if detected else None)
