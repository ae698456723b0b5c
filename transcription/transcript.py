"""Transcript value types and their writers (txt, srt, vtt, json).

Times are seconds from the start of the recording (floats). ``to_json``/``from_json`` round-trip
losslessly: ``Transcript.from_json(t.to_json()) == t``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

FORMATS = ("txt", "json", "srt", "vtt")
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: tuple[Word, ...] = ()
    speaker: str | None = None
    compression_ratio: float = 0.0


@dataclass(frozen=True)
class QualityFlag:
    """One reason a transcript needs a human look, with where in the recording it is."""

    kind: str  # repetition | no-words | low-confidence | language
    reason: str
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class QualityReport:
    flags: tuple[QualityFlag, ...] = ()
    checked: tuple[str, ...] = ()

    @property
    def needs_review(self) -> bool:
        return bool(self.flags)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.kind for f in self.flags))


@dataclass(frozen=True)
class Answer:
    """Where the interviewee answered one of the engagement's questions.

    ``method``: ``form`` (the interview form names the span), ``asked`` (found where the
    interviewer asked it), or ``none`` (not answered in this interview: no times)."""

    question: str
    start: float | None
    end: float | None
    speaker: str | None = None
    method: str = "none"
    confidence: float = 0.0
    #: when the interviewer asked it, and in which words (as transcribed)
    asked_at: float | None = None
    asked: str | None = None


@dataclass(frozen=True)
class Transcript:
    segments: tuple[Segment, ...]
    duration: float
    language: str | None = None
    language_probability: float | None = None
    engine: str = ""
    model: str = ""
    model_sha256: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    #: speaker label -> role ("interviewer" / "interviewee"), when known
    roles: dict[str, str] = field(default_factory=dict)
    quality: QualityReport = field(default_factory=QualityReport)
    source_sha256: str = ""
    #: per engagement question, where it was answered (deck_builder.answers)
    answers: tuple[Answer, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.speaker for s in self.segments if s.speaker))

    def with_quality(self, report: QualityReport) -> Transcript:
        return replace(self, quality=report)

    def with_answers(self, answers: Iterable[Answer], roles: dict[str, str] | None = None,
                     ) -> Transcript:
        return replace(self, answers=tuple(answers),
                       roles=self.roles if roles is None else dict(roles))

    # -- json ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["schema"] = SCHEMA_VERSION
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        segments = tuple(
            Segment(
                **{k: v for k, v in s.items() if k != "words"},
                words=tuple(Word(**w) for w in s.get("words", ())),
            )
            for s in d["segments"]
        )
        q = d.get("quality") or {}
        quality = QualityReport(
            flags=tuple(QualityFlag(**f) for f in q.get("flags", ())),
            checked=tuple(q.get("checked", ())),
        )
        return cls(
            segments=segments,
            duration=d["duration"],
            language=d.get("language"),
            language_probability=d.get("language_probability"),
            engine=d.get("engine", ""),
            model=d.get("model", ""),
            model_sha256=d.get("model_sha256", ""),
            options=d.get("options", {}),
            roles=d.get("roles", {}),
            quality=quality,
            source_sha256=d.get("source_sha256", ""),
            answers=tuple(Answer(**a) for a in d.get("answers", ())),
        )

    @classmethod
    def from_json(cls, text: str) -> Transcript:
        return cls.from_dict(json.loads(text))


# -- writers -------------------------------------------------------------------------------


def speaker_turns(segments: Iterable[Segment]) -> list[tuple[str | None, list[Segment]]]:
    """Group consecutive segments of the same speaker into turns."""
    turns: list[tuple[str | None, list[Segment]]] = []
    for seg in segments:
        if not seg.text.strip():
            continue
        if turns and turns[-1][0] == seg.speaker:
            turns[-1][1].append(seg)
        else:
            turns.append((seg.speaker, [seg]))
    return turns


def to_txt(t: Transcript) -> str:
    """Spoken words only: one paragraph per speaker turn, no labels, no times."""
    paragraphs = [" ".join(s.text.strip() for s in segs) for _, segs in speaker_turns(t.segments)]
    return "\n\n".join(paragraphs) + ("\n" if paragraphs else "")


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cues(t: Transcript) -> Sequence[Segment]:
    return [s for s in t.segments if s.text.strip()]


def to_srt(t: Transcript) -> str:
    blocks = []
    for i, s in enumerate(_cues(t), 1):
        label = f"[{s.speaker}] " if s.speaker else ""
        blocks.append(
            f"{i}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{label}{s.text.strip()}\n"
        )
    return "\n".join(blocks)


def to_vtt(t: Transcript) -> str:
    lines = ["WEBVTT", ""]
    for s in _cues(t):
        lines.append(f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}")
        text = s.text.strip()
        lines.append(f"<v {s.speaker}>{text}" if s.speaker else text)
        lines.append("")
    return "\n".join(lines)


WRITERS = {"txt": to_txt, "json": Transcript.to_json, "srt": to_srt, "vtt": to_vtt}


def render(t: Transcript, fmt: str) -> str:
    try:
        return WRITERS[fmt](t)
    except KeyError:
        raise ValueError(
            f"unknown transcript format {fmt!r}; choose from {', '.join(FORMATS)}") from None


def write_files(t: Transcript, out_dir: Path, stem: str, formats: Sequence[str]) -> dict[str, Path]:
    """Write ``<stem>.<fmt>`` for each format into ``out_dir``. Outputs never overwrite another
    recording's: when ``<stem>.json`` exists for different audio, ``-<sha8>`` is added to the stem.
    Rewriting the same recording's files is allowed (a re-run)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    existing = out_dir / f"{stem}.json"
    if t.source_sha256 and existing.is_file():
        try:
            other = json.loads(existing.read_text()).get("source_sha256")
        except (OSError, ValueError):
            other = None
        if other and other != t.source_sha256:
            stem = f"{stem}-{t.source_sha256[:8]}"
    written = {}
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(render(t, fmt), encoding="utf-8")
        tmp.replace(path)  # atomic: a reader never sees half a transcript
        written[fmt] = path
    return written
