"""EST use cases: report and import incidents, record what the meeting decided, and read its cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from core import clock
from core.errors import InvalidInputError, NotFoundError
from cycles.est_calendar import cycle_number_at
from cycles.est_decisions import close_intervention, record_attendance, record_decision
from importers.incidents import IncidentImport, read_incident_list, read_police_events
from importers.tables import file_kind
from models.directory import Person, find_persons
from models.est import Intervention, InterventionState, PersistingProblem
from models.incident import (
    FieldProblem,
    Incident,
    IncidentInput,
    IncidentSource,
    content_key,
    find_area,
    personal_data_problem,
    store_incidents,
    validate_incident,
)
from models.municipality import Municipality
from models.rhythm import rhythm_from_json
from models.task import Task


class IncidentRefusedError(InvalidInputError):
    """An incident that cannot be stored; ``problems`` names each field (the web shows them inline)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            "Händelsen sparades inte.\n" + "\n".join(f"- {p.field}: {p.message}" for p in problems)
        )
        self.problems = problems


def meeting_number(municipality: Municipality, number: int | None, as_of: date | None = None) -> int:
    """The EST meeting ``number`` names, else the next meeting on or after ``as_of`` (default today)."""
    if number is not None:
        if number < 1:
            raise InvalidInputError("--cykel numreras från 1.")
        return number
    return cycle_number_at(rhythm_from_json(municipality.rhythm), as_of or clock.today())


def report_incident(
    session: Session, municipality: Municipality, given: IncidentInput
) -> tuple[Incident, int]:
    """Check and store one incident reported by an actor; how many rows were new (0: reported before).

    Refused with every field's problem (an unknown area or category, personal data in a text).
    """
    rhythm = rhythm_from_json(municipality.rhythm)
    key = content_key(municipality.id or 0, IncidentSource.ACTOR, given)
    incident, problems = validate_incident(
        municipality.id or 0, given, rhythm, source=IncidentSource.ACTOR, key=key
    )
    if incident is None:
        raise IncidentRefusedError(problems)
    return incident, store_incidents(session, [incident])


@dataclass(frozen=True, slots=True)
class IncidentImportResult:
    """What an incident file held and how many of its incidents were new."""

    result: IncidentImport
    police: bool
    stored: int


def import_incidents(
    session: Session, municipality: Municipality, path: Path, *, organisation: str = "", dry_run: bool = False
) -> IncidentImportResult:
    """An actor's list (CSV/XLSX) or a saved file of the police's open events (JSON), in the caller's
    transaction; a dry run checks it and rolls the transaction back."""
    rhythm = rhythm_from_json(municipality.rhythm)
    police = file_kind(path) == "JSON"
    if police:
        result = read_police_events(path, municipality.id or 0, municipality.name, rhythm)
    else:
        result = read_incident_list(path, municipality.id or 0, rhythm, organisation=organisation)
    stored = 0 if dry_run else store_incidents(session, result.incidents)
    if dry_run:
        session.rollback()
    return IncidentImportResult(result, police, stored)


def find_responsible(session: Session, municipality_id: int, text: str, what: str) -> Person:
    """Exactly one person in the directory by name, e-mail address or alias."""
    found = find_persons(session, municipality_id, text)
    if len(found) != 1:
        raise InvalidInputError(
            f'{what}: hittar {"ingen" if not found else "flera"} person i katalogen som heter "{text}" '
            "(ange namn eller e-postadress)."
        )
    return found[0]


@dataclass(frozen=True, slots=True)
class DecisionCommand:
    """An insats the EST meeting decided."""

    text: str
    responsible: str  # a name, e-mail address or alias in the directory
    due: date
    meeting: int | None = None  # None: the next meeting from today
    area: str = ""
    place: str = ""


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    intervention: Intervention
    task: Task
    created: bool
    person: Person
    meeting: int


def record_est_decision(
    session: Session, municipality: Municipality, command: DecisionCommand
) -> DecisionOutcome:
    """Record an insats: it becomes a task with reminders and escalation. Recording it again changes
    nothing. Refused when a text holds personal data or the area is not one of the kommun's."""
    rhythm = rhythm_from_json(municipality.rhythm)
    for field, text in (("--insats", command.text), ("--plats", command.place)):
        problem = personal_data_problem(text, field)
        if problem:
            raise InvalidInputError(problem)
    area = command.area
    if command.area and rhythm.est.areas:
        found = find_area(command.area, rhythm)
        if found is None:
            raise InvalidInputError(f'--omrade: okänt område "{command.area}".')
        area = found
    number = meeting_number(municipality, command.meeting)
    person = find_responsible(session, municipality.id or 0, command.responsible, "--ansvarig")
    intervention, task, created = record_decision(
        session, municipality, number, command.text, area, command.place, person, command.due
    )
    return DecisionOutcome(intervention, task, created, person, number)


@dataclass(frozen=True, slots=True)
class AttendanceCommand:
    """Who attended an EST meeting: names, e-mail addresses or aliases in the directory."""

    present: tuple[str, ...]
    absent: tuple[str, ...] = ()
    meeting: int | None = None  # None: the next meeting from today


@dataclass(frozen=True, slots=True)
class AttendanceOutcome:
    meeting: int
    rows: list[tuple[Person, bool]]  # the meeting's whole attendance, present first


def record_est_attendance(
    session: Session, municipality: Municipality, command: AttendanceCommand
) -> AttendanceOutcome:
    """Record the attendance of a meeting for its protocol: the persons named present, every other
    member of the EST group absent. Recording again corrects it."""
    if not command.present and not command.absent:
        raise InvalidInputError("Ange minst en --narvarande (eller --franvarande).")
    municipality_id = municipality.id or 0
    here = [find_responsible(session, municipality_id, text, "--narvarande") for text in command.present]
    away = [find_responsible(session, municipality_id, text, "--franvarande") for text in command.absent]
    if {person.id for person in here} & {person.id for person in away}:
        raise InvalidInputError("Samma person kan inte vara både närvarande och frånvarande.")
    number = meeting_number(municipality, command.meeting)
    return AttendanceOutcome(number, record_attendance(session, municipality, number, here, away))


def set_intervention_state(
    session: Session, municipality: Municipality, intervention_id: int, state: InterventionState, on: date
) -> Intervention:
    """Mark an insats done, cancelled or open again; its tasks close at the next daily sweep."""
    found = close_intervention(session, municipality.id or 0, intervention_id, state, on)
    if found is None:
        raise NotFoundError(f"Insats {intervention_id} finns inte i {municipality.name}.")
    return found


def persisting_problems(session: Session, municipality: Municipality) -> list[PersistingProblem]:
    """The persisting problems raised to the BRÅ or kommunledningen, oldest first."""
    return list(
        session.exec(
            select(PersistingProblem)
            .where(PersistingProblem.municipality_id == municipality.id)
            .order_by(col(PersistingProblem.opened_on), col(PersistingProblem.id))
        )
    )
