"""SSPF pages for those with an SSPF role: the cases whose team they are in, and one case.

Every read goes through ``services.sspf.run_audited`` with the logged-in person as the acting user,
exactly as the command line does: the access decision and the audit entry come before any data, and a
refusal is itself written to the audit log. A BRÅ-samordnare without an SSPF role sees no case.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from core import clock
from models.db import transaction
from services import sspf as service
from services.accounts import Login
from services.sspf import Acting, SspfCall, SspfRefusedError
from web.pages import message_page, page_text
from web.session import require_login
from web.state import state_of

router = APIRouter()


def _login(request: Request) -> Login:
    state = state_of(request)
    with transaction(state.engine) as session:
        return require_login(request, session, clock.now())


def _acting(login: Login) -> Acting:
    return Acting(login.person.email, login.municipality.code)


def _refused(login: Login, error: SspfRefusedError) -> Response:
    return message_page("Åtkomst nekad", f"{error} Försöket är loggat.", status_code=403, login=login)


@router.get("/sspf")
def cases(request: Request) -> Response:
    """The cases whose team the person is in (codes only)."""
    login = _login(request)
    state = state_of(request)

    def work(call: SspfCall) -> str:
        return page_text(
            "sspf_cases.html.j2",
            title="SSPF-ärenden",
            login=login,
            current="/sspf",
            cases=service.list_cases(call),
        )

    try:
        body = service.run_audited(
            state.engine,
            state.settings,
            _acting(login),
            "webb arende lista",
            "översikt över egna ärenden",
            work,
        )
    except SspfRefusedError as error:
        return _refused(login, error)
    return HTMLResponse(body)


@router.get("/sspf/arende/{code}")
def case(code: str, request: Request) -> Response:
    """One case, for its team: decided and audited before anything is read."""
    login = _login(request)
    state = state_of(request)

    def work(call: SspfCall) -> str:
        view = service.read_case(call, code)
        _, actions = service.list_actions(call, code)
        return page_text(
            "sspf_case.html.j2",
            title=f"Ärende {view.case.code}",
            login=login,
            current="/sspf",
            view=view,
            actions=actions,
        )

    try:
        body = service.run_audited(
            state.engine,
            state.settings,
            _acting(login),
            "webb arende visa",
            "handläggning av ärendet",
            work,
        )
    except SspfRefusedError as error:
        return _refused(login, error)
    return HTMLResponse(body)
