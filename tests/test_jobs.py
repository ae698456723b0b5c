"""Jobs, deliveries and the ledger on a real database (SQLite and PostgreSQL): the issue's
worked example to the cent, exactly-once deliveries under concurrency, a vendor who
disappears, and a question that stops the clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pptx import Presentation

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def make_deck(path: Path, slides: int, *, hidden: int = 0, title: str = "Finding") -> Path:
    prs = Presentation()
    for i in range(slides):
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = f"{title} {i + 1}"
        slide.placeholders[1].text = "What the executives said"
    for i in range(hidden):
        prs.slides[i]._element.set("show", "0")
    prs.save(str(path))
    return path


@pytest.fixture
def sessions(database_url):
    from flows import db

    db.migrate(database_url)
    factory = db.session_factory(database_url)
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture
def job(sessions):
    """A posted job for acme/market-entry with three vendors' bids, the best one chosen."""
    from flows import db, jobs

    with sessions() as s:
        eng = db.get_or_create_engagement(s, "acme", "market-entry",
                                          defaults={"turnaround_hours": 24, "currency": "USD"})
        eng.job_id = "job-0123456789"
        eng.target_slides = 12
        jobs.add_vendor(s, "slidefast", name="SlideFast", rating=Decimal("4.6"),
                        slide_rate_cents=1100, currency="USD")
        jobs.add_vendor(s, "cheapdeck", name="CheapDeck", rating=Decimal("3.2"),
                        slide_rate_cents=700, currency="USD")
        jobs.add_vendor(s, "eurodeck", name="EuroDeck", rating=Decimal("4.9"),
                        slide_rate_cents=800, currency="EUR", timezone="Europe/Berlin")
        jobs.add_vendor(s, "backup", name="Backup", rating=Decimal("4.2"),
                        slide_rate_cents=1200, currency="USD")
        job = jobs.post_job(s, eng, at=T0 - timedelta(hours=2))
        assert jobs.post_job(s, eng, at=T0).id == job.id  # posting twice: the same job
        jobs.add_bid(s, job, "slidefast", slide_rate_cents=1100, turnaround_hours=20,
                     at=T0 - timedelta(hours=1))
        jobs.add_bid(s, job, "cheapdeck", slide_rate_cents=700, turnaround_hours=12,
                     at=T0 - timedelta(hours=1))
        jobs.add_bid(s, job, "eurodeck", slide_rate_cents=800, turnaround_hours=12,
                     at=T0 - timedelta(hours=1))
        jobs.add_bid(s, job, "backup", slide_rate_cents=1150, turnaround_hours=30,
                     at=T0 - timedelta(hours=1))
        choice = jobs.choose(s, job, at=T0 - timedelta(minutes=30))
        assert choice.winner.vendor == "slidefast"
        rejected = {r.bid.vendor: r.reason.value for r in choice.rejected}
        assert rejected == {"cheapdeck": "rating-too-low", "eurodeck": "other-currency",
                            "backup": "too-slow"}
        assert (job.state, job.slide_rate_cents) == ("assigned", 1100)
        assert "$11.00" in job.choice_reason
        jobs.hand_off(s, job, at=T0)
        s.commit()
        return job.public_id


def assert_reports_agree(sessions, month: str | None = None) -> None:
    """The database's GROUP BY reports say what the pure reports say over the job facts."""
    from flows import jobs
    from pricing import reports

    with sessions() as s:
        facts = jobs.job_facts(s, month=month)
        for by, pure in (("engagement", reports.by_engagement), ("vendor", reports.by_vendor),
                         ("month", reports.by_month)):
            assert jobs.report(s, by, month=month) == pure(facts), by


def assert_rollups_match_entries(sessions) -> None:
    """The rollups kept entry by entry equal the ones recomputed from the whole ledger."""
    from flows import db, jobs

    def snapshot(s):
        return sorted((r.job_id, r.vendor_id, r.month, r.currency, r.cents, r.slides,
                       r.deliveries, r.late, r.last_delivery_at)
                      for r in s.query(db.LedgerRollup))

    with sessions() as s:
        kept = snapshot(s)
        jobs.rebuild_rollups(s)
        assert snapshot(s) == kept
        s.rollback()


def ledger(sessions) -> list[tuple[str, int, int]]:
    from flows import jobs

    with sessions() as s:
        return [(e.kind, e.amount_cents, e.slides) for e in jobs.ledger_entries(s)]


def test_the_worked_example_to_the_cent(sessions, job, tmp_path):
    from flows import jobs

    deck = make_deck(tmp_path / "deck.pptx", 13, hidden=1)  # 12 billable
    with sessions() as s:
        j = jobs.find_job(s, job)
        delivery, report, created = jobs.deliver(s, j, deck, at=T0 + timedelta(hours=26,
                                                                               minutes=10))
        assert (created, report.billable_slides, delivery.number) == (True, 12, 1)
        for slides in (2, 3, 4):  # rounds 1 and 2 are free; round 3 touches 4 slides
            jobs.request_revision(s, j, slides_touched=slides, at=T0 + timedelta(hours=30))
            revised = make_deck(tmp_path / f"r{slides}.pptx", 13, hidden=1,
                                title=f"Round {slides}")
            assert jobs.deliver(s, j, revised, at=T0 + timedelta(hours=31))[2]
        jobs.approve(s, j, at=T0 + timedelta(hours=40))
        jobs.settle(s, j, "invoice", at=T0 + timedelta(days=2))
        s.commit()
    assert ledger(sessions) == [("charge", 13200, 12), ("late_credit", -1980, 0),
                                ("revision_charge", 2000, 4)]
    with sessions() as s:
        [fact] = jobs.job_facts(s, month="2026-11")
        assert (fact.cost.cents, fact.billable_slides, fact.on_time, fact.revisions) == (
            13220, 12, False, 3)
        assert jobs.find_job(s, job).state == "invoiced"
        [row] = jobs.report(s, "vendor", month="2026-11")
        assert (row.key, row.cost.cents, row.cost_per_slide.cents, row.on_time_share) == (
            "slidefast", 13220, 1102, 0)
    assert_reports_agree(sessions)
    assert_reports_agree(sessions, "2026-11")
    assert_rollups_match_entries(sessions)


def test_a_hundred_concurrent_deliveries_of_one_deck_charge_once(sessions, job, tmp_path):
    from flows import db, jobs

    deck = make_deck(tmp_path / "deck.pptx", 10)
    outcomes: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def deliver_many(n: int) -> None:
        try:
            start.wait()
            for _ in range(n):
                with sessions() as s:
                    _, _, created = jobs.deliver(s, jobs.find_job(s, job), deck,
                                                 at=T0 + timedelta(hours=5))
                    s.commit()
                    outcomes.append(created)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=deliver_many, args=(5,)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(outcomes) == 100 and outcomes.count(True) == 1
    assert ledger(sessions) == [("charge", 11000, 10)]
    assert_rollups_match_entries(sessions)
    with sessions() as s:
        assert s.query(db.Delivery).count() == 1
        assert [e.kind for e in s.query(db.JobEvent).filter_by(kind="delivered")] == [
            "delivered"]


def test_a_vanished_vendor_is_paid_for_accepted_slides_and_the_job_moves_on(
        sessions, job, tmp_path):
    from flows import jobs

    with sessions() as s:
        j = jobs.find_job(s, job)
        jobs.reassign(s, j, "backup", slide_rate_cents=1200, accepted_slides=5,
                      at=T0 + timedelta(hours=20))
        assert (j.state, j.vendor.slug, j.handed_off_at) == ("assigned", "backup", None)
        jobs.hand_off(s, j, at=T0 + timedelta(hours=21))
        jobs.deliver(s, j, make_deck(tmp_path / "d.pptx", 12), at=T0 + timedelta(hours=40))
        s.commit()
    # the new vendor is paid for the 7 slides it added, not again for the 5 already paid
    assert ledger(sessions) == [("charge", 5500, 5), ("charge", 8400, 7)]
    with sessions() as s:
        facts = {f.vendor: f for f in jobs.job_facts(s)}
        assert facts["slidefast"].on_time is None and facts["slidefast"].cost.cents == 5500
        assert facts["backup"].on_time is True and facts["backup"].cost.cents == 8400
    assert_reports_agree(sessions)
    assert_rollups_match_entries(sessions)


def test_a_job_taken_from_the_same_vendor_twice_pays_only_new_accepted_slides(sessions, job):
    from flows import jobs

    with sessions() as s:
        j = jobs.find_job(s, job)
        at = T0 + timedelta(hours=20)
        jobs.reassign(s, j, "backup", slide_rate_cents=1200, accepted_slides=5, at=at)
        jobs.reassign(s, j, "slidefast", slide_rate_cents=1100, accepted_slides=0, at=at)
        jobs.reassign(s, j, "backup", slide_rate_cents=1200, accepted_slides=9, at=at)
        with pytest.raises(jobs.JobError, match="already theirs"):
            jobs.reassign(s, j, "backup", slide_rate_cents=1200, accepted_slides=9, at=at)
        s.rollback()
    with sessions() as s:
        j = jobs.find_job(s, job)
        for vendor, accepted in (("backup", 5), ("slidefast", 0), ("backup", 9)):
            jobs.reassign(s, j, vendor, slide_rate_cents=1100 if vendor == "slidefast" else 1200,
                          accepted_slides=accepted, at=T0 + timedelta(hours=20))
        s.commit()
    assert ledger(sessions) == [("charge", 5500, 5), ("charge", 4400, 4)]
    assert_rollups_match_entries(sessions)


def test_a_question_stops_the_clock_until_answered(sessions, job, tmp_path):
    from flows import jobs

    with sessions() as s:
        j = jobs.find_job(s, job)
        jobs.question(s, j, at=T0 + timedelta(hours=3), text="Which logo?")
        assert jobs.due(s, j, now=T0 + timedelta(hours=5)) == T0 + timedelta(hours=26)
        jobs.answer(s, j, at=T0 + timedelta(hours=6))
        assert jobs.due(s, j, now=T0 + timedelta(hours=7)) == T0 + timedelta(hours=27)
        # delivered 26 h 30 min after handoff: inside the 24 h + 3 h paused
        jobs.deliver(s, j, make_deck(tmp_path / "d.pptx", 3), at=T0 + timedelta(hours=26.5))
        s.commit()
    assert ledger(sessions) == [("charge", 3300, 3)]


def test_a_refused_deck_changes_nothing_and_a_replayed_entry_is_one(sessions, job, tmp_path):
    import zipfile

    from deck_builder.errors import DeckRefusedError
    from flows import jobs
    from pricing.ledger import entries_for_delivery
    from pricing.money import Money

    good = make_deck(tmp_path / "good.pptx", 4)
    bad = tmp_path / "bad.pptx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("ppt/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 64)
    with sessions() as s:
        j = jobs.find_job(s, job)
        with pytest.raises(DeckRefusedError):
            jobs.deliver(s, j, bad, at=T0 + timedelta(hours=2))
        assert j.state == "assigned"
        entries = entries_for_delivery(job, "slidefast", delivery_no=1, billable_slides=4,
                                       rate=Money(1100, "USD"), deadline=T0 + timedelta(
                                           hours=24), delivered_at=T0 + timedelta(hours=2))
        assert jobs._append(s, j, entries) == 1
        assert jobs._append(s, j, entries) == 0  # a replay
        other = entries_for_delivery(job, "slidefast", delivery_no=1, billable_slides=5,
                                     rate=Money(1100, "USD"), deadline=T0 + timedelta(hours=24),
                                     delivered_at=T0 + timedelta(hours=2))
        with pytest.raises(jobs.JobError, match="reversal"):
            jobs._append(s, j, other)
        s.commit()
    assert ledger(sessions) == [("charge", 4400, 4)]
