"""Who is asking: the login behind the session cookie, the checks a page needs, and form tokens."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlmodel import Session

from services.accounts import Login, check_csrf, current_login
from web.state import SESSION_COOKIE, state_of


class LoginRequiredError(Exception):
    """No (valid) login: the app answers with a redirect to the login page."""


class ForbiddenError(Exception):
    """Logged in, but the page is not for this person's roles."""


class FormRefusedError(Exception):
    """A form post without its CSRF token, or with a wrong one: nothing is done."""


def login_of(request: Request, session: Session, now: datetime) -> Login | None:
    """The login behind the request's session cookie, if any; remembered for the error pages."""
    state = state_of(request)
    login = current_login(session, request.cookies.get(state.cookie(SESSION_COOKIE)), now)
    request.state.login = login
    return login


def require_login(request: Request, session: Session, now: datetime) -> Login:
    login = login_of(request, session, now)
    if login is None:
        raise LoginRequiredError
    return login


def require_coordinator(request: Request, session: Session, now: datetime) -> Login:
    """A logged-in BRÅ-samordnare, else a redirect to the login page or a refusal."""
    login = require_login(request, session, now)
    if not login.coordinator:
        raise ForbiddenError
    return login


def require_form_token(login: Login, given: object) -> None:
    """The posted form's CSRF token is this session's, else FormRefusedError."""
    if not isinstance(given, str) or not check_csrf(login, given):
        raise FormRefusedError
