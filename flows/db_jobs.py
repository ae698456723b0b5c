"""Tables of the out-tasking side: vendors and their rate cards, jobs, bids, deliveries, the
job's clock events and the append-only ledger. Amounts are integer cents with a currency.

Declared on :class:`flows.db.Base`; :mod:`flows.db` imports this module so that one metadata
(and one set of Alembic migrations) covers every table.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, Engagement, JSONType, utcnow

JOB_STATES = ("posted", "assigned", "delivered", "revision_requested", "approved", "invoiced",
              "paid", "cancelled")
ENTRY_KINDS = ("charge", "revision_charge", "late_credit", "reversal")


class Vendor(Base):
    __tablename__ = "vendors"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rating: Mapped[Decimal] = mapped_column(Numeric(3, 2))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    slide_rate_cents: Mapped[int]
    free_revision_rounds: Mapped[int] = mapped_column(default=2)
    revision_slide_rate_cents: Mapped[int] = mapped_column(default=500)
    rush_multiplier: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("1.5"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    """One engagement's deck job. ``public_id`` is the engagement's opaque job id: the only
    name out-taskers know it by."""

    __tablename__ = "jobs"
    __table_args__ = (
        sa.CheckConstraint(sa.column("state").in_(JOB_STATES), name="state"),
        Index("ix_jobs_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), unique=True)
    state: Mapped[str] = mapped_column(String(30), default="posted")
    currency: Mapped[str] = mapped_column(String(3))
    turnaround_hours: Mapped[int]
    target_slides: Mapped[int | None]
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"))
    slide_rate_cents: Mapped[int | None]  # agreed with the assigned vendor
    choice_reason: Mapped[str | None] = mapped_column(Text)
    handed_off_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    revision_rounds: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    engagement: Mapped[Engagement] = relationship()
    vendor: Mapped[Vendor | None] = relationship()


class Bid(Base):
    __tablename__ = "bids"
    __table_args__ = (UniqueConstraint("job_id", "vendor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    slide_rate_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    turnaround_hours: Mapped[int]
    rating: Mapped[Decimal] = mapped_column(Numeric(3, 2))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    vendor: Mapped[Vendor] = relationship()


class Delivery(Base):
    """A deck an out-tasker returned. The same deck delivered again (a retry, a duplicate
    upload) is the same delivery: unique on (job, deck sha256)."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("job_id", "deck_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    number: Mapped[int]
    deck_sha256: Mapped[str] = mapped_column(String(64))
    deck_key: Mapped[str | None] = mapped_column(String(1024))
    billable_slides: Mapped[int]
    report: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class JobEvent(Base):
    """Append-only: the job's lifecycle and its clock (handed-off, question, answer, ...)."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class LedgerEntry(Base):
    """Append-only money: never updated or deleted; a mistake is corrected by a reversal.
    ``key`` is the idempotency key: the same entry recorded twice is one row."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        sa.CheckConstraint(sa.column("kind").in_(ENTRY_KINDS), name="kind"),
        Index("ix_ledger_entries_month_vendor_id", "month", "vendor_id"),
        Index("ix_ledger_entries_job_id", "job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    kind: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    slides: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime]
    month: Mapped[str] = mapped_column(String(7))  # UTC "YYYY-MM", for reports
    memo: Mapped[str] = mapped_column(Text, default="")
    reverses: Mapped[str | None] = mapped_column(String(200))


class LedgerRollup(Base):
    """Running sums of the ledger per (job, vendor, UTC month, currency), kept in the same
    transaction as each entry, so finance reports read thousands of rows, not millions.
    ``rebuild_rollups`` recomputes them from the entries."""

    __tablename__ = "ledger_rollups"
    __table_args__ = (UniqueConstraint("job_id", "vendor_id", "month", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    slides: Mapped[int] = mapped_column(default=0)  # charged (and reversed) slides
    deliveries: Mapped[int] = mapped_column(default=0)  # delivery charges
    late: Mapped[int] = mapped_column(default=0)  # late credits
    last_delivery_at: Mapped[datetime | None]
