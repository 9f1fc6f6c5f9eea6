"""The coordinator's dashboard: the plan with its lights, this round, escalations, a measure, the outbox
(with resend) and the personal links (with revocation). For logged-in BRÅ-samordnare only."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from core import clock
from core.errors import InvalidInputError
from models.db import transaction
from models.outbox import MessageState
from services.dashboard import measure_page, outbox, overview, resend_message
from services.links import link_overview, revoke_link
from web.pages import page
from web.session import require_coordinator, require_form_token
from web.state import state_of

router = APIRouter()


@router.get("/samordnare")
def dashboard(request: Request, meddelande: str | None = None) -> Response:
    """The plan by focus area with its lights, who has not answered this round, open escalations."""
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        view = overview(session, login.municipality, clock.local_day(now))
        return page(
            "overview.html.j2",
            title="Översikt",
            login=login,
            current="/samordnare",
            view=view,
            notice=meddelande,
        )


@router.get("/samordnare/atgard/{measure_id}")
def measure(measure_id: int, request: Request) -> Response:
    """One measure with its status history, tasks and escalations."""
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        view = measure_page(session, login.municipality, measure_id)
        return page(
            "measure.html.j2", title=f"Åtgärd {measure_id}", login=login, current="/samordnare", view=view
        )


@router.get("/samordnare/utkorg")
def outbox_page(request: Request, tillstand: str | None = None, meddelande: str | None = None) -> Response:
    """Every message of the kommun (queued, sent, failed, unknown…), newest first."""
    state = state_of(request)
    now = clock.now()
    try:
        chosen = MessageState(tillstand) if tillstand else None
    except ValueError:
        raise InvalidInputError(f'Tillståndet "{tillstand}" finns inte.') from None
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        view = outbox(session, login.municipality, chosen)
        return page(
            "outbox.html.j2",
            title="Utkorg",
            login=login,
            current="/samordnare/utkorg",
            view=view,
            notice=meddelande,
        )


def _resend(request: Request, message_id: int, form: FormData) -> Response:
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        require_form_token(login, form.get("csrf"))
        resend_message(session, login.municipality, message_id, now)
    return RedirectResponse("/samordnare/utkorg?meddelande=skickas-om", status_code=303)


@router.post("/samordnare/utkorg/{message_id}/skicka-om")
async def resend(message_id: int, request: Request) -> Response:
    """Put a failed message, or one whose fate is unknown, back in the queue."""
    async with request.form() as form:  # closes uploaded files afterwards
        return await run_in_threadpool(_resend, request, message_id, form)


@router.get("/samordnare/lankar")
def links(request: Request, meddelande: str | None = None) -> Response:
    """The personal links the mails have carried, with who used them when; revoke one here."""
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        lines = link_overview(session, login.municipality, now)
        return page(
            "links.html.j2",
            title="Personliga länkar",
            login=login,
            current="/samordnare/lankar",
            lines=lines,
            notice=meddelande,
        )


def _revoke(request: Request, link_id: int, form: FormData) -> Response:
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        require_form_token(login, form.get("csrf"))
        revoke_link(session, login.municipality, link_id, login.person.id or 0, now)
    return RedirectResponse("/samordnare/lankar?meddelande=aterkallad", status_code=303)


@router.post("/samordnare/lankar/{link_id}/aterkalla")
async def revoke(link_id: int, request: Request) -> Response:
    """Revoke a link at once."""
    async with request.form() as form:  # closes uploaded files afterwards
        return await run_in_threadpool(_revoke, request, link_id, form)
