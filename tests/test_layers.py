"""The layering in pyproject.toml's [tool.importlinter] holds, and breaking it is caught:
domain packages never import Prefect, storage, the database, the web app or settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def test_the_layers_hold():
    ran = lint(ROOT)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "0 broken" in ran.stdout


def test_a_domain_package_importing_flows_breaks_the_build(tmp_path):
    for package in ("transcription", "deck_builder", "pricing", "flows", "portal"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "templates", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "pricing" / "sneaky.py").write_text("from flows import db  # noqa\n")
    ran = lint(tmp_path, PYTHONPATH=str(tmp_path))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "pricing.sneaky -> flows" in ran.stdout and "BROKEN" in ran.stdout
