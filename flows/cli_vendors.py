"""``outtask vendors …`` and ``outtask bids …``: who does the decks, at what rate, and which
bid wins a job (and why). Exit codes: see :mod:`flows.cli_ledger`."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy import select

from . import db, jobs
from .cli_ledger import (
    AsJson,
    At,
    JobId,
    _bid_dict,
    _table,
    fail,
    find_job,
    find_vendor,
    ledger_session,
    parse_at,
    parse_decimal,
    parse_money,
    parse_rating,
    rate_text,
    refusals,
    when_iso,
)
from .console import UsageError, out

vendors_app = typer.Typer(no_args_is_help=True, help="Vendors (out-taskers) and rate cards.")
bids_app = typer.Typer(no_args_is_help=True, help="Bids on a posted job; choosing the best.")


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
    out.print(_table(f"bids on {job_id} ({currency}, within {hours} h; UTC)",
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
        ref = job.engagement.ref
    doc = {"job": job_id, "assigned": choice.winner is not None, **choice.to_dict()}
    if as_json:
        print(json.dumps(doc, indent=1))
    elif choice.winner:
        w = choice.winner
        out.print(f"{job_id} assigned to [bold]{w.vendor}[/] at {w.slide_rate}/slide, "
                  f"{w.turnaround_hours} h: {escape(choice.reason)}\nissue the brief with "
                  f"{w.vendor}'s terms: outtask brief build {ref}", highlight=False)
    if not as_json and choice.rejected:
        out.print(_table("other bids", ("vendor", "per slide", "turnaround", "rating", "why not"),
                         [(r.bid.vendor, f"{r.bid.slide_rate}", f"{r.bid.turnaround_hours} h",
                           str(r.bid.rating), r.why) for r in choice.rejected]))
    if choice.winner is None:
        fail(f"{job_id} not assigned: {choice.reason}")


# -- jobs -------------------------------------------------------------------------------------
