"""Decoding every input format a consultant may upload, and refusing every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import ffmpeg, wer
from transcription import audio
from transcription.errors import (
    AudioInputError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    SilentAudioError,
    TooLongAudioError,
    TruncatedAudioError,
)

# (file name, ffmpeg output options): what phones, recorders and meeting tools produce
FORMATS = {
    "voice-memo.m4a": ["-ac", "1", "-ar", "48000", "-c:a", "aac", "-b:a", "64k"],
    "recorder.mp3": ["-ar", "44100", "-c:a", "libmp3lame", "-b:a", "96k"],
    "phone-8k.wav": ["-ac", "1", "-ar", "8000", "-c:a", "pcm_s16le"],
    "studio-48k-24bit-stereo.wav": ["-ac", "2", "-ar", "48000", "-c:a", "pcm_s24le"],
    "float-32bit.wav": ["-ar", "22050", "-c:a", "pcm_f32le"],
    "archive.flac": ["-ar", "16000", "-c:a", "flac"],
    "whatsapp.ogg": ["-ar", "48000", "-c:a", "libopus", "-b:a", "32k"],
    "teams.opus": ["-ar", "48000", "-c:a", "libopus"],
    "browser.webm": ["-ar", "48000", "-c:a", "libopus"],
    "video-call.mp4": ["-ar", "44100", "-c:a", "aac"],
    "vorbis.ogg": ["-ar", "44100", "-c:a", "libvorbis"],
}


@pytest.fixture(scope="module")
def formats(audio_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("formats")
    made = {}
    for name, opts in FORMATS.items():
        ffmpeg("-i", str(audio_dir / "jfk.flac"), *opts, str(d / name))
        made[name] = d / name
    return made


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_decodes_to_16k_mono(formats, name):
    info = audio.inspect(formats[name])
    assert info.duration == pytest.approx(11.0, abs=0.1)
    assert info.channels in (1, 2)
    assert not info.distinct_channels  # jfk is a mono recording, whatever the container
    samples = audio.decode(formats[name])
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) == pytest.approx(11.0 * audio.SAMPLE_RATE, abs=0.1 * audio.SAMPLE_RATE)
    assert -40 < info.loudest_dbfs < 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["voice-memo.m4a", "phone-8k.wav", "whatsapp.ogg",
                                  "browser.webm", "studio-48k-24bit-stereo.wav"])
def test_every_format_transcribes(formats, name, tiny, audio_dir):
    t = tiny.transcribe(formats[name])
    assert wer((audio_dir / "jfk.txt").read_text(), t.text) <= 0.10


def test_mono_stored_as_stereo_is_not_split(audio_dir):
    info = audio.inspect(audio_dir / "jfk.flac")
    assert info.channels == 2 and not info.distinct_channels


def test_one_voice_per_channel_is_detected(audio_dir, tmp_path):
    out = tmp_path / "two-mics.wav"
    ffmpeg("-i", str(audio_dir / "jfk.flac"), "-i",
           str(audio_dir / "librispeech" / "1089-134686-0000.flac"), "-filter_complex",
           "[0:a]pan=mono|c0=c0,aformat=fltp:16000:mono[l];"
           "[1:a]aformat=fltp:16000:mono,adelay=2000[r];"
           "[l][r]amerge=inputs=2", "-ac", "2", str(out))
    assert audio.inspect(out).distinct_channels


# -- bad input: each gets its own error, a message that says what to do, and the file stays --

def _make_bad(kind, d, audio_dir):
    jfk = audio_dir / "jfk.flac"
    if kind == "empty":
        p = d / "empty.m4a"
        p.write_bytes(b"")
    elif kind == "text":
        p = d / "notes.mp3"
        p.write_text("not audio at all\n")
    elif kind == "random":
        p = d / "garbage.m4a"
        p.write_bytes(np.random.default_rng(1).bytes(30_000))
    elif kind == "pdf":
        p = d / "agenda.wav"
        p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 20)
    elif kind in ("truncated.flac", "truncated.wav", "truncated.mp3"):
        ext = kind.split(".")[1]
        full = d / f"full.{ext}"
        ffmpeg("-i", str(jfk), str(full))
        p = d / kind
        p.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    elif kind == "silent":
        p = d / "silent.m4a"
        ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "8", "-c:a", "aac", str(p))
    elif kind == "video-only":
        p = d / "screen.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "1", str(p))
    return p


@pytest.mark.parametrize("kind,error,words", [
    ("empty", EmptyAudioError, "empty"),
    ("text", NotAudioError, "text file"),
    ("random", CorruptAudioError, "does not decode"),
    ("pdf", CorruptAudioError, "does not decode"),
    ("truncated.flac", TruncatedAudioError, "truncated"),
    ("truncated.wav", TruncatedAudioError, "truncated"),
    ("truncated.mp3", TruncatedAudioError, "truncated"),
    ("silent", SilentAudioError, "silent"),
    ("video-only", NotAudioError, "no audio"),
])
def test_bad_input_is_refused_with_a_fix(kind, error, words, tmp_path, audio_dir):
    p = _make_bad(kind, tmp_path, audio_dir)
    before = p.read_bytes()
    with pytest.raises(error) as e:
        audio.inspect(p)
    assert isinstance(e.value, AudioInputError)
    assert words in e.value.message and p.name in e.value.message
    assert e.value.fix  # says what to do next
    assert p.read_bytes() == before  # nothing is lost


def test_too_long_is_refused_before_decoding(audio_dir):
    with pytest.raises(TooLongAudioError) as e:
        audio.inspect(audio_dir / "jfk.flac", max_hours=10 / 3600)  # a 10-second limit
    assert "OUTTASK_MAX_AUDIO_HOURS" in e.value.fix


def test_too_long_without_declared_length_stops_while_decoding(audio_dir, tmp_path):
    # a raw ADTS AAC stream declares no duration: the limit must hold while decoding
    p = tmp_path / "stream.aac"
    ffmpeg("-i", str(audio_dir / "jfk.flac"), "-c:a", "aac", "-f", "adts", str(p))
    with pytest.raises(TooLongAudioError):
        audio.inspect(p, max_hours=5 / 3600)


# -- windows ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def long_file(audio_dir, tmp_path_factory):
    """~70 s of real speech: the call, the JFK clip and LibriSpeech clips, back to back."""
    d = tmp_path_factory.mktemp("long")
    files = [audio_dir / "pyannote-sample.wav", audio_dir / "jfk.flac",
             *sorted((audio_dir / "librispeech").glob("*.flac"))]
    args = []
    for f in files:
        args += ["-i", str(f)]
    chain = "".join(f"[{i}:a]aresample=16000,pan=mono|c0=c0[a{i}];" for i in range(len(files)))
    chain += "".join(f"[a{i}]" for i in range(len(files))) + f"concat=n={len(files)}:v=0:a=1"
    out = d / "long.wav"
    ffmpeg(*args, "-filter_complex", chain, "-c:a", "pcm_s16le", str(out))
    return out


def test_windows_cover_the_recording_exactly_and_cut_in_quiet_places(long_file):
    whole = audio.decode(long_file)
    wins = list(audio.windows(long_file, window_seconds=15, search_seconds=4))
    assert len(wins) >= 4
    joined = np.concatenate([w for _, w in wins])
    assert np.array_equal(joined, whole)
    offsets = [o for o, _ in wins]
    lengths = [len(w) / audio.SAMPLE_RATE for _, w in wins]
    assert offsets == pytest.approx(np.cumsum([0, *lengths[:-1]]).tolist())
    assert all(11 <= n <= 19 for n in lengths[:-1])
    frame = audio.SAMPLE_RATE // 10
    energy = np.square(whole[: len(whole) // frame * frame].reshape(-1, frame)).mean(axis=1)
    for offset, _ in wins[1:]:
        at_cut = energy[int(offset * 10)]
        assert at_cut <= np.percentile(energy, 30), f"cut at {offset:.1f}s is not quiet"
