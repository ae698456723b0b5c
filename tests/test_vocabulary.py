"""Names right: the vocabulary as decoding hints, near misses respelled by a fixed rule, and
no hint word where nobody said it.

The rule is tested on the near misses tiny.en really makes (from the espeak-ng recordings below)
and on ordinary English that must come through untouched; the whole on real audio, spoken by
espeak-ng, with and without the vocabulary, and on a recording that is mostly silence and noise.
"""

from __future__ import annotations

import json
import subprocess
import wave
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import librispeech_refs, normalize, wer
from transcription import vocabulary as vz
from transcription.engines import DecodeOptions
from transcription.pipeline import TranscribeOptions
from transcription.transcript import Segment, Transcript, Word

#: an engagement's vocabulary: executives, companies, products (all of it, for every interview)
VOCABULARY = (
    "Hester Prynne", "Zentravia", "Halvorsen Logistics", "Abigail Claflin", "Dmitri Volkonsky",
    "Quillfeather", "Marisol Okonkwo", "Brightwater Analytics", "Thaddeus Kowalczyk",
    "Priyanka Venkataraman", "Nordhaven Capital", "Siobhan Gallagher", "Veridian",
    "Lars Halvorsen", "Kestrel", "Orbisoft", "Calderon Systems", "Ingrid Solberg", "Aurelius",
)
SENTENCES = (
    "Hester Prynne joined Zentravia from Halvorsen Logistics last spring.",
    "Abigail Claflin runs the procurement team at Zentravia.",
    "We asked Dmitri Volkonsky about the Quillfeather platform.",
    "Marisol Okonkwo said Brightwater Analytics doubled its revenue.",
    "The board hired Thaddeus Kowalczyk as chief financial officer.",
    "Priyanka Venkataraman leads sales for Nordhaven Capital in Europe.",
    "Our interview with Siobhan Gallagher covered the Veridian rollout.",
    "Lars Halvorsen built the Kestrel routing engine in two years.",
    "Customers compare Zentravia's prices with Orbisoft and Calderon Systems.",
    "Ingrid Solberg expects the Aurelius product line to grow next year.",
)
NAME_WORDS = frozenset(w for term in VOCABULARY for w in normalize(term).split())

slow = pytest.mark.slow


# -- the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(("heard", "meant"), [
    ("Hester Prin joined us", "Hester Prynne joined us"),
    ("Abigail Klafflin runs procurement", "Abigail Claflin runs procurement"),
    ("she left mentravia in May", "she left Zentravia in May"),
    ("at Nentravia.", "at Zentravia."),
    ("mentravia's prices", "Zentravia's prices"),  # possessive kept
    ("Ventravia's prices rose", "Zentravia's prices rose"),
    ("Abigail Clafflin said so", "Abigail Claflin said so"),
    ("Klafflin, as usual", "Claflin, as usual"),  # a surname alone, punctuation kept
    ("from Halverson Logistics last spring", "from Halvorsen Logistics last spring"),
    ("Marisol Akonko sent", "Marisol Okonkwo sent"),
    ("We ask, Demetri Volkonsky about", "We ask, Dmitri Volkonsky about"),
    ("Priyanka Venkata Raman leads", "Priyanka Venkataraman leads"),  # two words heard as one
    ("sent right water analytic, stumbled", "sent Brightwater Analytics, stumbled"),
    ("the Meridian rollout", "the Veridian rollout"),
    ("Hester Prince was there", "Hester Prynne was there"),  # an ordinary word, but anchored
    ("HESTER PRYNNE", "Hester Prynne"),
    ("zentravia", "Zentravia"),
])
def test_near_misses_are_respelled(heard, meant):
    assert vz.correct_text(heard, VOCABULARY) == (meant, 1)


@pytest.mark.parametrize("text", [
    "the prince and the prune",  # both sound like Prynne
    "we print the logistics report",  # "Prin(t)", and Logistics is no name on its own
    "a Zentravia deal",  # spelled right: the article stays
    "Hester, Prin said",  # punctuation between: not one name
    "He said prin.",  # too far from Prynne alone, with no first name to anchor it
    "our kestrels and the veridical view",
    "the solar berg and the cold run",
    "Zentravia's prices and Hester Prynne's team",
])
def test_ordinary_words_stay(text):
    assert vz.correct_text(text, VOCABULARY) == (text, 0)


def test_common_words_need_an_almost_exact_match():
    assert vz.correct_text("mark my words", ["Marek"]) == ("mark my words", 0)
    assert vz.correct_text("a rose garden", ["Rosa"]) == ("a rose garden", 0)
    assert vz.correct_text("apple pie", ["Apple"]) == ("apple pie", 0)  # not even the case
    assert vz.correct_text("Marec said", ["Marek"]) == ("Marek said", 1)


#: what executives say, full of words that sound or look like the names above
ORDINARY = """
The prince of our market is price: we print the logistics report every quarter and prune the
suppliers that miss. Central planning meant mentoring each venture, and our veterans travel to
every hotel and gallery on the calendar. Salaries went up, the solder line moved to Chester, and
the trivia about our orbit of software vendors is that soft costs rose. Kestrels nest on the
roof of the warehouse; the veridical view is that the capital spend was a cascade of mistakes.
Our chief financial officer hired two analysts, the board approved the budget, and the harbor
freight contract runs out in March. We asked the liars to leave; a hostess, a sister and a
mister all complained about the quill pens. Solar panels, a soldering iron and a golden
aurora: nobody said a name here, and no name should appear.
"""


def test_ordinary_english_comes_through_untouched(audio_dir):
    """Read English (LibriSpeech, JFK, the pyannote sample) and an executive's business talk
    against the vocabulary: not one word is respelled, in any case."""
    texts = [*librispeech_refs(audio_dir).values(), (audio_dir / "jfk.txt").read_text(),
             (audio_dir / "pyannote-sample.txt").read_text(), *ORDINARY.split(". ")]
    assert sum(len(t.split()) for t in texts) > 300
    for text in texts:
        for variant in (text, text.lower(), text.title()):
            assert vz.correct_text(variant, VOCABULARY)[1] == 0, variant


def test_a_word_the_model_was_sure_of_is_not_respelled():
    """A rarer English word said and heard right can look like a near miss of a name; the
    model's own confidence in it decides."""
    def said(probability: float) -> Segment:
        words = (Word(0.0, 0.3, "a", 0.9), Word(0.3, 0.8, "cauldron.", probability))
        return Segment(0.0, 0.8, "a cauldron.", -0.2, 0.02, words)

    assert vz.correct_segment(said(0.95), VOCABULARY) == (said(0.95), 0)
    assert vz.correct_segment(said(0.3), VOCABULARY)[0].text == "a Calderon."


def test_phonetic_key():
    assert vz.phonetic_key("Prynne") == vz.phonetic_key("Prin") == "PRN"
    assert vz.phonetic_key("Claflin") == vz.phonetic_key("Klafflin") == "KLFLN"
    assert vz.phonetic_key("Zentravia") == "SNTRF"
    assert vz.phonetic_key("prince") == "PRNS"
    assert vz.phonetic_key("Halverson") == vz.phonetic_key("Halvorsen")


def test_segment_words_and_text_stay_consistent():
    words = (Word(0.0, 0.4, "Priyanka", 0.6), Word(0.4, 0.8, "Venkata", 0.4),
             Word(0.8, 1.2, "Raman", 0.5), Word(1.2, 1.5, "met", 0.9),
             Word(1.5, 1.9, "Hester", 0.7), Word(1.9, 2.3, "Prin.", 0.3))
    seg = Segment(0.0, 2.3, "Priyanka Venkata Raman met Hester Prin.", -0.3, 0.05, words)
    fixed, n = vz.correct_segment(seg, VOCABULARY)
    assert n == 2
    assert fixed.text == "Priyanka Venkataraman met Hester Prynne."
    assert fixed.text == " ".join(w.text for w in fixed.words)
    assert [w.text for w in fixed.words] == ["Priyanka", "Venkataraman", "met", "Hester",
                                             "Prynne."]
    # same number of words: times and probabilities kept; two heard as one: spans both
    assert fixed.words[3:] == (Word(1.5, 1.9, "Hester", 0.7), Word(1.9, 2.3, "Prynne.", 0.3))
    assert (fixed.words[1].start, fixed.words[1].end, fixed.words[1].probability) == (0.4, 1.2,
                                                                                      0.4)
    assert (fixed.start, fixed.end, fixed.avg_logprob) == (seg.start, seg.end, seg.avg_logprob)


def test_text_that_splits_unlike_the_words():
    words = (Word(0.0, 0.3, "at", 0.9), Word(0.3, 0.6, "cold", 0.5), Word(0.6, 0.8, "-run", 0.4),
             Word(0.8, 1.0, "mentravia.", 0.4))
    seg = Segment(0.0, 1.0, "at cold-run mentravia.", -0.3, 0.05, words)
    fixed, n = vz.correct_segment(seg, VOCABULARY)
    assert (fixed.text, n) == ("at cold-run Zentravia.", 1)
    assert fixed.words[-1] == Word(0.8, 1.0, "Zentravia.", 0.4)


def _transcript(*segments: Segment) -> Transcript:
    return Transcript(segments=segments, duration=30.0, engine="faster-whisper", model="tiny.en",
                      options=TranscribeOptions(vocabulary=VOCABULARY).identity())


def _seg(start: float, text: str, *, no_speech: float = 0.05, length: float = 0.4,
         probability: float = 0.5) -> Segment:
    words = tuple(Word(round(start + i * length, 3), round(start + (i + 1) * length, 3), w,
                       probability) for i, w in enumerate(text.split()))
    return Segment(start, words[-1].end, text, -0.4, no_speech, words)


def test_correct_records_counts_and_round_trips():
    t = _transcript(_seg(0.0, "Hester Prin joined mentravia."), _seg(5.0, "We grew fast."))
    out = vz.correct(t, VOCABULARY)
    assert out.text == "Hester Prynne joined Zentravia. We grew fast."
    assert out.options["vocabulary_corrections"] == 2
    assert out.options["vocabulary_phantoms"] == 0
    assert out.options["vocabulary"] == list(VOCABULARY)
    assert Transcript.from_json(out.to_json()) == out
    assert vz.correct(t, ()) is t


def test_phantoms_are_dropped():
    said = _seg(0.0, "Hester Prynne joined Zentravia from Halvorsen Logistics.")
    t = _transcript(
        said,
        # the model's own "not speech", squeezed into the padding after the words
        _seg(4.0, "Hester Prynne, Hester Prynne, Hester Prynne,", no_speech=0.93, length=0.01),
        # the glossary read back over speech it could not make out
        _seg(6.0, "Kestrel, Orbisoft, Kestrel, Orbisoft.", no_speech=0.2),
        # names in a second that has no sound at all
        _seg(10.0, "Abigail Claflin.", no_speech=0.3),
        # a hinted decode running on into the padding, repeating itself
        _seg(12.0, "We grew fast. We grew fast.", no_speech=0.95, length=0.005),
    )
    levels = [-20.0] * 10 + [-90.0] * 2 + [-20.0] * 18
    out = vz.correct(t, VOCABULARY, second_levels_dbfs=levels, hinted=True)
    assert out.segments == (said,)
    assert out.options["vocabulary_phantoms"] == 4
    # the same names said, slowly and with sound, stay
    assert vz.is_phantom(_seg(0.0, "Abigail Claflin."), VOCABULARY, [True] * 5) is False


def test_names_forced_in_by_the_hints_are_dropped():
    words = (Word(0.0, 0.3, "Brightwater", 0.4), Word(0.3, 0.6, "Analytics,", 0.2),
             Word(0.6, 0.9, "Abigail", 0.15), Word(0.9, 0.9, "Claflin,", 0.0),
             Word(0.9, 1.3, "revenue.", 0.3))
    seg = Segment(0.0, 1.3, "Brightwater Analytics, Abigail Claflin, revenue.", -0.5, 0.05, words)
    out, n = vz.drop_unlikely(seg, VOCABULARY)
    assert (out.text, n) == ("Brightwater Analytics, revenue.", 1)
    assert [w.text for w in out.words] == ["Brightwater", "Analytics,", "revenue."]
    # without hints nothing is forced in, so nothing is dropped
    t = vz.correct(_transcript(seg), VOCABULARY, hinted=False)
    assert t.segments[0].text == seg.text


def test_identity_changes_only_with_a_vocabulary():
    plain = TranscribeOptions()
    assert "vocabulary" not in plain.identity()
    assert TranscribeOptions(vocabulary=()).identity() == plain.identity()
    named = TranscribeOptions(vocabulary=("Zentravia",)).identity()
    assert named["vocabulary"] == ["Zentravia"]
    assert named["hint_decoding"] is False  # hinted and unhinted transcripts never mix
    assert {k: v for k, v in named.items()
            if k not in ("vocabulary", "hint_decoding")} == plain.identity()
    json.dumps(named)


def test_glossary_fits_its_budget():
    g = vz.glossary(VOCABULARY)
    assert g is not None and g.startswith("Hester Prynne, Zentravia, ") and g.endswith(".")
    assert len(g) <= vz.HINT_CHARS
    assert vz.glossary(["  Hester   Prynne ", "Hester Prynne"]) == "Hester Prynne."
    assert vz.glossary([]) is None


# -- real audio ----------------------------------------------------------------------------


def _samples(path: Path) -> np.ndarray:
    pcm = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-ac",
                          "1", "-ar", "16000", "-f", "s16le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(pcm, np.int16).astype(np.float32) / 32768


def _write(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


@pytest.fixture(scope="module")
def spoken(tmp_path_factory, espeak) -> list[Path]:
    folder = tmp_path_factory.mktemp("names")
    paths = []
    for i, sentence in enumerate(SENTENCES):
        path = folder / f"s{i}.wav"
        subprocess.run([espeak, "-v", "en-gb+m3", "-w", str(path), sentence], check=True)
        paths.append(path)
    return paths


def _names(text: str) -> Counter:
    return Counter(w for w in normalize(text).replace("'s", "").split() if w in NAME_WORDS)


def _score(refs: list[str], hyps: list[str]) -> tuple[float, int, float]:
    """Names error rate (vocabulary word occurrences said but not written), names written
    that were not said, and WER."""
    said = wrong = inserted = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        r, h = _names(ref), _names(hyp)
        said += sum(r.values())
        wrong += sum(max(r[w] - h[w], 0) for w in r)
        inserted += sum(max(h[w] - r[w], 0) for w in h)
    return wrong / said, inserted, wer(" ".join(refs), " ".join(hyps))


@slow
def test_names_error_rate_drops_with_the_vocabulary(transcriber_factory, spoken):
    plain = transcriber_factory(TranscribeOptions(model="tiny.en", diarize=False))
    # hints to the decoder are opt-in (they garble interviews: see hint_decoding); on these
    # single sentences they help, and their echoes must still be dropped
    named = transcriber_factory(TranscribeOptions(model="tiny.en", diarize=False,
                                                  vocabulary=VOCABULARY, hint_decoding=True))
    before = [plain.transcribe(p) for p in spoken]
    after = [named.transcribe(p) for p in spoken]
    corrected_only = [vz.correct(t, VOCABULARY).text for t in before]
    refs = list(SENTENCES)
    b = _score(refs, [t.text for t in before])
    c = _score(refs, corrected_only)
    a = _score(refs, [t.text for t in after])
    print(f"\nnames error / inserted / WER: plain {b[0]:.2f} / {b[1]} / {b[2]:.2f}; "
          f"corrected {c[0]:.2f} / {c[1]} / {c[2]:.2f}; hinted+corrected "
          f"{a[0]:.2f} / {a[1]} / {a[2]:.2f}")
    assert b[0] > 0.5  # tiny.en gets most of these names wrong on its own
    assert c[0] <= b[0] - 0.05 and c[1] == 0 and c[2] <= b[2]
    assert a[0] <= b[0] - 0.2
    assert a[1] <= 1  # names written where they were not said
    assert a[2] <= b[2]
    assert sum(t.options["vocabulary_corrections"] for t in after) >= 1
    assert all(Transcript.from_json(t.to_json()) == t for t in after)


@slow
@pytest.mark.parametrize("vad", [True, False])
def test_no_hint_word_on_silence_or_noise(transcriber_factory, spoken, audio_dir, tmp_path, vad):
    """Three sentences with names and JFK between long stretches of digital silence and white
    noise: no vocabulary word is written more often than it is said, nor inside a stretch
    where nothing is said."""
    rng = np.random.default_rng(7)

    def quiet(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * 16000), np.float32)

    def noise(seconds: float, dbfs: float) -> np.ndarray:
        return (rng.standard_normal(int(seconds * 16000)) * 10 ** (dbfs / 20)).astype(np.float32)

    parts: list[tuple[np.ndarray, str | None]] = [
        (quiet(15), None), (_samples(spoken[0]), SENTENCES[0]), (quiet(20), None),
        (noise(15, -35), None), (_samples(spoken[1]), SENTENCES[1]), (quiet(20), None),
        (noise(10, -25), None), (_samples(audio_dir / "jfk.flac"), "jfk"), (quiet(15), None),
        (_samples(spoken[7]), SENTENCES[7]), (quiet(20), None)]
    empty, t = [], 0.0
    for samples, said in parts:
        if said is None:
            empty.append((t + 1.0, t + len(samples) / 16000 - 1.0))
        t += len(samples) / 16000
    path = _write(tmp_path / "padded.wav", np.concatenate([s for s, _ in parts]))
    options = TranscribeOptions(model="tiny.en", diarize=False, vocabulary=VOCABULARY,
                                hint_decoding=True, decode=DecodeOptions(vad=vad))
    out = transcriber_factory(options).transcribe(path)
    said = _names(" ".join(s for _, s in parts if s and s != "jfk"))
    written = _names(out.text)
    assert not written - said, f"names written more often than said: {written - said}"
    for seg in out.segments:
        for w in seg.words:
            if letters := vz.letters_of(w.text.replace("'s", "")):
                middle = (w.start + w.end) / 2
                inside = [e for e in empty if e[0] <= middle <= e[1]]
                assert not (letters in NAME_WORDS and inside), (w, inside)
    assert "country" in out.text  # the speech itself is still there
