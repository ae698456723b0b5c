"""Speech engines behind one small protocol: a window of 16 kHz mono float32 in, segments out.

``faster-whisper`` (CTranslate2, int8 on CPU) is the default; ``openai-whisper`` (PyTorch) runs the
very same weights, converted once by :mod:`transcription.engines.ct2_convert`. Both apply the
same Silero VAD, so they see the same speech.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import UnknownModelError
from ..models import ResolvedModel
from ..transcript import Segment

ENGINES = ("faster-whisper", "openai-whisper")
DEFAULT_ENGINE = "faster-whisper"
#: the seed of the temperature fallback's sampling (a window that decodes badly at temperature
#: 0 is decoded again by sampling): seeded, the same recording gives the same transcript
SAMPLING_SEED = 0


@dataclass(frozen=True)
class DecodeOptions:
    """Decoding settings. Part of a transcript's identity: change one and it is redone."""

    beam_size: int = 5
    vad: bool = True
    #: the language the interview is expected to be in; multilingual models still detect it
    language: str = "en"
    word_timestamps: bool = True
    condition_on_previous_text: bool = True
    threads: int = 2

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d.pop("threads")  # changes speed, not the result
        return d


@dataclass(frozen=True)
class WindowResult:
    segments: tuple[Segment, ...]
    language: str | None
    language_probability: float | None


class Engine(Protocol):
    name: str
    model: ResolvedModel

    def transcribe(self, samples: np.ndarray, *, offset: float = 0.0,
                   prompt: str | None = None, hints: Sequence[str] = ()) -> WindowResult:
        """Transcribe one window; times in the result are ``offset`` + time in the window.
        ``hints``: names and terms the speakers may say (the engagement's vocabulary)."""
        ...


def load_engine(name: str, model: ResolvedModel, options: DecodeOptions,
                cache_dir: Path) -> Engine:
    if name == "faster-whisper":
        from .faster import FasterWhisperEngine

        return FasterWhisperEngine(model, options)
    if name == "openai-whisper":
        from .openai import OpenAIWhisperEngine

        return OpenAIWhisperEngine(model, options, cache_dir)
    raise UnknownModelError(f"unknown engine {name!r}.",
                            fix=f"Choose one of: {', '.join(ENGINES)}.")


def speech_chunks(samples: np.ndarray) -> list[dict[str, int]]:
    """Silero VAD speech regions (sample indices), exactly as faster-whisper computes them."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return get_speech_timestamps(samples, VadOptions())


__all__ = ["DEFAULT_ENGINE", "ENGINES", "SAMPLING_SEED", "DecodeOptions", "Engine", "WindowResult",
           "load_engine", "speech_chunks"]
