"""A generated but realistic year of EST incidents for Falun, for ``samordna demo`` and the benchmark.

Seeded and deterministic: the same seed gives the same incidents (and the same external keys, so the
demo can run again without duplicates). Each category has a daily rate, a season, hours and areas:

- klotter peaks in spring (March–May), most of all in Stadskärnan;
- störande samling peaks on summer evenings (June–August, 19–01), around school's end and at weekends;
- brand peaks around nyår (28 December – 2 January) and Valborg (30 April);
- buskörning in the light half of the year; bristande belysning / otrygg plats in the dark months;
- skadegörelse and våld och hot at weekend nights; stöld evenly, mostly in Stadskärnan;
- narkotika steady, with an autumn surge at Bojsenburg that persists for several periods (the demo's
  persisting problem, raised to the BRÅ).
"""

from __future__ import annotations

import math
import random
import time as clock
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from cycles.est import est_members
from cycles.est_calendar import meeting_date
from cycles.est_decisions import record_attendance, record_decision
from cycles.est_situation import close_period
from models.db import transaction
from models.directory import Person
from models.est import Intervention, InterventionState, PersistingProblem
from models.incident import Incident, IncidentSource, PartOfDay, part_of_day_at, store_incidents
from models.municipality import find_municipality
from models.rhythm import Rhythm, rhythm_from_json
from reports.est_agenda import PROTOCOL, compile_agenda, write_documents

DEMO_SEED = 2080

# category → (incidents per day in all of Falun, hour weights by part of day, area weights)
RATES: dict[str, float] = {
    "skadegorelse": 0.55,
    "klotter": 0.45,
    "nedskrapning": 0.35,
    "otrygg_plats": 0.15,
    "storande_samling": 0.35,
    "narkotika": 0.22,
    "vald_hot": 0.28,
    "stold_inbrott": 0.45,
    "brand": 0.1,
    "buskorning": 0.14,
    "annat": 0.1,
}
EVENING_NIGHT = {17: 2, 18: 2, 19: 3, 20: 4, 21: 5, 22: 5, 23: 4, 0: 3, 1: 2, 2: 1}
DAYTIME = {8: 1, 9: 2, 10: 2, 11: 2, 12: 2, 13: 2, 14: 2, 15: 3, 16: 3, 17: 2}
HOURS: dict[str, dict[int, int]] = {
    "skadegorelse": EVENING_NIGHT,
    "klotter": {**EVENING_NIGHT, 3: 1},
    "nedskrapning": {**DAYTIME, 7: 2},
    "otrygg_plats": {16: 2, 17: 3, 18: 3, 19: 3, 20: 2, 21: 2, 22: 1},
    "storande_samling": {19: 2, 20: 4, 21: 6, 22: 6, 23: 4, 0: 2, 1: 1},
    "narkotika": {14: 1, 15: 2, 16: 2, 17: 3, 18: 3, 19: 3, 20: 3, 21: 2, 22: 1},
    "vald_hot": {20: 1, 21: 2, 22: 3, 23: 4, 0: 5, 1: 5, 2: 4, 3: 2},
    "stold_inbrott": {**DAYTIME, 18: 2, 19: 1, 2: 1, 3: 1},
    "brand": {**EVENING_NIGHT, 3: 1},
    "buskorning": {16: 2, 17: 3, 18: 4, 19: 4, 20: 4, 21: 3, 22: 2},
    "annat": DAYTIME,
}
AREAS: dict[str, dict[str, int]] = {
    "skadegorelse": {
        "Bojsenburg": 4,
        "Nedre Norslund": 3,
        "Järnet": 3,
        "Stadskärnan": 3,
        "Slätta": 2,
        "Britsarvet": 1,
    },
    "klotter": {"Stadskärnan": 5, "Nedre Norslund": 2, "Östermalm": 2, "Järnet": 1, "Lugnet": 1},
    "nedskrapning": {"Stadskärnan": 3, "Lugnet": 2, "Bojsenburg": 2, "Hälsinggården": 1},
    "otrygg_plats": {"Nedre Norslund": 3, "Bojsenburg": 2, "Järnet": 2, "Britsarvet": 1},
    "storande_samling": {"Stadskärnan": 4, "Lugnet": 3, "Bojsenburg": 2, "Järnet": 2},
    "narkotika": {"Bojsenburg": 3, "Nedre Norslund": 3, "Stadskärnan": 2, "Järnet": 1},
    "vald_hot": {"Stadskärnan": 6, "Bojsenburg": 2, "Nedre Norslund": 1},
    "stold_inbrott": {"Stadskärnan": 4, "Britsarvet": 2, "Hälsinggården": 2, "Slätta": 1, "Östermalm": 1},
    "brand": {"Bojsenburg": 3, "Järnet": 2, "Nedre Norslund": 2, "Slätta": 1},
    "buskorning": {"Slätta": 3, "Järnet": 2, "Britsarvet": 2, "Lugnet": 2},
    "annat": {"Stadskärnan": 2, "Bojsenburg": 1, "Järnet": 1},
}
PLACES = (
    "busshållplatsen",
    "skolgården",
    "parkeringen",
    "gång- och cykelvägen",
    "tvättstugan",
    "lekplatsen",
    "centrumtorget",
    "källarförrådet",
    "återvinningsstationen",
)
REPORTERS: dict[str, tuple[tuple[str, str], ...]] = {
    "default": (
        ("Kopparstaden", "Bovärd"),
        ("Polisen", "Kommunpolis"),
        ("Ungdomsstödjarna", "Fältare"),
        ("Fritid för unga", "Fritidsledare"),
        ("Centrala stadsrum", "Centrumledare"),
        ("Skolan", "Rektor"),
    ),
}
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "skadegorelse": ("Krossade rutor.", "Uppbruten dörr, lås förstört.", "Sönderslagen belysningsstolpe."),
    "klotter": ("Klotter på fasad.", "Taggar i trapphus.", "Klotter på elskåp och skyltar."),
    "nedskrapning": ("Nedskräpning efter samling.", "Glas och burkar på marken.", "Överfulla papperskorgar."),
    "otrygg_plats": ("Trasig belysning, platsen upplevs otrygg.", "Buskage skymmer gångvägen."),
    "storande_samling": ("Grupp ungdomar med hög musik.", "Samling med alkohol, störningar för boende."),
    "narkotika": ("Misstänkt försäljning.", "Påverkade personer vid entrén.", "Kanyler hittade."),
    "vald_hot": ("Bråk utanför krog.", "Hot mot personal.", "Misshandel, polis tillkallad."),
    "stold_inbrott": ("Inbrott i förråd.", "Cykelstölder.", "Butiksstöld."),
    "brand": ("Brand i papperskorg.", "Anlagd brand i soprum.", "Containerbrand."),
    "buskorning": ("Mopeder på gång- och cykelväg.", "Crossmotorcyklar i skogsdungen."),
    "annat": ("Övergivet fordon.", "Oro bland boende efter rykten."),
}


def _season(category: str, day: date) -> float:
    month = day.month
    weekend = day.weekday() >= 4  # noqa: PLR2004 - Friday, Saturday and Sunday evenings
    if category == "klotter":
        return 2.2 if month in {3, 4, 5} else 0.5 if month in {11, 12, 1, 2} else 1.0
    if category == "storande_samling":
        summer = 2.6 if month in {6, 7, 8} else 0.5 if month in {12, 1, 2} else 1.0
        school_end = 1.6 if date(day.year, 6, 9) <= day <= date(day.year, 6, 20) else 1.0
        return summer * school_end * (1.6 if weekend else 0.8)
    if category == "brand":
        nyar = (month == 12 and day.day >= 28) or (month == 1 and day.day <= 2)  # noqa: PLR2004 - nyår
        valborg = month == 4 and day.day == 30  # noqa: PLR2004 - Valborgsmässoafton
        return 10.0 if nyar else 8.0 if valborg else 1.0
    if category == "buskorning":
        return 2.5 if 5 <= month <= 9 else 0.3  # noqa: PLR2004 - the light half of the year
    if category == "nedskrapning":
        return 2.0 if month in {6, 7, 8} else 1.0
    if category == "otrygg_plats":
        return 2.5 if month in {10, 11, 12, 1, 2} else 0.3 if month in {5, 6, 7, 8} else 1.0
    if category in {"skadegorelse", "vald_hot"}:
        return (1.4 if month in {9, 10, 11} else 1.0) * (1.8 if weekend else 0.7)
    return 1.0


def _surge(category: str, area: str, day: date) -> float:
    """The demo's persisting problem: narkotika at Bojsenburg from September to mid-November."""
    if (
        category == "narkotika"
        and area == "Bojsenburg"
        and date(day.year, 9, 1) <= day <= date(day.year, 11, 15)
    ):
        return 8.0
    return 1.0


def _poisson(rng: random.Random, rate: float) -> int:
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _pick(rng: random.Random, weights: dict[str, int] | dict[int, int]) -> object:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def generate_incidents(
    municipality_id: int,
    start: date,
    end: date,
    *,
    seed: int = DEMO_SEED,
    scale: float = 1.0,
    tag: str = "demo",
) -> list[Incident]:
    """Incidents from ``start`` to ``end`` (inclusive); ``scale`` multiplies every rate."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    incidents: list[Incident] = []
    day = start
    while day <= end:
        for category, rate in RATES.items():
            areas = AREAS[category]
            for area, weight in areas.items():
                share = weight / sum(areas.values())
                expected = rate * share * _season(category, day) * _surge(category, area, day) * scale
                for _ in range(_poisson(rng, expected)):
                    hour = int(str(_pick(rng, HOURS[category])))
                    exact = rng.random() < 0.8  # noqa: PLR2004 - a fifth know only the part of the day
                    organisation, role = rng.choice(REPORTERS["default"])
                    index = len(incidents)
                    incidents.append(
                        Incident(
                            municipality_id=municipality_id,
                            occurred_on=day,
                            occurred_time=time(hour, rng.choice((0, 10, 15, 20, 30, 40, 45, 50)))
                            if exact
                            else None,
                            part_of_day=part_of_day_at(hour) if exact else rng.choice(list(PartOfDay)),
                            weekday=day.weekday(),
                            hour=hour if exact else None,
                            area=area,
                            place=rng.choice(PLACES),
                            category=category,
                            organisation=organisation,
                            reporter_role=role,
                            severity=rng.choices((1, 2, 3), weights=(6, 3, 1))[0],
                            reported_to_police=rng.random()
                            < (0.7 if category in {"vald_hot", "narkotika"} else 0.3),
                            description=rng.choice(DESCRIPTIONS[category]),
                            source=IncidentSource.POLICE
                            if organisation == "Polisen"
                            else IncidentSource.ACTOR,
                            external_key=f"{municipality_id}:{tag}:{seed}:{day.isoformat()}:{index}",
                        )
                    )
        day += timedelta(days=1)
    return incidents


@dataclass(slots=True)
class DemoSummary:
    year: int
    incidents: int
    areas: int
    periods: int
    top_categories: list[tuple[str, int]]
    hot_spot: str
    escalations: int
    problem_lines: list[str]
    decisions: int
    number: int
    meeting: str
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


# (meeting number, what, area, place, ansvarig's e-mail, due in days after the meeting, done)
DEMO_DECISIONS = (
    (
        7,
        "Sanering av klotter inom 24 timmar och dialog med fastighetsägare",
        "Stadskärnan",
        "Åsgatan",
        "henrik.jansson@example.se",
        28,
        True,
    ),
    (
        13,
        "Fältare och fritidsledare kvällstid vid badplatsen",
        "Lugnet",
        "",
        "mats.bjork@example.se",
        21,
        True,
    ),
    (
        19,
        "Ökad polisiär närvaro och fältare vid busshållplatsen",
        "Bojsenburg",
        "busshållplatsen",
        "jonas.ek@example.se",
        21,
        False,
    ),
    (
        22,
        "Byte av belysning på gångvägen",
        "Nedre Norslund",
        "gång- och cykelvägen",
        "sofia.engstrom@example.se",
        14,
        False,
    ),
    (25, "Föräldravandring inför nyår", "Bojsenburg", "", "maja.olsson@example.se", 14, False),
)


def run_demo(engine: sa.Engine, out_dir: Path, year: int = 2025) -> DemoSummary:
    """Generate Falun's year, close each EST period, record some decisions, write the last agenda."""
    started = clock.perf_counter()
    with transaction(engine) as session:
        municipality = find_municipality(session, "2080")
        if municipality is None:
            raise LookupError("Falun (2080) finns inte: importera exempelkatalogen först.")
        municipality_id = municipality.id or 0
        rhythm: Rhythm = rhythm_from_json(municipality.rhythm)
        incidents = generate_incidents(municipality_id, date(year, 1, 1), date(year, 12, 31))
        # The year before, so each period has "the same period a year earlier" to compare with.
        history = generate_incidents(
            municipality_id, date(year - 1, 1, 1), date(year - 1, 12, 31), seed=DEMO_SEED - 1
        )
        store_incidents(session, [*history, *incidents])
        numbers = [n for n in range(1, 60) if meeting_date(rhythm, n).year == year]
        decisions = {row[0]: row for row in DEMO_DECISIONS}
        people = {
            person.email: person
            for person in session.exec(select(Person).where(Person.municipality_id == municipality_id))
        }
        for number in numbers:
            held = meeting_date(rhythm, number)
            close_period(session, municipality_id, rhythm, number, held)
            if number in decisions:
                _, what, area, place, email, days, done = decisions[number]
                intervention, _, _ = record_decision(
                    session,
                    municipality,
                    number,
                    what,
                    area,
                    place,
                    people[email],
                    held + timedelta(days=days),
                )
                if done:
                    intervention.state = InterventionState.DONE
                    intervention.closed_on = intervention.due_date
                    session.add(intervention)
        last = numbers[-1]
        # The meeting before: who came (all but the last two members), for its protocol.
        record_attendance(session, municipality, last - 1, est_members(session, municipality_id)[:-2])
        agenda = compile_agenda(session, municipality, last, meeting_date(rhythm, last) - timedelta(days=2))
        paths = write_documents(agenda, out_dir)
        protocol = compile_agenda(session, municipality, last - 1)
        paths |= {
            f"protokoll-{fmt}": path for fmt, path in write_documents(protocol, out_dir, PROTOCOL).items()
        }
        problems = session.exec(
            select(PersistingProblem).where(PersistingProblem.municipality_id == municipality_id)
        ).all()
        names = {category.key: category.name for category in rhythm.est.categories}
        counts = Counter(incident.category for incident in incidents)
        spot = agenda.situation.hot_spots[0] if agenda.situation.hot_spots else None
        decided = session.exec(
            select(sa.func.count())
            .select_from(Intervention)
            .where(Intervention.municipality_id == municipality_id)
        ).one()
        return DemoSummary(
            year=year,
            incidents=len(incidents),
            areas=len({incident.area for incident in incidents}),
            periods=len(numbers),
            top_categories=[(names[key], count) for key, count in counts.most_common(3)],
            hot_spot=f"{names[spot.category]} i {spot.area} ({spot.previous} → {spot.count})"
            if spot
            else "ingen",
            escalations=len(problems),
            problem_lines=[
                f"{names[row.category]} i {row.area}: "
                + ", ".join(f"{entry['period']}: {entry['count']}" for entry in row.history)
                + (f" (löst {row.resolved_on.isoformat()})" if row.resolved_on else "")
                for row in problems
            ],
            decisions=int(decided),
            number=last,
            meeting=meeting_date(rhythm, last).isoformat(),
            files=list(paths.values()),
            seconds=clock.perf_counter() - started,
        )
