"""``outtask vendors|bids|jobs|finance …`` as finance and a script see them: the issue's worked
example to the cent through the command line, tables, one JSON document on stdout, CSV with a
header row, a PNG chart, a DOCX statement, and the exit codes (2: a malformed option or a name
that does not exist; 1: a step the job cannot take; 0: reports, whatever they find).

Commands run in-process against ``flows.cli.app`` (CliRunner). ``flows.cli.main`` turns a
UsageError into exit 2; ``invoke`` does the same, and one test runs the real process to check
it, and that no Prefect is loaded on the way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.console import EXIT_USAGE, UsageError
from tests.test_jobs import make_deck

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
JOB = "job-0123456789"
REF = "acme/market-entry"


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


def invoke(*args: object) -> Ran:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if isinstance(result.exception, UsageError):  # what flows.cli.main does with it
        return Ran(EXIT_USAGE, result.stdout, f"error: {result.exception}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a user would have seen a traceback
    assert "Traceback" not in result.stdout + result.stderr
    return Ran(result.exit_code, result.stdout, result.stderr)


def at(delta: timedelta = timedelta(0)) -> str:
    return (T0 + delta).isoformat()


def ok(*args: object) -> Ran:
    ran = invoke(*args)
    assert ran.code == 0, ran.stderr
    return ran


def macro_deck(src: Path, dst: Path) -> Path:
    """``src`` with a VBA project: what acceptance check 4 refuses."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.presentationml."
                    b"presentation.main+xml",
                    b"application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml")
                data = data.replace(b"</Types>", b'<Default Extension="bin" ContentType='
                                    b'"application/vnd.ms-office.vbaProject"/></Types>')
            if item.filename == "ppt/_rels/presentation.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type='
                                    b'"http://schemas.microsoft.com/office/2006/relationships/'
                                    b'vbaProject" Target="vbaProject.bin"/></Relationships>')
            z.writestr(item.filename, data)
        z.writestr("ppt/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    return dst


def use_home(monkeypatch, tmp_path: Path, url: str) -> None:
    monkeypatch.setenv("OUTTASK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OUTTASK_BUCKET", str(tmp_path / "bucket"))
    monkeypatch.setenv("OUTTASK_DATABASE_URL", url)
    monkeypatch.setenv("OUTTASK_AUTO_APPROVE_DAYS", "3")


def engagement_with_brief(url: str, ref: str = REF, job_id: str | None = JOB) -> None:
    """An engagement whose brief was built (only the job id matters to the job commands)."""
    from flows import db

    sessions = db.session_factory(url)
    try:
        with sessions() as s:
            client, slug = ref.split("/")
            eng = db.get_or_create_engagement(s, client, slug,
                                              defaults={"turnaround_hours": 24,
                                                        "currency": "USD"})
            eng.job_id = job_id
            s.commit()
    finally:
        sessions.kw["bind"].dispose()


@pytest.fixture
def any_db(tmp_path, monkeypatch, database_url) -> str:
    use_home(monkeypatch, tmp_path, database_url)
    engagement_with_brief(database_url)
    return database_url


@pytest.fixture
def sqlite_db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'outtask.db'}"
    use_home(monkeypatch, tmp_path, url)
    engagement_with_brief(url)
    return url


VENDORS = [("slidefast", "USD", "11.00", "4.6"), ("bigdeck", "USD", "12.00", "4.9"),
           ("cheapo", "USD", "10.50", "4.5"), ("slowpoke", "USD", "9.00", "4.8"),
           ("eurodeck", "EUR", "9.00", "4.8")]


def assigned_job(*, bids: bool = True) -> None:
    """Five vendors (one in EUR), the job posted, bids in, slidefast chosen at $11.00."""
    for slug, currency, rate, rating in VENDORS:
        ok("vendors", "add", slug, "--name", slug.title(), "--rate", rate, "--currency",
           currency, "--rating", rating)
    ok("jobs", "post", REF, "--at", at())
    if not bids:
        return
    for vendor, rate, hours, extra in (("slidefast", "11.00", 24, ()),
                                       ("bigdeck", "12.00", 24, ()),
                                       ("cheapo", "10.50", 20, ("--rating", "3.5")),
                                       ("slowpoke", "9.00", 48, ()),
                                       ("eurodeck", "9.00", 24, ())):
        ok("bids", "add", JOB, vendor, "--rate", rate, "--turnaround", hours, *extra,
           "--at", at(timedelta(minutes=10)))


def test_worked_example_to_the_cent(any_db, tmp_path):
    assigned_job()
    assert [v["slug"] for v in ok("vendors", "list", "--json").json()["vendors"]] == sorted(
        v[0] for v in VENDORS)
    bids = ok("bids", "list", JOB, "--json").json()["bids"]
    assert len(bids) == 5 and {b["currency"] for b in bids} == {"USD", "EUR"}

    choice = ok("bids", "choose", JOB, "--json", "--at", at(timedelta(hours=1))).json()
    assert choice["assigned"] and choice["winner"]["vendor"] == "slidefast"
    assert choice["winner"]["slide_rate"] == {"cents": 1100, "currency": "USD"}
    assert "cheapest qualifying bid" in choice["reason"] and "bigdeck" in choice["reason"]
    assert {r["vendor"]: r["reason"] for r in choice["rejected"]} == {
        "bigdeck": "outbid", "cheapo": "rating-too-low", "slowpoke": "too-slow",
        "eurodeck": "other-currency"}

    ok("jobs", "handoff", JOB, "--at", at())
    [row] = ok("jobs", "list", "--json", "--at", at(timedelta(hours=2))).json()["jobs"]
    assert (row["state"], row["vendor"], row["time_left_s"], row["late"]) == (
        "assigned", "slidefast", 22 * 3600, False)
    assert row["deadline"] == at(timedelta(hours=24))

    # 13 slides, one hidden: 12 billable; 26 h 10 min after handoff: 3 started hours late
    deck = make_deck(tmp_path / "v1.pptx", 13, hidden=1)
    delivered = invoke("jobs", "deliver", JOB, deck, "--at", at(timedelta(hours=26, minutes=10)))
    assert delivered.code == 0, delivered.stderr
    assert "12 billable" in delivered.stdout
    assert "charge $132.00" in delivered.stdout and "late credit -$19.80" in delivered.stdout
    again = ok("jobs", "deliver", JOB, deck, "--json").json()  # a retry: charged once
    assert again["new"] is False and again["delivery"] == 1 and again["billable_slides"] == 12
    assert [(e["kind"], e["amount_cents"]) for e in again["entries"]] == [
        ("charge", 13200), ("late_credit", -1980)]

    for n, touched, billed in ((1, 5, "free"), (2, 3, "free"), (3, 4, "$20.00")):
        revised = ok("jobs", "revise", JOB, "--slides", touched,
                     "--at", at(timedelta(days=n, hours=6)))
        assert f"round {n}" in revised.stdout and billed in revised.stdout
        fixed = make_deck(tmp_path / f"v{n + 1}.pptx", 13, hidden=1, title=f"Revised {n}")
        ok("jobs", "deliver", JOB, fixed, "--at", at(timedelta(days=n, hours=9)))
    ok("jobs", "approve", JOB, "--at", at(timedelta(days=4)))

    shown = ok("jobs", "show", JOB, "--json").json()
    assert shown["job"]["state"] == "approved" and shown["job"]["late"] is True
    assert [(e["kind"], e["amount_cents"]) for e in shown["ledger"]] == [
        ("charge", 13200), ("late_credit", -1980), ("revision_charge", 2000)]
    assert shown["totals"] == [{"cents": 13220, "currency": "USD"}]
    assert len(shown["deliveries"]) == 4 and len(shown["bids"]) == 5
    assert "total: $132.20" in ok("jobs", "show", JOB).stdout

    report = ok("finance", "report", "--month", "2026-11", "--json").json()
    assert report["month"] == "2026-11" and report["by"] == "engagement"
    [line] = report["rows"]
    assert (line["engagement"], line["slides"], line["cost_cents"], line["revisions"],
            line["on_time_share"]) == (REF, 12, 13220, 3, "0.0000")
    assert report["totals"]["USD"]["cost_cents"] == 13220
    assert ok("finance", "report", "--month", "2026-11", "--format", "json").json() == report
    by_vendor = ok("finance", "report", "--month", "2026-11", "--by", "vendor", "--json").json()
    assert [r["vendor"] for r in by_vendor["rows"]] == ["slidefast"]
    assert ok("finance", "report", "--month", "2026-12", "--json").json()["rows"] == []

    csv = ok("finance", "report", "--month", "2026-11", "--format", "csv").stdout.splitlines()
    assert csv == ["engagement,currency,jobs,slides,cost,cost_per_slide,on_time_share,revisions",
                   f"{REF},USD,1,12,132.20,11.02,0.0000,3"]
    chart = tmp_path / "cost.png"
    table = ok("finance", "report", "--month", "2026-11", "--chart", chart)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "$132.20" in table.stdout  # the table still prints

    statement = tmp_path / "slidefast-2026-11.docx"
    summary = ok("finance", "statement", "slidefast", "--month", "2026-11", "--out", statement,
                 "--json").json()
    assert summary["entries"] == 3 and summary["totals"] == [{"cents": 13220,
                                                             "currency": "USD"}]
    from docx import Document

    cells = [c.text for row in Document(str(statement)).tables[0].rows for c in row.cells]
    assert {"$132.00", "-$19.80", "$20.00", "$132.20"} <= set(cells) and JOB in cells

    ok("jobs", "invoice", JOB)
    assert "paid" in ok("jobs", "pay", JOB).stdout
    assert invoke("jobs", "cancel", JOB).code == 1  # paid is final


def test_a_refused_deck_exits_1_and_bills_nothing(sqlite_db, tmp_path):
    assigned_job()
    ok("bids", "choose", JOB)
    ok("jobs", "handoff", JOB, "--at", at())
    deck = make_deck(tmp_path / "deck.pptx", 5)
    for name in ("macro.pptm", "macro.pptx"):
        bad = macro_deck(deck, tmp_path / name)
        refused = invoke("jobs", "deliver", JOB, bad, "--at", at(timedelta(hours=3)))
        assert refused.code == 1 and "refused" in refused.stderr
        as_json = invoke("jobs", "deliver", JOB, bad, "--json")
        assert as_json.code == 1 and json.loads(as_json.stdout)["file"] == name
        assert "refused" in json.loads(as_json.stdout)
    shown = ok("jobs", "show", JOB, "--json").json()
    assert shown["ledger"] == [] and shown["deliveries"] == []
    assert shown["job"]["state"] == "assigned"
    # the good deck still goes through afterwards, on time
    good = ok("jobs", "deliver", JOB, deck, "--json", "--at", at(timedelta(hours=4))).json()
    assert [(e["kind"], e["amount_cents"]) for e in good["entries"]] == [("charge", 5500)]


def test_a_question_stops_the_clock(sqlite_db, tmp_path):
    assigned_job()
    ok("bids", "choose", JOB)
    assert invoke("jobs", "question", JOB).code == 1  # not handed off: no clock yet
    ok("jobs", "handoff", JOB, "--at", at())
    ok("jobs", "question", JOB, "--text", "Which logo?", "--at", at(timedelta(hours=2)))
    [row] = ok("jobs", "list", "--json", "--at", at(timedelta(hours=4))).json()["jobs"]
    assert row["paused"] and row["time_left_s"] == 22 * 3600  # frozen while unanswered
    answered = ok("jobs", "answer", JOB, "--at", at(timedelta(hours=5)))
    assert "2026-11-03 12:00 UTC" in answered.stdout  # 24 h + the 3 h pause
    assert invoke("jobs", "answer", JOB).code == 1  # nothing open any more
    deck = make_deck(tmp_path / "deck.pptx", 3)
    done = ok("jobs", "deliver", JOB, deck, "--json", "--at", at(timedelta(hours=26))).json()
    assert [e["kind"] for e in done["entries"]] == ["charge"]  # on time thanks to the pause


def test_reassign_auto_approve_and_refused_steps(sqlite_db, tmp_path):
    assigned_job()
    posted = invoke("jobs", "reassign", JOB, "bigdeck", "--rate", "12.00",
                    "--accepted-slides", "3")
    assert posted.code == 1 and "no vendor" in posted.stderr
    assert invoke("jobs", "approve", JOB).code == 1  # a posted job: nothing to approve
    ok("bids", "choose", JOB)
    assert invoke("bids", "choose", JOB).code == 1  # already assigned
    ok("jobs", "handoff", JOB, "--at", at())
    assert invoke("jobs", "reassign", JOB, "slidefast", "--rate", "11.00",
                  "--accepted-slides", "0").code == 1  # to whom it already has
    moved = ok("jobs", "reassign", JOB, "bigdeck", "--rate", "12.00", "--accepted-slides", "5",
               "--at", at(timedelta(hours=30)))
    assert "slidefast is paid $55.00" in moved.stdout
    shown = ok("jobs", "show", JOB, "--json").json()
    assert (shown["job"]["vendor"], shown["job"]["slide_rate_cents"],
            shown["job"]["handed_off_at"]) == ("bigdeck", 1200, None)
    ok("jobs", "handoff", JOB, "--at", at(timedelta(hours=31)))
    deck = make_deck(tmp_path / "deck.pptx", 10)
    done = ok("jobs", "deliver", JOB, deck, "--at", at(timedelta(hours=40)))
    assert "10 billable slides; charge $60.00 (5 slides)" in done.stdout
    early = ok("jobs", "auto-approve", "--json", "--at", at(timedelta(days=2, hours=16)))
    assert early.json()["approved"] == []
    due = ok("jobs", "auto-approve", "--json", "--at", at(timedelta(days=4, hours=16))).json()
    assert due == {"at": at(timedelta(days=4, hours=16)), "days": 3, "approved": [JOB]}
    report = ok("finance", "report", "--by", "vendor", "--json").json()
    # bigdeck's 10-slide deck holds the 5 slides slidefast was paid for: 5 more at $12.00
    assert {r["vendor"]: (r["slides"], r["cost_cents"]) for r in report["rows"]} == {
        "bigdeck": (5, 6000), "slidefast": (5, 5500)}
    assert report["totals"]["USD"] == {"jobs": 1, "slides": 10, "cost_cents": 11500,
                                       "cost_per_slide_cents": 1150, "revisions": 0}
    assert report["month"] is None


def test_no_qualifying_bid_exits_1_and_the_job_stays_posted(sqlite_db):
    assigned_job(bids=False)
    ok("bids", "add", JOB, "eurodeck", "--rate", "9.00", "--turnaround", 24)
    none = invoke("bids", "choose", JOB, "--json")
    assert none.code == 1 and "no qualifying bid" in none.stderr
    doc = none.json()
    assert doc["assigned"] is False and doc["winner"] is None
    assert doc["rejected"][0]["reason"] == "other-currency"
    [row] = ok("jobs", "list", "--state", "posted", "--json").json()["jobs"]
    assert row["job"] == JOB
    events = ok("jobs", "show", JOB, "--json").json()["events"]
    assert [e["kind"] for e in events] == ["posted", "no-qualifying-bid"]


def test_usage_errors_exit_2_and_say_what_to_write(sqlite_db, tmp_path):
    assigned_job(bids=False)
    deck = make_deck(tmp_path / "deck.pptx", 2)
    for args, words in (
            (("finance", "report", "--month", "2026-13"), "YYYY-MM"),
            (("finance", "report", "--month", "Nov", "--json"), "e.g. 2026-11"),
            (("finance", "statement", "slidefast", "--month", "11/2026"), "YYYY-MM"),
            (("finance", "statement", "nobody", "--month", "2026-11"), "no vendor"),
            (("finance", "report", "--json", "--format", "csv"), "--json"),
            (("jobs", "show", "job-nope"), "no job"),
            (("jobs", "deliver", "job-nope", deck), "no job"),
            (("jobs", "deliver", JOB, tmp_path / "missing.pptx"), "no such file"),
            (("jobs", "post", "acme/nope"), "no engagement"),
            (("jobs", "list", "--state", "late"), "one of"),
            (("bids", "add", JOB, "nobody", "--rate", "9.00", "--turnaround", 24), "no vendor"),
            (("bids", "add", JOB, "slidefast", "--rate", "9.999", "--turnaround", 24), "cents"),
            (("bids", "add", JOB, "slidefast", "--rate", "ten", "--turnaround", 24), "11.00"),
            (("jobs", "handoff", JOB, "--at", "2026-11-02T09:00"), "time zone"),
            (("vendors", "add", "newco", "--name", "New"), "--rating"),
            (("vendors", "add", "newco", "--name", "N", "--rate", "1", "--rating", "7"), "5"),
            (("vendors", "add", "newco", "--name", "N", "--rate", "1", "--rating", "4",
              "--timezone", "Mars/Olympus"), "IANA")):
        ran = invoke(*args)
        assert ran.code == 2, (args, ran)
        assert words in ran.stderr, (args, ran.stderr)
    assert invoke("finance", "report", "--by", "client").code == 2  # click's own check


def test_steps_the_job_cannot_take_exit_1(sqlite_db, tmp_path):
    engagement_with_brief(sqlite_db, "acme/no-brief", job_id=None)
    no_brief = invoke("jobs", "post", "acme/no-brief")
    assert no_brief.code == 1 and "brief build" in no_brief.stderr
    assigned_job()
    deck = make_deck(tmp_path / "deck.pptx", 2)
    early = invoke("jobs", "deliver", JOB, deck)
    assert early.code == 1 and "is posted" in early.stderr
    assert invoke("jobs", "revise", JOB, "--slides", 2).code == 1
    ok("bids", "choose", JOB)
    assert invoke("bids", "add", JOB, "bigdeck", "--rate", "1.00", "--turnaround", 2).code == 1
    never = invoke("jobs", "deliver", JOB, deck)
    assert never.code == 1 and "handoff" in never.stderr


def test_vendors_update_keeps_what_is_not_given(sqlite_db):
    ok("vendors", "add", "slidefast", "--name", "SlideFast", "--rate", "11.00", "--rating", "4.6",
       "--timezone", "Asia/Manila", "--free-revisions", "1", "--revision-rate", "4.50",
       "--rush", "2")
    ok("vendors", "add", "slidefast", "--rate", "11.50")
    [v] = ok("vendors", "list", "--json").json()["vendors"]
    assert (v["name"], v["slide_rate_cents"], v["rating"], v["timezone"],
            v["free_revision_rounds"], v["revision_slide_rate_cents"], v["currency"]) == (
        "SlideFast", 1150, "4.60", "Asia/Manila", 1, 450, "USD")
    assert "slidefast" in ok("vendors", "list").stdout


def test_finance_report_on_an_empty_database(tmp_path, monkeypatch):
    use_home(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'fresh' / 'outtask.db'}")
    assert ok("finance", "report", "--json").json() == {"month": None, "by": "engagement",
                                                       "rows": [], "totals": {}}
    assert ok("finance", "report", "--format", "csv").stdout.startswith("engagement,currency,")
    assert "no ledger entries" in ok("finance", "report", "--month", "2026-11").stdout
    chart = tmp_path / "empty.png"
    ok("finance", "report", "--chart", chart, "--format", "csv")
    assert chart.read_bytes()[:4] == b"\x89PNG"
    assert ok("jobs", "list", "--json").json()["jobs"] == []


def test_the_real_process_exits_2_without_a_traceback_or_prefect(tmp_path):
    """main() maps UsageError to exit 2; the finance commands load no Prefect (fast start)."""
    probe = ("import atexit, sys; atexit.register(lambda: sys.stderr.write("
             "'PREFECT LOADED' if 'prefect' in sys.modules else '')); "
             "from flows.cli import main; main()")
    env = {**os.environ, "OUTTASK_HOME": str(tmp_path / "home"),
           "OUTTASK_DATABASE_URL": f"sqlite:///{tmp_path / 'outtask.db'}"}
    env.pop("PREFECT_HOME", None)
    for args, code in ((["finance", "report", "--month", "2026-13"], 2),
                       (["finance", "report", "--month", "2026-11", "--json"], 0)):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=120)
        assert done.returncode == code, done.stderr
        assert "Traceback" not in done.stderr and "PREFECT LOADED" not in done.stderr
    assert "YYYY-MM" in subprocess.run(
        [sys.executable, "-c", probe, "finance", "report", "--month", "Nov"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120).stderr


def test_upload_puts_files_into_the_engagement_inbox(tmp_path, monkeypatch, s3_client):
    """Local folder and S3 (moto over HTTP): the same keys; bad input exits 2."""
    import uuid

    src = tmp_path / "exec-1.m4a"
    src.write_bytes(b"not really audio, the pipeline decides")
    form = tmp_path / "exec-1.form.yaml"
    form.write_text("consent_to_record: true\n")
    monkeypatch.setenv("OUTTASK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OUTTASK_BUCKET", str(tmp_path / "bucket"))
    doc = ok("upload", "acme/market-entry", src, form, "--json").json()
    assert doc["keys"] == ["inbox/acme/market-entry/exec-1.m4a",
                           "inbox/acme/market-entry/exec-1.form.yaml"]
    assert (tmp_path / "bucket" / doc["keys"][0]).read_bytes() == src.read_bytes()
    name = f"up-{uuid.uuid4().hex[:10]}"
    s3_client.create_bucket(Bucket=name)
    monkeypatch.setenv("OUTTASK_BUCKET", f"s3://{name}")
    ok("upload", "acme/market-entry", src)
    body = s3_client.get_object(Bucket=name, Key="inbox/acme/market-entry/exec-1.m4a")["Body"]
    assert body.read() == src.read_bytes()
    assert invoke("upload", "Acme/market-entry", src).code == 2
    assert invoke("upload", "acme", src).code == 2
    assert invoke("upload", "acme/market-entry", tmp_path / "nope.m4a").code == 2
