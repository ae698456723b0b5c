"""Throughput of the native stack (audio hours transcribed per wall-clock hour) with 1, 2 and 4
process workers on this machine, side by side, and what N machines would give.

For each worker count it brings up a fresh native stack (``infra/stack up --workers W``: its own
PostgreSQL, moto, Prefect server, listener), drops the same M distinct recordings into one
engagement's inbox in the S3 bucket, and times from the first upload until the last interview is
``transcribed`` (SQS event -> listener -> flow run of the interview deployment -> a worker).
The CPU seconds the shared services spent meanwhile (Prefect server, PostgreSQL, the
listener, and moto standing in for S3/SQS) are read from /proc, per interview: they bound how
many worker machines one set of services can feed.

    .venv/bin/python bench/scale.py [-n 8] [--seconds 90] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "audio"
STACK = ROOT / "infra" / "stack"
ENGAGEMENT = "bench/scale"
#: services shared by every worker machine (moto stands in for S3/SQS)
SHARED = ("prefect", "postgres", "listener", "moto")
CLK = os.sysconf("SC_CLK_TCK")


def say(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def make_inputs(folder: Path, n: int, seconds: float) -> list[tuple[Path, float]]:
    """N distinct interviews of about ``seconds`` each, as AAC m4a (what a phone records): the
    shared call, jfk and the LibriSpeech clips, repeated up to the length, each file at its own
    gain so that no two share a content hash."""
    parts = [AUDIO / "pyannote-sample.wav", AUDIO / "jfk.flac",
             *sorted((AUDIO / "librispeech").glob("*.flac"))]
    lengths = [_duration(p) for p in parts]
    chain, total = [], 0.0
    while total < seconds:
        i = len(chain) % len(parts)
        chain.append(parts[i])
        total += lengths[i]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        target = folder / f"exec-{k + 1:02d}.m4a"
        inputs = [a for p in chain for a in ("-i", str(p))]
        streams = "".join(f"[{i}:a]aformat=fltp:16000:mono[a{i}];" for i in range(len(chain)))
        joined = "".join(f"[a{i}]" for i in range(len(chain)))
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *inputs,
                        "-filter_complex", f"{streams}{joined}concat=n={len(chain)}:v=0:a=1,"
                        f"volume={1 - k * 0.02:.2f}", "-c:a", "aac", str(target)], check=True)
        out.append((target, _duration(target)))
    return out


def _duration(path: Path) -> float:
    done = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                           "csv=p=0", str(path)], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds of these processes, including their children that have exited (a
    PostgreSQL backend's time lands on the postmaster when it is reaped)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / CLK


def _stack(command: str, state: Path, env: dict[str, str], *args: str
           ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(STACK), command, "--state", str(state), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def _services(state: Path, env: dict[str, str]) -> dict[str, list[int]]:
    doc = json.loads(_stack("status", state, env, "--json").stdout)
    return {s["name"]: s["pids"] for s in doc["services"]}


def run_once(workers: int, inputs: list[tuple[Path, float]], port_base: int,
             env: dict[str, str]) -> dict:
    import boto3

    from flows import db

    state = Path(tempfile.mkdtemp(prefix="outtask-scale-", dir="/tmp"))
    state.chmod(0o755)  # PostgreSQL (as the postgres user) must enter it
    say(f"-- {workers} worker(s): stack up in {state}")
    up = _stack("up", state, env, "--workers", str(workers), "--port-base", str(port_base))
    if up.returncode != 0:
        _stack("down", state, env)
        raise SystemExit(f"infra/stack up failed:\n{up.stderr[-3000:]}")
    sessions = None
    try:
        stack_env = dict(line.removeprefix("export ").split("=", 1)
                         for line in (state / "stack.env").read_text().splitlines()
                         if line.startswith("export "))
        services = _services(state, env)
        shared_pids = [p for name in SHARED for p in services.get(name, [])]
        s3 = boto3.client("s3", endpoint_url=stack_env["AWS_ENDPOINT_URL"],
                          region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        sessions = db.session_factory(stack_env["OUTTASK_DATABASE_URL"])
        load_before = os.getloadavg()[0]
        cpu_before = _cpu_s(shared_pids)
        started = time.time()
        for path, _ in inputs:
            s3.upload_file(str(path), "outtask", f"inbox/{ENGAGEMENT}/{path.name}")
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            with sessions() as s:
                states = [iv.state for iv in s.query(db.Interview)]
            if len(states) == len(inputs) and all(x in ("transcribed", "quarantined", "failed")
                                                  for x in states):
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"not done within an hour: {states}")
        with sessions() as s:
            finished = max(e.at for e in s.query(db.Event).filter_by(kind="state")
                           if e.detail.get("to") == "transcribed")
            by_worker: dict[str, int] = {}
            for e in s.query(db.Event).filter_by(kind="worker-claim"):
                by_worker[e.detail.get("worker")] = by_worker.get(e.detail.get("worker"), 0) + 1
        wall = finished.timestamp() - started
        cpu = _cpu_s(shared_pids) - cpu_before
        audio = sum(d for _, d in inputs)
        return {"workers": workers, "interviews": len(inputs), "audio_s": audio,
                "wall_s": wall, "throughput": audio / wall, "shared_cpu_s": cpu,
                "states": sorted(set(states)), "by_worker": by_worker,
                "load": (load_before, os.getloadavg()[0])}
    finally:
        if sessions is not None:
            sessions.kw["bind"].dispose()
        down = _stack("down", state, env)
        if down.returncode != 0:
            say(down.stderr)
        shutil.rmtree(state, ignore_errors=True)


def report(rows: list[dict], seconds: float) -> None:
    base = rows[0]["throughput"]
    print(f"## Scale-out: native stack on {os.cpu_count()} cores "
          f"({platform.processor() or platform.machine()}, Python {platform.python_version()})"
          "\n")
    print(f"{rows[0]['interviews']} distinct interviews of ~{seconds:.0f} s each (the shared "
          "recordings concatenated, AAC), tiny.en with speaker turns; wall = first upload to "
          "last `transcribed`.\n")
    print("| workers | audio | wall | audio h / wall h | vs 1 worker | shared services CPU "
          "per interview | interviews per worker | load avg before → after |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        spread = ", ".join(str(v) for _, v in sorted(r["by_worker"].items(), key=str))
        print(f"| {r['workers']} | {r['audio_s'] / 60:.1f} min | {r['wall_s']:.0f} s | "
              f"{r['throughput']:.2f} | {r['throughput'] / base:.2f}× | "
              f"{r['shared_cpu_s'] / r['interviews']:.2f} s | {spread} | "
              f"{r['load'][0]:.1f} → {r['load'][1]:.1f} |")
    best = max(rows, key=lambda r: r["throughput"])
    per_machine = best["throughput"]
    clip_h = best["audio_s"] / best["interviews"] / 3600
    shared_per_iv = max(r["shared_cpu_s"] / r["interviews"] for r in rows)
    # one machine like this one (2 cores) runs the shared services: it saturates when the
    # worker machines together ask it for more CPU seconds per hour than it has
    capacity_iv_h = (os.cpu_count() or 1) * 3600 / shared_per_iv
    print("\n### Projection for N machines\n")
    print(f"- One machine like this one gives {per_machine:.2f} audio h per wall h at its best "
          f"({best['workers']} worker processes). Transcription is CPU-bound: past one worker "
          f"per core, more workers only share the same {os.cpu_count()} cores; below it, the "
          "cores idle while a worker starts each flow run's process and loads the models.")
    print("- Interviews are independent (one flow run each, claimed in the database), so N "
          "worker machines on one work pool give N times that, as long as the shared "
          "services keep up.")
    print(f"- The shared services (Prefect API, PostgreSQL, listener, moto as the S3/SQS "
          f"stand-in) spent at most {shared_per_iv:.2f} CPU s per interview, their background "
          f"work during the run included. One {os.cpu_count()}-core services machine feeds "
          f"about {capacity_iv_h:.0f} interviews per hour, whatever their length: "
          f"{capacity_iv_h * clip_h:.0f} audio h per wall h of these "
          f"{clip_h * 3600:.0f}-s clips, {capacity_iv_h * 0.75:.0f} of 45-minute interviews.")
    print("- Projected = min(N × per machine, services' ceiling). For 45-minute interviews the "
          "per-machine figure is a lower bound: the fixed cost of each flow run (process "
          "start, model loads) is spread over 30× more audio.")
    print("\n| machines | audio h per wall h, these clips | audio h per wall h, 45-min "
          "interviews | 500 interviews × 45 min (375 audio h) |")
    print("|---|---|---|---|")
    for n in (1, 2, 5, 10, 20, 50, 100):
        clips = min(n * per_machine, capacity_iv_h * clip_h)
        long = min(n * per_machine, capacity_iv_h * 0.75)
        print(f"| {n} | {clips:.1f} | {long:.1f} | {375 / long:.1f} h |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=8, help="interviews per run (default 8)")
    ap.add_argument("--seconds", type=float, default=90, help="length of each (default 90)")
    ap.add_argument("--workers", default="1,2,4", help="worker counts (default 1,2,4)")
    ap.add_argument("--port-base", type=int, default=26100)
    args = ap.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "AWS_", "OUTTASK_"))}
    env["OUTTASK_MODEL"] = "tiny.en"
    if os.environ.get("OUTTASK_MODEL_CACHE"):
        env["OUTTASK_MODEL_CACHE"] = os.environ["OUTTASK_MODEL_CACHE"]
    with tempfile.TemporaryDirectory(prefix="outtask-scale-audio-") as tmp:
        say(f"making {args.n} interviews of ~{args.seconds:.0f} s")
        inputs = make_inputs(Path(tmp), args.n, args.seconds)
        rows = []
        for w in counts:
            rows.append(run_once(w, inputs, args.port_base, env))
            r = rows[-1]
            say(f"   {w} worker(s): {r['audio_s']:.0f} s of audio in {r['wall_s']:.0f} s "
                f"({r['throughput']:.2f} audio h/wall h), {r['states']}, {r['by_worker']}")
    report(rows, args.seconds)


if __name__ == "__main__":
    main()
