"""Who sees what. Every page that shows a client's material asks here first, and whatever is
not the viewer's to see answers 404 — the same as what does not exist.

- Out-taskers see the jobs assigned to their vendor (by opaque job id), from assignment on,
  and lose them when the job is reassigned.
- Consultants (and admins) see the engagements they are members of, with their jobs.
- Finance sees money (reports, statements) and the audit log, not briefs or decks.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from flows import db

from .app import Viewer, deny

# a job an out-tasker has something to do with: assigned to their vendor and not cancelled
OUTTASKER_STATES = ("assigned", "delivered", "revision_requested", "approved", "invoiced",
                    "paid")
MEMBER_ROLES = ("consultant", "admin")


def member_engagements(s: Session, viewer: Viewer) -> list[db.Engagement]:
    if viewer.user.role not in MEMBER_ROLES:
        return []
    return list(s.scalars(
        select(db.Engagement).join(db.Membership,
                                   db.Membership.engagement_id == db.Engagement.id)
        .where(db.Membership.user_id == viewer.user.id)
        .order_by(db.Engagement.created_at.desc())))


def vendor_jobs(s: Session, viewer: Viewer) -> list[db.Job]:
    if viewer.user.role != "outtasker" or viewer.user.vendor_id is None:
        return []
    return list(s.scalars(select(db.Job).where(
        db.Job.vendor_id == viewer.user.vendor_id, db.Job.state.in_(OUTTASKER_STATES))
        .order_by(db.Job.created_at.desc())))


def can_see_job(s: Session, viewer: Viewer, job: db.Job) -> bool:
    role = viewer.user.role
    if role == "outtasker":
        return (viewer.user.vendor_id is not None and job.vendor_id == viewer.user.vendor_id
                and job.state in OUTTASKER_STATES)
    if role in MEMBER_ROLES:
        return is_member(s, viewer, job.engagement_id)
    return False


def is_member(s: Session, viewer: Viewer, engagement_id: int) -> bool:
    return s.scalar(select(db.Membership.id).where(
        db.Membership.user_id == viewer.user.id,
        db.Membership.engagement_id == engagement_id)) is not None


def job_for(s: Session, request: Request, viewer: Viewer, job_id: str) -> db.Job:
    """The job, when the viewer may see it; 404 (recorded) otherwise."""
    job = s.scalars(select(db.Job).where(db.Job.public_id == job_id[:40])).one_or_none()
    if job is None or not can_see_job(s, viewer, job):
        deny(s, request, viewer, f"job {job_id[:40]}",
             job.engagement.client_id if job is not None else None)
    return job


def engagement_for(s: Session, request: Request, viewer: Viewer, client: str,
                   engagement: str) -> db.Engagement:
    eng = s.scalars(select(db.Engagement).join(db.Client).where(
        db.Client.slug == client[:100], db.Engagement.slug == engagement[:100])).one_or_none()
    if eng is None or viewer.user.role not in MEMBER_ROLES or not is_member(s, viewer, eng.id):
        deny(s, request, viewer, f"engagement {client[:100]}/{engagement[:100]}",
             eng.client_id if eng is not None else None)
    return eng
