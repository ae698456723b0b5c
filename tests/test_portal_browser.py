"""The portal in a real browser (headless Chromium driven by Playwright), served by the real
``outtask portal`` process, on an engagement the real pipeline transcribed and packaged.

An out-tasker accepts the invitation, downloads the brief and uploads a deck (first one the
deck check refuses, then a good one); the consultant approves it; finance sees the charge and
the audit log. Screenshots of the main pages go to $OUTTASK_SCREENSHOTS (docs/ refreshes the
README's pictures: ``OUTTASK_SCREENSHOTS=docs pytest tests/test_portal_browser.py``), or to the
test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from deck_builder.deck_check import check_deck
from tests.conftest import require_service
from tests.test_cli_jobs import invoke, macro_deck

pytestmark = pytest.mark.slow
REF = "northwind/supply-review"
PASSWORD = "correct horse battery staple"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ENGAGEMENT_YAML = """\
name: Northwind supply chain review
expected_interviews: 1
target_slides: 8
questions: ["What keeps you up at night?"]
redact_terms: ["Northwind"]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        require_service("Playwright", f"it is not installed ({e}): run scripts/setup --test")
    if not Path(CHROMIUM).exists():
        require_service("Chromium", "/usr/bin/chromium is missing: apt-get install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("OUTTASK_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def served(pipeline, audio_dir, tmp_path):
    """The pipeline ran on a real recording (brief built), a vendor won the job, accounts
    exist; the portal runs as its own process on a free loopback port."""
    from flows import db
    from flows.engagement import run_pending, scan_inbox

    rt = pipeline
    rt.bucket.write_bytes(f"inbox/{REF}/engagement.yaml", ENGAGEMENT_YAML.encode())
    rt.bucket.upload(audio_dir / "jfk.flac", f"inbox/{REF}/coo-interview.flac")
    scan = scan_inbox(rt, now=time.time() + 60)
    assert list(run_pending(rt, changed=scan.changed).values()) == ["transcribed"]
    with rt.sessions() as s:
        job_id = s.scalars(sa.select(db.Engagement.job_id)).one()
    assert job_id, "the engagement flow built no brief"
    for args in (("vendors", "add", "slidefast", "--name", "SlideFast Ltd", "--rate", "11.00",
                  "--rating", "4.7", "--currency", "USD"),
                 ("jobs", "post", REF), ("bids", "add", job_id, "slidefast", "--rate", "11.00",
                                         "--turnaround", "24"),
                 ("bids", "choose", job_id)):
        ran = invoke(*args)
        assert ran.code == 0, ran.stderr
    links = {}
    from typer.testing import CliRunner

    from flows.cli import app

    assert CliRunner().invoke(app, ["users", "create-admin", "--email", "root@firm.com",
                                    "--password-stdin"], input=PASSWORD + "\n").exit_code == 0
    for email, extra in (("sam@slidefast.com", ("--role", "outtasker", "--vendor", "slidefast",
                                                "--timezone", "Asia/Kolkata")),
                         ("ana@firm.com", ("--role", "consultant", "--engagement", REF,
                                           "--timezone", "America/New_York")),
                         ("fin@firm.com", ("--role", "finance"))):
        links[email] = invoke("users", "invite", "--email", email, *extra, "--json"
                              ).json()["invite_url"]
    port = _free_port()
    outtask = Path(sys.executable).parent / "outtask"
    log = (tmp_path / "portal.log").open("w")
    proc = subprocess.Popen([str(outtask), "portal", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"outtask portal exited: {(tmp_path / 'portal.log').read_text()}")
            time.sleep(0.25)
    yield {"base": base, "job": job_id, "rt": rt, "links": {
        e: base + "/invite/" + u.rsplit("/", 1)[1] for e, u in links.items()}}
    proc.terminate()  # SIGTERM: the portal stops cleanly
    assert proc.wait(timeout=20) == 0
    log.close()


def _fill(starter: Path, target: Path) -> Path:
    """Every text placeholder of the starter deck filled in, and its last slide hidden."""
    from pptx import Presentation

    prs = Presentation(str(starter))
    for n, slide in enumerate(prs.slides, 1):
        for shape in slide.placeholders:
            if shape.has_text_frame and not shape.text_frame.text.strip():
                shape.text_frame.text = f"Finding {n}: suppliers want longer contracts"
    prs.slides[len(prs.slides) - 1]._element.set("show", "0")
    prs.save(str(target))
    return target


def _accept(page, link: str, name: str) -> None:
    page.goto(link)
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button[type=submit]")


def _sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_brief_to_approved_deck_to_finance_in_a_browser(served, chromium, shots, tmp_path):
    from playwright.sync_api import expect

    base, job_id, rt = served["base"], served["job"], served["rt"]
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()

    # the sign-in page, as everyone first sees it
    page.goto(base + "/")
    expect(page.locator("input[type=password]")).to_be_visible()
    page.screenshot(path=shots / "portal-sign-in.png")

    # out-tasker: invitation, the job by its opaque id, the brief, a refused deck, a good deck
    _accept(page, served["links"]["sam@slidefast.com"], "Sam Rivera")
    expect(page.locator("h1")).to_contain_text("Jobs for SlideFast Ltd")
    expect(page.locator("main")).to_contain_text(job_id)
    assert "northwind" not in page.content().lower()
    page.click(f"text={job_id}")
    with page.expect_download() as info:
        page.click("#download-brief")
    brief = Path(info.value.path())
    with zipfile.ZipFile(brief) as z:
        assert z.testzip() is None and any(n.endswith("manifest.json") for n in z.namelist())
        assert not any("northwind" in n.lower() for n in z.namelist())
        (starter,) = [n for n in z.namelist() if n.endswith(".pptx")]
        (tmp_path / "starter.pptx").write_bytes(z.read(starter))
    page.reload()
    expect(page.locator("[data-deadline]").first).to_contain_text("left")
    expect(page.locator("main")).to_contain_text("IST")  # the deadline in Asia/Kolkata
    # the deck maker's work: the starter deck from the brief, filled in, one slide hidden
    good = _fill(tmp_path / "starter.pptx", tmp_path / "supply-review.pptx")
    billable = check_deck(good).billable_slides
    bad = macro_deck(good, tmp_path / "with-macros.pptx")
    page.set_input_files("#deck", str(bad))
    page.click("text=Upload and check")
    expect(page.locator(".error")).to_contain_text("The deck was refused")
    page.screenshot(path=shots / "portal-deck-refused.png", full_page=True)
    page.set_input_files("#deck", str(good))
    page.click("text=Upload and check")
    expect(page.locator(".notice")).to_contain_text(f"{billable} billable slides")
    page.screenshot(path=shots / "portal-outtasker-job.png", full_page=True)
    page.goto(base + "/jobs")
    page.screenshot(path=shots / "portal-outtasker-jobs.png")
    # another job id, guessed or made up, is just not there
    assert page.goto(base + "/jobs/job-0000000000/brief").status == 404
    page.goto(base + "/jobs")
    page.click("text=Sign out")

    # consultant: the engagement (interview, brief), then the delivered deck, approved
    _accept(page, served["links"]["ana@firm.com"], "Ana Ortiz")
    expect(page.locator("h1")).to_contain_text("Your engagements")
    page.click(f"text={REF}")
    expect(page.locator("main")).to_contain_text("coo-interview.flac")
    expect(page.locator("main")).to_contain_text("transcribed")
    # the quote bank: a search by meaning (none of these words is in the recording)
    page.fill("#q", "serving the nation")
    page.click("form.search button")
    expect(page.locator("#quotes tbody tr").first).to_contain_text("country")
    expect(page.locator("#quotes")).to_contain_text("Interview 1, 00:")
    expect(page.locator("#q")).to_have_value("serving the nation")
    page.screenshot(path=shots / "portal-consultant-quotes.png", full_page=True)
    page.goto(f"{base}/engagements/{REF}")
    page.screenshot(path=shots / "portal-consultant-engagement.png", full_page=True)
    page.click("text=Review the delivered deck")
    with page.expect_download() as info:
        page.click("a[href$='/deliveries/1/deck']")
    assert Path(info.value.path()).read_bytes() == good.read_bytes()
    page.click("#approve")
    expect(page.locator("h1 .pill")).to_have_text("approved")
    page.click("text=Sign out")

    # finance: the charge (billable slides x $11.00), the chart, the audit log
    _accept(page, served["links"]["fin@firm.com"], "Fin Lee")
    expect(page.locator("#report")).to_contain_text(f"${billable * 11}.00")
    expect(page.locator("#report")).to_contain_text(REF)
    chart = page.request.get(base + "/finance/chart.png")  # with the page's session cookie
    assert chart.ok and chart.body()[:4] == b"\x89PNG"
    expect(page.locator("img.chart")).to_be_visible()
    for _ in range(50):  # the picture has loaded once it is taller than its alt text
        if (page.locator("img.chart").bounding_box() or {"height": 0})["height"] > 100:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the chart did not load in the finance page")
    page.screenshot(path=shots / "portal-finance.png", full_page=True)
    page.goto(base + "/audit?action=search-quotes")
    expect(page.locator("#audit tbody tr")).to_have_count(1)
    expect(page.locator("#audit")).to_contain_text("ana@firm.com")
    page.goto(base + "/audit?action=upload-deck")
    rows = page.locator("#audit tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("sam@slidefast.com")
    expect(page.locator("#audit")).to_contain_text("refused")
    page.goto(base + "/audit")
    page.screenshot(path=shots / "portal-audit.png")
    context.close()

    from flows import db

    with rt.sessions() as s:
        job = s.scalars(sa.select(db.Job)).one()
        assert job.state == "approved" and job.handed_off_at is not None
        actions = {e.action for e in s.scalars(sa.select(db.AuditEvent))}
    assert {"download-brief", "upload-deck", "download-deck", "approve", "view"} <= actions
