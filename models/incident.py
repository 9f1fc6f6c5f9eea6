"""Händelser (incidents): what EST actors and the police saw, by area, place, category and time.

An incident carries no person: no name, no personnummer, no field for either. Free text that looks like
a personnummer (``models.personnummer.find_personnummer``) or like a list of full names is refused by
``personal_data_problem`` with a message that does not repeat what was written.

Each incident has an external key, unique per kommun, so the same report, the same file row or the same
police event imported twice is stored once. ``weekday`` and ``hour`` are stored beside the date and
time so the fortnightly lägesbild counts hot-times with plain GROUP BY on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, select

from core.text import fold
from models.personnummer import find_personnummer
from models.records import INSERT_CHUNK, insert_many
from models.rhythm import Rhythm
from models.types import StrEnumType, UTCDateTime, utcnow

DESCRIPTION_LIMIT = 500
PLACE_LIMIT = 200
MIN_SEVERITY = 1
MAX_SEVERITY = 3


class IncidentSource(StrEnum):
    ACTOR = "aktör"  # reported with `samordna est rapportera`
    IMPORT = "import"  # an actor's list (CSV/XLSX)
    POLICE = "Polisen"  # the police's open events


class PartOfDay(StrEnum):
    """When only the part of the day is known; each has an hour range for hot-times."""

    NIGHT = "natt"  # 00–06
    MORNING = "morgon"  # 06–10
    DAY = "dag"  # 10–17
    EVENING = "kväll"  # 17–24


PART_OF_DAY_HOURS: dict[PartOfDay, range] = {
    PartOfDay.NIGHT: range(6),
    PartOfDay.MORNING: range(6, 10),
    PartOfDay.DAY: range(10, 17),
    PartOfDay.EVENING: range(17, 24),
}


def part_of_day_at(hour: int) -> PartOfDay:
    """The part of the day an hour falls in."""
    return next(part for part, hours in PART_OF_DAY_HOURS.items() if hour in hours)


class Incident(SQLModel, table=True):
    """One händelse. No person fields, by design."""

    __tablename__ = "incident"
    __table_args__ = (
        sa.UniqueConstraint("external_key", name="uq_incident_external_key"),
        sa.Index("ix_incident_municipality_occurred", "municipality_id", "occurred_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id")
    occurred_on: date
    occurred_time: time | None = None
    part_of_day: PartOfDay | None = Field(default=None, sa_type=StrEnumType(PartOfDay))
    weekday: int = Field(description="0 Monday … 6 Sunday, from occurred_on")
    hour: int | None = Field(default=None, description="0–23 when the time is known")
    area: str = Field(default="", max_length=80, description="Område from the kommun's list; '' when unknown")
    place: str = Field(default="", max_length=PLACE_LIMIT)
    category: str = Field(max_length=40, description="A category key of the kommun's rhythm")
    organisation: str = Field(default="", max_length=200, description="The reporting organisation")
    reporter_role: str = Field(default="", max_length=100)
    severity: int = Field(default=1, ge=MIN_SEVERITY, le=MAX_SEVERITY)
    reported_to_police: bool = False
    description: str = Field(default="", max_length=DESCRIPTION_LIMIT)
    source: IncidentSource = Field(sa_type=StrEnumType(IncidentSource))
    source_url: str = Field(default="", max_length=300)
    external_key: str = Field(max_length=200, description="<kommun id>:<source>:<id or content hash>")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ---------------------------------------------------------------------------------------------------
# Daily counts: what the lägesbild reads instead of the incidents themselves

UNKNOWN_HOUR = -1  # an incident known only by its part of the day (or not at all) in the hour counts


class IncidentDayCount(SQLModel, table=True):
    """How many incidents a kommun has per day, area and category: the lägesbild's counts per period
    (``cycles.est_situation.counts_by_period``) sum these rows, never scanning the incidents. Kept by
    ``store_incidents``, the one way incidents are written, in the same transaction."""

    __tablename__ = "incident_day_count"

    municipality_id: int = Field(foreign_key="municipality.id", primary_key=True)
    occurred_on: date = Field(primary_key=True)
    area: str = Field(primary_key=True, max_length=80)
    category: str = Field(primary_key=True, max_length=40)
    count: int


class IncidentHourCount(SQLModel, table=True):
    """How many incidents a kommun has per day and hour (UNKNOWN_HOUR when only the part of the day is
    known): the lägesbild's hot-times sum these rows. Kept with IncidentDayCount."""

    __tablename__ = "incident_hour_count"

    municipality_id: int = Field(foreign_key="municipality.id", primary_key=True)
    occurred_on: date = Field(primary_key=True)
    hour: int = Field(primary_key=True, description="0–23, or -1 when the hour is not known")
    count: int


def _add_counts(session: Session, incidents: Sequence[Incident]) -> None:
    """Add the incidents to the daily counts: INSERT … ON CONFLICT DO UPDATE SET count = count + new,
    which two imports at once on PostgreSQL serialise row by row, so no increment is lost."""
    days: dict[tuple[int, date, str, str], int] = {}
    hours: dict[tuple[int, date, int], int] = {}
    for incident in incidents:
        day = (incident.municipality_id, incident.occurred_on, incident.area, incident.category)
        days[day] = days.get(day, 0) + 1
        hour = (
            incident.municipality_id,
            incident.occurred_on,
            UNKNOWN_HOUR if incident.hour is None else incident.hour,
        )
        hours[hour] = hours.get(hour, 0) + 1
    dialect = session.get_bind().dialect.name
    for table, counted, keys in (
        (IncidentDayCount, days, ("municipality_id", "occurred_on", "area", "category")),
        (IncidentHourCount, hours, ("municipality_id", "occurred_on", "hour")),
    ):
        core: sa.Table = table.__table__  # type: ignore[union-attr]
        # In key order: two imports at once lock the rows they share in the same order, never a deadlock.
        rows = [
            {**dict(zip(keys, key, strict=True)), "count": count} for key, count in sorted(counted.items())
        ]
        for start in range(0, len(rows), INSERT_CHUNK):
            insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(core)
            session.execute(
                insert.values(rows[start : start + INSERT_CHUNK]).on_conflict_do_update(
                    index_elements=list(keys), set_={"count": core.c.count + insert.excluded.count}
                )
            )


# ---------------------------------------------------------------------------------------------------
# Personal data in free text

_WORD = r"[A-ZÅÄÖÉÜ][a-zåäöéüß]+(?:-[A-ZÅÄÖÉÜ][a-zåäöéüß]+)?"
# A run of capitalised words on one line: "Anna Svensson", "Lars-Erik Berg Nilsson".
_RUN = re.compile(rf"(?<![\wÅÄÖåäö]){_WORD}(?:[ \t]+{_WORD})+(?![\wÅÄÖåäö])")
MAX_NAME_WORDS = 3
# Capitalised words that begin place names, organisations and sentences in EST reports: a pair
# starting or ending with one of them is not a person's name.
NOT_NAMES = frozenset(
    word.casefold()
    for word in [
        "Stora",
        "Lilla",
        "Nedre",
        "Övre",
        "Norra",
        "Södra",
        "Västra",
        "Östra",
        "Gamla",
        "Nya",
        "Falu",
        "Falun",
        "Polisen",
        "Kopparstaden",
        "Kommunen",
        "Skolan",
        "Räddningstjänsten",
        "Fritid",
        "Centrum",
        "Torget",
        "Gatan",
        "Vägen",
        "Parken",
        "Skolgården",
        "Resecentrum",
        "Stadshuset",
        "Klotter",
        "Skadegörelse",
        "Nedskräpning",
        "Brand",
        "Buskörning",
        "Stöld",
        "Inbrott",
        "Narkotika",
        "Bråk",
        "Störande",
        "Våld",
        "Hot",
        "Annat",
        "Misstänkt",
        "Ungdomar",
        "Grupp",
        "Flera",
        "Många",
        "Några",
        "Vid",
        "På",
        "I",
        "Under",
        "Efter",
        "Före",
        "Mellan",
        "Kväll",
        "Natt",
        "Morgon",
        "Dag",
        "Måndag",
        "Tisdag",
        "Onsdag",
        "Torsdag",
        "Fredag",
        "Lördag",
        "Söndag",
        "Januari",
        "Februari",
        "Mars",
        "April",
        "Maj",
        "Juni",
        "Juli",
        "Augusti",
        "September",
        "Oktober",
        "November",
        "December",
        "Region",
        "Dalarna",
        "Länsstyrelsen",
        "Trafikverket",
        "Coop",
        "Ica",
        "Willys",
        "Lidl",
        "Hemköp",
        "Systembolaget",
        "Mopeder",
        "Moped",
        "Bil",
        "Bilar",
        "Cykel",
        "Cyklar",
        "Okänd",
        "Okända",
        "Person",
        "Personer",
        "Se",
        "Ej",
        "Ingen",
        "Inga",
        "Anmält",
        "Anmäld",
    ]
)
NAME_LIST_MIN = 2


def full_names(text: str, known_places: Iterable[str] = ()) -> list[str]:
    """The distinct runs of capitalised words in ``text`` that could be a person's full name: not a
    known place, and no word from ``NOT_NAMES``."""
    places = {" ".join(place.casefold().split()) for place in known_places}
    found: list[str] = []
    for match in _RUN.finditer(text):
        words = match.group(0).split()
        # A long run is several names side by side ("Anna Svensson Erik Berg"): two words each.
        chunks = (
            [words] if len(words) <= MAX_NAME_WORDS else [words[i : i + 2] for i in range(0, len(words), 2)]
        )
        for chunk in chunks:
            if len(chunk) < 2 or any(word.casefold() in NOT_NAMES for word in chunk):  # noqa: PLR2004 - first and last name
                continue
            joined = " ".join(chunk).casefold()
            if any(joined in place or place in joined for place in places if place):
                continue
            if joined not in found:
                found.append(joined)
    return found


def looks_like_name_list(text: str, known_places: Iterable[str] = ()) -> bool:
    """Whether ``text`` holds two or more full names (a list of people)."""
    return len(full_names(text, known_places)) >= NAME_LIST_MIN


def personal_data_problem(text: str, field: str, known_places: Iterable[str] = ()) -> str | None:
    """A Swedish message when ``text`` seems to hold personal data; None when it is fine. The message
    names the field and never repeats the text."""
    if find_personnummer(text):
        return (
            f"{field} ser ut att innehålla ett personnummer. Skriv aldrig personnummer i en händelse: "
            "beskriv vad som hände, inte vem."
        )
    if looks_like_name_list(text, known_places):
        return (
            f"{field} ser ut att innehålla namn på personer. Skriv inga namn i en händelse: "
            "beskriv vad som hände, inte vem."
        )
    return None


# ---------------------------------------------------------------------------------------------------
# Validation: raw values (from a prompt, a file row, a police event) to an Incident


@dataclass(frozen=True, slots=True)
class IncidentInput:
    """An incident as given, before validation: every value as text except what a reader parsed."""

    occurred_on: date
    category: str
    occurred_time: time | None = None
    part_of_day: str = ""
    area: str = ""
    place: str = ""
    organisation: str = ""
    reporter_role: str = ""
    severity: int = 1
    reported_to_police: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """What is wrong with one field, in Swedish; ``field`` is the Swedish field name."""

    field: str
    message: str


def area_names(rhythm: Rhythm) -> list[str]:
    """Every name and alias of the kommun's areas: places, not persons."""
    return [name for area in rhythm.est.areas for name in (area.name, *area.aliases)]


def find_area(text: str, rhythm: Rhythm, *, within: bool = False) -> str | None:
    """The area ``text`` names (its name or an alias, folded); with ``within``, also an area named
    anywhere inside a longer text (a police summary). None when no area matches."""
    folded = fold(text)
    if not folded:
        return None
    for area in rhythm.est.areas:
        for name in (area.name, *area.aliases):
            key = fold(name)
            if key == folded or (within and re.search(rf"\b{re.escape(key)}\b", folded)):
                return area.name
    return None


def find_category(text: str, rhythm: Rhythm) -> str | None:
    """The category key ``text`` names: its key or its name, folded."""
    folded = fold(text)
    for category in rhythm.est.categories:
        if folded in {fold(category.key), fold(category.name)}:
            return category.key
        if "/" in category.name and folded in {fold(part) for part in category.name.split("/")}:
            return category.key
    return None


def _part_of_day(given: IncidentInput, problems: list[FieldProblem]) -> PartOfDay | None:
    """The part of the day: from the clock time when there is one, else as written."""
    if given.occurred_time is not None:
        return part_of_day_at(given.occurred_time.hour)
    if not given.part_of_day.strip():
        return None
    try:
        return PartOfDay(given.part_of_day.strip().casefold())
    except ValueError:
        known = ", ".join(part.value for part in PartOfDay)
        problems.append(FieldProblem("tid", f"okänd del av dygnet; skriv en tid (21:30) eller {known}."))
        return None


def _text_problems(given: IncidentInput, description: str, places: list[str]) -> list[FieldProblem]:
    """Personal data in any free text of the incident."""
    found = []
    for field, text in (
        ("beskrivning", description),
        ("plats", given.place),
        ("organisation", given.organisation),
        ("rapportörens roll", given.reporter_role),
    ):
        problem = personal_data_problem(text, field.capitalize(), places)
        if problem:
            found.append(FieldProblem(field, problem))
    return found


def validate_incident(
    municipality_id: int, given: IncidentInput, rhythm: Rhythm, *, source: IncidentSource, key: str
) -> tuple[Incident | None, list[FieldProblem]]:
    """The incident, or every problem with it. Area must be one of the kommun's areas when it has
    any; the category one of its categories; no personal data in any text."""
    problems: list[FieldProblem] = []
    category = find_category(given.category, rhythm)
    if category is None:
        names = ", ".join(category.key for category in rhythm.est.categories)
        problems.append(FieldProblem("kategori", f"okänd kategori; kända: {names}."))
    area = given.area.strip()
    if area and rhythm.est.areas:
        found = find_area(area, rhythm)
        if found is None:
            names = ", ".join(area.name for area in rhythm.est.areas)
            problems.append(FieldProblem("område", f"okänt område; kommunens områden: {names}."))
        area = found or ""
    part = _part_of_day(given, problems)
    if not MIN_SEVERITY <= given.severity <= MAX_SEVERITY:
        problems.append(FieldProblem("allvarlighet", "allvarlighetsgraden ska vara 1, 2 eller 3."))
    description = " ".join(given.description.split())
    if len(description) > DESCRIPTION_LIMIT:
        problems.append(
            FieldProblem("beskrivning", f"beskrivningen är längre än {DESCRIPTION_LIMIT} tecken; korta den.")
        )
    problems.extend(_text_problems(given, description, area_names(rhythm)))
    if len(given.place.strip()) > PLACE_LIMIT:
        problems.append(FieldProblem("plats", f"platsen är längre än {PLACE_LIMIT} tecken."))
    if problems or category is None:
        return None, problems
    return (
        Incident(
            municipality_id=municipality_id,
            occurred_on=given.occurred_on,
            occurred_time=given.occurred_time,
            part_of_day=part,
            weekday=given.occurred_on.weekday(),
            hour=given.occurred_time.hour if given.occurred_time is not None else None,
            area=area,
            place=" ".join(given.place.split())[:PLACE_LIMIT],
            category=category,
            organisation=" ".join(given.organisation.split())[:200],
            reporter_role=" ".join(given.reporter_role.split())[:100],
            severity=given.severity,
            reported_to_police=given.reported_to_police,
            description=description,
            source=source,
            external_key=key,
        ),
        [],
    )


def content_key(
    municipality_id: int, source: IncidentSource, given: IncidentInput, occurrence: int = 0
) -> str:
    """A key from what the incident says (and which copy of it in one file), for sources without ids."""
    text = "|".join(
        str(value)
        for value in (
            given.occurred_on,
            given.occurred_time,
            given.part_of_day,
            fold(given.area),
            fold(given.place),
            fold(given.category),
            fold(given.organisation),
            given.severity,
            fold(given.description),
            occurrence,
        )
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"{municipality_id}:{source.value}:{digest}"


def store_incidents(session: Session, incidents: Sequence[Incident]) -> int:
    """Insert the incidents not stored before (by external key), and add those to the daily counts in
    the same transaction; how many were new. Every import and report of incidents comes here."""
    inserted = insert_many(session, incidents, key="external_key")
    # The first of several with one key is the one stored (the later ones met the conflict).
    new: dict[str, Incident] = {}
    for incident in incidents:
        if incident.external_key in inserted:
            new.setdefault(incident.external_key, incident)
    _add_counts(session, list(new.values()))
    return len(inserted)


def count_incidents(session: Session, municipality_id: int) -> int:
    """How many incidents the kommun has."""
    return session.exec(
        select(sa.func.count()).select_from(Incident).where(Incident.municipality_id == municipality_id)
    ).one()
