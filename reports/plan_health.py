"""Plan health: what the BRÅ-samordnare should put right in the åtgärdsplan, on any day.

Per measure (each row of the plan, sub-activities included):

- ``period``: no period was understood from the plan's text (or none was written);
- ``person``: no named person answers for it: no ansvarig person, and no ansvarig organisation with a
  contact person in the directory (the BRÅ-samordnare as fallback does not count);
- ``mal``: no measurable goal: the goal text holds no number, no date, and names none of the kommun's
  indicators;
- ``orsak``: not linked to a problem or cause of the lägesbild (Brå's main criticism of municipal plans);

and per plan: the revision date missing, passed, or within ``NEAR_DAYS`` days; and the next lägesbild
(two years after the latest decided one) passed or near.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, col, select

from core.text import fold
from cycles.situation_assessment import latest_assessment, next_assessment_due
from models.directory import OrganisationContact
from models.indicator import Indicator
from models.municipality import Municipality
from models.plan import ActionPlan, FocusArea, Measure, PartyRole, measure_parties, plans
from models.rhythm import rhythm_from_json

__all__ = ["CHECKS", "NEAR_DAYS", "HealthFinding", "PlanHealth", "check_plans", "measurable"]

NEAR_DAYS = 90
CHECKS = {
    "period": "ingen tolkad period",
    "person": "ingen namngiven ansvarig person",
    "mal": "inget mätbart mål (inget tal, datum eller indikator)",
    "orsak": "ingen koppling till problem eller orsak",
}
_NUMBER = re.compile(r"\d")
_DATE_WORDS = re.compile(
    r"\b(januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|"
    r"vecka|kvartal|tertial|halvår|årsskiftet|vårterminen|hösttermin|vt|ht)\b",
    re.IGNORECASE,
)


def measurable(goal: str, indicator_names: list[str]) -> bool:
    """Whether a goal text holds a number, a date (or a named month, week, term) or an indicator's name."""
    if _NUMBER.search(goal) or _DATE_WORDS.search(goal):
        return True
    folded = fold(goal)
    return any(name and fold(name) in folded for name in indicator_names)


@dataclass(frozen=True, slots=True)
class HealthFinding:
    check: str  # a key of CHECKS
    measure_id: int
    position: int
    title: str
    focus_area: str


@dataclass(slots=True)
class PlanHealth:
    plan_id: int
    title: str
    measures: int
    revision_due: date | None
    findings: list[HealthFinding] = field(default_factory=list)
    plan_notes: list[str] = field(default_factory=list)  # revision and lägesbild, in Swedish

    def count(self, check: str) -> int:
        return sum(1 for finding in self.findings if finding.check == check)


def _named_person(session: Session, ids: list[int]) -> set[int]:
    parties = measure_parties(session, ids)
    organisations = {
        party.organisation_id
        for rows in parties.values()
        for party in rows
        if party.organisation_id is not None
    }
    with_contact = set(
        session.exec(
            select(OrganisationContact.organisation_id).where(
                col(OrganisationContact.organisation_id).in_(organisations)
            )
        )
    )
    return {
        measure_id
        for measure_id, rows in parties.items()
        if any(
            party.role == PartyRole.RESPONSIBLE
            and (party.person_id is not None or party.organisation_id in with_contact)
            for party in rows
        )
    }


def _dates_note(what: str, due: date | None, as_of: date) -> str | None:
    if due is None:
        return f"{what}: inget datum angivet."
    if due < as_of:
        return f"{what}: datumet {due.isoformat()} har passerat ({(as_of - due).days} dagar sedan)."
    if due <= as_of + timedelta(days=NEAR_DAYS):
        return f"{what}: datumet {due.isoformat()} är nära ({(due - as_of).days} dagar kvar)."
    return None


def check_plans(session: Session, municipality: Municipality, as_of: date) -> list[PlanHealth]:
    """The health of every plan of the kommun, newest first."""
    municipality_id = municipality.id or 0
    indicator_names = list(
        session.exec(select(Indicator.name).where(Indicator.municipality_id == municipality_id))
    )
    assessment = latest_assessment(session, municipality_id)
    assessment_due = (
        next_assessment_due(assessment.decided_on, rhythm_from_json(municipality.rhythm))
        if assessment is not None and assessment.decided_on is not None
        else None
    )
    found: list[PlanHealth] = []
    for plan in plans(session, municipality_id):
        measures = list(
            session.exec(select(Measure).where(Measure.plan_id == plan.id).order_by(col(Measure.position)))
        )
        areas = {
            area.id: area.title
            for area in session.exec(select(FocusArea).where(FocusArea.plan_id == plan.id))
        }
        named = _named_person(session, [m.id or 0 for m in measures])
        health = PlanHealth(plan.id or 0, plan.title, len(measures), plan.revision_due)
        for measure in measures:
            failing = {
                "period": not measure.period_understood,
                "person": (measure.id or 0) not in named,
                "mal": not measurable(measure.raw_goal, indicator_names),
                "orsak": measure.cause_id is None,
            }
            health.findings.extend(
                HealthFinding(
                    check,
                    measure.id or 0,
                    measure.position,
                    measure.title,
                    areas.get(measure.focus_area_id, ""),
                )
                for check, fails in failing.items()
                if fails
            )
        notes = [
            _dates_note("Planens revidering", plan.revision_due, as_of),
            _dates_note("Nästa lägesbild", assessment_due, as_of) if assessment is not None else None,
        ]
        health.plan_notes = [note for note in notes if note is not None]
        found.append(health)
    return found


def plan_of(session: Session, plan_id: int) -> ActionPlan | None:
    return session.get(ActionPlan, plan_id)
