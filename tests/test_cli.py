"""``outtask transcribe`` as a user and a script see it: files, tables, JSON, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, ffmpeg, wer

OUTTASK = [sys.executable, "-c", "from flows.cli import main; main()"]


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "OUTTASK_HOME": str(cwd / "home"), **(env or {})}
    return subprocess.run([*OUTTASK, *args], cwd=cwd, env=e, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_transcribe_writes_every_format_and_a_json_summary(audio_dir, model_cache, tmp_path):
    r = run("transcribe", str(audio_dir / "jfk.flac"), "--out", str(tmp_path / "out"), "--json",
            cwd=tmp_path, env={"OUTTASK_MODEL_CACHE": str(model_cache)})
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    [row] = summary["files"]
    assert row["status"] == "transcribed" and row["error"] is None
    assert row["speakers"] == ["Speaker 1"] and row["flags"] == []
    assert set(row["outputs"]) == {"txt", "json", "srt", "vtt"}
    out = tmp_path / "out"
    assert wer((audio_dir / "jfk.txt").read_text(), (out / "jfk.txt").read_text()) <= 0.10
    assert (out / "jfk.vtt").read_text().startswith("WEBVTT")
    assert json.loads((out / "jfk.json").read_text())["model"] == "tiny.en"


@pytest.mark.slow
def test_a_batch_with_bad_files_finishes_the_good_ones_and_exits_1(audio_dir, model_cache,
                                                                     tmp_path):
    (tmp_path / "empty.m4a").write_bytes(b"")
    (tmp_path / "notes.mp3").write_text("not audio at all")
    (tmp_path / "truncated.flac").write_bytes((audio_dir / "jfk.flac").read_bytes()[:20000])
    clip = tmp_path / "exec-2.m4a"
    ffmpeg("-i", str(audio_dir / "librispeech" / "1089-134691-0001.flac"), "-c:a", "aac",
           str(clip))
    files = ["empty.m4a", "notes.mp3", "exec-2.m4a", "truncated.flac"]
    r = run("transcribe", *files, "--format", "txt", "--out", "out", cwd=tmp_path,
            env={"OUTTASK_MODEL_CACHE": str(model_cache)})
    assert r.returncode == 1
    assert "Traceback" not in r.stderr + r.stdout
    for name, words in [("empty.m4a", "empty"), ("notes.mp3", "not an audio recording"),
                        ("truncated.flac", "truncated")]:
        assert f"{name}: " in r.stderr and words in r.stderr
        assert (tmp_path / name).exists()  # nothing is deleted
    assert (tmp_path / "out" / "exec-2.txt").is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["exec-2.txt"]
    assert "refused" in r.stdout and "transcribed" in r.stdout  # the summary table


def test_usage_and_configuration_errors_exit_2_without_a_traceback(audio_dir, tmp_path):
    cases = [
        ("transcribe", str(audio_dir / "jfk.flac"), "--model", "large-v9"),
        ("transcribe", str(audio_dir / "jfk.flac"), "--engine", "whisper.cpp"),
        ("transcribe", str(audio_dir / "jfk.flac"), "--format", "docx"),
        ("transcribe", "--no-such-option"),
    ]
    for args in cases:
        r = run(*args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.strip()
    r = run("transcribe", str(audio_dir / "jfk.flac"), cwd=tmp_path,
            env={"OUTTASK_MAX_AUDIO_HOURS": "-1"})
    assert r.returncode == 2 and "MAX_AUDIO_HOURS" in r.stderr.upper()


def test_models_lists_installed_weights_as_json(tmp_path, model_cache):
    r = run("models", "--json", cwd=tmp_path, env={"OUTTASK_MODEL_CACHE": str(model_cache)})
    assert r.returncode == 0, r.stderr
    rows = {m["name"]: m for m in json.loads(r.stdout)["models"]}
    assert rows["tiny.en"]["status"] == "ok" and rows["tiny.en"]["default"]
    assert rows["base"]["status"] == "ok" and rows["base"]["multilingual"]


def test_the_console_script_is_installed():
    exe = Path(sys.executable).parent / "outtask"
    assert exe.is_file(), "pip install -e . did not create the outtask console script"
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "transcribe" in r.stdout
