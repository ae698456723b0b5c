"""How long finance reports take on a large ledger, on SQLite and on PostgreSQL.

Loads N ledger entries (default 1,000,000) spread over jobs, vendors and 24 UTC months into a
fresh database of each kind, then times each report the CLI offers (``outtask finance report
--by engagement|vendor|month``, for one month and for all time) end to end: the database's
GROUP BY in ``flows.jobs.job_facts`` plus ``pricing.reports``. Goal: each report < 1 s.

    .venv/bin/python bench/ledger.py [-n 1000000] [--postgres URL]

PostgreSQL: ``--postgres`` or $OUTTASK_TEST_POSTGRES_URL, else the throwaway cluster of
``scripts/postgres``. Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows import db, jobs  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=UTC)
MONTHS = 24


def load(url: str, n: int, *, n_jobs: int, n_vendors: int) -> float:
    """Fill a fresh database with ``n`` entries; returns the seconds it took."""
    t0 = time.perf_counter()
    db.migrate(url)
    sessions = db.session_factory(url)
    rng = random.Random(7)
    with sessions() as s:
        for v in range(n_vendors):
            jobs.add_vendor(s, f"vendor-{v}", name=f"Vendor {v}", rating=Decimal("4.5"),
                            slide_rate_cents=1100, currency="USD")
        s.flush()
        vendor_ids = [v.id for v in s.query(db.Vendor)]
        client = db.Client(slug="bench")
        s.add(client)
        s.flush()
        engagements = [db.Engagement(client_id=client.id, slug=f"eng-{i}", job_id=f"job-{i:010x}")
                       for i in range(n_jobs)]
        s.add_all(engagements)
        s.flush()
        job_rows = [{"public_id": e.job_id, "engagement_id": e.id, "state": "invoiced",
                     "currency": "USD", "turnaround_hours": 24, "revision_rounds": 1,
                     "created_at": START, "updated_at": START} for e in engagements]
        s.execute(db.Job.__table__.insert(), job_rows)
        job_ids = [j.id for j in s.query(db.Job.id)]
        s.commit()
    starts = {j: START + timedelta(minutes=rng.randrange(MONTHS * 30 * 24 * 60)) for j in job_ids}
    kinds = ["charge"] * 6 + ["revision_charge"] * 2 + ["late_credit", "reversal"]
    batch: list[dict] = []
    with sessions() as s:
        for i in range(n):
            kind = kinds[i % len(kinds)]
            job_id = job_ids[i % len(job_ids)]
            # a job's entries fall within ~10 days of its start, as real jobs' do
            at = starts[job_id] + timedelta(minutes=rng.randrange(10 * 24 * 60))
            slides = rng.randrange(5, 40) if kind == "charge" else 0
            cents = {"charge": slides * 1100, "revision_charge": 2000, "late_credit": -500,
                     "reversal": -1100}[kind]
            batch.append({"key": f"{job_id}:{i}", "job_id": job_id,
                          "vendor_id": vendor_ids[job_id % len(vendor_ids)], "kind": kind,
                          "amount_cents": cents, "currency": "USD", "slides": slides, "at": at,
                          "month": f"{at.year}-{at.month:02d}", "memo": "",
                          "reverses": f"{job_id}:{i - 1}" if kind == "reversal" else None})
            if len(batch) == 50_000:
                s.execute(db.LedgerEntry.__table__.insert(), batch)
                batch.clear()
        if batch:
            s.execute(db.LedgerEntry.__table__.insert(), batch)
        # a bulk load bypasses the per-entry rollups: recompute them once
        jobs.rebuild_rollups(s)
        s.commit()
        if url.startswith("postgresql"):
            s.execute(db.sa.text("ANALYZE"))
            s.commit()
    return time.perf_counter() - t0


def time_reports(url: str) -> list[tuple[str, float, int]]:
    """Each report as ``outtask finance report`` makes it (``flows.jobs.report``: GROUP BY
    over the ledger's rollups in the database), and the chart's input (``job_facts``)."""
    sessions = db.session_factory(url)
    out = []

    def best_of_3(label: str, make) -> None:
        best, n = float("inf"), 0
        for _ in range(3):
            t0 = time.perf_counter()
            with sessions() as s:
                n = len(make(s))
            best = min(best, time.perf_counter() - t0)
        out.append((label, best, n))

    for month in ("2026-06", None):
        for by in ("engagement", "vendor", "month"):
            best_of_3(f"by {by}, {'month ' + month if month else 'all time'}",
                      lambda s, by=by, month=month: jobs.report(s, by, month=month))
    best_of_3("chart input (job facts), month 2026-06",
              lambda s: jobs.job_facts(s, month="2026-06"))
    return out


def postgres_url(given: str | None) -> str | None:
    url = given or os.environ.get("OUTTASK_TEST_POSTGRES_URL")
    if url is None:
        done = subprocess.run(["bash", str(ROOT / "scripts" / "postgres")], capture_output=True,
                              text=True)
        if done.returncode != 0:
            print(f"PostgreSQL unavailable: {done.stderr.strip()[-300:]}", file=sys.stderr)
            return None
        url = done.stdout.strip().splitlines()[-1]
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(url)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.set(database=name).render_as_string(hide_password=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=20_000)
    ap.add_argument("--vendors", type=int, default=40)
    ap.add_argument("--postgres")
    args = ap.parse_args()
    load_avg = os.getloadavg()[0]
    print(f"# Finance reports on {args.n:,} ledger entries ({time.strftime('%Y-%m-%d %H:%M')})\n")
    print(f"{args.jobs:,} jobs, {args.vendors} vendors, {MONTHS} UTC months; "
          f"{os.cpu_count()} cores, load average {load_avg:.2f}. Best of 3 per report.\n")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"SQLite": f"sqlite:///{tmp}/ledger.db", "PostgreSQL": postgres_url(args.postgres)}
        for name, url in urls.items():
            if url is None:
                continue
            print(f"loading {name}…", file=sys.stderr)
            loaded = load(url, args.n, n_jobs=args.jobs, n_vendors=args.vendors)
            results[name] = (loaded, time_reports(url))
    names = list(results)
    print("| report | " + " | ".join(f"{n} s" for n in names) + " | rows |")
    print("|---|" + "---|" * len(names) + "---|")
    first = results[names[0]][1]
    for i, (label, _, rows) in enumerate(first):
        cells = " | ".join(f"{results[n][1][i][1]:.3f}" for n in names)
        print(f"| {label} | {cells} | {rows} |")
    print("| (load of the entries) | " + " | ".join(f"{results[n][0]:.0f}" for n in names)
          + " | |")
    worst = max(t for n in names for _, t, _ in results[n][1])
    print(f"\nGoal each report < 1 s: slowest {worst:.3f} s — "
          f"**{'met' if worst < 1 else 'missed'}**.")


if __name__ == "__main__":
    main()
