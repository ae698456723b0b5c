"""A simulated engagement of 50 interviews, from transcripts to finance: the brief handed off,
bids, a vendor who disappears, a late delivery, revisions, and the ledger, late flags,
reports, chart and statement that come out, to the cent, on SQLite and PostgreSQL.

The 50 interviews carry one real transcript (the shared call, transcribed once per session)
under 50 recordings' identities, so the brief is built from real speech without 50
transcriptions."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from docx import Document

from tests.test_jobs import make_deck

pytestmark = pytest.mark.slow

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REF = "globex/ops-review"
N = 50


@pytest.fixture(scope="session")
def call_transcript(tiny, audio_dir) -> str:
    return tiny.transcribe(audio_dir / "pyannote-sample.wav").to_json()


@pytest.fixture
def engagement(pipeline, call_transcript):
    """50 transcribed interviews of globex/ops-review, as the pipeline would leave them."""
    from flows import db
    from flows.engagement import engagement_defaults

    rt = pipeline
    rt.bucket.write_bytes(f"inbox/{REF}/engagement.yaml", b"expected_interviews: 50\n"
                          b"target_slides: 20\nquestions: [Where are you from?]\n"
                          b"redact_terms: [Globex, New Jersey]\n")
    with rt.sessions() as s:
        eng = db.get_or_create_engagement(s, *REF.split("/"), defaults=engagement_defaults(rt))
        eng.expected_interviews, eng.target_slides = N, 20
        eng.questions, eng.redact_terms = ["Where are you from?"], ["Globex", "New Jersey"]
        for i in range(N):
            sha = f"{i:064x}"
            iv, _ = db.register_upload(s, eng, bucket=rt.bucket.url,
                                       key=f"inbox/{REF}/exec-{i:02d}.m4a",
                                       file=f"exec-{i:02d}.m4a", sha256=sha, size=1000 + i)
            key = f"processed/{REF}/exec-{i:02d}.json"
            rt.bucket.write_bytes(key, call_transcript.encode())
            t = db.record_transcript(s, sha256=sha, engine="faster-whisper", model="tiny.en",
                                     model_sha256="0" * 64, options_hash="sim",
                                     outputs={"json": key}, language="en", duration_s=30.0,
                                     flags=[])
            db.set_state(s, iv, "transcribing")
            db.set_state(s, iv, "transcribed", transcript_id=t.id, duration_s=30.0)
        s.commit()
    return rt


def test_fifty_interviews_from_brief_to_finance(engagement, tmp_path):
    from flows import db, jobs
    from flows.brief import build_engagement_brief, reissue_for_job
    from pricing import reports

    rt = engagement
    first = build_engagement_brief(rt, REF, preview=False)
    assert (first.version, first.interviews) == (1, N)
    with rt.sessions() as s:
        eng = s.query(db.Engagement).one()
        jobs.add_vendor(s, "slidefast", name="SlideFast", rating="4.6", slide_rate_cents=1100,
                        currency="USD", timezone="Asia/Manila")
        jobs.add_vendor(s, "deckpros", name="DeckPros", rating="4.3", slide_rate_cents=1200,
                        currency="USD", timezone="Europe/Berlin")
        job = jobs.post_job(s, eng, at=T0 - timedelta(hours=3))
        jobs.add_bid(s, job, "slidefast", slide_rate_cents=1050, turnaround_hours=24,
                     at=T0 - timedelta(hours=2))
        jobs.add_bid(s, job, "deckpros", slide_rate_cents=1200, turnaround_hours=20,
                     at=T0 - timedelta(hours=2))
        assert jobs.choose(s, job, at=T0 - timedelta(hours=1)).winner.vendor == "slidefast"
        public_id = job.public_id
        s.commit()

    issued = reissue_for_job(rt, public_id)  # the vendor's terms, its time zone
    assert (issued.version, issued.built) == (2, True)
    spec = json.loads(rt.bucket.read_bytes(f"{issued.prefix}/job-spec.json"))
    assert (spec["price_per_slide_cents"], spec["vendor"], spec["estimated_total_cents"]) == (
        1050, "SlideFast", 21000)
    assert spec["deadline_timezone"] == "Asia/Manila" and spec["deadline_local"].endswith(
        "+08:00")

    with rt.sessions() as s:
        job = jobs.find_job(s, public_id)
        jobs.hand_off(s, job, at=T0)
        # SlideFast delivers a first cut of 8 slides, then disappears
        jobs.deliver(s, job, make_deck(tmp_path / "cut.pptx", 8), at=T0 + timedelta(hours=10))
        jobs.request_revision(s, job, slides_touched=3, at=T0 + timedelta(hours=11))
        jobs.reassign(s, job, "deckpros", slide_rate_cents=1200, accepted_slides=8,
                      at=T0 + timedelta(hours=30))
        jobs.hand_off(s, job, at=T0 + timedelta(hours=31))
        jobs.question(s, job, at=T0 + timedelta(hours=33), text="Which quotes first?")
        jobs.answer(s, job, at=T0 + timedelta(hours=34))
        # due 31 + 24 + 1 (paused) = T0+56h; delivered at T0+58h05 -> 3 started hours late
        deck = make_deck(tmp_path / "final.pptx", 21, hidden=1)  # 20 billable
        jobs.deliver(s, job, deck, at=T0 + timedelta(hours=58, minutes=5))
        jobs.request_revision(s, job, slides_touched=2, at=T0 + timedelta(hours=60))
        jobs.deliver(s, job, make_deck(tmp_path / "v2.pptx", 20, title="Revised"),
                     at=T0 + timedelta(hours=62))
        jobs.auto_approve_due(s, now=T0 + timedelta(days=6), days=3)
        assert job.state == "approved"
        s.commit()
        ledger = [(e.kind, e.amount_cents, e.slides)
                  for e in jobs.ledger_entries(s, month="2026-11")]
        facts = {f.vendor: f for f in jobs.job_facts(s, month="2026-11")}
        by_vendor = jobs.report(s, "vendor", month="2026-11")
        by_engagement = jobs.report(s, "engagement", month="2026-11")
        statement = jobs.ledger_values(s, month="2026-11", vendor_slug="deckpros")
    # 8 slides x $10.50 to the vanished vendor; 12 new slides x $12.00 to the new one,
    # 15 % off for 3 started hours late; both revision rounds free
    assert ledger == [("charge", 8400, 8), ("charge", 14400, 12), ("late_credit", -2160, 0)]
    # the first cut came within its 24 h; the final deck 3 started hours late
    assert facts["slidefast"].on_time is True and facts["deckpros"].on_time is False
    assert [(r.key, r.cost.cents, r.slides) for r in by_vendor] == [
        ("deckpros", 12240, 12), ("slidefast", 8400, 8)]
    [row] = by_engagement
    assert (row.key, row.cost.cents, row.slides, row.cost_per_slide.cents, row.revisions) == (
        REF, 20640, 20, 1032, 2)

    chart = tmp_path / "chart.png"
    reports.chart_png(list(facts.values()), chart)
    assert chart.read_bytes().startswith(b"\x89PNG")
    doc = tmp_path / "deckpros.docx"
    reports.vendor_statement_docx("deckpros", "2026-11", statement, doc)
    text = "\n".join(c.text for t in Document(str(doc)).tables for r in t.rows for c in r.cells)
    assert "$122.40" in text and "-$21.60" in text

    with zipfile.ZipFile(io.BytesIO(rt.bucket.read_bytes(issued.zip_key))) as z:
        names = z.namelist()
    assert sum(n.endswith(".docx") for n in names) == N

