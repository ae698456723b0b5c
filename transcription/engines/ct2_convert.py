"""Turn a CTranslate2 Whisper folder into a checkpoint that openai-whisper loads.

Weights ship only as CTranslate2 folders (see :mod:`transcription.models`), yet the
openai-whisper engine needs its own PyTorch checkpoint. Rather than shipping a second copy
of the weights, we convert the verified model.bin once into the model cache and reuse it.

model.bin layout (``ModelSpec._serialize`` in CTranslate2's python/ctranslate2/specs/
model_spec.py, read back by ``SerializedModel`` in src/models/model.cc), little-endian:
``u32 binary_version, str spec_name, u32 spec_revision, u32 n_vars`` then per variable
``str name, u8 rank, u32 dims[rank], u8 dtype_id, u32 num_bytes, bytes data``, then
``u32 n_aliases`` and pairs ``str alias, str target``. A ``str`` is ``u16 length`` (counting
the trailing NUL) followed by the UTF-8 bytes and the NUL. Binary versions >= 4 have this form.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ..errors import EngineUnavailableError, ModelCorruptError

if TYPE_CHECKING:
    import whisper.model

#: bump when the produced checkpoint changes, so that cached conversions are redone
CONVERTER_VERSION = 1
CHECKPOINT_NAME = "openai-whisper.pt"

# Order of the DataType enum in CTranslate2's include/ctranslate2/types.h; 5 is bfloat16,
# which numpy lacks: it is read as uint16 and widened to float32 below.
_DTYPES = {0: "<f4", 1: "<i1", 2: "<i2", 3: "<i4", 4: "<f2", 5: "<u2"}
_BFLOAT16 = 5


def _corrupt(path: Path, what: str) -> ModelCorruptError:
    return ModelCorruptError(
        f"{path} is not a readable CTranslate2 model: {what}.",
        fix="Reinstall the model's weights (see transcription.models) and delete the cached copy.",
        path=path,
    )


def _read_exact(f: IO[bytes], n: int, path: Path) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise _corrupt(path, f"truncated at byte {f.tell()}")
    return data


def _unpack(f: IO[bytes], fmt: str, path: Path) -> Any:
    return struct.unpack("<" + fmt, _read_exact(f, struct.calcsize("<" + fmt), path))[0]


def _string(f: IO[bytes], path: Path) -> str:
    raw = _read_exact(f, _unpack(f, "H", path), path)
    return raw.rstrip(b"\0").decode("utf-8")


def read_ct2_model(model_bin: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read every variable of a CTranslate2 model.bin (scalars as 0-d arrays) and its aliases
    ``{alias: target}``. Raises :class:`ModelCorruptError` for files in another format."""
    model_bin = Path(model_bin)
    variables: dict[str, np.ndarray] = {}
    aliases: dict[str, str] = {}
    with open(model_bin, "rb") as f:
        version = _unpack(f, "I", model_bin)
        if not 4 <= version <= 6:
            raise _corrupt(model_bin, f"unsupported binary version {version} (expected 4 to 6)")
        _string(f, model_bin)  # spec name, e.g. WhisperSpec
        _unpack(f, "I", model_bin)  # spec revision
        for _ in range(_unpack(f, "I", model_bin)):
            name = _string(f, model_bin)
            shape = tuple(_unpack(f, "I", model_bin) for _ in range(_unpack(f, "B", model_bin)))
            type_id = _unpack(f, "B", model_bin)
            num_bytes = _unpack(f, "I", model_bin)
            if type_id not in _DTYPES:
                raise _corrupt(model_bin, f"variable {name} has unknown dtype id {type_id}")
            # readinto a fresh array: aligned, writable, and no second copy of the file
            array = np.empty(shape, dtype=_DTYPES[type_id])
            if array.nbytes != num_bytes or f.readinto(memoryview(array).cast("B")) != num_bytes:
                raise _corrupt(model_bin, f"variable {name} has the wrong size or is truncated")
            if type_id == _BFLOAT16:
                array = (array.astype(np.uint32) << 16).view(np.float32)
            variables[name] = array
        for _ in range(_unpack(f, "I", model_bin)):
            alias = _string(f, model_bin)
            aliases[alias] = _string(f, model_bin)
    return variables, aliases


def _dequantized(variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    """Float weights even from int8/int16 models (CTranslate2 stores ``round(w * scale)``)."""
    value = variables[name]
    if value.dtype.kind == "f":
        return value
    if name + "_scale" not in variables:
        raise ValueError(f"{name} is {value.dtype} but has no {name}_scale to dequantize it")
    scale = variables[name + "_scale"].astype(np.float32)
    if scale.ndim == 1:  # int8: one scale per output row
        scale = scale[:, None]
    return (value.astype(np.float32) / scale).astype(np.float16)


def _state_dict(variables: dict[str, np.ndarray]) -> tuple[dict[str, int], dict[str, Any]]:
    """Map CTranslate2 names onto openai-whisper's ``(dims, model_state_dict)``."""
    import torch

    def t(name: str, rows: slice | None = None) -> torch.Tensor:
        value = _dequantized(variables, name)
        # clone the slices: torch.save would otherwise store the whole fused tensor per slice
        return torch.from_numpy(value[rows] if rows is not None else value).clone()

    def n_layers(side: str) -> int:  # layer_0, layer_1, ... but not layer_norm
        return len({k.split("/")[1] for k in variables if re.match(side + r"/layer_\d+/", k)})

    emb = variables["decoder/embeddings/weight"]
    conv1 = variables["encoder/conv1/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(variables["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(variables["encoder/num_heads"]),
        "n_audio_layer": n_layers("encoder"),
        "n_vocab": int(emb.shape[0]),
        "n_text_ctx": int(variables["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(emb.shape[1]),
        "n_text_head": int(variables["decoder/num_heads"]),
        "n_text_layer": n_layers("decoder"),
    }

    def norm(dst: str, src: str) -> dict[str, torch.Tensor]:
        return {f"{dst}.weight": t(f"{src}/gamma"), f"{dst}.bias": t(f"{src}/beta")}

    def linear(dst: str, src: str, rows: slice | None = None, bias: bool = True) -> dict:
        out = {f"{dst}.weight": t(f"{src}/weight", rows)}
        if bias:
            out[f"{dst}.bias"] = t(f"{src}/bias", rows)
        return out

    sd: dict[str, torch.Tensor] = {
        "encoder.positional_embedding": t("encoder/position_encodings/encodings"),
        "decoder.positional_embedding": t("decoder/position_encodings/encodings"),
        "decoder.token_embedding.weight": t("decoder/embeddings/weight"),
        **linear("encoder.conv1", "encoder/conv1"),
        **linear("encoder.conv2", "encoder/conv2"),
        **norm("encoder.ln_post", "encoder/layer_norm"),
        **norm("decoder.ln", "decoder/layer_norm"),
    }
    # openai-whisper's key projection has no bias. CTranslate2 stores zeros there, and any
    # key bias would only add a per-query constant to the scores, which softmax cancels.
    for side, width in (("encoder", dims["n_audio_state"]), ("decoder", dims["n_text_state"])):
        rows = [slice(j * width, (j + 1) * width) for j in range(3)]  # fused q,k,v / k,v
        for i in range(dims[f"n_{'audio' if side == 'encoder' else 'text'}_layer"]):
            src, dst = f"{side}/layer_{i}", f"{side}.blocks.{i}"
            sa = f"{src}/self_attention"
            sd |= linear(f"{dst}.attn.query", f"{sa}/linear_0", rows[0])
            sd |= linear(f"{dst}.attn.key", f"{sa}/linear_0", rows[1], bias=False)
            sd |= linear(f"{dst}.attn.value", f"{sa}/linear_0", rows[2])
            sd |= linear(f"{dst}.attn.out", f"{sa}/linear_1")
            sd |= norm(f"{dst}.attn_ln", f"{sa}/layer_norm")
            if side == "decoder":
                ca = f"{src}/attention"
                sd |= linear(f"{dst}.cross_attn.query", f"{ca}/linear_0")
                sd |= linear(f"{dst}.cross_attn.key", f"{ca}/linear_1", rows[0], bias=False)
                sd |= linear(f"{dst}.cross_attn.value", f"{ca}/linear_1", rows[1])
                sd |= linear(f"{dst}.cross_attn.out", f"{ca}/linear_2")
                sd |= norm(f"{dst}.cross_attn_ln", f"{ca}/layer_norm")
            sd |= linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
            sd |= linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
            sd |= norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
    return dims, sd


def convert(ct2_dir: Path, out_path: Path) -> Path:
    """Convert ``ct2_dir/model.bin`` into an openai-whisper checkpoint at ``out_path``.

    Written to a temp file beside ``out_path`` and renamed, so a crash or a concurrent
    conversion never leaves a half-written checkpoint under the final name."""
    import torch

    variables, aliases = read_ct2_model(Path(ct2_dir) / "model.bin")
    for alias, target in aliases.items():  # only decoder/projection/weight in Whisper models
        variables.setdefault(alias, variables[target])
    dims, state_dict = _state_dict(variables)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out_path.name + ".", suffix=".tmp", dir=out_path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"dims": dims, "model_state_dict": state_dict}, f)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def _sidecar_matches(checkpoint: Path, sidecar: Path, model_sha256: str) -> bool:
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        return (
            meta.get("model_sha256") == model_sha256
            and meta.get("converter_version") == CONVERTER_VERSION
            and meta.get("checkpoint_bytes") == checkpoint.stat().st_size
        )
    except (OSError, ValueError, AttributeError):
        return False


def load_openai_model(
    ct2_dir: Path, model_sha256: str, cache_dir: Path, name: str, threads: int | None = None
) -> whisper.model.Whisper:
    """Load model ``name`` into openai-whisper, converting it into the cache on first use.

    The sidecar ties the cached checkpoint to the model.bin it came from (by sha256, which
    the caller has verified) and to :data:`CONVERTER_VERSION`, so new weights or a fixed
    converter never silently reuse a stale checkpoint."""
    try:
        import torch
        import whisper
    except ImportError as exc:
        raise EngineUnavailableError(
            f"the openai-whisper engine cannot be used: {exc}.",
            fix="pip install --no-deps openai-whisper (see scripts/setup)",
        ) from exc
    if threads:
        torch.set_num_threads(threads)
    ct2_dir = Path(ct2_dir)
    checkpoint = Path(cache_dir) / "models" / name / CHECKPOINT_NAME
    sidecar = checkpoint.with_name(CHECKPOINT_NAME + ".json")
    if not _sidecar_matches(checkpoint, sidecar, model_sha256):
        convert(ct2_dir, checkpoint)
        meta = {
            "model_sha256": model_sha256,
            "converter_version": CONVERTER_VERSION,
            "checkpoint_bytes": checkpoint.stat().st_size,
            "source": str(ct2_dir / "model.bin"),
        }
        _write_json_atomic(sidecar, meta)
    model = whisper.load_model(str(checkpoint), device="cpu")
    # load_model only knows alignment heads of its own named models; a path gets the default
    # (every head of the upper half), so use the ones CTranslate2 copied into config.json.
    config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
    heads = config.get("alignment_heads")
    if heads:
        mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.eval()
