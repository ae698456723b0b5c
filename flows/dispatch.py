"""Dispatch to workers: with a Prefect server that has outtask's deployments, waiting
interviews become flow runs of the ``interview`` deployment, so that the process workers on its
pool transcribe the interviews of one engagement in parallel; the worker that finishes an
engagement's last interview starts its ``engagement`` flow.

Without a Prefect server (no ``PREFECT_API_URL``: the embedded default) or without the
deployments, nothing changes: :func:`run_or_dispatch` runs the interview flows in-process
through :func:`flows.engagement.run_pending`, as ``outtask run`` does.

Why each piece is safe when it happens twice:

- The database decides who transcribes: a flow run started from the deployment claims its
  interview (``transcribing``, ``claimed_by`` = its own host:pid) in one transaction
  (PostgreSQL: ``SELECT ... FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE``) and does nothing when
  the interview is no longer claimable. Two flow runs for one interview transcribe it once.
- A flow run is created with an idempotency key of (interview, content, attempt), so the same
  waiting interview seen by two listeners, or by one listener twice, is one flow run; a new
  attempt (after a failure, or after its worker died) gets a new key and a new flow run.
- The engagement flow's key is the set of transcribed interviews: two workers that finish at
  the same moment and both see the engagement ready start one brief build.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from sqlalchemy import select

from . import db
from .engagement import OWNER, engagement_flow, holding, orphaned, readiness, run_pending
from .interview import Runtime, ensure_transcription_limit, runtime

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
T = TypeVar("T")

INTERVIEW_FLOW = "interview"
ENGAGEMENT_FLOW = "engagement"
#: how long a deployment lookup is trusted: deployments are rarely added or removed
LOOKUP_TTL_S = 60.0
#: the event that records which worker took an interview (its Prefect worker name, pid)
WORKER_CLAIM = "worker-claim"
#: how long a worker keeps retrying through an outage of the bucket, the database or the
#: Prefect API before it gives the interview up (``failed``: the next dispatch retries it)
OUTAGE_GRACE_S = 600.0

#: how often a listener with nothing new looks for interviews to hand out again
SWEEP_S = 30.0
#: a flow run that started this long ago and has not claimed its interview has died
CLAIM_TIMEOUT_S = 300.0
#: back-off of failed interviews: 30 s after the first failure, doubling, at most an hour
RETRY_BASE_S, RETRY_MAX_S = 30.0, 3600.0

_deployments: dict[str, tuple[UUID, float]] = {}
#: interview id -> (its attempt's key, the flow run made for it), to skip the API round trip
_dispatched: dict[int, tuple[str, UUID]] = {}
_limit_declared = False
_last_sweep = 0.0


def server_in_use() -> bool:
    """A Prefect server is configured (the same test as the rest of flows/)."""
    return bool(os.environ.get("PREFECT_API_URL"))


def deployment_id(flow_name: str) -> UUID | None:
    """The id of a deployment of ``flow_name`` on the Prefect server; None without a server or
    without such a deployment. A deployment found is trusted for a minute; a missing one is
    looked up again next time, so a deployment made after this process started is used at
    once."""
    if not server_in_use():
        return None
    cached = _deployments.get(flow_name)
    if cached is not None and time.monotonic() - cached[1] < LOOKUP_TTL_S:
        return cached[0]
    from prefect import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import DeploymentSort

    with get_client(sync_client=True) as client:
        found = client.read_deployments(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
            sort=DeploymentSort.CREATED_DESC, limit=1)
    dep = found[0].id if found else None
    if dep is not None:
        _deployments[flow_name] = (dep, time.monotonic())
    return dep


def workers_available() -> bool:
    """Whether waiting interviews go to workers (a server with the interview deployment)."""
    return deployment_id(INTERVIEW_FLOW) is not None


def run_or_dispatch(rt: Runtime, *, changed: Iterable[int] = (),
                    new_work: bool = True) -> dict[int, str]:
    """Process what is waiting: on workers when the deployments exist, else in-process.
    ``new_work``: something arrived. Without it the in-process way does nothing (as before),
    while the dispatcher sweeps every ``SWEEP_S``: interviews whose flow run died before it
    took them, failed ones whose back-off has passed, and ones whose worker died."""
    global _last_sweep
    if not new_work and (not server_in_use()
                         or time.monotonic() - _last_sweep < SWEEP_S):
        return {}
    if not workers_available():
        return run_pending(rt, changed=changed) if new_work else {}
    _last_sweep = time.monotonic()
    return dispatch_pending(rt, changed=changed)


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def _run_deployment(dep: UUID, *, parameters: dict, name: str, key: str | None) -> FlowRun:
    from prefect.deployments import run_deployment

    # timeout=0: create the flow run and return; as_subflow=False: the run belongs to no
    # caller (a listener is no flow, and an engagement run outlives the interview that
    # started it). With a key the server hands back the run made before under that key.
    return run_deployment(dep, parameters=parameters, flow_run_name=name, timeout=0,
                          idempotency_key=key, as_subflow=False)


def _gave_up(run: FlowRun) -> bool:
    """Whether this interview flow run will not take its interview: it ended, or it started
    (or was handed to a process) long ago and still has not claimed it, so its process died
    without Prefect hearing of it. The interview is still waiting when this is asked."""
    from prefect.client.schemas.objects import StateType

    state = run.state
    if state is None:
        return False
    if state.is_final():
        return True
    age = time.time() - state.timestamp.timestamp()
    return state.type in (StateType.PENDING, StateType.RUNNING) and age > CLAIM_TIMEOUT_S


def _runs(ids: list[UUID]) -> dict[UUID, FlowRun]:
    if not ids:
        return {}
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(
            any_=ids)), limit=len(ids))
    return {r.id: r for r in runs}


def _retry_due(iv: db.Interview) -> bool:
    """A failed interview is tried again after 30 s, doubling per attempt up to an hour: an
    interview that fails for good must not keep the workers busy."""
    if iv.state != "failed":
        return True
    wait_s = min(RETRY_BASE_S * 2 ** max(iv.attempts - 1, 0), RETRY_MAX_S)
    return (db.utcnow() - iv.updated_at).total_seconds() >= wait_s


def dispatch_pending(rt: Runtime, *, changed: Iterable[int] = ()) -> dict[int, str]:
    """Create a flow run of the interview deployment for every pending, failed or orphaned
    interview (once per attempt, again when its run died before taking it), and an engagement
    flow run for every ``changed`` engagement that is ready. Returns
    ``{interview id: "dispatched"}`` for the interviews that got a new flow run."""
    global _limit_declared
    if not _limit_declared:
        # every worker's transcription task counts against this limit: with N workers it
        # must be N (the stack sets OUTTASK_TRANSCRIPTION_CONCURRENCY), or they take turns
        ensure_transcription_limit(rt.settings.transcription_concurrency, others_alive=True)
        _limit_declared = True
    dep = deployment_id(INTERVIEW_FLOW)
    if dep is None:
        raise RuntimeError("no interview deployment on the Prefect server: run "
                           "prefect deploy --all --prefect-file infra/prefect.yaml")
    with rt.sessions() as s:
        rows = s.scalars(select(db.Interview)
                         .where(db.Interview.state.in_((*db.CLAIMABLE, "transcribing")))
                         .order_by(db.Interview.created_at, db.Interview.id)).all()
        waiting = [(iv.id, f"interview-{iv.id}-{iv.sha256[:12]}-{iv.attempts}",
                    f"{iv.engagement.ref}/{iv.file}") for iv in rows
                   if (iv.state != "transcribing" or orphaned(iv)) and _retry_due(iv)]
    # the runs made earlier for the same attempts: still to come, or given up on?
    known = _runs([_dispatched[i][1] for i, key, _ in waiting
                   if i in _dispatched and _dispatched[i][0] == key])
    outcomes: dict[int, str] = {}
    for interview_id, key, name in waiting:
        earlier = _dispatched.get(interview_id)
        run = known.get(earlier[1]) if earlier and earlier[0] == key else None
        if run is not None and not _gave_up(run):
            continue
        # a key per (interview, content, attempt) and, after a run that gave up, per that
        # run: two listeners asking for the same make one flow run
        run_key = key if run is None else f"{key}-{run.id.hex[:8]}"
        for _ in range(5):  # a restarted listener walks past the runs that gave up before
            run = _run_deployment(dep, parameters={"interview_id": interview_id}, name=name,
                                  key=run_key)
            if not _gave_up(run):
                break
            run_key = f"{key}-{run.id.hex[:8]}"
        _dispatched[interview_id] = (key, run.id)
        outcomes[interview_id] = "dispatched"
    for engagement_id in sorted(set(changed)):
        # an input of the brief changed (engagement.yaml, a form): rebuild now if nothing is
        # in flight; otherwise the last interview's worker starts it
        start_engagement_when_ready(rt, engagement_id, rebuild=True)
    return outcomes


def started_by_a_worker() -> bool:
    """Whether the current flow run was created from a deployment (a worker runs it), as
    opposed to being called in-process by ``run_pending``."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    return bool(ctx and ctx.flow_run and ctx.flow_run.deployment_id)


def _claim(s: Session, interview_id: int) -> db.Interview | None:
    """Claim one interview for this process, or None when someone else has it or it is done.
    Commits."""
    query = select(db.Interview).where(db.Interview.id == interview_id)
    if s.get_bind().dialect.name == "postgresql":
        # wait for a concurrent claim to commit, then see its result (READ COMMITTED
        # re-reads a row it had to wait for)
        query = query.with_for_update()
    iv = s.scalars(query).one_or_none()
    if iv is None:
        return None
    if iv.state == "transcribing" and iv.claimed_by == OWNER:
        return iv  # claimed by this very process already
    if not (iv.state in db.CLAIMABLE or (iv.state == "transcribing" and orphaned(iv))):
        s.rollback()
        return None
    db.set_state(s, iv, "transcribing", attempts=iv.attempts + 1, claimed_by=OWNER)
    s.add(db.Event(interview_id=iv.id, engagement_id=iv.engagement_id, kind=WORKER_CLAIM,
                   detail={"owner": OWNER, "worker": os.environ.get("PREFECT__WORKER_NAME"),
                           "flow_run_id": os.environ.get("PREFECT__FLOW_RUN_ID")}))
    s.commit()
    return iv


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says a service is unreachable or overloaded right
    now (the bucket, the database, the Prefect API), so trying again later can succeed. A
    refused recording, a bug or a missing model are not: they fail the same way again."""
    import botocore.exceptions as boto
    import httpx
    import sqlalchemy.exc as sa_exc

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, boto.ConnectionError | boto.HTTPClientError | httpx.TransportError
                      | sa_exc.OperationalError | sa_exc.InterfaceError | ConnectionError):
            return True
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return True
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status is None and isinstance(exc, boto.ClientError):
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(status, int) and (status >= 500 or status == 429):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def retrying(what: str, fn: Callable[..., T], *args: object,
             grace_s: float = OUTAGE_GRACE_S) -> T:
    """``fn(*args)``, tried again with exponential backoff (1 s doubling up to 30 s) while it
    fails with a transient error, for up to ``grace_s``. Only for work that is safe to
    repeat."""
    delay, deadline = 1.0, time.monotonic() + grace_s
    while True:
        try:
            return fn(*args)
        except Exception as e:
            if not is_transient(e) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: %s: %s; trying again in %.0f s", what, type(e).__name__, e, delay)
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


def run_claimed(interview_id: int, process: Callable[[int], str]) -> str:
    """The interview flow on a worker: claim the interview, ``process`` it, and start the
    engagement flow when this was the engagement's last interview. A failure marks the
    interview ``failed`` and fails the flow run (visible in Prefect); the next dispatch
    retries it."""
    # opening the runtime migrates the database: it needs the database too
    rt = retrying("opening the database and bucket", runtime)
    iv = retrying(f"claiming interview {interview_id}", _claim_or_report, rt, interview_id)
    if iv is None:
        return "skipped"
    # Every step of the interview flow is safe to repeat (the transcription is a cached,
    # persisted task result; outputs and rows are written idempotently), so an outage of the
    # bucket or the database in the middle only delays it.
    with holding(rt, interview_id):
        outcome = retrying(f"interview {interview_id}", process, interview_id)
    retrying(f"engagement {iv.engagement_id}", start_engagement_when_ready, rt,
             iv.engagement_id)
    return outcome


def _claim_or_report(rt: Runtime, interview_id: int) -> db.Interview | None:
    with rt.sessions() as s:
        iv = _claim(s, interview_id)
        if iv is None:
            row = s.get(db.Interview, interview_id)
            log.info("interview %s is %s (claimed by %s): nothing to do", interview_id,
                     row.state if row is not None else "missing",
                     row.claimed_by if row is not None else None)
        return iv


def start_engagement_when_ready(rt: Runtime, engagement_id: int, *,
                                rebuild: bool = False) -> bool:
    """Start the engagement flow if its interviews are all done: as a flow run of the
    engagement deployment when there is one (keyed by the transcripts it hands over, so it
    starts once), else in this process. ``rebuild``: an input changed, so a new run even
    for the same transcripts."""
    r = readiness(rt, engagement_id)
    if not r.ready:
        return False
    dep = deployment_id(ENGAGEMENT_FLOW)
    if dep is None:
        engagement_flow(engagement_id)
        return True
    with rt.sessions() as s:
        eng = s.get(db.Engagement, engagement_id)
        shas = sorted(iv.sha256 for iv in s.query(db.Interview).filter_by(
            engagement_id=engagement_id, state="transcribed"))
        created = eng.created_at.timestamp()
    key = None if rebuild else f"engagement-{engagement_id}-{_digest(created, *shas)}"
    _run_deployment(dep, parameters={"engagement_id": engagement_id}, name=r.ref, key=key)
    return True
