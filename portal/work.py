"""Jobs and engagements: out-taskers collect briefs and return decks; consultants follow
their engagements, download what came back, approve or ask for a revision.

Every page here is recorded in the audit log: views, downloads, uploads (passed or refused),
approvals, revision requests, questions and answers.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from deck_builder.errors import DeckBuilderError
from flows import accounts, db, jobs, quotes
from flows.jobs import JobError
from flows.storage import StorageError
from pricing.errors import PricingError
from pricing.money import Money
from transcription.models import sha256_file

from .access import engagement_for, job_for, member_engagements, vendor_jobs
from .app import DB, Form, Viewer, client_address, portal, render, role
from .errors import Conflict, NotFound, UploadRefused

router = APIRouter()
Outtasker = Annotated[Viewer, Depends(role("outtasker"))]
Member = Annotated[Viewer, Depends(role("consultant", "admin"))]
Worker = Annotated[Viewer, Depends(role("outtasker", "consultant", "admin"))]
PPTX_MAGIC = b"PK\x03\x04"


def log(s: Session, request: Request, viewer: Viewer, action: str, target: str,
        client_id: int | None, outcome: str = "ok", **detail: Any) -> None:
    accounts.audit(s, action, user=viewer.user, target=target, client_id=client_id,
                   outcome=outcome, address=client_address(request), detail=detail)


def latest_brief(s: Session, engagement_id: int) -> db.Brief | None:
    return s.scalars(select(db.Brief).where(db.Brief.engagement_id == engagement_id)
                     .order_by(db.Brief.version.desc())).first()


def stream(request: Request, key: str, filename: str, media_type: str) -> StreamingResponse:
    """An object from the bucket, streamed through the portal (never a bucket URL: the
    bucket stays private and every download is in the audit log)."""
    try:
        chunks = portal(request).bucket.iter_chunks(key)
    except StorageError:
        raise NotFound("the file is missing from the bucket",
                       "tell the engagement's consultant; it may be rebuilding") from None
    size = (portal(request).bucket.stat(key) or None)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if size is not None:
        headers["Content-Length"] = str(size.size)
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


# -- jobs ---------------------------------------------------------------------------------------
def job_page(request: Request, s: Session, viewer: Viewer, job: db.Job, *, status: int = 200,
             refusal: Any = None) -> Response:
    now = db.utcnow()
    outtasker = viewer.user.role == "outtasker"
    events = list(s.scalars(select(db.JobEvent).where(db.JobEvent.job_id == job.id)
                            .order_by(db.JobEvent.at, db.JobEvent.id)))
    deliveries = [d for d in s.scalars(select(db.Delivery).where(db.Delivery.job_id == job.id)
                                       .order_by(db.Delivery.number))
                  if not outtasker or d.vendor_id == viewer.user.vendor_id]
    entries = [e for e in s.scalars(select(db.LedgerEntry).where(
        db.LedgerEntry.job_id == job.id).order_by(db.LedgerEntry.id))
        if not outtasker or e.vendor_id == viewer.user.vendor_id]
    shown = request.query_params.get("delivered")
    return render(
        request, "job.html", status, viewer=viewer, job=job, now=now,
        deadline=jobs.due(s, job, now=now), brief=latest_brief(s, job.engagement_id),
        revisions=[e for e in events if e.kind == "revision-requested"],
        talk=[e for e in events if e.kind in ("question", "answer")],
        open_question=jobs.has_open_question(s, job),
        deliveries=deliveries, entries=entries,
        money=lambda cents: str(Money(cents, job.currency)),
        total=str(Money(sum(e.amount_cents for e in entries), job.currency)),
        delivered=next((d for d in deliveries if str(d.number) == shown), None),
        refusal=refusal, ref=None if outtasker else accounts.engagement_ref(job.engagement),
        rate=str(Money(job.slide_rate_cents or 0, job.currency)))


@router.get("/jobs")
def job_list(request: Request, s: DB, viewer: Worker) -> Response:
    if viewer.user.role == "outtasker":
        rows = vendor_jobs(s, viewer)
    else:
        ids = [e.id for e in member_engagements(s, viewer)]
        rows = list(s.scalars(select(db.Job).where(db.Job.engagement_id.in_(ids))
                              .order_by(db.Job.created_at.desc())))
    now = db.utcnow()
    log(s, request, viewer, "view", "jobs", None)
    return render(request, "jobs.html", viewer=viewer, now=now,
                  rows=[(j, jobs.due(s, j, now=now)) for j in rows])


@router.get("/jobs/{job_id}")
def job_detail(request: Request, s: DB, viewer: Worker, job_id: str) -> Response:
    job = job_for(s, request, viewer, job_id)
    log(s, request, viewer, "view", f"job {job.public_id}", job.engagement.client_id)
    return job_page(request, s, viewer, job)


@router.get("/jobs/{job_id}/brief")
def job_brief(request: Request, s: DB, viewer: Worker, job_id: str) -> Response:
    """The latest brief. An out-tasker's first download hands the brief off: the job's
    clock starts then."""
    job = job_for(s, request, viewer, job_id)
    brief = latest_brief(s, job.engagement_id)
    if brief is None:
        raise NotFound("this job has no brief yet", "ask the engagement's consultant")
    if viewer.user.role == "outtasker" and job.state == "assigned" and job.handed_off_at is None:
        jobs.hand_off(s, job, at=db.utcnow())
    log(s, request, viewer, "download-brief", f"job {job.public_id}", job.engagement.client_id,
        version=brief.version, sha256=brief.zip_sha256)
    return stream(request, brief.zip_key, f"{job.public_id}-v{brief.version}.zip",
                  "application/zip")


def _save_upload(upload: UploadFile, folder: Path) -> Path:
    name = Path(upload.filename or "").name
    if not name.lower().endswith(".pptx"):
        raise UploadRefused(f"{name or 'the file'} is not a .pptx deck",
                            "save the deck as PowerPoint (.pptx) and upload that")
    target = folder / "deck.pptx"
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
    with target.open("rb") as f:
        if f.read(4) != PPTX_MAGIC:
            raise UploadRefused(f"{name} is not a PowerPoint file inside (a .pptx is a zip)",
                                "open it in PowerPoint, save as .pptx, and upload again")
    return target


@router.post("/jobs/{job_id}/deck")
def upload_deck(request: Request, s: DB, viewer: Outtasker, form: Form,
                job_id: str) -> Response:
    """Run the deck check; a passing deck is delivered and billed, a refused one is kept in
    quarantine with its reason and the out-tasker sees why."""
    job = job_for(s, request, viewer, job_id)
    upload = form.get("deck")
    if not isinstance(upload, UploadFile):
        raise UploadRefused("no deck in the upload", "choose the .pptx file, then Upload")
    ref, client_id = accounts.engagement_ref(job.engagement), job.engagement.client_id
    target = f"job {job.public_id}"
    bucket = portal(request).bucket
    with tempfile.TemporaryDirectory(prefix="outtask-upload-") as tmp:
        try:
            deck = _save_upload(upload, Path(tmp))
        except UploadRefused as e:
            log(s, request, viewer, "upload-deck", target, client_id, "refused",
                file=upload.filename, reason=e.message)
            raise
        sha = sha256_file(deck)
        key = f"decks/{ref}/{job.public_id}/{sha[:12]}.pptx"
        try:
            row, report, new = jobs.deliver(s, job, deck, at=db.utcnow(), deck_key=key)
        except DeckBuilderError as e:
            s.rollback()
            kept = f"quarantine/{ref}/decks/{job.public_id}-{sha[:12]}.pptx"
            bucket.upload(deck, kept)
            bucket.write_bytes(kept + ".reason.json", json.dumps(
                {"file": upload.filename, "job": job.public_id, "reason": e.message,
                 "fix": e.fix, "at": db.utcnow().isoformat()}, indent=1).encode())
            log(s, request, viewer, "upload-deck", target, client_id, "refused",
                file=upload.filename, sha256=sha, reason=e.message, kept=kept)
            s.commit()
            return job_page(request, s, viewer, job, status=422, refusal=e)
        except (JobError, PricingError) as e:
            s.rollback()
            log(s, request, viewer, "upload-deck", target, client_id, "refused",
                file=upload.filename, reason=str(e))
            raise Conflict(str(e), "reload the job page to see its state") from None
        if new:
            bucket.upload(deck, key)  # before the commit: a recorded delivery has its deck
    log(s, request, viewer, "upload-deck", target, client_id, file=upload.filename,
        sha256=sha, delivery=row.number, billable_slides=row.billable_slides, new=new,
        flags=len(report.flags))
    return RedirectResponse(f"/jobs/{job.public_id}?delivered={row.number}", status_code=303)


@router.get("/jobs/{job_id}/deliveries/{number}/deck")
def delivered_deck(request: Request, s: DB, viewer: Worker, job_id: str,
                   number: int) -> Response:
    job = job_for(s, request, viewer, job_id)
    row = s.scalars(select(db.Delivery).where(db.Delivery.job_id == job.id,
                                              db.Delivery.number == number)).one_or_none()
    if (row is None or not row.deck_key or (viewer.user.role == "outtasker"
                                            and row.vendor_id != viewer.user.vendor_id)):
        raise NotFound("no such delivered deck", "the job page lists the decks")
    log(s, request, viewer, "download-deck", f"job {job.public_id}", job.engagement.client_id,
        delivery=number)
    return stream(request, row.deck_key, f"{job.public_id}-delivery-{number}.pptx",
                  "application/vnd.openxmlformats-officedocument.presentationml.presentation")


def _step(s: Session, request: Request, viewer: Viewer, job: db.Job, action: str,
          step, **detail: Any) -> Response:
    """Take a step on the job (approve, revision, question, answer), record it, and go back
    to the job page; a step its state does not allow is a 409 that says why."""
    try:
        step()
    except (JobError, PricingError) as e:
        s.rollback()
        log(s, request, viewer, action, f"job {job.public_id}", job.engagement.client_id,
            "refused", reason=str(e))
        raise Conflict(str(e), "reload the job page to see its state") from None
    log(s, request, viewer, action, f"job {job.public_id}", job.engagement.client_id, **detail)
    return RedirectResponse(f"/jobs/{job.public_id}", status_code=303)


@router.post("/jobs/{job_id}/approve")
def approve(request: Request, s: DB, viewer: Member, form: Form, job_id: str) -> Response:
    job = job_for(s, request, viewer, job_id)
    return _step(s, request, viewer, job, "approve",
                 lambda: jobs.approve(s, job, at=db.utcnow()))


@router.post("/jobs/{job_id}/revision")
def revision(request: Request, s: DB, viewer: Member, form: Form, job_id: str) -> Response:
    job = job_for(s, request, viewer, job_id)
    try:
        slides = int(str(form.get("slides_touched", "")))
    except ValueError:
        slides = -1
    if slides < 0:
        raise Conflict("say how many slides the revision touches (a whole number, 0 or more)",
                       "fill in 'slides touched' and send again")
    note = str(form.get("note", ""))[:2000]
    return _step(s, request, viewer, job, "request-revision",
                 lambda: jobs.request_revision(s, job, slides_touched=slides,
                                               at=db.utcnow(), note=note),
                 slides_touched=slides)


@router.post("/jobs/{job_id}/question")
def ask(request: Request, s: DB, viewer: Outtasker, form: Form, job_id: str) -> Response:
    job = job_for(s, request, viewer, job_id)
    text = str(form.get("text", "")).strip()[:2000]
    return _step(s, request, viewer, job, "question",
                 lambda: jobs.question(s, job, at=db.utcnow(), text=text))


@router.post("/jobs/{job_id}/answer")
def reply(request: Request, s: DB, viewer: Member, form: Form, job_id: str) -> Response:
    job = job_for(s, request, viewer, job_id)
    text = str(form.get("text", "")).strip()[:2000]
    return _step(s, request, viewer, job, "answer",
                 lambda: jobs.answer(s, job, at=db.utcnow(), text=text))


# -- engagements --------------------------------------------------------------------------------
@router.get("/engagements")
def engagement_list(request: Request, s: DB, viewer: Member) -> Response:
    rows = []
    for eng in member_engagements(s, viewer):
        states: dict[str, int] = {}
        for (state,) in s.execute(select(db.Interview.state).where(
                db.Interview.engagement_id == eng.id)):
            states[state] = states.get(state, 0) + 1
        job = s.scalars(select(db.Job).where(db.Job.engagement_id == eng.id)).one_or_none()
        rows.append((eng, states, job))
    log(s, request, viewer, "view", "engagements", None)
    return render(request, "engagements.html", viewer=viewer, rows=rows)


@router.get("/engagements/{client}/{engagement}")
def engagement_detail(request: Request, s: DB, viewer: Member, client: str,
                      engagement: str) -> Response:
    eng = engagement_for(s, request, viewer, client, engagement)
    log(s, request, viewer, "view", f"engagement {accounts.engagement_ref(eng)}", eng.client_id)
    return _engagement_page(request, s, viewer, eng)


@router.get("/engagements/{client}/{engagement}/quotes")
def engagement_quotes(request: Request, s: DB, viewer: Member, client: str, engagement: str,
                      q: str = "") -> Response:
    """The quote bank: the engagement page with the executive sentences that best match
    ``q`` (meaning and words); the search is in the audit log."""
    eng = engagement_for(s, request, viewer, client, engagement)
    query = " ".join(q.split())[:200]
    if not query:
        return RedirectResponse(f"/engagements/{accounts.engagement_ref(eng)}", 303)
    hits = quotes.search_quotes(s, portal(request).bucket, eng, query, limit=20,
                                user=viewer.user, address=client_address(request),
                                via="portal")
    return _engagement_page(request, s, viewer, eng, query=query, hits=hits)


def _engagement_page(request: Request, s: Session, viewer: Viewer, eng: db.Engagement,
                     **search: Any) -> Response:
    interviews = list(s.scalars(select(db.Interview).where(
        db.Interview.engagement_id == eng.id).order_by(db.Interview.file)))
    briefs = list(s.scalars(select(db.Brief).where(db.Brief.engagement_id == eng.id)
                            .order_by(db.Brief.version.desc())))
    job = s.scalars(select(db.Job).where(db.Job.engagement_id == eng.id)).one_or_none()
    return render(request, "engagement.html", viewer=viewer, eng=eng,
                  ref=accounts.engagement_ref(eng), interviews=interviews, briefs=briefs,
                  job=job, now=db.utcnow(),
                  deadline=jobs.due(s, job, now=db.utcnow()) if job else None, **search)


@router.get("/engagements/{client}/{engagement}/briefs/{version}.zip")
def engagement_brief(request: Request, s: DB, viewer: Member, client: str, engagement: str,
                     version: int) -> Response:
    eng = engagement_for(s, request, viewer, client, engagement)
    brief = s.scalars(select(db.Brief).where(db.Brief.engagement_id == eng.id,
                                             db.Brief.version == version)).one_or_none()
    if brief is None:
        raise NotFound(f"no brief version {version}", "the engagement page lists the versions")
    log(s, request, viewer, "download-brief", f"engagement {accounts.engagement_ref(eng)}",
        eng.client_id, version=version)
    return stream(request, brief.zip_key, f"{client}-{engagement}-v{version}.zip",
                  "application/zip")


@router.get("/engagements/{client}/{engagement}/interviews/{interview_id}/transcript.txt")
def transcript(request: Request, s: DB, viewer: Member, client: str, engagement: str,
               interview_id: int) -> Response:
    eng = engagement_for(s, request, viewer, client, engagement)
    iv = s.get(db.Interview, interview_id)
    key = (iv.transcript.outputs.get("txt") if iv is not None and iv.transcript else None)
    if iv is None or iv.engagement_id != eng.id or not key:
        raise NotFound("no transcript here", "the engagement page lists the transcripts")
    log(s, request, viewer, "download-transcript", f"{accounts.engagement_ref(eng)}/{iv.file}",
        eng.client_id)
    return stream(request, key, f"{Path(iv.file).stem}.txt", "text/plain; charset=utf-8")
