"""CTranslate2 -> openai-whisper conversion, on the real shipped weights (no mocks)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from transcription.engines import ct2_convert
from transcription.errors import ModelCorruptError
from transcription.models import resolve

torch = pytest.importorskip("torch")
whisper_model = pytest.importorskip("whisper.model")

REPO = Path(__file__).resolve().parents[1]
AUDIO_DIR = REPO.parent / "shared" / "audio"

EXPECTED_DIMS = {
    "tiny.en": {"n_vocab": 51864, "layers": 4, "width": 384, "heads": 6},
    "base": {"n_vocab": 51865, "layers": 6, "width": 512, "heads": 8},
}


@pytest.fixture(scope="session", autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache per session: base's model.bin is joined from its two parts only once."""
    return tmp_path_factory.mktemp("outtask-cache")


def test_module_import_does_not_import_torch() -> None:
    code = "import sys, transcription.engines.ct2_convert; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_read_ct2_model_tiny_en() -> None:
    variables, aliases = ct2_convert.read_ct2_model(resolve("tiny.en").path / "model.bin")
    assert aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    assert variables["encoder/num_heads"].shape == ()
    assert int(variables["encoder/num_heads"]) == 6
    assert variables["encoder/num_heads"].dtype == np.int16
    emb = variables["decoder/embeddings/weight"]
    assert emb.shape == (51864, 384) and emb.dtype == np.float16
    qkv_bias = variables["encoder/layer_0/self_attention/linear_0/bias"]
    assert qkv_bias.shape == (3 * 384,)
    assert not qkv_bias[384:768].any(), "the fused key bias is expected to be zeros"


def test_read_ct2_model_rejects_bad_files(tmp_path: Path) -> None:
    src = resolve("tiny.en").path / "model.bin"
    truncated = tmp_path / "truncated.bin"
    with open(src, "rb") as f:
        truncated.write_bytes(f.read(1 << 20))
    with pytest.raises(ModelCorruptError, match="truncated|wrong size"):
        ct2_convert.read_ct2_model(truncated)
    wrong_version = tmp_path / "v99.bin"
    wrong_version.write_bytes((99).to_bytes(4, "little") + b"\0" * 64)
    with pytest.raises(ModelCorruptError, match="binary version 99"):
        ct2_convert.read_ct2_model(wrong_version)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tiny.en", "base"])
def test_converted_checkpoint_matches_openai_whisper(
    name: str, model_cache: Path, tmp_path: Path
) -> None:
    model = resolve(name, model_cache)
    out = ct2_convert.convert(model.path, tmp_path / "model.pt")
    assert out == tmp_path / "model.pt"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"], "temp file left behind"
    # cloned slices: the checkpoint is about as large as model.bin, not ~2x
    assert out.stat().st_size < 1.01 * (model.path / "model.bin").stat().st_size

    checkpoint = torch.load(out, map_location="cpu", weights_only=True)
    dims = checkpoint["dims"]
    exp = EXPECTED_DIMS[name]
    assert dims == {
        "n_mels": 80,
        "n_audio_ctx": 1500,
        "n_audio_state": exp["width"],
        "n_audio_head": exp["heads"],
        "n_audio_layer": exp["layers"],
        "n_vocab": exp["n_vocab"],
        "n_text_ctx": 448,
        "n_text_state": exp["width"],
        "n_text_head": exp["heads"],
        "n_text_layer": exp["layers"],
    }
    fresh = whisper_model.Whisper(whisper_model.ModelDimensions(**dims))
    want = {k: tuple(v.shape) for k, v in fresh.state_dict().items()}
    state_dict = checkpoint["model_state_dict"]
    assert {k: tuple(v.shape) for k, v in state_dict.items()} == want
    fresh.load_state_dict(state_dict, strict=True)

    # spot-check the fused layouts against the source rows
    variables, _ = ct2_convert.read_ct2_model(model.path / "model.bin")
    width = exp["width"]
    qkv = variables["decoder/layer_1/self_attention/linear_0/weight"]
    kv = variables["decoder/layer_1/attention/linear_1/weight"]
    block = "decoder.blocks.1"
    assert np.array_equal(state_dict[f"{block}.attn.value.weight"].numpy(), qkv[2 * width :])
    assert np.array_equal(state_dict[f"{block}.cross_attn.key.weight"].numpy(), kv[:width])
    assert np.array_equal(state_dict[f"{block}.cross_attn.value.weight"].numpy(), kv[width:])


@pytest.mark.slow
def test_load_openai_model_caches_and_reconverts(tmp_path: Path) -> None:
    model = resolve("tiny.en")
    checkpoint = tmp_path / "models" / "tiny.en" / "openai-whisper.pt"
    sidecar = checkpoint.with_name("openai-whisper.pt.json")

    def load() -> object:
        return ct2_convert.load_openai_model(model.path, model.sha256, tmp_path, "tiny.en", 2)

    def age_checkpoint() -> int:
        # set an old mtime so that a rewrite is visible even on coarse-timestamp filesystems
        os.utime(checkpoint, ns=(1_000_000_000, 1_000_000_000))
        return checkpoint.stat().st_mtime_ns

    first = load()
    assert not first.training
    meta = json.loads(sidecar.read_text())
    assert meta["model_sha256"] == model.sha256
    assert meta["converter_version"] == ct2_convert.CONVERTER_VERSION
    heads = json.loads((model.path / "config.json").read_text())["alignment_heads"]
    mask = first.alignment_heads.to_dense()
    assert mask.shape == (4, 6) and mask.dtype == torch.bool
    assert sorted(map(list, mask.nonzero().tolist())) == sorted(heads)
    assert "alignment_heads" not in first.state_dict()

    stamp = age_checkpoint()
    load()
    assert checkpoint.stat().st_mtime_ns == stamp, "a matching sidecar must reuse the file"

    for bad in ("{not json", json.dumps({**meta, "model_sha256": "0" * 64}), None):
        if bad is None:
            sidecar.unlink()
        else:
            sidecar.write_text(bad)
        stamp = age_checkpoint()
        load()
        assert checkpoint.stat().st_mtime_ns != stamp, f"sidecar {bad!r} must reconvert"
        assert json.loads(sidecar.read_text())["model_sha256"] == model.sha256
    leftovers = sorted(p.name for p in checkpoint.parent.iterdir())
    assert leftovers == ["openai-whisper.pt", "openai-whisper.pt.json"]


def _normalized(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@pytest.mark.slow
def test_both_engines_transcribe_alike(model_cache: Path) -> None:
    audio_path = AUDIO_DIR / "jfk.flac"
    if not audio_path.is_file():
        pytest.skip(f"shared test audio not found at {audio_path}")
    from faster_whisper import WhisperModel, decode_audio

    model = resolve("tiny.en")
    audio = decode_audio(str(audio_path), sampling_rate=16000)
    assert audio.dtype == np.float32

    ow = ct2_convert.load_openai_model(model.path, model.sha256, model_cache, "tiny.en", 2)
    ow_text = ow.transcribe(
        audio, beam_size=5, best_of=5, fp16=False, language="en", temperature=0.0
    )["text"]

    fw = WhisperModel(str(model.path), device="cpu", compute_type="float32", cpu_threads=2)
    segments, _ = fw.transcribe(audio, beam_size=5, language="en")
    fw_text = " ".join(s.text for s in segments)

    # the same weights give the same encoder output, not merely the same words
    import ctranslate2
    import whisper

    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio))[None]
    with torch.no_grad():
        ow_enc = ow.encoder(mel).numpy()
    features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel.numpy()))
    ct2_enc = np.array(fw.model.encode(features, to_cpu=True))
    assert ow_enc.shape == ct2_enc.shape == (1, 1500, 384)
    assert np.abs(ow_enc - ct2_enc).max() < 1e-3

    a, b = _normalized(ow_text), _normalized(fw_text)
    assert a, "openai-whisper produced no text"
    assert "ask not what your country can do for you" in a
    try:
        import jiwer
    except ImportError:
        assert a == b
    else:
        assert jiwer.wer(a, b) <= 0.02, (a, b)
