"""A kommun's rhythm: when its cycles run and how hard they push. Configuration, not code.

Coordinators write it in the ``rytm:`` section of the kommun's directory file (Swedish keys, as in
``examples/falun-katalog.yaml``); it is validated here and stored as JSON on the kommun, so flows on a
worker read the same rhythm as the command line. Every field has a default that matches common
practice, so a kommun states only what differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, time
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.enums import ForumKind


class _Config(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)


class IncidentKind(StrEnum):
    """Whether an incident category is a crime or a matter of insecurity (otrygghet)."""

    CRIME = "brott"
    INSECURITY = "otrygghet"


class IncidentCategory(_Config):
    """A category of EST incidents: a stable key, its Swedish name, brott or otrygghet, and the police
    event types (Polisens öppna händelser, field ``type``) that map to it."""

    key: str = Field(alias="nyckel", min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    name: str = Field(alias="namn", min_length=1, max_length=80)
    kind: IncidentKind = Field(alias="typ")
    police_types: tuple[str, ...] = Field(default=(), alias="polisen")


def _default_categories() -> tuple[IncidentCategory, ...]:
    rows: tuple[tuple[str, str, IncidentKind, tuple[str, ...]], ...] = (
        ("skadegorelse", "Skadegörelse", IncidentKind.CRIME, ("Skadegörelse",)),
        ("klotter", "Klotter", IncidentKind.CRIME, ("Klotter",)),
        ("nedskrapning", "Nedskräpning", IncidentKind.INSECURITY, ("Nedskräpning",)),
        ("otrygg_plats", "Bristande belysning / otrygg plats", IncidentKind.INSECURITY, ()),
        ("storande_samling", "Störande samling", IncidentKind.INSECURITY, ("Ordningslagen", "Fylleri/LOB")),
        (
            "narkotika",
            "Narkotika (misstänkt försäljning, påverkade personer)",
            IncidentKind.CRIME,
            ("Narkotikabrott", "Rattfylleri"),
        ),
        (
            "vald_hot",
            "Våld och hot",
            IncidentKind.CRIME,
            (
                "Misshandel",
                "Misshandel, grov",
                "Olaga hot",
                "Våld/hot mot tjänsteman",
                "Rån",
                "Rån övrigt",
                "Skottlossning",
                "Knivlagen",
                "Bråk",
            ),
        ),
        (
            "stold_inbrott",
            "Stöld och inbrott",
            IncidentKind.CRIME,
            (
                "Stöld",
                "Stöld/inbrott",
                "Inbrott",
                "Stöld, ringa",
                "Inbrott, försök",
                "Fordonsstöld",
                "Butiksstöld",
            ),
        ),
        ("brand", "Brand", IncidentKind.CRIME, ("Brand", "Brand automatlarm", "Mordbrand")),
        ("buskorning", "Buskörning", IncidentKind.INSECURITY, ("Trafikbrott", "Olovlig körning")),
        ("annat", "Annat", IncidentKind.INSECURITY, ()),
    )
    return tuple(
        IncidentCategory(key=key, name=name, kind=kind, police_types=types) for key, name, kind, types in rows
    )


class EstArea(_Config):
    """An area (område) of the kommun: its name, other spellings, and the police location names
    (``location.name``) or place names that mean it."""

    name: str = Field(alias="namn", min_length=1, max_length=80)
    aliases: tuple[str, ...] = Field(default=(), alias="alias")
    # Optional centre ("lat,lng") and radius: a police event whose gps lies within it maps here.
    gps: str = Field(default="", alias="gps", pattern=r"^$|^-?\d+(\.\d+)?,\s*-?\d+(\.\d+)?$")
    radius_m: int = Field(default=0, ge=0, le=20000, alias="radie_m")


class EscalationTarget(StrEnum):
    """Where the kommun's rutin raises a persisting problem."""

    BRA = "bra"
    MANAGEMENT = "kommunledningen"
    BOTH = "båda"


class PersistingRule(_Config):
    """A persisting problem: the same area and category with at least ``threshold`` incidents in each
    of ``periods`` consecutive EST periods; raised to ``escalate_to``."""

    threshold: int = Field(default=5, ge=1, le=1000, alias="troskel")
    periods: int = Field(default=3, ge=2, le=26, alias="perioder")
    escalate_to: EscalationTarget = Field(default=EscalationTarget.BRA, alias="eskalera_till")


# The national EST run goes daily at 22:00 (prefect.yaml) and judges the day's meeting as held: a
# meeting must have begun by then.
LATEST_MEETING_TIME = time(22, 0)


class EstRhythm(_Config):
    """EST: a meeting every ``interval_days`` from ``first_meeting`` at ``meeting_time`` local time."""

    first_meeting: date = Field(default=date(2025, 1, 7), alias="forsta_mote")
    meeting_time: time = Field(default=time(9, 0), alias="tid")
    interval_days: int = Field(default=14, ge=7, le=28, alias="intervall_dagar")
    report_lead_working_days: int = Field(default=2, ge=0, le=10, alias="rapportera_dagar_fore")
    agenda_lead_working_days: int = Field(default=1, ge=0, le=10, alias="dagordning_dagar_fore")
    place: str = Field(default="", alias="plats")
    # A meeting that falls on a holiday or de-facto holiday (trettondedag jul, Kristi himmelsfärd,
    # julafton): "flytta" holds it on the next working day, "stall_in" cancels it.
    on_holiday: Literal["flytta", "stall_in"] = Field(default="flytta", alias="pa_helgdag")
    meeting_minutes: int = Field(default=90, ge=15, le=480, alias="motets_langd_minuter")
    areas: tuple[EstArea, ...] = Field(default=(), alias="omraden")
    categories: tuple[IncidentCategory, ...] = Field(default_factory=_default_categories, alias="kategorier")
    persisting: PersistingRule = Field(default_factory=PersistingRule, alias="ihallande")
    # Police event types (prefixes) that are no EST incident: summaries, traffic accidents, searches.
    police_ignore: tuple[str, ...] = Field(
        default=(
            "Sammanfattning",
            "Trafikolycka",
            "Trafikkontroll",
            "Försvunnen person",
            "Fjällräddning",
            "Sjöräddning",
            "Arbetsplatsolycka",
            "Polisinsats/kommendering",
            "Kontroll person/fordon",
            "Naturkatastrof",
            "Djur",
            "Övrigt",
            "Uppdatering",
        ),
        alias="polisen_ignorera",
    )

    @model_validator(mode="after")
    def _unique_keys(self) -> EstRhythm:
        if self.meeting_time > LATEST_MEETING_TIME:
            # The national EST run (prefect.yaml) goes at 22:00 and treats the day's meeting as held.
            raise ValueError(f"EST-mötet måste börja senast kl. {LATEST_MEETING_TIME:%H:%M} (tid)")
        keys = [category.key for category in self.categories]
        if len(set(keys)) != len(keys):
            raise ValueError("kategoriernas nycklar måste vara unika")
        if not self.categories:
            raise ValueError("minst en kategori behövs")
        return self

    def category(self, key: str) -> IncidentCategory | None:
        """The category with this key."""
        return next((category for category in self.categories if category.key == key), None)


class FollowUpRhythm(_Config):
    """Åtgärdsplan follow-up: status reports due before the meetings of ``forum``."""

    forum: ForumKind = Field(default=ForumKind.LOCAL_BRA, alias="forum")
    # The forum's meetings in these months are the follow-up meetings (the halvår rhythm: May, November).
    months: tuple[int, ...] = Field(default=(5, 11), min_length=1, max_length=12, alias="manader")
    report_lead_working_days: int = Field(default=10, ge=1, le=60, alias="dagar_fore")
    # Tasks are created this many days before they are due, so people see them coming.
    create_days_before_due: int = Field(default=30, ge=1, le=120, alias="skapa_dagar_fore")
    yearly_half: int = Field(default=2, ge=1, le=2, alias="arsvis_halvar")


class SituationAssessmentStep(_Config):
    name: str = Field(alias="namn")
    months_before_due: int = Field(ge=0, le=24, alias="manader_fore")


def _default_steps() -> tuple[SituationAssessmentStep, ...]:
    return (
        SituationAssessmentStep(name="Starta datainsamling för ny lägesbild", months_before_due=9),
        SituationAssessmentStep(name="Analys och orsaksanalys", months_before_due=6),
        SituationAssessmentStep(name="Förslag till lägesbild till BRÅ", months_before_due=3),
        SituationAssessmentStep(name="Beslut om lägesbild i Kommunstyrelsen", months_before_due=0),
    )


class SituationAssessmentRhythm(_Config):
    """The lägesbild every ``interval_years`` from the last decision, and the plan's revision."""

    interval_years: int = Field(default=2, ge=1, le=4, alias="intervall_ar")
    steps: tuple[SituationAssessmentStep, ...] = Field(default_factory=_default_steps, alias="steg")
    plan_revision_lead_working_days: int = Field(default=40, ge=5, le=200, alias="revidera_plan_dagar_fore")
    create_days_before_due: int = Field(default=30, ge=1, le=120, alias="skapa_dagar_fore")


class ReminderLadder(_Config):
    """A reminder N working days before due, one on the due day, then every M working days overdue."""

    before_due_working_days: int = Field(default=3, ge=0, le=20, alias="dagar_fore")
    on_due_day: bool = Field(default=True, alias="pa_forfallodagen")
    overdue_every_working_days: int = Field(default=5, ge=1, le=30, alias="upprepa_var")


class StalledRules(_Config):
    """When a measure counts as stalled (avstannad) and goes to kommunledningen."""

    missed_follow_ups: int = Field(default=2, ge=1, le=6, alias="missade_uppfoljningar")
    delayed_reports_in_row: int = Field(default=2, ge=1, le=6, alias="forsenad_i_rad")
    past_end_grace_working_days: int = Field(default=10, ge=0, le=120, alias="efter_slutdatum_dagar")
    intervention_overdue_working_days: int = Field(default=10, ge=0, le=120, alias="insats_forsenad_dagar")


class EscalationRules(_Config):
    """Overdue past ``level_1`` working days → chef or BRÅ-samordnare; past ``level_2`` → kommunledningen."""

    level_1_working_days: int = Field(default=5, ge=1, le=60, alias="niva1_efter")
    level_2_working_days: int = Field(default=15, ge=2, le=120, alias="niva2_efter")
    stalled: StalledRules = Field(default_factory=StalledRules, alias="avstannad")

    @model_validator(mode="after")
    def _ordered(self) -> EscalationRules:
        if self.level_2_working_days <= self.level_1_working_days:
            raise ValueError("niva2_efter måste vara större än niva1_efter")
        return self


class Rhythm(_Config):
    """Everything a kommun can tune about its cycles."""

    est: EstRhythm = Field(default_factory=EstRhythm)
    follow_up: FollowUpRhythm = Field(default_factory=FollowUpRhythm, alias="uppfoljning")
    situation_assessment: SituationAssessmentRhythm = Field(
        default_factory=SituationAssessmentRhythm, alias="lagesbild"
    )
    reminders: ReminderLadder = Field(default_factory=ReminderLadder, alias="paminnelser")
    escalation: EscalationRules = Field(default_factory=EscalationRules, alias="eskalering")
    daily_sweep_time: time = Field(default=time(7, 0), alias="daglig_kontroll")
    sspf: SspfRhythm = Field(default_factory=lambda: SspfRhythm(), alias="sspf")  # noqa: PLW0108 - defined below


def rhythm_from_json(data: Mapping[str, object] | None) -> Rhythm:
    """The stored rhythm, or the defaults when none was given.

    Rhythms are frozen and most kommuner share one: each distinct rhythm is validated once per process
    (a national sweep reads 290 of them).
    """
    return _validated(json.dumps(data or {}, sort_keys=True, default=str))


@lru_cache(maxsize=512)
def _validated(serialised: str) -> Rhythm:
    return Rhythm.model_validate(json.loads(serialised))


class SspfRhythm(_Config):
    """SSPF: the target group, how often a case is followed up, consent watch and retention (gallring)."""

    target_min_age: int = Field(default=12, ge=0, le=30, alias="malgrupp_fran_alder")
    target_max_age: int = Field(default=20, ge=0, le=30, alias="malgrupp_till_alder")
    follow_up_weeks: int = Field(default=6, ge=1, le=26, alias="uppfoljning_veckor")
    consent_review_days_before: int = Field(default=14, ge=1, le=90, alias="omprova_samtycke_dagar_fore")
    reconsent_days_before_18: int = Field(default=30, ge=1, le=180, alias="samtycke_18_dagar_fore")
    retention_months: int = Field(default=12, ge=0, le=120, alias="gallring_manader")
    retention_method: Literal["radera", "anonymisera"] = Field(default="radera", alias="gallring_satt")

    @model_validator(mode="after")
    def _ordered(self) -> SspfRhythm:
        if self.target_max_age < self.target_min_age:
            raise ValueError("malgrupp_till_alder måste vara minst malgrupp_fran_alder")
        return self


Rhythm.model_rebuild()
