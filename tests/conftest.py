"""Shared fixtures: the shared real recordings, formats made from them with ffmpeg, and one
speech model loaded once per test session."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "audio"

os.environ.setdefault("PREFECT_HOME", str(ROOT / ".pytest-prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


@pytest.fixture(scope="session")
def audio_dir() -> Path:
    if not (AUDIO / "jfk.flac").is_file():
        pytest.fail(f"the shared recordings are missing: expected them in {AUDIO}")
    return AUDIO


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """One model cache for the session, outside the user's ~/.cache."""
    return tmp_path_factory.mktemp("model-cache")


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def normalize(text: str) -> str:
    text = text.lower().replace("%", " percent")
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9' ]", " ", text)).strip()


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(normalize(reference), normalize(hypothesis))


def librispeech_refs(audio_dir: Path) -> dict[str, str]:
    lines = (audio_dir / "librispeech" / "trans.txt").read_text().splitlines()
    return dict(line.split(" ", 1) for line in lines if line.strip())


@pytest.fixture(scope="session")
def transcriber_factory(model_cache):
    """Transcribers keyed by their options, so each model and engine loads once."""
    from transcription.pipeline import Transcriber

    cache: dict = {}

    def make(options):
        if options not in cache:
            cache[options] = Transcriber(options, cache_dir=model_cache)
        return cache[options]

    return make


@pytest.fixture(scope="session")
def tiny(transcriber_factory):
    from transcription.pipeline import TranscribeOptions

    return transcriber_factory(TranscribeOptions(model="tiny.en"))


@pytest.fixture(scope="session")
def espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        pytest.fail("espeak-ng is not installed: run scripts/setup")
    return path


def require_service(what: str, why: str) -> None:
    """Skip when a service is truly absent, saying so; CI (OUTTASK_REQUIRE_SERVICES=1) fails."""
    if os.environ.get("OUTTASK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required here (OUTTASK_REQUIRE_SERVICES=1) but {why}")
    pytest.skip(f"{what} is not available: {why}")


@pytest.fixture(scope="session")
def moto_server():
    """A real S3/SQS server over HTTP on loopback (moto), for the whole session."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        require_service("moto server", f"moto[server] is not installed ({e})")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_client(moto_server, monkeypatch):
    import boto3

    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                 "AWS_ENDPOINT_URL": moto_server}.items():
        monkeypatch.setenv(k, v)
    return boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server for the session: $OUTTASK_TEST_POSTGRES_URL, or the throwaway cluster
    that scripts/postgres starts (or finds running)."""
    if url := os.environ.get("OUTTASK_TEST_POSTGRES_URL"):
        return url
    try:
        done = subprocess.run(["bash", str(ROOT / "scripts" / "postgres")], capture_output=True,
                              text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        require_service("PostgreSQL", f"scripts/postgres did not finish ({e})")
    if done.returncode != 0 or not done.stdout.strip():
        require_service("PostgreSQL", f"scripts/postgres failed: {done.stderr.strip()[-800:]}")
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """An empty database of each kind: a SQLite file, or a fresh PostgreSQL database per test
    (dropped afterwards), so that tests never see each other's rows."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outtask.db'}"
        return
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(request.getfixturevalue("postgres_url"))
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    name = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        # FORCE: a pool a test forgot to dispose must not keep the database alive.
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def pipeline(request, tmp_path, monkeypatch, prefect_api, model_cache, database_url):
    """A Runtime on a fresh bucket and database; bucket kind from the test's parameter."""
    import uuid

    from flows import interview

    kind = getattr(request, "param", "local")
    if kind == "s3":
        client = request.getfixturevalue("s3_client")
        name = f"outtask-{uuid.uuid4().hex[:10]}"
        client.create_bucket(Bucket=name)
        monkeypatch.setenv("OUTTASK_BUCKET", f"s3://{name}")
    else:
        monkeypatch.setenv("OUTTASK_BUCKET", str(tmp_path / "bucket"))
    monkeypatch.setenv("OUTTASK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OUTTASK_DATABASE_URL", database_url)
    monkeypatch.setenv("OUTTASK_MODEL_CACHE", str(model_cache))
    interview.runtime.cache_clear()
    yield interview.runtime()
    interview.runtime.cache_clear()


def states(rt) -> dict[str, str]:
    from flows import db

    with rt.sessions() as s:
        return {iv.key.rsplit("/", 1)[-1]: iv.state for iv in s.query(db.Interview)}


