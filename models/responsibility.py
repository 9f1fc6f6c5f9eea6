"""Who answers for what: the ansvarig of a measure, the BRÅ-samordnare, a chef, kommunledningen.

One implementation of each question, asked by the cycles, the reports, the outbox and the front doors
alike. Queries only; they never commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from models.directory import OrganisationContact, Person, persons_with_role
from models.plan import PartyRole, measure_parties

COORDINATOR_ROLE = "bra_samordnare"
MANAGEMENT_ROLE = "kommunledning"


def bra_coordinator(session: Session, municipality_id: int) -> Person | None:
    """The kommun's BRÅ-samordnare: the fallback ansvarig and the first step for unmatched parties."""
    found = persons_with_role(session, municipality_id, COORDINATOR_ROLE)
    return found[0] if found else None


def management(session: Session, municipality_id: int) -> list[Person]:
    """Kommunledningen: the top of every escalation chain."""
    return persons_with_role(session, municipality_id, MANAGEMENT_ROLE)


def manager_or_coordinator(session: Session, person_id: int | None, municipality_id: int) -> Person | None:
    """Level 1 of an escalation: the person's chef, or the BRÅ-samordnare when no chef is known."""
    person = session.get(Person, person_id) if person_id is not None else None
    if person is not None and person.manager_id is not None:
        manager = session.get(Person, person.manager_id)
        if manager is not None:
            return manager
    return bra_coordinator(session, municipality_id)


def responsible_persons(
    session: Session, measure_ids: Sequence[int], municipality_id: int
) -> dict[int, Person | None]:
    """Who is asked about each measure, in four queries whatever their number.

    The first named ansvarig person, else the contact person of the first named organisation that has
    one, else the BRÅ-samordnare (a forum named as ansvarig, such as "Faluns BRÅ", is run by the
    BRÅ-samordnare).
    """
    if not measure_ids:
        return {}
    parties = {
        measure_id: [party for party in rows if party.role == PartyRole.RESPONSIBLE]
        for measure_id, rows in measure_parties(session, list(measure_ids)).items()
    }
    organisation_ids = {
        party.organisation_id
        for rows in parties.values()
        for party in rows
        if party.organisation_id is not None
    }
    contacts: dict[int, int] = {}
    if organisation_ids:
        contacts = {
            contact.organisation_id: contact.person_id
            for contact in session.exec(
                select(OrganisationContact).where(
                    col(OrganisationContact.organisation_id).in_(organisation_ids)
                )
            )
        }
    person_ids = set(contacts.values()) | {
        party.person_id for rows in parties.values() for party in rows if party.person_id is not None
    }
    people: dict[int | None, Person] = {}
    if person_ids:
        people = {
            person.id: person for person in session.exec(select(Person).where(col(Person.id).in_(person_ids)))
        }
    fallback = bra_coordinator(session, municipality_id)
    found: dict[int, Person | None] = {}
    for measure_id in measure_ids:
        found[measure_id] = fallback
        for party in parties.get(measure_id, []):
            person_id = (
                party.person_id if party.person_id is not None else contacts.get(party.organisation_id or -1)
            )
            if person_id is not None:
                found[measure_id] = people.get(person_id)
                break
    return found


def responsible_person(session: Session, measure_id: int, municipality_id: int) -> Person | None:
    """``responsible_persons`` for one measure."""
    return responsible_persons(session, [measure_id], municipality_id)[measure_id]
