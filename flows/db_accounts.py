"""Tables of the portal: accounts with a role, who may see which engagement, invitations,
signed-in sessions, sign-in attempts (for rate limits) and the append-only audit log.

Secrets are never stored: passwords as scrypt hashes, invitation and session tokens as
SHA-256 digests, so a copy of the database signs nobody in.

Declared on :class:`flows.db.Base`; :mod:`flows.db` imports this module so that one metadata
(and one set of Alembic migrations) covers every table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy import column as sa_column
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.schema import CheckConstraint

from .db import Base, Engagement, JSONType, utcnow
from .db_jobs import Vendor

ROLES = ("admin", "consultant", "outtasker", "finance")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(sa_column("role").in_(ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"))  # out-taskers only
    password_hash: Mapped[str | None] = mapped_column(String(300))  # None until invite accepted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]

    vendor: Mapped[Vendor | None] = relationship(lazy="joined")


class Membership(Base):
    """A consultant (or admin) on an engagement: the only way to see its material."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "engagement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    engagement: Mapped[Engagement] = relationship(lazy="joined")


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class WebSession(Base):
    """A signed-in browser. Expires after ``idle`` minutes without a request, and at
    ``expires_at`` whatever happens; signing out ends it at once."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class SignInAttempt(Base):
    """Every sign-in try, kept for the rate limit (per e-mail and per address)."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_email_at", "email", "at"),
                      Index("ix_sign_in_attempts_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only: every view, download, upload, approval and refusal in the portal. The
    database itself refuses UPDATE and DELETE on this table (triggers, migration 0005)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), default="")  # as typed, for failed sign-ins
    role: Mapped[str] = mapped_column(String(20), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(300), default="")  # job id, engagement, file
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20), default="ok")  # ok, refused, denied
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
