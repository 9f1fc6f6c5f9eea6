"""The plan aggregate: lägesbild → åtgärdsplan → fokusområden → åtgärder, and each åtgärd's history.

A measure keeps the raw text of every column it was imported from beside the values parsed out of it,
so nothing a kommun wrote is lost and every parsed value can be checked against its source.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.enums import FollowUpFrequency, ForumKind, MeasureStatus
from models.types import StrEnumType, UTCDateTime, utcnow


class PartyRole(StrEnum):
    """How an organisation or person takes part in a measure."""

    RESPONSIBLE = "ansvarig"
    PARTNER = "samverkan"


class SituationAssessment(SQLModel, table=True):
    """A lägesbild (§ 4): decided, and due again two years later."""

    __tablename__ = "situation_assessment"

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    title: str = Field(max_length=500)
    decided_by: str = Field(default="", max_length=200)
    decided_on: date | None = None


class ActionPlanBase(SQLModel):
    title: str = Field(max_length=500)
    decided_by: str = Field(default="", max_length=200)
    decided_on: date | None = None
    valid_from: date | None = None
    revision_due: date | None = None
    default_follow_up_raw: str = Field(default="", max_length=2000)
    default_follow_up_frequency: FollowUpFrequency | None = Field(
        default=None, sa_type=StrEnumType(FollowUpFrequency)
    )


class ActionPlan(ActionPlanBase, table=True):
    """An åtgärdsplan / handlingsplan (§ 5)."""

    __tablename__ = "action_plan"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "title", name="uq_action_plan_title"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    situation_assessment_id: int | None = Field(default=None, foreign_key="situation_assessment.id")
    source_file: str = Field(default="", max_length=500)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The day the plan was taken into use in Samordna (its import): a measure already late before it
    # raises no escalation; the first daily sweep lists it in one summary to the coordinator instead.
    adopted_on: date | None = None
    # Plan-level facts a document states that have no column of their own (diarienummer, …).
    extra: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)


class ActionPlanRead(ActionPlanBase):
    id: int
    municipality_id: int


class FocusArea(SQLModel, table=True):
    """A fokusområde / prioriterat område of a plan."""

    __tablename__ = "focus_area"
    __table_args__ = (sa.UniqueConstraint("plan_id", "title", name="uq_focus_area_title"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="action_plan.id", index=True)
    position: int
    title: str = Field(max_length=500)
    overall_goal: str = Field(default="", max_length=4000)


class Problem(SQLModel, table=True):
    """A problem (problemområde) identified in the lägesbild, as the stadsdel template lists them."""

    __tablename__ = "problem"

    id: int | None = Field(default=None, primary_key=True)
    focus_area_id: int = Field(foreign_key="focus_area.id", index=True)
    description: str = Field(max_length=4000)


class Cause(SQLModel, table=True):
    """A cause (orsak) of a problem: what a measure is meant to act on."""

    __tablename__ = "cause"

    id: int | None = Field(default=None, primary_key=True)
    problem_id: int = Field(foreign_key="problem.id", index=True)
    description: str = Field(max_length=4000)


class MeasureBase(SQLModel):
    title: str = Field(max_length=4000)
    description: str = Field(default="", max_length=8000)
    # Raw text as the plan wrote it, one field per concept.
    raw_period: str = Field(default="", max_length=2000)
    raw_scope: str = Field(default="", max_length=4000)
    raw_responsible: str = Field(default="", max_length=4000)
    raw_partners: str = Field(default="", max_length=4000)
    raw_cost: str = Field(default="", max_length=4000)
    raw_goal: str = Field(default="", max_length=8000)
    raw_follow_up: str = Field(default="", max_length=2000)
    # Values parsed from the raw text; *_understood is False where the text was kept but not understood.
    period_start: date | None = None
    period_end: date | None = None
    ongoing: bool = False
    recurring: bool = False
    period_understood: bool = False
    follow_up_frequency: FollowUpFrequency | None = Field(
        default=None, sa_type=StrEnumType(FollowUpFrequency)
    )
    follow_up_understood: bool = False
    status: MeasureStatus = Field(default=MeasureStatus.PLANNED, sa_type=StrEnumType(MeasureStatus))


class Measure(MeasureBase, table=True):
    """An åtgärd."""

    __tablename__ = "measure"

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    plan_id: int = Field(foreign_key="action_plan.id", index=True)
    focus_area_id: int = Field(foreign_key="focus_area.id", index=True)
    cause_id: int | None = Field(default=None, foreign_key="cause.id")
    # A sub-row of a measure (Orsa writes several activities under one åtgärd) points at the first row.
    parent_id: int | None = Field(default=None, foreign_key="measure.id")
    position: int
    source_sheet: str = Field(default="", max_length=200)
    source_row: int = 0
    extra: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    unmatched_parties: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MeasureParty(SQLModel, table=True):
    """An organisation or person named as ansvarig or samverkanspart of a measure."""

    __tablename__ = "measure_party"

    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    role: PartyRole = Field(sa_type=StrEnumType(PartyRole))
    position: int
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    # Plans name forums as doers too ("Faluns BRÅ sammankallar").
    forum_id: int | None = Field(default=None, foreign_key="forum.id")


class MeasureForum(SQLModel, table=True):
    """A forum a measure is followed up in ("Faluns BRÅ och Kommunstyrelsen …")."""

    __tablename__ = "measure_forum"

    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    kind: ForumKind = Field(sa_type=StrEnumType(ForumKind))
    name: str = Field(max_length=300)
    forum_id: int | None = Field(default=None, foreign_key="forum.id")


class StatusReportBase(SQLModel):
    reported_on: date
    status: MeasureStatus = Field(sa_type=StrEnumType(MeasureStatus))
    progress_percent: int | None = Field(default=None, ge=0, le=100)
    comment: str = Field(default="", max_length=8000)
    next_step: str = Field(default="", max_length=4000)


class StatusReport(StatusReportBase, table=True):
    """One entry in a measure's history (delrapport)."""

    __tablename__ = "status_report"

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    measure_id: int = Field(foreign_key="measure.id", index=True)
    reporter_person_id: int | None = Field(default=None, foreign_key="person.id")
    reporter_name: str = Field(default="", max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    source: str = Field(default="", max_length=50)


class StatusReportCreate(StatusReportBase):
    measure_id: int
    reporter_name: str = ""


def plans(session: Session, municipality_id: int) -> list[ActionPlan]:
    """The kommun's plans, newest decision first."""
    return list(
        session.exec(
            select(ActionPlan)
            .where(ActionPlan.municipality_id == municipality_id)
            .order_by(col(ActionPlan.decided_on).desc(), col(ActionPlan.id))
        )
    )


def plan_by_title(session: Session, municipality_id: int, title: str) -> ActionPlan | None:
    """The kommun's plan with exactly this title."""
    return session.exec(
        select(ActionPlan).where(ActionPlan.municipality_id == municipality_id, ActionPlan.title == title)
    ).first()


def focus_areas(session: Session, plan_id: int) -> list[FocusArea]:
    """A plan's focus areas in document order."""
    return list(
        session.exec(select(FocusArea).where(FocusArea.plan_id == plan_id).order_by(col(FocusArea.position)))
    )


def measures(session: Session, municipality_id: int, *, plan_id: int | None = None) -> list[Measure]:
    """The kommun's measures in document order, optionally of one plan."""
    query = select(Measure).where(Measure.municipality_id == municipality_id)
    if plan_id is not None:
        query = query.where(Measure.plan_id == plan_id)
    return list(session.exec(query.order_by(col(Measure.plan_id), col(Measure.position))))


def measure_parties(session: Session, measure_ids: list[int]) -> dict[int, list[MeasureParty]]:
    """The named parties of each measure, in the order the plan names them."""
    rows = session.exec(
        select(MeasureParty)
        .where(col(MeasureParty.measure_id).in_(measure_ids))
        .order_by(col(MeasureParty.measure_id), col(MeasureParty.position))
    )
    grouped: dict[int, list[MeasureParty]] = {measure_id: [] for measure_id in measure_ids}
    for row in rows:
        grouped[row.measure_id].append(row)
    return grouped


def record_situation_assessment(
    session: Session,
    municipality_id: int,
    decided_on: date,
    *,
    title: str = "",
    decided_by: str = "",
    plan_id: int | None = None,
) -> tuple[SituationAssessment, bool]:
    """Record the date of the kommun's lägesbild (and link it to ``plan_id`` when given): the one
    titled ``title`` (default "Lägesbild <year>") gets ``decided_on``, created if new. Returns the row
    and whether anything changed, so recording the same date twice changes nothing. Never commits."""
    title = title.strip() or f"Lägesbild {decided_on.year}"
    assessment = session.exec(
        select(SituationAssessment).where(
            SituationAssessment.municipality_id == municipality_id, SituationAssessment.title == title
        )
    ).first()
    changed = assessment is None
    if assessment is None:
        assessment = SituationAssessment(municipality_id=municipality_id, title=title)
    if assessment.decided_on != decided_on or (decided_by and assessment.decided_by != decided_by):
        changed = True
    assessment.decided_on = decided_on
    assessment.decided_by = decided_by or assessment.decided_by
    session.add(assessment)
    session.flush()
    if plan_id is not None:
        plan = session.get(ActionPlan, plan_id)
        if plan is not None and plan.situation_assessment_id != assessment.id:
            plan.situation_assessment_id = assessment.id
            session.add(plan)
            changed = True
    return assessment, changed


def organisations_without_contact(session: Session, measure_ids: list[int]) -> list[tuple[str, int]]:
    """The organisations named as ansvarig of these measures that have no contact person, by name,
    each with how many of the measures name it: a configuration problem, since nobody can be asked."""
    if not measure_ids:
        return []
    return _without_contact(session, col(MeasureParty.measure_id).in_(measure_ids)).get(None, [])


def organisations_without_contact_by_plan(
    session: Session, plan_ids: list[int]
) -> dict[int, list[tuple[str, int]]]:
    """``organisations_without_contact`` for every measure of each plan, in one query: plan id → the
    organisations (plans without any are left out)."""
    if not plan_ids:
        return {}
    found = _without_contact(session, col(Measure.plan_id).in_(plan_ids), by_plan=True)
    return {plan_id: rows for plan_id, rows in found.items() if plan_id is not None}


def _without_contact(
    session: Session, condition: sa.ColumnElement[bool], *, by_plan: bool = False
) -> dict[int | None, list[tuple[str, int]]]:
    from models.directory import Organisation, OrganisationContact  # noqa: PLC0415 - directory is a sibling

    grouped = [col(Measure.plan_id), col(Organisation.name)] if by_plan else [col(Organisation.name)]
    rows = session.execute(
        sa.select(*grouped, sa.func.count(sa.distinct(col(MeasureParty.measure_id))))
        .join(MeasureParty, col(MeasureParty.organisation_id) == col(Organisation.id))
        .join(Measure, col(Measure.id) == col(MeasureParty.measure_id))
        .outerjoin(OrganisationContact, col(OrganisationContact.organisation_id) == col(Organisation.id))
        .where(
            condition,
            col(MeasureParty.role) == PartyRole.RESPONSIBLE,
            col(OrganisationContact.person_id).is_(None),
        )
        .group_by(*grouped)
        .order_by(col(Organisation.name))
    )
    found: dict[int | None, list[tuple[str, int]]] = {}
    for row in rows:
        plan_id, name, count = row if by_plan else (None, *row)
        found.setdefault(plan_id, []).append((name, int(count)))
    return found


def measure_forums(session: Session, measure_ids: list[int]) -> dict[int, list[MeasureForum]]:
    """The follow-up forums of each measure."""
    rows = session.exec(
        select(MeasureForum)
        .where(col(MeasureForum.measure_id).in_(measure_ids))
        .order_by(col(MeasureForum.measure_id), col(MeasureForum.id))
    )
    grouped: dict[int, list[MeasureForum]] = {measure_id: [] for measure_id in measure_ids}
    for row in rows:
        grouped[row.measure_id].append(row)
    return grouped


def status_history(session: Session, measure_id: int) -> list[StatusReport]:
    """A measure's status reports, oldest first."""
    return list(
        session.exec(
            select(StatusReport)
            .where(StatusReport.measure_id == measure_id)
            .order_by(col(StatusReport.reported_on), col(StatusReport.id))
        )
    )


def measure_flags(measure: Measure) -> list[str]:
    """What the coordinator should look at in an imported measure (Swedish, for people)."""
    flags: list[str] = []
    if measure.raw_period.strip() and not measure.period_understood:
        flags.append("period ej tolkad")
    if measure.raw_follow_up.strip() and not measure.follow_up_understood:
        flags.append("uppföljning ej tolkad")
    if measure.unmatched_parties:
        flags.append("ansvarig ej i katalogen")
    if measure.extra:
        flags.append("okända kolumner")
    return flags


def json_ready(values: dict[str, Any]) -> dict[str, Any]:
    """Dates and enums as strings, for JSON and CSV output."""
    ready: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, date | datetime):
            ready[key] = value.isoformat()
        elif isinstance(value, StrEnum):
            ready[key] = value.value
        else:
            ready[key] = value
    return ready
