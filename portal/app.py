"""The portal's frame: the app factory, the request's database session and viewer, CSRF, the
body-size limit, security headers, error pages, and signing in and out.

Who may see what is decided in :mod:`portal.access`; the pages are in :mod:`portal.work`
(jobs and engagements) and :mod:`portal.office` (finance, audit, accounts).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flows import accounts, db
from flows.settings import Settings, load_settings
from flows.storage import Bucket, open_bucket

from .errors import (
    CsrfRefused,
    NotFound,
    PortalError,
    SignInRequired,
    TooManyRequests,
    UploadTooLarge,
)

HERE = Path(__file__).parent
SESSION_COOKIE = "outtask_session"
CSRF_COOKIE = "outtask_csrf"  # before signing in: double-submit
FORM_LIMIT = 1 << 20  # anything but a deck upload


@dataclass
class Portal:
    settings: Settings
    sessions: sessionmaker[Session]
    bucket: Bucket
    templates: Jinja2Templates


@dataclass
class Viewer:
    user: db.User
    ws: db.WebSession

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.user.timezone)


def portal(request: Request) -> Portal:
    return request.app.state.portal


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


# -- the request's database session ---------------------------------------------------------------
async def body_first(request: Request) -> None:
    """Read a posted body before the database is touched: on SQLite a transaction holds the
    write lock, and a slow upload must not hold it (and every other user) for minutes."""
    if request.method == "POST":
        await request.form()  # parsed once; checked_form reads the cached copy


def db_session(request: Request, _: Annotated[None, Depends(body_first)]) -> Iterator[Session]:
    """One session per request, committed when the page was served or refused on purpose
    (a refusal's audit entry must stay), rolled back on a crash. It ends before the response
    is sent ("function" scope), so a long download holds no transaction."""
    s = portal(request).sessions()
    try:
        yield s
        s.commit()
    except PortalError:
        s.commit()
        raise
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


DB = Annotated[Session, Depends(db_session, scope="function")]


def maybe_viewer(request: Request, s: DB) -> Viewer | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    ws = accounts.find_session(s, token,
                               idle_minutes=portal(request).settings.session_idle_minutes)
    viewer = Viewer(ws.user, ws) if ws else None
    request.state.nav = _nav(viewer)
    return viewer


def _nav(viewer: Viewer | None) -> SimpleNamespace | None:
    """What the page frame shows of the viewer, copied out of the database objects: an error
    page is drawn after the request's session ended (and perhaps rolled back)."""
    if viewer is None:
        return None
    u = viewer.user
    vendor = SimpleNamespace(name=u.vendor.name) if u.vendor else None
    return SimpleNamespace(user=SimpleNamespace(name=u.name, email=u.email, role=u.role,
                                                timezone=u.timezone, vendor=vendor),
                           ws=SimpleNamespace(csrf_token=viewer.ws.csrf_token))


def signed_in(viewer: Annotated[Viewer | None, Depends(maybe_viewer)]) -> Viewer:
    if viewer is None:
        raise SignInRequired("sign in first", "your session may have expired: sign in again")
    return viewer


def role(*roles: str):
    """A dependency: the viewer when their role is one of ``roles``; otherwise 404, the same
    answer as for a page that does not exist."""

    def check(request: Request, s: DB, viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
        if viewer.user.role not in roles:
            deny(s, request, viewer, request.url.path)
        return viewer

    return check


def deny(s: Session, request: Request, viewer: Viewer | None, target: str,
         client_id: int | None = None) -> None:
    """Record the refused look, then answer 404."""
    accounts.audit(s, "denied", user=viewer.user if viewer else None, target=target,
                   client_id=client_id, outcome="denied", address=client_address(request))
    raise NotFound()


# -- CSRF ------------------------------------------------------------------------------------------
def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None  # "null" comes from sandboxed or privacy-stripped contexts
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def checked_form(request: Request,
                       viewer: Annotated[Viewer | None, Depends(maybe_viewer)]) -> FormData:
    """The posted form, once its CSRF token matched: the session's token when signed in, or
    the double-submit cookie of the sign-in and invitation forms. A cross-site Origin is
    refused whatever the token."""
    form = await request.form()
    sent = str(form.get("csrf", ""))
    expected = [t for t in (viewer.ws.csrf_token if viewer else "",
                            request.cookies.get(CSRF_COOKIE, "")) if t]
    if not (sent and any(hmac.compare_digest(sent, t) for t in expected)
            and _same_origin(request)):
        raise CsrfRefused()
    return form


Form = Annotated[FormData, Depends(checked_form)]


class BodyLimit:
    """Refuse request bodies over the limit while they arrive (413), whether or not they
    announce a Content-Length: a deck upload may be ``max_upload`` bytes, any other form
    1 MiB."""

    def __init__(self, app: ASGIApp, max_upload: int) -> None:
        self.app, self.max_upload = app, max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"].endswith("/deck") else FORM_LIMIT
        declared = dict(scope["headers"]).get(b"content-length", b"")
        seen = int(declared) if declared.isdigit() else 0

        async def counted() -> Message:
            # raised into whoever reads the body (the form parser): the error page says why
            nonlocal seen
            if seen > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if not declared.isdigit():
                seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def _too_large(request: Request, exc: BodyTooLarge) -> Response:
    return _error_response(request, UploadTooLarge(
        f"the upload is larger than {exc.limit / (1 << 20):g} MB",
        "make the file smaller (PowerPoint: File > Compress Pictures), or ask an admin to "
        "raise OUTTASK_MAX_UPLOAD_MB"))


# -- pages -----------------------------------------------------------------------------------------
def fmt_time(value: datetime | None, tz: ZoneInfo | None = None) -> str:
    if value is None:
        return "-"
    local = value.astimezone(tz or UTC)
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


def fmt_left(deadline: datetime | None, now: datetime) -> str:
    if deadline is None:
        return "-"
    delta = deadline - now
    late = delta < timedelta(0)
    minutes = int(abs(delta).total_seconds() // 60)
    text = f"{minutes // 60} h {minutes % 60:02d} min"
    return f"late by {text}" if late else f"{text} left"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    p = portal(request)
    return p.templates.TemplateResponse(request, template, context, status_code=status)


def wants_html(request: Request) -> bool:
    """Browsers (and curl) get pages and redirects; a client that asks for JSON gets JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "application/json" not in accept


def _error_response(request: Request, exc: PortalError) -> Response:
    if isinstance(exc, SignInRequired) and wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, TooManyRequests) else {}
    if not wants_html(request):
        return JSONResponse({"error": exc.message, "fix": exc.fix}, status_code=exc.status,
                            headers=headers)
    response = render(request, "error.html", exc.status, error=exc,
                      viewer=getattr(request.state, "nav", None))
    response.headers.update(headers)
    return response


SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'",
    "Cache-Control": "no-store",  # nothing a signed-in page shows stays in a shared cache
}


def create_app(settings: Settings | None = None) -> FastAPI:
    from . import office, work

    settings = settings or load_settings()
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(fmt_time=fmt_time, fmt_left=fmt_left)
    state = Portal(settings, db.session_factory(settings.database_url),
                   open_bucket(settings.bucket), templates)
    app = FastAPI(title="outtask portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = state
    app.add_middleware(BodyLimit, max_upload=settings.max_upload_mb << 20)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    app.add_exception_handler(PortalError, _error_response)  # type: ignore[arg-type]
    app.add_exception_handler(BodyTooLarge, _too_large)  # type: ignore[arg-type]
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/")
    def home(viewer: Annotated[Viewer, Depends(signed_in)]) -> RedirectResponse:
        start = {"outtasker": "/jobs", "consultant": "/engagements", "finance": "/finance",
                 "admin": "/admin/users"}[viewer.user.role]
        return RedirectResponse(start, status_code=303)

    @app.get("/login")
    def login_page(request: Request, viewer: Annotated[Viewer | None, Depends(maybe_viewer)],
                   next: str = "/") -> Response:
        if viewer is not None:
            return RedirectResponse(_safe_next(next), status_code=303)
        return _login_form(request, next)

    @app.post("/login")
    def login(request: Request, s: DB, form: Form) -> Response:
        address = client_address(request)
        try:
            user = accounts.authenticate(s, str(form.get("email", "")),
                                         str(form.get("password", "")), address=address,
                                         limit=settings.sign_in_attempts)
        except accounts.SignInLimited as e:
            raise TooManyRequests(str(e), e.retry_after_s) from None
        except accounts.SignInRefused as e:
            s.commit()  # the failed try counts towards the limit
            return _login_form(request, str(form.get("next", "/")), error=str(e), status=401,
                               email=str(form.get("email", "")))
        token, _ = accounts.start_session(s, user, hours=settings.session_hours)
        response = RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)
        _set_session_cookie(request, response, token, settings)
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    @app.post("/logout")
    def logout(s: DB, form: Form, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
        accounts.end_session(s, viewer.ws)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/invite/{token}")
    def invite_page(request: Request, s: DB, token: str) -> Response:
        try:
            inv = accounts.open_invite(s, token)
        except accounts.AccountError:
            raise NotFound("this invitation link is not valid (used, expired or mistyped)",
                           "ask an admin for a new one") from None
        return _invite_form(request, token, inv.user)

    @app.post("/invite/{token}")
    def accept(request: Request, s: DB, form: Form, token: str) -> Response:
        password = str(form.get("password", ""))
        try:
            inv = accounts.open_invite(s, token)
            if password != str(form.get("confirm", "")):
                raise accounts.AccountError("the two passwords differ: type the same twice")
            user = accounts.accept_invite(s, token, password=password,
                                          name=str(form.get("name", "")),
                                          timezone=str(form.get("timezone", "")) or None)
        except accounts.AccountError as e:
            s.rollback()
            try:
                inv = accounts.open_invite(s, token)
            except accounts.AccountError:
                raise NotFound(str(e), "ask an admin for a new invitation") from None
            return _invite_form(request, token, inv.user, error=str(e), status=422)
        token_, _ = accounts.start_session(s, user, hours=settings.session_hours)
        response = RedirectResponse("/", status_code=303)
        _set_session_cookie(request, response, token_, settings)
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    app.include_router(work.router)
    app.include_router(office.router)
    return app


def _safe_next(target: str) -> str:
    """Only a path on this site: never //evil.example or https://evil.example."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _pre_session_csrf(request: Request) -> str:
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def _with_csrf_cookie(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


def _login_form(request: Request, next: str, *, error: str = "", status: int = 200,
                email: str = "") -> Response:
    token = _pre_session_csrf(request)
    response = render(request, "login.html", status, csrf=token, next=_safe_next(next),
                      error=error, email=email, viewer=None)
    return _with_csrf_cookie(request, response, token)


def _invite_form(request: Request, token: str, user: db.User, *, error: str = "",
                 status: int = 200) -> Response:
    csrf = _pre_session_csrf(request)
    response = render(request, "invite.html", status, csrf=csrf, token=token, invitee=user,
                      error=error, viewer=None)
    return _with_csrf_cookie(request, response, csrf)


def _set_session_cookie(request: Request, response: Response, token: str,
                        settings: Settings) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                        max_age=settings.session_hours * 3600,
                        secure=request.url.scheme == "https")
