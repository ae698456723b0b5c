"""Transcription benchmark: prints measured figures as Markdown (not a test).

Same audio, beam and threads for outtask's two engines (same weights) and plain faster-whisper
(int8, VAD on: the peer of ../shared/RECIPES.md): WER per file, real-time factors, the speed
ratio faster/openai on ~10 min, DER on the call, peak RSS of the whole path on ~10 and ~60 min
(fresh subprocesses), and a table of goals met or missed.

    .venv/bin/python bench/transcribe.py [--models tiny.en,base] [--skip-long] [--skip-60]
                                         [--threads 2] [--beam 5] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "audio"
LIBRI = ("1089-134686-0000", "1089-134686-0001", "1089-134691-0000", "1089-134691-0001")
T0 = time.perf_counter()
LONG_REFS: dict[str, str] = {}  # generated input -> its reference text (concatenated)


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- scoring
_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
          "fifteen sixteen seventeen eighteen nineteen | _ _ twenty thirty forty fifty sixty "
          "seventy eighty ninety")
_ONES, _TENS = (part.split() for part in _WORDS.split("|"))


def _spoken(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    return "one hundred" if n == 100 else str(n)


def normalize(text: str) -> str:
    """Lower case; integers 0-100 as words, "%" as "percent", hyphens as spaces; punctuation
    stripped (apostrophes too, on both sides: "didn't" -> "didnt"); whitespace collapsed."""
    import jiwer

    text = re.sub(r"\b\d+\b", lambda m: _spoken(int(m.group())), text.replace("%", " percent"))
    text = text.replace("-", " ")
    return jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(),
                          jiwer.RemoveMultipleSpaces(), jiwer.Strip()])(text)


def wer(refs: list[str], hyps: list[str]) -> float:
    import jiwer

    return float(jiwer.wer([normalize(r) for r in refs], [normalize(h) or "" for h in hyps]))


def references() -> dict[str, tuple[Path, str]]:
    refs = {"jfk": (AUDIO / "jfk.flac", (AUDIO / "jfk.txt").read_text())}
    trans = dict(line.split(" ", 1) for line in
                 (AUDIO / "librispeech" / "trans.txt").read_text().splitlines() if line.strip())
    for clip in LIBRI:
        refs[clip] = (AUDIO / "librispeech" / f"{clip}.flac", trans[clip])
    refs["call"] = (AUDIO / "pyannote-sample.wav", (AUDIO / "pyannote-sample.txt").read_text())
    return refs


# ---------------------------------------------------------------- inputs and facts
def make_long_inputs(tmp: Path, with_60: bool) -> tuple[Path, Path | None, str]:
    from pydub import AudioSegment

    def load(p: Path) -> Any:
        return AudioSegment.from_file(p).set_frame_rate(16000).set_channels(1).set_sample_width(2)

    refs = references()
    order = ["call", "jfk", *LIBRI]
    cycle = [load(refs[name][0]) for name in order]
    gap = AudioSegment.silent(500, frame_rate=16000).set_channels(1).set_sample_width(2)
    ten = AudioSegment.silent(0, frame_rate=16000).set_channels(1).set_sample_width(2)
    rounds = 0
    while len(ten) < 600_000:
        for seg in cycle:
            ten += seg + gap
        rounds += 1
    ten_path = tmp / "ten.wav"
    ten.export(ten_path, format="wav")
    LONG_REFS[str(ten_path)] = " ".join([refs[name][1] for name in order] * rounds)
    how = (f"~10 min = {len(ten) / 1000:.0f} s: (call, jfk, 4 LibriSpeech clips, each + 0.5 s "
           f"silence) x {rounds}")
    sixty_path = None
    if with_60:
        sixty_path = tmp / "sixty.wav"
        (ten * 6).export(sixty_path, format="wav")
        LONG_REFS[str(sixty_path)] = " ".join([LONG_REFS[str(ten_path)]] * 6)
        how += f"; ~60 min = {6 * len(ten) / 1000:.0f} s: the 10-min input x 6"
    return ten_path, sixty_path, how + ". pydub, 16 kHz mono 16-bit WAV in a temp dir."


def machine_facts() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    vers = [f"{pkg} {metadata.version(pkg)}" for pkg in
            ("faster-whisper", "ctranslate2", "torch", "openai-whisper", "jiwer")]
    return (f"{len(os.sched_getaffinity(0))} cores ({cpu}), Python {platform.python_version()}, "
            + ", ".join(vers) + f"; load average at start {os.getloadavg()[0]:.2f}")


def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return out + ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows] + [""]


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


class Report:
    def __init__(self, out: Path | None) -> None:
        self.out, self.lines = out, list[str]()

    def add(self, lines: list[str]) -> None:
        print("\n".join(lines), flush=True)
        self.lines += lines
        if self.out:
            self.out.write_text("\n".join(self.lines) + "\n")


# ---------------------------------------------------------------- engines
def transcriber(engine: str, model: str, a: argparse.Namespace, diarize: bool) -> Any:
    from transcription.engines import DecodeOptions
    from transcription.pipeline import TranscribeOptions, Transcriber

    opts = TranscribeOptions(engine=engine, model=model, diarize=diarize,
                             decode=DecodeOptions(beam_size=a.beam, threads=a.threads))
    return Transcriber(opts, cache_dir=a.cache_dir)


class Peer:
    """Plain faster-whisper, as its README shows it: int8, VAD on, the whole file at once."""

    def __init__(self, model: str, a: argparse.Namespace) -> None:
        from faster_whisper import WhisperModel

        from transcription.models import resolve

        self.beam = a.beam
        self.m = WhisperModel(str(resolve(model, a.cache_dir).path), device="cpu",
                              compute_type="int8", cpu_threads=a.threads)

    def transcribe(self, path: Path, progress: bool = False) -> tuple[str, float]:
        segments, info = self.m.transcribe(str(path), beam_size=self.beam, vad_filter=True)
        texts = []
        for s in segments:
            texts.append(s.text.strip())
            if progress and len(texts) % 100 == 0:
                log(f"  peer at {s.end:.0f}/{info.duration:.0f} s")
        return " ".join(texts), float(info.duration)


ENGINES = ("outtask faster-whisper", "outtask openai-whisper", "plain faster-whisper (peer)")


def run_text(obj: Any, path: Path) -> tuple[str, float]:
    if isinstance(obj, Peer):
        return obj.transcribe(path)
    tr = obj.transcribe(path)
    return tr.text, tr.duration


def accuracy(models: list[str], a: argparse.Namespace, rep: Report) -> dict[tuple, dict]:
    refs = references()
    results: dict[tuple, dict] = {}
    rows = []
    for model, kind in itertools.product(models, ENGINES):
        log(f"accuracy: {model} / {kind}: loading")
        obj = Peer(model, a) if kind.startswith("plain") else transcriber(
            kind.split()[1], model, a, diarize=False)
        run_text(obj, refs["jfk"][0])  # warm-up
        hyps, wall, audio_s = {}, 0.0, 0.0
        for name, (path, _) in refs.items():
            t0 = time.perf_counter()
            hyps[name], dur = run_text(obj, path)
            wall += time.perf_counter() - t0
            audio_s += dur
        r = {n: wer([refs[n][1]], [hyps[n]]) for n in refs}
        r["libri"] = wer([refs[c][1] for c in LIBRI], [hyps[c] for c in LIBRI])
        r["rtf"], r["hyps"] = wall / audio_s, hyps
        results[(model, kind)] = r
        rows.append([model, kind, pct(r["jfk"])] + [pct(r[c]) for c in LIBRI]
                    + [pct(r["libri"]), pct(r["call"]), f"{r['rtf']:.3f}"])
        log(f"  libri {pct(r['libri'])}, call {pct(r['call'])}, RTF {r['rtf']:.3f}")
        del obj
    rep.add(["## Accuracy (WER) and speed on the shared recordings", "",
             f"Beam {a.beam}, {a.threads} threads, no speakers. RTF = wall time of transcribing "
             "the six files (decode + VAD + transcribe; model load excluded, each engine warmed "
             "up once on jfk) / their audio length (66 s). Text normalised: " + NORM_NOTE, ""]
            + table(["model", "engine", "jfk"] + [c[5:] for c in LIBRI]
                    + ["LibriSpeech pooled", "call", "RTF"], rows))
    return results


NORM_NOTE = ("lower case, punctuation stripped (apostrophes too), hyphens as spaces, integers "
             "0-100 as words, % as \"percent\" (jiwer transforms + a small digit table). Spelling "
             "variants count as errors (LibriSpeech's COUNSELLED vs Whisper's counseled).")


# ---------------------------------------------------------------- speakers
def speakers(model: str, a: argparse.Namespace, rep: Report) -> dict[str, Any]:
    import torch

    from transcription import audio
    from transcription import speakers as sp

    call = AUDIO / "pyannote-sample.wav"
    ref = sp.read_rttm(AUDIO / "pyannote-sample.rttm")
    threads_before = torch.get_num_threads()
    log("speakers: Diarizer on the call")
    d = sp.Diarizer(mode="voices")  # loads the voice encoder: not timed
    t0 = time.perf_counter()
    for offset, samples in audio.windows(call):
        d.add_window(offset, samples)
    hyp = d.turns()
    secs = time.perf_counter() - t0
    der = float(sp.diarization_error_rate(ref, hyp))
    log(f"  DER {pct(der)} in {secs:.1f} s; transcript with speakers")
    t = transcriber("faster-whisper", model, a, diarize=True)
    tr = t.transcribe(call)
    attributed, n_words = attribution(tr.segments, ref)
    threads_after = torch.get_num_threads()
    rows = [[f"{s.start:.1f}-{s.end:.1f}", s.speaker, s.text] for s in tr.segments]
    lines = ["## Speakers on the call (pyannote-sample.wav, 30 s, 2 speakers)", "",
             *table(["measure", "value"], [
                 ["DER, no collar: Diarizer(mode=\"voices\") turns vs pyannote-sample.rttm",
                  pct(der)],
                 ["speaker turns found / in reference",
                  f"{len({x.speaker for x in hyp})} / {len({x.speaker for x in ref})}"],
                 ["Diarizer compute for 30 s (incl. decode)", f"{secs:.2f} s"],
                 [f"words given the right speaker (Transcriber {model}, diarize=True; speaker "
                  "at each word's midpoint in the RTTM, best label mapping)",
                  f"{pct(attributed)} of {n_words}"],
                 ["torch threads before / after diarizing", f"{threads_before} / {threads_after}"],
             ]), f"Transcript with speakers ({model}, outtask faster-whisper):", "",
             *table(["time (s)", "speaker", "text"], rows)]
    rep.add(lines)
    return {"der": der, "attributed": attributed}


def attribution(segments: Any, ref: Any) -> tuple[float | None, int]:
    pairs = []
    for s in segments:
        for w in s.words or (s,):
            mid = (w.start + w.end) / 2
            who = {r.speaker for r in ref if r.start <= mid < r.end}
            if who:
                pairs.append((s.speaker, who))
    if not pairs:
        return None, 0
    hyp_labels = sorted({h for h, _ in pairs}, key=str)
    ref_labels: list[str | None] = sorted({r.speaker for r in ref})
    best = 0
    for perm in itertools.permutations(ref_labels + [None] * len(hyp_labels), len(hyp_labels)):
        mapping = dict(zip(hyp_labels, perm, strict=True))
        best = max(best, sum(mapping[h] in who for h, who in pairs))
    return best / len(pairs), len(pairs)


# ---------------------------------------------------------------- subprocess runs
def child(a: argparse.Namespace) -> None:
    """One measured run in a fresh process; prints one JSON line on stdout."""
    def usage() -> tuple[float, float]:  # (peak RSS in MB, CPU seconds so far)
        # VmHWM, not ru_maxrss: after fork + exec, ru_maxrss keeps the parent's RSS at the fork
        hwm = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return int(hwm.group(1)) / 1024 if hwm else math.nan, ru.ru_utime + ru.ru_stime

    if a.child == "peer":
        obj: Any = Peer(a.model, a)
    else:
        obj = transcriber(a.child, a.model, a, diarize=a.diarize)
        obj.engine  # noqa: B018
    if a.warmup:
        run_text(obj, AUDIO / "jfk.flac")
    load_mb, cpu0 = usage()
    t0 = time.perf_counter()
    stats: dict[str, Any] = {}
    if isinstance(obj, Peer):
        text, duration = obj.transcribe(a.input, progress=True)
    else:
        from transcription.pipeline import RunStats

        obj.stats = RunStats()
        tr = obj.transcribe(a.input, progress=lambda st, d, n: log(f"  {st} {d:.0f}/{n:.0f} s"))
        text, duration = tr.text, tr.duration
        stats = dict(vars(obj.stats), speakers=len({s.speaker for s in tr.segments}),
                     segments=len(tr.segments), flags=list(tr.quality.kinds))
    wall, (peak_mb, cpu1) = time.perf_counter() - t0, usage()
    print(json.dumps({"wall": wall, "duration": duration, "rtf": wall / duration,
                      "cpu": cpu1 - cpu0, "load_mb": load_mb, "peak_mb": peak_mb,
                      "stats": stats, "text": text}))


def run_child(kind: str, path: Path, model: str, a: argparse.Namespace, *,
              diarize: bool = False, warmup: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--input", str(path),
           "--model", model, "--threads", str(a.threads), "--beam", str(a.beam),
           "--cache-dir", str(a.cache_dir)] + ["--diarize"] * diarize + ["--warmup"] * warmup
    log(f"subprocess: {kind} {model} on {path.name} (diarize={diarize})")
    load0 = os.getloadavg()[0]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["load"] = f"{load0:.1f}-{os.getloadavg()[0]:.1f}"
    r["wer"] = pct(wer([LONG_REFS[str(path)]], [r.pop("text")])) if str(path) in LONG_REFS else "-"
    log(f"  RTF {r['rtf']:.3f}, peak RSS {r['peak_mb']:.0f} MB, WER {r['wer']}")
    return r


def speed_ratio(ten: Path, model: str, a: argparse.Namespace, rep: Report) -> dict[str, Any]:
    fw = run_child("faster-whisper", ten, model, a, warmup=True)
    ow = run_child("openai-whisper", ten, model, a, warmup=True)
    ratio = ow["wall"] / fw["wall"]
    rows = [[f"outtask {k}", f"{r['wall']:.1f} s", f"{r['rtf']:.3f}",
             f"{r['stats']['transcribe_s']:.1f} s", f"{r['cpu']:.0f} s",
             f"{r['peak_mb']:.0f} MB", r["wer"], r["load"]]
            for k, r in (("faster-whisper", fw), ("openai-whisper", ow))]
    rep.add([f"## Speed on the ~10-minute input ({fw['duration']:.0f} s), model {model}", "",
             "Default model only (openai-whisper on 10 minutes of base takes too long on 2 "
             f"cores). Beam {a.beam}, {a.threads} threads, no speakers, each engine in its own "
             "process, warmed up once; wall = Transcriber.transcribe (inspect + decode + "
             "transcribe + quality check); CPU = user + system seconds of the process; WER against "
             "the concatenated references.", "",
             *table(["engine", "wall", "RTF", "in the engine", "CPU", "peak RSS", "WER",
                     "load avg"], rows),
             f"**Speed ratio faster-whisper / openai-whisper (openai wall / faster wall): "
             f"{ratio:.2f}x**", ""])
    return {"ratio": ratio, "rtf": fw["rtf"]}


def memory(inputs: list[tuple[str, Path]], model: str, a: argparse.Namespace,
           rep: Report) -> dict[str, dict[str, Any]]:
    res: dict[str, dict[str, Any]] = {}
    for label, path in inputs:
        res[f"outtask {label}"] = run_child("faster-whisper", path, model, a, diarize=True)
        res[f"peer {label}"] = run_child("peer", path, model, a)
    rows = []
    for key, r in res.items():
        s = r["stats"]
        extra = (f"inspect {s['inspect_s']:.0f} s, engine {s['transcribe_s']:.0f} s, "
                 f"speakers {s['speakers_s']:.0f} s; {s['windows']} windows, "
                 f"{s['speakers']} speakers, flags {s['flags'] or '-'}" if s else "-")
        rows.append([key, f"{r['duration']:.0f} s", f"{r['rtf']:.3f}", f"{r['cpu']:.0f} s",
                     f"{r['load_mb']:.0f} MB", f"{r['peak_mb']:.0f} MB", r["wer"], extra,
                     r["load"]])
    ratio_rows = []
    if len(inputs) == 2:
        (lo, _), (hi, _) = inputs
        for who in ("outtask", "peer"):
            res[who] = {"ratio": res[f"{who} {hi}"]["peak_mb"] / res[f"{who} {lo}"]["peak_mb"]}
            ratio_rows.append([who, f"{res[f'{who} {lo}']['peak_mb']:.0f} MB",
                               f"{res[f'{who} {hi}']['peak_mb']:.0f} MB",
                               f"{res[who]['ratio']:.2f}x"])
    rep.add([f"## Whole path on long inputs: peak RSS and RTF, model {model}", "",
             "Each row is a fresh process. outtask = Transcriber.transcribe(path), "
             "diarize=True (inspect + windowed decode + faster-whisper + speakers + quality). "
             f"peer = plain WhisperModel.transcribe(path), int8, VAD on, beam {a.beam}, "
             f"{a.threads} threads, no speakers. Peak RSS = VmHWM of the process "
             "(ffmpeg decoder children not included); 'after load' = peak before the input "
             "is touched.", "", *table(["run", "audio", "RTF", "CPU", "RSS after load",
                                        "peak RSS", "WER", "breakdown", "load avg"], rows)]
            + (table(["who", "peak RSS 10 min", "peak RSS 60 min", "60 / 10"], ratio_rows)
               if ratio_rows else []))
    return res


# ---------------------------------------------------------------- goals and main
def goals(acc: dict, spk: dict, spd: dict, mem: dict, model: str) -> list[str]:
    r = acc.get((model, ENGINES[0]), {})
    whole = mem.get("outtask 10 min", {}).get("rtf")
    checks = [  # goal, measured value, limit, "ge"/"le", format
        ("speed ratio faster/openai >= 4 (10-min input)", spd.get("ratio"), 4, "ge", "{:.2f}x"),
        (f"RTF <= 0.10, {model}, outtask faster-whisper (10-min input, no speakers)",
         spd.get("rtf"), 0.10, "le", "{:.3f}"),
        (f"RTF <= 0.10, {model}, whole path with speakers (10-min input)", whole, 0.10, "le",
         "{:.3f}"),
        (f"WER <= 5 % on LibriSpeech (pooled), {model}, outtask faster-whisper", r.get("libri"),
         0.05, "le", "{:.1%}"),
        (f"WER <= 12 % on the call, {model}, outtask faster-whisper", r.get("call"), 0.12, "le",
         "{:.1%}"),
        ("peak RSS 60 min <= 1.3 x 10 min (outtask, whole path)",
         mem.get("outtask", {}).get("ratio"), 1.3, "le", "{:.2f}x"),
    ]
    rows = []
    for goal, value, limit, how, fmt in checks:
        if value is None:
            rows.append([goal, "not run", "not run"])
        else:
            ok = value >= limit if how == "ge" else value <= limit
            rows.append([goal, fmt.format(value).replace("%", " %"), "met" if ok else "**missed**"])
    if "der" in spk:
        rows.append(["DER on the call (no goal set; RECIPES: 18.5 %)", pct(spk["der"]), "-"])
    return ["## Goals", "", *table(["goal", "measured", "status"], rows)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="tiny.en,base")
    p.add_argument("--skip-long", action="store_true", help="no 10- or 60-minute runs")
    p.add_argument("--skip-60", action="store_true", help="no 60-minute run")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--out", type=Path)
    p.add_argument("--cache-dir", type=Path)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--diarize", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--warmup", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from transcription.models import DEFAULT_MODEL, default_cache_dir

    a.cache_dir = a.cache_dir or default_cache_dir()
    if a.child:
        return child(a)
    models = [m.strip() for m in a.models.split(",") if m.strip()]
    rep = Report(a.out)
    with tempfile.TemporaryDirectory(prefix="outtask-bench-") as tmp:
        ten = sixty = None
        how = "no long inputs (--skip-long)"
        if not a.skip_long:
            log("making the long inputs")
            ten, sixty, how = make_long_inputs(Path(tmp), with_60=not a.skip_60)
        rep.add([f"# outtask transcription benchmark ({time.strftime('%Y-%m-%d %H:%M')})", "",
                 f"Machine: {machine_facts()}. Shared machine: other work may have run at the "
                 "same time (load average per long run is shown).", "",
                 f"Inputs: shared recordings in ../shared/audio (jfk.flac 11 s, 4 LibriSpeech "
                 f"test-clean clips 2-10 s, pyannote-sample.wav 30 s call); {how}", "",
                 f"Settings: beam {a.beam}, {a.threads} threads, int8 (faster-whisper), "
                 f"float32 (openai-whisper), VAD on everywhere. Default model: {DEFAULT_MODEL}.",
                 ""])
        acc = accuracy(models, a, rep)
        try:
            spk = speakers(DEFAULT_MODEL, a, rep)
        except ImportError as e:
            spk = {}
            rep.add([f"## Speakers: not run ({e})", ""])
        spd: dict[str, Any] = {}
        mem: dict[str, Any] = {}
        if ten is not None:
            spd = speed_ratio(ten, DEFAULT_MODEL, a, rep)
            inputs = [("10 min", ten)] + ([("60 min", sixty)] if sixty else [])
            mem = memory(inputs, DEFAULT_MODEL, a, rep)
        rep.add(goals(acc, spk, spd, mem, DEFAULT_MODEL)
                + [f"Total benchmark time {time.perf_counter() - T0:.0f} s; load average at end "
                   f"{os.getloadavg()[0]:.2f}."])


if __name__ == "__main__":
    main()
