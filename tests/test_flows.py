"""The pipeline end to end on real parts: a local folder or S3 on a moto server, SQLite or
PostgreSQL, and Prefect's API (one test harness for the whole session)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, ffmpeg, states, wer

pytestmark = pytest.mark.slow


def put(rt, key: str, path: Path) -> None:
    rt.bucket.upload(path, key)


def scan_and_run(rt):
    from flows.engagement import run_pending, scan_inbox

    return scan_inbox(rt, now=time.time() + 60), run_pending(rt)


def bucket_snapshot(rt) -> dict[str, bytes]:
    return {o.key: rt.bucket.read_bytes(o.key) for o in rt.bucket.list()}


@pytest.mark.parametrize("pipeline", ["local", "s3"], indirect=True)
def test_inbox_to_transcripts_with_bad_files_and_duplicates(pipeline, audio_dir, tmp_path):
    rt = pipeline
    garbage = tmp_path / "garbage.m4a"
    garbage.write_bytes(os.urandom(30_000))
    notes = tmp_path / "notes.txt"
    notes.write_text("agenda")
    put(rt, "inbox/acme/eng-1/exec-1.flac", audio_dir / "jfk.flac")
    put(rt, "inbox/acme/eng-1/exec-4.flac", audio_dir / "jfk.flac")  # same content
    put(rt, "inbox/acme/eng-1/exec-2.flac", audio_dir / "librispeech" / "1089-134691-0001.flac")
    put(rt, "inbox/acme/eng-1/exec-3.m4a", garbage)
    put(rt, "inbox/acme/eng-1/notes.txt", notes)
    put(rt, "inbox/acme/stray.flac", audio_dir / "jfk.flac")  # wrong depth
    inbox_before = {k: v for k, v in bucket_snapshot(rt).items() if k.startswith("inbox/")}

    scan, outcomes = scan_and_run(rt)
    assert sorted(outcomes.values()) == ["quarantined", "transcribed", "transcribed"]
    st = states(rt)
    assert st["exec-1.flac"] == "transcribed" and st["exec-2.flac"] == "transcribed"
    assert st["exec-4.flac"] == "duplicate" and st["exec-3.m4a"] == "quarantined"
    assert scan.ignored == ["inbox/acme/eng-1/notes.txt"]
    assert scan.refused == ["inbox/acme/stray.flac"]
    after = bucket_snapshot(rt)
    assert {k: v for k, v in after.items() if k.startswith("inbox/")} == inbox_before
    text = after["processed/acme/eng-1/exec-1.txt"].decode()
    assert wer((audio_dir / "jfk.txt").read_text(), text) <= 0.10
    assert not any(k.startswith("processed/acme/eng-1/exec-4") for k in after)
    reason = json.loads(after["quarantine/acme/eng-1/exec-3.m4a.reason.json"])
    assert reason["code"] == "corrupt" and reason["fix"]
    assert after["quarantine/acme/eng-1/exec-3.m4a"] == garbage.read_bytes()
    misplaced = json.loads(after["quarantine/_misplaced/inbox/acme/stray.flac.reason.json"])
    assert "inbox/<client>/<engagement>/" in misplaced["fix"]

    # a second pass changes nothing at all
    scan2, outcomes2 = scan_and_run(rt)
    assert outcomes2 == {} and scan2.registered == [] and scan2.refused == []
    assert bucket_snapshot(rt) == after


def test_a_corrected_reupload_gets_its_own_outputs(pipeline, audio_dir):
    rt = pipeline
    put(rt, "inbox/acme/eng-1/exec-1.flac", audio_dir / "jfk.flac")
    scan_and_run(rt)
    put(rt, "inbox/acme/eng-1/exec-1.flac", audio_dir / "librispeech" / "1089-134686-0000.flac")
    _, outcomes = scan_and_run(rt)
    assert list(outcomes.values()) == ["transcribed"]
    keys = {o.key for o in rt.bucket.list("processed/")}
    first = json.loads(rt.bucket.read_bytes("processed/acme/eng-1/exec-1.json"))
    others = [k for k in keys if k.startswith("processed/acme/eng-1/exec-1-")
              and k.endswith(".json")]
    assert len(others) == 1 and first["source_sha256"] != json.loads(
        rt.bucket.read_bytes(others[0]))["source_sha256"]


def test_outtasks_own_failure_is_failed_and_retried_next_run(pipeline, audio_dir, tmp_path):
    rt = pipeline
    from flows import db
    from flows.engagement import run_pending, scan_inbox

    put(rt, "inbox/acme/eng-1/exec-1.flac", audio_dir / "jfk.flac")
    scan_inbox(rt, now=time.time() + 60)
    src = Path(rt.bucket.url.removeprefix("file://")) / "inbox/acme/eng-1/exec-1.flac"
    hidden = tmp_path / "hidden.flac"
    src.rename(hidden)  # the object vanishes between intake and processing
    assert list(run_pending(rt).values()) == ["failed"]
    with rt.sessions() as s:
        iv = s.query(db.Interview).one()
        assert iv.state == "failed" and iv.reason
    assert rt.bucket.stat("quarantine/acme/eng-1/exec-1.flac") is None  # not the file's fault
    hidden.rename(src)
    assert list(run_pending(rt).values()) == ["transcribed"]
    with rt.sessions() as s:
        assert s.query(db.Interview).one().attempts == 2


def _interview_rows(url: str, sql: str) -> list[tuple]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(text(sql))]
    except DBAPIError:  # tables not created yet, or SQLite busy: ask again
        return []
    finally:
        engine.dispose()


def test_sigkill_in_the_middle_then_restart_finishes_once(audio_dir, tmp_path, model_cache,
                                                          database_url):
    """A real `outtask run` killed with SIGKILL mid-transcription; the next run finishes the
    work: one transcript, no lost file, no half-written output, and the transcription slot the
    killed process held in Prefect's concurrency limit is given back instead of blocking."""
    home = tmp_path / "home"
    inbox = home / "bucket" / "inbox" / "acme" / "eng-1"
    inbox.mkdir(parents=True)
    long = inbox / "exec-1.flac"  # ~2.5 min of real speech: long enough to be caught mid-way
    parts = [audio_dir / "pyannote-sample.wav"] * 5
    ffmpeg(*sum((["-i", str(p)] for p in parts), []), "-filter_complex",
           f"concat=n={len(parts)}:v=0:a=1", str(long))
    os.utime(long, (time.time() - 60, time.time() - 60))
    env = {**os.environ, "OUTTASK_HOME": str(home), "OUTTASK_MODEL_CACHE": str(model_cache),
           "OUTTASK_DATABASE_URL": database_url}
    for k in ("OUTTASK_BUCKET", "PREFECT_API_URL", "PREFECT_HOME"):
        env.pop(k, None)
    cmd = [sys.executable, "-c", "from flows.cli import main; main()", "run"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 180
    state = None
    while time.time() < deadline and state != "transcribing":
        time.sleep(0.5)
        rows = _interview_rows(database_url, "select state from interviews")
        state = rows[0][0] if rows else None
    assert state == "transcribing", "the run never started transcribing"
    time.sleep(3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (home / "bucket" / "processed" / "acme" / "eng-1" / "exec-1.txt").exists()

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "gave back 1 transcription slot" in done.stderr
    assert _interview_rows(database_url, "select state, attempts from interviews") == [
        ("transcribed", 2)]
    assert _interview_rows(database_url, "select count(*) from transcripts") == [(1,)]
    processed = sorted(p.name for p in (home / "bucket" / "processed").rglob("*"))
    assert processed == ["acme", "eng-1", "exec-1.json", "exec-1.srt", "exec-1.txt",
                         "exec-1.vtt"]
    assert long.is_file()


def test_engagement_file_expected_count_and_close(pipeline, audio_dir, tmp_path):
    from typer.testing import CliRunner

    from flows import db
    from flows.cli import app

    rt = pipeline
    spec = tmp_path / "engagement.yaml"
    spec.write_text("name: Market entry\nexpected_interviews: 2\ntarget_slides: 12\n"
                    "questions:\n  - What is your priority?\n")
    put(rt, "inbox/acme/eng-1/engagement.yaml", spec)
    put(rt, "inbox/acme/eng-1/exec-1.flac", audio_dir / "jfk.flac")
    scan, _ = scan_and_run(rt)
    assert scan.refused == []
    runner = CliRunner()
    shown = json.loads(runner.invoke(app, ["engagement", "show", "acme/eng-1", "--json"]).stdout)
    assert shown["name"] == "Market entry" and shown["expected_interviews"] == 2
    assert shown["counts"] == {"transcribed": 1} and not shown["ready_for_brief"]
    put(rt, "inbox/acme/eng-1/exec-2.flac", audio_dir / "librispeech" / "1089-134691-0000.flac")
    scan_and_run(rt)  # the second expected interview: handed over by itself
    with rt.sessions() as s:
        events = s.query(db.Event).filter_by(kind="ready-for-brief").all()
        assert len(events) == 1 and len(events[0].detail["transcripts"]) == 2

    put(rt, "inbox/acme/eng-2/exec-1.flac", audio_dir / "jfk.flac")
    scan_and_run(rt)
    r = runner.invoke(app, ["engagement", "close", "acme/eng-2"])
    assert r.exit_code == 0 and "handed over" in r.stdout
    r = runner.invoke(app, ["engagement", "close", "acme/nope"])
    assert r.exit_code != 0

    bad = tmp_path / "bad.yaml"
    bad.write_text("expected_interviews: many\n")
    put(rt, "inbox/acme/eng-3/engagement.yaml", bad)
    scan, _ = scan_and_run(rt)
    assert scan.refused == ["inbox/acme/eng-3/engagement.yaml"]
    reason = json.loads(rt.bucket.read_bytes("quarantine/acme/eng-3/engagement.yaml.reason.json"))
    assert "expected_interviews" in reason["message"]


def test_transcription_limit_is_declared_and_stale_slots_freed_only_when_safe(prefect_api,
                                                                               monkeypatch):
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    from flows.interview import TRANSCRIPTION_LIMIT, ensure_transcription_limit

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert ensure_transcription_limit(2, others_alive=False) == 0
    with get_client(sync_client=True) as c:
        limit = c.read_global_concurrency_limit_by_name(TRANSCRIPTION_LIMIT)
        assert (limit.limit, limit.active_slots) == (2, 0)
        # a killed process's slot: still taken while another live process works, freed after
        c.update_global_concurrency_limit(TRANSCRIPTION_LIMIT,
                                          GlobalConcurrencyLimitUpdate(active_slots=1))
        assert ensure_transcription_limit(1, others_alive=True) == 0
        limit = c.read_global_concurrency_limit_by_name(TRANSCRIPTION_LIMIT)
        assert (limit.limit, limit.active_slots) == (1, 1)
        assert ensure_transcription_limit(1, others_alive=False) == 1
        assert c.read_global_concurrency_limit_by_name(TRANSCRIPTION_LIMIT).active_slots == 0
