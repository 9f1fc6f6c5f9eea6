"""EST incidents from files: the actors' lists (CSV/XLSX) and the police's open events (JSON).

Both readers return the incidents to store and every problem found, each naming file, sheet, row and
column (a police event: its number in the file and its id). The caller stores nothing when there is
any problem: one transaction, as for plans. Keys make a re-import harmless: a row with an id column is
keyed by it, otherwise by its content and its occurrence in the file; a police event by its id.

The police format is that of https://polisen.se/api/events (saved to a file): a list of objects with
``id``, ``datetime`` ("2025-01-07 21:14:05 +01:00"), ``name``, ``summary``, ``url``, ``type`` and
``location`` {``name``, ``gps`` "lat,lng"}. The type maps to a category by the kommun's configuration
(``polisen:`` under each category; unmapped types become "annat", types in ``polisen_ignorera`` are
skipped); the location maps to an area by name or alias (also inside the summary), then by gps circle;
an event in another kommun of the county is skipped; an unmapped location is kept as the place.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from core.text import fold
from importers.limits import ImportLimits, check_file, current_limits, decode_text
from importers.problems import ImportFailedError, Location, Problem
from importers.tables import Sheet, column_letter, read_sheets
from models.incident import (
    DESCRIPTION_LIMIT,
    Incident,
    IncidentInput,
    IncidentSource,
    content_key,
    find_area,
    validate_incident,
)
from models.rhythm import Rhythm

# Column aliases of the actors' lists (folded); the first name is the field's Swedish name.
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "löpnummer", "referens", "ref", "nr"),
    "datum": ("datum", "dag", "händelsedatum"),
    "tid": ("tid", "klockslag", "tidpunkt", "del av dygnet", "när på dygnet"),
    "område": ("område", "omrade", "stadsdel", "bostadsområde"),
    "plats": ("plats", "adress", "var", "plats adress"),
    "kategori": ("kategori", "typ", "händelsetyp", "händelse typ"),
    "organisation": ("organisation", "aktör", "rapporterad av", "rapporterande organisation"),
    "roll": ("roll", "rapportörens roll", "funktion"),
    "allvarlighet": ("allvarlighet", "allvarlighetsgrad", "grad", "bedömning"),
    "polisanmäld": ("polisanmäld", "anmäld till polis", "polisanmälan", "anmäld"),
    "beskrivning": ("beskrivning", "kort beskrivning", "kommentar", "händelse", "vad hände"),
}
_ALIASES = {fold(alias): name for name, aliases in COLUMNS.items() for alias in aliases}
REQUIRED = ("datum", "kategori")
HEADER_SEARCH_ROWS = 20
YES = {"ja", "j", "x", "1", "sant", "true", "yes"}
NO = {"nej", "n", "0", "falskt", "false", "no", ""}
_TIME = re.compile(r"^(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?(?::\d{2})?$")


@dataclass(slots=True)
class IncidentImport:
    """What a file holds: the incidents to store, and what was skipped (police events elsewhere)."""

    incidents: list[Incident] = field(default_factory=list)
    skipped: int = 0
    skipped_reasons: Counter[str] = field(default_factory=Counter)


def parse_time(text: str) -> time | None:
    """``21:30``, ``21.30``, ``21`` or ``21:30:00``; None when not a clock time. Raises ValueError for
    a clock time out of range."""
    match = _TIME.match(text.strip())
    if match is None:
        return None
    return time(int(match["hour"]), int(match["minute"] or 0))


def parse_flag(text: str) -> bool:
    folded = fold(text)
    if folded in YES:
        return True
    if folded in NO:
        return False
    raise ValueError(text)


# ---------------------------------------------------------------------------------------------------
# Actors' lists


def _header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            name = _ALIASES.get(fold(cell.text))
            if name and name not in columns:
                columns[name] = position
        if all(required in columns for required in REQUIRED):
            return index, columns
    return None


def _row_input(
    values: dict[str, str], raw_date: object, where: dict[str, Location], problems: list[Problem]
) -> IncidentInput | None:
    occurred: date | None = None
    if isinstance(raw_date, date):
        occurred = raw_date
    else:
        try:
            occurred = date.fromisoformat(values["datum"])
        except ValueError:
            problems.append(Problem(where["datum"], "ogiltigt datum; skriv ÅÅÅÅ-MM-DD."))
    clock: time | None = None
    part = ""
    if values.get("tid"):
        try:
            clock = parse_time(values["tid"])
        except ValueError:
            problems.append(Problem(where["tid"], "ogiltig tid; skriv till exempel 21:30."))
        else:
            part = "" if clock is not None else values["tid"]
    severity = 1
    if values.get("allvarlighet"):
        try:
            severity = int(values["allvarlighet"])
        except ValueError:
            severity = 0
    reported = False
    try:
        reported = parse_flag(values.get("polisanmäld", ""))
    except ValueError:
        problems.append(Problem(where["polisanmäld"], "skriv ja eller nej."))
    if occurred is None:
        return None
    return IncidentInput(
        occurred_on=occurred,
        category=values.get("kategori", ""),
        occurred_time=clock,
        part_of_day=part,
        area=values.get("område", ""),
        place=values.get("plats", ""),
        organisation=values.get("organisation", ""),
        reporter_role=values.get("roll", ""),
        severity=severity,
        reported_to_police=reported,
        description=values.get("beskrivning", ""),
    )


@dataclass(slots=True)
class _ListReader:
    """State of reading one actor's list: the file, the kommun, and what was found so far."""

    path: Path
    municipality_id: int
    rhythm: Rhythm
    organisation: str
    problems: list[Problem] = field(default_factory=list)
    result: IncidentImport = field(default_factory=IncidentImport)
    occurrences: Counter[str] = field(default_factory=Counter)

    def key(self, given: IncidentInput, row_id: str) -> str:
        source = IncidentSource.IMPORT
        if row_id:
            return f"{self.municipality_id}:{source.value}:{fold(given.organisation)}:{row_id}"
        base = content_key(self.municipality_id, source, given)
        self.occurrences[base] += 1
        return content_key(self.municipality_id, source, given, self.occurrences[base] - 1)

    def row(self, sheet: Sheet, header_index: int, columns: dict[str, int], index: int) -> None:
        row = sheet.rows[index]
        cells = {name: row[position] if position < len(row) else None for name, position in columns.items()}
        values = {name: cell.text if cell is not None else "" for name, cell in cells.items()}
        if not any(values.values()):
            return
        sheet_name = sheet.shown_name
        row_number = sheet.row_number(index)
        header = sheet.rows[header_index]
        where = {
            name: Location(self.path, sheet_name, row_number, header[position].text, column_letter(position))
            for name, position in columns.items()
        }
        for name in COLUMNS:
            where.setdefault(name, Location(self.path, sheet_name, row_number, name))
        missing = [Problem(where[name], f"{name} saknas.") for name in REQUIRED if not values.get(name)]
        if missing:
            self.problems.extend(missing)
            return
        date_cell = cells.get("datum")
        given = _row_input(values, date_cell.value if date_cell else None, where, self.problems)
        if given is None:
            return
        key = self.key(given, values.get("id", ""))
        if self.organisation and not given.organisation:
            given = replace(given, organisation=self.organisation)
        incident, field_problems = validate_incident(
            self.municipality_id, given, self.rhythm, source=IncidentSource.IMPORT, key=key
        )
        self.problems.extend(
            Problem(where.get(_field_column(item.field), where["beskrivning"]), item.message)
            for item in field_problems
        )
        if incident is not None:
            self.result.incidents.append(incident)


def read_incident_list(
    path: Path, municipality_id: int, rhythm: Rhythm, *, organisation: str = ""
) -> IncidentImport:
    """The incidents of an actor's CSV/XLSX list; raises ImportFailedError with every problem."""
    reader = _ListReader(path, municipality_id, rhythm, organisation)
    found_header = False
    for sheet in read_sheets(path):
        header = _header(sheet)
        if header is None:
            continue
        found_header = True
        header_index, columns = header
        for index in range(header_index + 1, len(sheet.rows)):
            reader.row(sheet, header_index, columns, index)
    if not found_header:
        reader.problems.append(
            Problem(Location(path), "hittar ingen rubrikrad med kolumnerna Datum och Kategori (de krävs).")
        )
    if reader.problems:
        raise ImportFailedError(reader.problems)
    return reader.result


def _field_column(field_name: str) -> str:
    return {
        "tid": "tid",
        "område": "område",
        "plats": "plats",
        "kategori": "kategori",
        "organisation": "organisation",
        "rapportörens roll": "roll",
        "allvarlighet": "allvarlighet",
        "beskrivning": "beskrivning",
    }.get(field_name, "beskrivning")


# ---------------------------------------------------------------------------------------------------
# The police's open events

_POLICE_TIME = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})[ T]"
    r"(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})\s*(?P<tz>[+-]\d{2}:?\d{2})$"
)
EARTH_RADIUS_M = 6_371_000
SEVERITY_BY_TYPE = {
    fold(name): level
    for names, level in (
        (("Misshandel, grov", "Skottlossning", "Rån", "Mord/dråp", "Mordbrand", "Explosion"), 3),
        (("Misshandel", "Olaga hot", "Brand", "Rån övrigt", "Knivlagen", "Våld/hot mot tjänsteman"), 2),
    )
    for name in names
}


def parse_police_datetime(text: str) -> datetime:
    """``2025-01-07 21:14:05 +01:00`` (the police also write ``2025-1-7 …``) as an aware datetime."""
    match = _POLICE_TIME.match(text.strip())
    if match is None:
        raise ValueError(text)
    offset = match["tz"].replace(":", "")
    return datetime.strptime(
        f"{int(match['y']):04d}-{int(match['m']):02d}-{int(match['d']):02d} "
        f"{int(match['H']):02d}:{match['M']}:{match['S']} {offset}",
        "%Y-%m-%d %H:%M:%S %z",
    )


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _gps(text: str) -> tuple[float, float] | None:
    try:
        lat, lng = (float(part) for part in text.split(","))
    except ValueError:
        return None
    return lat, lng


def police_area(rhythm: Rhythm, location_name: str, text: str, gps: str) -> str | None:
    """The area of a police event: its location name, an area named in its text, then its gps."""
    found = find_area(location_name, rhythm) or find_area(text, rhythm, within=True)
    if found:
        return found
    point = _gps(gps)
    if point is None:
        return None
    for area in rhythm.est.areas:
        centre = _gps(area.gps) if area.gps else None
        if centre is not None and area.radius_m and _distance_m(point, centre) <= area.radius_m:
            return area.name
    return None


def police_category(rhythm: Rhythm, police_type: str) -> str | None:
    """The category key of a police type; None when the type is ignored; "annat" when unmapped."""
    folded = fold(police_type)
    if any(folded.startswith(fold(ignored)) for ignored in rhythm.est.police_ignore):
        return None
    for category in rhythm.est.categories:
        if folded in {fold(name) for name in category.police_types}:
            return category.key
    return "annat" if rhythm.est.category("annat") else rhythm.est.categories[-1].key


def _event_location(path: Path, number: int, column: str) -> Location:
    return Location(path, row=number, column=column, row_label="händelse")


def _police_input(
    event: dict[str, Any],
    municipality_name: str,
    rhythm: Rhythm,
    result: IncidentImport,
    problems: list[Problem],
    where: Callable[[str], Location],
) -> IncidentInput | None:
    """The incident a police event describes; None when it is skipped (recorded in ``result``) or
    wrong (recorded in ``problems``)."""
    location = event["location"] if isinstance(event["location"], dict) else {}
    location_name = str(location.get("name", ""))
    summary = str(event.get("summary", ""))
    # An event elsewhere in the county is skipped before its text is searched for area names
    # ("resecentrum" is in every town).
    if fold(location_name) != fold(municipality_name) and find_area(location_name, rhythm) is None:
        result.skipped += 1
        result.skipped_reasons["annan kommun"] += 1
        return None
    category = police_category(rhythm, str(event["type"]))
    if category is None:
        result.skipped += 1
        result.skipped_reasons[str(event["type"])] += 1
        return None
    try:
        moment = parse_police_datetime(str(event["datetime"]))
    except ValueError:
        problems.append(Problem(where("datetime"), 'ogiltig tid; väntat "2025-01-07 21:14:05 +01:00".'))
        return None
    area = police_area(
        rhythm, location_name, f"{event.get('name', '')} {summary}", str(location.get("gps", ""))
    )
    return IncidentInput(
        occurred_on=moment.date(),
        category=category,
        occurred_time=moment.time().replace(second=0, microsecond=0),
        area=area or "",
        place="" if area else location_name,
        organisation="Polisen",
        reporter_role="Polisens öppna händelser",
        severity=SEVERITY_BY_TYPE.get(fold(str(event["type"])), 1),
        reported_to_police=True,
        description=summary[:DESCRIPTION_LIMIT],
    )


def read_police_events(
    path: Path,
    municipality_id: int,
    municipality_name: str,
    rhythm: Rhythm,
    limits: ImportLimits | None = None,
) -> IncidentImport:
    """The kommun's incidents in a saved police events file; raises ImportFailedError with every problem."""
    check_file(path, limits or current_limits())
    try:
        document = json.loads(decode_text(path, path.read_bytes()))
    except json.JSONDecodeError as error:
        raise ImportFailedError(
            [
                Problem(
                    Location(path, row=error.lineno), "filen är inte giltig JSON i Polisens händelseformat."
                )
            ]
        ) from None
    except (RecursionError, ValueError):
        # json nests by recursion, and an integer of thousands of digits is refused by int(): neither is
        # an event list.
        raise ImportFailedError(
            [
                Problem(
                    Location(path),
                    "filen är inte giltig JSON i Polisens händelseformat (för djup eller för långa tal).",
                )
            ]
        ) from None
    if not isinstance(document, list):
        raise ImportFailedError(
            [Problem(Location(path), "filen ska vara en lista med händelser (Polisens API).")]
        )
    problems: list[Problem] = []
    result = IncidentImport()
    for number, event in enumerate(document, start=1):
        where = functools.partial(_event_location, path, number)
        if not isinstance(event, dict):
            problems.append(Problem(where("id"), "ska vara ett objekt med id, datetime, type och location."))
            continue
        missing = [key for key in ("id", "datetime", "type", "location") if key not in event]
        if missing:
            problems.append(Problem(where(missing[0]), f"{', '.join(missing)} saknas."))
            continue
        given = _police_input(event, municipality_name, rhythm, result, problems, where)
        if given is None:
            continue
        key = f"{municipality_id}:{IncidentSource.POLICE.value}:{event['id']}"
        incident, field_problems = validate_incident(
            municipality_id, given, rhythm, source=IncidentSource.POLICE, key=key
        )
        problems.extend(
            Problem(where("summary" if item.field == "beskrivning" else "type"), item.message)
            for item in field_problems
        )
        if incident is not None:
            incident.source_url = str(event.get("url", ""))[:300]
            result.incidents.append(incident)
    if problems:
        raise ImportFailedError(problems)
    return result
