"""One recording end to end: windows, speakers across windows, progress, and the demo."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ffmpeg, librispeech_refs, wer
from transcription.pipeline import TranscribeOptions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def interview(audio_dir, tmp_path_factory):
    """~80 s: the two-person call, a LibriSpeech reader, then the call again, so the two
    callers must keep their labels across windows."""
    d = tmp_path_factory.mktemp("interview")
    clips = [audio_dir / "pyannote-sample.wav",
             *sorted((audio_dir / "librispeech").glob("*.flac"))[:2],
             audio_dir / "pyannote-sample.wav"]
    args = []
    for c in clips:
        args += ["-i", str(c)]
    chain = "".join(f"[{i}:a]aformat=fltp:16000:mono,apad=pad_dur=1[a{i}];"
                    for i in range(len(clips)))
    chain += "".join(f"[a{i}]" for i in range(len(clips))) + f"concat=n={len(clips)}:v=0:a=1"
    out = d / "interview.m4a"
    ffmpeg(*args, "-filter_complex", chain, "-c:a", "aac", "-b:a", "96k", str(out))
    refs = librispeech_refs(audio_dir)
    call = (audio_dir / "pyannote-sample.txt").read_text()
    reference = " ".join([call, *(refs[c.stem] for c in clips[1:3]), call])
    return out, reference


def test_windowed_transcript_matches_the_whole_and_links_speakers(interview, transcriber_factory):
    path, reference = interview
    t = transcriber_factory(TranscribeOptions(model="tiny.en", window_seconds=25.0))
    seen = []
    transcript = t.transcribe(path, progress=lambda stage, done, total: seen.append((done, total)))
    assert t.stats.windows >= 3
    # progress is monotonic and ends at the recording's length
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and dones[-1] == pytest.approx(seen[-1][1])
    assert seen[-1][1] == pytest.approx(transcript.duration, abs=0.01)
    # nothing lost or doubled at window cuts
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    assert wer(reference, transcript.text) <= 0.25
    # the call appears twice, more than a window apart: its speakers keep their labels
    first = {s.speaker for s in transcript.segments if s.end < 30}
    second = {s.speaker for s in transcript.segments if s.start > transcript.duration - 30}
    assert len(first) == 2 and first == second, (first, second)
    assert len(transcript.speakers) >= 2
    assert set(transcript.roles.values()) <= {"interviewer", "interviewee"}


def test_demo_speaks_and_transcribes_a_two_voice_interview(tmp_path, model_cache, espeak):
    env = {**os.environ, "OUTTASK_HOME": str(tmp_path / "home"),
           "OUTTASK_MODEL_CACHE": str(model_cache)}
    for k in ("OUTTASK_BUCKET", "OUTTASK_DATABASE_URL", "PREFECT_API_URL", "PREFECT_HOME"):
        env.pop(k, None)
    r = subprocess.run([sys.executable, "-c", "from flows.cli import main; main()", "demo"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    bucket = tmp_path / "home" / "bucket"
    recording = bucket / "inbox" / "demo" / "first-interview" / "exec-1.m4a"
    assert recording.is_file()
    txt = bucket / "processed" / "demo" / "first-interview" / "exec-1.txt"
    assert "processed/demo/first-interview/exec-1.txt" in r.stdout
    from flows.demo import SCRIPT
    from transcription.transcript import Transcript

    assert wer(" ".join(line for _, line in SCRIPT), txt.read_text()) <= 0.15
    t = Transcript.from_json(txt.with_suffix(".json").read_text())
    assert len(t.speakers) == 2
    # the interviewer asks short questions: the one with less talk time
    assert sorted(t.roles.values()) == ["interviewee", "interviewer"]
    interviewer = next(k for k, v in t.roles.items() if v == "interviewer")
    assert t.segments[0].speaker == interviewer
