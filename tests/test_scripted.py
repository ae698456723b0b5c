"""The scripted-interview corpus generator (bench/scripted.py): deterministic, truthful, hard."""

from __future__ import annotations

import json
import re
import shutil
import wave
from pathlib import Path

import pytest
import yaml

from bench.scripted import (
    TOPICS,
    VOICE_PAIRS,
    engagement,
    load_truth,
    render,
    script,
    write_engagement,
)
from deck_builder.interview_form import parse_form
from flows.intake import EngagementFile

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed")
_STOP = frozenset(re.findall(r"\w+", "a an and are as at be by did do does for from how i if in "
                            "is it me most of on or so that the there this to was what when "
                            "where which who why will with you your"))


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z']+", text.lower()) if w not in _STOP}


def test_same_seed_same_script_and_seeds_differ() -> None:
    assert script(7, 300) == script(7, 300)
    assert script(7, 300).lines != script(8, 300).lines
    q = [TOPICS[0].question, TOPICS[5].question, TOPICS[8].question]
    assert script(3, questions=q, pair=4) == script(3, questions=q, pair=4)
    assert engagement(4, seed=2) == engagement(4, seed=2)


def test_script_shape() -> None:
    for seed in range(20):
        iv = script(seed, 300)
        asking = [ln for ln in iv.lines if ln.asks]
        assert 3 <= len(asking) <= 6 and len({ln.asks for ln in asking}) == len(asking)
        assert set(iv.themes) == {ln.asks for ln in asking}
        assert iv.lines[0].role == "interviewer" and not iv.lines[0].asks
        assert iv.executive["name"] in iv.vocabulary
        assert all(iv.points[q][0] == theme for q, theme in iv.themes.items())
        voices = {ln.role: ln.voice for ln in iv.lines}
        assert voices == {"interviewer": iv.interviewer_voice,
                          "executive": iv.executive_voice}
    long = script(1, 1800)
    assert sum(ln.follow_up for ln in long.lines) >= 10 and len(long.themes) >= 6


def test_paraphrases_share_few_words_with_the_canonical_question() -> None:
    for topic in TOPICS:
        assert len(topic.paraphrases) >= 3 and len(topic.themes) >= 3
        canonical = _content(topic.question)
        for paraphrase in topic.paraphrases:
            words = _content(paraphrase)
            assert len(words & canonical) / len(words | canonical) < 0.35, paraphrase


def test_voice_pairs_include_same_gender_ones() -> None:
    assert len(VOICE_PAIRS) >= 10
    assert len({(a.key, b.key) for a, b in VOICE_PAIRS}) == len(VOICE_PAIRS)
    genders = [(a.gender, b.gender) for a, b in VOICE_PAIRS]
    assert ("male", "male") in genders and ("female", "female") in genders
    assert all(a.key != b.key for a, b in VOICE_PAIRS)


@needs_espeak
def test_render_30s_truth_covers_the_audio(tmp_path: Path) -> None:
    iv = script(5, 30)
    truth = render(iv, tmp_path / "iv.wav")
    with wave.open(str(tmp_path / "iv.wav")) as w:
        assert (w.getframerate(), w.getnchannels()) == (16_000, 1)
        assert w.getnframes() / 16_000 == pytest.approx(truth.duration, abs=1e-3)
    assert 20 < truth.duration < 60
    assert [role for *_, role in truth.turns] == [ln.role for ln in iv.lines]
    assert truth.turns[0][0] < 0.5 and truth.turns[-1][1] > truth.duration - 0.5
    for (_, end, _), (start, _, _) in zip(truth.turns, truth.turns[1:], strict=False):
        assert 0.29 <= start - end <= 1.21  # the pauses between lines
    speech = sum(e - s for s, e, _ in truth.turns)
    assert speech > 0.6 * truth.duration
    for q, (start, end) in truth.answers.items():
        assert q in iv.themes and start < end
        assert any(s == start for s, _, r in truth.turns if r == "executive")
    assert truth.text.splitlines() == [ln.text for ln in iv.lines]
    assert truth.names_spoken[:2] == [iv.interviewer_name, iv.executive["name"]]


@needs_espeak
def test_write_engagement(tmp_path: Path) -> None:
    questions, interviews = engagement(2, seed=1, n_questions=3)
    assert len({iv.executive["name"] for iv in interviews}) == 2
    assert len({(iv.interviewer_voice, iv.executive_voice) for iv in interviews}) == 2
    truths = write_engagement(tmp_path, questions, interviews, client="bench",
                              engagement="scripted")
    doc = yaml.safe_load((tmp_path / "engagement.yaml").read_text())
    assert doc["questions"] == questions and doc["expected_interviews"] == 2
    assert {iv.executive["company"] for iv in interviews} <= set(doc["redact_terms"])
    EngagementFile.model_validate({k: v for k, v in doc.items() if k != "vocabulary"})
    for i, truth in enumerate(truths, 1):
        form = parse_form((tmp_path / f"exec-{i:02d}.form.yaml").read_bytes(), "x.form.yaml")
        assert [a.question for a in form.answers] == questions
        assert all(not a.answered_at for a in form.answers)
        saved = json.loads((tmp_path / f"exec-{i:02d}.truth.json").read_text())
        assert saved["truth"]["duration"] == truth.duration
        assert load_truth(tmp_path / f"exec-{i:02d}.truth.json") == (interviews[i - 1], truth)
        assert (tmp_path / f"exec-{i:02d}.wav").stat().st_size > 16_000
