"""Delivery: drain the outbox through the channels, exactly once as far as the world allows, and lose
nothing while a channel is down.

``deliver_due(engine, now, settings)`` owns its transactions; one pass does, in order:

1. **Expired leases.** A message in SENDING whose lease ran out belonged to a process that died (or
   stalled past its lease). If that process had *armed* the message (see 5.) it may have reached the
   recipient: it becomes UNKNOWN and is never resent by itself; one FALLBACK message per kommun and
   pass (dedupe key ``okänt:{smallest id}``) lists such messages for the BRÅ-samordnare to check
   (``samordna utkorg skicka-om`` sends one again after the check). If it had not been armed, no send
   ever began, and it simply goes back to PENDING.
2. **Channels.** A channel (the mail server, one webhook: ``DeliveryChannel``) that could not be reached
   is PAUSED until ``next_probe_at``, with a pause that doubles per failed try from
   ``channel_retry_base_seconds`` up to ``channel_retry_max_seconds``. A paused mail server whose time
   has come is probed (connect and log in, nothing sent); a webhook has no probe, so the next send to
   it is the probe. Without ``SAMORDNA_MAIL_URL``, e-mail is an UNCONFIGURED channel. When a channel
   recovers (or e-mail gets configured), the messages waiting for it are due at once, and the FAILED
   messages that failed on it within ``requeue_window_hours`` are queued again (once automatically).
3. **Digests merged.** A person whose channel kept several digests waiting gets one: the waiting
   digests (never delivered anywhere, never refused) are replaced by one digest rendered now from
   their still-open tasks (``compose.merge_digests``). A digest from an earlier day found before the
   day's sweep (``daglig_kontroll`` + 10 min) on a working day waits for it, so that it is merged with
   that day's digest: at most one digest per person and working day after an outage.
4. **Claim.** Due PENDING messages, oldest first, up to ``limit``, are locked with
   ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; a no-op on SQLite, where the conditional
   ``UPDATE … WHERE state = PENDING`` and its row count make the claim safe) and set to SENDING with a
   lease, then committed. A message whose every remaining target is on a paused or unconfigured
   channel is not claimed: it waits (``next_attempt_at``) for the channel, no attempt spent. The
   **storm guard** runs here: a recipient who already had ``messages_per_hour`` messages sent (or being
   sent) in the last hour gets the rest postponed to the moment a slot of that hour frees up.
5. **Send**, one message at a time: *arm* it (attempts + 1, committed, only if our lease still holds),
   send it to each of the recipient's targets that has not already accepted it on an earlier attempt
   and whose channel is not paused (with its attachments, OutboxAttachment, as files to e-mail; other
   channels get a line instead), then *record* the outcome and the per-target DeliveryAttempt rows in
   one commit. A message written on an earlier day (Europe/Stockholm) says so first: "Försenat på grund
   av driftstörning". All targets ok → SENT. A channel that could not be reached pauses (2.) and the
   message waits for it: PENDING, ``rejections`` unchanged. A reachable channel that refused the
   message (``rejections`` + 1) → PENDING with ``next_attempt_at = now + retry_base_seconds ·
   2^(rejections−1)``, or FAILED after ``max_attempts`` refusals with a FALLBACK message
   (``misslyckat:{id}``, "efter N försök" with N the refusals). A recipient with no target at all is a
   configuration error: FAILED at once, with the fallback.
6. **Notices.** A channel down longer than ``outage_notice_minutes`` gives one FALLBACK notice per kommun
   with waiting messages (``driftstörning:{channel}:{since}``), and its recovery another
   (``driftstörning-slut:…``); unconfigured e-mail one (``ingen-epostserver:{kommun}:{day}``), with one
   warning in the log when it is first seen.

Semantics:
- Everything except a message whose fate is unknown is delivered **exactly once**: it is claimed and
  armed (committed) before the send and recorded (committed) right after it, and every state change is
  a conditional UPDATE on our own lease, so two processes never both send one message.
- A message whose fate is unknown (the process died between arming and recording) is delivered **at
  most once**: a duplicate reminder to a busy ansvarig is worse than a check by the coordinator. Arming
  one message at a time keeps that window to at most one message per crashed process.
- Whether a message was armed is read from the data, not guessed: arming raises ``attempts`` above the
  highest attempt recorded in DeliveryAttempt, and recording writes that attempt's rows.
- **No outage loses a message.** Only a refusal by a reachable channel counts against a message; a
  channel that is down only pauses, and nothing fails while it is down, however long.
- Fallback messages have no person as recipient (``recipient_person_id`` is NULL): they go to
  ``settings.fallback_url`` if set, else to every person with the role bra_samordnare, by e-mail and
  their other targets, and never through a paused channel: a notice about the mail server being down
  goes by the fallback URL, or waits. A fallback that fails or whose fate is unknown raises no further
  fallback; it is logged as an error instead.
- ``last_error`` and DeliveryAttempt rows hold Swedish text and target labels, never a credential.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from core.clock import STOCKHOLM
from core.settings import Settings
from core.templating import render
from models.db import transaction
from models.directory import Person, persons_with_role
from models.escalation import Escalation
from models.municipality import Municipality
from models.outbox import (
    ChannelState,
    DeliveryAttempt,
    DeliveryChannel,
    MessageKind,
    MessageState,
    OutboxMessage,
    attachments_of,
    message_ids_by_key,
)
from models.records import insert_once
from models.rhythm import rhythm_from_json
from models.task import Reminder, Task, TaskState
from models.working_days import is_working_day
from notifications.channels import (
    MAIL_UNCONFIGURED,
    SendResult,
    Target,
    fallback_targets,
    mail_target,
    probe,
    send,
    targets_for,
)
from notifications.compose import DigestMergeError, merge_digests
from notifications.documents import Attachment

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=30)  # longer than the slowest send of one message (cto + rto per target)
HOUR = timedelta(hours=1)
COORDINATOR_ROLE = "bra_samordnare"
NO_TARGET = "(ingen adress)"
UNCONFIGURED_RECHECK = timedelta(hours=1)  # held for unconfigured e-mail: looked at again this often
DIGEST_HOLD_MARGIN = timedelta(minutes=10)  # after the kommun's daily sweep: its digest is written by then
PROBE_RECIPIENT = "halsokontroll@samordna.invalid"  # a probe connects only: nothing is sent to it
_BODY_TAG = re.compile(r"<body[^>]*>", re.IGNORECASE)


@dataclass(slots=True)
class DeliveryReport:
    """What one pass did, as counts (never names or addresses)."""

    unknown: int = 0
    released: int = 0  # claimed by a dead process but never armed: back to PENDING
    claimed: int = 0
    postponed: int = 0  # storm guard, or a digest waiting for the day's sweep
    waiting: int = 0  # waiting for a paused or unconfigured channel: no attempt spent
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    fallbacks: int = 0
    obsolete: int = 0  # settled before their turn: not sent
    merged: int = 0  # digests replaced by one merged digest
    probes: int = 0
    recovered: int = 0  # channels that came back in this pass
    requeued: int = 0  # FAILED messages queued again because their channel came back

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Claim:
    message_id: int
    lease: datetime


@dataclass(frozen=True, slots=True)
class _Recovery:
    key: str
    channel_id: int
    down_since: datetime


def deliver_due(
    engine: sa.Engine, now: datetime, settings: Settings, *, limit: int = 200, lease: timedelta = LEASE
) -> DeliveryReport:
    """One delivery pass at ``now`` (see the module docstring); commits as it goes."""
    report = DeliveryReport()
    _settle_expired_leases(engine, now, report)
    channels = _Channels(engine, now, settings, report)
    channels.check_mail_configuration()
    channels.probe_due()
    _after_recovery(engine, now, settings, channels, report)
    _merge_waiting_digests(engine, now, report)
    for claim in _claim_due(engine, now, settings, channels, limit, lease, report):
        _deliver_one(engine, claim, now, settings, channels, report)
    channels.note_unconfigured()
    _after_recovery(engine, now, settings, channels, report)
    _outage_notices(engine, now, settings, channels, report)
    return report


def local_day(moment: datetime) -> date:
    """The day ``moment`` falls on in Europe/Stockholm."""
    return moment.astimezone(STOCKHOLM).date()


def channel_name(key: str) -> str:
    """``E-postservern mailto://smtp.kommun.se:587`` or ``Kanalen json://…``: a channel for a person."""
    if key == MAIL_UNCONFIGURED:
        return "E-posten"
    if key.startswith("e-post "):
        return f"E-postservern {key.removeprefix('e-post ')}"
    return f"Kanalen {key}"


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
                .execution_options(synchronize_session=False)
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
            key = f"okänt:{min(message.id or 0 for message in messages)}"
            count = len(messages)
            subject = f"Kontrollera om {count} meddelande{'n' if count > 1 else ''} kom fram ({key})"
            lines = [_describe(session, message) for message in messages]
            report.fallbacks += _write_fallback(
                session, municipality_id, key, subject, _notice("okänt", lines), now=now
            )


def _last_recorded_attempt(session: Session, message_id: int) -> int:
    found = session.exec(
        select(func.max(DeliveryAttempt.attempt)).where(DeliveryAttempt.message_id == message_id)
    ).one()
    return int(found or 0)


# 2. Channels ------------------------------------------------------------------------------------------


@dataclass
class _Channels:
    """The channels' states for one pass: read once, changed (and committed at once) as probes and sends
    report. Never written to inside another open transaction (SQLite has one writer)."""

    engine: sa.Engine
    now: datetime
    settings: Settings
    report: DeliveryReport
    rows: dict[str, DeliveryChannel] = field(default_factory=dict)
    recovered: list[_Recovery] = field(default_factory=list)
    unconfigured_seen: bool = False

    def __post_init__(self) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            self.rows = {row.key: row for row in session.exec(select(DeliveryChannel))}

    def blocked_until(self, target: Target) -> datetime | None:
        """When to try ``target`` again if its channel holds it now; None if it may be sent to."""
        if target.unconfigured:
            self.unconfigured_seen = True
            return self.now + UNCONFIGURED_RECHECK
        row = self.rows.get(target.channel)
        if row is None or row.state != ChannelState.PAUSED:
            return None
        if row.next_probe_at is not None and row.next_probe_at > self.now:
            return row.next_probe_at
        return None  # its time has come: this send is the probe

    def down(self, target: Target, detail: str) -> datetime:
        """The channel could not be reached: pause it (longer each time); when to try it again."""
        row = self.rows.get(target.channel)
        failures = (row.failures if row is not None and row.state == ChannelState.PAUSED else 0) + 1
        pause = min(
            self.settings.channel_retry_base_seconds * 2 ** (failures - 1),
            self.settings.channel_retry_max_seconds,
        )
        next_probe = self.now + timedelta(seconds=pause)
        down_since = row.down_since if row is not None and row.down_since is not None else self.now
        if row is None or row.state != ChannelState.PAUSED:
            logger.warning(
                "kanalen %s kan inte nås (%s); pausad, meddelandena väntar", target.channel, detail
            )
        self._save(
            target.channel,
            state=ChannelState.PAUSED,
            failures=failures,
            down_since=down_since,
            next_probe_at=next_probe,
            last_error=detail[:1000],
        )
        return next_probe

    def up(self, key: str) -> None:
        """The channel was reached: if it was paused or unconfigured, it is back (and remembered as so)."""
        row = self.rows.get(key)
        if row is None or row.state == ChannelState.OK:
            return
        self.recovered.append(_Recovery(key, row.id or 0, row.down_since or self.now))
        self.report.recovered += 1
        logger.warning("kanalen %s fungerar igen; de väntande meddelandena skickas", key)
        self._save(key, state=ChannelState.OK, failures=0, down_since=None, next_probe_at=None, last_error="")

    def check_mail_configuration(self) -> None:
        """E-mail that was unconfigured and now has a mail server is back."""
        row = self.rows.get(MAIL_UNCONFIGURED)
        if self.settings.mail_url and row is not None and row.state == ChannelState.UNCONFIGURED:
            self.up(MAIL_UNCONFIGURED)

    def note_unconfigured(self) -> None:
        """Held messages for unconfigured e-mail were seen: record it (warning once, when first seen)."""
        if not self.unconfigured_seen:
            return
        row = self.rows.get(MAIL_UNCONFIGURED)
        if row is not None and row.state == ChannelState.UNCONFIGURED:
            return
        logger.warning(
            "SAMORDNA_MAIL_URL är inte satt: meddelanden till personer som bara nås med e-post väntar; "
            "inget markeras som misslyckat"
        )
        self._save(
            MAIL_UNCONFIGURED,
            state=ChannelState.UNCONFIGURED,
            failures=0,
            down_since=self.now,
            next_probe_at=None,
            last_error="SAMORDNA_MAIL_URL är inte satt",
        )

    def probe_due(self) -> None:
        """Probe the paused mail server if its time has come (a webhook is probed by its next send)."""
        if not self.settings.mail_url:
            return
        target = mail_target(self.settings.mail_url, PROBE_RECIPIENT)
        row = self.rows.get(target.channel)
        if row is None or row.state != ChannelState.PAUSED:
            return
        if row.next_probe_at is not None and row.next_probe_at > self.now:
            return
        result = probe(target)
        if result is None:
            return
        self.report.probes += 1
        if result.ok:
            self.up(target.channel)
        else:
            self.down(target, result.detail)

    def _save(self, key: str, **values: object) -> None:
        with transaction(self.engine) as session:
            insert_once(session, DeliveryChannel(key=key, updated_at=self.now), key="key")
            session.execute(
                sa.update(DeliveryChannel)
                .where(col(DeliveryChannel.key) == key)
                .values(updated_at=self.now, **values)
                .execution_options(synchronize_session=False)
            )
            row = session.exec(select(DeliveryChannel).where(DeliveryChannel.key == key)).one()
            self.rows[key] = row


def _after_recovery(
    engine: sa.Engine, now: datetime, settings: Settings, channels: _Channels, report: DeliveryReport
) -> None:
    """Channels that came back: what waited for them is due now, what FAILED on them within the window
    is queued again (once by itself), and a notice says so if the outage was announced."""
    recovered, channels.recovered = channels.recovered, []
    if not recovered:
        return
    keys = [recovery.key for recovery in recovered]
    with transaction(engine) as session:
        # Messages wait for a channel with next_attempt_at at its probe time, and never with a refusal.
        session.execute(
            sa.update(OutboxMessage)
            .where(
                col(OutboxMessage.state) == MessageState.PENDING,
                col(OutboxMessage.rejections) == 0,
                col(OutboxMessage.next_attempt_at) > now,
            )
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        if settings.requeue_window_hours:
            failed_on_channel = (
                select(DeliveryAttempt.message_id)
                .where(col(DeliveryAttempt.channel).in_(keys), col(DeliveryAttempt.ok).is_(False))
                .scalar_subquery()
            )
            requeued = session.execute(
                sa.update(OutboxMessage)
                .where(
                    col(OutboxMessage.state) == MessageState.FAILED,
                    col(OutboxMessage.requeues) == 0,
                    col(OutboxMessage.failed_at) >= now - timedelta(hours=settings.requeue_window_hours),
                    col(OutboxMessage.id).in_(failed_on_channel),
                )
                .values(
                    state=MessageState.PENDING,
                    rejections=0,
                    requeues=col(OutboxMessage.requeues) + 1,
                    failed_at=None,
                    next_attempt_at=now,
                    last_error="köat igen: kanalen fungerar igen",
                )
                .execution_options(synchronize_session=False)
            )
            report.requeued += requeued.rowcount  # type: ignore[attr-defined]
        for recovery in recovered:
            report.fallbacks += _recovery_notices(session, recovery, now)


def _recovery_notices(session: Session, recovery: _Recovery, now: datetime) -> int:
    """A notice that the channel is back, to each kommun that was told it was down."""
    prefix = _outage_key(recovery.channel_id, recovery.down_since)
    told = session.exec(
        select(OutboxMessage.municipality_id).where(col(OutboxMessage.dedupe_key).startswith(f"{prefix}:"))
    ).all()
    written = 0
    for municipality_id in set(told):
        notice = _notice(
            "återställd",
            [],
            channel=channel_name(recovery.key),
            since=now,
            down_since=recovery.down_since,
        )
        subject = f"{channel_name(recovery.key)} fungerar igen"
        written += _write_fallback(
            session, municipality_id, f"{prefix}:slut:{municipality_id}", subject, notice, now=now
        )
    return written


def _outage_key(channel_id: int, down_since: datetime) -> str:
    return f"driftstörning:{channel_id}:{down_since.strftime('%Y%m%dT%H%M%S')}"


# 3. Digests merged ----------------------------------------------------------------------------------


def _merge_waiting_digests(engine: sa.Engine, now: datetime, report: DeliveryReport) -> None:
    """One digest per person in place of the several a channel kept waiting (module docstring, 3.)."""
    with transaction(engine) as session:
        composed = select(Reminder.outbox_message_id).where(col(Reminder.outbox_message_id).is_not(None))
        recipients = set(
            session.exec(
                select(OutboxMessage.recipient_person_id).where(
                    OutboxMessage.state == MessageState.PENDING,
                    OutboxMessage.kind == MessageKind.DIGEST,
                    OutboxMessage.next_attempt_at <= now,
                    col(OutboxMessage.id).in_(composed),
                )
            )
        )
    for person_id in sorted(person for person in recipients if person is not None):
        try:
            with transaction(engine) as session:
                waiting = _mergeable_digests(session, person_id)
                if len(waiting) >= 2:  # noqa: PLR2004 - merging needs two
                    report.merged += merge_digests(session, waiting, local_day(now), now)
        except DigestMergeError:
            continue  # another process took one of them first: nothing was changed


def _mergeable_digests(session: Session, person_id: int) -> list[OutboxMessage]:
    """The person's PENDING digests that nothing was delivered or refused for (locked on PostgreSQL)."""
    digests = list(
        session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.state == MessageState.PENDING,
                OutboxMessage.kind == MessageKind.DIGEST,
                OutboxMessage.recipient_person_id == person_id,
                OutboxMessage.rejections == 0,
            )
            .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
            .with_for_update(skip_locked=True)
        )
    )
    if len(digests) < 2:  # noqa: PLR2004 - merging needs two
        return []
    delivered = set(
        session.exec(
            select(DeliveryAttempt.message_id).where(
                col(DeliveryAttempt.message_id).in_([digest.id for digest in digests]),
                col(DeliveryAttempt.ok),
            )
        )
    )
    return [digest for digest in digests if digest.id not in delivered]


# 4. Claim and storm guard -----------------------------------------------------------------------------


def _claim_due(  # noqa: C901 - one pass over the due messages, each rule a few lines
    engine: sa.Engine,
    now: datetime,
    settings: Settings,
    channels: _Channels,
    limit: int,
    lease: timedelta,
    report: DeliveryReport,
) -> list[_Claim]:
    claims: list[_Claim] = []
    leased_until = now + lease
    soonest = now + timedelta(seconds=1)
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
        delivered = _delivered_targets(session, [message.id or 0 for message in due])
        holds = _DigestHolds(session, now)
        window: dict[int, list[datetime]] = {}
        targets_of: dict[tuple[int | None, int], list[Target]] = {}
        # Messages that only wait are moved in one UPDATE per moment, not one per message.
        later: dict[datetime, list[int]] = defaultdict(list)
        settled: list[int] = []
        for message in due:
            message_id = message.id or 0
            if message_id in obsolete:
                settled.append(message_id)
                continue
            wait = holds.until(message)
            if wait is not None:
                later[wait].append(message_id)
                report.postponed += 1
                continue
            whose = (message.recipient_person_id, message.municipality_id)
            if whose not in targets_of:
                targets_of[whose] = _targets(session, message, settings)
            remaining = [
                target for target in targets_of[whose] if target.label not in delivered.get(message_id, set())
            ]
            blocked = [channels.blocked_until(target) for target in remaining]
            if remaining and all(until is not None for until in blocked):
                later[max(min(until for until in blocked if until is not None), soonest)].append(message_id)
                report.waiting += 1
                continue
            recipient = message.recipient_person_id
            if recipient is not None:
                if recipient not in window:
                    window[recipient] = _recent_sends(session, recipient, now)
                times = window[recipient]
                if len(times) >= settings.messages_per_hour:
                    # The hour frees a slot when its oldest send turns an hour old; later postponed
                    # messages wait for the next-oldest, and so on.
                    postpone_to = max(sorted(times)[len(times) - settings.messages_per_hour] + HOUR, soonest)
                    later[postpone_to].append(message_id)
                    report.postponed += 1
                    times.append(postpone_to)
                    continue
            if not _update_pending(
                session, [message_id], state=MessageState.SENDING, leased_until=leased_until
            ):
                continue  # another process claimed it first
            if recipient is not None:
                window[recipient].append(now)
            claims.append(_Claim(message_id=message_id, lease=leased_until))
        if settled:
            report.obsolete += _update_pending(
                session,
                settled,
                state=MessageState.OBSOLETE,
                last_error="inaktuellt: allt det gällde är redan klart",
            )
        for moment, message_ids in later.items():
            _update_pending(session, message_ids, next_attempt_at=moment)
    report.claimed = len(claims)
    return claims


def _update_pending(session: Session, message_ids: Sequence[int], **values: object) -> int:
    """Change the messages that are still PENDING; how many were (another process may have taken one)."""
    changed = session.execute(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(message_ids), col(OutboxMessage.state) == MessageState.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(changed.rowcount)  # type: ignore[attr-defined]


def _delivered_targets(session: Session, message_ids: Sequence[int]) -> dict[int, set[str]]:
    """Per message, the targets that accepted it on an earlier attempt."""
    found: dict[int, set[str]] = defaultdict(set)
    if message_ids:
        for message_id, target in session.exec(
            select(DeliveryAttempt.message_id, DeliveryAttempt.target).where(
                col(DeliveryAttempt.message_id).in_(message_ids), col(DeliveryAttempt.ok)
            )
        ):
            found[message_id].add(target)
    return found


class _DigestHolds:
    """A digest from an earlier day, found on a working day before that day's sweep (+ a margin), waits
    for it: the sweep's digest and the waiting one are then merged into one."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.today = local_day(now)
        self.sweep: dict[int, datetime] = {}

    def until(self, message: OutboxMessage) -> datetime | None:
        if message.kind != MessageKind.DIGEST or local_day(message.created_at) >= self.today:
            return None
        if not is_working_day(self.today):
            return None
        if message.municipality_id not in self.sweep:
            municipality = self.session.get(Municipality, message.municipality_id)
            rhythm = rhythm_from_json(municipality.rhythm if municipality else {})
            moment = datetime.combine(self.today, rhythm.daily_sweep_time, tzinfo=STOCKHOLM)
            self.sweep[message.municipality_id] = moment + DIGEST_HOLD_MARGIN
        hold = self.sweep[message.municipality_id]
        return hold if self.now < hold else None


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


# 5. Arm, send, record -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """What is sent, read before arming (an ORM object would change under the arming UPDATE)."""

    message_id: int
    municipality_id: int
    kind: MessageKind
    recipient_person_id: int | None
    subject: str
    text: str
    html: str
    rejections: int
    attempt: int
    description: str


def _deliver_one(
    engine: sa.Engine,
    claim: _Claim,
    now: datetime,
    settings: Settings,
    channels: _Channels,
    report: DeliveryReport,
) -> None:
    with transaction(engine) as session:
        message = session.get(OutboxMessage, claim.message_id)
        if message is None:
            return
        targets = _targets(session, message, settings)
        already_ok = _delivered_targets(session, [claim.message_id]).get(claim.message_id, set())
        remaining = [target for target in targets if target.label not in already_ok]
        waits = [until for target in remaining if (until := channels.blocked_until(target)) is not None]
        if remaining and len(waits) == len(remaining):
            # Every channel it still needs went down since the claim: it waits, unarmed.
            session.execute(
                sa.update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == claim.message_id,
                    col(OutboxMessage.state) == MessageState.SENDING,
                    col(OutboxMessage.leased_until) == claim.lease,
                )
                .values(state=MessageState.PENDING, leased_until=None, next_attempt_at=min(waits))
                .execution_options(synchronize_session=False)
            )
            report.waiting += 1
            return
        attachments = [
            Attachment(row.filename, row.mime_type, row.content)
            for row in attachments_of(session, claim.message_id)
        ]
        text, body_html = _bodies(message, now)
        outgoing = _Outgoing(
            message_id=claim.message_id,
            municipality_id=message.municipality_id,
            kind=message.kind,
            recipient_person_id=message.recipient_person_id,
            subject=message.subject,
            text=text,
            html=body_html,
            rejections=message.rejections,
            attempt=message.attempts + 1,
            description=_describe(session, message),
        )
        # Arm: from this commit on, the message may reach someone, so a crash makes it UNKNOWN.
        armed = session.execute(
            sa.update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == claim.message_id,
                col(OutboxMessage.state) == MessageState.SENDING,
                col(OutboxMessage.leased_until) == claim.lease,
            )
            .values(attempts=outgoing.attempt)
            .execution_options(synchronize_session=False)
        )
        if armed.rowcount != 1:  # type: ignore[attr-defined]
            logger.warning(
                "meddelande %s: lånet har gått ut, skickas inte av denna körning", claim.message_id
            )
            return
    results: list[tuple[Target, SendResult]] = []
    waiting: list[datetime] = []
    for target in remaining:
        until = channels.blocked_until(target)  # a channel may have gone down earlier in this pass
        if until is not None:
            waiting.append(until)
            continue
        result = send(target, outgoing.subject, outgoing.text, outgoing.html, attachments)
        logger.info("meddelande %s till %s: %s", outgoing.message_id, target.label, result.detail)
        if result.ok:
            channels.up(target.channel)
        elif result.channel_down:
            waiting.append(channels.down(target, result.detail))
        results.append((target, result))
    if not targets:
        results.append(
            (Target(url="", label=NO_TARGET), SendResult(ok=False, detail=_no_target_error(message)))
        )
    _record(engine, outgoing, claim, results, waiting, now, settings, report, configuration_error=not targets)


def _bodies(message: OutboxMessage, now: datetime) -> tuple[str, str]:
    """The message's text and HTML, with "Försenat på grund av driftstörning" first if it was written
    on an earlier day than it is sent."""
    written, sent = local_day(message.created_at), local_day(now)
    if written >= sent:
        return message.body_text, message.body_html
    note_text = render("notifications/forsenat.txt.j2", written=written, sent=sent).strip()
    text = f"{note_text}\n\n{message.body_text}"
    if not message.body_html:
        return text, ""
    note_html = render("notifications/forsenat.html.j2", written=written, sent=sent).strip()
    body = _BODY_TAG.search(message.body_html)
    if body is None:
        return text, note_html + message.body_html
    return text, message.body_html[: body.end()] + note_html + message.body_html[body.end() :]


def _targets(session: Session, message: OutboxMessage, settings: Settings) -> list[Target]:
    if message.recipient_person_id is None:
        coordinators = persons_with_role(session, message.municipality_id, COORDINATOR_ROLE)
        return fallback_targets(coordinators, settings)
    person = session.get(Person, message.recipient_person_id)
    return [] if person is None else targets_for(person, settings, reply_to=message.reply_to)


def _no_target_error(message: OutboxMessage) -> str:
    if message.recipient_person_id is None:
        return "konfigurationsfel: ingen reservkanal och ingen BRÅ-samordnare med adress"
    return "konfigurationsfel: mottagaren har ingen e-postadress eller annan kanal"


def _record(
    engine: sa.Engine,
    outgoing: _Outgoing,
    claim: _Claim,
    results: list[tuple[Target, SendResult]],
    waiting: list[datetime],
    now: datetime,
    settings: Settings,
    report: DeliveryReport,
    *,
    configuration_error: bool,
) -> None:
    refused = [(target, result) for target, result in results if not result.ok and not result.channel_down]
    down = [(target, result) for target, result in results if result.channel_down]
    values: dict[str, object] = {"leased_until": None}
    rejections = outgoing.rejections + (1 if refused else 0)
    if not refused and not down and not waiting:
        values |= {"state": MessageState.SENT, "sent_at": now, "last_error": ""}
    else:
        problems = [f"{target.label}: {result.detail}" for target, result in (*refused, *down)]
        if waiting and not down:
            problems.append("väntar på en kanal som inte kan nås just nu")
        values |= {"last_error": "; ".join(problems)[:1000], "rejections": rejections}
        if configuration_error or (refused and rejections >= settings.max_attempts):
            values |= {"state": MessageState.FAILED, "failed_at": now}
        elif refused:
            delay = timedelta(seconds=settings.retry_base_seconds * 2 ** (rejections - 1))
            values |= {"state": MessageState.PENDING, "next_attempt_at": now + delay}
        else:
            values |= {"state": MessageState.PENDING, "next_attempt_at": min(waiting)}
    with transaction(engine) as session:
        for target, result in results:
            session.add(
                DeliveryAttempt(
                    message_id=claim.message_id,
                    attempt=outgoing.attempt,
                    target=target.label[:300],
                    ok=result.ok,
                    detail=result.detail[:1000],
                    at=now,
                    channel=target.channel[:300],
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
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            logger.warning(
                "meddelande %s: lånet gick ut under sändningen; utfallet är redan okänt", claim.message_id
            )
            return
        state = values["state"]
        if state == MessageState.SENT:
            report.sent += 1
        elif state == MessageState.PENDING:
            report.retrying += 1
        else:
            report.failed += 1
            if outgoing.kind == MessageKind.FALLBACK:
                logger.error("reservmeddelande %s kunde inte levereras", claim.message_id)
            else:
                key = f"misslyckat:{claim.message_id}"
                subject = f"Meddelande #{claim.message_id} kunde inte levereras: {outgoing.subject}"
                lines = [outgoing.description, f"Fel: {values['last_error']}"]
                notice = _notice(
                    "misslyckat",
                    lines,
                    refusals=rejections if not configuration_error else 0,
                    message_id=claim.message_id,
                )
                report.fallbacks += _write_fallback(
                    session, outgoing.municipality_id, key, subject, notice, now=now
                )


# 6. Notices -------------------------------------------------------------------------------------------


def _outage_notices(
    engine: sa.Engine, now: datetime, settings: Settings, channels: _Channels, report: DeliveryReport
) -> None:
    """One notice per kommun with waiting messages for each channel down longer than the notice limit,
    and one when e-mail is not configured at all. They go by the fallback channel, never the one down."""
    threshold = now - timedelta(minutes=settings.outage_notice_minutes)
    long_down = [
        row
        for row in channels.rows.values()
        if row.state in {ChannelState.PAUSED, ChannelState.UNCONFIGURED}
        and row.down_since is not None
        and row.down_since <= threshold
    ]
    if not long_down:
        return
    with transaction(engine) as session:
        waiting = dict(
            session.exec(
                select(OutboxMessage.municipality_id, func.count())
                .where(
                    OutboxMessage.state == MessageState.PENDING, OutboxMessage.kind != MessageKind.FALLBACK
                )
                .group_by(col(OutboxMessage.municipality_id))
            ).all()
        )
        keys = {
            (row.key, municipality_id): _notice_key(row, municipality_id, now)
            for row in long_down
            for municipality_id in waiting
        }
        # Written once per outage and kommun: most passes find them all there and write nothing.
        existing = set(message_ids_by_key(session, list(keys.values())))
        for row in long_down:
            down_since = row.down_since or now
            for municipality_id, count in waiting.items():
                key = keys[(row.key, municipality_id)]
                if key in existing:
                    continue
                if row.state == ChannelState.UNCONFIGURED:
                    subject = "E-post är inte konfigurerad: meddelanden väntar"
                    notice = _notice("ingen e-post", [], waiting=count)
                else:
                    subject = f"Driftstörning: {channel_name(row.key)} kan inte nås"
                    notice = _notice(
                        "driftstörning",
                        [f"Senaste fel: {row.last_error}"] if row.last_error else [],
                        channel=channel_name(row.key),
                        since=down_since,
                        waiting=count,
                    )
                report.fallbacks += _write_fallback(session, municipality_id, key, subject, notice, now=now)


def _notice_key(row: DeliveryChannel, municipality_id: int, now: datetime) -> str:
    down_since = row.down_since or now
    if row.state == ChannelState.UNCONFIGURED:
        return f"ingen-epostserver:{municipality_id}:{local_day(down_since).isoformat()}"
    return f"{_outage_key(row.id or 0, down_since)}:{municipality_id}"


# Fallback messages ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Notice:
    text: str
    html: str


def _notice(kind: str, lines: list[str], **context: object) -> _Notice:
    intro = " ".join(render("notifications/reserv_intro.txt.j2", kind=kind, **context).split())
    return _Notice(
        text=render("notifications/reserv.txt.j2", intro=intro, lines=lines),
        html=render("notifications/reserv.html.j2", intro=intro, lines=lines),
    )


def _write_fallback(
    session: Session,
    municipality_id: int,
    key: str,
    subject: str,
    notice: _Notice,
    *,
    now: datetime,
) -> int:
    """Insert one FALLBACK message unless its dedupe key exists; 1 when this call inserted it."""
    values = {
        "municipality_id": municipality_id,
        "dedupe_key": key[:300],
        "kind": MessageKind.FALLBACK,
        "recipient_person_id": None,
        "subject": subject[:500],
        "body_text": notice.text,
        "body_html": notice.html,
        "created_at": now,
        "state": MessageState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "rejections": 0,
        "requeues": 0,
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
