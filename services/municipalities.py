"""Which kommun a command, a page or a run acts on: one resolution for every front door."""

from __future__ import annotations

from sqlmodel import Session

from core.errors import InvalidInputError, NotFoundError
from models.municipality import KOMMUNKOD, Municipality, find_municipality, list_municipalities


class UnknownMunicipalityError(NotFoundError):
    """The kommun named does not exist in the database."""


class MunicipalityRequiredError(InvalidInputError):
    """No kommun was named and there is no default."""


def resolve_municipality(session: Session, key: str | None, *, default: str | None = None) -> Municipality:
    """The kommun ``key`` names (kommunkod or name), else the ``default`` (``SAMORDNA_KOMMUN``)."""
    wanted = key or default
    if not wanted:
        known = ", ".join(f"{m.name} ({m.code})" for m in list_municipalities(session)) or "inga ännu"
        raise MunicipalityRequiredError(
            f"Ange kommun med --kommun (kommunkod eller namn). Kommuner i databasen: {known}."
        )
    found = find_municipality(session, wanted)
    if found is None:
        raise UnknownMunicipalityError(
            f'Kommunen "{wanted}" finns inte. Skapa den med: samordna kommun skapa --namn NAMN --kod KOD'
        )
    return found


def municipality_codes(session: Session, key: str | None, *, default: str | None = None) -> list[str]:
    """The kommunkod of the kommun named (or of the default), or of every kommun when neither is set."""
    if not (key or default):
        return [municipality.code for municipality in list_municipalities(session)]
    return [resolve_municipality(session, key, default=default).code]


def create_municipality(session: Session, *, name: str, code: str) -> Municipality:
    """A new kommun; the kommunkod must be four digits and not taken."""
    name, code = name.strip(), code.strip()
    if not KOMMUNKOD.match(code):
        raise InvalidInputError(f'Kommunkoden "{code}" ska vara fyra siffror (Falun 2080, Orsa 2034).')
    existing = find_municipality(session, code)
    if existing is not None:
        raise InvalidInputError(f"Kommunkoden {code} finns redan: {existing.name}.")
    municipality = Municipality(name=name, code=code)
    session.add(municipality)
    session.flush()
    return municipality
