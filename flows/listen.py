"""Starting work by itself: ``outtask watch`` polls a local inbox; ``outtask listen`` consumes
the S3 bucket's object-created events from SQS.

S3 delivers events at least once and in no order, so nothing here trusts an event: each one
only says "look at this key"; the object's current content is hashed and registered under the
database's unique constraint, so a repeated event is a no-op. A message is deleted only after
its keys were taken in, so a crash means a redelivery, never a loss.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote_plus

from .dispatch import is_transient, run_or_dispatch
from .engagement import ScanResult, intake_object, run_pending, scan_inbox
from .interview import Runtime
from .storage import aws_client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectEvent:
    bucket: str
    key: str
    etag: str | None
    size: int | None
    sequencer: str | None


def parse_s3_events(body: str) -> list[ObjectEvent]:
    """The object-created records of one S3 notification (directly or wrapped by SNS)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return []
    if isinstance(doc, dict) and "Message" in doc and "Records" not in doc:
        return parse_s3_events(doc["Message"])  # S3 -> SNS -> SQS
    if not isinstance(doc, dict) or doc.get("Event") == "s3:TestEvent":
        return []
    events = []
    for r in doc.get("Records", []):
        if not str(r.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = r.get("s3", {})
        obj = s3.get("object", {})
        events.append(ObjectEvent(
            bucket=s3.get("bucket", {}).get("name", ""),
            key=unquote_plus(obj.get("key", "")),  # keys arrive URL-encoded
            etag=obj.get("eTag"), size=obj.get("size"), sequencer=obj.get("sequencer")))
    return events


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so long-running commands stop between steps."""
    stop = threading.Event()

    def handler(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    # A Prefect flow run swaps in its own SIGTERM handler for its duration, and a signal that
    # lands there can be swallowed on the way (seen: a watch that never stopped). The wakeup
    # fd hears every signal, whichever Python handler runs: a thread turns it into ``stop``.
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    wanted = {int(signal.SIGTERM), int(signal.SIGINT)}

    def listen_for_signals() -> None:
        while not stop.is_set():
            data = os.read(read_end, 64)
            if not data:
                return
            if wanted & set(data):
                stop.set()

    threading.Thread(target=listen_for_signals, name="outtask-signals", daemon=True).start()
    return stop


def watch(rt: Runtime, stop: threading.Event, *, interval_s: float = 5.0,
          on_pass: Callable[[ScanResult, dict[int, str]], None] | None = None) -> None:
    """Poll the inbox until ``stop`` is set; a file is taken once its size held still for one
    interval (an upload or a copy in progress keeps growing)."""
    sizes: dict[str, int] = {}
    while not stop.is_set():
        scan = scan_inbox(rt, sizes=sizes)
        outcomes = run_pending(rt, changed=scan.changed) if not stop.is_set() else {}
        if on_pass:
            on_pass(scan, outcomes)
        stop.wait(interval_s)


def _messages(sqs, queue_url: str, wait_s: int) -> Iterator[dict]:
    reply = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                WaitTimeSeconds=wait_s)
    yield from reply.get("Messages", [])


def listen(rt: Runtime, queue_url: str, stop: threading.Event, *, sqs=None, wait_s: int = 10,
           on_pass: Callable[[ScanResult, dict[int, str]], None] | None = None) -> None:
    """Consume object-created events until ``stop`` is set."""
    if sqs is None:
        sqs = aws_client("sqs")
    backoff = 1.0
    while not stop.is_set():
        try:
            _listen_once(rt, queue_url, sqs=sqs, wait_s=wait_s, on_pass=on_pass)
        except Exception as e:
            # the queue, the bucket, the database or the Prefect API is away for a moment:
            # the messages of this pass were not deleted, so they come back; keep listening
            if not is_transient(e):
                raise
            log.warning("listen: %s: %s; trying again in %.0f s", type(e).__name__, e, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)
        else:
            backoff = 1.0


def _listen_once(rt: Runtime, queue_url: str, *, sqs, wait_s: int,
                 on_pass: Callable[[ScanResult, dict[int, str]], None] | None) -> None:
    name = rt.bucket.url.removeprefix("s3://")
    result = ScanResult()
    handled = []
    for message in _messages(sqs, queue_url, wait_s):
        for event in parse_s3_events(message.get("Body", "")):
            # only the inbox of our own bucket: the pipeline's outputs also raise events
            if event.bucket != name or not event.key.startswith("inbox/"):
                continue
            obj = rt.bucket.stat(event.key)
            if obj is not None:
                intake_object(rt, obj, result)
        handled.append(message["ReceiptHandle"])
    # on workers when a Prefect server has the deployments, else here (flows/dispatch.py);
    # a pass without messages runs nothing here, but the dispatcher sweeps now and then
    outcomes = run_or_dispatch(rt, changed=result.changed, new_work=bool(handled))
    for receipt in handled:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
    if on_pass and (handled or outcomes):
        on_pass(result, outcomes)
