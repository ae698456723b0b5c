"""``outtask finance report`` and ``outtask finance statement``: what the ledger says each
engagement's decks cost, whom we owe, and the monthly statement a vendor receives.

Reports read the ledger only (``flows.jobs.report``: summed by the database) and exit 0
whatever they find, an empty database included; a malformed month is a usage error (exit 2).
"""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pricing.reports import (
    CSV_COLUMNS,
    Report,
    ReportDimension,
    ReportRow,
    chart_png,
    row_cells,
    to_csv,
    to_json_rows,
    vendor_statement_docx,
)

from . import jobs
from .cli_ledger import find_vendor, ledger_session
from .console import UsageError, err, out

finance_app = typer.Typer(no_args_is_help=True, help="What the decks cost and whom we owe.")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def parse_month(text: str | None) -> str | None:
    if text is not None and not _MONTH.match(text):
        raise UsageError(f"--month {text!r}: write the UTC month as YYYY-MM, e.g. 2026-11")
    return text


def _json_totals(totals: list[ReportRow]) -> dict[str, dict[str, Any]]:
    rows = to_json_rows(Report(ReportDimension.ENGAGEMENT, tuple(totals)))
    return {r["currency"]: {k: v for k, v in r.items()
                            if k not in ("engagement", "currency", "on_time_share")}
            for r in rows}


def _share(text: str) -> str:
    return f"{float(text) * 100:.0f} %" if text else "-"  # display only: the value is exact


def _print_table(report: Report, totals: list[ReportRow], title: str) -> None:
    dim = report.dimension.value
    table = Table(title=title)
    # amounts carry their currency ("$132.20", "EUR 9.00"): no currency column, so the
    # table fits 80 columns
    columns = [c for c in (dim, *CSV_COLUMNS) if c != "currency"]
    headers = {"cost_per_slide": "per slide", "on_time_share": "on time"}
    for col in columns:
        table.add_column(headers.get(col, col), overflow="fold", no_wrap=col == dim,
                         justify="left" if col == dim else "right")
    for row, style in [*((r, None) for r in report), *((r, "bold") for r in totals)]:
        cells = row_cells(row, report.dimension)
        cells["on_time_share"] = _share(cells["on_time_share"])
        cells["cost"] = str(row.cost)
        cells["cost_per_slide"] = str(row.cost_per_slide) if row.cost_per_slide else "-"
        table.add_row(*(escape(cells[c]) for c in columns), style=style)
    out.print(table)


@finance_app.command("report")
def finance_report(
    month: Annotated[str | None, typer.Option(
        help="A UTC month, YYYY-MM (e.g. 2026-11). Default: every month.")] = None,
    by: Annotated[ReportDimension, typer.Option(help="One row per ...")
                  ] = ReportDimension.ENGAGEMENT,
    format: Annotated[Format | None, typer.Option(
        "--format", help="table (default), csv (with a header row) or json.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")
                       ] = False,
    chart: Annotated[Path | None, typer.Option(
        help="Also write a PNG chart (cost per week, on-time share) to this file.")] = None,
) -> None:
    """Slides, cost, cost per slide, share delivered within the turnaround and revisions, per
    engagement, vendor or month; amounts net of late credits, one row per currency. Exits 0
    whatever it finds, also on an empty ledger."""
    month = parse_month(month)
    if as_json and format not in (None, Format.JSON):
        raise UsageError(f"--json is --format json: drop one of --json and --format {format}")
    fmt = Format.JSON if as_json else format
    with ledger_session() as (_, s):
        report, totals = jobs.report(s, by.value, month=month), jobs.report_totals(s, month)
        facts = jobs.job_facts(s, month=month) if chart is not None else []
    if chart is not None:
        try:
            chart_png(facts, chart)
        except OSError as e:
            raise UsageError(f"cannot write the chart to {chart}: {e.strerror or e}") from None
        err.print(f"chart written to {chart}", highlight=False)
    if fmt is Format.JSON:
        print(json.dumps({"month": month, "by": by.value, "rows": to_json_rows(report),
                          "totals": _json_totals(totals)}, indent=1))
    elif fmt is Format.CSV:
        to_csv(report, sys.stdout)
    else:
        _print_table(report, totals, f"cost by {by.value}, {month or 'all months'} (UTC)")
        if not report.rows:
            out.print(f"no ledger entries {'in ' + month if month else 'yet'}", highlight=False)


@finance_app.command("statement")
def finance_statement(
    vendor: Annotated[str, typer.Argument(help="The vendor's slug.")],
    month: Annotated[str, typer.Option(help="The UTC month, YYYY-MM (e.g. 2026-11).")],
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="The DOCX to write. Default: statement-<vendor>-<month>.docx.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")
                       ] = False,
) -> None:
    """The vendor's monthly statement (DOCX) to send: every ledger entry of the month and the
    total per currency."""
    month = parse_month(month)
    path = out_file or Path(f"statement-{vendor}-{month}.docx")
    if path.suffix.lower() != ".docx":
        raise UsageError(f"--out {path}: statements are written as .docx")
    with ledger_session() as (_, s):
        name = find_vendor(s, vendor).name
        entries = jobs.ledger_values(s, month=month, vendor_slug=vendor)
    try:
        totals = vendor_statement_docx(vendor, month, entries, path, vendor_name=name)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    doc: dict[str, Any] = {"vendor": vendor, "month": month, "file": str(path),
                           "entries": len(entries),
                           "totals": [t.to_dict() for t in totals.values()]}
    if as_json:
        print(json.dumps(doc, indent=1))
        return
    owed = ", ".join(str(t) for t in totals.values()) or "nothing"
    out.print(f"wrote {path}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} for "
              f"{vendor} in {month}; total {owed}", highlight=False)
