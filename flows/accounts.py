"""Portal accounts, shared by ``outtask users`` and the portal: passwords, invitations,
signed-in sessions, the sign-in rate limit, memberships and the audit log.

Only digests are stored: passwords as scrypt hashes (salted, memory-hard), invitation and
session tokens as SHA-256 (they are long random strings, so a fast hash is enough). The audit
log is append-only; the database refuses changes to it (migration 0005).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import db
from .db_accounts import ROLES

MIN_PASSWORD = 12
INVITE_DAYS = 7
SIGN_IN_WINDOW = timedelta(minutes=15)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# scrypt at n=2**14, r=8: 16 MiB and ~50 ms per check, the interactive-login cost OWASP names
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class AccountError(Exception):
    """A refused account operation; the message says what to do."""


class SignInRefused(AccountError):
    """Wrong e-mail or password (deliberately not saying which)."""


class SignInLimited(AccountError):
    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


# -- secrets -------------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, maxmem=64 << 20, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        # same work as a real check, so timing does not tell which e-mails exist
        hash_password(password)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                         p=int(p), dklen=len(digest) // 2, maxmem=64 << 20)
    return hmac.compare_digest(got.hex(), digest)


def new_token() -> tuple[str, str]:
    """A token to hand out and the digest to store."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str, email: str = "") -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: use at least {MIN_PASSWORD} characters "
                           "(a few unrelated words work well)")
    if email and email.split("@")[0].lower() in password.lower():
        raise AccountError("the password contains the e-mail's name: choose another")
    return password


def check_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise AccountError(f"{email!r} is not an e-mail address: write e.g. ana@firm.com")
    return email


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise AccountError(f"unknown time zone {name!r}: use an IANA name such as "
                           "Europe/Berlin, America/New_York or UTC") from None
    return name


# -- users -----------------------------------------------------------------------------------------
def find_user(s: Session, email: str) -> db.User | None:
    return s.scalars(select(db.User).where(db.User.email == email.strip().lower())).one_or_none()


def _new_user(s: Session, *, email: str, role: str, name: str, timezone: str,
              vendor_slug: str | None) -> db.User:
    email = check_email(email)
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if find_user(s, email) is not None:
        raise AccountError(f"{email} already has an account: `outtask users list` shows it")
    vendor = None
    if role == "outtasker":
        if not vendor_slug:
            raise AccountError("an out-tasker works for a vendor: add --vendor <slug> "
                               "(`outtask vendors list` shows them)")
        vendor = s.scalars(select(db.Vendor).where(db.Vendor.slug == vendor_slug)).one_or_none()
        if vendor is None:
            raise AccountError(f"no vendor {vendor_slug!r}: add it with `outtask vendors add`")
    elif vendor_slug:
        raise AccountError(f"only out-taskers work for a vendor, not a {role}: drop --vendor")
    user = db.User(email=email, role=role, name=name.strip(), timezone=check_timezone(timezone),
                   vendor_id=vendor.id if vendor else None)
    s.add(user)
    s.flush()
    return user


def create_admin(s: Session, *, email: str, password: str, name: str = "",
                 timezone: str = "UTC") -> db.User:
    user = _new_user(s, email=email, role="admin", name=name, timezone=timezone,
                     vendor_slug=None)
    user.password_hash = hash_password(check_password(password, user.email))
    audit(s, "user-created", user=None, target=user.email, detail={"role": "admin"})
    return user


def invite(s: Session, *, email: str, role: str, by: db.User | None, vendor_slug: str | None = None,
           engagements: list[db.Engagement] = (), name: str = "", timezone: str = "UTC",
           now: datetime | None = None) -> tuple[db.User, str]:
    """A new account without a password and the one-time token that sets it."""
    now = now or db.utcnow()
    user = _new_user(s, email=email, role=role, name=name, timezone=timezone,
                     vendor_slug=vendor_slug)
    for eng in engagements:
        grant(s, user, eng, by=by)
    token, digest = new_token()
    s.add(db.Invite(token_sha256=digest, user_id=user.id, expires_at=now + timedelta(
        days=INVITE_DAYS), created_at=now))
    audit(s, "user-invited", user=by, target=user.email,
          detail={"role": role, "vendor": vendor_slug,
                  "engagements": [engagement_ref(e) for e in engagements]})
    return user, token


def open_invite(s: Session, token: str, *, now: datetime | None = None) -> db.Invite:
    now = now or db.utcnow()
    inv = s.scalars(select(db.Invite).where(
        db.Invite.token_sha256 == token_digest(token))).one_or_none()
    if inv is None or inv.used_at is not None or inv.expires_at <= now:
        raise AccountError("this invitation link is not valid (used, expired or mistyped): "
                           "ask an admin for a new one")
    return inv


def accept_invite(s: Session, token: str, *, password: str, name: str = "",
                  timezone: str | None = None, now: datetime | None = None) -> db.User:
    now = now or db.utcnow()
    inv = open_invite(s, token, now=now)
    user = inv.user
    user.password_hash = hash_password(check_password(password, user.email))
    if name.strip():
        user.name = name.strip()
    if timezone:
        user.timezone = check_timezone(timezone)
    inv.used_at = now
    audit(s, "invite-accepted", user=user, target=user.email)
    return user


def grant(s: Session, user: db.User, engagement: db.Engagement, *, by: db.User | None) -> None:
    if user.role not in ("admin", "consultant"):
        raise AccountError(f"{user.email} is {user.role}: only consultants and admins are put "
                           "on engagements")
    exists = s.scalars(select(db.Membership).where(
        db.Membership.user_id == user.id,
        db.Membership.engagement_id == engagement.id)).one_or_none()
    if exists is None:
        s.add(db.Membership(user_id=user.id, engagement_id=engagement.id))
        audit(s, "member-added", user=by, target=engagement_ref(engagement),
              client_id=engagement.client_id, detail={"member": user.email})


def disable(s: Session, user: db.User, *, by: db.User | None, now: datetime | None = None) -> int:
    """Disable an account and end its sessions; returns the sessions ended."""
    now = now or db.utcnow()
    user.disabled_at = now
    ended = 0
    for ws in s.scalars(select(db.WebSession).where(db.WebSession.user_id == user.id,
                                                    db.WebSession.ended_at.is_(None))):
        ws.ended_at = now
        ended += 1
    audit(s, "user-disabled", user=by, target=user.email)
    return ended


def engagement_ref(e: db.Engagement) -> str:
    return f"{e.client.slug}/{e.slug}"


# -- signing in ------------------------------------------------------------------------------------
def authenticate(s: Session, email: str, password: str, *, address: str, limit: int,
                 now: datetime | None = None) -> db.User:
    """The user, or SignInRefused / SignInLimited. Every try is recorded; after ``limit``
    failures for an e-mail (or ten times that from one address) within 15 minutes, even the
    right password is refused until the window has passed."""
    now = now or db.utcnow()
    email = email.strip().lower()[:254]
    since = now - SIGN_IN_WINDOW
    last_ok = s.scalar(select(func.max(db.SignInAttempt.at)).where(
        db.SignInAttempt.email == email, db.SignInAttempt.ok.is_(True)))
    # a successful sign-in forgives the failures before it
    by_email = select(func.count(), func.min(db.SignInAttempt.at)).where(
        db.SignInAttempt.email == email, db.SignInAttempt.ok.is_(False),
        db.SignInAttempt.at > (max(since, last_ok) if last_ok else since))
    by_address = select(func.count(), func.min(db.SignInAttempt.at)).where(
        db.SignInAttempt.address == address, db.SignInAttempt.ok.is_(False),
        db.SignInAttempt.at > since)
    for (count, first), cap in ((s.execute(by_email).one(), limit),
                                (s.execute(by_address).one(), 10 * limit)):
        if count >= cap:
            retry = max(1, int((first + SIGN_IN_WINDOW - now).total_seconds()) + 1)
            audit(s, "sign-in", user=None, email=email, outcome="limited", address=address)
            raise SignInLimited(f"too many failed sign-ins: try again in {retry // 60 + 1} "
                                "minutes, or ask an admin", retry)
    user = find_user(s, email)
    ok = (verify_password(password, user.password_hash if user else None)
          and user is not None and user.disabled_at is None)
    s.add(db.SignInAttempt(email=email, address=address, ok=ok, at=now))
    audit(s, "sign-in", user=user if ok else None, email=email, address=address,
          outcome="ok" if ok else "refused")
    if not ok:
        raise SignInRefused("wrong e-mail or password")
    return user


def start_session(s: Session, user: db.User, *, hours: int,
                  now: datetime | None = None) -> tuple[str, db.WebSession]:
    now = now or db.utcnow()
    token, digest = new_token()
    ws = db.WebSession(token_sha256=digest, csrf_token=secrets.token_urlsafe(32),
                       user_id=user.id, created_at=now, last_seen_at=now,
                       expires_at=now + timedelta(hours=hours))
    s.add(ws)
    s.flush()
    return token, ws


def find_session(s: Session, token: str, *, idle_minutes: int,
                 now: datetime | None = None) -> db.WebSession | None:
    """The live session for a cookie's token (and its last-seen time moved on), or None when
    it is unknown, signed out, idle too long, past its end, or its user is disabled."""
    now = now or db.utcnow()
    ws = s.scalars(select(db.WebSession).where(
        db.WebSession.token_sha256 == token_digest(token))).one_or_none()
    if (ws is None or ws.ended_at is not None or ws.expires_at <= now
            or ws.last_seen_at + timedelta(minutes=idle_minutes) <= now
            or ws.user.disabled_at is not None):
        return None
    # write at most once a minute: every page view would otherwise be a write
    if now - ws.last_seen_at > timedelta(minutes=1):
        ws.last_seen_at = now
    return ws


def end_session(s: Session, ws: db.WebSession, *, now: datetime | None = None) -> None:
    ws.ended_at = now or db.utcnow()
    audit(s, "sign-out", user=ws.user)


# -- the audit log ---------------------------------------------------------------------------------
def audit(s: Session, action: str, *, user: db.User | None, target: str = "",
          client_id: int | None = None, outcome: str = "ok", address: str = "",
          email: str = "", detail: dict[str, Any] | None = None,
          at: datetime | None = None) -> None:
    s.add(db.AuditEvent(at=at or db.utcnow(), user_id=user.id if user else None,
                        email=user.email if user else email, role=user.role if user else "",
                        action=action, target=target[:300], client_id=client_id,
                        outcome=outcome, address=address[:64], detail=detail or {}))


@dataclass(frozen=True)
class AuditFilter:
    email: str | None = None
    action: str | None = None
    outcome: str | None = None
    client: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_events(s: Session, f: AuditFilter, *, limit: int = 500) -> list[db.AuditEvent]:
    q = select(db.AuditEvent).order_by(db.AuditEvent.id.desc()).limit(limit)
    if f.email:
        q = q.where(db.AuditEvent.email == f.email.strip().lower())
    if f.action:
        q = q.where(db.AuditEvent.action == f.action)
    if f.outcome:
        q = q.where(db.AuditEvent.outcome == f.outcome)
    if f.target:
        q = q.where(db.AuditEvent.target.contains(f.target, autoescape=True))
    if f.client:
        q = q.join(db.Client, db.Client.id == db.AuditEvent.client_id).where(
            db.Client.slug == f.client)
    if f.since:
        q = q.where(db.AuditEvent.at >= f.since)
    if f.until:
        q = q.where(db.AuditEvent.at < f.until)
    return list(s.scalars(q))
