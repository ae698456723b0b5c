"""``outtask vendors …``, ``outtask jobs …`` and ``outtask bids …``: the deck job an engagement's
brief becomes, the vendors who bid on it, its clock, the decks that come back and what each
costs. The rules live in :mod:`flows.jobs` and :mod:`pricing`; this module parses, prints and
maps their refusals to exit codes.

Exit codes (shared CONVENTIONS.md): a name that does not exist (job, vendor, engagement), a
malformed option (amount, time, month) is a usage error, exit 2; a step the job cannot take now
(its state, no brief yet, a refused deck, no qualifying bid) is a failed check, exit 1; listings
and ``show`` exit 0 whatever they report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pricing.errors import PricingError
from pricing.jobs import JobState
from pricing.money import Money, check_currency, sum_money
from pricing.rates import check_rating

from . import db, jobs
from .console import EXIT_REFUSED, UsageError, err, open_settings, out, split_ref
from .jobs import JobError
from .settings import Settings

vendors_app = typer.Typer(no_args_is_help=True, help="Vendors (out-taskers) and rate cards.")
jobs_app = typer.Typer(no_args_is_help=True, help="Deck jobs: post, hand off, deliver, bill.")
bids_app = typer.Typer(no_args_is_help=True, help="Bids on a posted job; choosing the best.")

JobId = Annotated[str, typer.Argument(help="The job id (job-…), as `outtask jobs list` shows.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
At = Annotated[str | None, typer.Option(
    "--at", help="When it happened, ISO 8601 with a zone (2026-11-02T09:00Z, or +08:00); a "
                 "time without a zone is refused. Default: now. For backfills and tests.")]


# -- the edge: database, parsing, refusals ------------------------------------------------------
@contextmanager
def ledger_session() -> Iterator[tuple[Settings, Session]]:
    """The settings and one database session. Only the database: no bucket and no Prefect, so
    these commands start fast and work whatever the bucket is."""
    settings = open_settings()
    try:
        sessions = db.session_factory(settings.database_url)
    except Exception as e:
        raise UsageError(f"cannot open the database: {e}") from e
    try:
        with sessions() as s:
            yield settings, s
    finally:
        sessions.kw["bind"].dispose()


@contextmanager
def refusals() -> Iterator[None]:
    """The job cannot take this step now (its state, a missing brief or handoff): exit 1 with
    the reason. Nothing is committed."""
    try:
        yield
    except (JobError, PricingError) as e:
        fail(str(e))


def fail(message: str) -> None:
    err.print(f"[bold red]error[/]: {escape(message)}", highlight=False)
    raise typer.Exit(EXIT_REFUSED)


def parse_at(text: str | None) -> datetime:
    if text is None:
        return db.utcnow()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO 8601 time: write e.g. "
                         "2026-11-02T09:00Z") from None
    if moment.utcoffset() is None:
        raise UsageError(f"--at {text!r} has no time zone: add Z for UTC (2026-11-02T09:00Z) or "
                         "an offset (+08:00)")
    return moment.astimezone(UTC)


def parse_money(text: str, currency: str, option: str) -> Money:
    try:
        amount = Money.parse(text, check_currency(currency))
    except (ValueError, TypeError) as e:
        raise UsageError(f"{option} {text!r}: {e}") from None
    if amount.cents < 0:
        raise UsageError(f"{option} {text!r}: an amount per slide cannot be negative")
    return amount


def parse_decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise UsageError(f"{option} {text!r} is not a number: write it like 4.5")
    return value


def parse_rating(text: str, option: str = "--rating") -> Decimal:
    rating = parse_decimal(text, option)
    try:
        return check_rating(rating, option)
    except ValueError as e:
        raise UsageError(str(e)) from None


def find_job(s: Session, job_id: str) -> db.Job:
    try:
        return jobs.find_job(s, job_id)
    except JobError as e:
        raise UsageError(str(e)) from None


def find_vendor(s: Session, slug: str) -> db.Vendor:
    try:
        return jobs.vendor(s, slug)
    except JobError as e:
        raise UsageError(str(e)) from None


# -- formatting -------------------------------------------------------------------------------
def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def when_iso(text: str | None) -> str:
    """``when`` of what ``iso`` wrote."""
    return when(datetime.fromisoformat(text) if text else None)


def span(delta: timedelta) -> str:
    minutes = abs(delta) // timedelta(minutes=1)
    days, minutes = divmod(minutes, 24 * 60)
    text = f"{minutes // 60}h {minutes % 60:02d}m"
    return ("-" if delta < timedelta(0) else "") + (f"{days}d {text}" if days else text)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def rate_text(cents: int | None, currency: str) -> str:
    return str(Money(cents, currency)) if cents is not None else "-"


def _open_question(s: Session, job: db.Job) -> bool:
    """True while the out-tasker's last question is unanswered (the clock stands still)."""
    last = s.scalars(select(db.JobEvent.kind)
                     .where(db.JobEvent.job_id == job.id,
                            db.JobEvent.kind.in_(("question", "answer")))
                     .order_by(db.JobEvent.at.desc(), db.JobEvent.id.desc()).limit(1)).first()
    return last == "question"


def _clock(s: Session, job: db.Job, at: datetime) -> dict[str, Any]:
    """The deadline as known at ``at``; time left while the current vendor has not delivered;
    late: delivered after the deadline, or past it and still out."""
    clock: dict[str, Any] = {"deadline": None, "time_left_s": None, "late": None,
                             "paused": False}
    if job.handed_off_at is None:
        return clock
    first = s.scalar(select(func.min(db.Delivery.at)).where(
        db.Delivery.job_id == job.id, db.Delivery.vendor_id == job.vendor_id,
        db.Delivery.at >= job.handed_off_at))
    if first is not None:
        due = jobs.due(s, job, now=first)
        return {**clock, "deadline": due, "late": first > due}
    due = jobs.due(s, job, now=at)
    clock["deadline"] = due
    if job.state == "assigned":
        clock.update(time_left_s=int((due - at).total_seconds()), late=at > due,
                     paused=_open_question(s, job))
    return clock


def _job_dict(s: Session, job: db.Job, at: datetime) -> dict[str, Any]:
    clock = _clock(s, job, at)
    return {"job": job.public_id, "engagement": job.engagement.ref, "state": job.state,
            "vendor": job.vendor.slug if job.vendor else None, "currency": job.currency,
            "slide_rate_cents": job.slide_rate_cents, "turnaround_hours": job.turnaround_hours,
            "target_slides": job.target_slides, "revision_rounds": job.revision_rounds,
            "handed_off_at": iso(job.handed_off_at), "delivered_at": iso(job.delivered_at),
            "choice_reason": job.choice_reason, **clock, "deadline": iso(clock["deadline"])}


def _time_left(row: dict[str, Any]) -> str:
    if row["time_left_s"] is None:
        return "-"
    left = span(timedelta(seconds=row["time_left_s"]))
    return f"{left} (paused: question)" if row["paused"] else left


def _late(row: dict[str, Any]) -> str:
    return {True: "LATE", False: "on time", None: "-"}[row["late"]]


def _bid_dict(b: db.Bid) -> dict[str, Any]:
    return {"vendor": b.vendor.slug, "slide_rate_cents": b.slide_rate_cents,
            "currency": b.currency, "turnaround_hours": b.turnaround_hours,
            "rating": str(b.rating), "at": b.at.isoformat()}


def _entry_dict(e: db.LedgerEntry, vendors: dict[int, str]) -> dict[str, Any]:
    return {"key": e.key, "vendor": vendors[e.vendor_id], "kind": e.kind,
            "amount_cents": e.amount_cents, "currency": e.currency, "slides": e.slides,
            "at": e.at.isoformat(), "memo": e.memo, "reverses": e.reverses}


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> Table:
    table = Table(title=title)
    for i, col in enumerate(columns):
        table.add_column(col, overflow="fold", no_wrap=i == 0)  # ids stay whole
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    return table


# -- vendors ----------------------------------------------------------------------------------
@vendors_app.command("add")
def vendors_add(
    slug: Annotated[str, typer.Argument(help="Vendor slug (lower-case letters, digits, -).")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    rate: Annotated[str | None, typer.Option(help="Price per slide, e.g. 11.00.")] = None,
    currency: Annotated[str | None, typer.Option(
        help="Currency of the rate card. Default: OUTTASK_CURRENCY.")] = None,
    rating: Annotated[str | None, typer.Option(help="Rating from 1 to 5, e.g. 4.5.")] = None,
    timezone: Annotated[str | None, typer.Option(
        help="IANA time zone, e.g. Asia/Manila. Default: UTC.")] = None,
    free_revisions: Annotated[int | None, typer.Option(
        min=0, help="Free revision rounds. Default: 2.")] = None,
    revision_rate: Annotated[str | None, typer.Option(
        help="Price per slide touched in further rounds. Default: 5.00.")] = None,
    rush: Annotated[str | None, typer.Option(
        help="Multiplier for turnarounds under 24 h. Default: 1.5.")] = None,
) -> None:
    """Add a vendor and its rate card (a new vendor needs --name, --rate and --rating), or
    update one: options left out keep their current values."""
    with ledger_session() as (settings, s):
        old = s.scalars(select(db.Vendor).where(db.Vendor.slug == slug)).one_or_none()
        if old is None and (name is None or rate is None or rating is None):
            raise UsageError(f"{slug} is a new vendor: give --name, --rate and --rating, e.g. "
                             f"outtask vendors add {slug} --name 'Slide Co' --rate 11.00 "
                             "--rating 4.5")
        cur = (currency or (old.currency if old else settings.currency)).upper()
        card: dict[str, Any] = {
            "name": name or old.name,
            "rating": parse_rating(rating) if rating else old.rating,
            "currency": cur,
            "slide_rate_cents": (parse_money(rate, cur, "--rate").cents if rate
                                 else old.slide_rate_cents),
            "timezone": timezone or (old.timezone if old else "UTC"),
            "free_revision_rounds": free_revisions if free_revisions is not None
            else (old.free_revision_rounds if old else 2),
            "revision_slide_rate_cents": (
                parse_money(revision_rate, cur, "--revision-rate").cents if revision_rate
                else (old.revision_slide_rate_cents if old else 500)),
            "rush_multiplier": (parse_decimal(rush, "--rush") if rush
                                else (old.rush_multiplier if old else Decimal("1.5")))}
        try:
            v = jobs.add_vendor(s, slug, **card)
        except (ValueError, TypeError) as e:  # the rate card's own checks: slug, zone, rush
            raise UsageError(str(e)) from None
        s.commit()
        out.print(f"vendor {v.slug} {'updated' if old else 'added'}: {escape(v.name)}, "
                  f"{rate_text(v.slide_rate_cents, v.currency)}/slide, rating {v.rating}, "
                  f"{v.free_revision_rounds} free revision round(s) then "
                  f"{rate_text(v.revision_slide_rate_cents, v.currency)}/slide, rush x"
                  f"{v.rush_multiplier}, {v.timezone}", highlight=False)


@vendors_app.command("list")
def vendors_list(as_json: AsJson = False) -> None:
    """The vendors and their rate cards. Always exits 0."""
    with ledger_session() as (_, s):
        rows = [{"slug": v.slug, "name": v.name, "rating": str(v.rating),
                 "currency": v.currency, "slide_rate_cents": v.slide_rate_cents,
                 "free_revision_rounds": v.free_revision_rounds,
                 "revision_slide_rate_cents": v.revision_slide_rate_cents,
                 "rush_multiplier": str(v.rush_multiplier), "timezone": v.timezone}
                for v in s.scalars(select(db.Vendor).order_by(db.Vendor.slug))]
    if as_json:
        print(json.dumps({"vendors": rows}, indent=1))
        return
    out.print(_table("vendors", ("vendor", "name", "rating", "rate", "free rounds",
                                 "revision rate", "rush", "time zone"),
                     [(r["slug"], r["name"], r["rating"],
                       rate_text(r["slide_rate_cents"], r["currency"]),
                       str(r["free_revision_rounds"]),
                       rate_text(r["revision_slide_rate_cents"], r["currency"]),
                       f"x{r['rush_multiplier']}", r["timezone"]) for r in rows]))
    if not rows:
        out.print("no vendors yet: outtask vendors add SLUG --name NAME --rate 11.00 "
                  "--rating 4.5", highlight=False)


# -- bids -------------------------------------------------------------------------------------
@bids_app.command("add")
def bids_add(
    job_id: JobId,
    vendor: Annotated[str, typer.Argument(help="The bidding vendor's slug.")],
    rate: Annotated[str, typer.Option(help="Price per slide, e.g. 10.50.")],
    turnaround: Annotated[int, typer.Option(min=1, help="Promised turnaround in hours.")],
    currency: Annotated[str | None, typer.Option(
        help="Currency of the bid. Default: the vendor's.")] = None,
    rating: Annotated[str | None, typer.Option(
        help="The vendor's rating when it bid (1-5). Default: the vendor's.")] = None,
    at: At = None,
) -> None:
    """Record a vendor's bid on a posted job (a second bid from the same vendor replaces the
    first). Bids in another currency than the job's are recorded but do not compete."""
    moment = parse_at(at)
    with ledger_session() as (_, s):
        job, v = find_job(s, job_id), find_vendor(s, vendor)
        cur = (currency or v.currency).upper()
        price = parse_money(rate, cur, "--rate")
        with refusals():
            jobs.add_bid(s, job, v.slug, slide_rate_cents=price.cents,
                         turnaround_hours=turnaround, at=moment, currency=cur,
                         rating=parse_rating(rating) if rating else None)
        s.commit()
        note = "" if cur == job.currency else f" (the job is in {job.currency}: not competing)"
    out.print(f"bid recorded on {job_id}: {v.slug} at {price}/slide, {turnaround} h{note}",
              highlight=False)


@bids_app.command("list")
def bids_list(job_id: JobId, as_json: AsJson = False) -> None:
    """A job's bids, cheapest first. Always exits 0 when the job exists."""
    with ledger_session() as (_, s):
        job = find_job(s, job_id)
        rows = [_bid_dict(b) for b in s.scalars(select(db.Bid).where(db.Bid.job_id == job.id)
                                                .order_by(db.Bid.currency,
                                                          db.Bid.slide_rate_cents, db.Bid.at))]
        currency, hours = job.currency, job.turnaround_hours
    if as_json:
        print(json.dumps({"job": job_id, "currency": currency, "turnaround_hours": hours,
                          "bids": rows}, indent=1))
        return
    out.print(_table(f"bids on {job_id} ({currency}, within {hours} h)",
                     ("vendor", "per slide", "turnaround", "rating", "bid at"),
                     [(r["vendor"], rate_text(r["slide_rate_cents"], r["currency"]),
                       f"{r['turnaround_hours']} h", r["rating"],
                       when_iso(r["at"])) for r in rows]))


@bids_app.command("choose")
def bids_choose(
    job_id: JobId,
    min_rating: Annotated[str, typer.Option(help="Lowest rating that qualifies.")] = "4.0",
    as_json: AsJson = False,
    at: At = None,
) -> None:
    """Assign the job to the best bid: the cheapest per slide in the job's currency that
    promises the turnaround and meets --min-rating (ties: higher rating, then earlier bid).
    Prints why it won and why each other bid lost. With no qualifying bid the job stays posted,
    the reason is recorded, and the command exits 1 (nothing was assigned)."""
    moment, minimum = parse_at(at), parse_rating(min_rating, "--min-rating")
    with ledger_session() as (_, s):
        job = find_job(s, job_id)
        if job.state != "posted":
            fail(f"job {job_id} is {job.state}: bids are chosen while a job is posted")
        with refusals():
            choice = jobs.choose(s, job, at=moment, min_rating=minimum)
        s.commit()
    doc = {"job": job_id, "assigned": choice.winner is not None, **choice.to_dict()}
    if as_json:
        print(json.dumps(doc, indent=1))
    elif choice.winner:
        w = choice.winner
        out.print(f"{job_id} assigned to [bold]{w.vendor}[/] at {w.slide_rate}/slide, "
                  f"{w.turnaround_hours} h: {escape(choice.reason)}", highlight=False)
    if not as_json and choice.rejected:
        out.print(_table("other bids", ("vendor", "per slide", "turnaround", "rating", "why not"),
                         [(r.bid.vendor, f"{r.bid.slide_rate}", f"{r.bid.turnaround_hours} h",
                           str(r.bid.rating), r.why) for r in choice.rejected]))
    if choice.winner is None:
        fail(f"{job_id} not assigned: {choice.reason}")


# -- jobs -------------------------------------------------------------------------------------
@jobs_app.command("post")
def jobs_post(ref: Annotated[str, typer.Argument(help="<client>/<engagement>")],
              at: At = None) -> None:
    """Post the engagement's deck job for bids (it needs a brief: `outtask brief build`).
    Posting again shows the same job."""
    client, slug = split_ref(ref)
    moment = parse_at(at)
    with ledger_session() as (_, s):
        eng = (s.query(db.Engagement).join(db.Client)
               .filter(db.Client.slug == client, db.Engagement.slug == slug).one_or_none())
        if eng is None:
            raise UsageError(f"no engagement {ref}: see `outtask status`, or create it with "
                             f"`outtask engagement create {ref}`")
        with refusals():
            job = jobs.post_job(s, eng, at=moment)
        s.commit()
        out.print(f"job {job.public_id} ({ref}) is {job.state}: {job.currency}, "
                  f"{job.turnaround_hours} h turnaround. Collect bids with `outtask bids add "
                  f"{job.public_id} VENDOR --rate 11.00 --turnaround 24`", highlight=False)


@jobs_app.command("list")
def jobs_list(
    state: Annotated[str | None, typer.Option(help="Only jobs in this state.")] = None,
    as_json: AsJson = False,
    at: At = None,
) -> None:
    """The jobs with their vendor, rate, deadline, time left and late flag (as of --at).
    Always exits 0."""
    states = [s.value for s in JobState]
    if state is not None and state not in states:
        raise UsageError(f"--state {state!r}: one of {', '.join(states)}")
    moment = parse_at(at)
    with ledger_session() as (_, s):
        q = select(db.Job).order_by(db.Job.created_at, db.Job.id)
        if state:
            q = q.where(db.Job.state == state)
        rows = [_job_dict(s, job, moment) for job in s.scalars(q)]
    if as_json:
        print(json.dumps({"at": moment.isoformat(), "jobs": rows}, indent=1))
        return
    out.print(_table("jobs", ("job", "engagement", "state", "vendor", "rate", "deadline",
                              "time left", "late"),
                     [(r["job"], r["engagement"], r["state"], r["vendor"] or "-",
                       rate_text(r["slide_rate_cents"], r["currency"]),
                       when_iso(r["deadline"]),
                       _time_left(r), _late(r)) for r in rows]))


@jobs_app.command("show")
def jobs_show(job_id: JobId, as_json: AsJson = False, at: At = None) -> None:
    """One job: its clock, bids, deliveries, events and ledger entries with the total.
    Always exits 0 when the job exists."""
    moment = parse_at(at)
    with ledger_session() as (_, s):
        job = find_job(s, job_id)
        vendors = {v.id: v.slug for v in s.scalars(select(db.Vendor))}
        ledger = [_entry_dict(e, vendors) for e in s.scalars(
            select(db.LedgerEntry).where(db.LedgerEntry.job_id == job.id)
            .order_by(db.LedgerEntry.at, db.LedgerEntry.id))]
        doc = {"job": _job_dict(s, job, moment),
               "bids": [_bid_dict(b) for b in s.scalars(
                   select(db.Bid).where(db.Bid.job_id == job.id).order_by(db.Bid.at))],
               "deliveries": [{"number": d.number, "vendor": vendors[d.vendor_id],
                               "at": d.at.isoformat(), "billable_slides": d.billable_slides,
                               "deck_sha256": d.deck_sha256, "deck_key": d.deck_key}
                              for d in s.scalars(select(db.Delivery).where(
                                  db.Delivery.job_id == job.id).order_by(db.Delivery.number))],
               "events": [{"at": e.at.isoformat(), "kind": e.kind, "detail": e.detail}
                          for e in s.scalars(select(db.JobEvent).where(
                              db.JobEvent.job_id == job.id).order_by(db.JobEvent.at,
                                                                     db.JobEvent.id))],
               "ledger": ledger,
               "totals": [sum_money((Money(e["amount_cents"], cur) for e in ledger
                                     if e["currency"] == cur), cur).to_dict()
                          for cur in sorted({e["currency"] for e in ledger})]}
    if as_json:
        print(json.dumps(doc, indent=1))
        return
    j = doc["job"]
    out.print(f"[bold]{j['job']}[/] {j['engagement']}: {j['state']}", highlight=False)
    for label, value in (
            ("vendor", f"{j['vendor'] or '-'} at {rate_text(j['slide_rate_cents'], j['currency'])}"
                       f" per slide"),
            ("turnaround", f"{j['turnaround_hours']} h"),
            ("handed off", when_iso(j["handed_off_at"])), ("deadline", when_iso(j["deadline"])),
            ("time left", _time_left(j)), ("late", _late(j)),
            ("revision rounds", str(j["revision_rounds"])),
            ("chosen because", j["choice_reason"] or "-")):
        out.print(f"  {label}: {escape(value)}", highlight=False)
    out.print(_table("events", ("at", "event", "detail"),
                     [(when_iso(e["at"]), e["kind"],
                       ", ".join(f"{k}={v}" for k, v in e["detail"].items()
                                 if k not in ("rejected", "winner"))) for e in doc["events"]]))
    out.print(_table("ledger", ("at", "vendor", "kind", "slides", "amount", "memo"),
                     [(when_iso(e["at"]), e["vendor"], e["kind"],
                       str(e["slides"]), str(Money(e["amount_cents"], e["currency"])),
                       e["memo"]) for e in ledger]))
    totals = ", ".join(str(Money(t["cents"], t["currency"])) for t in doc["totals"])
    out.print(f"total: {totals or 'nothing billed yet'}", highlight=False)


@jobs_app.command("handoff")
def jobs_handoff(job_id: JobId, at: At = None) -> None:
    """The brief is in the assigned vendor's hands: the clock starts."""
    moment = parse_at(at)
    with ledger_session() as (_, s):
        job = find_job(s, job_id)
        with refusals():
            jobs.hand_off(s, job, at=moment)
        s.commit()
        due = jobs.due(s, job, now=moment)
        zone = job.vendor.timezone
        local = due.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        out.print(f"{job_id} handed off to {job.vendor.slug} at {when(job.handed_off_at)}; "
                  f"due {when(due)} ({local} {zone})", highlight=False)


@jobs_app.command("question")
def jobs_question(
    job_id: JobId,
    text: Annotated[str, typer.Option(help="What the out-tasker asked.")] = "",
    at: At = None,
) -> None:
    """The out-tasker asked a question: the clock stops until `outtask jobs answer`."""
    moment = parse_at(at)
    with ledger_session() as (_, s):
        job = find_job(s, job_id)
        if job.handed_off_at is None or job.state not in ("assigned", "revision_requested"):
            fail(f"job {job_id} is {job.state}"
                 f"{'' if job.handed_off_at else ', not handed off'}: its clock is not running")
        if _open_question(s, job):
            fail(f"job {job_id} already waits for an answer: `outtask jobs answer {job_id}`")
        jobs.question(s, job, at=moment, text=text)
        s.commit()
    out.print(f"{job_id}: clock paused at {when(moment)} until the question is answered",
              highlight=False)


@jobs_app.command("answer")
def jobs_answer(
    job_id: JobId,
    text: Annotated[str, typer.Option(help="The answer.")] = "",
    at: At = None,
) -> None:
    """The out-tasker's question is answered: the clock runs again, the deadline moves by the
    pause."""
    moment = parse_at(at)
    with ledger_session() as (_, s):
        job = find_job(s, job_id)
        if not _open_question(s, job):
            fail(f"job {job_id} has no open question")
        jobs.answer(s, job, at=moment, text=text)
        s.commit()
        due = jobs.due(s, job, now=moment)
    out.print(f"{job_id}: clock running again; due {when(due)}", highlight=False)



@jobs_app.command("deliver")
def jobs_deliver(
    job_id: JobId,
    deck: Annotated[Path, typer.Argument(help="The returned .pptx.")],
    as_json: AsJson = False,
    at: At = None,
) -> None:
    """Record a returned deck: the deck check counts its billable slides (a refused deck exits
    1, like `outtask deck check`, and changes nothing); the first delivery is charged per
    billable slide, with the late credit when it came after the deadline. The same deck
    delivered again is the same delivery and is charged once."""
    from deck_builder.errors import DeckRefusedError

    if not deck.is_file():
        raise UsageError(f"{deck}: no such file")
    moment = parse_at(at)
    with ledger_session() as (_, s):
        job = find_job(s, job_id)
        try:
            with refusals():
                row, report, new = jobs.deliver(s, job, deck, at=moment)
        except DeckRefusedError as e:
            if as_json:
                print(json.dumps({"file": deck.name, "refused": f"{e.reason}: {e.fix}",
                                  "kind": e.kind}))
            fail(f"{deck.name} refused: {e.reason}\nfix: {e.fix}")
        s.commit()
        vendors = {v.id: v.slug for v in s.scalars(select(db.Vendor))}
        entries = [_entry_dict(e, vendors) for e in s.scalars(
            select(db.LedgerEntry).where(
                db.LedgerEntry.job_id == job.id,
                db.LedgerEntry.key.like(f"{job.public_id}:delivery:{row.number}:%"))
            .order_by(db.LedgerEntry.id))]
        doc = {"job": job_id, "delivery": row.number, "new": new, "file": deck.name,
               "at": row.at.isoformat(), "billable_slides": row.billable_slides,
               "deadline": iso(jobs.due(s, job, now=row.at)), "entries": entries,
               "state": job.state, "flags": report.to_dict()["flags"]}
    if as_json:
        print(json.dumps(doc, indent=1))
        return
    if not new:
        out.print(f"{deck.name} was already recorded as delivery {row.number} of {job_id}: "
                  "nothing changed", highlight=False)
        return
    amounts = {e["kind"]: Money(e["amount_cents"], e["currency"]) for e in entries}
    charged = next((e["slides"] for e in entries if e["kind"] == "charge"), 0)
    billed = ("a revision: billed per revision round" if not amounts else
              f"charge {amounts.get('charge', '-')} ({charged} slides), late credit "
              f"{amounts.get('late_credit', 'none (on time)')}, net "
              f"{sum_money(amounts.values(), job.currency)}")
    out.print(f"{job_id} delivery {row.number}: {row.billable_slides} billable slides; "
              f"{billed}", highlight=False)
    for flag in report.flags:
        err.print(f"[yellow]{deck.name}: needs a look[/]: {escape(flag.reason)}",
                  highlight=False)


@jobs_app.command("revise")
def jobs_revise(
    job_id: JobId,
    slides: Annotated[int, typer.Option(min=0, help="Slides the revision touches.")],
    at: At = None,
) -> None:
    """Request a revision round of a delivered deck: free within the vendor's free rounds, then
    charged per slide touched at the vendor's revision rate."""
    moment = parse_at(at)
    with ledger_session() as (_, s):
        job = find_job(s, job_id)
        with refusals():
            round_no = jobs.request_revision(s, job, slides_touched=slides, at=moment)
        s.commit()
        charge = s.scalars(select(db.LedgerEntry).where(
            db.LedgerEntry.key == f"{job.public_id}:revision:{round_no}:charge")).one_or_none()
    billed = str(Money(charge.amount_cents, charge.currency)) if charge else "free"
    out.print(f"{job_id}: revision round {round_no} requested ({slides} slides): {billed}",
              highlight=False)


@jobs_app.command("approve")
def jobs_approve(job_id: JobId, at: At = None) -> None:
    """Approve the delivered deck."""
    _settle(job_id, "approve", at)


@jobs_app.command("invoice")
def jobs_invoice(job_id: JobId, at: At = None) -> None:
    """The vendor invoiced the approved job."""
    _settle(job_id, "invoice", at)


@jobs_app.command("pay")
def jobs_pay(job_id: JobId, at: At = None) -> None:
    """The vendor's invoice is paid."""
    _settle(job_id, "pay", at)


@jobs_app.command("cancel")
def jobs_cancel(job_id: JobId, at: At = None) -> None:
    """Cancel an open job (what the ledger holds stays)."""
    _settle(job_id, "cancel", at)


def _settle(job_id: str, event: str, at: str | None) -> None:
    moment = parse_at(at)
    with ledger_session() as (_, s):
        job = find_job(s, job_id)
        with refusals():
            if event == "approve":
                jobs.approve(s, job, at=moment)
            else:
                jobs.settle(s, job, event, at=moment)
        s.commit()
        out.print(f"{job_id} is {job.state}", highlight=False)


@jobs_app.command("auto-approve")
def jobs_auto_approve(as_json: AsJson = False, at: At = None) -> None:
    """Approve every delivered deck nobody reviewed within OUTTASK_AUTO_APPROVE_DAYS. Exits 0
    whether or not any was due."""
    moment = parse_at(at)
    with ledger_session() as (settings, s):
        days = settings.auto_approve_days
        done = [job.public_id for job in jobs.auto_approve_due(s, now=moment, days=days)]
        s.commit()
    if as_json:
        print(json.dumps({"at": moment.isoformat(), "days": days, "approved": done}, indent=1))
    else:
        out.print(f"auto-approved after {days} day(s): {', '.join(done) or 'none due'}",
                  highlight=False)


@jobs_app.command("reassign")
def jobs_reassign(
    job_id: JobId,
    vendor: Annotated[str, typer.Argument(help="The new vendor's slug.")],
    rate: Annotated[str, typer.Option(help="The new vendor's price per slide, e.g. 11.00.")],
    accepted_slides: Annotated[int, typer.Option(
        min=0, help="Slides the old vendor delivered that passed the deck check: paid at the "
                    "agreed rate.")],
    at: At = None,
) -> None:
    """The out-tasker disappeared: pay the accepted slides at the agreed rate and give the job
    to VENDOR; its clock starts at the next `outtask jobs handoff`."""
    moment = parse_at(at)
    with ledger_session() as (_, s):
        job, new = find_job(s, job_id), find_vendor(s, vendor)
        price = parse_money(rate, job.currency, "--rate")
        old = job.vendor
        if old is None:
            fail(f"job {job_id} is {job.state} and has no vendor: choose a bid first")
        agreed = Money(job.slide_rate_cents or 0, job.currency)
        with refusals():
            jobs.reassign(s, job, new.slug, slide_rate_cents=price.cents,
                          accepted_slides=accepted_slides, at=moment)
        s.commit()
    out.print(f"{job_id} reassigned from {old.slug} to {new.slug} at {price}/slide; "
              f"{old.slug} is paid {agreed * accepted_slides} for {accepted_slides} accepted "
              f"slide(s). Hand the brief off: outtask jobs handoff {job_id}", highlight=False)
