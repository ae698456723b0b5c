"""How much of a pipeline run is transcription, and how much is everything else.

For N interviews on the embedded default (local folder, SQLite, Prefect's ephemeral API) this
prints the wall time of `outtask run`'s work (intake + interview flows) split into the speech
work (decode, transcribe, speakers: the Transcriber's own clocks) and everything else (Prefect,
storage, database, hashing). The Prefect API's start-up and the model loads (speech and
speaker models) are one-offs per process and are shown on their own line. Goal: everything
else <= 5 % of the run.

    .venv/bin/python bench/pipeline.py [-n 6]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "audio"


def make_inputs(inbox: Path, n: int) -> float:
    """N distinct ~40 s interviews: the call plus a LibriSpeech clip, each at its own gain so
    every file has its own content hash (no duplicates). Returns total audio seconds."""
    clips = sorted((AUDIO / "librispeech").glob("*.flac"))
    inbox.mkdir(parents=True, exist_ok=True)
    total = 0.0
    for i in range(n):
        out = inbox / f"exec-{i + 1}.m4a"
        clip = clips[i % len(clips)]
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                        "-i", str(AUDIO / "pyannote-sample.wav"), "-i", str(clip),
                        "-filter_complex", f"[0:a]aformat=fltp:16000:mono[a];"
                        f"[1:a]aformat=fltp:16000:mono[b];[a][b]concat=n=2:v=0:a=1,"
                        f"volume={1 - i * 0.02:.2f}", "-c:a", "aac", str(out)], check=True)
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                                "-of", "csv=p=0", str(out)], capture_output=True, text=True)
        total += float(probe.stdout.strip())
        os.utime(out, (time.time() - 60, time.time() - 60))
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=6, help="interviews (default 6)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="outtask-bench-") as tmp:
        home = Path(tmp) / "home"
        os.environ["OUTTASK_HOME"] = str(home)
        for k in ("OUTTASK_BUCKET", "OUTTASK_DATABASE_URL", "PREFECT_API_URL", "PREFECT_HOME"):
            os.environ.pop(k, None)
        audio_s = make_inputs(home / "bucket" / "inbox" / "bench" / "pipeline", args.n)
        from flows.settings import apply_prefect_defaults

        apply_prefect_defaults()
        from prefect import flow

        from flows.engagement import run_pending, scan_inbox
        from flows.interview import runtime

        t0 = time.perf_counter()
        rt = runtime()
        # model loads: once per process, not per interview (the speaker model, torch and
        # resemblyzer, too: the Transcriber loads it lazily, off its clocks, at the first file)
        rt.transcriber.engine  # noqa: B018
        if rt.transcriber.options.diarize:
            from transcription.speakers import Diarizer

            Diarizer(mode="voices")

        @flow(name="warm-up")
        def warm_up() -> None:
            return None

        warm_up()  # starts the ephemeral Prefect API
        startup = time.perf_counter() - t0
        rt.transcriber.stats.__init__()
        load_at_start = os.getloadavg()[0]
        t1 = time.perf_counter()
        scan = scan_inbox(rt)
        outcomes = run_pending(rt)
        wall = time.perf_counter() - t1
        st = rt.transcriber.stats
        speech = st.inspect_s + st.transcribe_s + st.speakers_s
        other = wall - speech
    assert len(scan.registered) == args.n and set(outcomes.values()) == {"transcribed"}, outcomes
    print(f"# outtask pipeline benchmark ({time.strftime('%Y-%m-%d %H:%M')})\n")
    print(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; load average "
          f"(1 min) {load_at_start:.2f} at the start of the run, {os.getloadavg()[0]:.2f} at "
          f"its end. Embedded default: local folder, SQLite, Prefect ephemeral API; model "
          f"{rt.transcriber.model.name}, faster-whisper, speakers on.\n")
    print(f"Inputs: {args.n} interviews made with ffmpeg from the shared call + a LibriSpeech "
          f"clip (m4a, {audio_s / args.n:.0f} s each, {audio_s:.0f} s in all).\n")
    print("| part | seconds | share of the run |\n|---|---|---|")
    print(f"| speech: decode + inspect | {st.inspect_s:.1f} | {st.inspect_s / wall:.1%} |")
    print(f"| speech: transcribe | {st.transcribe_s:.1f} | {st.transcribe_s / wall:.1%} |")
    print(f"| speech: speakers | {st.speakers_s:.1f} | {st.speakers_s / wall:.1%} |")
    print(f"| everything else (Prefect, storage, database, hashing) | {other:.1f} | "
          f"**{other / wall:.1%}** |")
    print(f"| run, in all ({args.n} interviews) | {wall:.1f} | 100 % |")
    print(f"| one-off per process: Prefect API start + model loads (speech, speakers) | "
          f"{startup:.1f} | (not in the run) |\n")
    goal = "met" if other / wall <= 0.05 else "**missed**"
    print(f"Goal everything else <= 5 %: {other / wall:.1%} — {goal}; "
          f"{other / args.n:.2f} s per interview. Real-time factor of the whole run: "
          f"{wall / audio_s:.3f}.")


if __name__ == "__main__":
    sys.exit(main())
