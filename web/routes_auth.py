"""Logging in and out, the start page, and the stylesheet.

The login form is protected by a double-submit token: ``GET /logga-in`` sets a random cookie and puts
the same value in the form; a post whose field and cookie differ is refused. A successful login sets
the session cookie (HttpOnly, SameSite=Lax, Secure and ``__Host-`` when the app is reached by HTTPS).
"""

from __future__ import annotations

import hmac
import secrets
from functools import lru_cache

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from core import clock
from core.templating import templates_dir
from models.db import transaction
from services.accounts import log_in, log_out
from web.forms import field
from web.pages import page, refused_form_page
from web.session import login_of, require_form_token, require_login
from web.state import LOGIN_COOKIE, SESSION_COOKIE, WebState, state_of

router = APIRouter()


@lru_cache(maxsize=1)
def _stylesheet() -> bytes:
    return (templates_dir() / "web" / "samordna.css").read_bytes()


@router.get("/static/samordna.css")
def stylesheet() -> Response:
    """The one stylesheet (cached by the browser for an hour)."""
    return Response(
        _stylesheet(), media_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/")
def start(request: Request) -> Response:
    """To the dashboard when logged in, else to the login page."""
    state = state_of(request)
    with transaction(state.engine) as session:
        login = login_of(request, session, clock.now())
    if login is None:
        return RedirectResponse("/logga-in", status_code=303)
    return RedirectResponse(
        "/samordnare" if login.coordinator or not login.sspf_roles else "/sspf", status_code=303
    )


def _login_page(state: WebState, *, message: str = "", email: str = "", status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        "login.html.j2", title="Logga in", csrf=token, message=message, email=email, status_code=status_code
    )
    response.set_cookie(
        state.cookie(LOGIN_COOKIE),
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=state.secure_cookies,
        path="/",
    )
    return response


@router.get("/logga-in")
def login_form(request: Request) -> Response:
    """The login form."""
    return _login_page(state_of(request))


def _log_in(state: WebState, form: FormData, cookie: str | None) -> Response:
    if not cookie or not hmac.compare_digest(cookie, field(form, "csrf")):
        return refused_form_page()
    now = clock.now()
    email = field(form, "epost").strip()
    with transaction(state.engine) as session:
        outcome = log_in(session, email, field(form, "losenord"), now, hours=state.settings.web_session_hours)
    if outcome.cookie_token is None:
        return _login_page(state, message=outcome.message, email=email, status_code=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        state.cookie(SESSION_COOKIE),
        outcome.cookie_token,
        max_age=state.settings.web_session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=state.secure_cookies,
        path="/",
    )
    response.delete_cookie(state.cookie(LOGIN_COOKIE), path="/", secure=state.secure_cookies, httponly=True)
    return response


@router.post("/logga-in")
async def login_post(request: Request) -> Response:
    """Check the password; five wrong ones in a row lock the account for a while."""
    state = state_of(request)
    async with request.form() as form:  # closes uploaded files afterwards
        return await run_in_threadpool(_log_in, state, form, request.cookies.get(state.cookie(LOGIN_COOKIE)))


def _log_out(request: Request, form: FormData) -> Response:
    state = state_of(request)
    now = clock.now()
    cookie = request.cookies.get(state.cookie(SESSION_COOKIE))
    with transaction(state.engine) as session:
        login = require_login(request, session, now)
        require_form_token(login, form.get("csrf"))
        log_out(session, cookie, now)
    response = RedirectResponse("/logga-in", status_code=303)
    response.delete_cookie(state.cookie(SESSION_COOKIE), path="/", secure=state.secure_cookies, httponly=True)
    return response


@router.post("/logga-ut")
async def logout_post(request: Request) -> Response:
    """End the session."""
    async with request.form() as form:  # closes uploaded files afterwards
        return await run_in_threadpool(_log_out, request, form)
