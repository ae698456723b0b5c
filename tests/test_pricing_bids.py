"""Choosing the best per-slide bid, and saying why."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pricing import Bid, Money, NoQualifyingBidError, RejectionReason, choose_bid

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def bid(vendor: str, price: str, hours: int = 24, rating: str = "4.5", minute: int = 0,
        currency: str = "USD") -> Bid:
    return Bid(vendor, Money.parse(price, currency), hours, Decimal(rating),
               T0 + timedelta(minutes=minute))


def choose(bids: list[Bid], **kw: object):  # type: ignore[no-untyped-def]
    return choose_bid(bids, currency="USD", max_turnaround_hours=24, **kw)  # type: ignore[arg-type]


def test_cheapest_qualifying_bid_wins_with_its_reason() -> None:
    a, b = bid("vendor-a", "10.50", 20, "4.6"), bid("vendor-b", "11.00", 24, "4.5")
    choice = choose([b, a])
    assert choice.winner == a
    assert choice.reason == ("cheapest qualifying bid: $10.50/slide vs next $11.00 (vendor-b); "
                             "promises 20 h <= 24 h; rating 4.6 >= 4.0")
    [lost] = choice.rejected
    assert lost.bid == b and lost.reason is RejectionReason.OUTBID
    assert "$11.00/slide vs $10.50/slide (vendor-a)" in lost.why
    assert choice.require_winner() == a


def test_only_one_qualifying_bid() -> None:
    choice = choose([bid("vendor-a", "12.00")])
    assert choice.reason.startswith("only qualifying bid: $12.00/slide; promises 24 h <= 24 h")


def test_tie_on_price_goes_to_higher_rating_then_earlier_bid() -> None:
    low, high = bid("vendor-a", "11.00", rating="4.2"), bid("vendor-b", "11.00", rating="4.8")
    choice = choose([low, high])
    assert choice.winner == high
    assert choice.reason.startswith("tied at $11.00/slide with vendor-a; won on rating 4.8 > 4.2")
    assert choice.rejected[0].why == ("tied at $11.00/slide with vendor-b, "
                                      "which won on rating 4.8 > 4.2")

    early, late = bid("vendor-c", "11.00", minute=5), bid("vendor-d", "11.00", minute=30)
    choice = choose([late, early])
    assert choice.winner == early
    assert "won on the earlier bid (2026-11-02T08:05:00+00:00)" in choice.reason
    assert "which won on the earlier bid" in choice.rejected[0].why

    same_a, same_b = bid("vendor-b", "11.00"), bid("vendor-a", "11.00")
    tie = choose([same_a, same_b])
    assert tie.winner == same_b and "won on vendor name" in tie.reason  # full tie: the slug


def test_choice_does_not_depend_on_input_order() -> None:
    bids = [bid("vendor-a", "11.00", rating="4.2"), bid("vendor-b", "11.00", rating="4.8"),
            bid("vendor-c", "10.99", hours=30), bid("vendor-d", "11.00", rating="4.8", minute=1),
            bid("vendor-e", "9.00", currency="EUR")]
    outcomes = {choose(list(p)).winner for p in itertools.permutations(bids)}
    assert outcomes == {bids[1]}


def test_other_currency_is_recorded_not_competing() -> None:
    eur = bid("vendor-e", "5.00", currency="EUR")
    usd = bid("vendor-a", "11.00")
    choice = choose([eur, usd])
    assert choice.winner == usd
    [rejected] = choice.rejected
    assert rejected.bid == eur and rejected.reason is RejectionReason.OTHER_CURRENCY
    assert "EUR" in rejected.why and "USD" in rejected.why


def test_too_slow_and_rating_too_low() -> None:
    slow, weak = bid("vendor-c", "9.00", hours=36), bid("vendor-d", "8.00", rating="3.5")
    both = bid("vendor-f", "7.00", hours=48, rating="2.0")
    ok = bid("vendor-a", "11.00")
    choice = choose([slow, weak, both, ok])
    assert choice.winner == ok
    why = {r.bid.vendor: r for r in choice.rejected}
    assert why["vendor-c"].reason is RejectionReason.TOO_SLOW
    assert why["vendor-c"].why == "promises 36 h > 24 h"
    assert why["vendor-d"].reason is RejectionReason.RATING_TOO_LOW
    assert why["vendor-d"].why == "rating 3.5 < 4.0"
    assert why["vendor-f"].why == "promises 48 h > 24 h; rating 2.0 < 4.0"
    assert choose([weak], min_rating=Decimal("3.5")).winner == weak


def test_no_qualifying_bid_keeps_the_job_posted() -> None:
    choice = choose([bid("vendor-c", "9.00", hours=36), bid("vendor-e", "5.00", currency="EUR")])
    assert choice.winner is None
    assert choice.reason == ("no qualifying bid: 2 bids (1 too slow, 1 not in USD); "
                             "the job stays posted")
    assert len(choice.rejected) == 2
    with pytest.raises(NoQualifyingBidError) as caught:
        choice.require_winner()
    assert caught.value.to_dict()["code"] == "no-qualifying-bid"
    empty = choose([])
    assert empty.winner is None and "no bids received" in empty.reason


def test_bid_validation_and_json() -> None:
    with pytest.raises(ValueError):
        Bid("vendor-a", Money(1100, "USD"), 24, Decimal("4.5"), datetime(2026, 11, 2))
    with pytest.raises(TypeError):
        Bid("vendor-a", Money(1100, "USD"), 24, 4.5, T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Bid("vendor-a", Money(1100, "USD"), 0, Decimal("4.5"), T0)
    choice = choose([bid("vendor-a", "10.50"), bid("vendor-e", "5.00", currency="EUR")])
    data = json.loads(json.dumps(choice.to_dict()))
    assert data["winner"]["slide_rate"] == {"cents": 1050, "currency": "USD"}
    assert data["rejected"][0]["reason"] == "other-currency"
