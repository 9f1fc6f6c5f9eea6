"""What every cycle shares: who answers for a measure, the coordinator, kommunledningen.

Cycles are plain functions ``run_<cycle>(session, municipality, as_of) -> list[Event]``: they read no
clock (``as_of`` is the day the run stands on), never commit (the caller owns the transaction), and
create records only through ``models.records.insert_once``/``insert_many``, so a cycle that runs
twice, or is killed and run again, leaves the same rows: the database's unique keys decide, not luck.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.directory import OrganisationContact, Person, persons_with_role
from models.plan import MeasureParty, PartyRole


def bra_coordinator(session: Session, municipality_id: int) -> Person | None:
    """The kommun's BRÅ-samordnare: the fallback ansvarig and the first step for unmatched parties."""
    found = persons_with_role(session, municipality_id, "bra_samordnare")
    return found[0] if found else None


def management(session: Session, municipality_id: int) -> list[Person]:
    """Kommunledningen: the top of every escalation chain."""
    return persons_with_role(session, municipality_id, "kommunledning")


def responsible_person(session: Session, measure_id: int, municipality_id: int) -> Person | None:
    """Who answers for a measure: the first named ansvarig person, else the contact person of the first
    named organisation that has one, else nobody (None).

    The BRÅ-samordnare is not the answer: an organisation without a contact person is a configuration
    problem (plan kontroll and the coordinator's summary name it), and the coordinator must not stand
    as the escalated owner in reports. Who is *asked* then is the caller's choice: the follow-up cycle
    gives the task to the BRÅ-samordnare (a forum named as ansvarig, such as "Faluns BRÅ", is run by
    the BRÅ-samordnare). flows.follow_up.responsible_persons and flows.daily_sweep's batched lookup
    follow the same rule."""
    parties = session.exec(
        select(MeasureParty)
        .where(MeasureParty.measure_id == measure_id, MeasureParty.role == PartyRole.RESPONSIBLE)
        .order_by(col(MeasureParty.position))
    ).all()
    for party in parties:
        if party.person_id is not None:
            return session.get(Person, party.person_id)
        if party.organisation_id is not None:
            contact = session.get(OrganisationContact, party.organisation_id)
            if contact is not None:
                return session.get(Person, contact.person_id)
    del municipality_id  # kept in the signature: the callers name the kommun they ask about
    return None


def manager_or_coordinator(session: Session, person_id: int | None, municipality_id: int) -> Person | None:
    """Level 1 of an escalation: the person's chef, or the BRÅ-samordnare when no chef is known."""
    person = session.get(Person, person_id) if person_id is not None else None
    if person is not None and person.manager_id is not None:
        return session.get(Person, person.manager_id)
    return bra_coordinator(session, municipality_id)
