"""Finance and administration: the pricing package's reports and charts, CSVs and vendor
statements for finance; the audit log for finance and admins; accounts for admins."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from flows import accounts, db, jobs
from pricing.reports import (
    CSV_COLUMNS,
    ReportDimension,
    chart_png,
    row_cells,
    to_csv,
    vendor_statement_docx,
)

from .app import DB, Form, Viewer, client_address, render, role
from .errors import NotFound, PortalError

router = APIRouter()
Finance = Annotated[Viewer, Depends(role("finance"))]
Overseer = Annotated[Viewer, Depends(role("finance", "admin"))]
Admin = Annotated[Viewer, Depends(role("admin"))]
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
AUDIT_COLUMNS = ("at", "email", "role", "action", "target", "client", "outcome", "address",
                 "detail")


class BadQuery(PortalError):
    status = 400


def _month(text: str | None) -> str | None:
    if not text:
        return None
    if not _MONTH.match(text):
        raise BadQuery(f"month {text!r}: write the UTC month as YYYY-MM",
                       "for example 2026-11")
    return text


def _dimension(text: str) -> ReportDimension:
    try:
        return ReportDimension(text)
    except ValueError:
        raise BadQuery(f"cannot report by {text!r}",
                       f"choose one of {', '.join(d.value for d in ReportDimension)}") from None


def _log(s: Session, request: Request, viewer: Viewer, action: str, target: str,
         **detail: object) -> None:
    accounts.audit(s, action, user=viewer.user, target=target, address=client_address(request),
                   detail=detail)


def _attachment(data: bytes, filename: str, media_type: str) -> Response:
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# -- finance -------------------------------------------------------------------------------------
@router.get("/finance")
def finance(request: Request, s: DB, viewer: Finance, by: str = "engagement",
            month: str | None = None) -> Response:
    dim, month = _dimension(by), _month(month)
    report = jobs.report(s, dim.value, month=month)
    columns = [c for c in (dim.value, *CSV_COLUMNS) if c != "currency"]
    rows = []
    for r in report:
        cells = row_cells(r, dim)
        cells["cost"] = str(r.cost)
        cells["cost_per_slide"] = str(r.cost_per_slide) if r.cost_per_slide else "-"
        share = cells["on_time_share"]
        cells["on_time_share"] = f"{float(share) * 100:.0f} %" if share else "-"
        rows.append(cells)
    totals = jobs.report_totals(s, month)
    vendors = list(s.scalars(select(db.Vendor).order_by(db.Vendor.slug)))
    _log(s, request, viewer, "view", "finance", by=dim.value, month=month)
    return render(request, "finance.html", viewer=viewer, dim=dim.value, month=month or "",
                  columns=columns, rows=rows, totals=totals, vendors=vendors,
                  dimensions=[d.value for d in ReportDimension],
                  this_month=datetime.now(UTC).strftime("%Y-%m"))


@router.get("/finance/report.csv")
def finance_csv(request: Request, s: DB, viewer: Finance, by: str = "engagement",
                month: str | None = None) -> Response:
    dim, month = _dimension(by), _month(month)
    buf = io.StringIO()
    to_csv(jobs.report(s, dim.value, month=month), buf)
    _log(s, request, viewer, "download-report", f"report by {dim.value}", month=month)
    return _attachment(buf.getvalue().encode(), f"outtask-{dim.value}-{month or 'all'}.csv",
                       "text/csv; charset=utf-8")


@router.get("/finance/chart.png")
def finance_chart(request: Request, s: DB, viewer: Finance,
                  month: str | None = None) -> Response:
    month = _month(month)
    png = io.BytesIO()
    chart_png(jobs.job_facts(s, month=month), png)
    return Response(png.getvalue(), media_type="image/png")


@router.get("/finance/statement.docx")
def finance_statement(request: Request, s: DB, viewer: Finance, vendor: str,
                      month: str) -> Response:
    month = _month(month)
    v = s.scalars(select(db.Vendor).where(db.Vendor.slug == vendor[:100])).one_or_none()
    if v is None or month is None:
        raise NotFound(f"no vendor {vendor!r}" if v is None else "no month given",
                       "pick the vendor and the month in the form")
    entries = jobs.ledger_values(s, month=month, vendor_slug=v.slug)
    with tempfile.TemporaryDirectory(prefix="outtask-statement-") as tmp:
        path = Path(tmp) / "statement.docx"
        vendor_statement_docx(v.slug, month, entries, path, vendor_name=v.name)
        data = path.read_bytes()
    _log(s, request, viewer, "download-statement", f"vendor {v.slug}", month=month,
         entries=len(entries))
    return _attachment(
        data, f"statement-{v.slug}-{month}.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


# -- the audit log -------------------------------------------------------------------------------
def _day(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise BadQuery(f"{name} {text!r} is not a date", "write it as YYYY-MM-DD") from None


def _audit_filter(request: Request) -> accounts.AuditFilter:
    q = request.query_params
    until = _day(q.get("until"), "until")
    return accounts.AuditFilter(
        email=q.get("email") or None, action=q.get("action") or None,
        outcome=q.get("outcome") or None, client=q.get("client") or None,
        target=q.get("target") or None, since=_day(q.get("since"), "since"),
        until=until + timedelta(days=1) if until else None)  # the whole last day


def _audit_rows(s: Session, f: accounts.AuditFilter, limit: int) -> list[dict[str, str]]:
    clients = {cid: slug for cid, slug in s.execute(select(db.Client.id, db.Client.slug))}
    return [{"at": e.at.isoformat(timespec="seconds"), "email": e.email, "role": e.role,
             "action": e.action, "target": e.target, "client": clients.get(e.client_id, ""),
             "outcome": e.outcome, "address": e.address,
             "detail": ", ".join(f"{k}={v}" for k, v in e.detail.items() if v is not None)}
            for e in accounts.audit_events(s, f, limit=limit)]


@router.get("/audit")
def audit(request: Request, s: DB, viewer: Overseer) -> Response:
    f = _audit_filter(request)
    rows = _audit_rows(s, f, 500)
    _log(s, request, viewer, "view", "audit", filters=dict(request.query_params))
    return render(request, "audit.html", viewer=viewer, rows=rows, f=request.query_params,
                  columns=AUDIT_COLUMNS,
                  actions=sorted({a for (a,) in s.execute(select(db.AuditEvent.action)
                                                          .distinct())}))


@router.get("/audit.csv")
def audit_csv(request: Request, s: DB, viewer: Overseer) -> Response:
    rows = _audit_rows(s, _audit_filter(request), 100_000)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=AUDIT_COLUMNS)
    w.writeheader()
    w.writerows(rows)
    _log(s, request, viewer, "download-audit", "audit", rows=len(rows))
    return _attachment(buf.getvalue().encode(), "outtask-audit.csv", "text/csv; charset=utf-8")


# -- accounts (admins) ---------------------------------------------------------------------------
def _users_page(request: Request, s: Session, viewer: Viewer, *, status: int = 200,
                error: str = "", invited: tuple[db.User, str] | None = None) -> Response:
    users = list(s.scalars(select(db.User).order_by(db.User.role, db.User.email)))
    members: dict[int, list[str]] = {}
    for m in s.scalars(select(db.Membership)):
        members.setdefault(m.user_id, []).append(accounts.engagement_ref(m.engagement))
    engagements = list(s.scalars(select(db.Engagement).order_by(db.Engagement.created_at)))
    link = None
    if invited is not None:
        base = request.app.state.portal.settings.portal_url.rstrip("/")
        link = f"{base}/invite/{invited[1]}"
    return render(request, "users.html", status, viewer=viewer, users=users, members=members,
                  vendors=list(s.scalars(select(db.Vendor).order_by(db.Vendor.slug))),
                  engagements=[(accounts.engagement_ref(e), e.id) for e in engagements],
                  roles=accounts.ROLES, error=error, invited=invited[0] if invited else None,
                  link=link)


@router.get("/admin/users")
def users(request: Request, s: DB, viewer: Admin) -> Response:
    _log(s, request, viewer, "view", "users")
    return _users_page(request, s, viewer)


@router.post("/admin/users")
def invite(request: Request, s: DB, viewer: Admin, form: Form) -> Response:
    ids = [int(v) for v in form.getlist("engagement") if str(v).isdigit()]
    engagements = list(s.scalars(select(db.Engagement).where(db.Engagement.id.in_(ids))))
    try:
        user, token = accounts.invite(
            s, email=str(form.get("email", "")), role=str(form.get("role", "")),
            by=viewer.user, vendor_slug=str(form.get("vendor", "")) or None,
            engagements=engagements, name=str(form.get("name", "")),
            timezone=str(form.get("timezone", "")) or "UTC")
    except accounts.AccountError as e:
        s.rollback()
        return _users_page(request, s, viewer, status=422, error=str(e))
    return _users_page(request, s, viewer, invited=(user, token))


@router.post("/admin/users/{user_id}/engagements")
def add_member(request: Request, s: DB, viewer: Admin, form: Form, user_id: int) -> Response:
    user = s.get(db.User, user_id)
    eng = s.get(db.Engagement, int(str(form.get("engagement", "0")) or 0))
    if user is None or eng is None:
        raise NotFound("no such account or engagement", "go back to the accounts page")
    try:
        accounts.grant(s, user, eng, by=viewer.user)
    except accounts.AccountError as e:
        s.rollback()
        return _users_page(request, s, viewer, status=422, error=str(e))
    return _users_page(request, s, viewer)


@router.post("/admin/users/{user_id}/disable")
def disable(request: Request, s: DB, viewer: Admin, form: Form, user_id: int) -> Response:
    user = s.get(db.User, user_id)
    if user is None:
        raise NotFound("no such account", "go back to the accounts page")
    if user.id == viewer.user.id:
        return _users_page(request, s, viewer, status=422,
                           error="you cannot disable your own account: ask another admin")
    accounts.disable(s, user, by=viewer.user)
    return _users_page(request, s, viewer)
