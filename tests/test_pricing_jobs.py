"""The job lifecycle: the transition table, errors that name the allowed events, auto-approve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pricing import (
    TRANSITIONS,
    InvalidTransitionError,
    JobEvent,
    JobState,
    allowed_events,
    should_auto_approve,
    transition,
)

DELIVERED = datetime(2026, 11, 4, 15, 30, tzinfo=UTC)


def test_happy_path_and_reassignment() -> None:
    state = JobState.POSTED
    for event in ("assign", "reassign", "deliver", "request_revision", "deliver", "approve",
                  "invoice", "pay"):
        state = transition(state, event)
    assert state is JobState.PAID
    assert transition("revision_requested", JobEvent.REASSIGN) is JobState.ASSIGNED
    assert transition(JobState.DELIVERED, JobEvent.AUTO_APPROVE) is JobState.APPROVED


def test_every_state_is_in_the_table_and_closed_states_take_nothing() -> None:
    assert set(TRANSITIONS) == set(JobState)
    assert allowed_events(JobState.PAID) == () == allowed_events("cancelled")
    for state in (JobState.POSTED, JobState.ASSIGNED, JobState.DELIVERED,
                  JobState.REVISION_REQUESTED):
        assert transition(state, JobEvent.CANCEL) is JobState.CANCELLED
    with pytest.raises(TypeError):
        TRANSITIONS[JobState.PAID][JobEvent.PAY] = JobState.PAID  # type: ignore[index]


def test_invalid_transition_names_the_allowed_events() -> None:
    with pytest.raises(InvalidTransitionError) as caught:
        transition(JobState.POSTED, JobEvent.PAY)
    error = caught.value
    assert error.state == "posted" and error.event == "pay"
    assert error.allowed == ("assign", "cancel")
    assert "assign, cancel" in str(error)
    assert error.to_dict()["code"] == "invalid-transition"
    with pytest.raises(InvalidTransitionError, match="closed"):
        transition(JobState.PAID, JobEvent.CANCEL)
    with pytest.raises(InvalidTransitionError):
        transition(JobState.POSTED, "teleport")
    with pytest.raises(ValueError):
        transition("lost", JobEvent.ASSIGN)


def test_auto_approve_after_three_days() -> None:
    now = DELIVERED + timedelta(days=3)
    assert should_auto_approve(JobState.DELIVERED, DELIVERED, now)
    assert not should_auto_approve(JobState.DELIVERED, DELIVERED, now - timedelta(seconds=1))
    assert should_auto_approve("delivered", DELIVERED, DELIVERED + timedelta(days=1), days=1)
    assert not should_auto_approve(JobState.REVISION_REQUESTED, DELIVERED, now)
    assert not should_auto_approve(JobState.APPROVED, DELIVERED, now)
    assert not should_auto_approve(JobState.DELIVERED, None, now)
