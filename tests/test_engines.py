"""Both engines on the same weights: same recordings, WER within 2 points of each other."""

from __future__ import annotations

import jiwer
import pytest

from tests.conftest import librispeech_refs, normalize, wer
from transcription.pipeline import TranscribeOptions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recordings(audio_dir):
    refs = librispeech_refs(audio_dir)
    items = [(audio_dir / "jfk.flac", (audio_dir / "jfk.txt").read_text()),
             (audio_dir / "pyannote-sample.wav", (audio_dir / "pyannote-sample.txt").read_text())]
    items += [(audio_dir / "librispeech" / f"{k}.flac", v) for k, v in sorted(refs.items())]
    return items


@pytest.mark.parametrize("model", ["tiny.en", "base"])
def test_engines_agree_on_the_shared_recordings(model, recordings, transcriber_factory):
    results = {}
    texts: dict[str, dict[str, str]] = {}
    for engine in ("faster-whisper", "openai-whisper"):
        t = transcriber_factory(TranscribeOptions(engine=engine, model=model, diarize=False))
        hyps = {path.name: t.transcribe(path) for path, _ in recordings}
        texts[engine] = {name: tr.text for name, tr in hyps.items()}
        results[engine] = {name: wer(ref, hyps[name].text)
                           for name, ref in ((p.name, r) for p, r in recordings)}
        for tr in hyps.values():
            assert tr.engine == engine and tr.model == model
            assert all(s.words for s in tr.segments)  # word timings from both engines
    fw, ow = results["faster-whisper"], results["openai-whisper"]
    # corpus WER (all words of all recordings): a per-file average would let one word of an
    # 8-word clip weigh as much as the whole 30-second call
    refs = [normalize(ref) for _, ref in recordings]
    corpus = {e: jiwer.wer(refs, [normalize(texts[e][p.name]) for p, _ in recordings])
              for e in texts}
    assert abs(corpus["faster-whisper"] - corpus["openai-whisper"]) <= 0.02, (corpus, results)
    for name in fw:
        # per file too, with room for one word on the shortest clips
        assert abs(fw[name] - ow[name]) <= 0.15, (name, fw[name], ow[name])
    assert fw["jfk.flac"] <= 0.05 and ow["jfk.flac"] <= 0.05
