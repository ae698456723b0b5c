"""openai-whisper (PyTorch, CPU) on the same weights as faster-whisper.

The CTranslate2 model is converted once into an openai-whisper checkpoint in the model cache.
Silence is removed with the same Silero VAD that faster-whisper uses and timestamps are mapped
back, so both engines decode the same speech and differ only in the inference runtime.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE
from ..models import ResolvedModel
from ..transcript import Segment, Word
from ..vocabulary import glossary
from . import SAMPLING_SEED, DecodeOptions, WindowResult, speech_chunks


class OpenAIWhisperEngine:
    name = "openai-whisper"

    def __init__(self, model: ResolvedModel, options: DecodeOptions, cache_dir: Path) -> None:
        import torch

        from .ct2_convert import load_openai_model

        torch.set_num_threads(options.threads)
        self.model = model
        self.options = options
        self._whisper = load_openai_model(model.path, model.sha256, cache_dir, model.name,
                                          threads=options.threads)

    def _detect(self, samples: np.ndarray) -> tuple[str, float]:
        import whisper

        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(samples),
                                          self._whisper.dims.n_mels)
        _, probs = self._whisper.detect_language(mel)
        language = max(probs, key=probs.get)
        return language, float(probs[language])

    def transcribe(self, samples: np.ndarray, *, offset: float = 0.0,
                   prompt: str | None = None, hints: Sequence[str] = ()) -> WindowResult:
        import torch
        from faster_whisper.vad import SpeechTimestampsMap

        o = self.options
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        ts_map = None
        if o.vad:
            chunks = speech_chunks(samples)
            if not chunks:
                return WindowResult((), None, None)
            ts_map = SpeechTimestampsMap(chunks, SAMPLE_RATE)
            samples = np.concatenate([samples[c["start"]:c["end"]] for c in chunks])
        language, probability = (self._detect(samples) if self.model.multilingual
                                 else (o.language, None))
        # the hints lead the prompt and, as faster-whisper's hotwords do, every 30-second decode
        names = glossary(hints)
        if names:
            prompt = f"{names} {prompt}" if prompt else names
        # the temperature fallback samples from torch's global generator: seeded per call, in
        # a fork of it, so that a window decodes the same every time and the caller's
        # generator is left as it was
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SAMPLING_SEED)
            result = self._whisper.transcribe(
                samples, language=language, beam_size=o.beam_size, best_of=o.beam_size,
                fp16=False, word_timestamps=o.word_timestamps, initial_prompt=prompt,
                carry_initial_prompt=bool(names),
                condition_on_previous_text=o.condition_on_previous_text, verbose=None,
            )

        def restore(t: float, chunk: int | None = None, is_end: bool = False) -> float:
            if ts_map is not None:
                t = ts_map.get_original_time(t, chunk, is_end)
            return round(float(offset + t), 3)

        out = []
        for s in result["segments"]:
            if not s["text"].strip():
                continue  # an empty decode at a window's end carries nothing
            words = []
            for w in s.get("words") or ():
                # resolve both ends of a word in the chunk of its middle, as faster-whisper does
                chunk = ts_map.get_chunk_index((w["start"] + w["end"]) / 2) if ts_map else None
                words.append(Word(restore(w["start"], chunk), restore(w["end"], chunk),
                                  w["word"].strip(), float(w["probability"])))
            start = words[0].start if words else restore(s["start"])
            end = words[-1].end if words else restore(s["end"], is_end=True)
            out.append(Segment(start=start, end=end, text=s["text"].strip(),
                               avg_logprob=float(s["avg_logprob"]),
                               no_speech_prob=float(s["no_speech_prob"]),
                               compression_ratio=float(s["compression_ratio"]),
                               words=tuple(words)))
        return WindowResult(tuple(out), language, probability)
