"""``outtask jobs …``: the deck job an engagement's brief becomes, its clock, the decks that
come back and what each costs. The rules live in :mod:`flows.jobs` and :mod:`pricing`; this
module parses, prints and maps their refusals to exit codes (see :mod:`flows.cli_ledger`)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from sqlalchemy import select

from pricing.jobs import JobState
from pricing.money import Money, sum_money

from . import db, jobs
from .cli_ledger import (
    AsJson,
    At,
    JobId,
    _bid_dict,
    _entry_dict,
    _job_dict,
    _late,
    _open_question,
    _table,
    _time_left,
    fail,
    find_job,
    find_vendor,
    iso,
    ledger_session,
    parse_at,
    parse_money,
    rate_text,
    refusals,
    when,
    when_iso,
)
from .console import UsageError, err, out, split_ref

jobs_app = typer.Typer(no_args_is_help=True, help="Deck jobs: post, hand off, deliver, bill.")


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
    state: Annotated[JobState | None, typer.Option(help="Only jobs in this state.")] = None,
    as_json: AsJson = False,
    at: At = None,
) -> None:
    """The jobs with their vendor, rate, deadline, time left and late flag (as of --at).
    Always exits 0."""
    moment = parse_at(at)
    with ledger_session() as (_, s):
        q = select(db.Job).order_by(db.Job.created_at, db.Job.id)
        if state:
            q = q.where(db.Job.state == state.value)
        rows = [_job_dict(s, job, moment) for job in s.scalars(q)]
    if as_json:
        print(json.dumps({"at": moment.isoformat(), "jobs": rows}, indent=1))
        return
    out.print(_table("jobs (UTC)", ("job", "engagement", "state", "vendor", "rate", "deadline",
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
            ("handed off (UTC)", when_iso(j["handed_off_at"])),
            ("deadline (UTC)", when_iso(j["deadline"])),
            ("time left", _time_left(j)), ("late", _late(j)),
            ("revision rounds", str(j["revision_rounds"])),
            ("chosen because", j["choice_reason"] or "-")):
        out.print(f"  {label}: {escape(value)}", highlight=False)
    out.print(_table("events (UTC)", ("at", "event", "detail"),
                     [(when_iso(e["at"]), e["kind"],
                       ", ".join(f"{k}={v}" for k, v in e["detail"].items()
                                 if k not in ("rejected", "winner"))) for e in doc["events"]]))
    out.print(_table("ledger (UTC)", ("at", "vendor", "kind", "slides", "amount", "memo"),
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
    if report.flags:
        kinds = Counter(flag.kind for flag in report.flags)
        err.print(f"[yellow]{deck.name}: needs a look[/]: "
                  f"{', '.join(f'{n} {kind}' for kind, n in kinds.items())} (details: outtask "
                  f"deck check {escape(str(deck))})", highlight=False)


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


def _settle_command(event: str, doc: str) -> None:
    def command(job_id: JobId, at: At = None) -> None:
        _settle(job_id, event, at)

    command.__doc__ = doc
    jobs_app.command(event)(command)


_settle_command("approve", "Approve the delivered deck.")
_settle_command("invoice", "The vendor invoiced the approved job.")
_settle_command("pay", "The vendor's invoice is paid.")
_settle_command("cancel", "Cancel an open job (what the ledger holds stays).")


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
        if old.id == new.id:
            fail(f"job {job_id} is {old.slug}'s already: reassign it to another vendor")
        with refusals():
            jobs.reassign(s, job, new.slug, slide_rate_cents=price.cents,
                          accepted_slides=accepted_slides, at=moment)
        s.commit()
        ref, gone = job.engagement.ref, old.slug
        # slides its deliveries were already charged for are not paid twice
        paid = s.scalars(select(db.LedgerEntry).where(
            db.LedgerEntry.key.like(f"{job.public_id}:reassignment:{gone}:%"))).first()
    owed = (f"{gone} is paid {Money(paid.amount_cents, paid.currency)} for {paid.slides} "
            "accepted slide(s)" if paid else f"nothing more is owed to {gone}")
    out.print(f"{job_id} reassigned from {gone} to {new.slug} at {price}/slide; {owed}. Issue "
              f"the brief with {new.slug}'s terms (outtask brief build {ref}) and hand it off: "
              f"outtask jobs handoff {job_id}", highlight=False)
