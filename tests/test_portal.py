"""The portal over HTTP (Starlette's TestClient on the real app), on a real SQLite file and a
real PostgreSQL, with a real bucket folder: who sees what, the walls between clients, and the
hard edges — CSRF, upload size and type, path traversal, session expiry, sign-in limits — and
the audit log that records all of it and cannot be changed.

The browser walk-through (Chromium) is in test_portal_browser.py.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from flows import accounts, db, jobs
from flows.settings import Settings
from portal import create_app
from tests.test_cli_jobs import macro_deck
from tests.test_jobs import make_deck

PASSWORD = "correct horse battery staple"
ACME, GLOBEX = "acme/market-entry", "globex/pricing"
ACME_JOB, GLOBEX_JOB = "job-7f3a91c2e0", "job-2b8d44e1f9"


@dataclass
class World:
    url: str
    settings: Settings
    sessions: object
    bucket: Path
    app: object
    brief_bytes: dict[str, bytes]

    def client(self, email: str | None = None) -> TestClient:
        c = TestClient(self.app, follow_redirects=False)
        if email:
            sign_in(c, email)
        return c

    def audit(self, **where: str) -> list[db.AuditEvent]:
        with self.sessions() as s:
            q = sa.select(db.AuditEvent).order_by(db.AuditEvent.id)
            for k, v in where.items():
                q = q.where(getattr(db.AuditEvent, k) == v)
            return list(s.scalars(q))

    def job(self, public_id: str) -> db.Job:
        with self.sessions() as s:
            return s.scalars(sa.select(db.Job).where(db.Job.public_id == public_id)).one()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def sign_in(c: TestClient, email: str, password: str = PASSWORD):
    page = c.get("/login")
    r = c.post("/login", data={"csrf": csrf_of(page.text), "email": email,
                               "password": password, "next": "/"})
    assert r.status_code == 303, r.text
    return r


def brief_zip(job_id: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{job_id}-v1/manifest.json", json.dumps({"job": job_id}))
        z.writestr(f"{job_id}-v1/job-spec.md", "Build the deck.\n" * 2000)
    return buf.getvalue()


def _engagement(s, ref: str, job_id: str, vendor: str, bucket: Path) -> bytes:
    client, slug = ref.split("/")
    eng = db.get_or_create_engagement(s, client, slug, defaults={"turnaround_hours": 24,
                                                                "currency": "USD"})
    eng.job_id = job_id
    data = brief_zip(job_id)
    key = f"briefs/{ref}/v1.zip"
    (bucket / key).parent.mkdir(parents=True, exist_ok=True)
    (bucket / key).write_bytes(data)
    s.add(db.Brief(engagement_id=eng.id, version=1, job_id=job_id, inputs_sha256="0" * 64,
                   prefix=f"briefs/{ref}/v1", zip_key=key, zip_sha256="1" * 64, interviews=2,
                   slides=12))
    t0 = db.utcnow() - timedelta(hours=1)
    job = jobs.post_job(s, eng, at=t0)
    jobs.add_bid(s, job, vendor, slide_rate_cents=1100, turnaround_hours=24, at=t0)
    jobs.choose(s, job, at=t0)
    return data


@pytest.fixture
def world(tmp_path, database_url) -> World:
    bucket = tmp_path / "bucket"
    settings = Settings(home=tmp_path / "home", bucket=str(bucket), database_url=database_url,
                        max_upload_mb=1, sign_in_attempts=3)
    sessions = db.session_factory(database_url)
    with sessions() as s:
        for slug in ("slidefast", "bigdeck"):
            jobs.add_vendor(s, slug, name=slug.title(), rating=jobs.Decimal("4.8"),
                            slide_rate_cents=1100, currency="USD")
        briefs = {ACME_JOB: _engagement(s, ACME, ACME_JOB, "slidefast", bucket),
                  GLOBEX_JOB: _engagement(s, GLOBEX, GLOBEX_JOB, "bigdeck", bucket)}
        accounts.create_admin(s, email="root@firm.com", password=PASSWORD)
        engs = {e.client.slug: e for e in s.scalars(sa.select(db.Engagement))}
        for email, role, vendor, on in (
                ("ana@firm.com", "consultant", None, [engs["acme"]]),
                ("gus@firm.com", "consultant", None, [engs["globex"]]),
                ("sam@slidefast.com", "outtasker", "slidefast", []),
                ("bea@bigdeck.com", "outtasker", "bigdeck", []),
                ("fin@firm.com", "finance", None, [])):
            _, token = accounts.invite(s, email=email, role=role, by=None, vendor_slug=vendor,
                                       engagements=on, timezone="Asia/Singapore")
            accounts.accept_invite(s, token, password=PASSWORD)
        s.commit()
    w = World(database_url, settings, sessions, bucket, create_app(settings), briefs)
    yield w
    sessions.kw["bind"].dispose()
    w.app.state.portal.sessions.kw["bind"].dispose()


# -- signing in, sessions ------------------------------------------------------------------------
def test_anonymous_visitors_are_sent_to_sign_in_and_api_clients_get_401(world):
    c = world.client()
    r = c.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    page = c.get("/login")
    assert 'type="password"' in page.text and "<form" in page.text
    r = c.get(f"/jobs/{ACME_JOB}/brief")
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/jobs/{ACME_JOB}/brief"
    r = c.get(f"/jobs/{ACME_JOB}/brief", headers={"accept": "application/json"})
    assert r.status_code == 401 and r.json()["fix"]
    assert r.headers["x-frame-options"] == "DENY" and "default-src 'self'" in \
        r.headers["content-security-policy"]


def test_secrets_are_stored_hashed(world):
    c = world.client("sam@slidefast.com")
    cookie = c.cookies["outtask_session"]
    with world.sessions() as s:
        user = accounts.find_user(s, "sam@slidefast.com")
        assert PASSWORD not in user.password_hash and user.password_hash.startswith("scrypt$")
        stored = [w.token_sha256 for w in s.scalars(sa.select(db.WebSession))]
        assert cookie not in stored and accounts.token_digest(cookie) in stored
        assert all(len(i.token_sha256) == 64 for i in s.scalars(sa.select(db.Invite)))


def test_a_wrong_password_is_refused_and_the_limit_holds_even_for_the_right_one(world):
    c = world.client()
    for _ in range(3):
        page = c.get("/login")
        r = c.post("/login", data={"csrf": csrf_of(page.text), "email": "sam@slidefast.com",
                                   "password": "guess-guess-guess"})
        assert r.status_code == 401 and "wrong e-mail or password" in r.text
    page = c.get("/login")
    r = c.post("/login", data={"csrf": csrf_of(page.text), "email": "sam@slidefast.com",
                               "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "outtask_session" not in c.cookies
    # other accounts are not locked out by one account's failures
    sign_in(world.client(), "ana@firm.com")
    outcomes = [e.outcome for e in world.audit(action="sign-in", email="sam@slidefast.com")]
    assert outcomes == ["refused"] * 3 + ["limited"]


def test_sessions_expire_when_idle_at_their_end_and_on_sign_out(world):
    c = world.client("ana@firm.com")
    assert c.get("/engagements").status_code == 200
    with world.sessions() as s:  # 31 idle minutes
        s.execute(sa.update(db.WebSession).values(
            last_seen_at=db.utcnow() - timedelta(minutes=31)))
        s.commit()
    r = c.get("/engagements")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")

    c = world.client("ana@firm.com")
    with world.sessions() as s:  # past the absolute end, though just active
        s.execute(sa.update(db.WebSession).values(expires_at=db.utcnow()))
        s.commit()
    assert c.get("/engagements").status_code == 303

    c = world.client("ana@firm.com")
    stolen = c.cookies["outtask_session"]
    page = c.get("/engagements")
    assert c.post("/logout", data={"csrf": csrf_of(page.text)}).status_code == 303
    other = world.client()
    other.cookies.set("outtask_session", stolen)
    assert other.get("/engagements").status_code == 303


def test_a_disabled_account_is_signed_out_everywhere(world):
    c = world.client("sam@slidefast.com")
    admin = world.client("root@firm.com")
    page = admin.get("/admin/users")
    with world.sessions() as s:
        uid = accounts.find_user(s, "sam@slidefast.com").id
    assert admin.post(f"/admin/users/{uid}/disable",
                      data={"csrf": csrf_of(page.text)}).status_code == 200
    assert c.get("/jobs").status_code == 303
    page = world.client().get("/login")
    r = world.client().post("/login", data={"csrf": csrf_of(page.text),
                                            "email": "sam@slidefast.com", "password": PASSWORD})
    assert r.status_code in (401, 403)


# -- CSRF ----------------------------------------------------------------------------------------
def test_every_form_needs_its_csrf_token(world):
    sign_in_page = world.client().get("/login")
    anon = world.client()
    r = anon.post("/login", data={"email": "ana@firm.com", "password": PASSWORD})
    assert r.status_code == 403
    r = anon.post("/login", data={"csrf": csrf_of(sign_in_page.text), "email": "ana@firm.com",
                                  "password": PASSWORD})
    assert r.status_code == 403  # a token without its cookie (another browser's) is refused

    sam, ana = world.client("sam@slidefast.com"), world.client("ana@firm.com")
    deck = make_deck(world.bucket.parent / "deck.pptx", 3)
    for path, data, files in (
            (f"/jobs/{ACME_JOB}/deck", {}, {"deck": ("deck.pptx", deck.read_bytes())}),
            (f"/jobs/{ACME_JOB}/deck", {"csrf": "forged"},
             {"deck": ("deck.pptx", deck.read_bytes())}),
            ("/logout", {"csrf": ""}, None)):
        assert sam.post(path, data=data, files=files).status_code == 403, path
    assert world.job(ACME_JOB).state == "assigned"
    # the right token from a foreign site is refused too
    page = ana.get(f"/jobs/{ACME_JOB}")
    r = ana.post(f"/jobs/{ACME_JOB}/revision", data={"csrf": csrf_of(page.text),
                                                     "slides_touched": "2"},
                 headers={"origin": "https://evil.example"})
    assert r.status_code == 403
    # and sam's token does not work in ana's session
    sam_page = sam.get(f"/jobs/{ACME_JOB}")
    r = ana.post(f"/jobs/{ACME_JOB}/approve", data={"csrf": csrf_of(sam_page.text)})
    assert r.status_code == 403


# -- walls between clients ---------------------------------------------------------------------
def test_another_clients_material_is_404_whatever_the_url(world):
    sam, ana, gus, fin = (world.client(e) for e in (
        "sam@slidefast.com", "ana@firm.com", "gus@firm.com", "fin@firm.com"))
    missing = sam.get("/jobs/job-nonexistent/brief")
    assert missing.status_code == 404
    for c, path in (
            (sam, f"/jobs/{GLOBEX_JOB}/brief"), (sam, f"/jobs/{GLOBEX_JOB}"),
            (sam, f"/jobs/{GLOBEX_JOB}/deliveries/1/deck"), (sam, f"/engagements/{ACME}"),
            (sam, "/finance"), (sam, "/audit"), (sam, "/admin/users"),
            (gus, f"/engagements/{ACME}"), (gus, f"/engagements/{ACME}/briefs/1.zip"),
            (gus, f"/engagements/{ACME}/quotes?q=pricing"),
            (sam, f"/engagements/{ACME}/quotes?q=pricing"),
            (gus, f"/jobs/{ACME_JOB}/brief"), (gus, f"/jobs/{ACME_JOB}"),
            (fin, f"/jobs/{ACME_JOB}/brief"), (fin, f"/engagements/{ACME}"),
            (ana, f"/engagements/{GLOBEX}/briefs/1.zip"), (ana, "/admin/users"),
            (world.client("root@firm.com"), f"/engagements/{ACME}")):
        r = c.get(path)
        assert r.status_code == 404, path
        assert r.text.count("Not found") == missing.text.count("Not found")
        assert "globex" not in r.text.lower() or "globex" in path
    # posting to another client's job is 404 too, and changes nothing
    page = gus.get(f"/jobs/{GLOBEX_JOB}")
    assert gus.post(f"/jobs/{ACME_JOB}/approve", data={"csrf": csrf_of(page.text)}
                    ).status_code == 404
    # the out-tasker sees only their vendor's job, by its opaque id, never the client
    listing = sam.get("/jobs").text
    assert ACME_JOB in listing and GLOBEX_JOB not in listing and "acme" not in listing.lower()
    assert "acme" not in sam.get(f"/jobs/{ACME_JOB}").text.lower()
    denied = world.audit(outcome="denied")
    assert len(denied) >= 18 and any(e.target == f"job {GLOBEX_JOB}" and e.client_id
                                     for e in denied)


def test_no_path_traversal_in_any_download(world):
    ana = world.client("ana@firm.com")
    secret = world.bucket.parent / "secret.txt"
    secret.write_text("not for download")
    for path in ("/jobs/..%2F..%2Fsecret.txt/brief", "/jobs/%2e%2e/brief",
                 "/engagements/acme/..%2F..%2F..%2Fsecret.txt/briefs/1.zip",
                 f"/engagements/{ACME}/briefs/..%2F..%2Fsecret.txt.zip",
                 f"/engagements/{ACME}/interviews/..%2F1/transcript.txt",
                 f"/jobs/{ACME_JOB}/deliveries/..%2F..%2Fsecret/deck",
                 "/static/..%2F..%2F..%2Fsecret.txt", "/static/../app.py"):
        r = ana.get(path)
        assert r.status_code in (404, 422), path
        assert "not for download" not in r.text and "import" not in r.text


# -- out-tasker: brief and deck ------------------------------------------------------------------
def test_the_brief_streams_through_the_portal_and_starts_the_clock(world):
    sam = world.client("sam@slidefast.com")
    assert world.job(ACME_JOB).handed_off_at is None
    assert "starts when the brief is downloaded" in sam.get("/jobs").text
    r = sam.get(f"/jobs/{ACME_JOB}/brief")
    assert r.status_code == 200 and r.content == world.brief_bytes[ACME_JOB]
    assert r.headers["content-disposition"] == f'attachment; filename="{ACME_JOB}-v1.zip"'
    job = world.job(ACME_JOB)
    assert job.handed_off_at is not None
    page = sam.get(f"/jobs/{ACME_JOB}").text
    assert "SGT" in page or "+08" in page  # the deadline in the out-tasker's zone
    assert re.search(r"2[34] h \d\d min left", page)
    sam.get(f"/jobs/{ACME_JOB}/brief")  # a second download keeps the first handoff
    assert world.job(ACME_JOB).handed_off_at == job.handed_off_at
    downloads = world.audit(action="download-brief")
    assert [e.email for e in downloads] == ["sam@slidefast.com"] * 2
    assert downloads[0].client_id is not None and downloads[0].detail["version"] == 1


def _upload(c: TestClient, job_id: str, name: str, data: bytes, **kw):
    page = c.get(f"/jobs/{job_id}")
    return c.post(f"/jobs/{job_id}/deck", data={"csrf": csrf_of(page.text)},
                  files={"deck": (name, data)}, **kw)


def test_a_passing_deck_is_delivered_stored_and_billed_once(world, tmp_path):
    sam = world.client("sam@slidefast.com")
    sam.get(f"/jobs/{ACME_JOB}/brief")
    deck = make_deck(tmp_path / "deck.pptx", 6, hidden=1).read_bytes()
    r = _upload(sam, ACME_JOB, "../../../etc/evil.pptx", deck)
    assert r.status_code == 303 and r.headers["location"] == f"/jobs/{ACME_JOB}?delivered=1"
    page = sam.get(r.headers["location"]).text
    assert "Delivery 1 recorded: 5 billable slides" in page
    with world.sessions() as s:
        d = s.scalars(sa.select(db.Delivery)).one()
        assert d.deck_key.startswith(f"decks/{ACME}/{ACME_JOB}/") and ".." not in d.deck_key
        assert (world.bucket / d.deck_key).read_bytes() == deck
        cents = [e.amount_cents for e in s.scalars(sa.select(db.LedgerEntry))]
    assert cents == [5 * 1100]
    assert not (world.bucket.parent.parent / "etc" / "evil.pptx").exists()
    # the same deck again (a double click, a retry) is the same delivery, billed once
    assert _upload(sam, ACME_JOB, "deck.pptx", deck).status_code == 303
    with world.sessions() as s:
        assert [e.amount_cents for e in s.scalars(sa.select(db.LedgerEntry))] == [5500]
    assert sam.get(f"/jobs/{ACME_JOB}/deliveries/1/deck").content == deck
    assert world.job(ACME_JOB).state == "delivered"


def test_a_refused_deck_says_why_is_kept_in_quarantine_and_bills_nothing(world, tmp_path):
    sam = world.client("sam@slidefast.com")
    sam.get(f"/jobs/{ACME_JOB}/brief")
    good = make_deck(tmp_path / "deck.pptx", 4)
    bad = macro_deck(good, tmp_path / "macro.pptx").read_bytes()
    r = _upload(sam, ACME_JOB, "final.pptx", bad)
    assert r.status_code == 422 and "The deck was refused" in r.text and "What to do" in r.text
    kept = list((world.bucket / "quarantine" / "acme" / "market-entry" / "decks").iterdir())
    assert sorted(p.suffix for p in kept) == [".json", ".pptx"]
    with world.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(db.LedgerEntry)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(db.Delivery)) == 0
    assert world.job(ACME_JOB).state == "assigned"
    (e,) = world.audit(action="upload-deck")
    assert e.outcome == "refused" and e.detail["reason"]


def test_upload_size_and_type_limits(world, tmp_path):
    sam = world.client("sam@slidefast.com")
    sam.get(f"/jobs/{ACME_JOB}/brief")
    r = _upload(sam, ACME_JOB, "big.pptx", b"PK\x03\x04" + b"\0" * (2 << 20))
    assert r.status_code == 413 and "larger than 1 MB" in r.text

    def chunked():  # no Content-Length: counted as it arrives
        page = sam.get(f"/jobs/{ACME_JOB}")
        yield (f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
               f'{csrf_of(page.text)}\r\n--b\r\nContent-Disposition: form-data; name="deck"; '
               'filename="big.pptx"\r\n\r\n').encode()
        for _ in range(40):
            yield b"\0" * 65536
        yield b"\r\n--b--\r\n"

    r = sam.post(f"/jobs/{ACME_JOB}/deck", content=chunked(),
                 headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413
    r = _upload(sam, ACME_JOB, "notes.txt", b"hello")
    assert r.status_code == 415 and ".pptx" in r.text
    r = _upload(sam, ACME_JOB, "deck.pptx", b"%PDF-1.7 not a deck")
    assert r.status_code == 415
    assert world.job(ACME_JOB).state == "assigned"
    assert [e.outcome for e in world.audit(action="upload-deck")] == ["refused", "refused"]


# -- consultant: review --------------------------------------------------------------------------
def test_consultant_sees_the_engagement_and_asks_for_a_revision_then_approves(world, tmp_path):
    sam, ana = world.client("sam@slidefast.com"), world.client("ana@firm.com")
    sam.get(f"/jobs/{ACME_JOB}/brief")
    _upload(sam, ACME_JOB, "v1.pptx", make_deck(tmp_path / "a.pptx", 5).read_bytes())
    page = ana.get(f"/engagements/{ACME}").text
    assert "v1" in page and ACME_JOB in page and "delivered" in page
    assert ana.get(f"/engagements/{ACME}/briefs/1.zip").content == world.brief_bytes[ACME_JOB]
    page = ana.get(f"/jobs/{ACME_JOB}")
    r = ana.post(f"/jobs/{ACME_JOB}/revision", data={
        "csrf": csrf_of(page.text), "slides_touched": "2", "note": "Merge slides 3 and 4"})
    assert r.status_code == 303 and world.job(ACME_JOB).state == "revision_requested"
    assert "Merge slides 3 and 4" in sam.get(f"/jobs/{ACME_JOB}").text
    # approving now is a step the job cannot take: 409 with the reason
    r = ana.post(f"/jobs/{ACME_JOB}/approve", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 409
    _upload(sam, ACME_JOB, "v2.pptx", make_deck(tmp_path / "b.pptx", 5, title="F").read_bytes())
    page = ana.get(f"/jobs/{ACME_JOB}")
    assert ana.post(f"/jobs/{ACME_JOB}/approve", data={"csrf": csrf_of(page.text)}
                    ).status_code == 303
    assert world.job(ACME_JOB).state == "approved"
    actions = [(e.action, e.outcome) for e in world.audit(email="ana@firm.com")
               if e.action in ("approve", "request-revision")]
    assert actions == [("request-revision", "ok"), ("approve", "refused"), ("approve", "ok")]


# -- finance and the audit log ---------------------------------------------------------------------
def test_finance_sees_the_charge_downloads_csv_chart_statement_and_filters_the_audit(world,
                                                                                    tmp_path):
    sam = world.client("sam@slidefast.com")
    sam.get(f"/jobs/{ACME_JOB}/brief")
    _upload(sam, ACME_JOB, "d.pptx", make_deck(tmp_path / "d.pptx", 7).read_bytes())
    fin = world.client("fin@firm.com")
    page = fin.get("/finance").text
    assert ACME in page and "$77.00" in page
    csv_text = fin.get("/finance/report.csv?by=vendor").text
    assert csv_text.splitlines()[0].startswith("vendor,") and "slidefast,USD,1,7,77.00" in csv_text
    png = fin.get("/finance/chart.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    month = db.utcnow().strftime("%Y-%m")
    docx = fin.get(f"/finance/statement.docx?vendor=slidefast&month={month}")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert fin.get("/finance?month=2026-13").status_code == 400
    audit = fin.get("/audit?action=upload-deck").text
    assert "sam@slidefast.com" in audit and "download-brief" not in audit.split("<table")[1]
    rows = fin.get("/audit.csv?email=sam@slidefast.com").text.splitlines()
    assert rows[0].startswith("at,email,role,action") and len(rows) >= 4
    assert {e.action for e in world.audit(email="fin@firm.com")} >= {
        "view", "download-report", "download-statement"}


def test_the_audit_log_cannot_be_changed_or_deleted(world):
    world.client("ana@firm.com")
    with world.sessions() as s:
        for stmt in (sa.update(db.AuditEvent).values(action="nothing"),
                     sa.delete(db.AuditEvent)):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                s.execute(stmt)
            s.rollback()
        assert s.scalar(sa.select(sa.func.count()).select_from(db.AuditEvent)) > 0


# -- accounts ------------------------------------------------------------------------------------
def test_an_admin_invites_in_the_portal_and_the_link_sets_the_password_once(world):
    admin = world.client("root@firm.com")
    page = admin.get("/admin/users")
    r = admin.post("/admin/users", data={"csrf": csrf_of(page.text), "email": "Zoe@Firm.com",
                                         "role": "outtasker", "vendor": "", "timezone": "UTC"})
    assert r.status_code == 422 and "works for a vendor" in r.text
    r = admin.post("/admin/users", data={"csrf": csrf_of(page.text), "email": "Zoe@Firm.com",
                                         "role": "outtasker", "vendor": "bigdeck",
                                         "timezone": "Europe/Berlin"})
    link = re.search(r'id="invite-link">([^<]+)<', r.text).group(1)
    path = "/" + link.split("/", 3)[3]
    zoe = world.client()
    form = zoe.get(path)
    assert form.status_code == 200 and "zoe@firm.com" in form.text
    r = zoe.post(path, data={"csrf": csrf_of(form.text), "password": "short",
                             "confirm": "short"})
    assert r.status_code == 422 and "too short" in r.text
    r = zoe.post(path, data={"csrf": csrf_of(form.text), "password": PASSWORD,
                             "confirm": PASSWORD})
    assert r.status_code == 303
    assert GLOBEX_JOB in zoe.get("/jobs").text
    again = world.client()
    assert again.get(path).status_code == 404  # used
    sign_in(world.client(), "zoe@firm.com")


def test_users_commands(world, monkeypatch, tmp_path):
    from tests.test_cli_jobs import invoke

    monkeypatch.setenv("OUTTASK_DATABASE_URL", world.url)
    monkeypatch.setenv("OUTTASK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OUTTASK_PORTAL_URL", "https://portal.firm.com")
    from typer.testing import CliRunner

    from flows.cli import app

    ran = CliRunner().invoke(app, ["users", "create-admin", "--email", "boss@firm.com",
                                   "--password-stdin"], input=PASSWORD + "\n")
    assert ran.exit_code == 0, ran.output
    ran = CliRunner().invoke(app, ["users", "create-admin", "--email", "weak@firm.com",
                                   "--password-stdin"], input="short\n")
    assert ran.exit_code == 1 and "too short" in ran.output
    doc = invoke("users", "invite", "--email", "new@firm.com", "--role", "consultant",
                 "--engagement", ACME, "--json").json()
    assert doc["invite_url"].startswith("https://portal.firm.com/invite/")
    assert doc["engagements"] == [ACME]
    assert invoke("users", "invite", "--email", "x@firm.com", "--role", "pilot").code == 1
    assert invoke("users", "invite", "--email", "y@firm.com", "--role", "consultant",
                  "--engagement", "nobody/nothing").code == 2
    assert invoke("users", "grant", "gus@firm.com", ACME).code == 0
    users = {u["email"]: u for u in invoke("users", "list", "--json").json()["users"]}
    assert users["new@firm.com"]["state"] == "invited"
    assert users["gus@firm.com"]["engagements"] == [ACME, GLOBEX]
    assert users["sam@slidefast.com"]["vendor"] == "slidefast"
    assert invoke("users", "disable", "gus@firm.com").code == 0
    assert invoke("users", "list", "--json").json()["users"]


def test_a_question_stops_the_clock_until_the_consultant_answers(world):
    import time

    sam, ana = world.client("sam@slidefast.com"), world.client("ana@firm.com")
    sam.get(f"/jobs/{ACME_JOB}/brief")
    page = sam.get(f"/jobs/{ACME_JOB}")
    assert sam.post(f"/jobs/{ACME_JOB}/question", data={
        "csrf": csrf_of(page.text), "text": "Which region goes first?"}).status_code == 303
    with world.sessions() as s:
        job = s.scalars(sa.select(db.Job).where(db.Job.public_id == ACME_JOB)).one()
        assert jobs.has_open_question(s, job)
        before = jobs.due(s, job, now=db.utcnow())
    page = sam.get(f"/jobs/{ACME_JOB}").text
    assert "Which region goes first?" in page and 'action="/jobs/' + ACME_JOB + '/question"' \
        not in page  # one open question at a time
    time.sleep(1.1)
    page = ana.get(f"/jobs/{ACME_JOB}")
    assert "Which region goes first?" in page.text
    assert ana.post(f"/jobs/{ACME_JOB}/answer", data={
        "csrf": csrf_of(page.text), "text": "EMEA"}).status_code == 303
    with world.sessions() as s:
        job = s.scalars(sa.select(db.Job).where(db.Job.public_id == ACME_JOB)).one()
        assert not jobs.has_open_question(s, job)
        assert jobs.due(s, job, now=db.utcnow()) - before >= timedelta(seconds=1)
    assert "EMEA" in sam.get(f"/jobs/{ACME_JOB}").text
    # an answer without a question is a step the job cannot take
    page = ana.get(f"/jobs/{ACME_JOB}")
    assert ana.post(f"/jobs/{ACME_JOB}/answer", data={"csrf": csrf_of(page.text), "text": "x"}
                    ).status_code == 409
    assert [e.action for e in world.audit() if e.action in ("question", "answer")] == [
        "question", "answer", "answer"]
