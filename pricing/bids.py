"""Bids on a posted job and choosing the best one, with the reason it won.

Only bids in the job's currency compete (there are no exchange rates offline); the others are
recorded as rejected, not dropped. Among bids that promise at most the engagement's turnaround
and meet the minimum rating, the cheapest per slide wins; ties go to the higher rating, then the
earlier bid (then the vendor slug, so the choice never depends on input order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from .errors import NoQualifyingBidError
from .money import Money, check_currency, whole_number
from .rates import check_rating, check_slug
from .turnaround import ensure_utc

__all__ = ["DEFAULT_MIN_RATING", "Bid", "BidChoice", "Rejection", "RejectionReason",
           "choose_bid"]

DEFAULT_MIN_RATING = Decimal("4.0")


@dataclass(frozen=True)
class Bid:
    """A vendor's offer: price per slide, promised turnaround, its rating when it bid."""

    vendor: str
    slide_rate: Money
    turnaround_hours: int
    rating: Decimal
    at: datetime

    def __post_init__(self) -> None:
        check_slug(self.vendor)
        if not isinstance(self.slide_rate, Money) or self.slide_rate.cents < 0:
            raise ValueError(f"bid of {self.vendor!r}: slide_rate must be a non-negative Money")
        whole_number(self.turnaround_hours, "turnaround_hours", minimum=1)
        check_rating(self.rating, f"rating of {self.vendor!r}")
        object.__setattr__(self, "at", ensure_utc(self.at, "bid time"))

    @property
    def currency(self) -> str:
        return self.slide_rate.currency

    def rank(self) -> tuple[int, Decimal, datetime, str]:
        """Sort key among qualifying bids: lower is better."""
        return self.slide_rate.cents, -self.rating, self.at, self.vendor


class RejectionReason(StrEnum):
    OTHER_CURRENCY = "other-currency"
    TOO_SLOW = "too-slow"
    RATING_TOO_LOW = "rating-too-low"
    OUTBID = "outbid"


@dataclass(frozen=True)
class Rejection:
    """A bid that did not win: the first ``reason`` that ruled it out, and ``why`` in words."""

    bid: Bid
    reason: RejectionReason
    why: str


@dataclass(frozen=True)
class BidChoice:
    """The outcome of :func:`choose_bid`. ``winner`` None means the job stays posted."""

    winner: Bid | None
    reason: str
    rejected: tuple[Rejection, ...]

    def require_winner(self) -> Bid:
        if self.winner is None:
            raise NoQualifyingBidError(
                self.reason, fix="collect more bids, relax the turnaround or the minimum rating; "
                                 "the job stays posted meanwhile")
        return self.winner

    def to_dict(self) -> dict[str, object]:
        """For JSON and the database: amounts in cents, times in ISO 8601 UTC."""
        def bid(b: Bid) -> dict[str, object]:
            return {"vendor": b.vendor, "slide_rate": b.slide_rate.to_dict(),
                    "turnaround_hours": b.turnaround_hours, "rating": str(b.rating),
                    "at": b.at.isoformat()}
        return {"winner": bid(self.winner) if self.winner else None, "reason": self.reason,
                "rejected": [{**bid(r.bid), "reason": r.reason.value, "why": r.why}
                             for r in self.rejected]}


def _per_slide(bid: Bid) -> str:
    return f"{bid.slide_rate}/slide"


def _failures(bid: Bid, currency: str, max_hours: int, min_rating: Decimal
              ) -> list[tuple[RejectionReason, str]]:
    if bid.currency != currency:
        return [(RejectionReason.OTHER_CURRENCY,
                 f"bid in {bid.currency}, the job is in {currency}: recorded, not competing")]
    failed = []
    if bid.turnaround_hours > max_hours:
        failed.append((RejectionReason.TOO_SLOW,
                       f"promises {bid.turnaround_hours} h > {max_hours} h"))
    if bid.rating < min_rating:
        failed.append((RejectionReason.RATING_TOO_LOW, f"rating {bid.rating} < {min_rating}"))
    return failed


def _tie_break(winner: Bid, other: Bid) -> str:
    """What decided between two qualifying bids at the same price."""
    if winner.rating != other.rating:
        return f"rating {winner.rating} > {other.rating}"
    if winner.at != other.at:
        return f"the earlier bid ({winner.at.isoformat()})"
    return "vendor name (tied in every respect)"


def _beaten_by(loser: Bid, winner: Bid) -> str:
    """Why ``loser`` lost to ``winner`` (both qualifying), from the loser's side."""
    if loser.slide_rate != winner.slide_rate:
        return f"outbid: {_per_slide(loser)} vs {_per_slide(winner)} ({winner.vendor})"
    return (f"tied at {_per_slide(loser)} with {winner.vendor}, which won on "
            f"{_tie_break(winner, loser)}")


def _won_because(winner: Bid, runner_up: Bid | None) -> str:
    if runner_up is None:
        return f"only qualifying bid: {_per_slide(winner)}"
    if winner.slide_rate != runner_up.slide_rate:
        return (f"cheapest qualifying bid: {_per_slide(winner)} vs next "
                f"{runner_up.slide_rate} ({runner_up.vendor})")
    return (f"tied at {_per_slide(winner)} with {runner_up.vendor}; won on "
            f"{_tie_break(winner, runner_up)}")


def choose_bid(bids: Iterable[Bid], *, currency: str, max_turnaround_hours: int,
               min_rating: Decimal = DEFAULT_MIN_RATING) -> BidChoice:
    """The best bid for a job in ``currency`` due within ``max_turnaround_hours``."""
    check_currency(currency)
    whole_number(max_turnaround_hours, "max_turnaround_hours", minimum=1)
    check_rating(min_rating, "min_rating")
    qualifying: list[Bid] = []
    rejected: list[Rejection] = []
    all_bids = list(bids)
    for bid in all_bids:
        failed = _failures(bid, currency, max_turnaround_hours, min_rating)
        if failed:
            rejected.append(Rejection(bid, failed[0][0], "; ".join(why for _, why in failed)))
        else:
            qualifying.append(bid)
    qualifying.sort(key=Bid.rank)
    if not qualifying:
        return BidChoice(None, _no_winner(all_bids, rejected, currency), tuple(rejected))
    winner, others = qualifying[0], qualifying[1:]
    reason = (f"{_won_because(winner, others[0] if others else None)}; "
              f"promises {winner.turnaround_hours} h <= {max_turnaround_hours} h; "
              f"rating {winner.rating} >= {min_rating}")
    outbid = [Rejection(b, RejectionReason.OUTBID, _beaten_by(b, winner)) for b in others]
    return BidChoice(winner, reason, tuple(outbid + rejected))


def _no_winner(bids: list[Bid], rejected: list[Rejection], currency: str) -> str:
    if not bids:
        return "no qualifying bid: no bids received; the job stays posted"
    counts: dict[RejectionReason, int] = {}
    for rejection in rejected:
        counts[rejection.reason] = counts.get(rejection.reason, 0) + 1
    words = {RejectionReason.OTHER_CURRENCY: f"not in {currency}",
             RejectionReason.TOO_SLOW: "too slow",
             RejectionReason.RATING_TOO_LOW: "rated too low"}
    parts = ", ".join(f"{n} {words[reason]}" for reason, n in counts.items())
    return (f"no qualifying bid: {len(bids)} bid{'s' if len(bids) != 1 else ''} ({parts}); "
            f"the job stays posted")
