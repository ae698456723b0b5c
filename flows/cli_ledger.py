"""What the ``vendors``, ``bids``, ``jobs`` and ``finance`` commands share: the database
session (no Prefect: these commands start in a fraction of a second), parsing of times, money
and ratings, refusals mapped to exit codes, and small formatters.

Exit codes (shared CONVENTIONS.md): a name that does not exist (job, vendor, engagement), a
malformed option (amount, time, month) is a usage error, exit 2; a step the job cannot take now
(its state, no brief yet, a refused deck, no qualifying bid) is a failed check, exit 1; listings
and ``show`` exit 0 whatever they report.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pricing.errors import PricingError
from pricing.money import Money, check_currency
from pricing.rates import check_rating

from . import db, jobs
from .console import EXIT_REFUSED, UsageError, err, open_settings
from .jobs import JobError
from .settings import Settings

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
    """What ``iso`` wrote, for a table whose title says the times are UTC."""
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M") if text else "-"


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
    return f"{left} paused" if row["paused"] else left


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
