"""``outtask demo``: a newcomer's first run, with nothing but this machine.

espeak-ng speaks a short interview in two voices (an American interviewer, a British executive);
pydub joins the lines into an iPhone-style m4a in a demo engagement's inbox; the pipeline takes
it from there like any upload, and the demo says where everything is.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console

from transcription.errors import TranscriptionError
from transcription.transcript import Transcript, to_txt

from . import db
from .settings import Settings

CLIENT, ENGAGEMENT, RECORDING = "demo", "first-interview", "exec-1.m4a"
# a female and a male voice: two male espeak voices sound alike to a voice-embedding model
INTERVIEWER_VOICE, EXECUTIVE_VOICE = "en-us+f3", "en-gb+m3"

SCRIPT = [
    (INTERVIEWER_VOICE, "Thank you for making the time today. What is your biggest priority "
                        "for next year?"),
    (EXECUTIVE_VOICE, "At Northwind our biggest priority is growing the service business. We "
                      "want recurring "
                      "revenue from maintenance contracts, not only from selling machines. "
                      "Customers keep asking us to run the equipment for them."),
    (INTERVIEWER_VOICE, "What stands in the way?"),
    (EXECUTIVE_VOICE, "Mostly people. We need technicians who can work with software, and we "
                      "are competing with every other company for them. Our pricing also needs "
                      "to change, because today we give service away to win the sale."),
    (INTERVIEWER_VOICE, "If you had one message for the board, what would it be?"),
    (EXECUTIVE_VOICE, "Invest in training now, or the growth plan will not happen."),
]


QUESTIONS = ["What is your biggest priority for next year?", "What stands in the way?",
             "What is your one message for the board?"]
ENGAGEMENT_YAML = f"""\
name: "Demo: service growth"
expected_interviews: 1
target_slides: 12
questions:
{chr(10).join(f"  - {q}" for q in QUESTIONS)}
redact_terms: [Northwind]
"""


def form_yaml(answers: list[tuple[float, float]]) -> str:
    """The interview form a consultant would fill; ``answers``: when each question was
    answered (seconds)."""
    spans = "\n".join(f"  - question: {q}\n    answered_at: [\"{a:.1f}-{b:.1f}\"]"
                       for q, (a, b) in zip(QUESTIONS, answers, strict=True))
    return f"""\
engagement: {CLIENT}/{ENGAGEMENT}
executive: {{name: Alex Morgan, title: Chief Operating Officer, company: Northwind, role: COO}}
interviewer: Demo consultant
date: 2026-11-02
consent_to_record: true
answers:
{spans}
"""


def speak_interview(target: Path) -> list[tuple[float, float]]:
    """Speak SCRIPT with espeak-ng and save it as AAC in an m4a container at ``target``;
    return when each executive line starts and ends (seconds)."""
    from pydub import AudioSegment

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise TranscriptionError("espeak-ng is not installed; the demo speaks its interview "
                                 "with it.", fix="Install it: apt-get install espeak-ng")
    pause = AudioSegment.silent(duration=700, frame_rate=22050)
    interview = AudioSegment.silent(duration=300, frame_rate=22050)
    answers = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (voice, line) in enumerate(SCRIPT):
            wav = Path(tmp) / f"{i}.wav"
            subprocess.run([espeak, "-v", voice, "-s", "160", "-w", str(wav), line], check=True,
                           capture_output=True)
            start = len(interview) / 1000
            interview += AudioSegment.from_wav(wav)
            if voice == EXECUTIVE_VOICE:
                answers.append((start, len(interview) / 1000))
            interview += pause
    target.parent.mkdir(parents=True, exist_ok=True)
    interview.export(target, format="ipod", codec="aac", bitrate="64k")
    return answers


def run_demo(settings: Settings, *, console: Console, err: Console) -> int:
    """Speak the interview into the demo engagement's inbox and run the whole pipeline on it,
    exactly as a consultant's upload would be processed."""
    from .engagement import run_pending, scan_inbox
    from .interview import runtime

    rt = runtime()
    folder = f"inbox/{CLIENT}/{ENGAGEMENT}"
    key = f"{folder}/{RECORDING}"
    if rt.bucket.stat(key) is None:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / RECORDING
            answers = speak_interview(local)
            rt.bucket.write_bytes(f"{folder}/engagement.yaml", ENGAGEMENT_YAML.encode())
            rt.bucket.write_bytes(f"{folder}/{Path(RECORDING).stem}.form.yaml",
                                  form_yaml(answers).encode())
            rt.bucket.upload(local, key)
        console.print(f"spoke a two-voice interview with espeak-ng into {rt.bucket.url}/{key}, "
                      "with its engagement.yaml and interview form", highlight=False)
    console.print(f"running the pipeline (faster-whisper, {settings.model}, offline, CPU)…")
    # the demo just wrote the file: no need to wait for it to settle
    scan = scan_inbox(rt, now=time.time() + 3600)
    run_pending(rt, changed=scan.changed)
    with rt.sessions() as s:
        iv = (s.query(db.Interview).filter_by(bucket=rt.bucket.url, key=key)
              .order_by(db.Interview.id.desc()).first())
        state, reason, transcript = iv.state, iv.reason, iv.transcript
    if state != "transcribed" or transcript is None:
        err.print(f"[bold red]{RECORDING}[/]: {state}: {reason}", highlight=False)
        return 1
    t = Transcript.from_json(rt.bucket.read_bytes(transcript.outputs["json"]).decode())
    console.print()
    console.print(to_txt(t).strip(), highlight=False)
    console.print()
    roles = ", ".join(f"{who} = {role}" for who, role in t.roles.items()) or "-"
    console.print(f"speakers: {len(t.speakers)} ({roles})", highlight=False)
    flags = "; ".join(f.reason for f in t.quality.flags) or "none"
    console.print(f"quality flags: {flags}", highlight=False)
    console.print(f"recording:   {rt.bucket.url}/{key}", highlight=False)
    for fmt, out_key in transcript.outputs.items():
        console.print(f"transcript ({fmt}): {rt.bucket.url}/{out_key}", highlight=False)
    with rt.sessions() as s:
        brief = (s.query(db.Brief).join(db.Engagement).filter(db.Engagement.id == iv.engagement_id)
                 .order_by(db.Brief.version.desc()).first())
        if brief is None:
            err.print("the brief was not built: see `outtask brief build "
                      f"{CLIENT}/{ENGAGEMENT}`", highlight=False)
            return 1
        redacted = ", ".join(f"{n} {k}" for k, n in brief.redactions.items() if n) or "nothing"
        console.print(f"brief v{brief.version} for the out-tasker (job {brief.job_id}; "
                      f"redacted {redacted}):", highlight=False)
        console.print(f"  folder: {rt.bucket.url}/{brief.prefix}/", highlight=False)
        console.print(f"  zip:    {rt.bucket.url}/{brief.zip_key}", highlight=False)
    console.print("next: drop more recordings into inbox/<client>/<engagement>/ and run "
                  "`outtask run`, or leave `outtask watch` running.")
    return 0
