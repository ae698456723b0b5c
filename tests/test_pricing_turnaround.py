"""The 24-hour clock: deadlines with pauses, time left, started hours late, UTC months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pricing import auto_approve_at, deadline, hours_late, is_late, iso_week, time_left, utc_month

H0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return H0 + timedelta(hours=hours)


def test_deadline_without_pauses() -> None:
    assert deadline(H0, 24) == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert deadline(H0, 48, []) == at(48)


def test_closed_pauses_move_the_deadline() -> None:
    assert deadline(H0, 24, [(at(2), at(4))]) == at(26)
    assert deadline(H0, 24, [(at(2), at(4)), (at(10), at(10.5))]) == at(26.5)
    # overlapping questions stop the clock once
    assert deadline(H0, 24, [(at(2), at(4)), (at(3), at(5))]) == at(27)
    assert deadline(H0, 24, [(at(3), at(5)), (at(2), at(4))]) == at(27)
    # a pause inside another
    assert deadline(H0, 24, [(at(2), at(6)), (at(3), at(4))]) == at(28)


def test_pauses_outside_the_running_clock_do_not_count() -> None:
    assert deadline(H0, 24, [(at(-5), at(-1))]) == at(24)  # before the handoff
    assert deadline(H0, 24, [(at(-1), at(1))]) == at(25)  # only its part after the handoff
    assert deadline(H0, 24, [(at(25), at(30))]) == at(24)  # asked after the deadline passed
    assert deadline(H0, 24, [(at(24), at(30))]) == at(24)  # asked at the deadline
    # the first pause moves the deadline to 26 h, so a question at 25 h still counts
    assert deadline(H0, 24, [(at(2), at(4)), (at(25), at(26))]) == at(27)


def test_open_pause_stops_the_clock_now() -> None:
    question = [(at(10), None)]
    with pytest.raises(ValueError, match="paused"):
        deadline(H0, 24, question)
    assert deadline(H0, 24, question, now=at(12)) == at(26)
    # time left is frozen while the question is open
    assert time_left(H0, 24, question, at(11)) == timedelta(hours=14)
    assert time_left(H0, 24, question, at(40)) == timedelta(hours=14)
    # an open question asked after the clock ran out does not matter (and needs no now)
    assert deadline(H0, 24, [(at(30), None)]) == at(24)
    # a pause that, seen from now, is not answered yet counts as open
    assert time_left(H0, 24, [(at(10), at(20))], at(15)) == timedelta(hours=14)
    # a pause that starts after now is not known yet
    assert time_left(H0, 24, [(at(16), at(20))], at(15)) == timedelta(hours=9)


def test_time_left_goes_negative_when_late() -> None:
    assert time_left(H0, 24, [], at(20)) == timedelta(hours=4)
    assert time_left(H0, 24, [(at(2), at(3))], at(20)) == timedelta(hours=5)
    assert time_left(H0, 24, [], at(26)) == timedelta(hours=-2)


def test_started_hours_late() -> None:
    due = deadline(H0, 24)
    delivered = H0 + timedelta(hours=26, minutes=10)
    assert hours_late(due, delivered) == 3
    assert is_late(due, delivered)
    assert hours_late(due, due) == 0 and not is_late(due, due)
    assert hours_late(due, due - timedelta(hours=5)) == 0
    assert hours_late(due, due + timedelta(microseconds=1)) == 1
    assert hours_late(due, due + timedelta(hours=1)) == 1
    assert hours_late(due, due + timedelta(hours=1, microseconds=1)) == 2
    assert hours_late(due, due + timedelta(days=3)) == 72


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 2, 9, 0)
    for call in (lambda: deadline(naive, 24), lambda: deadline(H0, 24, [(naive, None)]),
                 lambda: time_left(H0, 24, [], naive), lambda: hours_late(H0, naive),
                 lambda: is_late(naive, H0), lambda: utc_month(naive),
                 lambda: auto_approve_at(naive, 3)):
        with pytest.raises(ValueError, match="no time zone"):
            call()
    with pytest.raises(ValueError):
        deadline(H0, 24, [(at(3), at(2))])
    with pytest.raises(TypeError):
        deadline(H0, 24.0)  # type: ignore[arg-type]


def test_utc_math_ignores_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # handed off at noon in Berlin the day before clocks go back (2026-10-25)
    handoff = datetime(2026, 10, 24, 12, 0, tzinfo=berlin)
    due = deadline(handoff, 24)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
    assert due.astimezone(berlin).hour == 11  # 24 real hours, not "same wall-clock time"
    assert hours_late(due, datetime(2026, 10, 25, 10, 59, tzinfo=berlin)) == 0
    # on time by the wall clock ("noon the next day"), but 30 real minutes late
    assert hours_late(due, datetime(2026, 10, 25, 11, 30, tzinfo=berlin)) == 1
    assert hours_late(due, datetime(2026, 10, 25, 12, 30, tzinfo=berlin)) == 2


def test_months_weeks_and_auto_approval() -> None:
    new_york = ZoneInfo("America/New_York")
    assert utc_month(datetime(2026, 11, 30, 20, 0, tzinfo=new_york)) == "2026-12"
    assert utc_month(datetime(2026, 11, 1, 0, 0, tzinfo=UTC)) == "2026-11"
    assert iso_week(H0) == "2026-W45"
    assert iso_week(datetime(2027, 1, 1, tzinfo=UTC)) == "2026-W53"
    assert auto_approve_at(H0, 3) == datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        auto_approve_at(H0, -1)
