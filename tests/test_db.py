"""flows.db on real databases: a SQLite file and a PostgreSQL server (``database_url`` runs each
test on both). Concurrency is exercised with threads that each hold their own session and
connection, the way separate worker processes would."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session, sessionmaker

from flows import db

R = TypeVar("R")
BUCKET = "s3://outtask-test"


def sha(n: object) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def concurrently(n: int, fn: Callable[[int], R]) -> list[R]:
    """``fn(0..n-1)`` on n threads released at the same moment; re-raises the first error."""
    barrier = threading.Barrier(n)

    def run(i: int) -> R:
        barrier.wait(timeout=10)
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    factory = db.session_factory(database_url)
    yield factory
    factory.kw["bind"].dispose()


def upload(session: Session, engagement: db.Engagement, name: str, content: object
           ) -> tuple[db.Interview, bool]:
    key = f"inbox/{engagement.ref}/{name}"
    return db.register_upload(session, engagement, bucket=BUCKET, key=key, file=name,
                              sha256=sha(content), size=1000, etag=f'"{sha(content)[:32]}"')


def count(session: Session, model: type[db.Base]) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


# -- schema -------------------------------------------------------------------------------------

def test_migrate_twice_is_a_no_op_at_head(database_url: str) -> None:
    db.migrate(database_url)
    db.migrate(database_url)
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert {"clients", "engagements", "interviews", "transcripts", "events",
                    "alembic_version"} <= tables
            head = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
            assert [v for (v,) in versions] == [head]
            # The hand-reviewed migration and the models describe the same schema.
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.Base.metadata) == []
    finally:
        engine.dispose()


def test_processes_starting_at_once_migrate_once(database_url: str) -> None:
    concurrently(4, lambda _: db.migrate(database_url))
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()


def test_sqlite_file_settings(tmp_path) -> None:
    path = tmp_path / "not" / "yet" / "outtask.db"
    url = f"sqlite:///{path}"
    db.migrate(url)
    assert path.is_file()
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            pragma = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                      for name in ("foreign_keys", "journal_mode", "busy_timeout")}
    finally:
        engine.dispose()
    assert pragma == {"foreign_keys": 1, "journal_mode": "wal", "busy_timeout": 30_000}


def test_plain_postgresql_url_uses_psycopg_3() -> None:
    engine = db.make_engine("postgresql://someone@127.0.0.1:1/nothing")  # connects lazily
    assert engine.dialect.driver == "psycopg"


# -- datetimes ----------------------------------------------------------------------------------

def test_datetimes_come_back_aware_utc(sessions: sessionmaker[Session]) -> None:
    summer_berlin = datetime(2024, 7, 1, 14, 30, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
    with sessions() as s:
        s.add_all([db.Client(slug="given", created_at=summer_berlin), db.Client(slug="default")])
        s.commit()
    with sessions() as s:
        given = s.scalars(sa.select(db.Client).where(db.Client.slug == "given")).one()
        default = s.scalars(sa.select(db.Client).where(db.Client.slug == "default")).one()
        stored = s.execute(sa.text("SELECT created_at FROM clients WHERE slug = 'given'")).scalar()
    assert given.created_at == summer_berlin
    assert given.created_at.tzinfo is UTC
    assert given.created_at.hour == 12
    assert default.created_at.tzinfo is UTC
    assert abs(db.utcnow() - default.created_at) < timedelta(minutes=1)
    # SQLite holds naive UTC text: the instant, not the wall clock of the zone it came in.
    assert "12:30:05" in str(stored)


def test_naive_datetimes_are_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        s.add(db.Client(slug="naive", created_at=datetime(2024, 7, 1, 12, 0)))
        with pytest.raises(sa.exc.StatementError, match="naive datetime") as caught:
            s.flush()
    assert isinstance(caught.value.orig, db.InvalidValueError)


# -- engagements --------------------------------------------------------------------------------

@pytest.mark.parametrize("client, engagement", [
    ("Acme", "q3"), ("acme corp", "q3"), ("acme_corp", "q3"), ("-acme", "q3"), ("acme", "q3-"),
    ("acme", "q3--pricing"), ("", "q3"), ("acme", "q3/pricing"), ("acmé", "q3"),
])
def test_slugs_are_validated(tmp_path, client: str, engagement: str) -> None:
    sessions = db.session_factory(f"sqlite:///{tmp_path / 'outtask.db'}")
    with sessions() as s, pytest.raises(db.InvalidSlugError, match="lower-case letters"):
        db.get_or_create_engagement(s, client, engagement)
    with sessions() as s:
        assert count(s, db.Client) == 0


def test_get_or_create_engagement(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        first = db.get_or_create_engagement(s, "acme", "q3-pricing")
        again = db.get_or_create_engagement(s, "acme", "q3-pricing")
        other = db.get_or_create_engagement(s, "acme", "q4")
        s.commit()
    assert again.id == first.id != other.id
    assert first.ref == "acme/q3-pricing"  # after the session closed
    assert (first.currency, first.turnaround_hours, first.questions, first.redact_terms) == (
        "USD", 24, [], [])
    with sessions() as s:
        assert count(s, db.Client) == 1
        kinds = s.scalars(sa.select(db.Event.kind)).all()
    assert kinds == ["engagement-registered", "engagement-registered"]


def test_get_or_create_engagement_concurrently(sessions: sessionmaker[Session]) -> None:
    def register(_: int) -> int:
        with sessions() as s:
            engagement = db.get_or_create_engagement(s, "acme", "q3-pricing")
            s.commit()
            return engagement.id

    ids = concurrently(8, register)
    assert len(set(ids)) == 1
    with sessions() as s:
        assert (count(s, db.Client), count(s, db.Engagement), count(s, db.Event)) == (1, 1, 1)


# -- uploads ------------------------------------------------------------------------------------

@pytest.fixture
def engagement(sessions: sessionmaker[Session]) -> db.Engagement:
    with sessions() as s:
        row = db.get_or_create_engagement(s, "acme", "q3-pricing")
        s.commit()
        return row


def test_a_redelivered_upload_is_recorded_once(sessions, engagement) -> None:
    created = []
    for _ in range(3):
        with sessions() as s:
            interview, was_created = upload(s, engagement, "exec-1.m4a", "audio-1")
            s.commit()
            created.append((interview.id, was_created))
    assert created == [(created[0][0], True), (created[0][0], False), (created[0][0], False)]
    with sessions() as s:
        interview = s.get(db.Interview, created[0][0])
        assert (interview.state, interview.attempts, interview.file) == ("pending", 0,
                                                                         "exec-1.m4a")
        assert count(s, db.Interview) == 1
        assert s.scalars(sa.select(db.Event.kind).where(db.Event.interview_id == interview.id)
                         ).all() == ["registered"]


def test_an_upload_delivered_concurrently_is_recorded_once(sessions, engagement) -> None:
    def deliver(_: int) -> tuple[int, bool]:
        with sessions() as s:
            interview, created = upload(s, engagement, "exec-1.m4a", "audio-1")
            s.commit()
            return interview.id, created

    results = concurrently(4, deliver)
    assert len({i for i, _ in results}) == 1
    assert sorted(c for _, c in results) == [False, False, False, True]
    with sessions() as s:
        assert count(s, db.Interview) == 1


def test_same_content_under_another_key_is_a_duplicate(sessions, engagement) -> None:
    with sessions() as s:
        first, _ = upload(s, engagement, "exec-1.m4a", "audio-1")
        copy, created = upload(s, engagement, "exec-1 (copy).m4a", "audio-1")
        again, created_again = upload(s, engagement, "exec-1 (copy).m4a", "audio-1")
        elsewhere = db.get_or_create_engagement(s, "acme", "q4")
        other_engagement, _ = upload(s, elsewhere, "exec-1.m4a", "audio-1")
        s.commit()
    assert (created, created_again, again.id) == (True, False, copy.id)
    assert (copy.state, copy.duplicate_of_id) == ("duplicate", first.id)
    assert "exec-1.m4a" in copy.reason
    assert (first.state, first.duplicate_of_id) == ("pending", None)
    # Duplicates are found within an engagement; another engagement's copy is its own work
    # (find_transcript still reuses the transcription).
    assert (other_engagement.state, other_engagement.duplicate_of_id) == ("pending", None)


def test_same_content_under_two_keys_at_once_has_one_original(sessions, engagement) -> None:
    def deliver(i: int) -> str:
        with sessions() as s:
            interview, _ = upload(s, engagement, f"exec-{i}.m4a", "audio-1")
            s.commit()
            return interview.state

    assert sorted(concurrently(4, deliver)) == ["duplicate", "duplicate", "duplicate", "pending"]


def test_a_corrected_reupload_is_a_new_interview(sessions, engagement) -> None:
    with sessions() as s:
        first, _ = upload(s, engagement, "exec-1.m4a", "audio-1")
        db.set_state(s, first, "quarantined", reason="the recording is silent")
        s.commit()
        corrected, created = upload(s, engagement, "exec-1.m4a", "audio-1-fixed")
        s.commit()
    assert created and corrected.id != first.id
    assert (corrected.state, corrected.key) == ("pending", first.key)
    with sessions() as s:
        assert s.get(db.Interview, first.id).state == "quarantined"


def test_register_upload_refuses_a_malformed_hash(sessions, engagement) -> None:
    with sessions() as s, pytest.raises(db.InvalidValueError, match="64 lower-case hex"):
        db.register_upload(s, engagement, bucket=BUCKET, key="inbox/acme/q3-pricing/a.m4a",
                           file="a.m4a", sha256="ABC", size=1)


# -- states -------------------------------------------------------------------------------------

def test_set_state_updates_and_logs(sessions, engagement) -> None:
    with sessions() as s:
        interview, _ = upload(s, engagement, "exec-1.m4a", "audio-1")
        s.commit()
        registered_at = interview.updated_at
        db.set_state(s, interview, "quarantined", reason="the recording is silent",
                     quarantine_key="quarantine/acme/q3-pricing/exec-1.m4a", duration_s=12.5)
        s.commit()
    with sessions() as s:
        row = s.get(db.Interview, interview.id)
        events = s.scalars(sa.select(db.Event).where(db.Event.interview_id == interview.id)
                           .order_by(db.Event.id)).all()
    assert (row.state, row.reason, row.duration_s) == ("quarantined", "the recording is silent",
                                                       12.5)
    assert row.quarantine_key == "quarantine/acme/q3-pricing/exec-1.m4a"
    assert row.updated_at >= registered_at and row.updated_at.tzinfo is UTC
    assert [e.kind for e in events] == ["registered", "state"]
    assert events[1].detail["from"] == "pending" and events[1].detail["to"] == "quarantined"
    assert events[1].detail["fields"]["duration_s"] == 12.5
    assert events[1].engagement_id == engagement.id


def test_set_state_refuses_unknown_states_and_fields(sessions, engagement) -> None:
    with sessions() as s:
        interview, _ = upload(s, engagement, "exec-1.m4a", "audio-1")
        with pytest.raises(db.InvalidValueError, match="unknown interview state"):
            db.set_state(s, interview, "done")
        with pytest.raises(db.InvalidValueError, match="colour"):
            db.set_state(s, interview, "failed", colour="red")
        assert interview.state == "pending"


def test_claim_pending_takes_pending_and_failed_oldest_first(sessions, engagement) -> None:
    with sessions() as s:
        rows = [upload(s, engagement, f"exec-{i}.m4a", f"audio-{i}")[0] for i in range(5)]
        upload(s, engagement, "copy.m4a", "audio-0")  # a duplicate: never claimed
        for age, row in enumerate(reversed(rows)):  # exec-4 oldest ... exec-0 newest
            row.created_at = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=age)
        db.set_state(s, rows[3], "failed", reason="model missing")
        db.set_state(s, rows[2], "transcribed")
        s.commit()
    with sessions() as s:
        first = db.claim_pending(s, limit=2)
        rest = db.claim_pending(s)
        none = db.claim_pending(s)
    assert [r.file for r in first] == ["exec-4.m4a", "exec-3.m4a"]
    assert [r.file for r in rest] == ["exec-1.m4a", "exec-0.m4a"]
    assert none == []
    with sessions() as s:
        claimed = s.scalars(sa.select(db.Interview).where(db.Interview.state == "transcribing")
                            ).all()
    assert sorted(r.file for r in claimed) == ["exec-0.m4a", "exec-1.m4a", "exec-3.m4a",
                                               "exec-4.m4a"]
    assert {r.attempts for r in claimed} == {1}
    assert {r.reason for r in claimed} == {None}


def test_two_workers_never_claim_the_same_interview(sessions, engagement) -> None:
    with sessions() as s:
        for i in range(40):
            upload(s, engagement, f"exec-{i}.m4a", f"audio-{i}")
        s.commit()

    def worker(_: int) -> list[int]:
        mine: list[int] = []
        with sessions() as s:
            while batch := db.claim_pending(s, limit=3):
                mine += [r.id for r in batch]
        return mine

    first, second = concurrently(2, worker)
    assert not set(first) & set(second)
    assert len(first) + len(second) == 40
    with sessions() as s:
        assert set(s.scalars(sa.select(db.Interview.attempts)).all()) == {1}


# -- transcripts --------------------------------------------------------------------------------

IDENTITY = {"sha256": sha("audio-1"), "engine": "faster-whisper", "model_sha256": sha("base"),
            "options_hash": "0123456789abcdef"}


def transcript(session: Session, **identity: str) -> db.Transcript:
    return db.record_transcript(
        session, **{**IDENTITY, **identity}, model="base.en",
        outputs={"txt": "processed/acme/q3-pricing/exec-1.txt"}, language="en",
        duration_s=61.5, flags=[{"kind": "low-confidence", "start": 1.0, "end": 2.0}])


def test_find_transcript_needs_all_four_identity_fields(sessions) -> None:
    with sessions() as s:
        stored = transcript(s)
        s.commit()
    with sessions() as s:
        found = db.find_transcript(s, **IDENTITY)
        assert found is not None and found.id == stored.id
        assert found.outputs == {"txt": "processed/acme/q3-pricing/exec-1.txt"}
        assert found.flags[0]["kind"] == "low-confidence"
        for field in IDENTITY:
            assert db.find_transcript(s, **{**IDENTITY, field: sha("other")}) is None, field


def test_record_transcript_keeps_the_first(sessions) -> None:
    def store(_: int) -> int:
        with sessions() as s:
            row = transcript(s)
            s.commit()
            return row.id

    assert len(set(concurrently(4, store))) == 1
    with sessions() as s:
        transcript(s, options_hash="fedcba9876543210")
        s.commit()
        assert count(s, db.Transcript) == 2
