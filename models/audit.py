"""The SSPF audit log (granskningslogg): every read and write of case data, who, what, when and why.

Append-only, enforced by the database: the migration installs triggers on SQLite and PostgreSQL that
refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of ``sspf_audit_entry``, so no code path of the
application can edit or remove an entry. Each entry also carries a hash chain: ``entry_hash`` is the
SHA-256 of the previous entry's hash and this entry's fields, and ``sequence`` is unique.

A hash chain alone has no secret: whoever owns the database can drop a trigger, edit an entry and
compute every later hash again, or delete the newest entries, and the chain still looks whole (issue 16
measured both). So the chain resists the database owner in two ways:
- **A key outside the database.** Each entry's ``mac`` is HMAC-SHA256 of its ``entry_hash`` under the
  newest audit key (``SAMORDNA_AUDIT_KEYS`` or ``SAMORDNA_AUDIT_KEY_FILE``, like the SSPF keys; stored as
  ``<key id>:<hex>``, every listed key verifies). An edited entry cannot be sealed again without the key.
  Entries written before the key existed (or before this revision) have no MAC; they may only form the
  beginning of the chain: an entry without a MAC after one with a MAC is a break.
- **Anchors outside the database.** An anchor is the head hash and the number of entries at a moment,
  and how many entries at the start have no MAC, sealed with the key (``Anchor``). They are appended
  to a file the database owner cannot rewrite (``SAMORDNA_AUDIT_ANCHOR_FILE``: append-only, a WORM
  share, a remote log mount) and/or sent to the kommun's log server (``SAMORDNA_AUDIT_ANCHOR_URL``),
  by notifications/audit_anchor.py after every SSPF command that wrote entries. A log shorter than an
  anchor, or one whose entry at an anchor's count has another hash, has been cut or rewritten; more
  entries without a MAC than an anchor recorded means MACs were stripped.
``verify`` checks all of it, and that the triggers exist and are enabled; ``samordna sspf logg`` exits
non-zero on any break.

A read is audited before its data leaves: the caller appends the entry in the same transaction that
loaded the data and flushes it; if the insert fails, ``AuditWriteError`` is raised, the transaction
rolls back, and nothing is shown. Entries hold the case code and ids, never personal data of the youth.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from core.settings import Settings, read_settings
from models.types import StrEnumType, UTCDateTime, utcnow

GENESIS = "0" * 64
MIN_KEY_LENGTH = 32
KEY_ID_LENGTH = 8
# The triggers the migration installs, per database; each must exist and be enabled.
TRIGGERS = {
    "sqlite": ("sspf_audit_no_update", "sspf_audit_no_delete"),
    "postgresql": ("sspf_audit_no_change", "sspf_audit_no_truncate"),
}


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
    # HMAC-SHA256 of entry_hash under the audit key, "<key id>:<hex>"; NULL before a key was configured.
    mac: str | None = Field(default=None, max_length=80)


class AuditWriteError(RuntimeError):
    """The audit entry could not be written: the operation it records must not happen."""


class AuditKeyError(ValueError):
    """The audit keys are malformed or unreadable; the message is Swedish and never holds a key."""


@dataclass(frozen=True, slots=True)
class AuditKeys:
    """The audit chain's HMAC keys, newest first: the first seals, every one verifies."""

    keys: tuple[str, ...]

    @classmethod
    def from_sources(cls, keys: str, key_file: Path | None) -> AuditKeys | None:
        """Keys from a comma-separated text and/or a file with one per line; None when there are none."""
        found = [key.strip() for key in keys.split(",") if key.strip()]
        if key_file is not None:
            try:
                lines = key_file.read_text(encoding="utf-8").splitlines()
            except OSError:
                raise AuditKeyError(
                    f"nyckelfilen för granskningsloggen {key_file} går inte att läsa."
                ) from None
            found.extend(line.strip() for line in lines if line.strip() and not line.startswith("#"))
        if not found:
            return None
        for position, key in enumerate(found, start=1):
            if len(key) < MIN_KEY_LENGTH:
                raise AuditKeyError(
                    f"nyckel {position} för granskningsloggen är kortare än {MIN_KEY_LENGTH} tecken "
                    "(en ny skapas med: samordna sspf nyckel ny)."
                )
        return cls(tuple(dict.fromkeys(found)))

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditKeys | None:
        """The keys the settings name (SAMORDNA_AUDIT_KEYS, then SAMORDNA_AUDIT_KEY_FILE)."""
        return cls.from_sources(settings.audit_keys.get_secret_value(), settings.audit_key_file)

    @staticmethod
    def key_id(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:KEY_ID_LENGTH]

    def seal(self, text: str) -> str:
        """``<key id>:<HMAC-SHA256 hex>`` of ``text`` under the newest key."""
        key = self.keys[0]
        digest = hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{self.key_id(key)}:{digest}"

    def check(self, text: str, mac: str) -> bool | None:
        """True if ``mac`` seals ``text`` under one of the keys, False if not, None if no key has its id."""
        key_id, _, digest = mac.partition(":")
        for key in self.keys:
            if self.key_id(key) == key_id:
                expected = hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()
                return hmac.compare_digest(expected, digest)
        return None


class _FromEnvironment:
    """``append``'s default for ``keys``: the audit keys the environment names at the moment of writing."""


FROM_ENVIRONMENT = _FromEnvironment()


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


def append(
    session: Session,
    record: AuditRecord,
    *,
    at: datetime | None = None,
    keys: AuditKeys | _FromEnvironment | None = FROM_ENVIRONMENT,
) -> AuditEntry:
    """Append one entry, sealed with ``keys`` (default: those of the environment, read now), and flush
    it; AuditWriteError when the database refuses it.

    Two writers racing for the same sequence number: the unique key refuses one, which then fails
    (and with it the read it was recording) instead of forking the chain.
    """
    at = (at or utcnow()).astimezone(UTC).replace(microsecond=0)
    if isinstance(keys, _FromEnvironment):
        keys = AuditKeys.from_settings(read_settings())
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
        entry.mac = keys.seal(entry.entry_hash) if keys is not None else None
        session.add(entry)
        session.flush()
    except sa.exc.DBAPIError as error:
        raise AuditWriteError("granskningsloggen kunde inte skrivas") from error
    return entry


@dataclass(frozen=True, slots=True)
class Anchor:
    """The chain at a moment: ``count`` entries, the newest with ``head`` as its hash, ``unsealed`` of
    them (at the start) without a MAC; ``mac`` seals all of it with the audit key."""

    at: datetime
    count: int
    head: str
    unsealed: int
    mac: str

    def payload(self) -> str:
        return f"{self.at.isoformat()}|{self.count}|{self.head}|{self.unsealed}"

    def line(self) -> str:
        """The anchor as one line of JSON (what the anchor file and the log server receive)."""
        return json.dumps(
            {
                "tid": self.at.isoformat(),
                "antal": self.count,
                "huvud": self.head,
                "utan_mac": self.unsealed,
                "mac": self.mac,
            },
            ensure_ascii=False,
        )

    @classmethod
    def parse(cls, line: str) -> Anchor:
        """An anchor from its line; ValueError when the line is not one."""
        try:
            data = json.loads(line)
            return cls(
                at=datetime.fromisoformat(str(data["tid"])),
                count=int(data["antal"]),
                head=str(data["huvud"]),
                unsealed=int(data["utan_mac"]),
                mac=str(data["mac"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError("ingen ankarrad") from error


def make_anchor(session: Session, keys: AuditKeys, at: datetime) -> Anchor:
    """The anchor of the chain as it stands, sealed with ``keys``."""
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence).desc()).limit(1)).first()
    first_sealed = session.exec(
        select(sa.func.min(AuditEntry.sequence)).where(col(AuditEntry.mac).is_not(None))
    ).one()
    count = last.sequence if last else 0
    unsealed = (int(first_sealed) - 1) if first_sealed is not None else count
    anchor = Anchor(
        at.astimezone(UTC).replace(microsecond=0), count, last.entry_hash if last else GENESIS, unsealed, ""
    )
    return Anchor(anchor.at, anchor.count, anchor.head, anchor.unsealed, keys.seal(anchor.payload()))


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain shows it was altered (``sequence`` None: the log as a whole), in Swedish."""

    sequence: int | None
    reason: str


@dataclass(slots=True)
class ChainCheck:
    """What ``verify`` found: breaks (any one means the log cannot be trusted) and warnings (what could
    not be checked)."""

    entries: int = 0
    sealed: int = 0
    anchors: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


def missing_triggers(session: Session) -> list[str]:
    """The audit triggers that do not exist or are disabled on this database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        present = set(
            session.execute(
                sa.text(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'sspf_audit_entry'::regclass "
                    "AND NOT tgisinternal AND tgenabled <> 'D'"
                )
            ).scalars()
        )
    else:
        present = set(
            session.execute(
                sa.text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'sspf_audit_entry'"
                )
            ).scalars()
        )
    return [name for name in TRIGGERS.get(dialect, ()) if name not in present]


def verify(
    session: Session,
    keys: AuditKeys | None,
    anchors: list[Anchor] | None = None,
    anchor_problems: list[str] | None = None,
) -> ChainCheck:
    """The whole chain checked: links and hashes, MACs (with ``keys``), ``anchors`` (None: no anchor
    file configured), and the triggers. ``anchor_problems`` are lines of the anchor file that could not
    be read: each is a break, since the file is append-only."""
    check = ChainCheck()
    heads, unsealed_prefix = _walk(session, keys, check)
    if keys is None:
        check.warnings.append(
            "ingen nyckel för granskningsloggen (SAMORDNA_AUDIT_KEYS): MAC och ankare kan inte kontrolleras, "
            "och den som äger databasen kan skriva om kedjan."
        )
    for problem in anchor_problems or []:
        check.breaks.append(ChainBreak(None, problem))
    if anchors is None:
        check.warnings.append(
            "ingen ankarfil (SAMORDNA_AUDIT_ANCHOR_FILE): att de senaste posterna tagits bort "
            "kan inte upptäckas."
        )
    for anchor in anchors or []:
        check.anchors += 1
        check.breaks.extend(_anchor_breaks(anchor, keys, heads, check.entries, unsealed_prefix))
    for trigger in missing_triggers(session):
        check.breaks.append(ChainBreak(None, f"spärren {trigger} saknas eller är avstängd"))
    return check


def _walk(session: Session, keys: AuditKeys | None, check: ChainCheck) -> tuple[dict[int, str], int]:
    """Every entry in order: links, hashes and MACs into ``check``; (hash by sequence, entries at the
    start without a MAC)."""
    previous, expected = GENESIS, 1
    heads: dict[int, str] = {}
    unsealed_prefix = 0
    sealed_seen = False
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence))):
        check.entries += 1
        heads[entry.sequence] = entry.entry_hash
        if entry.sequence != expected:
            check.breaks.append(
                ChainBreak(entry.sequence, f"posten borde ha nummer {expected}: poster saknas")
            )
        if entry.previous_hash != previous or entry.entry_hash != _digest(
            entry.previous_hash, entry.sequence, entry.at, _record_of(entry)
        ):
            check.breaks.append(ChainBreak(entry.sequence, "hashkedjan stämmer inte: posten har ändrats"))
        if entry.mac is None:
            if sealed_seen:
                check.breaks.append(ChainBreak(entry.sequence, "MAC saknas efter förseglade poster"))
            else:
                unsealed_prefix += 1
        else:
            sealed_seen = True
            check.sealed += 1
            verdict = keys.check(entry.entry_hash, entry.mac) if keys is not None else None
            if verdict is False:
                check.breaks.append(
                    ChainBreak(entry.sequence, "MAC stämmer inte: posten har ändrats och räknats om")
                )
            elif verdict is None and keys is not None:
                check.breaks.append(ChainBreak(entry.sequence, "förseglad med en nyckel som inte finns"))
        previous, expected = entry.entry_hash, entry.sequence + 1
    return heads, unsealed_prefix


def _anchor_breaks(
    anchor: Anchor, keys: AuditKeys | None, heads: dict[int, str], count: int, unsealed_prefix: int
) -> list[ChainBreak]:
    when = anchor.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if keys is not None and keys.check(anchor.payload(), anchor.mac) is not True:
        return [ChainBreak(None, f"ankaret {when} är inte förseglat med granskningsloggens nyckel")]
    if anchor.count > count:
        return [
            ChainBreak(
                None,
                f"ankaret {when} omfattar {anchor.count} poster men loggen har {count}: "
                "poster har tagits bort",
            )
        ]
    head = heads.get(anchor.count, GENESIS) if anchor.count else GENESIS
    if head != anchor.head:
        return [ChainBreak(anchor.count, f"posten stämmer inte med ankaret {when}: loggen har skrivits om")]
    if unsealed_prefix > anchor.unsealed:
        return [ChainBreak(None, f"fler poster saknar MAC än när ankaret {when} skrevs: MAC har tagits bort")]
    return []


def verify_chain(session: Session) -> tuple[int, list[int]]:
    """(entries checked, sequence numbers where the hash chain breaks), without keys or anchors."""
    check = verify(session, None, [])
    return check.entries, sorted({b.sequence for b in check.breaks if b.sequence is not None})


def _record_of(entry: AuditEntry) -> AuditRecord:
    return AuditRecord(
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
    chain: ChainCheck = field(default_factory=ChainCheck)


def log_review(
    session: Session,
    municipality_id: int,
    start: datetime,
    end: datetime,
    keys: AuditKeys | None = None,
    anchors: list[Anchor] | None = None,
    anchor_problems: list[str] | None = None,
) -> LogReview:
    """Reads between ``start`` and ``end``, checked against the team history independently of the
    access decision that was made at the time: a read outside an assignment shows even if a bug let it
    through. The whole chain is verified too (``verify``), with ``keys`` and ``anchors``."""
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
    chain = verify(session, keys, anchors, anchor_problems)
    return LogReview(
        per_user=sorted((actor, n, len(cases)) for actor, (n, cases) in per_user.items()),
        per_case=sorted((code, actor, n) for (code, actor), n in per_case.items()),
        outside_assignment=outside,
        denied=[e for e in found if e.action == AuditAction.DENIED],
        entries_checked=chain.entries,
        chain_breaks=sorted({b.sequence for b in chain.breaks if b.sequence is not None}),
        chain=chain,
    )
