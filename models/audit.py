"""The SSPF audit log (granskningslogg): every read and write of case data, who, what, when and why.

Append-only, enforced by the database: the migration installs triggers on SQLite and PostgreSQL that
refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of ``sspf_audit_entry``, so no code path of the
application can edit or remove an entry. Each entry also carries a hash chain: ``entry_hash`` is the
SHA-256 of the previous entry's hash and this entry's fields, and ``sequence`` is unique, so a row
removed or altered behind the database's back (a restored backup, a dropped trigger) shows as a break
in the chain (``verify_chain``).

A read is audited before its data leaves: the caller appends the entry in the same transaction that
loaded the data and flushes it; if the insert fails, ``AuditWriteError`` is raised, the transaction
rolls back, and nothing is shown. Entries hold the case code and ids, never personal data of the youth.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.types import StrEnumType, UTCDateTime, utcnow

GENESIS = "0" * 64


class AuditAction(StrEnum):
    READ = "läsning"
    WRITE = "ändring"
    DISCLOSURE = "utlämnande"
    DENIED = "nekad"
    RETENTION = "gallring"
    ADMINISTRATION = "administration"


class AuditEntry(SQLModel, table=True):
    __tablename__ = "sspf_audit_entry"
    __table_args__ = (sa.UniqueConstraint("sequence", name="uq_sspf_audit_sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    sequence: int
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    # The person acting; no foreign key, so that an entry outlives a person leaving the directory.
    actor_person_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=320, description="The actor's e-mail, or 'system' for a flow")
    action: AuditAction = Field(sa_type=StrEnumType(AuditAction))
    command: str = Field(max_length=100)
    case_id: int | None = Field(default=None, index=True)
    case_code: str = Field(default="", max_length=20)
    purpose: str = Field(max_length=300, description="Why: the purpose the actor gave, or the command's")
    within_assignment: bool
    detail: str = Field(default="", max_length=300)
    previous_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)


class AuditWriteError(RuntimeError):
    """The audit entry could not be written: the operation it records must not happen."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    municipality_id: int
    actor_person_id: int | None
    actor: str
    action: AuditAction
    command: str
    purpose: str
    within_assignment: bool
    case_id: int | None = None
    case_code: str = ""
    detail: str = ""


def _digest(previous_hash: str, sequence: int, at: datetime, record: AuditRecord) -> str:
    fields = (
        previous_hash,
        str(sequence),
        at.isoformat(),
        str(record.municipality_id),
        str(record.actor_person_id),
        record.actor,
        record.action.value,
        record.command,
        str(record.case_id),
        record.case_code,
        record.purpose,
        str(record.within_assignment),
        record.detail,
    )
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def append(session: Session, record: AuditRecord, *, at: datetime | None = None) -> AuditEntry:
    """Append one entry and flush it; AuditWriteError when the database refuses it.

    Two writers racing for the same sequence number: the unique key refuses one, which then fails
    (and with it the read it was recording) instead of forking the chain.
    """
    at = (at or utcnow()).astimezone(UTC).replace(microsecond=0)
    try:
        last = session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence).desc()).limit(1)).first()
        sequence = (last.sequence + 1) if last else 1
        previous = last.entry_hash if last else GENESIS
        entry = AuditEntry(
            sequence=sequence,
            at=at,
            municipality_id=record.municipality_id,
            actor_person_id=record.actor_person_id,
            actor=record.actor,
            action=record.action,
            command=record.command,
            case_id=record.case_id,
            case_code=record.case_code,
            purpose=record.purpose,
            within_assignment=record.within_assignment,
            detail=record.detail,
            previous_hash=previous,
            entry_hash=_digest(previous, sequence, at, record),
        )
        session.add(entry)
        session.flush()
    except sa.exc.DBAPIError as error:
        raise AuditWriteError("granskningsloggen kunde inte skrivas") from error
    return entry


def verify_chain(session: Session) -> tuple[int, list[int]]:
    """(entries checked, sequence numbers where the chain breaks): empty when nothing was altered."""
    previous = GENESIS
    expected = 1
    broken: list[int] = []
    count = 0
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence))):
        count += 1
        record = AuditRecord(
            municipality_id=entry.municipality_id,
            actor_person_id=entry.actor_person_id,
            actor=entry.actor,
            action=entry.action,
            command=entry.command,
            purpose=entry.purpose,
            within_assignment=entry.within_assignment,
            case_id=entry.case_id,
            case_code=entry.case_code,
            detail=entry.detail,
        )
        if (
            entry.sequence != expected
            or entry.previous_hash != previous
            or entry.entry_hash != _digest(previous, entry.sequence, entry.at, record)
        ):
            broken.append(entry.sequence)
        previous = entry.entry_hash
        expected = entry.sequence + 1
    return count, broken


def entries(
    session: Session, municipality_id: int, start: datetime | None = None, end: datetime | None = None
) -> list[AuditEntry]:
    """The kommun's entries in order, optionally from ``start`` (inclusive) to ``end`` (exclusive)."""
    query = select(AuditEntry).where(AuditEntry.municipality_id == municipality_id)
    if start is not None:
        query = query.where(AuditEntry.at >= start)
    if end is not None:
        query = query.where(AuditEntry.at < end)
    return list(session.exec(query.order_by(col(AuditEntry.sequence))))


@dataclass(frozen=True, slots=True)
class LogReview:
    """The monthly loggkontroll: what was read, by whom, and what should not have been."""

    per_user: list[tuple[str, int, int]]  # actor, reads, distinct cases
    per_case: list[tuple[str, str, int]]  # case code, actor, reads
    outside_assignment: list[AuditEntry]  # reads by someone not in the case's team at that moment
    denied: list[AuditEntry]
    entries_checked: int
    chain_breaks: list[int]


def log_review(session: Session, municipality_id: int, start: datetime, end: datetime) -> LogReview:
    """Reads between ``start`` and ``end``, checked against the team history independently of the
    access decision that was made at the time: a read outside an assignment shows even if a bug let it
    through. The whole chain is verified too."""
    from models.sspf import SspfAssignment  # noqa: PLC0415 - the team history, only here

    found = entries(session, municipality_id, start, end)
    reads = [e for e in found if e.action in {AuditAction.READ, AuditAction.DISCLOSURE}]
    assignments: dict[tuple[int, int], list[tuple[datetime, datetime | None]]] = {}
    for assignment in session.exec(select(SspfAssignment)):
        key = (assignment.case_id, assignment.person_id)
        assignments.setdefault(key, []).append((assignment.added_at, assignment.removed_at))
    per_user: dict[str, tuple[int, set[str]]] = {}
    per_case: dict[tuple[str, str], int] = {}
    outside: list[AuditEntry] = []
    for entry in reads:
        count, cases = per_user.get(entry.actor, (0, set()))
        per_user[entry.actor] = (count + 1, cases | {entry.case_code})
        per_case[(entry.case_code, entry.actor)] = per_case.get((entry.case_code, entry.actor), 0) + 1
        if entry.actor_person_id is None:
            continue  # the system (a flow) acts for every case by design
        spans = assignments.get((entry.case_id or 0, entry.actor_person_id), [])
        if not any(
            added.replace(microsecond=0) <= entry.at and (removed is None or entry.at < removed)
            for added, removed in spans
        ):
            outside.append(entry)
    checked, breaks = verify_chain(session)
    return LogReview(
        per_user=sorted((actor, n, len(cases)) for actor, (n, cases) in per_user.items()),
        per_case=sorted((code, actor, n) for (code, actor), n in per_case.items()),
        outside_assignment=outside,
        denied=[e for e in found if e.action == AuditAction.DENIED],
        entries_checked=checked,
        chain_breaks=breaks,
    )
