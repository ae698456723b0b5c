"""A job's lifecycle as a table of allowed transitions.

posted → assigned → delivered → revision requested → … → approved (by a reviewer, or
automatically after ``OUTTASK_AUTO_APPROVE_DAYS``) → invoiced → paid; cancelled from any open
state. Reassignment (the out-tasker disappeared) keeps the job assigned, to a new vendor: it is
an event, not a state, so the history says it happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from .errors import InvalidTransitionError
from .turnaround import auto_approve_at, ensure_utc

__all__ = ["DEFAULT_AUTO_APPROVE_DAYS", "TRANSITIONS", "JobEvent", "JobState",
           "allowed_events", "should_auto_approve", "transition"]

DEFAULT_AUTO_APPROVE_DAYS = 3


class JobState(StrEnum):
    POSTED = "posted"
    ASSIGNED = "assigned"
    DELIVERED = "delivered"
    REVISION_REQUESTED = "revision_requested"
    APPROVED = "approved"
    INVOICED = "invoiced"
    PAID = "paid"
    CANCELLED = "cancelled"


class JobEvent(StrEnum):
    ASSIGN = "assign"
    DELIVER = "deliver"
    REQUEST_REVISION = "request_revision"
    APPROVE = "approve"
    AUTO_APPROVE = "auto_approve"
    INVOICE = "invoice"
    PAY = "pay"
    CANCEL = "cancel"
    REASSIGN = "reassign"


_S, _E = JobState, JobEvent
TRANSITIONS: Mapping[JobState, Mapping[JobEvent, JobState]] = MappingProxyType({
    _S.POSTED: MappingProxyType({_E.ASSIGN: _S.ASSIGNED, _E.CANCEL: _S.CANCELLED}),
    _S.ASSIGNED: MappingProxyType({_E.DELIVER: _S.DELIVERED, _E.REASSIGN: _S.ASSIGNED,
                                   _E.CANCEL: _S.CANCELLED}),
    _S.DELIVERED: MappingProxyType({_E.REQUEST_REVISION: _S.REVISION_REQUESTED,
                                    _E.APPROVE: _S.APPROVED, _E.AUTO_APPROVE: _S.APPROVED,
                                    _E.CANCEL: _S.CANCELLED}),
    _S.REVISION_REQUESTED: MappingProxyType({_E.DELIVER: _S.DELIVERED,
                                             _E.REASSIGN: _S.ASSIGNED,
                                             _E.CANCEL: _S.CANCELLED}),
    _S.APPROVED: MappingProxyType({_E.INVOICE: _S.INVOICED}),
    _S.INVOICED: MappingProxyType({_E.PAY: _S.PAID}),
    _S.PAID: MappingProxyType({}),
    _S.CANCELLED: MappingProxyType({}),
})


def allowed_events(state: JobState | str) -> tuple[JobEvent, ...]:
    return tuple(TRANSITIONS[JobState(state)])


def transition(state: JobState | str, event: JobEvent | str) -> JobState:
    """The state after ``event``; InvalidTransitionError (naming the allowed events) when
    ``state`` does not take it. Accepts the enums or their string values (from a database)."""
    current = JobState(state)
    allowed = TRANSITIONS[current]
    try:
        return allowed[JobEvent(event)]
    except (KeyError, ValueError):
        raise InvalidTransitionError(current.value, str(event),
                                     [e.value for e in allowed]) from None


def should_auto_approve(state: JobState | str, delivered_at: datetime | None, now: datetime,
                        days: int = DEFAULT_AUTO_APPROVE_DAYS) -> bool:
    """True when a delivered deck nobody reviewed has waited ``days`` since its delivery."""
    if JobState(state) is not JobState.DELIVERED or delivered_at is None:
        return False
    return ensure_utc(now, "now") >= auto_approve_at(delivered_at, days)
