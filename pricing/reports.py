"""What finance sees: per engagement, per vendor and per month, slides, cost, cost per slide,
the share delivered within the turnaround and revisions; as CSV, JSON rows, a PNG chart and a
monthly vendor statement (DOCX).

Input is :class:`JobFact` rows (one per job and vendor paid: a reassigned job has two), built
from the ledger and the jobs by whoever owns the database. A report row never mixes
currencies: the same engagement in USD and EUR is two rows. matplotlib and python-docx are
imported only by the writers that need them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from os import PathLike
from typing import IO, Any

from .ledger import LedgerEntry
from .money import Money, check_currency, sum_money, whole_number
from .turnaround import ensure_utc, iso_week

__all__ = ["CSV_COLUMNS", "STATEMENT_COLUMNS", "JobFact", "Report", "ReportDimension",
           "ReportRow", "by_engagement", "by_month", "by_vendor", "chart_png", "row_cells",
           "to_csv", "to_json_rows", "vendor_statement_docx"]

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_SHARE = Decimal("0.0001")

#: the CSV header after the first column, which is named after the report's dimension
CSV_COLUMNS = ("currency", "jobs", "slides", "cost", "cost_per_slide", "on_time_share",
               "revisions")
#: the statement table's columns
STATEMENT_COLUMNS = ("Date (UTC)", "Job", "Kind", "Description", "Slides", "Amount")


@dataclass(frozen=True)
class JobFact:
    """One job's outcome for one vendor. ``cost`` is net of late credits and includes revision
    charges; ``on_time`` is None while nothing was delivered in full (or for a vendor who
    disappeared)."""

    job_id: str
    engagement: str
    vendor: str
    month: str
    currency: str
    billable_slides: int
    cost: Money
    revisions: int = 0
    on_time: bool | None = None
    delivered_at: datetime | None = None

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if self.cost.currency != self.currency:
            raise ValueError(f"job {self.job_id}: cost {self.cost} is not in {self.currency}")
        if not _MONTH.match(self.month):
            raise ValueError(f"job {self.job_id}: month must be a UTC 'YYYY-MM', "
                             f"got {self.month!r}")
        whole_number(self.billable_slides, "billable_slides", minimum=0)
        whole_number(self.revisions, "revisions", minimum=0)
        if self.delivered_at is not None:
            object.__setattr__(self, "delivered_at", ensure_utc(self.delivered_at))


class ReportDimension(StrEnum):
    ENGAGEMENT = "engagement"
    VENDOR = "vendor"
    MONTH = "month"


@dataclass(frozen=True)
class ReportRow:
    key: str
    currency: str
    jobs: int
    slides: int
    cost: Money
    #: None when no slides were billed
    cost_per_slide: Money | None
    #: on-time deliveries / deliveries with a known outcome, 4 places; None when there are none
    on_time_share: Decimal | None
    revisions: int


@dataclass(frozen=True)
class Report:
    """Rows grouped by one ``dimension``, sorted by key then currency."""

    dimension: ReportDimension
    rows: tuple[ReportRow, ...]

    def __iter__(self) -> Iterator[ReportRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _row(key: str, currency: str, facts: list[JobFact]) -> ReportRow:
    slides = sum(f.billable_slides for f in facts)
    cost = sum_money((f.cost for f in facts), currency)
    known = [f.on_time for f in facts if f.on_time is not None]
    share = (Decimal(sum(known)) / len(known)).quantize(_SHARE, ROUND_HALF_UP) if known else None
    return ReportRow(key, currency, len({f.job_id for f in facts}), slides, cost,
                     cost.divided_by(slides) if slides else None, share,
                     sum(f.revisions for f in facts))


def _report(facts: Iterable[JobFact], dimension: ReportDimension,
            key: Callable[[JobFact], str]) -> Report:
    groups: dict[tuple[str, str], list[JobFact]] = {}
    for fact in facts:
        groups.setdefault((key(fact), fact.currency), []).append(fact)
    return Report(dimension, tuple(_row(k, cur, groups[k, cur]) for k, cur in sorted(groups)))


def by_engagement(facts: Iterable[JobFact]) -> Report:
    return _report(facts, ReportDimension.ENGAGEMENT, lambda f: f.engagement)


def by_vendor(facts: Iterable[JobFact]) -> Report:
    return _report(facts, ReportDimension.VENDOR, lambda f: f.vendor)


def by_month(facts: Iterable[JobFact]) -> Report:
    return _report(facts, ReportDimension.MONTH, lambda f: f.month)


# -- writers ----------------------------------------------------------------------------------
def row_cells(row: ReportRow, dimension: ReportDimension) -> dict[str, str]:
    """A row as text cells (amounts as "132.20"), for CSV and terminal tables."""
    return {dimension.value: row.key, "currency": row.currency, "jobs": str(row.jobs),
            "slides": str(row.slides), "cost": row.cost.decimal_str(),
            "cost_per_slide": row.cost_per_slide.decimal_str() if row.cost_per_slide else "",
            "on_time_share": str(row.on_time_share) if row.on_time_share is not None else "",
            "revisions": str(row.revisions)}


def to_csv(report: Report, file: str | PathLike[str] | IO[str]) -> None:
    """Write ``report`` as CSV with a header row to a path or an open text file."""
    if isinstance(file, str | PathLike):
        with open(file, "w", newline="", encoding="utf-8") as handle:
            to_csv(report, handle)
        return
    writer = csv.DictWriter(file, fieldnames=[report.dimension.value, *CSV_COLUMNS],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(row_cells(row, report.dimension) for row in report)


def to_json_rows(report: Report) -> list[dict[str, Any]]:
    """Rows for JSON: amounts as integer cents with their currency, shares as decimal strings
    (exact, like the amounts)."""
    return [{report.dimension.value: row.key, "currency": row.currency, "jobs": row.jobs,
             "slides": row.slides, "cost_cents": row.cost.cents,
             "cost_per_slide_cents": row.cost_per_slide.cents if row.cost_per_slide else None,
             "on_time_share": str(row.on_time_share) if row.on_time_share is not None else None,
             "revisions": row.revisions} for row in report]


def _week_start(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def chart_png(facts: Iterable[JobFact], file: str | PathLike[str] | IO[bytes]) -> None:
    """Two panels by ISO week of delivery (UTC; every week from the first to the last, so a
    quiet week shows as a gap): cost per currency, and the share delivered on time. With no
    deliveries, the panels say so instead of staying blank."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    by_week: dict[date, list[JobFact]] = {}
    for fact in facts:
        if fact.delivered_at is not None:
            by_week.setdefault(_week_start(fact.delivered_at), []).append(fact)
    weeks = [min(by_week) + timedelta(weeks=n)
             for n in range((max(by_week) - min(by_week)).days // 7 + 1)] if by_week else []
    currencies = sorted({f.currency for week in by_week.values() for f in week})
    fig = Figure(figsize=(8, 6), layout="constrained")
    FigureCanvasAgg(fig)
    cost_ax, share_ax = fig.subplots(2, 1, sharex=True)
    cost_ax.set_title("Cost per week (UTC, ISO weeks)")
    share_ax.set_title("Share delivered within the turnaround")
    if not weeks:
        for ax in (cost_ax, share_ax):
            ax.text(0.5, 0.5, "no deliveries", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.savefig(file, format="png")
        return
    width = 0.8 / len(currencies)
    for i, currency in enumerate(currencies):
        # bar heights are the one place an amount becomes a float: pixels, not money
        heights = [sum_money((f.cost for f in by_week.get(week, ()) if f.currency == currency),
                             currency).cents / 100 for week in weeks]
        cost_ax.bar([x + (i - (len(currencies) - 1) / 2) * width for x in range(len(weeks))],
                    heights, width=width, label=currency)
    cost_ax.set_ylabel("cost")
    cost_ax.legend()
    shares = []
    for x, week in enumerate(weeks):
        known = [f.on_time for f in by_week.get(week, ()) if f.on_time is not None]
        shares.append(sum(known) / len(known) if known else float("nan"))  # no bar
        if known:  # a 0 % bar is invisible: the count says it is there
            share_ax.text(x, min(shares[-1], 0.88) + 0.03, f"{sum(known)}/{len(known)} on time",
                          ha="center", zorder=3)
    share_ax.bar(range(len(weeks)), shares, width=0.6)
    share_ax.set_ylim(0, 1)
    share_ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    share_ax.set_xticks(range(len(weeks)), [iso_week(datetime.combine(w, time(), UTC))
                                            for w in weeks])
    fig.savefig(file, format="png")


def vendor_statement_docx(vendor: str, month: str, entries: Iterable[LedgerEntry],
                          file: str | PathLike[str] | IO[bytes], *,
                          vendor_name: str | None = None) -> dict[str, Money]:
    """The monthly statement finance sends a vendor: the vendor's ledger entries of ``month``
    (UTC; other entries in ``entries`` are left out), one table, a total per currency.
    Returns the totals."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    if not _MONTH.match(month):
        raise ValueError(f"month must be a UTC 'YYYY-MM', got {month!r}")
    lines = sorted((e for e in entries if e.vendor == vendor and e.month == month),
                   key=lambda e: (e.at, e.key))
    totals = {cur: sum_money((e.amount for e in lines if e.currency == cur), cur)
              for cur in sorted({e.currency for e in lines})}
    doc = Document()
    doc.add_heading(f"Statement {month}: {vendor_name or vendor}", level=1)
    doc.add_paragraph(f"Vendor: {vendor}. Period: {month} (UTC). Charges are per billable "
                      f"slide; late credits are negative.")
    table = doc.add_table(rows=1, cols=len(STATEMENT_COLUMNS))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, STATEMENT_COLUMNS, strict=True):
        cell.text = title
    for e in lines:
        _add_row(table, e.at.strftime("%Y-%m-%d %H:%M"), e.job_id,
                 e.kind.value.replace("_", " "), e.memo, str(e.slides), str(e.amount))
    for total in totals.values():
        _add_row(table, "Total", "", "", "", "", str(total))
    for row in table.rows[1:]:
        row.cells[-1].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if not lines:
        doc.add_paragraph("No entries this month.")
    doc.save(file if not isinstance(file, PathLike) else str(file))
    return totals


def _add_row(table: Any, *texts: str) -> None:
    for cell, text in zip(table.add_row().cells, texts, strict=True):
        cell.text = text
