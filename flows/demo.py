"""``outtask demo``: a newcomer's first run, with nothing but this machine.

espeak-ng speaks a short interview in two voices (an American interviewer, a British executive);
pydub joins the lines into an iPhone-style m4a in a demo engagement's inbox; outtask transcribes
it and says where everything is.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from rich.console import Console

from transcription.errors import AudioInputError, TranscriptionError
from transcription.pipeline import TranscribeOptions, Transcriber
from transcription.transcript import FORMATS, to_txt, write_files

from .settings import Settings

CLIENT, ENGAGEMENT, RECORDING = "demo", "first-interview", "exec-1.m4a"
# a female and a male voice: two male espeak voices sound alike to a voice-embedding model
INTERVIEWER_VOICE, EXECUTIVE_VOICE = "en-us+f3", "en-gb+m3"

SCRIPT = [
    (INTERVIEWER_VOICE, "Thank you for making the time today. What is your biggest priority "
                        "for next year?"),
    (EXECUTIVE_VOICE, "Our biggest priority is growing the service business. We want recurring "
                      "revenue from maintenance contracts, not only from selling machines. "
                      "Customers keep asking us to run the equipment for them."),
    (INTERVIEWER_VOICE, "What stands in the way?"),
    (EXECUTIVE_VOICE, "Mostly people. We need technicians who can work with software, and we "
                      "are competing with every other company for them. Our pricing also needs "
                      "to change, because today we give service away to win the sale."),
    (INTERVIEWER_VOICE, "If you had one message for the board, what would it be?"),
    (EXECUTIVE_VOICE, "Invest in training now, or the growth plan will not happen."),
]


def speak_interview(target: Path) -> Path:
    """Speak SCRIPT with espeak-ng and save it as AAC in an m4a container at ``target``."""
    from pydub import AudioSegment

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise TranscriptionError("espeak-ng is not installed; the demo speaks its interview "
                                 "with it.", fix="Install it: apt-get install espeak-ng")
    pause = AudioSegment.silent(duration=700, frame_rate=22050)
    interview = AudioSegment.silent(duration=300, frame_rate=22050)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (voice, line) in enumerate(SCRIPT):
            wav = Path(tmp) / f"{i}.wav"
            subprocess.run([espeak, "-v", voice, "-s", "160", "-w", str(wav), line], check=True,
                           capture_output=True)
            interview += AudioSegment.from_wav(wav) + pause
    target.parent.mkdir(parents=True, exist_ok=True)
    interview.export(target, format="ipod", codec="aac", bitrate="64k")
    return target


def run_demo(settings: Settings, *, out_dir: Path | None, console: Console,
             err: Console) -> int:
    bucket = settings.local_bucket or settings.home / "bucket"
    recording = bucket / "inbox" / CLIENT / ENGAGEMENT / RECORDING
    out_dir = out_dir or bucket / "processed" / CLIENT / ENGAGEMENT
    if not recording.exists():
        console.print(f"speaking a two-voice interview with espeak-ng → {recording}")
        speak_interview(recording)
    transcriber = Transcriber(TranscribeOptions(model=settings.model,
                                                max_hours=settings.max_audio_hours),
                              cache_dir=settings.model_cache)
    console.print(f"transcribing with faster-whisper, model {settings.model} (offline, CPU)…")
    try:
        transcript = transcriber.transcribe(recording)
    except AudioInputError as e:
        err.print(f"[bold red]{recording.name}[/]: {e}")
        return 1
    written = write_files(transcript, out_dir, recording.stem, FORMATS)
    console.print()
    console.print(to_txt(transcript).strip(), soft_wrap=True, highlight=False)
    console.print()
    roles = ", ".join(f"{who} = {role}" for who, role in transcript.roles.items()) or "-"
    console.print(f"speakers: {len(transcript.speakers)} ({roles})", highlight=False)
    flags = "; ".join(f.reason for f in transcript.quality.flags) or "none"
    console.print(f"quality flags: {flags}", highlight=False)
    console.print(f"recording:   {recording}", highlight=False)
    for fmt, path in written.items():
        console.print(f"transcript ({fmt}): {path}", highlight=False)
    return 0
