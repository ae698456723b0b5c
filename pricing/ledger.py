"""The per-slide ledger: append-only entries with idempotency keys, and the calculators that
make them.

Every entry is rounded once (ROUND_HALF_UP, in :meth:`Money.scaled`) and keyed
deterministically from what caused it (``"<job>:delivery:1:charge"``), so processing the same
delivery twice adds nothing and a conflicting second version is refused. Corrections are
reversals, never edits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from .errors import LedgerError
from .money import Money, check_currency, reject_float, sum_money, whole_number
from .rates import RateCard
from .turnaround import ensure_utc, hours_late, utc_month

__all__ = ["DEFAULT_LATE_POLICY", "EntryKind", "LatePolicy", "Ledger", "LedgerEntry",
           "delivery_charge", "entries_for_delivery", "entries_for_reassignment",
           "entries_for_revision", "late_credit", "reversal_of", "revision_charge"]


class EntryKind(StrEnum):
    CHARGE = "charge"
    REVISION_CHARGE = "revision_charge"
    LATE_CREDIT = "late_credit"
    REVERSAL = "reversal"


@dataclass(frozen=True)
class LatePolicy:
    """Credit ``per_hour_pct`` % of a delivery's charge per started hour late, at most
    ``cap_pct`` %."""

    per_hour_pct: Decimal | int = 5
    cap_pct: Decimal | int = 50

    def __post_init__(self) -> None:
        for name in ("per_hour_pct", "cap_pct"):
            value = getattr(self, name)
            reject_float(value, name)
            if isinstance(value, bool) or not isinstance(value, int | Decimal) or not (
                    0 <= value <= 100):
                raise ValueError(f"{name} must be a percentage from 0 to 100, got {value!r}")

    def percent(self, hours_late: int) -> Decimal:
        """The credit, in percent of the charge, for ``hours_late`` started hours."""
        hours = whole_number(hours_late, "hours_late", minimum=0)
        return min(Decimal(self.per_hour_pct) * hours, Decimal(self.cap_pct))


DEFAULT_LATE_POLICY = LatePolicy()


@dataclass(frozen=True)
class LedgerEntry:
    """One line of the ledger. ``slides`` is negative only on a reversal of a slide charge."""

    key: str
    job_id: str
    vendor: str
    kind: EntryKind
    amount: Money
    slides: int
    at: datetime
    memo: str = ""
    reverses: str | None = None

    def __post_init__(self) -> None:
        if not self.key or not self.job_id or not self.vendor:
            raise LedgerError("a ledger entry needs a key, a job id and a vendor", key=self.key)
        object.__setattr__(self, "kind", EntryKind(self.kind))
        object.__setattr__(self, "at", ensure_utc(self.at, f"time of entry {self.key!r}"))
        whole_number(self.slides, "slides")
        cents = self.amount.cents
        if self.kind is EntryKind.REVERSAL:
            if not self.reverses:
                raise LedgerError(f"reversal {self.key!r} does not say which entry it reverses",
                                  key=self.key, fix="build reversals with reversal_of(entry)")
            return
        if self.reverses is not None:
            raise LedgerError(f"{self.kind} entry {self.key!r} cannot reverse another entry",
                              key=self.key)
        if self.slides < 0:
            raise LedgerError(f"{self.kind} entry {self.key!r} has {self.slides} slides",
                              key=self.key, fix="slides are counted from 0 up")
        if (self.kind is EntryKind.LATE_CREDIT) != (cents < 0) and cents != 0:
            sign = "negative" if self.kind is EntryKind.LATE_CREDIT else "zero or positive"
            raise LedgerError(f"{self.kind} entry {self.key!r} must be {sign}, got "
                              f"{self.amount}", key=self.key)

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def month(self) -> str:
        return utc_month(self.at)

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "job_id": self.job_id, "vendor": self.vendor,
                "kind": self.kind.value, "amount_cents": self.amount.cents,
                "currency": self.amount.currency, "slides": self.slides,
                "at": self.at.isoformat(), "memo": self.memo, "reverses": self.reverses}


# -- calculators ------------------------------------------------------------------------------
def delivery_charge(rate: Money, billable_slides: int) -> Money:
    """The agreed price per slide (from the winning bid, or :func:`slide_rate_for`) times the
    billable slides of the returned deck's check."""
    return rate * whole_number(billable_slides, "billable_slides", minimum=0)


def late_credit(charge: Money, hours_late: int, per_hour_pct: Decimal | int = 5,
                cap_pct: Decimal | int = 50) -> Money:
    """The (negative) credit on a late delivery: ``per_hour_pct`` % of ``charge`` per started
    hour late, capped at ``cap_pct`` %, rounded once: ``late_credit($132.00, 3) == -$19.80``."""
    if charge.cents < 0:
        raise ValueError(f"a late credit is taken off a charge, got {charge}")
    return -charge.scaled(LatePolicy(per_hour_pct, cap_pct).percent(hours_late) / 100)


def revision_charge(round_no: int, slides_touched: int, card: RateCard) -> Money:
    """Round ``round_no`` (1-based) of revisions: free within ``card.free_revision_rounds``,
    then ``card.revision_rate`` per slide touched."""
    whole_number(round_no, "round_no", minimum=1)
    whole_number(slides_touched, "slides_touched", minimum=0)
    if round_no <= card.free_revision_rounds:
        return Money.zero(card.currency)
    return card.revision_rate * slides_touched


# -- entries ----------------------------------------------------------------------------------
def entries_for_delivery(job_id: str, vendor: str, *, delivery_no: int, billable_slides: int,
                         rate: Money, deadline: datetime, delivered_at: datetime,
                         policy: LatePolicy = DEFAULT_LATE_POLICY) -> list[LedgerEntry]:
    """The charge for a delivery and, when it came late, its late credit."""
    n = whole_number(delivery_no, "delivery_no", minimum=1)
    charge = delivery_charge(rate, billable_slides)
    late_hours = hours_late(deadline, delivered_at)
    entries = [LedgerEntry(f"{job_id}:delivery:{n}:charge", job_id, vendor, EntryKind.CHARGE,
                           charge, billable_slides, delivered_at,
                           f"delivery {n}: {billable_slides} billable slides at {rate}")]
    credit = late_credit(charge, late_hours, policy.per_hour_pct, policy.cap_pct)
    if not credit.is_zero():
        entries.append(LedgerEntry(
            f"{job_id}:delivery:{n}:late", job_id, vendor, EntryKind.LATE_CREDIT, credit, 0,
            delivered_at, f"delivery {n}: {late_hours} started hour(s) late, "
                          f"{policy.percent(late_hours)} % credit"))
    return entries


def entries_for_revision(job_id: str, vendor: str, *, round_no: int, slides_touched: int,
                         card: RateCard, at: datetime) -> list[LedgerEntry]:
    """The charge for a revision round; none for a free round."""
    amount = revision_charge(round_no, slides_touched, card)
    if amount.is_zero():
        return []
    return [LedgerEntry(f"{job_id}:revision:{round_no}:charge", job_id, vendor,
                        EntryKind.REVISION_CHARGE, amount, slides_touched, at,
                        f"revision round {round_no}: {slides_touched} slides at "
                        f"{card.revision_rate} (rounds 1-{card.free_revision_rounds} free)")]


def entries_for_reassignment(job_id: str, old_vendor: str, *, accepted_slides: int,
                             rate: Money, at: datetime, times: int = 1) -> list[LedgerEntry]:
    """A vendor who disappeared is paid, at the agreed rate, for the slides already delivered
    and accepted by the deck check; nothing when none were. ``times``: how many times the job
    has now been taken away from this vendor (A -> B -> A -> B), so each payment has its own
    key."""
    charge = delivery_charge(rate, accepted_slides)
    n = whole_number(times, "times", minimum=1)
    if accepted_slides == 0:
        return []
    suffix = "" if n == 1 else f":{n}"
    return [LedgerEntry(f"{job_id}:reassignment:{old_vendor}{suffix}:charge", job_id, old_vendor,
                        EntryKind.CHARGE, charge, accepted_slides, at,
                        f"reassigned: {accepted_slides} accepted slides at {rate}")]


def reversal_of(entry: LedgerEntry, at: datetime, memo: str) -> LedgerEntry:
    """The entry that cancels ``entry`` (same job, vendor, amount and slides, negated)."""
    if entry.kind is EntryKind.REVERSAL:
        raise LedgerError(f"{entry.key!r} is itself a reversal", key=entry.key,
                          fix="append the original entry again under a new key instead")
    return LedgerEntry(f"{entry.key}:reversal", entry.job_id, entry.vendor, EntryKind.REVERSAL,
                       -entry.amount, -entry.slides, at, memo, reverses=entry.key)


# -- the ledger -------------------------------------------------------------------------------
class Ledger:
    """An in-memory, append-only ledger; the database version keeps the same rules."""

    def __init__(self, entries: Iterable[LedgerEntry] = ()) -> None:
        self._by_key: dict[str, LedgerEntry] = {}
        self.extend(entries)

    def append(self, entry: LedgerEntry) -> bool:
        """Add ``entry``; False when the identical entry is already there (a replay). The same
        key with other content is a LedgerError."""
        known = self._by_key.get(entry.key)
        if known is not None:
            if known == entry:
                return False
            raise LedgerError(
                f"idempotency key {entry.key!r} is already used by a different entry "
                f"({known.kind} {known.amount} for {known.slides} slides; now {entry.kind} "
                f"{entry.amount} for {entry.slides} slides)", key=entry.key,
                fix="to correct an entry, append reversal_of(old) and a new entry under a new key")
        if entry.kind is EntryKind.REVERSAL:
            self._check_reversal(entry)
        self._by_key[entry.key] = entry
        return True

    def _check_reversal(self, entry: LedgerEntry) -> None:
        original = self._by_key.get(entry.reverses or "")
        if original is None:
            raise LedgerError(f"reversal {entry.key!r} reverses {entry.reverses!r}, which is "
                              f"not in the ledger", key=entry.key)
        if entry.amount != -original.amount or entry.slides != -original.slides:
            raise LedgerError(f"reversal {entry.key!r} does not cancel {original.key!r} "
                              f"({entry.amount} vs {original.amount})", key=entry.key,
                              fix="build reversals with reversal_of(entry)")

    def extend(self, entries: Iterable[LedgerEntry]) -> int:
        """Append each entry; the number actually added."""
        return sum(self.append(entry) for entry in entries)

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        return tuple(self._by_key.values())

    def get(self, key: str) -> LedgerEntry | None:
        return self._by_key.get(key)

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def select(self, *, job_id: str | None = None, vendor: str | None = None,
               month: str | None = None, kind: EntryKind | None = None,
               currency: str | None = None) -> tuple[LedgerEntry, ...]:
        """Entries matching every filter given (``month`` is a UTC "YYYY-MM")."""
        return tuple(e for e in self._by_key.values()
                     if (job_id is None or e.job_id == job_id)
                     and (vendor is None or e.vendor == vendor)
                     and (month is None or e.month == month)
                     and (kind is None or e.kind == kind)
                     and (currency is None or e.currency == currency))

    def total(self, *, currency: str, job_id: str | None = None, vendor: str | None = None,
              month: str | None = None, kind: EntryKind | None = None) -> Money:
        """Net amount in ``currency`` of the matching entries; other currencies are not
        summed into it (report them with their own ``currency``)."""
        check_currency(currency)
        matching = self.select(job_id=job_id, vendor=vendor, month=month, kind=kind,
                               currency=currency)
        return sum_money((e.amount for e in matching), currency)
