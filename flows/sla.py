"""Service-level work that runs on a clock rather than on an upload: the ``sla`` flow that the
``sla/auto-approve`` deployment (infra/prefect.yaml) schedules, and the deploy-time step that
declares the transcription concurrency limit on the Prefect server.

Both are thin: the rules live in :mod:`flows.jobs` (auto-approval) and
:func:`flows.interview.ensure_transcription_limit` (the limit).
"""

from __future__ import annotations

from prefect import flow

from . import db
from .jobs import auto_approve_due
from .settings import load_settings


@flow(name="sla", log_prints=False)
def sla_flow() -> list[str]:
    """Approve every delivered deck nobody reviewed within OUTTASK_AUTO_APPROVE_DAYS (what
    ``outtask jobs auto-approve`` does), and return the approved jobs' public ids. Safe to run
    at any time and as often as scheduled: a job is approved once, later sweeps skip it."""
    settings = load_settings()
    sessions = db.session_factory(settings.database_url)
    try:
        with sessions() as s:
            approved = auto_approve_due(s, now=db.utcnow(), days=settings.auto_approve_days)
            ids = [job.public_id for job in approved]
            s.commit()
    finally:
        # a worker runs many flow runs in one process: don't leave a pool per run behind
        sessions.kw["bind"].dispose()
    return ids


def declare_transcription_limit() -> dict[str, int]:
    """A ``prefect deploy`` build step (infra/prefect.yaml): set the ``tag:transcription``
    concurrency limit on the Prefect server from OUTTASK_TRANSCRIPTION_CONCURRENCY.

    ``outtask run``/``listen`` declare it each time they start; flow runs started by workers
    from a deployment never pass through that code, so the limit is declared when the
    deployments are. ``others_alive=True``: on a shared server never touch slots that running
    workers hold (the server's own lease reaper frees those of dead ones). Returns a dict
    because Prefect merges step outputs into the template values of later steps."""
    from .interview import ensure_transcription_limit

    limit = load_settings().transcription_concurrency
    ensure_transcription_limit(limit, others_alive=True)
    return {"transcription_limit": limit}
