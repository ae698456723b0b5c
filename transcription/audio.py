"""Decode any recording (m4a, mp3, wav, flac, ogg/opus, webm, ...) to 16 kHz float32, in windows.

pydub's ffprobe wrapper reads the container; ffmpeg decodes straight into a pipe that is read a
few seconds at a time, so a 2-hour interview never sits in memory whole. ``inspect`` makes one
cheap pass over the file first (decoding is ~100x faster than transcribing) to refuse bad input
before any model time is spent: empty, not audio, corrupt, truncated, silent, too long.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import (
    AudioToolMissingError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    SilentAudioError,
    TooLongAudioError,
    TruncatedAudioError,
)
from .models import sha256_file

SAMPLE_RATE = 16_000
AUDIO_EXTENSIONS = (".m4a", ".mp3", ".wav", ".flac", ".ogg", ".opus", ".webm", ".aac", ".mp4")

#: a recording whose loudest second is quieter than this holds nothing to transcribe
SILENCE_DBFS = -50.0
#: decoded audio may fall short of the container's declared length by this much (encoder
#: padding, rounding) before the file counts as truncated
TRUNCATION_TOLERANCE_S = 0.5
TRUNCATION_TOLERANCE_RATIO = 0.02

_FFMPEG_FIX = "Install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg)."


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AudioToolMissingError(f"{name} is not on PATH; outtask decodes audio with it.",
                                    fix=_FFMPEG_FIX)
    return path


@dataclass(frozen=True)
class AudioInfo:
    """What one pass over a recording found. Levels are per-second RMS in dBFS of the mono mix."""

    path: Path
    sha256: str
    size_bytes: int
    format_name: str
    codec: str
    source_sample_rate: int
    channels: int
    declared_duration: float | None
    duration: float
    second_levels_dbfs: tuple[float, ...] = field(repr=False)
    distinct_channels: bool = False

    @property
    def loudest_dbfs(self) -> float:
        return max(self.second_levels_dbfs, default=-math.inf)


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def probe(path: Path) -> dict:
    """ffprobe's view of the container's first audio stream (via pydub). Refuses empty and
    non-audio files with a typed error."""
    from pydub.utils import mediainfo_json

    path = Path(path)
    if not path.is_file():
        raise NotAudioError(f"{path} does not exist or is not a file.",
                            fix="Check the path and try again.", path=path)
    size = path.stat().st_size
    if size == 0:
        raise EmptyAudioError(f"{path.name} is empty (0 bytes).",
                              fix="The upload did not finish: upload the recording again.",
                              path=path)
    _tool("ffprobe")
    try:
        info = mediainfo_json(str(path))
    except (json.JSONDecodeError, OSError):
        info = {}
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        with open(path, "rb") as f:
            head = f.read(4096)
        if not info.get("streams") and not _looks_like_text(head):
            raise CorruptAudioError(
                f"{path.name} does not decode as audio: its container is unreadable (damaged, "
                "cut off, or not a recording).",
                fix="Export the recording again from the recorder and re-upload the whole file.",
                path=path)
        what = ("is a text file" if _looks_like_text(head)
                else "has no audio stream (a video or document?)")
        raise NotAudioError(f"{path.name} {what}: it is not an audio recording.",
                            fix="Upload the interview's audio file (m4a, mp3, wav, flac, ogg, "
                            "opus, webm).", path=path)
    return {"format": info.get("format", {}), "stream": streams[0]}


def _wav_declared_duration(path: Path) -> float | None:
    """The length a RIFF/WAVE header promises (its data chunk's size), which ffprobe does not
    report: it estimates a WAV's duration from the file size, hiding a cut-off upload."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        cid, size = head[pos:pos + 4], int.from_bytes(head[pos + 4:pos + 8], "little")
        if cid == b"fmt " and pos + 16 <= len(head):
            byte_rate = int.from_bytes(head[pos + 16:pos + 20], "little")
        elif cid == b"data":
            # 0 and 0xFFFFFFFF mark a streamed WAV whose writer never knew the length
            if byte_rate <= 0 or size in (0, 0xFFFFFFFF):
                return None
            return size / byte_rate
        pos += 8 + size + (size & 1)
    return None


def _declared_duration(meta: dict, path: Path) -> float | None:
    if "wav" in str(meta["format"].get("format_name", "")):
        wav = _wav_declared_duration(path)
        if wav is not None:
            return wav
    for src in (meta["stream"], meta["format"]):
        try:
            value = float(src.get("duration"))
        except (TypeError, ValueError):
            continue
        if value > 0 and math.isfinite(value):
            return value
    return None


def _decoder(path: Path, channels: int, start: float = 0.0) -> subprocess.Popen:
    cmd = [_tool("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error"]
    if start > 0:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-i", str(path), "-map", "0:a:0", "-vn", "-ac", str(channels), "-ar", str(SAMPLE_RATE),
            "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stream(path: Path, *, channels: int = 1, chunk_seconds: float = 10.0) -> Iterator[np.ndarray]:
    """Decoded float32 samples in chunks: shape (n,) for mono, (n, 2) for stereo."""
    proc = _decoder(Path(path), channels)
    frame_bytes = 4 * channels
    chunk_bytes = int(chunk_seconds * SAMPLE_RATE) * frame_bytes
    assert proc.stdout is not None and proc.stderr is not None
    pending = b""
    try:
        while True:
            data = proc.stdout.read(chunk_bytes)
            if not data:
                break
            data, pending = pending + data, b""
            usable = len(data) - len(data) % frame_bytes
            data, pending = data[:usable], data[usable:]
            samples = np.frombuffer(data, dtype=np.float32)
            yield samples.reshape(-1, channels) if channels > 1 else samples
    finally:
        proc.stdout.close()
        stderr = proc.stderr.read().decode("utf-8", "replace").strip()
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        last = stderr.splitlines()[-1] if stderr else f"ffmpeg exited {code}"
        raise CorruptAudioError(f"{Path(path).name} could not be decoded: {last}",
                                fix="The file is damaged: export it again from the recorder and "
                                "re-upload it.", path=path)


def inspect(path: Path, *, max_hours: float = 4.0) -> AudioInfo:
    """One pass over the recording: refuse it with a typed error if it cannot be transcribed."""
    path = Path(path)
    meta = probe(path)
    declared = _declared_duration(meta, path)
    limit_s = max_hours * 3600
    too_long = TooLongAudioError(
        f"{path.name} is longer than the {max_hours:g}-hour limit"
        + (f" ({declared / 3600:.1f} h)." if declared else "."),
        fix="Split the recording into parts, or raise OUTTASK_MAX_AUDIO_HOURS.", path=path)
    if declared is not None and declared > limit_s:
        raise too_long
    src_channels = int(meta["stream"].get("channels") or 1)
    channels = 2 if src_channels >= 2 else 1
    from .speakers import ChannelSimilarity

    stats = ChannelSimilarity()
    levels: list[float] = []
    carry = np.zeros(0, dtype=np.float32)
    decoded = 0
    for chunk in stream(path, channels=channels, chunk_seconds=30.0):
        decoded += len(chunk)
        if decoded > limit_s * SAMPLE_RATE:
            raise too_long
        if channels == 2:
            stats.add(chunk)
            mono = chunk.mean(axis=1)
        else:
            mono = chunk
        carry = np.concatenate([carry, mono])
        whole = len(carry) - len(carry) % SAMPLE_RATE
        levels.extend(_dbfs(carry[:whole].reshape(-1, SAMPLE_RATE)))
        carry = carry[whole:]
    if len(carry):
        levels.extend(_dbfs(carry.reshape(1, -1)))
    duration = decoded / SAMPLE_RATE
    if decoded == 0:
        raise CorruptAudioError(f"{path.name} holds no decodable audio.",
                                fix="The file is damaged: export it again from the recorder and "
                                "re-upload it.", path=path)
    if declared is not None and duration < declared * (1 - TRUNCATION_TOLERANCE_RATIO) - (
            TRUNCATION_TOLERANCE_S):
        raise TruncatedAudioError(
            f"{path.name} is truncated: it declares {declared:.1f} s but only {duration:.1f} s "
            "decode.", fix="The upload or copy was cut off: upload the complete file again.",
            path=path)
    info = AudioInfo(
        path=path, sha256=sha256_file(path), size_bytes=path.stat().st_size,
        format_name=str(meta["format"].get("format_name", "")),
        codec=str(meta["stream"].get("codec_name", "")),
        source_sample_rate=int(meta["stream"].get("sample_rate") or 0),
        channels=src_channels, declared_duration=declared, duration=duration,
        second_levels_dbfs=tuple(levels), distinct_channels=channels == 2 and stats.distinct)
    if info.loudest_dbfs < SILENCE_DBFS:
        raise SilentAudioError(
            f"{path.name} is silent: its loudest second is {info.loudest_dbfs:.0f} dBFS.",
            fix="Check that the microphone was on and that this is the right file.", path=path)
    return info


def _dbfs(frames: np.ndarray) -> list[float]:
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    with np.errstate(divide="ignore"):
        return [round(float(x), 2) for x in 20 * np.log10(np.maximum(rms, 1e-10))]


def windows(path: Path, *, window_seconds: float = 300.0, search_seconds: float = 20.0,
            stereo: bool = False) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(offset_seconds, samples)`` windows of about ``window_seconds``, each cut at the
    quietest 100 ms within the last ``search_seconds`` so that a cut rarely splits a word."""
    channels = 2 if stereo else 1
    target = int(window_seconds * SAMPLE_RATE)
    search = int(min(search_seconds, window_seconds / 2) * SAMPLE_RATE)
    buffer: list[np.ndarray] = []
    buffered = 0
    offset = 0
    for chunk in stream(path, channels=channels):
        buffer.append(chunk)
        buffered += len(chunk)
        while buffered >= target + search:
            audio = np.concatenate(buffer)
            cut = _quiet_cut(audio, target - search, target + search)
            yield offset / SAMPLE_RATE, audio[:cut]
            offset += cut
            buffer, buffered = [audio[cut:]], len(audio) - cut
    if buffered:
        yield offset / SAMPLE_RATE, np.concatenate(buffer)


def _quiet_cut(audio: np.ndarray, lo: int, hi: int) -> int:
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    frame = SAMPLE_RATE // 10
    region = mono[lo:hi]
    n = len(region) // frame
    energy = np.square(region[: n * frame].reshape(n, frame), dtype=np.float64).mean(axis=1)
    return lo + int(np.argmin(energy)) * frame + frame // 2


def decode(path: Path, *, stereo: bool = False) -> np.ndarray:
    """The whole recording at once: for short clips and tests only."""
    parts = list(stream(path, channels=2 if stereo else 1))
    if not parts:
        return np.zeros((0, 2) if stereo else 0, dtype=np.float32)
    return np.concatenate(parts)
