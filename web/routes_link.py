"""The ansvarig's page, reached from the personal link in every digest and escalation (no account).

``GET /svar/{token}`` shows the person's open tasks with a form for each; the posts below save one
answer each through ``services.answers`` and return to the page. EST members also get the incident
form (``/svar/{token}/handelse``), made for a phone. A token that opens nothing gives the one refusal
page and no data (404 for an unknown or altered link, 403 for an expired or revoked one).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from core import clock
from core.errors import DomainError
from models.db import transaction
from models.enums import MeasureStatus
from models.est import InterventionState
from models.incident import IncidentInput
from services.answers import (
    StatusAnswer,
    answer_status,
    complete_task,
    finish_intervention,
    personal_page,
    report_incident_from_page,
)
from services.est import IncidentRefusedError
from services.inputs import parse_day
from services.links import LinkHolder, LinkProblem, LinkRefusedError, check_link_csrf, link_csrf, open_link
from web.forms import field, optional_clock, optional_percent
from web.pages import page, refused_form_page, refused_link_page
from web.session import FormRefusedError
from web.state import WebState, state_of

router = APIRouter()
INDICATOR_FIELD = "indikator_"


def _refused(refused: LinkRefusedError) -> Response:
    return refused_link_page(404 if refused.problem is LinkProblem.UNKNOWN else 403)


def _person_page(
    state: WebState,
    token: str,
    now: datetime,
    *,
    notice: str | None = None,
    errors: dict[int, str] | None = None,
    values: dict[int, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        with transaction(state.engine) as session:
            holder = open_link(session, state.secret, token, now)
            view = personal_page(session, holder.person, holder.municipality, clock.local_day(now))
            return page(
                "person.html.j2",
                title="Mina uppgifter",
                kommun=holder.municipality.name,
                view=view,
                token=token,
                csrf=link_csrf(state.secret, holder),
                notice=notice,
                errors=errors or {},
                values=values or {},
                status_code=status_code,
            )
    except LinkRefusedError as refused:
        return _refused(refused)


@router.get("/svar/{token}")
def personal(token: str, request: Request, meddelande: str | None = None) -> Response:
    """The person's page."""
    return _person_page(state_of(request), token, clock.now(), notice=meddelande)


def _checked(state: WebState, session: Any, token: str, form: FormData, now: datetime) -> LinkHolder:
    holder = open_link(session, state.secret, token, now)
    if not check_link_csrf(state.secret, holder, field(form, "csrf")):
        raise FormRefusedError
    return holder


def _answer_of(form: FormData) -> StatusAnswer:
    status_text = field(form, "status")
    try:
        status = MeasureStatus(status_text)
    except ValueError:
        raise DomainError("Välj åtgärdens status.") from None
    return StatusAnswer(
        status=status,
        comment=field(form, "kommentar"),
        progress_percent=optional_percent(field(form, "framsteg"), "Framsteg"),
        next_step=field(form, "nasta_steg"),
        indicator_values={
            int(name.removeprefix(INDICATOR_FIELD)): value
            for name, value in form.multi_items()
            if name.startswith(INDICATOR_FIELD)
            and name.removeprefix(INDICATOR_FIELD).isdigit()
            and isinstance(value, str)
        },
    )


def _chosen_state(form: FormData) -> InterventionState:
    wanted = field(form, "tillstand")
    if wanted not in {InterventionState.DONE.value, InterventionState.CANCELLED.value}:
        raise DomainError("Välj genomförd eller avbruten.")
    return InterventionState(wanted)


def _save(state: WebState, token: str, task_id: int, form: FormData, kind: str) -> Response:
    now = clock.now()
    try:
        with transaction(state.engine) as session:
            holder = _checked(state, session, token, form, now)
            if kind == "status":
                answer_status(session, holder.municipality, holder.person, task_id, _answer_of(form), now)
            elif kind == "insats":
                finish_intervention(
                    session, holder.municipality, holder.person, task_id, _chosen_state(form), now
                )
            else:
                complete_task(session, holder.municipality, holder.person, task_id, now)
    except LinkRefusedError as refused:
        return _refused(refused)
    except FormRefusedError:
        return refused_form_page()
    except DomainError as error:
        values = {task_id: {name: value for name, value in form.items() if isinstance(value, str)}}
        return _person_page(state, token, now, errors={task_id: str(error)}, values=values, status_code=400)
    return RedirectResponse(f"/svar/{token}?meddelande={kind}", status_code=303)


@router.post("/svar/{token}/status/{task_id}")
async def save_status(token: str, task_id: int, request: Request) -> Response:
    """A status report for one of the person's measures."""
    async with request.form() as form:  # closes uploaded files afterwards
        return await run_in_threadpool(_save, state_of(request), token, task_id, form, "status")


@router.post("/svar/{token}/insats/{task_id}")
async def save_intervention(token: str, task_id: int, request: Request) -> Response:
    """An EST insats marked done or cancelled."""
    async with request.form() as form:  # closes uploaded files afterwards
        return await run_in_threadpool(_save, state_of(request), token, task_id, form, "insats")


@router.post("/svar/{token}/klar/{task_id}")
async def save_done(token: str, task_id: int, request: Request) -> Response:
    """A lägesbild step, plan revision or reporting task marked done."""
    async with request.form() as form:  # closes uploaded files afterwards
        return await run_in_threadpool(_save, state_of(request), token, task_id, form, "klar")


# ---------------------------------------------------------------------------------------------------
# EST on a phone: the incident form


def _incident_page(
    state: WebState,
    token: str,
    now: datetime,
    *,
    problems: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        with transaction(state.engine) as session:
            holder = open_link(session, state.secret, token, now)
            view = personal_page(session, holder.person, holder.municipality, clock.local_day(now))
            local = now.astimezone(clock.STOCKHOLM)
            defaults = {
                "datum": local.date().isoformat(),
                "tid": local.strftime("%H:%M"),
                "allvarlighet": "1",
            }
            return page(
                "incident.html.j2",
                title="Rapportera en händelse",
                kommun=holder.municipality.name,
                view=view,
                token=token,
                csrf=link_csrf(state.secret, holder),
                problems=problems or {},
                values={**defaults, **(values or {})},
                status_code=status_code,
            )
    except LinkRefusedError as refused:
        return _refused(refused)


@router.get("/svar/{token}/handelse")
def incident_form(token: str, request: Request) -> Response:
    """The incident form: date and time default to now, area and category are buttons."""
    return _incident_page(state_of(request), token, clock.now())


def _incident_input(form: FormData, today: date) -> tuple[IncidentInput | None, dict[str, str]]:
    problems: dict[str, str] = {}
    occurred = today
    occurred_time = None
    try:
        occurred = parse_day(field(form, "datum") or today.isoformat(), "Datum")
        if occurred > today:
            problems["datum"] = "Datumet ligger i framtiden."
    except DomainError as error:
        problems["datum"] = str(error)
    try:
        occurred_time = optional_clock(field(form, "tid"), "Tid")
    except DomainError as error:
        problems["tid"] = str(error)
    if not field(form, "kategori"):
        problems["kategori"] = "Välj vad som hände."
    severity = field(form, "allvarlighet") or "1"
    if severity not in {"1", "2", "3"}:
        problems["allvarlighet"] = "Välj 1, 2 eller 3."
        severity = "1"
    if problems:
        return None, problems
    return (
        IncidentInput(
            occurred_on=occurred,
            category=field(form, "kategori"),
            occurred_time=occurred_time,
            area=field(form, "omrade"),
            place=field(form, "plats"),
            severity=int(severity),
            reported_to_police=field(form, "polisanmald") == "ja",
            description=field(form, "beskrivning"),
        ),
        {},
    )


def _save_incident(state: WebState, token: str, form: FormData) -> Response:
    now = clock.now()
    values = {name: value for name, value in form.items() if isinstance(value, str) and name != "csrf"}
    given, problems = _incident_input(form, clock.local_day(now))
    stored = 0
    try:
        with transaction(state.engine) as session:
            holder = _checked(state, session, token, form, now)
            if given is not None:
                _, stored = report_incident_from_page(session, holder.municipality, holder.person, given)
    except LinkRefusedError as refused:
        return _refused(refused)
    except FormRefusedError:
        return refused_form_page()
    except IncidentRefusedError as refused:
        inline = {problem.field: problem.message for problem in refused.problems}
        return _incident_page(state, token, now, problems=inline, values=values, status_code=400)
    if given is None:  # the link and the form token were good: show what to put right
        return _incident_page(state, token, now, problems=problems, values=values, status_code=400)
    notice = "handelse" if stored else "handelse-fanns"
    return RedirectResponse(f"/svar/{token}?meddelande={notice}", status_code=303)


@router.post("/svar/{token}/handelse")
async def save_incident(token: str, request: Request) -> Response:
    """One incident; a refusal (personal data, an unknown area) is shown beside its field."""
    async with request.form() as form:  # closes uploaded files afterwards
        return await run_in_threadpool(_save_incident, state_of(request), token, form)
