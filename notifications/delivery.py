"""Delivery: drain the outbox through the channels, exactly once as far as the world allows.

``deliver_due(engine, now, settings)`` owns its transactions; one pass does, in order:

1. **Expired leases.** A message in SENDING whose lease ran out belonged to a process that died (or
   stalled past its lease). If that process had *armed* the message (see 3.) it may have reached the
   recipient: it becomes UNKNOWN and is never resent; one FALLBACK message per kommun and pass
   (dedupe key ``okänt:{smallest id}``) lists such messages for the BRÅ-samordnare to check. If it had
   not been armed, no send ever began, and it simply goes back to PENDING.
2. **Claim.** Due PENDING messages, oldest first, up to ``limit``, are locked with
   ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; a no-op on SQLite, where the conditional
   ``UPDATE … WHERE state = PENDING`` and its row count make the claim safe) and set to SENDING with a
   lease, then committed. The **storm guard** runs here: a recipient who already had
   ``messages_per_hour`` messages sent (or being sent) in the last hour gets the rest postponed to the
   moment a slot of that hour frees up, still PENDING, no attempt counted.
3. **Send**, one message at a time: *arm* it (attempts + 1, committed, only if our lease still holds),
   send it to each of the recipient's targets that has not already accepted it on an earlier attempt
   (with its attachments, OutboxAttachment, as files to e-mail; other channels get a line instead),
   then *record* the outcome and the per-target DeliveryAttempt rows in one commit. All targets ok →
   SENT. A failure → PENDING again with ``next_attempt_at = now + retry_base_seconds · 2^(attempts−1)``,
   or FAILED after ``max_attempts`` with a FALLBACK message (``misslyckat:{id}``). A recipient with no
   target at all is a configuration error: FAILED at once, with the fallback.

Semantics:
- Everything except a message whose fate is unknown is delivered **exactly once**: it is claimed and
  armed (committed) before the send and recorded (committed) right after it, and every state change is
  a conditional UPDATE on our own lease, so two processes never both send one message.
- A message whose fate is unknown (the process died between arming and recording) is delivered **at
  most once**: a duplicate reminder to a busy ansvarig is worse than a check by the coordinator. Arming
  one message at a time keeps that window to at most one message per crashed process; the messages it
  had claimed but not armed are sent normally once their lease runs out.
- Whether a message was armed is read from the data, not guessed: arming raises ``attempts`` above the
  highest attempt recorded in DeliveryAttempt, and recording writes that attempt's rows.
- Fallback messages have no person as recipient (``recipient_person_id`` is NULL): they go to
  ``settings.fallback_url`` if set, else to every person with the role bra_samordnare, by e-mail and
  their other targets. A fallback that fails or whose fate is unknown raises no further fallback (it
  would go the same way); it is logged as an error instead.
- ``last_error`` and DeliveryAttempt rows hold Swedish text and target labels, never a credential.
"""

from __future__ import annotations

import html
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from core.settings import Settings
from models.db import transaction
from models.directory import Person, persons_with_role
from models.escalation import Escalation
from models.outbox import DeliveryAttempt, MessageKind, MessageState, OutboxMessage, attachments_of
from models.task import Reminder, Task, TaskState
from notifications.channels import Target, fallback_targets, send, targets_for
from notifications.documents import Attachment

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=30)  # longer than the slowest send of one message (cto + rto per target)
HOUR = timedelta(hours=1)
COORDINATOR_ROLE = "bra_samordnare"
NO_TARGET = "(ingen adress)"


@dataclass(slots=True)
class DeliveryReport:
    """What one pass did, as counts (never names or addresses)."""

    unknown: int = 0
    released: int = 0  # claimed by a dead process but never armed: back to PENDING
    claimed: int = 0
    postponed: int = 0  # storm guard
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    fallbacks: int = 0
    obsolete: int = 0  # settled before their turn: not sent

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Claim:
    message_id: int
    lease: datetime


def deliver_due(
    engine: sa.Engine, now: datetime, settings: Settings, *, limit: int = 200, lease: timedelta = LEASE
) -> DeliveryReport:
    """One delivery pass at ``now`` (see the module docstring); commits as it goes."""
    report = DeliveryReport()
    _settle_expired_leases(engine, now, report)
    for claim in _claim_due(engine, now, settings, limit, lease, report):
        _deliver_one(engine, claim, now, settings, report)
    return report


# 1. Expired leases ------------------------------------------------------------------------------------


def _settle_expired_leases(engine: sa.Engine, now: datetime, report: DeliveryReport) -> None:
    with transaction(engine) as session:
        expired = list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.state == MessageState.SENDING, col(OutboxMessage.leased_until) < now)
                .order_by(col(OutboxMessage.id))
                .with_for_update(skip_locked=True)
            )
        )
        unknown: dict[int, list[OutboxMessage]] = defaultdict(list)
        for message in expired:
            armed = message.attempts > _last_recorded_attempt(session, message.id or 0)
            new_state = MessageState.UNKNOWN if armed else MessageState.PENDING
            changed = session.execute(
                sa.update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == message.id,
                    col(OutboxMessage.state) == MessageState.SENDING,
                    col(OutboxMessage.leased_until) == message.leased_until,
                )
                .values(
                    state=new_state,
                    leased_until=None,
                    last_error="okänt utfall: leveransen avbröts under sändningen; skickas inte igen"
                    if armed
                    else "",
                )
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            if not armed:
                report.released += 1
                continue
            report.unknown += 1
            if message.kind == MessageKind.FALLBACK:
                logger.error("reservmeddelande %s har okänt utfall; inget nytt reservmeddelande", message.id)
            else:
                unknown[message.municipality_id].append(message)
        for municipality_id, messages in unknown.items():
            report.fallbacks += _write_fallback(
                session, municipality_id, *_unknown_fallback_text(session, messages), now=now
            )


def _last_recorded_attempt(session: Session, message_id: int) -> int:
    found = session.exec(
        select(func.max(DeliveryAttempt.attempt)).where(DeliveryAttempt.message_id == message_id)
    ).one()
    return int(found or 0)


# 2. Claim and storm guard -----------------------------------------------------------------------------


def _claim_due(
    engine: sa.Engine,
    now: datetime,
    settings: Settings,
    limit: int,
    lease: timedelta,
    report: DeliveryReport,
) -> list[_Claim]:
    claims: list[_Claim] = []
    leased_until = now + lease
    with transaction(engine) as session:
        due = list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.state == MessageState.PENDING, OutboxMessage.next_attempt_at <= now)
                .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        obsolete = _obsolete_ids(session, due)
        window: dict[int, list[datetime]] = {}
        for message in due:
            if message.id in obsolete:
                changed = session.execute(
                    sa.update(OutboxMessage)
                    .where(
                        col(OutboxMessage.id) == message.id,
                        col(OutboxMessage.state) == MessageState.PENDING,
                    )
                    .values(
                        state=MessageState.OBSOLETE, last_error="inaktuellt: allt det gällde är redan klart"
                    )
                )
                report.obsolete += changed.rowcount  # type: ignore[attr-defined]
                continue
            values: dict[str, object]
            recipient = message.recipient_person_id
            postpone_to = None
            if recipient is not None:
                if recipient not in window:
                    window[recipient] = _recent_sends(session, recipient, now)
                times = window[recipient]
                if len(times) >= settings.messages_per_hour:
                    # The hour frees a slot when its oldest send turns an hour old; later postponed
                    # messages wait for the next-oldest, and so on.
                    postpone_to = sorted(times)[len(times) - settings.messages_per_hour] + HOUR
            if postpone_to is not None:
                values = {"next_attempt_at": max(postpone_to, now + timedelta(seconds=1))}
            else:
                values = {"state": MessageState.SENDING, "leased_until": leased_until}
            changed = session.execute(
                sa.update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == message.id,
                    col(OutboxMessage.state) == MessageState.PENDING,
                )
                .values(**values)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another process claimed it first
            if postpone_to is not None:
                report.postponed += 1
                window[recipient or 0].append(values["next_attempt_at"])  # type: ignore[arg-type]
                continue
            if recipient is not None:
                window[recipient].append(now)
            claims.append(_Claim(message_id=message.id or 0, lease=leased_until))
    report.claimed = len(claims)
    return claims


def _obsolete_ids(session: Session, messages: Sequence[OutboxMessage]) -> set[int]:
    """The digests whose every reminder's task is no longer open, and the escalation messages whose
    escalations are all resolved: sending them now would only remind people of work already done.

    A digest with one open item is still sent whole: its text is fixed when it is written.
    """
    digests = [message.id for message in messages if message.kind == MessageKind.DIGEST]
    escalations = [message.id for message in messages if message.kind == MessageKind.ESCALATION]
    obsolete: set[int] = set()
    if digests:
        rows = session.execute(
            sa.select(
                col(Reminder.outbox_message_id),
                sa.func.max(sa.case((col(Task.state) == TaskState.OPEN, 1), else_=0)),
            )
            .join(Task, col(Task.id) == col(Reminder.task_id))
            .where(col(Reminder.outbox_message_id).in_(digests))
            .group_by(col(Reminder.outbox_message_id))
        )
        obsolete.update(message_id for message_id, any_open in rows if not any_open)
    if escalations:
        rows = session.execute(
            sa.select(
                col(Escalation.outbox_message_id),
                sa.func.max(sa.case((col(Escalation.resolved_on).is_(None), 1), else_=0)),
            )
            .where(col(Escalation.outbox_message_id).in_(escalations))
            .group_by(col(Escalation.outbox_message_id))
        )
        obsolete.update(message_id for message_id, any_open in rows if not any_open)
    return obsolete


def _recent_sends(session: Session, person_id: int, now: datetime) -> list[datetime]:
    """When the person's messages of the last hour were sent; those being sent now count as now."""
    sent = session.exec(
        select(OutboxMessage.sent_at).where(
            OutboxMessage.recipient_person_id == person_id,
            OutboxMessage.state == MessageState.SENT,
            col(OutboxMessage.sent_at) > now - HOUR,
        )
    )
    sending = session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.recipient_person_id == person_id,
            OutboxMessage.state == MessageState.SENDING,
        )
    ).one()
    return [moment for moment in sent if moment is not None] + [now] * int(sending)


# 3. Arm, send, record -----------------------------------------------------------------------------------


def _deliver_one(
    engine: sa.Engine, claim: _Claim, now: datetime, settings: Settings, report: DeliveryReport
) -> None:
    with transaction(engine) as session:
        message = session.get(OutboxMessage, claim.message_id)
        if message is None:
            return
        targets = _targets(session, message, settings)
        already_ok = set(
            session.exec(
                select(DeliveryAttempt.target).where(
                    DeliveryAttempt.message_id == claim.message_id, col(DeliveryAttempt.ok)
                )
            )
        )
        attachments = [
            Attachment(row.filename, row.mime_type, row.content)
            for row in attachments_of(session, claim.message_id)
        ]
        attempt = message.attempts + 1
        # Arm: from this commit on, the message may reach someone, so a crash makes it UNKNOWN.
        armed = session.execute(
            sa.update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == claim.message_id,
                col(OutboxMessage.state) == MessageState.SENDING,
                col(OutboxMessage.leased_until) == claim.lease,
            )
            .values(attempts=attempt)
        )
        if armed.rowcount != 1:  # type: ignore[attr-defined]
            logger.warning("meddelande %s: lånet har gått ut, skickas inte av denna körning", message.id)
            return
    results: list[tuple[str, bool, str]] = []
    for target in targets:
        if target.label in already_ok:
            continue
        result = send(target, message.subject, message.body_text, message.body_html, attachments)
        results.append((target.label, result.ok, result.detail))
        logger.info("meddelande %s till %s: %s", message.id, target.label, result.detail)
    if not targets:
        results.append((NO_TARGET, False, _no_target_error(message)))
    _record(engine, message, claim, attempt, results, now, settings, report, configuration_error=not targets)


def _targets(session: Session, message: OutboxMessage, settings: Settings) -> list[Target]:
    if message.recipient_person_id is None:
        coordinators = persons_with_role(session, message.municipality_id, COORDINATOR_ROLE)
        return fallback_targets(coordinators, settings)
    person = session.get(Person, message.recipient_person_id)
    return [] if person is None else targets_for(person, settings, reply_to=message.reply_to)


def _no_target_error(message: OutboxMessage) -> str:
    if message.recipient_person_id is None:
        return "konfigurationsfel: ingen reservkanal och ingen BRÅ-samordnare med adress"
    return "konfigurationsfel: mottagaren har ingen e-postadress eller annan kanal (eller e-post saknas)"


def _record(
    engine: sa.Engine,
    message: OutboxMessage,
    claim: _Claim,
    attempt: int,
    results: list[tuple[str, bool, str]],
    now: datetime,
    settings: Settings,
    report: DeliveryReport,
    *,
    configuration_error: bool,
) -> None:
    failures = [(label, detail) for label, ok, detail in results if not ok]
    values: dict[str, object] = {"leased_until": None}
    if not failures:
        values |= {"state": MessageState.SENT, "sent_at": now, "last_error": ""}
    else:
        error = "; ".join(f"{label}: {detail}" for label, detail in failures)[:1000]
        values["last_error"] = error
        if configuration_error or attempt >= settings.max_attempts:
            values["state"] = MessageState.FAILED
        else:
            values |= {
                "state": MessageState.PENDING,
                "next_attempt_at": now + timedelta(seconds=settings.retry_base_seconds * 2 ** (attempt - 1)),
            }
    with transaction(engine) as session:
        for label, ok, detail in results:
            session.add(
                DeliveryAttempt(
                    message_id=claim.message_id,
                    attempt=attempt,
                    target=label[:300],
                    ok=ok,
                    detail=detail[:1000],
                    at=now,
                )
            )
        changed = session.execute(
            sa.update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == claim.message_id,
                col(OutboxMessage.state) == MessageState.SENDING,
                col(OutboxMessage.leased_until) == claim.lease,
            )
            .values(**values)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            logger.warning(
                "meddelande %s: lånet gick ut under sändningen; utfallet är redan okänt", message.id
            )
            return
        state = values["state"]
        if state == MessageState.SENT:
            report.sent += 1
        elif state == MessageState.PENDING:
            report.retrying += 1
        else:
            report.failed += 1
            if message.kind == MessageKind.FALLBACK:
                logger.error("reservmeddelande %s kunde inte levereras", message.id)
            else:
                report.fallbacks += _write_fallback(
                    session,
                    message.municipality_id,
                    *_failed_fallback_text(session, message, str(values["last_error"])),
                    now=now,
                )


# Fallback messages ------------------------------------------------------------------------------------


def _write_fallback(
    session: Session,
    municipality_id: int,
    key: str,
    subject: str,
    text: str,
    body_html: str,
    *,
    now: datetime,
) -> int:
    """Insert one FALLBACK message unless its dedupe key exists; 1 when this call inserted it."""
    values = {
        "municipality_id": municipality_id,
        "dedupe_key": key,
        "kind": MessageKind.FALLBACK,
        "recipient_person_id": None,
        "subject": subject[:500],
        "body_text": text,
        "body_html": body_html,
        "created_at": now,
        "state": MessageState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
    }
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    statement = insert.values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return 1 if session.execute(statement.returning(sa.literal(1))).first() is not None else 0


def _describe(session: Session, message: OutboxMessage) -> str:
    person = session.get(Person, message.recipient_person_id) if message.recipient_person_id else None
    who = f"{person.name} <{person.email}>" if person else "reservkanalen"
    return f"#{message.id} till {who}: {message.subject}"


def _unknown_fallback_text(session: Session, messages: list[OutboxMessage]) -> tuple[str, str, str, str]:
    key = f"okänt:{min(message.id or 0 for message in messages)}"
    count = len(messages)
    subject = f"Kontrollera om {count} meddelande{'n' if count > 1 else ''} kom fram ({key})"
    intro = (
        "Leveransen avbröts medan följande meddelanden skickades. Det går inte att veta om de kom fram, "
        "så de skickas inte igen automatiskt. Fråga mottagaren och skicka vid behov på nytt."
    )
    lines = [_describe(session, message) for message in messages]
    return key, subject, _text(intro, lines), _html(intro, lines)


def _failed_fallback_text(session: Session, message: OutboxMessage, error: str) -> tuple[str, str, str, str]:
    key = f"misslyckat:{message.id}"
    subject = f"Meddelande #{message.id} kunde inte levereras: {message.subject}"
    intro = (
        f"Meddelandet nedan kunde inte levereras efter {message.attempts + 1} försök. "
        "Kontakta mottagaren på annat sätt och rätta adressen i katalogen."
    )
    lines = [_describe(session, message), f"Fel: {error}"]
    return key, subject, _text(intro, lines), _html(intro, lines)


def _text(intro: str, lines: list[str]) -> str:
    return intro + "\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"


def _html(intro: str, lines: list[str]) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<p>{html.escape(intro)}</p><ul>{items}</ul>"


# Prefect ------------------------------------------------------------------------------------------------
