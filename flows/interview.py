"""The interview flow: fetch → transcribe (inspect, decode, speech, speakers, quality gate) →
store → mark.

Tasks are thin wrappers over plain functions in ``transcription``; retries, the transcription
cache key (content hash + engine + model hash + options) and the concurrency tag are declared
on the tasks, and results are persisted so a restarted run reuses finished work.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from prefect import Task, flow, task
from prefect.cache_policies import INPUTS
from prefect.client.schemas.objects import State, TaskRun

from deck_builder.errors import FormError
from deck_builder.interview_form import InterviewForm, parse_form
from transcription.errors import AudioInputError
from transcription.models import sha256_file
from transcription.pipeline import TranscribeOptions, Transcriber
from transcription.transcript import FORMATS, Transcript, render

from . import db
from .intake import form_key_for
from .settings import Settings, load_settings
from .storage import Bucket, open_bucket

TRANSCRIPTION_TAG = "transcription"
#: the Prefect global concurrency limit behind the tag (Prefect 3 names tag limits so)
TRANSCRIPTION_LIMIT = f"tag:{TRANSCRIPTION_TAG}"


@dataclass(frozen=True)
class Runtime:
    """What a process needs to run flows, built once from the settings."""

    settings: Settings
    bucket: Bucket
    sessions: object  # sqlalchemy sessionmaker
    transcriber: Transcriber


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    settings = load_settings()
    transcriber = Transcriber(
        TranscribeOptions(model=settings.model, max_hours=settings.max_audio_hours),
        cache_dir=settings.model_cache)
    return Runtime(settings, open_bucket(settings.bucket), db.session_factory(
        settings.database_url), transcriber)


def ensure_transcription_limit(limit: int, *, others_alive: bool) -> int:
    """Declare the concurrency limit on transcription (every process that shares the Prefect
    API counts against it) and return the slots that were given back.

    Prefect gives back a slot whose holder died only through the server's lease repossessor,
    which an ephemeral API (the embedded default) does not run, and which forgets its
    in-memory leases when the process is killed: after a SIGKILL the slot would stay taken
    and the next run would wait for it forever. So, on the ephemeral API and when no other
    live process on this machine holds an interview, the taken slots are stale: free them.
    With a Prefect server (PREFECT_API_URL set) the server's own repossessor does it.
    """
    import os

    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(TRANSCRIPTION_LIMIT, limit)
        if os.environ.get("PREFECT_API_URL") or others_alive:
            return 0
        taken = client.read_global_concurrency_limit_by_name(TRANSCRIPTION_LIMIT).active_slots
        if taken:
            client.update_global_concurrency_limit(
                TRANSCRIPTION_LIMIT, GlobalConcurrencyLimitUpdate(active_slots=0))
        return taken


def form_for(bucket: Bucket, key: str) -> tuple[InterviewForm | None, str | None, str | None]:
    """The recording's form, its content hash, and why a form present was not used."""
    for form_key in form_key_for(key):
        if bucket.stat(form_key) is None:
            continue
        data = bucket.read_bytes(form_key)
        try:
            return parse_form(data, PurePosixPath(form_key).name), \
                hashlib.sha256(data).hexdigest(), None
        except FormError as e:
            return None, None, f"{form_key}: {e.message}"
    return None, None, None


@dataclass(frozen=True)
class InterviewContext:
    """What the engagement and the interview's form know before the recording is heard: the
    questions, the words to spell right, how many people speak."""

    questions: tuple[str, ...] = ()
    vocabulary: tuple[str, ...] = ()
    participants: int | None = None
    form: InterviewForm | None = None

    def transcriber(self, base: Transcriber) -> Transcriber:
        if not self.vocabulary and self.participants is None:
            return base
        return base.with_options(vocabulary=self.vocabulary, num_speakers=self.participants)

    def to_json(self) -> str:
        return json.dumps({"vocabulary": list(self.vocabulary),
                           "participants": self.participants})


def interview_context(rt: Runtime, iv: db.Interview) -> InterviewContext:
    form, _, _ = form_for(rt.bucket, iv.key)
    eng = iv.engagement
    words = [*(eng.vocabulary or ())]
    if form is not None:  # the people and the company the recording is about
        words += [form.executive.name, form.executive.company, form.interviewer]
    questions = tuple(eng.questions or ())
    if not questions and form is not None:  # the form's own questions, as the brief does
        questions = tuple(dict.fromkeys(a.question for a in form.answers))
    return InterviewContext(questions, tuple(dict.fromkeys(w.strip() for w in words if w.strip())),
                            form.participants if form is not None else None, form)


def options_hash(transcriber: Transcriber) -> str:
    identity = json.dumps(transcriber.options.identity(), sort_keys=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def _suffixed(name: str, sha256: str) -> str:
    p = PurePosixPath(name)
    return f"{p.stem}-{sha256[:8]}{p.suffix}"


def quarantine(bucket: Bucket, *, client: str, engagement: str, file: str, source_key: str,
               sha256: str, error: dict, prefix: str | None = None) -> str:
    """Copy a refused upload to quarantine/ with ``<file>.reason.json``; never move or delete
    the original. A name already taken by other content gets ``-<sha8>``."""
    folder = prefix or f"quarantine/{client}/{engagement}"
    target = f"{folder}/{file}"
    existing = bucket.stat(target + ".reason.json")
    if existing is not None:
        taken_by = json.loads(bucket.read_bytes(target + ".reason.json")).get("sha256")
        if taken_by != sha256:
            target = f"{folder}/{_suffixed(file, sha256)}"
    reason = {"file": file, "source_key": source_key, "sha256": sha256,
              "at": db.utcnow().isoformat(), **error}
    bucket.copy(source_key, target)
    bucket.write_bytes(target + ".reason.json", json.dumps(reason, indent=1).encode())
    return target


def output_stem(bucket: Bucket, folder: str, stem: str, sha256: str) -> str:
    """``stem``, unless another recording's transcript already holds it: then ``stem-<sha8>``."""
    key = f"{folder}/{stem}.json"
    if bucket.stat(key) is None:
        return stem
    try:
        taken_by = json.loads(bucket.read_bytes(key)).get("source_sha256")
    except ValueError:
        taken_by = None
    return stem if taken_by == sha256 else f"{stem}-{sha256[:8]}"


@task(name="fetch", retries=2, retry_delay_seconds=2)
def fetch(key: str, sha256: str, workdir: str) -> str:
    rt = runtime()
    target = Path(workdir) / PurePosixPath(key).name
    rt.bucket.download(key, target)
    got = sha256_file(target)
    if got != sha256:
        raise RuntimeError(f"{key} changed while it was being processed (sha256 {got[:8]}, "
                           f"expected {sha256[:8]}); it will be picked up again as a new upload")
    return str(target)


def _not_the_recordings_fault(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry outtask's own failures; a refused recording fails the same way every time."""
    try:
        state.result()
    except AudioInputError:
        return False
    except Exception:  # noqa: BLE001 - anything else may be transient
        return True
    return True


@task(name="transcribe", retries=2, retry_delay_seconds=5,
      retry_condition_fn=_not_the_recordings_fault, tags=[TRANSCRIPTION_TAG],
      cache_policy=INPUTS - "local_path", persist_result=True, result_serializer="json")
def transcribe_audio(local_path: str, audio_sha256: str, engine: str, model_sha256: str,
                     options: str, context: str = "{}") -> str:
    """The transcript as JSON. Cached on the audio's hash, engine, model hash and options:
    a restarted run that already finished this work takes the persisted result.

    The Transcriber inspects the recording itself (one decode, on its own clocks) and raises
    :class:`AudioInputError` for one it refuses: not retried, the flow quarantines it."""
    own = json.loads(context)
    transcriber = InterviewContext(vocabulary=tuple(own.get("vocabulary", ())),
                                   participants=own.get("participants")).transcriber(
        runtime().transcriber)
    return transcriber.transcribe(Path(local_path)).to_json()


@task(name="store", retries=2, retry_delay_seconds=2)
def store(interview_id: int, transcript_json: str) -> dict[str, str]:
    """Write the transcript's files, with each of the engagement's questions' answers found
    in it (deck_builder.answers; the brief finds them again when questions or forms change)."""
    from deck_builder.answers import find_answers

    rt = runtime()
    t = Transcript.from_json(transcript_json)
    with rt.sessions() as s:
        iv = s.get(db.Interview, interview_id)
        context = interview_context(rt, iv)
        eng = iv.engagement
        folder = f"processed/{eng.client.slug}/{eng.slug}"
        stem = output_stem(rt.bucket, folder, PurePosixPath(iv.file).stem, iv.sha256)
    if context.questions:
        t = t.with_answers(*find_answers(t, context.questions, form=context.form))
    keys = {}
    for fmt in ("json", *[f for f in FORMATS if f != "json"]):
        key = f"{folder}/{stem}.{fmt}"
        rt.bucket.write_bytes(key, render(t, fmt).encode("utf-8"))
        keys[fmt] = key
    return keys


def _refuse(rt: Runtime, interview_id: int, error: AudioInputError) -> str:
    with rt.sessions() as s:
        iv = s.get(db.Interview, interview_id)
        target = quarantine(rt.bucket, client=iv.engagement.client.slug,
                            engagement=iv.engagement.slug, file=iv.file, source_key=iv.key,
                            sha256=iv.sha256, error=error.to_dict())
        db.set_state(s, iv, "quarantined", reason=f"{error.message} {error.fix}".strip(),
                     quarantine_key=target, claimed_by=None)
        s.commit()
    return "quarantined"


def _finish(rt: Runtime, interview_id: int, transcript: db.Transcript) -> str:
    with rt.sessions() as s:
        db.set_state(s, s.get(db.Interview, interview_id), "transcribed",
                     transcript_id=transcript.id, duration_s=transcript.duration_s,
                     flags=list(transcript.flags or []), claimed_by=None)
        s.commit()
    return "transcribed"


@flow(name="interview", log_prints=False)
def interview_flow(interview_id: int) -> str:
    """Process one registered interview to ``transcribed``, ``quarantined`` or ``failed``
    (an exception: the caller records it and the next run retries). A flow run created from
    the deployment (on a worker) claims the interview first and starts the engagement flow
    after the engagement's last interview (flows/dispatch.py)."""
    from .dispatch import run_claimed, started_by_a_worker  # dispatch imports this module

    if started_by_a_worker():
        return run_claimed(interview_id, _process)
    return _process(interview_id)


def _process(interview_id: int) -> str:
    rt = runtime()
    engine = rt.transcriber.options.engine
    model = rt.transcriber.model
    with rt.sessions() as s:
        iv = s.get(db.Interview, interview_id)
        key, sha = iv.key, iv.sha256
        context = interview_context(rt, iv)
        ohash = options_hash(context.transcriber(rt.transcriber))
        done = db.find_transcript(s, sha256=sha, engine=engine, model_sha256=model.sha256,
                                  options_hash=ohash)
    if done is not None:  # the same audio, model and options: reuse, never redo
        return _finish(rt, interview_id, done)
    with tempfile.TemporaryDirectory(prefix="outtask-") as workdir:
        local = fetch(key, sha, workdir)
        try:
            transcript_json = transcribe_audio(local, sha, engine, model.sha256, ohash,
                                               context.to_json())
        except AudioInputError as e:
            return _refuse(rt, interview_id, e)
    keys = store(interview_id, transcript_json)
    t = Transcript.from_json(transcript_json)
    flags = [{"kind": f.kind, "reason": f.reason, "start": f.start, "end": f.end}
             for f in t.quality.flags]
    with rt.sessions() as s:
        row = db.record_transcript(s, sha256=sha, engine=t.engine, model=t.model,
                                   model_sha256=t.model_sha256, options_hash=ohash,
                                   outputs=keys, language=t.language,
                                   duration_s=round(t.duration, 2), flags=flags)
        s.commit()
    return _finish(rt, interview_id, row)
