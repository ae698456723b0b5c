"""A simulated engagement of 50 interviews → one deck job, end to end through pricing/:
bids, a vendor who disappears after a partial delivery (reassignment), a late delivery after a
paused clock, three revision rounds (one beyond the free two) and auto-approval. The ledger,
late flags and job states are asserted to the cent; test_pricing_reports reads the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pricing import (
    Bid,
    EntryKind,
    JobEvent,
    JobFact,
    JobState,
    Ledger,
    Money,
    RateCard,
    RejectionReason,
    Vendor,
    choose_bid,
    deadline,
    entries_for_delivery,
    entries_for_reassignment,
    entries_for_revision,
    hours_late,
    is_late,
    should_auto_approve,
    transition,
    utc_month,
)

ENGAGEMENT = "acme/market-entry"
JOB = "job-7f3a9c"
POSTED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def vendor(slug: str, rate: Money, rating: str) -> Vendor:
    return Vendor(slug, slug.replace("-", " ").title(), Decimal(rating), RateCard(slug, rate))


VENDORS = {v.slug: v for v in (
    vendor("vendor-a", usd("11.00"), "4.6"), vendor("vendor-b", usd("10.50"), "4.2"),
    vendor("vendor-c", usd("9.00"), "4.9"), vendor("vendor-d", usd("8.00"), "3.5"),
    vendor("vendor-e", Money(900, "EUR"), "4.8"))}


@dataclass(frozen=True)
class Engagement:
    interviews: tuple[str, ...]
    bids: tuple[Bid, ...]
    ledger: Ledger
    states: tuple[JobState, ...]
    facts: tuple[JobFact, ...]
    late: dict[str, bool]
    reasons: tuple[str, ...]


def simulate() -> Engagement:
    interviews = tuple(f"exec-{n:02d}" for n in range(1, 51))  # one brief, one deck job
    bids = tuple(Bid(slug, v.rate_card.slide_rate, hours, v.rating, POSTED + timedelta(minutes=m))
                 for slug, hours, m in (("vendor-a", 24, 10), ("vendor-b", 20, 20),
                                        ("vendor-c", 36, 30), ("vendor-d", 24, 40),
                                        ("vendor-e", 24, 50))
                 for v in [VENDORS[slug]])
    ledger = Ledger()
    state = JobState.POSTED
    states = [state]

    def step(event: JobEvent) -> None:
        nonlocal state
        state = transition(state, event)
        states.append(state)

    first = choose_bid(bids, currency="USD", max_turnaround_hours=24)
    b = first.require_winner()
    step(JobEvent.ASSIGN)
    handoff_b = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    due_b = deadline(handoff_b, 24)
    partial_at = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)  # 18 slides pass the deck check
    # vendor-b goes silent; the job is reassigned after its deadline, paying what was accepted
    reassigned_at = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
    ledger.extend(entries_for_reassignment(JOB, b.vendor, accepted_slides=18, rate=b.slide_rate,
                                           at=reassigned_at))
    second = choose_bid([x for x in bids if x.vendor != b.vendor], currency="USD",
                        max_turnaround_hours=24)
    a = second.require_winner()
    step(JobEvent.REASSIGN)

    pauses = [(datetime(2026, 11, 3, 18, 0, tzinfo=UTC), datetime(2026, 11, 3, 20, 0, tzinfo=UTC))]
    due_a = deadline(reassigned_at, a.turnaround_hours, pauses)
    delivered = datetime(2026, 11, 4, 15, 30, tzinfo=UTC)
    for _ in range(2):  # the delivery event arrives twice: one charge
        ledger.extend(entries_for_delivery(JOB, a.vendor, delivery_no=1, billable_slides=40 - 18,
                                           rate=a.slide_rate, deadline=due_a,
                                           delivered_at=delivered))
    step(JobEvent.DELIVER)
    card_a = VENDORS[a.vendor].rate_card
    last_delivery = delivered
    for round_no, touched in ((1, 8), (2, 5), (3, 6)):
        asked = datetime(2026, 11, 4 + round_no, 9, 0, tzinfo=UTC)
        step(JobEvent.REQUEST_REVISION)
        ledger.extend(entries_for_revision(JOB, a.vendor, round_no=round_no,
                                           slides_touched=touched, card=card_a, at=asked))
        last_delivery = asked + timedelta(hours=6)
        step(JobEvent.DELIVER)
    assert not should_auto_approve(state, last_delivery, last_delivery + timedelta(days=2))
    assert should_auto_approve(state, last_delivery, last_delivery + timedelta(days=3))
    step(JobEvent.AUTO_APPROVE)
    step(JobEvent.INVOICE)
    step(JobEvent.PAY)

    def fact(slug: str, revisions: int, on_time: bool | None, at: datetime) -> JobFact:
        charged = ledger.select(job_id=JOB, vendor=slug, kind=EntryKind.CHARGE)
        return JobFact(JOB, ENGAGEMENT, slug, utc_month(at), "USD",
                       sum(e.slides for e in charged),
                       ledger.total(currency="USD", job_id=JOB, vendor=slug), revisions,
                       on_time, at)

    late = {b.vendor: is_late(due_b, reassigned_at), a.vendor: is_late(due_a, delivered)}
    facts = (fact(b.vendor, 0, None, partial_at), fact(a.vendor, 3, not late[a.vendor], delivered))
    return Engagement(interviews, bids, ledger, tuple(states), facts, late,
                      (first.reason, second.reason))


def test_bids_pick_vendor_b_then_vendor_a_after_reassignment() -> None:
    sim = simulate()
    assert sim.reasons[0].startswith("cheapest qualifying bid: $10.50/slide vs next $11.00 "
                                     "(vendor-a); promises 20 h <= 24 h; rating 4.2 >= 4.0")
    assert sim.reasons[1].startswith("only qualifying bid: $11.00/slide")
    rejected = {r.bid.vendor: r.reason
                for r in choose_bid(sim.bids, currency="USD", max_turnaround_hours=24).rejected}
    assert rejected == {"vendor-a": RejectionReason.OUTBID, "vendor-c": RejectionReason.TOO_SLOW,
                        "vendor-d": RejectionReason.RATING_TOO_LOW,
                        "vendor-e": RejectionReason.OTHER_CURRENCY}


def test_ledger_to_the_cent() -> None:
    sim = simulate()
    assert len(sim.interviews) == 50
    assert [(e.key, e.vendor, e.slides, str(e.amount)) for e in sim.ledger.entries] == [
        (f"{JOB}:reassignment:vendor-b:charge", "vendor-b", 18, "$189.00"),  # 18 x $10.50
        (f"{JOB}:delivery:1:charge", "vendor-a", 22, "$242.00"),  # 22 new slides x $11.00
        (f"{JOB}:delivery:1:late", "vendor-a", 0, "-$24.20"),  # 2 started hours: 10 %
        (f"{JOB}:revision:3:charge", "vendor-a", 6, "$30.00"),  # round 3: 6 x $5.00
    ]
    total = sim.ledger.total
    assert total(currency="USD", job_id=JOB) == usd("436.80")
    assert total(currency="USD", vendor="vendor-a") == usd("247.80")
    assert total(currency="USD", vendor="vendor-b") == usd("189.00")
    assert total(currency="USD", month="2026-11") == usd("436.80")
    assert total(currency="USD", kind=EntryKind.LATE_CREDIT) == usd("-24.20")
    assert total(currency="EUR") == Money.zero("EUR")


def test_late_flags_and_clock() -> None:
    sim = simulate()
    assert sim.late == {"vendor-b": True, "vendor-a": True}
    # vendor-a: handed off 11-03 12:00, a 2 h question → due 11-04 14:00, delivered 15:30
    due = deadline(datetime(2026, 11, 3, 12, 0, tzinfo=UTC), 24,
                   [(datetime(2026, 11, 3, 18, 0, tzinfo=UTC),
                     datetime(2026, 11, 3, 20, 0, tzinfo=UTC))])
    assert due == datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
    assert hours_late(due, datetime(2026, 11, 4, 15, 30, tzinfo=UTC)) == 2


def test_job_lifecycle() -> None:
    S = JobState
    assert simulate().states == (
        S.POSTED, S.ASSIGNED, S.ASSIGNED, S.DELIVERED,
        S.REVISION_REQUESTED, S.DELIVERED, S.REVISION_REQUESTED, S.DELIVERED,
        S.REVISION_REQUESTED, S.DELIVERED, S.APPROVED, S.INVOICED, S.PAID)


def test_facts_for_finance() -> None:
    b_fact, a_fact = simulate().facts
    assert (b_fact.vendor, b_fact.billable_slides, b_fact.cost, b_fact.on_time) == (
        "vendor-b", 18, usd("189.00"), None)
    assert (a_fact.vendor, a_fact.billable_slides, a_fact.cost, a_fact.on_time) == (
        "vendor-a", 22, usd("247.80"), False)
    assert a_fact.month == b_fact.month == "2026-11"
