"""Jobs on the database: vendors, bids, the job's lifecycle and clock, deliveries, and the
ledger. The money and time rules are :mod:`pricing`'s pure functions; this module only loads
their inputs, records their outputs, and keeps them exactly once under concurrency (unique
keys, not locks held across work).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from deck_builder.deck_check import DeckReport, check_deck
from pricing.bids import Bid as BidValue
from pricing.bids import BidChoice, choose_bid
from pricing.jobs import JobEvent as Event
from pricing.jobs import should_auto_approve, transition
from pricing.ledger import (
    EntryKind,
    LedgerEntry,
    entries_for_delivery,
    entries_for_reassignment,
    entries_for_revision,
)
from pricing.money import Money, sum_money
from pricing.rates import RateCard
from pricing.reports import JobFact, Report, ReportDimension, ReportRow
from pricing.turnaround import deadline, hours_late, utc_month
from transcription.models import sha256_file

from . import db


class JobError(Exception):
    """What the user asked cannot be done now; the message says why and what to do."""


# -- vendors ----------------------------------------------------------------------------------
def add_vendor(s: Session, slug: str, *, name: str, rating: Decimal, slide_rate_cents: int,
               currency: str, timezone: str = "UTC", free_revision_rounds: int = 2,
               revision_slide_rate_cents: int = 500,
               rush_multiplier: Decimal = Decimal("1.5")) -> db.Vendor:
    """Add a vendor or update its rate card (validated by :class:`pricing.rates.RateCard`)."""
    RateCard(slug, Money(slide_rate_cents, currency), free_revision_rounds,
             Money(revision_slide_rate_cents, currency), rush_multiplier, timezone)
    row = s.scalars(select(db.Vendor).where(db.Vendor.slug == slug)).one_or_none()
    if row is None:
        row = db.Vendor(slug=slug)
        s.add(row)
    row.name, row.rating, row.currency, row.timezone = name, rating, currency, timezone
    row.slide_rate_cents, row.free_revision_rounds = slide_rate_cents, free_revision_rounds
    row.revision_slide_rate_cents, row.rush_multiplier = revision_slide_rate_cents, rush_multiplier
    s.flush()
    return row


def vendor(s: Session, slug: str) -> db.Vendor:
    row = s.scalars(select(db.Vendor).where(db.Vendor.slug == slug)).one_or_none()
    if row is None:
        raise JobError(f"no vendor {slug!r}: add it with `outtask vendors add {slug} ...`")
    return row


def rate_card(v: db.Vendor) -> RateCard:
    return RateCard(v.slug, Money(v.slide_rate_cents, v.currency), v.free_revision_rounds,
                    Money(v.revision_slide_rate_cents, v.currency), Decimal(v.rush_multiplier),
                    v.timezone)


# -- jobs -------------------------------------------------------------------------------------
def find_job(s: Session, public_id: str) -> db.Job:
    job = s.scalars(select(db.Job).where(db.Job.public_id == public_id)).one_or_none()
    if job is None:
        raise JobError(f"no job {public_id!r}: see `outtask jobs list`")
    return job


def _event(s: Session, job: db.Job, kind: str, at: datetime, **detail: object) -> None:
    s.add(db.JobEvent(job_id=job.id, kind=kind, at=at, detail=detail))


def _move(job: db.Job, event: Event) -> None:
    job.state = transition(job.state, event).value


def post_job(s: Session, engagement: db.Engagement, *, at: datetime) -> db.Job:
    """The engagement's job, posted for bids (once: posting again returns the same job)."""
    if engagement.job_id is None:
        raise JobError(f"{engagement.ref} has no brief yet: run `outtask brief build "
                       f"{engagement.ref}` first")
    job = s.scalars(select(db.Job).where(db.Job.engagement_id == engagement.id)).one_or_none()
    if job is not None:
        return job
    job = db.Job(public_id=engagement.job_id, engagement_id=engagement.id, state="posted",
                 currency=engagement.currency, turnaround_hours=engagement.turnaround_hours,
                 target_slides=engagement.target_slides, created_at=at)
    s.add(job)
    s.flush()
    _event(s, job, "posted", at)
    return job


def add_bid(s: Session, job: db.Job, vendor_slug: str, *, slide_rate_cents: int,
            turnaround_hours: int, at: datetime, currency: str | None = None,
            rating: Decimal | None = None) -> db.Bid:
    """Record a vendor's bid (a new bid from the same vendor replaces its old one). Bids in
    another currency are recorded too; they do not compete."""
    if job.state != "posted":
        raise JobError(f"job {job.public_id} is {job.state}: bids are taken while it is posted")
    v = vendor(s, vendor_slug)
    bid = s.scalars(select(db.Bid).where(db.Bid.job_id == job.id,
                                         db.Bid.vendor_id == v.id)).one_or_none()
    if bid is None:
        bid = db.Bid(job_id=job.id, vendor_id=v.id)
        s.add(bid)
    bid.slide_rate_cents, bid.currency = slide_rate_cents, currency or v.currency
    bid.turnaround_hours, bid.rating, bid.at = turnaround_hours, rating or v.rating, at
    BidValue(v.slug, Money(slide_rate_cents, bid.currency), turnaround_hours,
             Decimal(bid.rating), at)  # validates
    s.flush()
    return bid


def _bid_values(job: db.Job, s: Session) -> list[BidValue]:
    return [BidValue(b.vendor.slug, Money(b.slide_rate_cents, b.currency), b.turnaround_hours,
                     Decimal(b.rating), b.at)
            for b in s.scalars(select(db.Bid).where(db.Bid.job_id == job.id))]


def choose(s: Session, job: db.Job, *, at: datetime,
           min_rating: Decimal = Decimal("4.0")) -> BidChoice:
    """Assign the job to the best bid and record why it won; with no qualifying bid the job
    stays posted and the reason says why."""
    if job.state != "posted":
        raise JobError(f"job {job.public_id} is {job.state}: bids are chosen while it is posted")
    choice = choose_bid(_bid_values(job, s), currency=job.currency,
                        max_turnaround_hours=job.turnaround_hours, min_rating=min_rating)
    if choice.winner is None:
        _event(s, job, "no-qualifying-bid", at, **choice.to_dict())
        return choice
    _move(job, Event.ASSIGN)
    job.vendor_id = vendor(s, choice.winner.vendor).id
    job.slide_rate_cents = choice.winner.slide_rate.cents
    job.choice_reason = choice.reason
    _event(s, job, "assigned", at, **choice.to_dict())
    return choice


def hand_off(s: Session, job: db.Job, *, at: datetime) -> None:
    """The brief is in the out-tasker's hands: the clock starts (once)."""
    if job.state != "assigned":
        raise JobError(f"job {job.public_id} is {job.state}: hand the brief off once it is "
                       "assigned")
    if job.handed_off_at is None:
        job.handed_off_at = at
        _event(s, job, "handed-off", at, vendor=job.vendor.slug)


def _pauses(s: Session, job: db.Job) -> list[tuple[datetime, datetime | None]]:
    pauses: list[tuple[datetime, datetime | None]] = []
    for e in s.scalars(select(db.JobEvent).where(db.JobEvent.job_id == job.id,
                                                  db.JobEvent.kind.in_(("question", "answer")))
                       .order_by(db.JobEvent.at, db.JobEvent.id)):
        if e.kind == "question" and (not pauses or pauses[-1][1] is not None):
            pauses.append((e.at, None))
        elif e.kind == "answer" and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], e.at)
    return pauses


def has_open_question(s: Session, job: db.Job) -> bool:
    pauses = _pauses(s, job)
    return bool(pauses) and pauses[-1][1] is None


def question(s: Session, job: db.Job, *, at: datetime, text: str = "") -> None:
    """The out-tasker asked something: the clock stops until it is answered."""
    if job.handed_off_at is None or job.state not in ("assigned", "revision_requested"):
        raise JobError(f"job {job.public_id} is {job.state} and its clock is not running: a "
                       "question stops the clock of a job handed off and not yet delivered")
    if has_open_question(s, job):
        raise JobError(f"job {job.public_id} already has an open question: answer it first")
    _event(s, job, "question", at, text=text)


def answer(s: Session, job: db.Job, *, at: datetime, text: str = "") -> None:
    """The question is answered: the clock runs again."""
    if not has_open_question(s, job):
        raise JobError(f"job {job.public_id} has no open question to answer")
    _event(s, job, "answer", at, text=text)


def due(s: Session, job: db.Job, *, now: datetime) -> datetime | None:
    if job.handed_off_at is None:
        return None
    return deadline(job.handed_off_at, job.turnaround_hours, _pauses(s, job), now=now)


def _append(s: Session, job: db.Job, entries: Iterable[LedgerEntry]) -> int:
    """Insert ledger entries exactly once each (unique ``key``); an entry already there is a
    replay when identical and an error when not. Returns how many were new."""
    new = 0
    for e in entries:
        row = db.LedgerEntry(key=e.key, job_id=job.id, vendor_id=vendor(s, e.vendor).id,
                             kind=e.kind.value, amount_cents=e.amount.cents,
                             currency=e.amount.currency, slides=e.slides, at=e.at,
                             month=utc_month(e.at), memo=e.memo, reverses=e.reverses)
        try:
            with s.begin_nested():
                s.add(row)
                s.flush()
                _roll(s, row)
            new += 1
        except IntegrityError:
            old = s.scalars(select(db.LedgerEntry).where(db.LedgerEntry.key == e.key)).one()
            if (old.amount_cents, old.currency, old.kind) != (
                    e.amount.cents, e.amount.currency, e.kind.value):
                raise JobError(f"ledger entry {e.key} already holds {old.amount_cents} "
                               f"{old.currency}, not {e.amount}: record a reversal") from None
    return new


def _is_delivery(kind: str, key: str) -> bool:
    return kind == EntryKind.CHARGE.value and ":delivery:" in key


def _roll(s: Session, e: db.LedgerEntry) -> None:
    """Add one entry to its rollup row, atomically (INSERT ... ON CONFLICT DO UPDATE)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    delivery = _is_delivery(e.kind, e.key)
    t = db.LedgerRollup.__table__
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(t).values(
        job_id=e.job_id, vendor_id=e.vendor_id, month=e.month, currency=e.currency,
        cents=e.amount_cents,
        slides=e.slides if e.kind in (EntryKind.CHARGE.value, EntryKind.REVERSAL.value) else 0,
        deliveries=int(delivery), late=int(e.kind == EntryKind.LATE_CREDIT.value),
        last_delivery_at=e.at if delivery else None)
    s.execute(stmt.on_conflict_do_update(
        index_elements=[t.c.job_id, t.c.vendor_id, t.c.month, t.c.currency],
        set_={"cents": t.c.cents + stmt.excluded.cents,
              "slides": t.c.slides + stmt.excluded.slides,
              "deliveries": t.c.deliveries + stmt.excluded.deliveries,
              "late": t.c.late + stmt.excluded.late,
              "last_delivery_at": sa.func.coalesce(stmt.excluded.last_delivery_at,
                                                   t.c.last_delivery_at)}))


def rebuild_rollups(s: Session) -> int:
    """Recompute every rollup from the entries (after a bulk load or a repair)."""
    e, r = db.LedgerEntry, db.LedgerRollup.__table__
    delivery = sa.and_(e.kind == EntryKind.CHARGE.value, e.key.like("%:delivery:%"))
    s.execute(sa.delete(r))
    source = (select(e.job_id, e.vendor_id, e.month, e.currency, sa.func.sum(e.amount_cents),
                     sa.func.sum(sa.case((e.kind.in_(("charge", "reversal")), e.slides),
                                         else_=0)),
                     sa.func.sum(sa.case((delivery, 1), else_=0)),
                     sa.func.sum(sa.case((e.kind == EntryKind.LATE_CREDIT.value, 1), else_=0)),
                     sa.func.max(sa.case((delivery, e.at))))
              .group_by(e.job_id, e.vendor_id, e.month, e.currency))
    s.execute(r.insert().from_select(
        ["job_id", "vendor_id", "month", "currency", "cents", "slides", "deliveries", "late",
         "last_delivery_at"], source))
    return s.scalar(select(sa.func.count()).select_from(r))


def _charged_slides(s: Session, job: db.Job, which_vendors: sa.ColumnElement[bool]) -> int:
    """Slides of ``job`` already charged (net of reversals) to the vendors ``which_vendors``
    selects."""
    e = db.LedgerEntry
    return int(s.scalar(select(sa.func.coalesce(sa.func.sum(e.slides), 0)).where(
        e.job_id == job.id, which_vendors, e.kind.in_(("charge", "reversal")))))


def deliver(s: Session, job: db.Job, deck: Path, *, at: datetime,
            deck_key: str | None = None) -> tuple[db.Delivery, DeckReport, bool]:
    """A returned deck: checked (refused decks raise DeckRefusedError and change nothing),
    recorded once per content, charged per billable slide with the late credit when late.
    The same deck delivered again (a retry, a second upload) is the same delivery."""
    report = check_deck(deck)
    # one delivery at a time per job: PostgreSQL locks the row (SQLite's writes are serial)
    s.flush()  # refresh reloads the row: keep this session's changes
    s.refresh(job, with_for_update=True)
    if job.state not in ("assigned", "revision_requested", "delivered"):
        raise JobError(f"job {job.public_id} is {job.state}: nothing can be delivered now")
    if job.handed_off_at is None:
        raise JobError(f"job {job.public_id} was never handed off: run `outtask jobs handoff`")
    sha = sha256_file(deck)
    existing = s.scalars(select(db.Delivery).where(db.Delivery.job_id == job.id,
                                                   db.Delivery.deck_sha256 == sha)).one_or_none()
    if existing is not None:
        return existing, report, False
    if job.state == "delivered":
        raise JobError(f"job {job.public_id} is already delivered: request a revision before "
                       "another deck")
    number = 1 + len(s.scalars(select(db.Delivery.id).where(db.Delivery.job_id == job.id)).all())
    row = db.Delivery(job_id=job.id, vendor_id=job.vendor_id, number=number, deck_sha256=sha,
                      deck_key=deck_key, billable_slides=report.billable_slides,
                      report=report.to_dict(), at=at)
    try:
        with s.begin_nested():
            s.add(row)
    except IntegrityError:  # the same deck, delivered concurrently: theirs counts
        existing = s.scalars(select(db.Delivery).where(
            db.Delivery.job_id == job.id, db.Delivery.deck_sha256 == sha)).one()
        return existing, report, False
    rate = Money(job.slide_rate_cents or 0, job.currency)
    earlier = s.scalars(select(db.Delivery.id).where(
        db.Delivery.job_id == job.id, db.Delivery.vendor_id == job.vendor_id,
        db.Delivery.id != row.id)).first()
    if earlier is None:  # a vendor's later decks are revisions, billed per revision round
        # slides a vanished vendor already delivered, accepted and was paid for
        paid = _charged_slides(s, job, db.LedgerEntry.vendor_id != job.vendor_id)
        _append(s, job, entries_for_delivery(
            job.public_id, job.vendor.slug, delivery_no=number,
            billable_slides=max(0, report.billable_slides - paid), rate=rate,
            deadline=due(s, job, now=at), delivered_at=at))
    _move(job, Event.DELIVER)
    job.delivered_at = at
    _event(s, job, "delivered", at, delivery=number, billable_slides=report.billable_slides,
           late_hours=hours_late(due(s, job, now=at), at))
    return row, report, True


def request_revision(s: Session, job: db.Job, *, slides_touched: int, at: datetime,
                     note: str = "") -> int:
    """Another revision round: free up to the vendor's free rounds, then per slide touched.
    ``note`` tells the out-tasker what to change."""
    transition(job.state, Event.REQUEST_REVISION)  # refuses a job not delivered
    card = rate_card(job.vendor)
    if card.currency != job.currency:
        raise JobError(f"{job.vendor.slug}'s revision rate is in {card.currency} but job "
                       f"{job.public_id} is in {job.currency}: give the vendor a "
                       f"{job.currency} rate card (outtask vendors add {job.vendor.slug} "
                       f"--currency {job.currency} ...)")
    _move(job, Event.REQUEST_REVISION)
    job.revision_rounds += 1
    _append(s, job, entries_for_revision(job.public_id, job.vendor.slug,
                                         round_no=job.revision_rounds,
                                         slides_touched=slides_touched,
                                         card=card, at=at))
    _event(s, job, "revision-requested", at, round=job.revision_rounds,
           slides_touched=slides_touched, **({"note": note} if note else {}))
    return job.revision_rounds


def approve(s: Session, job: db.Job, *, at: datetime, auto: bool = False) -> None:
    _move(job, Event.AUTO_APPROVE if auto else Event.APPROVE)
    _event(s, job, "auto-approved" if auto else "approved", at)


def auto_approve_due(s: Session, *, now: datetime, days: int) -> list[db.Job]:
    """Approve every delivered deck nobody reviewed within ``days``."""
    done = []
    for job in s.scalars(select(db.Job).where(db.Job.state == "delivered")):
        if should_auto_approve(job.state, job.delivered_at, now, days):
            approve(s, job, at=now, auto=True)
            done.append(job)
    return done


def reassign(s: Session, job: db.Job, new_vendor: str, *, slide_rate_cents: int,
             accepted_slides: int, at: datetime) -> None:
    """The out-tasker disappeared: pay the slides already delivered and accepted at the agreed
    rate, and give the job to ``new_vendor``; the clock starts again at the new handoff."""
    _move(job, Event.REASSIGN)
    new = vendor(s, new_vendor)
    old = job.vendor
    if old is None or old.id == new.id:
        raise JobError(f"job {job.public_id} cannot be reassigned to {new_vendor}: it is "
                       f"{'not assigned' if old is None else 'already theirs'}")
    # slides its deliveries already charged are not paid twice
    charged = _charged_slides(s, job, db.LedgerEntry.vendor_id == old.id)
    before = sum(1 for e in s.scalars(select(db.JobEvent).where(
        db.JobEvent.job_id == job.id, db.JobEvent.kind == "reassigned"))
        if e.detail.get("old_vendor") == old.slug)
    _append(s, job, entries_for_reassignment(job.public_id, old.slug, times=before + 1,
                                             accepted_slides=max(0, accepted_slides - charged),
                                             rate=Money(job.slide_rate_cents or 0,
                                                        job.currency), at=at))
    job.vendor_id, job.slide_rate_cents = new.id, slide_rate_cents
    job.handed_off_at = None
    s.flush()
    s.refresh(job)
    _event(s, job, "reassigned", at, old_vendor=old.slug, new_vendor=new_vendor,
           accepted_slides=accepted_slides)


SETTLED = {"invoice": "invoiced", "pay": "paid", "cancel": "cancelled"}


def settle(s: Session, job: db.Job, event: str, *, at: datetime) -> None:
    """``invoice``, ``pay`` or ``cancel``."""
    _move(job, Event(event))
    _event(s, job, SETTLED[event], at)


# -- what finance reads ---------------------------------------------------------------------------
def ledger_entries(s: Session, *, month: str | None = None) -> list[db.LedgerEntry]:
    q = select(db.LedgerEntry).order_by(db.LedgerEntry.at, db.LedgerEntry.id)
    if month:
        q = q.where(db.LedgerEntry.month == month)
    return list(s.scalars(q))


def job_facts(s: Session, *, month: str | None = None) -> list[JobFact]:
    """One fact per (job, vendor, UTC month, currency), read off the ledger's rollups: cost
    net of credits, revision charges included; on time when its delivery brought no late
    credit; None when the vendor delivered nothing (paid for accepted slides only)."""
    r = db.LedgerRollup
    q = select(r).order_by(r.job_id, r.vendor_id, r.month, r.currency)
    if month:
        q = q.where(r.month == month)
    rows = list(s.scalars(q))
    ids = {row.job_id for row in rows}
    jobs = {j.id: j for j in s.scalars(select(db.Job).options(selectinload(db.Job.engagement))
                                      .where(db.Job.id.in_(ids)))} if ids else {}
    vendors = {v.id: v.slug for v in s.scalars(select(db.Vendor))}
    return [JobFact(job_id=jobs[row.job_id].public_id,
                    engagement=jobs[row.job_id].engagement.ref, vendor=vendors[row.vendor_id],
                    month=row.month, currency=row.currency, billable_slides=row.slides,
                    cost=Money(row.cents, row.currency),
                    revisions=jobs[row.job_id].revision_rounds,
                    on_time=(row.late == 0) if row.deliveries else None,
                    delivered_at=row.last_delivery_at)
            for row in rows]


def report(s: Session, by: str, *, month: str | None = None) -> Report:
    """A finance report by ``engagement``, ``vendor`` or ``month``, summed by the database:
    cost net of credits (revision charges included), billed slides, jobs, the share of
    deliveries without a late credit, and revision rounds requested (by UTC month of the
    request; by engagement and vendor: the job's rounds, under its current vendor)."""
    r, j = db.LedgerRollup, db.Job
    dimension = ReportDimension(by)
    # group the rollups by ids (a join only where the key needs one), name them after
    key = {ReportDimension.ENGAGEMENT: j.engagement_id, ReportDimension.VENDOR: r.vendor_id,
           ReportDimension.MONTH: r.month}[dimension]
    q = (select(key, r.currency, sa.func.count(sa.distinct(r.job_id)), sa.func.sum(r.slides),
                sa.func.sum(r.cents), sa.func.sum(r.deliveries), sa.func.sum(r.late))
         .select_from(r).group_by(key, r.currency))
    if dimension is ReportDimension.ENGAGEMENT:
        q = q.join(j, j.id == r.job_id)
    if month:
        q = q.where(r.month == month)
    names = _names(s, dimension)
    revisions = _revisions(s, dimension, names, month)
    rows = []
    for k, currency, n_jobs, slides, cents, delivered, late in s.execute(q):
        k = names[k] if names is not None else k
        cost = Money(int(cents), currency)
        slides = int(slides)
        share = (Decimal(int(delivered) - int(late)) / int(delivered)).quantize(
            Decimal("0.0001"), ROUND_HALF_UP) if delivered else None
        rows.append(ReportRow(k, currency, int(n_jobs), slides, cost,
                              cost.divided_by(slides) if slides > 0 else None, share,
                              revisions.get(k, 0)))
    return Report(dimension, tuple(sorted(rows, key=lambda r: (r.key, r.currency))))


def report_totals(s: Session, month: str | None) -> list[ReportRow]:
    """One row per currency over the whole report. Summed over the engagement report, since
    each job belongs to exactly one engagement (by vendor or by month a reassigned job, or one
    billed across two months, would be counted twice). No on-time share: the rows do not
    carry the delivery counts it would need."""
    groups: dict[str, list[ReportRow]] = {}
    for r in report(s, ReportDimension.ENGAGEMENT.value, month=month):
        groups.setdefault(r.currency, []).append(r)
    totals = []
    for currency, rows in sorted(groups.items()):
        slides, cost = sum(r.slides for r in rows), sum_money((r.cost for r in rows), currency)
        totals.append(ReportRow("total", currency, sum(r.jobs for r in rows), slides, cost,
                                cost.divided_by(slides) if slides > 0 else None, None,
                                sum(r.revisions for r in rows)))
    return totals


def _names(s: Session, dimension: ReportDimension) -> dict[int, str] | None:
    if dimension is ReportDimension.VENDOR:
        return {i: slug for i, slug in s.execute(select(db.Vendor.id, db.Vendor.slug))}
    if dimension is ReportDimension.ENGAGEMENT:
        return {i: f"{client}/{slug}" for i, client, slug in s.execute(
            select(db.Engagement.id, db.Client.slug, db.Engagement.slug).join(db.Client))}
    return None


def _revisions(s: Session, dimension: ReportDimension, names: dict[int, str] | None,
               month: str | None) -> dict[str, int]:
    """Revision rounds requested, by UTC month of the request; by engagement and by vendor
    (the job's current vendor) within ``month`` when given."""
    j, ev = db.Job, db.JobEvent
    q = (select(j.engagement_id, j.vendor_id, ev.at).select_from(ev).join(j, j.id == ev.job_id)
         .where(ev.kind == "revision-requested"))
    if month:
        q = q.where(ev.at >= _month_start(month), ev.at < _month_start(month, 1))
    counts: dict[str, int] = {}
    for engagement_id, vendor_id, at in s.execute(q):
        k = {ReportDimension.MONTH: utc_month(at),
             ReportDimension.ENGAGEMENT: names and names.get(engagement_id),
             ReportDimension.VENDOR: names and names.get(vendor_id)}[dimension]
        counts[k] = counts.get(k, 0) + 1
    return counts


def _month_start(month: str, add: int = 0) -> datetime:
    year, m = (int(x) for x in month.split("-"))
    m += add
    return datetime(year + (m - 1) // 12, (m - 1) % 12 + 1, 1, tzinfo=UTC)


def ledger_values(s: Session, *, month: str | None = None,
                  vendor_slug: str | None = None) -> list[LedgerEntry]:
    """The ledger as :mod:`pricing` values (for statements), oldest first."""
    vendors = {v.id: v.slug for v in s.scalars(select(db.Vendor))}
    public = {j.id: j.public_id for j in s.scalars(select(db.Job))}
    return [LedgerEntry(e.key, public[e.job_id], vendors[e.vendor_id], EntryKind(e.kind),
                        Money(e.amount_cents, e.currency), e.slides, e.at, e.memo, e.reverses)
            for e in ledger_entries(s, month=month)
            if vendor_slug is None or vendors[e.vendor_id] == vendor_slug]
