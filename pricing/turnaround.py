"""The turnaround clock: deadlines, time left and late flags as pure functions of UTC datetimes.

The clock starts when the brief is handed to the out-tasker. A question the out-tasker raises
pauses it until answered: a pause is ``(start, end)``, with ``end`` None while the question is
still open. Only time before the clock runs out counts: a question asked after the deadline
has passed does not move it. Naive datetimes raise ValueError; aware ones in another zone are
converted to UTC, so daylight-saving changes never shift a deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from .money import whole_number

__all__ = ["HOUR", "Pause", "auto_approve_at", "deadline", "ensure_utc", "hours_late",
           "is_late", "iso_week", "merge_pauses", "time_left", "utc_month"]

HOUR = timedelta(hours=1)

#: a stretch when the clock stood still; ``end`` None = still paused
Pause = tuple[datetime, datetime | None]


def ensure_utc(moment: datetime, what: str = "datetime") -> datetime:
    """``moment`` in UTC; a naive datetime is a ValueError (its zone is unknowable)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} {moment.isoformat()} has no time zone; pass an aware UTC "
                         f"datetime such as datetime(2026, 11, 2, 9, 0, tzinfo=UTC)")
    return moment.astimezone(UTC)


def merge_pauses(pauses: Iterable[Pause], *, now: datetime | None = None
                 ) -> list[tuple[datetime, datetime | None]]:
    """Pauses in UTC, sorted, overlaps merged (two open questions stop the clock once).
    With ``now``, what is known at ``now``: later pauses dropped, ends after ``now`` open."""
    now = ensure_utc(now, "now") if now is not None else None
    spans: list[tuple[datetime, datetime | None]] = []
    for start, end in pauses:
        start = ensure_utc(start, "pause start")
        end = ensure_utc(end, "pause end") if end is not None else None
        if end is not None and end < start:
            raise ValueError(f"pause ends ({end.isoformat()}) before it starts "
                             f"({start.isoformat()})")
        if now is not None:
            if start > now:
                continue
            if end is not None and end > now:
                end = None
        spans.append((start, end))
    spans.sort(key=lambda span: span[0])
    merged: list[tuple[datetime, datetime | None]] = []
    for start, end in spans:
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            joined = None if last_end is None or end is None else max(last_end, end)
            merged[-1] = (last_start, joined)
        else:
            merged.append((start, end))
    return merged


def deadline(handoff: datetime, turnaround_hours: int, pauses: Iterable[Pause] = (), *,
             now: datetime | None = None) -> datetime:
    """When the work is due: ``turnaround_hours`` of running clock after ``handoff``.

    A closed pause that starts before the clock runs out moves the deadline by its length. An
    open pause is counted up to ``now``; without ``now`` an open pause that matters is a
    ValueError (the deadline is not known until the question is answered).
    """
    clock = ensure_utc(handoff, "handoff")
    remaining = timedelta(hours=whole_number(turnaround_hours, "turnaround_hours", minimum=1))
    for start, end in merge_pauses(pauses, now=now):
        if end is not None and end <= clock:
            continue  # before the handoff (or already inside a counted pause)
        start = max(start, clock)
        if start >= clock + remaining:
            break  # the clock ran out before this question was asked
        remaining -= start - clock
        if end is None:
            if now is None:
                raise ValueError(
                    f"the clock is paused since {start.isoformat()} (an open question), so "
                    f"the deadline is not known yet; pass now= to count the pause up to now")
            end = ensure_utc(now, "now")
        clock = end
    return clock + remaining


def time_left(handoff: datetime, turnaround_hours: int, pauses: Iterable[Pause],
              now: datetime) -> timedelta:
    """Running-clock time until the deadline as known at ``now``; negative when late, frozen
    while a question is open."""
    now = ensure_utc(now, "now")
    return deadline(handoff, turnaround_hours, pauses, now=now) - now


def hours_late(due: datetime, delivered_at: datetime) -> int:
    """Started hours past the deadline: 0 on time, 1 for a second to an hour late, 3 for
    2 h 10 min."""
    late = ensure_utc(delivered_at, "delivered_at") - ensure_utc(due, "deadline")
    if late <= timedelta(0):
        return 0
    return -(-late // timedelta(microseconds=1) // (HOUR // timedelta(microseconds=1)))


def is_late(due: datetime, at: datetime) -> bool:
    """True when ``at`` (a delivery, or now for undelivered work) is past the deadline."""
    return ensure_utc(at, "at") > ensure_utc(due, "deadline")


def utc_month(moment: datetime) -> str:
    """The UTC month of ``moment``, as in reports: ``"2026-11"``."""
    return ensure_utc(moment).strftime("%Y-%m")


def iso_week(moment: datetime) -> str:
    """The ISO week of ``moment`` in UTC: ``"2026-W45"``."""
    year, week, _ = ensure_utc(moment).isocalendar()
    return f"{year}-W{week:02d}"


def auto_approve_at(delivered_at: datetime, days: int) -> datetime:
    """When a delivered deck nobody reviewed counts as approved."""
    whole_number(days, "auto-approve days", minimum=0)
    return ensure_utc(delivered_at, "delivered_at") + timedelta(days=days)
