"""Errors of the pricing package.

Every error says what failed, for which input, and what to do next (``fix``). They are all
about the caller's input (an amount, an event, a ledger entry): outtask reports them, it never
repairs money silently.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["CurrencyMismatchError", "InvalidTransitionError", "LedgerError",
           "NoQualifyingBidError", "PricingError"]


class PricingError(Exception):
    """Base class of every error raised by :mod:`pricing`."""

    #: machine-readable kind, stable across versions (used in --json and reason files)
    code = "pricing-error"

    def __init__(self, message: str, *, fix: str = "") -> None:
        self.message = message
        self.fix = fix
        super().__init__(f"{message} {fix}".strip())

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "fix": self.fix}


class CurrencyMismatchError(PricingError):
    """Two amounts in different currencies met in arithmetic, a comparison or a sum."""

    code = "currency-mismatch"

    def __init__(self, expected: str, got: str, *, what: str = "amounts") -> None:
        self.expected = expected
        self.got = got
        super().__init__(
            f"cannot combine {what} in {expected} and {got}",
            fix="keep one currency per job; outtask has no exchange rates, so convert before "
                "entering the amount or report each currency separately")

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "expected": self.expected, "got": self.got}


class InvalidTransitionError(PricingError):
    """A job event that its current state does not allow (e.g. ``pay`` on a posted job)."""

    code = "invalid-transition"

    def __init__(self, state: str, event: str, allowed: Iterable[str]) -> None:
        self.state = state
        self.event = event
        self.allowed = tuple(allowed)
        listed = ", ".join(self.allowed) if self.allowed else "none (the job is closed)"
        super().__init__(f"a {state} job cannot take the event {event!r}",
                         fix=f"allowed events from {state}: {listed}")

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "state": self.state, "event": self.event,
                "allowed": ", ".join(self.allowed)}


class LedgerError(PricingError):
    """An entry the ledger refuses: a reused idempotency key with other content, a reversal of
    an unknown entry, an amount whose sign does not fit its kind."""

    code = "ledger"

    def __init__(self, message: str, *, key: str = "", fix: str = "") -> None:
        self.key = key
        super().__init__(message, fix=fix)

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "key": self.key}


class NoQualifyingBidError(PricingError):
    """No bid qualifies for a job; raised only by :meth:`BidChoice.require_winner` (choosing a
    bid itself returns a :class:`~pricing.bids.BidChoice` whose ``winner`` is None)."""

    code = "no-qualifying-bid"
