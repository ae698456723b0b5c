"""Errors of the transcription package.

Every error says what failed, for which input, and what to do next (``fix``). Input errors
(:class:`AudioInputError`) mean the recording itself was refused: callers quarantine it.
The other errors are outtask's own problem (missing model, missing engine): callers mark
the work failed and retry it later.
"""

from __future__ import annotations

from pathlib import Path


class TranscriptionError(Exception):
    """Base class of every error raised by :mod:`transcription`."""

    #: machine-readable kind, stable across versions (used in reason files and --json)
    code = "transcription-error"

    def __init__(self, message: str, *, fix: str = "", path: Path | str | None = None) -> None:
        self.message = message
        self.fix = fix
        self.path = str(path) if path is not None else None
        super().__init__(f"{message} {fix}".strip())

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "fix": self.fix, "path": self.path}


class AudioInputError(TranscriptionError):
    """The recording was refused: it is not usable audio. Quarantine it, never delete it."""

    code = "bad-audio"


class EmptyAudioError(AudioInputError):
    code = "empty"


class NotAudioError(AudioInputError):
    code = "not-audio"


class CorruptAudioError(AudioInputError):
    code = "corrupt"


class TruncatedAudioError(AudioInputError):
    code = "truncated"


class SilentAudioError(AudioInputError):
    code = "silent"


class TooLongAudioError(AudioInputError):
    code = "too-long"


class AudioToolMissingError(TranscriptionError):
    """ffmpeg/ffprobe is not installed."""

    code = "ffmpeg-missing"


class ModelError(TranscriptionError):
    """A speech model cannot be used."""

    code = "model-error"


class UnknownModelError(ModelError):
    code = "unknown-model"


class ModelMissingError(ModelError):
    code = "model-missing"


class ModelCorruptError(ModelError):
    code = "model-corrupt"


class EngineUnavailableError(TranscriptionError):
    """An engine's optional library (openai-whisper, resemblyzer) is not installed."""

    code = "engine-unavailable"
