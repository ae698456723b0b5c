"""Intake of a whole bucket: register what is new, refuse what is misplaced or malformed,
then run the interview flow for everything waiting.

The database decides what is new: an upload is (bucket, key, content sha256) under a unique
constraint, so scanning twice, or two scanners at once, register each upload once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from prefect import flow

from deck_builder.errors import FormError
from deck_builder.interview_form import parse_form

from . import db
from .brief import BriefError, brief_task
from .intake import IntakeError, classify, parse_engagement_file
from .interview import Runtime, ensure_transcription_limit, interview_flow, quarantine, runtime
from .storage import ObjectInfo

log = logging.getLogger(__name__)

#: a local file modified this recently may still be being written: look at it next time
SETTLE_SECONDS = 2.0


@dataclass
class ScanResult:
    registered: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # keys quarantined by this scan
    ignored: list[str] = field(default_factory=list)
    settling: list[str] = field(default_factory=list)
    #: engagements whose engagement.yaml or forms changed since their last brief
    changed: set[int] = field(default_factory=set)


def _already_refused(rt: Runtime, target: str) -> bool:
    return rt.bucket.stat(target + ".reason.json") is not None


def _content_sha256(rt: Runtime, obj: ObjectInfo) -> str:
    return hashlib.sha256(rt.bucket.read_bytes(obj.key)).hexdigest()


def scan_inbox(rt: Runtime, *, now: float | None = None,
               sizes: dict[str, int] | None = None) -> ScanResult:
    """Take in everything under ``inbox/``. ``sizes`` (key -> size at the previous poll, updated
    here) lets a watcher wait until a file has stopped growing."""
    result = ScanResult()
    now = time.time() if now is None else now
    for obj in rt.bucket.list("inbox/"):
        growing = sizes is not None and sizes.get(obj.key) != obj.size
        if sizes is not None:
            sizes[obj.key] = obj.size
        recent = growing or now - obj.modified.timestamp() < SETTLE_SECONDS
        if recent and classify(obj.key).kind != "ignored":
            result.settling.append(obj.key)
            continue
        intake_object(rt, obj, result)
    return result


def intake_object(rt: Runtime, obj: ObjectInfo, result: ScanResult) -> None:
    """Register, refuse or ignore one inbox object. Idempotent: the database and the
    quarantine's reason files remember what was already done."""
    item = classify(obj.key)
    if item.kind == "ignored":
        result.ignored.append(obj.key)
        return
    if item.kind == "misplaced":
        target = f"quarantine/_misplaced/{obj.key}"
        if not _already_refused(rt, target):
            folder, name = target.rsplit("/", 1)
            quarantine(rt.bucket, client="", engagement="", file=name, source_key=obj.key,
                       sha256=_content_sha256(rt, obj), prefix=folder,
                       error={"code": "misplaced", "message": f"{obj.key} is not inside an "
                              "engagement folder.", "fix": item.reason})
            result.refused.append(obj.key)
        return
    with rt.sessions() as s:
        eng = db.get_or_create_engagement(s, item.client, item.engagement,
                                          defaults=engagement_defaults(rt))
        s.commit()
        if item.kind == "engagement":
            _apply_engagement_file(rt, s, eng, obj, result)
            return
        if item.kind == "form":
            _check_form(rt, obj, item, result)
            return
        known = s.query(db.Interview).filter_by(bucket=rt.bucket.url, key=obj.key,
                                                 size=obj.size).order_by(
            db.Interview.id.desc()).first()
        if known is not None and (known.etag == obj.etag if obj.etag
                                  else known.created_at >= obj.modified):
            return  # seen and unchanged since: no need to fetch and hash it again
        sha = _content_sha256(rt, obj)
        iv, created = db.register_upload(s, eng, bucket=rt.bucket.url, key=obj.key,
                                         file=item.file, sha256=sha, size=obj.size,
                                         etag=obj.etag or None)
        s.commit()
        if created:
            (result.duplicates if iv.state == "duplicate" else result.registered).append(iv.id)


def engagement_defaults(rt: Runtime) -> dict[str, object]:
    """What an engagement gets when its engagement.yaml does not say (CONVENTIONS.md)."""
    return {"turnaround_hours": rt.settings.turnaround_hours,
            "currency": rt.settings.currency}


def _apply_engagement_file(rt: Runtime, s, eng: db.Engagement, obj: ObjectInfo,
                           result: ScanResult) -> None:
    try:
        spec = parse_engagement_file(rt.bucket.read_bytes(obj.key), obj.key)
    except IntakeError as e:
        _refuse_file(rt, obj, eng.client.slug, eng.slug, str(e), result)
        return
    values = spec.model_dump()
    for name, default in engagement_defaults(rt).items():
        if values[name] is None:
            values[name] = default
    if any(getattr(eng, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(eng, name, value)
        s.commit()
        result.changed.add(eng.id)


def _check_form(rt: Runtime, obj: ObjectInfo, item, result: ScanResult) -> None:
    """A form that does not validate is quarantined with the field and the fix; the brief
    then goes without it until a corrected form is uploaded."""
    try:
        form = parse_form(rt.bucket.read_bytes(obj.key), item.file)
    except FormError as e:
        _refuse_file(rt, obj, item.client, item.engagement, f"{e.message} {e.fix}".strip(),
                     result)
        return
    if form.engagement == item.ref:
        with rt.sessions() as s:
            eng = db.get_or_create_engagement(s, item.client, item.engagement,
                                              defaults=engagement_defaults(rt))
            latest = (s.query(db.Brief).filter_by(engagement_id=eng.id)
                      .order_by(db.Brief.version.desc()).first())
            if latest is None or obj.modified > latest.created_at:
                result.changed.add(eng.id)
    else:
        _refuse_file(rt, obj, item.client, item.engagement,
                     f"{obj.key}: engagement says {form.engagement!r} but the form is in "
                     f"inbox/{item.ref}/. Write engagement: {item.ref} or move the form next "
                     "to its recording.", result)


def _refuse_file(rt: Runtime, obj: ObjectInfo, client: str, engagement: str, message: str,
                 result: ScanResult) -> None:
    sha = _content_sha256(rt, obj)
    name = PurePosixPath(obj.key).name
    target = f"quarantine/{client}/{engagement}/{name}"
    if _already_refused(rt, target):
        existing = json.loads(rt.bucket.read_bytes(target + ".reason.json"))
        if existing.get("sha256") == sha:
            return
    quarantine(rt.bucket, client=client, engagement=engagement, file=name, source_key=obj.key,
               sha256=sha, error={"code": "malformed", "message": message, "fix": ""})
    result.refused.append(obj.key)


OWNER = f"{socket.gethostname()}:{os.getpid()}"


def orphaned(interview: db.Interview) -> bool:
    """Whether the process that claimed this interview is gone (killed, crashed), so its work
    can be taken over. Only provable for a process on this host; elsewhere, leave it."""
    host, _, pid = (interview.claimed_by or "").rpartition(":")
    if not interview.claimed_by or not pid.isdigit():
        return True
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextlib.contextmanager
def _embedded_prefect() -> Iterator[None]:
    """On the embedded (ephemeral) API nothing reads flow-run heartbeats (dead work is found
    through ``claimed_by``), and ending each flow run waits up to a second for the heartbeat
    thread: switch heartbeats off there. A Prefect server keeps them."""
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@contextlib.contextmanager
def holding(rt: Runtime, interview_id: int) -> Iterator[None]:
    """Work on a claimed interview. outtask's own failure marks it ``failed`` (retried on the
    next run) and is raised again; a stop signal (Prefect turns SIGTERM inside a flow run into
    an exception) or Ctrl-C hands it back untouched as ``pending``, so the next run takes it
    at once."""
    try:
        yield
    except Exception as e:
        with rt.sessions() as s:
            db.set_state(s, s.get(db.Interview, interview_id), "failed",
                         reason=f"{type(e).__name__}: {e}", claimed_by=None)
            s.commit()
        raise
    except BaseException:
        with rt.sessions() as s:
            db.set_state(s, s.get(db.Interview, interview_id), "pending",
                         reason="interrupted by a stop signal; it will be processed again",
                         claimed_by=None)
            s.commit()
        raise


def run_pending(rt: Runtime, *, on_start: Callable[[db.Interview], None] | None = None,
                on_done: Callable[[int, str], None] | None = None,
                changed: Iterable[int] = ()) -> dict[int, str]:
    """Run the interview flow for every pending, failed or orphaned interview, once each; then
    the engagement flow of every engagement that had work or ``changed`` inputs."""
    with _embedded_prefect():
        return _run_pending(rt, on_start=on_start, on_done=on_done, changed=changed)


def _run_pending(rt: Runtime, *, on_start: Callable[[db.Interview], None] | None,
                 on_done: Callable[[int, str], None] | None,
                 changed: Iterable[int]) -> dict[int, str]:
    outcomes: dict[int, str] = {}
    engagements: set[int] = set(changed)
    with rt.sessions() as s:
        others_alive = any(not orphaned(iv) for iv in s.query(db.Interview).filter_by(
            state="transcribing"))
    freed = ensure_transcription_limit(rt.settings.transcription_concurrency,
                                       others_alive=others_alive)
    if freed:
        log.warning("gave back %d transcription slot(s) held by a process that is gone", freed)
    while True:
        with rt.sessions() as s:
            claimed = db.claim_pending(s, limit=1, exclude=outcomes, owner=OWNER,
                                       orphaned=orphaned)
            if not claimed:
                for engagement_id in sorted(engagements):
                    engagement_flow(engagement_id)
                return outcomes
            iv = claimed[0]
            engagements.add(iv.engagement_id)
            if on_start:
                on_start(iv)
        try:
            with holding(rt, iv.id):
                outcome = interview_flow(iv.id)
        except Exception:  # noqa: BLE001 - recorded as failed by holding: retried next run
            outcome = "failed"
        outcomes[iv.id] = outcome
        if on_done:
            on_done(iv.id, outcome)


@dataclass(frozen=True)
class Readiness:
    ref: str
    expected: int | None
    counts: dict[str, int]
    closed: bool

    @property
    def transcribed(self) -> int:
        return self.counts.get("transcribed", 0)

    @property
    def in_progress(self) -> int:
        return sum(self.counts.get(s, 0) for s in ("pending", "transcribing", "failed"))

    @property
    def ready(self) -> bool:
        """All expected interviews transcribed (and nothing left in flight), or closed by a
        consultant with at least one transcript."""
        if self.in_progress:
            return False
        if self.closed:
            return self.transcribed > 0
        return self.expected is not None and self.transcribed >= self.expected


def readiness(rt: Runtime, engagement_id: int) -> Readiness:
    with rt.sessions() as s:
        eng = s.get(db.Engagement, engagement_id)
        counts: dict[str, int] = {}
        for iv in s.query(db.Interview).filter_by(engagement_id=engagement_id):
            counts[iv.state] = counts.get(iv.state, 0) + 1
        return Readiness(eng.ref, eng.expected_interviews, counts, eng.closed_at is not None)


@flow(name="engagement", log_prints=False)
def engagement_flow(engagement_id: int) -> bool:
    """Hand an engagement over to brief packaging once its expected interviews are all
    transcribed, or once a consultant closed it: record the hand-over (``ready-for-brief``,
    once per set of transcripts) and build the brief (a new version only when an input
    changed). A brief that cannot be built is recorded and logged; the run still succeeds."""
    rt = runtime()
    r = readiness(rt, engagement_id)
    if not r.ready:
        return False
    with rt.sessions() as s:
        ids = sorted(iv.transcript_id for iv in s.query(db.Interview).filter_by(
            engagement_id=engagement_id, state="transcribed"))
        already = [e for e in s.query(db.Event).filter_by(engagement_id=engagement_id,
                                                           kind="ready-for-brief")
                   if e.detail.get("transcripts") == ids]
        if not already:
            s.add(db.Event(engagement_id=engagement_id, kind="ready-for-brief",
                           detail={"transcripts": ids, "counts": r.counts,
                                   "closed": r.closed}))
            s.commit()
    try:
        brief_task(r.ref)
    except BriefError as e:
        log.warning("brief for %s not built: %s", r.ref, e)
        with rt.sessions() as s:
            s.add(db.Event(engagement_id=engagement_id, kind="brief-failed",
                           detail={"reason": str(e)}))
            s.commit()
    return True
