"""Finance reports on the simulated engagement: rows, CSV, JSON, the PNG chart, the DOCX
statement."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document

from pricing import (
    JobFact,
    Money,
    ReportDimension,
    by_engagement,
    by_month,
    by_vendor,
    chart_png,
    to_csv,
    to_json_rows,
    vendor_statement_docx,
)
from pricing.reports import CSV_COLUMNS, STATEMENT_COLUMNS
from tests.test_pricing_engagement import ENGAGEMENT, JOB, simulate

PNG = b"\x89PNG\r\n\x1a\n"


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def eur_fact() -> JobFact:
    return JobFact("job-eu1", ENGAGEMENT, "vendor-e", "2026-11", "EUR", 10, Money(9000, "EUR"),
                   1, True, datetime(2026, 11, 20, 10, tzinfo=UTC))


def test_rows_per_engagement_vendor_and_month() -> None:
    facts = simulate().facts
    [row] = by_engagement(facts)
    assert (row.key, row.currency, row.jobs, row.slides, row.cost, row.cost_per_slide,
            row.on_time_share, row.revisions) == (
        ENGAGEMENT, "USD", 1, 40, usd("436.80"), usd("10.92"), Decimal("0.0000"), 3)
    vendor_a, vendor_b = by_vendor(facts)
    assert (vendor_a.key, vendor_a.cost, vendor_a.cost_per_slide) == (
        "vendor-a", usd("247.80"), usd("11.26"))  # 1126.36 cents per slide, half up
    assert (vendor_b.key, vendor_b.cost, vendor_b.cost_per_slide, vendor_b.on_time_share) == (
        "vendor-b", usd("189.00"), usd("10.50"), None)  # no full delivery: no on-time outcome
    [month] = by_month(facts)
    assert (month.key, month.cost, month.slides) == ("2026-11", usd("436.80"), 40)
    assert by_month(facts).dimension is ReportDimension.MONTH


def test_currencies_are_never_mixed_in_a_row() -> None:
    rows = by_engagement([*simulate().facts, eur_fact()]).rows
    assert [(r.key, r.currency, r.cost) for r in rows] == [
        (ENGAGEMENT, "EUR", Money(9000, "EUR")), (ENGAGEMENT, "USD", usd("436.80"))]
    assert rows[0].on_time_share == Decimal("1.0000") and rows[0].jobs == 1
    shares = by_month([
        JobFact(f"j{n}", "c/e", "vendor-a", "2026-11", "USD", 1, usd("1.00"), 0, n < 2)
        for n in range(3)])
    assert shares.rows[0].on_time_share == Decimal("0.6667")
    with pytest.raises(ValueError):
        JobFact("j", "c/e", "vendor-a", "2026-11", "USD", 1, Money(1, "EUR"))
    with pytest.raises(ValueError):
        JobFact("j", "c/e", "vendor-a", "November", "USD", 1, usd("1.00"))


def test_csv_has_a_header_and_decimal_amounts(tmp_path: Path) -> None:
    report = by_vendor([*simulate().facts, eur_fact()])
    buffer = io.StringIO()
    to_csv(report, buffer)
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "vendor,currency,jobs,slides,cost,cost_per_slide,on_time_share,revisions"
    assert lines[0].split(",")[1:] == list(CSV_COLUMNS)
    assert lines[1] == "vendor-a,USD,1,22,247.80,11.26,0.0000,3"
    assert lines[2] == "vendor-b,USD,1,18,189.00,10.50,,0"
    assert lines[3] == "vendor-e,EUR,1,10,90.00,9.00,1.0000,1"
    path = tmp_path / "by-vendor.csv"
    to_csv(report, path)
    rows = list(csv.DictReader(path.open(newline="")))
    assert sum(Decimal(r["cost"]) for r in rows if r["currency"] == "USD") == Decimal("436.80")
    empty = io.StringIO()
    to_csv(by_engagement([]), empty)
    assert empty.getvalue().splitlines() == [f"engagement,{','.join(CSV_COLUMNS)}"]


def test_json_rows_carry_cents_and_currency() -> None:
    rows = to_json_rows(by_engagement(simulate().facts))
    assert json.loads(json.dumps(rows)) == [{
        "engagement": ENGAGEMENT, "currency": "USD", "jobs": 1, "slides": 40,
        "cost_cents": 43680, "cost_per_slide_cents": 1092, "on_time_share": "0.0000",
        "revisions": 3}]


def test_chart_png(tmp_path: Path) -> None:
    path = tmp_path / "finance.png"
    chart_png([*simulate().facts, eur_fact()], path)
    assert path.read_bytes().startswith(PNG)
    buffer = io.BytesIO()
    chart_png(simulate().facts, buffer)
    assert buffer.getvalue().startswith(PNG)


def test_chart_png_with_no_deliveries(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    chart_png([], path)
    assert path.read_bytes().startswith(PNG)


def _amount(text: str) -> Money:
    return Money.parse(text, "USD")


def test_vendor_statement_docx_sums_to_the_total(tmp_path: Path) -> None:
    ledger = simulate().ledger
    path = tmp_path / "vendor-a-2026-11.docx"
    totals = vendor_statement_docx("vendor-a", "2026-11", ledger.entries, path,
                                   vendor_name="Alpha Decks")
    assert totals == {"USD": usd("247.80")}
    doc = Document(str(path))
    assert "Statement 2026-11: Alpha Decks" in doc.paragraphs[0].text
    [table] = doc.tables
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == list(STATEMENT_COLUMNS)
    body, [total_row] = cells[1:-1], cells[-1:]
    assert [(r[1], r[2], r[4], r[5]) for r in body] == [
        (JOB, "charge", "22", "$242.00"), (JOB, "late credit", "0", "-$24.20"),
        (JOB, "revision charge", "6", "$30.00")]
    assert total_row[0] == "Total" and total_row[-1] == "$247.80"
    assert sum((_amount(r[-1]) for r in body), Money.zero("USD")) == _amount(total_row[-1])
    assert _amount(total_row[-1]) == ledger.total(currency="USD", vendor="vendor-a",
                                                  month="2026-11")


def test_statement_for_a_month_without_entries(tmp_path: Path) -> None:
    path = tmp_path / "empty.docx"
    assert vendor_statement_docx("vendor-a", "2026-12", simulate().ledger.entries, path) == {}
    doc = Document(str(path))
    assert len(doc.tables[0].rows) == 1
    assert any("No entries" in p.text for p in doc.paragraphs)
    with pytest.raises(ValueError):
        vendor_statement_docx("vendor-a", "12/2026", [], tmp_path / "x.docx")
