"""The database: what has been uploaded, what state each interview is in, and which
transcriptions exist, on SQLite (the embedded default) or PostgreSQL.

Every write here is safe when several processes (watchers, workers, the CLI) share one
database: identities live in unique constraints, not in memory, so a redelivered event or two
processes racing on the same upload end with one row.

How that holds on each backend:
- SQLite: every transaction starts with ``BEGIN IMMEDIATE``, so writers queue on the file's
  write lock (for up to ``busy_timeout``) instead of failing with "database is locked" when a
  read snapshot turns out to be stale. Transactions are therefore serial; keep sessions short.
- PostgreSQL: inserts go in a SAVEPOINT and an ``IntegrityError`` means another transaction got
  there first, so we roll back the savepoint and read its row. ``claim_pending`` uses
  ``FOR UPDATE SKIP LOCKED``; ``register_upload`` takes a transaction-scoped advisory lock per
  (engagement, content) so two keys with the same content cannot both become the original.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "STATES",
    "Base",
    "Client",
    "DatabaseError",
    "Engagement",
    "Event",
    "Interview",
    "InvalidSlugError",
    "InvalidValueError",
    "Transcript",
    "alembic_config",
    "claim_pending",
    "find_transcript",
    "get_or_create_engagement",
    "make_engine",
    "migrate",
    "record_transcript",
    "register_upload",
    "session_factory",
    "set_state",
    "utcnow",
]

STATES = ("pending", "transcribing", "transcribed", "quarantined", "failed", "duplicate")
CLAIMABLE = ("pending", "failed")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseError(Exception):
    """Base class of the database layer's expected errors."""


class InvalidValueError(DatabaseError, ValueError):
    """A value handed to the database layer is malformed; the message says which and why."""


class InvalidSlugError(InvalidValueError):
    """A client or engagement name is not a slug."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out. SQLite has no time zones, so there we store naive UTC
    and put the zone back on the way out; PostgreSQL stores ``timestamptz``."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            # Guessing a zone for a naive datetime silently shifts times by hours.
            raise InvalidValueError(
                f"naive datetime {value.isoformat()} given to the database: "
                "pass a timezone-aware one (flows.db.utcnow())")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSONB on PostgreSQL: comparable and indexable, unlike json.
JSONType = JSON().with_variant(JSONB(), "postgresql")

# Named constraints keep migrations reproducible and let SQLite's batch mode alter them later.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Engagement(Base):
    __tablename__ = "engagements"
    __table_args__ = (UniqueConstraint("client_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(Text)
    expected_interviews: Mapped[int | None]
    questions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    redact_terms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: names, companies and products the speech model should spell right
    vocabulary: Mapped[list[str]] = mapped_column(JSONType, default=list,
                                                  server_default="[]")
    target_slides: Mapped[int | None]
    turnaround_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the only name of this engagement's job that an out-tasker ever sees (opaque, random)
    job_id: Mapped[str | None] = mapped_column(String(40), unique=True)

    # Joined: ``ref`` needs the client, also on an engagement whose session has closed.
    client: Mapped[Client] = relationship(lazy="joined", innerjoin=True)

    @property
    def ref(self) -> str:
        return f"{self.client.slug}/{self.slug}"


class Transcript(Base):
    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("sha256", "engine", "model_sha256", "options_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(200))
    model_sha256: Mapped[str] = mapped_column(String(64))
    options_hash: Mapped[str] = mapped_column(String(64))
    outputs: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    language: Mapped[str | None] = mapped_column(String(20))
    duration_s: Mapped[float | None] = mapped_column(sa.Double)  # as migration 0001
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Interview(Base):
    __tablename__ = "interviews"
    __table_args__ = (
        UniqueConstraint("bucket", "key", "sha256"),
        CheckConstraint(sa.column("state").in_(STATES), name="state"),
        Index("ix_interviews_state_created_at", "state", "created_at"),
        Index("ix_interviews_engagement_id_sha256", "engagement_id", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"))
    bucket: Mapped[str] = mapped_column(String(500))
    key: Mapped[str] = mapped_column(String(1024))
    file: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    etag: Mapped[str | None] = mapped_column(String(200))
    sequencer: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float | None] = mapped_column(sa.Double)  # as migration 0001
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # Where a refused upload's copy went, so status and the portal can point at it.
    quarantine_key: Mapped[str | None] = mapped_column(String(1024))
    #: who is transcribing it ("host:pid"), so that work of a crashed process can be taken over
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("interviews.id"))
    transcript_id: Mapped[int | None] = mapped_column(ForeignKey("transcripts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    engagement: Mapped[Engagement] = relationship()
    transcript: Mapped[Transcript | None] = relationship()
    duplicate_of: Mapped[Interview | None] = relationship(remote_side=[id])


class Brief(Base):
    """One version of an engagement's brief package; a new version whenever its inputs
    (transcripts, forms, engagement settings, terms) change."""

    __tablename__ = "briefs"
    __table_args__ = (UniqueConstraint("engagement_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    version: Mapped[int]
    job_id: Mapped[str] = mapped_column(String(40))
    #: sha256 over everything the brief was built from: the same inputs, the same version
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(1024))
    zip_key: Mapped[str] = mapped_column(String(1024))
    zip_sha256: Mapped[str] = mapped_column(String(64))
    interviews: Mapped[int]
    slides: Mapped[int]
    redactions: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    terms: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    pseudonymised: Mapped[bool] = mapped_column(default=False)
    preview: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    engagement: Mapped[Engagement] = relationship()


class Event(Base):
    """Append-only: what changed, when. Never updated or deleted."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int | None] = mapped_column(ForeignKey("interviews.id"), index=True)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    interview: Mapped[Interview | None] = relationship()


# -- engines, migrations, sessions --------------------------------------------------------------

def _url(url: str | URL) -> URL:
    u = make_url(url)
    # psycopg 3 is the driver we ship; a bare postgresql:// would ask for psycopg2.
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def _sqlite_file(u: URL) -> Path | None:
    db = u.database
    if not db or db == ":memory:" or db.startswith("file:") or u.query.get("mode") == "memory":
        return None
    return Path(db)


def make_engine(url: str | URL) -> Engine:
    u = _url(url)
    if u.get_backend_name() != "sqlite":
        return sa.create_engine(u, pool_pre_ping=True)
    path = _sqlite_file(u)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(u)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (it never BEGINs before a
        # SELECT, which breaks SAVEPOINT); _on_begin emits our own BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL: a reader outside our transactions (the sqlite3 shell, a backup) and the writer
        # never block each other, and commits need no rewrite of the main file.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front and waits busy_timeout for it. A deferred
        # BEGIN reads first and, if another process wrote meanwhile, fails its first write at
        # once with "database is locked" (no waiting can fix a stale snapshot).
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(url: str | URL | None = None) -> Config:
    """Alembic's configuration for our migrations, without an alembic.ini. To add a revision:
    ``command.revision(alembic_config(url), message="...", autogenerate=True)``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        rendered = _url(url).render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


def migrate(url: str | URL) -> None:
    """Bring the schema to the newest revision; a no-op when it is there already. Safe when
    several processes start at once (they queue on a lock)."""
    import time

    from sqlalchemy.exc import OperationalError

    for attempt in range(1, 6):
        try:
            return _migrate_once(url)
        except OperationalError as e:
            # SQLite: a process that opened the file while another migrated it can still be
            # told "database is locked" (switching the new file to WAL); wait and try again.
            if "locked" not in str(e) or attempt == 5:
                raise
            time.sleep(0.5 * attempt)


def _migrate_once(url: str | URL) -> None:
    from alembic import command

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Released at commit. SQLite needs nothing: BEGIN IMMEDIATE already serializes.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                             {"k": "outtask:migrate"})
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


def session_factory(url: str | URL) -> sessionmaker[Session]:
    """Migrate, then hand out sessions. Objects stay readable after commit (no expiry), so
    callers can use what they loaded after closing the session."""
    migrate(url)
    return sessionmaker(make_engine(url), expire_on_commit=False)


# -- operations ---------------------------------------------------------------------------------

T = TypeVar("T", bound=Base)


def _get_or_insert(session: Session, query: sa.Select[tuple[T]],
                   make: Callable[[], Sequence[Base]]) -> tuple[T, bool]:
    """The row ``query`` finds, or the first of ``make()``'s rows, inserted. Another
    transaction inserting the same identity meanwhile makes our insert fail on the unique
    constraint; we then roll back only our savepoint and return its row."""
    found = session.scalars(query).one_or_none()
    if found is not None:
        return found, False
    rows = make()
    try:
        with session.begin_nested():
            session.add_all(rows)
    except IntegrityError:
        return session.scalars(query).one(), False
    return rows[0], True  # type: ignore[return-value]


def _check_slug(what: str, value: str) -> str:
    if not isinstance(value, str) or not SLUG.match(value):
        raise InvalidSlugError(
            f"{what} {value!r} is not a valid slug: use lower-case letters, digits and single "
            f"hyphens, starting and ending with a letter or digit (e.g. 'acme-corp'); rename "
            f"the folder inbox/<client>/<engagement>/ accordingly")
    return value


def get_or_create_engagement(session: Session, client: str, engagement: str, *,
                             defaults: dict[str, Any] | None = None) -> Engagement:
    """The engagement ``client/engagement``, registering the client and the engagement the first
    time (with ``defaults``, e.g. the configured turnaround and currency). Does not commit."""
    _check_slug("client", client)
    _check_slug("engagement", engagement)
    client_row, _ = _get_or_insert(
        session, select(Client).where(Client.slug == client), lambda: [Client(slug=client)])
    row, created = _get_or_insert(
        session,
        select(Engagement).where(Engagement.client_id == client_row.id,
                                 Engagement.slug == engagement),
        lambda: [Engagement(client=client_row, slug=engagement, **(defaults or {}))])
    if created:
        session.add(Event(engagement_id=row.id, kind="engagement-registered",
                          detail={"ref": row.ref}))
    return row


def _lock_content(session: Session, engagement_id: int, sha256: str) -> None:
    """On PostgreSQL, serialize registrations of one content within one engagement until
    commit, so that exactly one of two concurrent uploads becomes the original."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                        {"k": f"outtask:content:{engagement_id}:{sha256}"})


def register_upload(session: Session, engagement: Engagement, *, bucket: str, key: str,
                    file: str, sha256: str, size: int, etag: str | None = None,
                    sequencer: str | None = None) -> tuple[Interview, bool]:
    """Record an upload once, however often its event is delivered: ``(interview, created)``.
    Its identity is (bucket, key, content sha256), so a corrected re-upload under the same key
    is a new interview. The same content under another key of the same engagement is recorded
    as a ``duplicate`` of the first and is not transcribed again. Does not commit."""
    if not SHA256.match(sha256):
        raise InvalidValueError(f"sha256 {sha256!r} of {key} is not 64 lower-case hex digits")
    _lock_content(session, engagement.id, sha256)
    identity = select(Interview).where(Interview.bucket == bucket, Interview.key == key,
                                       Interview.sha256 == sha256)

    def new_rows() -> list[Base]:
        original = session.scalars(
            select(Interview)
            .where(Interview.engagement_id == engagement.id, Interview.sha256 == sha256,
                   Interview.state != "duplicate")
            .order_by(Interview.id).limit(1)).one_or_none()
        interview = Interview(
            engagement_id=engagement.id, bucket=bucket, key=key, file=file, sha256=sha256,
            size=size, etag=etag, sequencer=sequencer,
            state="pending" if original is None else "duplicate",
            duplicate_of_id=None if original is None else original.id,
            reason=None if original is None else f"same content as {original.key}")
        registered = Event(interview=interview, engagement_id=engagement.id, kind="registered",
                           detail={"bucket": bucket, "key": key, "sha256": sha256,
                                   "size": size, "etag": etag, "sequencer": sequencer,
                                   "state": interview.state,
                                   "duplicate_of_id": interview.duplicate_of_id})
        return [interview, registered]

    return _get_or_insert(session, identity, new_rows)


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


def set_state(session: Session, interview: Interview, state: str, *,
              reason: str | None = None, **fields: Any) -> None:
    """Move ``interview`` to ``state`` (``reason`` says why; it replaces the previous one),
    update any other given columns, and log the change. Does not commit."""
    if state not in STATES:
        raise InvalidValueError(f"unknown interview state {state!r}: one of {', '.join(STATES)}")
    columns = Interview.__table__.columns.keys()
    unknown = sorted(set(fields) - set(columns) - {"transcript", "duplicate_of"})
    if unknown:
        raise InvalidValueError(f"set_state got fields that are not interview columns: "
                                f"{', '.join(unknown)}")
    previous = interview.state
    interview.state = state
    interview.reason = reason
    for name, value in fields.items():
        setattr(interview, name, value)
    interview.updated_at = utcnow()
    session.add(Event(interview=interview, engagement_id=interview.engagement_id, kind="state",
                      detail={"from": previous, "to": state, "reason": reason,
                              "fields": {k: v for k, v in fields.items() if _jsonable(v)}}))


def claim_pending(session: Session, limit: int | None = None, *,
                  exclude: Collection[int] = (), owner: str | None = None,
                  orphaned: Callable[[Interview], bool] | None = None) -> list[Interview]:
    """Take up to ``limit`` pending or failed interviews, oldest first, mark them
    ``transcribing`` (one more attempt each) for ``owner`` and commit. An interview left in
    ``transcribing`` by a process that died is claimable too when ``orphaned(row)`` says so.
    Two workers never get the same one: PostgreSQL skips rows another transaction has locked;
    SQLite runs one writer at a time."""
    states = (*CLAIMABLE, "transcribing") if orphaned else CLAIMABLE
    query = select(Interview).where(Interview.state.in_(states))
    if exclude:
        query = query.where(Interview.id.not_in(list(exclude)))
    query = query.order_by(Interview.created_at, Interview.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for interview in session.scalars(query):
        if interview.state == "transcribing" and not (orphaned and orphaned(interview)):
            continue
        set_state(session, interview, "transcribing", attempts=interview.attempts + 1,
                  claimed_by=owner)
        claimed.append(interview)
        if limit is not None and len(claimed) >= limit:
            break
    session.commit()
    return claimed


def find_transcript(session: Session, *, sha256: str, engine: str, model_sha256: str,
                    options_hash: str) -> Transcript | None:
    """A finished transcription of this content by this engine, model and options, if any."""
    return session.scalars(select(Transcript).where(
        Transcript.sha256 == sha256, Transcript.engine == engine,
        Transcript.model_sha256 == model_sha256,
        Transcript.options_hash == options_hash)).one_or_none()


def record_transcript(session: Session, *, sha256: str, engine: str, model: str,
                      model_sha256: str, options_hash: str, outputs: dict[str, str],
                      language: str | None, duration_s: float | None,
                      flags: list[dict[str, Any]]) -> Transcript:
    """Store a finished transcription, or return the one another worker stored first for the
    same identity (the same audio in two engagements can be transcribed at once). Does not
    commit."""
    row, _ = _get_or_insert(
        session,
        select(Transcript).where(Transcript.sha256 == sha256, Transcript.engine == engine,
                                 Transcript.model_sha256 == model_sha256,
                                 Transcript.options_hash == options_hash),
        lambda: [Transcript(sha256=sha256, engine=engine, model=model,
                            model_sha256=model_sha256, options_hash=options_hash,
                            outputs=outputs, language=language, duration_s=duration_s,
                            flags=flags)])
    return row


# The out-tasking tables live in their own module but on the same metadata (one migration
# history); imported last because they build on the classes above.
from .db_jobs import (  # noqa: E402
    Bid,
    Delivery,
    Job,
    JobEvent,
    LedgerEntry,
    LedgerRollup,
    Vendor,
)

__all__ += ["Bid", "Delivery", "Job", "JobEvent", "LedgerEntry", "LedgerRollup", "Vendor"]
from .db_accounts import (  # noqa: E402
    AuditEvent,
    Invite,
    Membership,
    SignInAttempt,
    User,
    WebSession,
)

__all__ += ["AuditEvent", "Invite", "Membership", "SignInAttempt", "User", "WebSession"]
