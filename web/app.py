"""The web app: ``create_app(settings, engine)`` builds it; ``samordna webb`` serves it with uvicorn.

Every response carries headers that keep personal pages personal: no caching, no referrer (a personal
link's token is in its URL), no framing, a Content-Security-Policy that allows only this app's own
stylesheet and no script. Errors end as Swedish pages; an unexpected one is logged (with its
traceback, to ``<data_dir>/logs/samordna-webb-fel.log``) and never shown.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError
from core.settings import Settings, get_settings
from core.web_secret import WebSecretError, link_secret
from models import db
from services.accounts import Login
from web import routes_auth, routes_coordinator, routes_documents, routes_link, routes_sspf
from web.pages import message_page, refused_form_page
from web.session import ForbiddenError, FormRefusedError, LoginRequiredError
from web.state import WebState

logger = logging.getLogger(__name__)

PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
NOT_FOUND = "Sidan finns inte. Kontrollera adressen, eller gå tillbaka till startsidan."


def create_app(settings: Settings, engine: sa.Engine | None = None) -> FastAPI:
    """The app for ``settings``; refuses (WebSecretError, Swedish) when no link secret is configured."""
    secret = link_secret(settings)
    if secret is None:
        raise WebSecretError(
            "Ingen hemlighet för personliga länkar: sätt SAMORDNA_WEB_SECRET (minst 32 tecken), eller "
            "starta med `samordna webb --demo`, som skapar en i datamappen för en demo eller utveckling."
        )
    app = FastAPI(title="Samordna", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = WebState(settings, engine or db.make_engine(settings.database_url), secret)
    _add_security_headers(app)
    _add_error_pages(app, settings)
    for module in (routes_link, routes_auth, routes_coordinator, routes_documents, routes_sspf):
        app.include_router(module.router)
    return app


def _add_security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        headers.setdefault("Cache-Control", "no-store")
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        return response


def _add_error_pages(app: FastAPI, settings: Settings) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        del request
        if error.status_code == 404:  # noqa: PLR2004 - HTTP status
            return message_page("Sidan finns inte", NOT_FOUND, status_code=404)
        if error.status_code == 405:  # noqa: PLR2004 - HTTP status
            return message_page("Sidan finns inte", NOT_FOUND, status_code=405)
        return message_page("Något gick fel", str(error.detail), status_code=error.status_code)

    @app.exception_handler(LoginRequiredError)
    async def login_required(request: Request, error: LoginRequiredError) -> Response:
        del request, error
        return RedirectResponse("/logga-in", status_code=303)

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, error: ForbiddenError) -> Response:
        del error
        login: Login | None = getattr(request.state, "login", None)
        return message_page(
            "Sidan är inte för din roll",
            "Sidan är bara för BRÅ-samordnaren. Du ser det som din roll ger dig i menyn.",
            status_code=403,
            login=login,
        )

    @app.exception_handler(FormRefusedError)
    async def form_refused(request: Request, error: FormRefusedError) -> Response:
        del error
        return refused_form_page(getattr(request.state, "login", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        del request, error
        return message_page(
            "Uppgifterna kunde inte läsas",
            "Adressen eller formuläret innehöll något oväntat.",
            status_code=400,
        )

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        login: Login | None = getattr(request.state, "login", None)
        return message_page("Det gick inte", str(error), status_code=400, login=login)

    @app.exception_handler(sa.exc.OperationalError)
    async def database_down(request: Request, error: sa.exc.OperationalError) -> Response:
        del request
        logger.error("databasen svarar inte: %s", type(error.orig).__name__)
        return message_page(
            "Tjänsten är inte tillgänglig",
            "Databasen går inte att nå just nu. Försök igen om en stund.",
            status_code=503,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        del request
        _log_crash(settings, error)
        return message_page(
            "Ett oväntat fel inträffade",
            "Felet är sparat för administratören. Försök igen, eller kontakta BRÅ-samordnaren.",
            status_code=500,
        )


def _log_crash(settings: Settings, error: Exception) -> None:
    logger.error("oväntat fel i webbappen: %s", type(error).__name__)
    try:
        folder = settings.data_dir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "samordna-webb-fel.log").open("a", encoding="utf-8") as handle:
            handle.write("".join(traceback.format_exception(error)))
    except OSError:
        logger.exception("felloggen kunde inte skrivas")


def app_from_environment() -> FastAPI:
    """The app for the process's settings: what ``samordna webb`` hands uvicorn (as a factory)."""
    return create_app(get_settings())
