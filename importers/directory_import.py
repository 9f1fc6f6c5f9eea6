"""Import a kommun's directory (katalog): organisations, persons and forums with their meetings.

The directory is a YAML file a coordinator edits by hand (see ``examples/falun-katalog.yaml``). Import
is an upsert keyed on names and e-mail addresses, so running it again after an edit updates in place.
Every problem is reported with the entry and field it concerns; with any error nothing is written.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import Session, SQLModel, select

from importers.limits import ImportLimits, current_limits
from importers.problems import ImportFailedError, Location, Problem
from importers.safe_yaml import load_yaml
from importers.schema import too_long
from importers.tables import file_kind
from models.directory import Forum, ForumMeeting, ForumMember, Organisation, OrganisationContact, Person
from models.enums import ForumKind
from models.municipality import KOMMUNKOD, Municipality
from models.rhythm import Rhythm

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
ROLES = ("bra_samordnare", "kommunledning", "ansvarig", "administratör", "sspf_samordnare")


@dataclass(slots=True)
class DirectoryDraft:
    file: Path
    municipality_name: str = ""
    municipality_code: str = ""
    organisations: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    forums: list[dict[str, Any]] = field(default_factory=list)
    rhythm: Rhythm | None = None


@dataclass(frozen=True, slots=True)
class DirectoryCounts:
    organisations: int
    persons: int
    forums: int
    meetings: int


def read_directory(path: Path, limits: ImportLimits | None = None) -> DirectoryDraft:
    """Parse and validate a directory file; raises ImportFailedError listing every problem."""
    where = Location(path)
    if not path.is_file():
        raise ImportFailedError([Problem(where, "filen finns inte.")])
    if file_kind(path) != "YAML":
        raise ImportFailedError([Problem(where, "katalogen ska vara en YAML-fil (.yaml).")])
    document = load_yaml(path, limits or current_limits())
    if not isinstance(document, dict):
        raise ImportFailedError(
            [Problem(where, "katalogen ska ha nycklarna personer, organisationer och forum.")]
        )
    problems: list[Problem] = []
    draft = DirectoryDraft(path)
    kommun = document.get("kommun") or {}
    if isinstance(kommun, dict):
        draft.municipality_name = str(kommun.get("namn") or "")
        draft.municipality_code = str(kommun.get("kod") or "")
    if draft.municipality_code and not KOMMUNKOD.match(draft.municipality_code):
        problems.append(Problem(Location(path, column="kommun.kod"), "kommunkoden ska vara fyra siffror."))
    draft.persons = _entries(document, "personer", path, problems)
    draft.organisations = _entries(document, "organisationer", path, problems)
    draft.forums = _entries(document, "forum", path, problems)
    _validate(draft, problems)
    draft.rhythm = _rhythm(document.get("rytm"), path, problems)
    if problems:
        raise ImportFailedError(problems)
    return draft


def _rhythm(section: object, path: Path, problems: list[Problem]) -> Rhythm | None:
    if section is None:
        return None
    try:
        return Rhythm.model_validate(section)
    except ValidationError as error:
        for detail in error.errors():
            where = ".".join(str(part) for part in ("rytm", *detail["loc"]))
            problems.append(Problem(Location(path, column=where), _rhythm_message(detail)))
        return None


def _rhythm_message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return "okänd nyckel."
    if kind in {"greater_than_equal", "less_than_equal"}:
        limits = detail.get("ctx", {})
        return f"värdet {detail['input']!r} ligger utanför det tillåtna ({limits})."
    if kind.startswith(("date", "time")):
        return f"{detail['input']!r} är inget giltigt {'datum' if kind.startswith('date') else 'klockslag'}."
    if kind == "value_error":
        return str(detail.get("ctx", {}).get("error", "ogiltigt värde"))
    return f"ogiltigt värde {detail.get('input')!r}."


# Keys whose value must be a list, per section: anything else is named, and read as an empty list.
_LIST_KEYS = {
    "personer": ("roller", "alias", "kanaler"),
    "organisationer": ("alias",),
    "forum": ("alias", "medlemmar", "moten"),
}
# Keys whose text is stored in a column of limited length: checked here, with the entry and the key.
_STORED_TEXTS: dict[str, tuple[tuple[str, type[SQLModel], str], ...]] = {
    "personer": (("namn", Person, "name"), ("titel", Person, "title"), ("epost", Person, "email")),
    "organisationer": (("namn", Organisation, "name"),),
    "forum": (("namn", Forum, "name"),),
}


def _entries(document: dict[str, Any], key: str, path: Path, problems: list[Problem]) -> list[dict[str, Any]]:
    entries = document.get(key) or []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        problems.append(Problem(Location(path, sheet=key), f"{key} ska vara en lista av poster."))
        return []
    for number, entry in enumerate(entries, start=1):
        where = functools.partial(Location, path, key, number, row_label="post")
        for list_key in _LIST_KEYS.get(key, ()):
            if list_key in entry and entry[list_key] is not None and not isinstance(entry[list_key], list):
                problems.append(Problem(where(list_key), f"{list_key} ska vara en lista."))
                entry[list_key] = []
        for text_key, model, column in _STORED_TEXTS.get(key, ()):
            text = str(entry.get(text_key) or "").strip()
            if (problem := too_long(where(text_key), model, column, text)) is not None:
                problems.append(problem)
    return entries


def _at(draft: DirectoryDraft, section: str, number: int, key: str) -> Location:
    return Location(draft.file, sheet=section, row=number, column=key, row_label="post")


def _validate(draft: DirectoryDraft, problems: list[Problem]) -> None:
    emails = _validate_persons(draft, problems)
    _validate_references(draft, emails, problems)
    _validate_forums(draft, emails, problems)


def _validate_persons(draft: DirectoryDraft, problems: list[Problem]) -> set[str]:
    emails: set[str] = set()
    for number, person in enumerate(draft.persons, start=1):
        if not str(person.get("namn") or "").strip():
            problems.append(Problem(_at(draft, "personer", number, "namn"), "namn saknas."))
        email = str(person.get("epost") or "").strip().casefold()
        if not _EMAIL.match(email):
            problems.append(
                Problem(_at(draft, "personer", number, "epost"), f'"{email}" är ingen e-postadress.')
            )
        elif email in emails:
            problems.append(
                Problem(_at(draft, "personer", number, "epost"), f"{email} finns redan i katalogen.")
            )
        emails.add(email)
        for role in person.get("roller") or []:
            if role not in ROLES:
                problems.append(
                    Problem(
                        _at(draft, "personer", number, "roller"),
                        f'okänd roll "{role}"; kända: {", ".join(ROLES)}.',
                    )
                )
    return emails


def _validate_references(draft: DirectoryDraft, emails: set[str], problems: list[Problem]) -> None:
    organisation_names = {str(org.get("namn") or "").strip() for org in draft.organisations}
    for number, person in enumerate(draft.persons, start=1):
        manager = str(person.get("chef") or "").strip().casefold()
        if manager and manager not in emails:
            problems.append(
                Problem(
                    _at(draft, "personer", number, "chef"), f"chefen {manager} finns inte bland personerna."
                )
            )
        organisation = str(person.get("organisation") or "").strip()
        if organisation and organisation not in organisation_names:
            problems.append(
                Problem(
                    _at(draft, "personer", number, "organisation"),
                    f'organisationen "{organisation}" finns inte i katalogen.',
                )
            )
    for number, org in enumerate(draft.organisations, start=1):
        if not str(org.get("namn") or "").strip():
            problems.append(Problem(_at(draft, "organisationer", number, "namn"), "namn saknas."))
        contact = str(org.get("kontakt") or "").strip().casefold()
        if contact and contact not in emails:
            problems.append(
                Problem(
                    _at(draft, "organisationer", number, "kontakt"),
                    f"kontaktpersonen {contact} finns inte bland personerna.",
                )
            )


def _validate_forums(draft: DirectoryDraft, emails: set[str], problems: list[Problem]) -> None:
    kinds = {kind.value for kind in ForumKind}
    for number, forum in enumerate(draft.forums, start=1):
        if not str(forum.get("namn") or "").strip():
            problems.append(Problem(_at(draft, "forum", number, "namn"), "namn saknas."))
        if str(forum.get("typ") or "") not in kinds:
            problems.append(
                Problem(
                    _at(draft, "forum", number, "typ"),
                    f'okänd typ "{forum.get("typ")}"; kända: {", ".join(sorted(kinds))}.',
                )
            )
        for member in forum.get("medlemmar") or []:
            if str(member).strip().casefold() not in emails:
                problems.append(
                    Problem(
                        _at(draft, "forum", number, "medlemmar"),
                        f"medlemmen {member} finns inte bland personerna.",
                    )
                )
        for meeting in forum.get("moten") or []:
            if not isinstance(meeting, date):
                problems.append(
                    Problem(
                        _at(draft, "forum", number, "moten"),
                        f'"{meeting}" är inget datum (skriv ÅÅÅÅ-MM-DD).',
                    )
                )


def _aliases(entry: dict[str, Any]) -> list[str]:
    return [str(alias).strip() for alias in entry.get("alias") or [] if str(alias).strip()]


def import_directory(session: Session, draft: DirectoryDraft, municipality: Municipality) -> DirectoryCounts:
    """Upsert the directory into ``municipality``. Does not commit."""
    assert municipality.id is not None  # noqa: S101 - a persisted municipality always has an id
    organisations = _upsert_organisations(session, draft, municipality.id)
    persons = _upsert_persons(session, draft, municipality.id, organisations)
    _link_contacts(session, draft, organisations, persons)
    meeting_count = 0
    for entry in draft.forums:
        meeting_count += _upsert_forum(session, entry, municipality.id, persons)
    if draft.rhythm is not None:
        municipality.rhythm = draft.rhythm.model_dump(mode="json", by_alias=True)
        session.add(municipality)
    session.flush()
    return DirectoryCounts(len(organisations), len(persons), len(draft.forums), meeting_count)


def _upsert_organisations(session: Session, draft: DirectoryDraft, kommun: int) -> dict[str, Organisation]:
    organisations: dict[str, Organisation] = {}
    for entry in draft.organisations:
        name = str(entry["namn"]).strip()
        org = session.exec(
            select(Organisation).where(Organisation.municipality_id == kommun, Organisation.name == name)
        ).first() or Organisation(municipality_id=kommun, name=name)
        org.aliases = _aliases(entry)
        session.add(org)
        organisations[name] = org
    session.flush()
    return organisations


def _upsert_persons(
    session: Session, draft: DirectoryDraft, kommun: int, organisations: dict[str, Organisation]
) -> dict[str, Person]:
    persons: dict[str, Person] = {}
    for entry in draft.persons:
        email = str(entry["epost"]).strip().casefold()
        person = session.exec(
            select(Person).where(Person.municipality_id == kommun, Person.email == email)
        ).first() or Person(municipality_id=kommun, email=email, name="")
        person.name = str(entry["namn"]).strip()
        person.title = str(entry.get("titel") or "").strip()
        organisation = organisations.get(str(entry.get("organisation") or "").strip())
        person.organisation_id = organisation.id if organisation else None
        person.aliases = _aliases(entry)
        person.roles = list(entry.get("roller") or [])
        person.notify_targets = [str(target) for target in entry.get("kanaler") or []]
        session.add(person)
        persons[email] = person
    session.flush()
    for entry in draft.persons:
        manager = str(entry.get("chef") or "").strip().casefold()
        persons[str(entry["epost"]).strip().casefold()].manager_id = persons[manager].id if manager else None
    return persons


def _link_contacts(
    session: Session,
    draft: DirectoryDraft,
    organisations: dict[str, Organisation],
    persons: dict[str, Person],
) -> None:
    for entry in draft.organisations:
        org = organisations[str(entry["namn"]).strip()]
        contact = str(entry.get("kontakt") or "").strip().casefold()
        existing = session.get(OrganisationContact, org.id)
        if contact:
            link = existing or OrganisationContact(organisation_id=org.id or 0, person_id=0)
            link.person_id = persons[contact].id or 0
            session.add(link)
        elif existing is not None:
            session.delete(existing)


def _upsert_forum(session: Session, entry: dict[str, Any], kommun: int, persons: dict[str, Person]) -> int:
    """One forum with its members and meetings; returns how many meeting dates the entry lists."""
    name = str(entry["namn"]).strip()
    forum = session.exec(select(Forum).where(Forum.municipality_id == kommun, Forum.name == name)).first()
    forum = forum or Forum(municipality_id=kommun, name=name, kind=ForumKind(entry["typ"]))
    forum.kind = ForumKind(entry["typ"])
    forum.aliases = _aliases(entry)
    session.add(forum)
    session.flush()
    wanted = {persons[str(member).strip().casefold()].id or 0 for member in entry.get("medlemmar") or []}
    current = {
        link.person_id: link
        for link in session.exec(select(ForumMember).where(ForumMember.forum_id == forum.id))
    }
    for person_id, link in current.items():
        if person_id not in wanted:
            session.delete(link)
    for person_id in wanted - set(current):
        session.add(ForumMember(forum_id=forum.id or 0, person_id=person_id))
    known = {
        meeting.meeting_date
        for meeting in session.exec(select(ForumMeeting).where(ForumMeeting.forum_id == forum.id))
    }
    dates = list(entry.get("moten") or [])
    for meeting_date in dates:
        if meeting_date not in known:
            session.add(ForumMeeting(forum_id=forum.id or 0, meeting_date=meeting_date))
    return len(dates)


def import_directory_file(
    session: Session, path: Path, kommun: str | None = None, *, adopted_on: date | None = None
) -> tuple[DirectoryCounts, Municipality]:
    """Read, check and upsert a directory file; the kommun is ``kommun`` or the file's own, created
    (taken into use on ``adopted_on``) when the file names it by kommunkod and name. Does not commit."""
    from importers.plan_draft import PlanFacts  # noqa: PLC0415 - plan_import imports this module
    from importers.plan_import import resolve_municipality  # noqa: PLC0415 - as above

    draft = read_directory(path)
    facts = PlanFacts(municipality_name=draft.municipality_name, municipality_code=draft.municipality_code)
    municipality = resolve_municipality(session, path, facts, kommun, create=True, adopted_on=adopted_on)
    return import_directory(session, draft, municipality), municipality
