"""The ledger: the issue's worked example to the cent, calculators, idempotency, reversals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pricing import (
    EntryKind,
    LatePolicy,
    Ledger,
    LedgerEntry,
    LedgerError,
    Money,
    RateCard,
    deadline,
    delivery_charge,
    entries_for_delivery,
    entries_for_reassignment,
    entries_for_revision,
    hours_late,
    late_credit,
    reversal_of,
    revision_charge,
    sum_money,
)

HANDOFF = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CARD = RateCard("vendor-a", Money.parse("11.00", "USD"))


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def test_worked_example_from_the_issue() -> None:
    """12 slides at $11.00, 26 h 10 min after a 24 h handoff, a third revision round of 4."""
    charge = delivery_charge(CARD.slide_rate, 12)
    assert charge == usd("132.00")
    due = deadline(HANDOFF, 24)
    delivered = HANDOFF + timedelta(hours=26, minutes=10)
    assert hours_late(due, delivered) == 3
    credit = late_credit(charge, 3)
    assert credit == usd("-19.80")
    assert revision_charge(3, 4, CARD) == usd("20.00")

    ledger = Ledger()
    ledger.extend(entries_for_delivery("job-1", "vendor-a", delivery_no=1, billable_slides=12,
                                       rate=CARD.slide_rate, deadline=due,
                                       delivered_at=delivered))
    for round_no, touched in ((1, 6), (2, 3), (3, 4)):
        ledger.extend(entries_for_revision("job-1", "vendor-a", round_no=round_no,
                                           slides_touched=touched, card=CARD,
                                           at=delivered + timedelta(days=round_no)))
    assert [(e.key, e.kind, e.amount) for e in ledger.entries] == [
        ("job-1:delivery:1:charge", EntryKind.CHARGE, usd("132.00")),
        ("job-1:delivery:1:late", EntryKind.LATE_CREDIT, usd("-19.80")),
        ("job-1:revision:3:charge", EntryKind.REVISION_CHARGE, usd("20.00")),
    ]
    assert ledger.total(currency="USD", job_id="job-1") == usd("132.20")
    assert str(ledger.total(currency="USD")) == "$132.20"
    assert "3 started hour(s) late, 15 % credit" in ledger.entries[1].memo


def test_late_credit_policy_and_rounding() -> None:
    assert late_credit(usd("132.00"), 0) == Money.zero("USD")
    assert late_credit(usd("132.00"), 1) == usd("-6.60")
    assert late_credit(usd("132.00"), 10) == usd("-66.00")  # 50 %: the cap
    assert late_credit(usd("132.00"), 40) == usd("-66.00")
    assert late_credit(usd("0.10"), 3) == usd("-0.02")  # 1.5 cents, rounded half up once
    assert late_credit(usd("132.00"), 3, per_hour_pct=Decimal("2.5"), cap_pct=5) == usd("-6.60")
    with pytest.raises(TypeError):
        late_credit(usd("132.00"), 3, per_hour_pct=5.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        LatePolicy(cap_pct=150)
    with pytest.raises(ValueError):
        late_credit(usd("-1.00"), 1)


def test_revision_rounds_beyond_the_free_ones() -> None:
    assert revision_charge(1, 10, CARD) == Money.zero("USD")
    assert revision_charge(2, 10, CARD) == Money.zero("USD")
    assert revision_charge(4, 1, CARD) == usd("5.00")
    strict = RateCard("vendor-b", usd("10.00"), free_revision_rounds=0,
                      revision_slide_rate=usd("7.25"))
    assert revision_charge(1, 2, strict) == usd("14.50")
    assert entries_for_revision("job-1", "vendor-a", round_no=1, slides_touched=5, card=CARD,
                                at=HANDOFF) == []
    with pytest.raises(ValueError):
        revision_charge(0, 1, CARD)


def test_on_time_delivery_has_no_credit() -> None:
    due = deadline(HANDOFF, 24)
    [charge] = entries_for_delivery("job-1", "vendor-a", delivery_no=2, billable_slides=12,
                                    rate=usd("11.00"), deadline=due, delivered_at=due)
    assert charge.key == "job-1:delivery:2:charge" and charge.slides == 12
    assert charge.month == "2026-11" and charge.currency == "USD"


def test_same_entry_twice_is_one_entry() -> None:
    due = deadline(HANDOFF, 24)
    late = HANDOFF + timedelta(hours=26, minutes=10)
    ledger = Ledger()
    first = entries_for_delivery("job-1", "vendor-a", delivery_no=1, billable_slides=12,
                                 rate=usd("11.00"), deadline=due, delivered_at=late)
    assert ledger.extend(first) == 2
    for _ in range(100):  # the same delivery processed again and again
        again = entries_for_delivery("job-1", "vendor-a", delivery_no=1, billable_slides=12,
                                     rate=usd("11.00"), deadline=due, delivered_at=late)
        assert ledger.extend(again) == 0
    assert len(ledger) == 2
    assert len(ledger.select(kind=EntryKind.CHARGE)) == 1
    assert ledger.append(first[0]) is False
    assert "job-1:delivery:1:charge" in ledger and ledger.get("nope") is None


def test_conflicting_entry_under_a_used_key_is_an_error() -> None:
    due = deadline(HANDOFF, 24)
    ledger = Ledger(entries_for_delivery("job-1", "vendor-a", delivery_no=1, billable_slides=12,
                                         rate=usd("11.00"), deadline=due, delivered_at=due))
    recount = entries_for_delivery("job-1", "vendor-a", delivery_no=1, billable_slides=13,
                                   rate=usd("11.00"), deadline=due, delivered_at=due)
    with pytest.raises(LedgerError) as caught:
        ledger.append(recount[0])
    assert caught.value.key == "job-1:delivery:1:charge"
    assert "reversal_of" in caught.value.fix
    assert caught.value.to_dict()["code"] == "ledger"
    assert ledger.total(currency="USD") == usd("132.00")


def test_reversals_cancel_and_are_checked() -> None:
    due = deadline(HANDOFF, 24)
    ledger = Ledger(entries_for_delivery("job-1", "vendor-a", delivery_no=1, billable_slides=12,
                                         rate=usd("11.00"), deadline=due, delivered_at=due))
    charge = ledger.entries[0]
    undo = reversal_of(charge, due + timedelta(hours=1), "deck check recount")
    assert undo.key == "job-1:delivery:1:charge:reversal" and undo.reverses == charge.key
    assert undo.amount == usd("-132.00") and undo.slides == -12
    assert ledger.append(undo) and not ledger.append(undo)
    assert ledger.total(currency="USD") == Money.zero("USD")
    with pytest.raises(LedgerError):
        reversal_of(undo, due, "twice")
    orphan = reversal_of(LedgerEntry("job-2:x", "job-2", "vendor-a", EntryKind.CHARGE,
                                     usd("1.00"), 1, due), due, "unknown")
    with pytest.raises(LedgerError, match="not in the ledger"):
        ledger.append(orphan)
    forged = LedgerEntry("job-1:forged", "job-1", "vendor-a", EntryKind.REVERSAL, usd("-1.00"),
                         0, due, reverses=charge.key)
    with pytest.raises(LedgerError, match="does not cancel"):
        ledger.append(forged)


def test_entry_validation() -> None:
    def entry(kind: EntryKind, cents: int, **kw: object) -> LedgerEntry:
        return LedgerEntry("k", "job-1", "vendor-a", kind, Money(cents, "USD"), 1, HANDOFF,
                           **kw)  # type: ignore[arg-type]

    with pytest.raises(LedgerError):
        entry(EntryKind.CHARGE, -100)
    with pytest.raises(LedgerError):
        entry(EntryKind.LATE_CREDIT, 100)
    with pytest.raises(LedgerError):
        entry(EntryKind.REVERSAL, -100)  # says nothing about what it reverses
    with pytest.raises(LedgerError):
        entry(EntryKind.CHARGE, 100, reverses="other")
    with pytest.raises(ValueError):
        LedgerEntry("k", "job-1", "vendor-a", EntryKind.CHARGE, usd("1.00"), 1,
                    datetime(2026, 11, 2))
    assert entry("charge", 100).kind is EntryKind.CHARGE  # type: ignore[arg-type]
    assert entry(EntryKind.CHARGE, 100).to_dict()["amount_cents"] == 100


def test_reassignment_pays_accepted_slides() -> None:
    [entry] = entries_for_reassignment("job-1", "vendor-b", accepted_slides=18,
                                       rate=usd("10.50"), at=HANDOFF)
    assert entry.key == "job-1:reassignment:vendor-b:charge"
    assert entry.amount == usd("189.00") and entry.kind is EntryKind.CHARGE
    assert entries_for_reassignment("job-1", "vendor-b", accepted_slides=0, rate=usd("10.50"),
                                    at=HANDOFF) == []


def test_totals_filter_and_keep_currencies_apart() -> None:
    nov, dec = datetime(2026, 11, 30, 23, 0, tzinfo=UTC), datetime(2026, 12, 1, 1, tzinfo=UTC)
    ledger = Ledger([
        LedgerEntry("a", "job-1", "vendor-a", EntryKind.CHARGE, usd("10.00"), 1, nov),
        LedgerEntry("b", "job-2", "vendor-a", EntryKind.CHARGE, usd("20.00"), 2, dec),
        LedgerEntry("c", "job-3", "vendor-b", EntryKind.CHARGE, usd("40.00"), 4, dec),
        LedgerEntry("d", "job-4", "vendor-e", EntryKind.CHARGE, Money(800, "EUR"), 1, dec),
    ])
    assert ledger.total(currency="USD") == usd("70.00")
    assert ledger.total(currency="EUR") == Money(800, "EUR")
    assert ledger.total(currency="USD", vendor="vendor-a") == usd("30.00")
    assert ledger.total(currency="USD", month="2026-12") == usd("60.00")
    assert ledger.total(currency="USD", job_id="job-1", month="2026-12") == usd("0.00")
    assert ledger.total(currency="USD", kind=EntryKind.LATE_CREDIT) == usd("0.00")
    assert sum_money((e.amount for e in ledger.select(vendor="vendor-b")), "USD") == usd("40.00")
