"""Work that starts by itself: S3 event notifications through SQS (a real moto server), and a
watched local inbox that stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import boto3
import pytest

from flows.listen import parse_s3_events
from tests.conftest import ROOT, states

pytestmark = pytest.mark.slow


def test_parse_skips_test_events_and_decodes_keys():
    assert parse_s3_events(json.dumps({"Event": "s3:TestEvent", "Bucket": "b"})) == []
    body = json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": "b"}, "object": {"key": "inbox/acme/eng-1/exec+1%281%29.m4a",
                                            "eTag": "abc", "size": 3, "sequencer": "0A"}}}]})
    [e] = parse_s3_events(body)
    assert e.key == "inbox/acme/eng-1/exec 1(1).m4a" and e.sequencer == "0A"
    assert parse_s3_events("not json") == []


@pytest.mark.parametrize("pipeline", ["s3"], indirect=True)
def test_events_redelivered_and_unordered_process_each_upload_once(pipeline, moto_server,
                                                                    audio_dir):
    rt = pipeline
    from flows.listen import listen

    name = rt.bucket.url.removeprefix("s3://")
    sqs = boto3.client("sqs", endpoint_url=moto_server, region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rt.bucket.client.put_bucket_notification_configuration(
        Bucket=name, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    rt.bucket.upload(audio_dir / "jfk.flac", "inbox/acme/eng-1/exec 1.flac")
    # the same event delivered three times in all
    first = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    bodies = [m["Body"] for m in first]
    for m in first:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"],
                                      VisibilityTimeout=0)
    for body in bodies * 2:
        if parse_s3_events(body):
            sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    stop = threading.Event()
    passes = []

    def on_pass(scan, outcomes):
        passes.append((scan, outcomes))
        if any(o == "transcribed" for o in outcomes.values()):
            stop.set()

    t = threading.Thread(target=listen, args=(rt, queue_url, stop),
                         kwargs={"sqs": sqs, "wait_s": 1, "on_pass": on_pass}, daemon=True)
    t.start()
    t.join(timeout=300)
    assert not t.is_alive()
    assert states(rt) == {"exec 1.flac": "transcribed"}
    # the pipeline's own outputs raise events too: they never become interviews
    stop.clear()
    drain = threading.Thread(target=listen, args=(rt, queue_url, stop),
                             kwargs={"sqs": sqs, "wait_s": 1}, daemon=True)
    drain.start()
    deadline = time.time() + 30
    while time.time() < deadline:
        attrs = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages",
                                                "ApproximateNumberOfMessagesNotVisible"])
        if all(v == "0" for v in attrs["Attributes"].values()):
            break
        time.sleep(0.5)
    stop.set()
    drain.join(timeout=30)
    assert states(rt) == {"exec 1.flac": "transcribed"}
    keys = {o.key for o in rt.bucket.list("processed/")}
    assert keys == {f"processed/acme/eng-1/exec 1.{f}" for f in ("txt", "json", "srt", "vtt")}


def test_watch_takes_a_new_recording_and_stops_on_sigterm(tmp_path, audio_dir, model_cache):
    home = tmp_path / "home"
    env = {**os.environ, "OUTTASK_HOME": str(home), "OUTTASK_MODEL_CACHE": str(model_cache)}
    for k in ("OUTTASK_BUCKET", "OUTTASK_DATABASE_URL", "PREFECT_API_URL", "PREFECT_HOME"):
        env.pop(k, None)
    proc = subprocess.Popen([sys.executable, "-c", "from flows.cli import main; main()",
                             "watch", "--interval", "1"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        inbox = home / "bucket" / "inbox" / "acme" / "eng-1"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / "exec-1.flac").write_bytes((audio_dir / "jfk.flac").read_bytes())
        txt = home / "bucket" / "processed" / "acme" / "eng-1" / "exec-1.txt"
        deadline = time.time() + 240
        while time.time() < deadline and not txt.exists():
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.5)
        assert txt.exists(), "watch did not transcribe the new recording"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped" in err


def test_a_stop_signal_is_heard_even_when_another_handler_swallows_it():
    """A Prefect flow run swaps in its own SIGTERM handler; a signal it swallows must still
    stop watch/listen (the wakeup fd hears it)."""
    code = """
import os, signal, sys
from flows.listen import stop_on_signals
stop = stop_on_signals()
signal.signal(signal.SIGTERM, lambda *a: None)  # a handler that swallows it, as Prefect's can
os.kill(os.getpid(), signal.SIGTERM)
sys.exit(0 if stop.wait(5) else 3)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
