"""``outtask users`` (accounts of the portal) and ``outtask portal`` (serve it).

The first admin is made here (``users create-admin``); admins invite everyone else, here or in
the portal. Passwords are read from a prompt or stdin, never from the command line, where
they would land in the shell history and the process list.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from . import accounts, db
from .cli_ledger import fail, ledger_session
from .console import UsageError, err, out

users_app = typer.Typer(no_args_is_help=True, help="Portal accounts: admins, consultants, "
                        "out-taskers, finance.")

AsJson = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
Email = Annotated[str, typer.Option("--email", help="Their e-mail: it is the sign-in name.")]
Zone = Annotated[str, typer.Option("--timezone", help="IANA time zone for deadlines, e.g. "
                                   "Europe/Berlin.")]


def _refused(e: accounts.AccountError) -> None:
    fail(str(e))


def _engagements(s, refs: list[str]) -> list[db.Engagement]:
    from .brief import BriefError, find_engagement

    found = []
    for ref in refs:
        try:
            found.append(find_engagement(s, ref))
        except BriefError as e:
            raise UsageError(str(e)) from None
    return found


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password: pipe it in with "
                         "--password-stdin")
    return typer.prompt("password (12 characters or more)", hide_input=True,
                        confirmation_prompt=True)


@users_app.command("create-admin")
def create_admin(
    email: Email,
    name: Annotated[str, typer.Option(help="Their name, as the portal shows it.")] = "",
    timezone: Zone = "UTC",
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin.")] = False,
) -> None:
    """Make an admin who signs in with a password (the first account; admins invite the
    rest). Exits 1 when the e-mail is taken or the password too weak."""
    password = _password(password_stdin)
    with ledger_session() as (_, s):
        try:
            user = accounts.create_admin(s, email=email, password=password, name=name,
                                         timezone=timezone)
        except accounts.AccountError as e:
            _refused(e)
        s.commit()
    out.print(f"admin {user.email} created: sign in at the portal (outtask portal)",
              highlight=False)


@users_app.command("invite")
def invite(
    email: Email,
    role: Annotated[str, typer.Option(help=f"One of {', '.join(accounts.ROLES)}.")],
    vendor: Annotated[str | None, typer.Option(
        help="The vendor an out-tasker works for (`outtask vendors list`).")] = None,
    engagement: Annotated[list[str] | None, typer.Option(
        help="<client>/<engagement> a consultant works on; repeat for several.")] = None,
    name: Annotated[str, typer.Option(help="Their name.")] = "",
    timezone: Zone = "UTC",
    as_json: AsJson = False,
) -> None:
    """Create an account and print the one-time link (valid 7 days) that sets its password.
    Exits 1 when the e-mail is taken, the role unknown, or an out-tasker has no vendor."""
    with ledger_session() as (settings, s):
        engagements = _engagements(s, engagement or [])
        try:
            user, token = accounts.invite(s, email=email, role=role, by=None,
                                          vendor_slug=vendor, engagements=engagements,
                                          name=name, timezone=timezone)
        except accounts.AccountError as e:
            _refused(e)
        s.commit()
    link = f"{settings.portal_url.rstrip('/')}/invite/{token}"
    if as_json:
        print(json.dumps({"email": user.email, "role": user.role, "vendor": vendor,
                          "engagements": [accounts.engagement_ref(e) for e in engagements],
                          "invite_url": link}, indent=1))
        return
    out.print(f"invited {user.email} as {user.role}; send them this link (valid "
              f"{accounts.INVITE_DAYS} days, once):", highlight=False)
    print(link)


@users_app.command("grant")
def grant(
    email: Annotated[str, typer.Argument(help="The consultant's (or admin's) e-mail.")],
    engagement: Annotated[str, typer.Argument(help="<client>/<engagement>")],
) -> None:
    """Put a consultant on an engagement: they see its interviews, briefs and decks."""
    with ledger_session() as (_, s):
        user = _user(s, email)
        (eng,) = _engagements(s, [engagement])
        try:
            accounts.grant(s, user, eng, by=None)
        except accounts.AccountError as e:
            _refused(e)
        s.commit()
    out.print(f"{user.email} is on {engagement}", highlight=False)


@users_app.command("disable")
def disable(email: Annotated[str, typer.Argument(help="The account's e-mail.")]) -> None:
    """Disable an account and sign it out everywhere (the audit log keeps its history)."""
    with ledger_session() as (_, s):
        user = _user(s, email)
        ended = accounts.disable(s, user, by=None)
        s.commit()
    out.print(f"{user.email} disabled; {ended} session(s) ended", highlight=False)


@users_app.command("list")
def list_users(as_json: AsJson = False) -> None:
    """Every account with its role, vendor, engagements and state. Always exits 0."""
    with ledger_session() as (_, s):
        members: dict[int, list[str]] = {}
        for m in s.scalars(select(db.Membership)):
            members.setdefault(m.user_id, []).append(accounts.engagement_ref(m.engagement))
        rows = [{"email": u.email, "name": u.name, "role": u.role,
                 "vendor": u.vendor.slug if u.vendor else None, "timezone": u.timezone,
                 "engagements": sorted(members.get(u.id, [])),
                 "state": ("disabled" if u.disabled_at else
                           "active" if u.password_hash else "invited")}
                for u in s.scalars(select(db.User).order_by(db.User.role, db.User.email))]
    if as_json:
        print(json.dumps({"users": rows}, indent=1))
        return
    table = Table(title="portal accounts")
    for col in ("email", "role", "vendor", "engagements", "timezone", "state"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*(escape(str(v)) for v in (r["email"], r["role"], r["vendor"] or "-",
                                                  ", ".join(r["engagements"]) or "-",
                                                  r["timezone"], r["state"])))
    out.print(table)
    if not rows:
        out.print("no accounts yet: outtask users create-admin --email you@firm.com",
                  highlight=False)


def _user(s, email: str) -> db.User:
    user = accounts.find_user(s, email)
    if user is None:
        raise UsageError(f"no account {email!r}: `outtask users list` shows them")
    return user


def portal(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default; "
                                      "put a TLS proxy in front for anything else).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
) -> None:
    """Serve the web portal: out-taskers collect briefs and return decks, consultants
    approve, finance watches (SIGTERM or Ctrl-C stops)."""
    from portal import create_app
    from portal.serve import serve

    from .console import open_settings

    try:
        app = create_app(open_settings())
    except Exception as e:
        raise UsageError(f"cannot start the portal: {e}") from e
    err.print(f"portal on http://{host}:{port}/ (Ctrl-C or SIGTERM stops)", highlight=False)
    if not serve(app, host, port):
        raise UsageError(f"the portal could not listen on {host}:{port} (in use?): pick "
                         "another --port")
    err.print("stopped")
