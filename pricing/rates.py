"""Vendors and their rate cards: price per slide, free revision rounds, the rush multiplier."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import CurrencyMismatchError
from .money import Money, reject_float, whole_number

__all__ = ["DEFAULT_REVISION_SLIDE_CENTS", "DEFAULT_RUSH_MULTIPLIER", "RUSH_BELOW_HOURS",
           "RateCard", "Vendor", "check_rating", "check_slug", "is_rush", "slide_rate_for"]

#: turnarounds shorter than this many hours are rush jobs
RUSH_BELOW_HOURS = 24
DEFAULT_RUSH_MULTIPLIER = Decimal("1.5")
#: $5.00 per slide (in the card's currency) for revision rounds beyond the free ones
DEFAULT_REVISION_SLIDE_CENTS = 500

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def check_slug(slug: str, what: str = "vendor") -> str:
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise ValueError(f"{what} must be a slug (lower-case letters, digits, hyphens), "
                         f"got {slug!r}")
    return slug


def check_rating(rating: Decimal, what: str = "rating") -> Decimal:
    """A rating between 1 and 5 inclusive, as a Decimal (floats are refused)."""
    reject_float(rating, what)
    if not isinstance(rating, Decimal) or not rating.is_finite():
        raise TypeError(f"{what} must be a Decimal such as Decimal('4.5'), got {rating!r}")
    if not Decimal(1) <= rating <= Decimal(5):
        raise ValueError(f"{what} must be between 1 and 5, got {rating}")
    return rating


@dataclass(frozen=True)
class RateCard:
    """What a vendor charges. ``revision_slide_rate`` left as None becomes $5.00 (500 cents) in
    the card's currency; read it through :attr:`revision_rate`, which is always Money."""

    vendor: str
    slide_rate: Money
    free_revision_rounds: int = 2
    revision_slide_rate: Money | None = None
    rush_multiplier: Decimal = field(default=DEFAULT_RUSH_MULTIPLIER)
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        check_slug(self.vendor)
        if not isinstance(self.slide_rate, Money) or self.slide_rate.cents < 0:
            raise ValueError(f"slide_rate must be a non-negative Money, got {self.slide_rate!r}")
        whole_number(self.free_revision_rounds, "free_revision_rounds", minimum=0)
        if self.revision_slide_rate is None:
            object.__setattr__(self, "revision_slide_rate",
                               Money(DEFAULT_REVISION_SLIDE_CENTS, self.slide_rate.currency))
        elif self.revision_slide_rate.currency != self.slide_rate.currency:
            raise CurrencyMismatchError(self.slide_rate.currency,
                                        self.revision_slide_rate.currency, what="rates")
        reject_float(self.rush_multiplier, "rush_multiplier")
        if not isinstance(self.rush_multiplier, Decimal) or self.rush_multiplier < 1:
            raise ValueError(f"rush_multiplier must be a Decimal >= 1, "
                             f"got {self.rush_multiplier!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}; use an IANA name such as "
                             f"Asia/Manila, Europe/Berlin or UTC") from None

    @property
    def currency(self) -> str:
        return self.slide_rate.currency

    @property
    def revision_rate(self) -> Money:
        """Price per slide touched in a revision round beyond the free ones."""
        rate = self.revision_slide_rate
        assert rate is not None  # filled in __post_init__
        return rate


@dataclass(frozen=True)
class Vendor:
    """A vendor the firm out-tasks decks to; ``slug`` is its id everywhere."""

    slug: str
    name: str
    rating: Decimal
    rate_card: RateCard

    def __post_init__(self) -> None:
        check_slug(self.slug)
        if not self.name.strip():
            raise ValueError(f"vendor {self.slug!r} needs a name")
        check_rating(self.rating, f"rating of vendor {self.slug!r}")
        if self.rate_card.vendor != self.slug:
            raise ValueError(f"the rate card of {self.slug!r} names vendor "
                             f"{self.rate_card.vendor!r}")


def is_rush(turnaround_hours: int) -> bool:
    """True for turnarounds under 24 hours."""
    return whole_number(turnaround_hours, "turnaround_hours", minimum=1) < RUSH_BELOW_HOURS


def slide_rate_for(card: RateCard, turnaround_hours: int) -> Money:
    """The card's price per slide for this turnaround: times ``rush_multiplier`` (rounded
    ROUND_HALF_UP to the cent) under 24 h, the plain rate otherwise."""
    if is_rush(turnaround_hours):
        return card.slide_rate.scaled(card.rush_multiplier)
    return card.slide_rate
