"""The agenda (dagordning) of a meeting of the kommun's local BRÅ or of kommunledningen.

``compile_forum_agenda`` gathers one meeting of the forum (from the directory: ``Forum`` and its
``ForumMeeting`` rows) as typed data, judged as of ``min(as_of, meeting day)``:

- Ärenden från EST: every persisting problem routed to this forum (``PersistingProblem.forum_kind``)
  that is open, or that was resolved after the forum's previous meeting (marked resolved), with its
  history of periods and counts, the threshold, and its escalation's state. A problem raised after
  the previous meeting is new; one raised before it is still on the table (kvarstår).
- Eskaleringar: for kommunledningen the open level-2 escalations (what stalled, since when); for the
  BRÅ the open escalations of level 1 and 2 about measures of the plan. Persisting problems are left
  out here: they are the first section.
- Halvårsuppföljningen: when the meeting is a follow-up meeting of the rhythm
  (``cycles.follow_up.follow_up_occasions``), a pointer to that half-year's report with its headline
  counts, taken from ``reports.follow_up_report.compile_report``, not counted again here.
- Beslut: a section the template fills with one decision point per item.

Renderers turn it into HTML, plain text and DOCX (``documents.word`` through the line format of
``reports.est_agenda.docx_blocks``); ``samordna rapport dagordning`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.clock import moment_of
from core.errors import NotFoundError
from core.templating import render
from core.text import swedish_date
from cycles.follow_up import follow_up_occasions
from documents import word
from models.directory import Forum, ForumMeeting, forum_members, meetings
from models.enums import ForumKind
from models.escalation import Escalation, EscalationReason
from models.est import PersistingProblem
from models.municipality import Municipality
from models.plan import Measure
from models.rhythm import rhythm_from_json
from models.task import Task
from reports.est_agenda import docx_blocks, plain_text
from reports.follow_up_report import Light, compile_report, parse_period

__all__ = [
    "FORMATS",
    "FORUM_KINDS",
    "EscalationItem",
    "FollowUpPointer",
    "ForumAgenda",
    "ForumAgendaError",
    "HistoryEntry",
    "ProblemItem",
    "choose_meeting",
    "compile_forum_agenda",
    "render_forum_agenda",
]

FORMATS = ("html", "docx", "pdf", "text")
# The CLI's --forum values and the directory's forum kinds they mean.
FORUM_KINDS = {"bra": ForumKind.LOCAL_BRA, "kommunledningen": ForumKind.MUNICIPAL_MANAGEMENT}
_FORUM_WORDS = {ForumKind.LOCAL_BRA: "lokala BRÅ", ForumKind.MUNICIPAL_MANAGEMENT: "kommunledningen"}

NEW = "ny"
STILL_OPEN = "kvarstår"
RESOLVED = "löst"


class ForumAgendaError(NotFoundError):
    """The forum or the meeting asked for does not exist; the message is Swedish."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    period: str
    start: str
    end: str
    count: int


@dataclass(frozen=True, slots=True)
class ProblemItem:
    """A persisting problem from EST as the forum sees it on the meeting day."""

    problem_id: int
    area: str
    category: str
    category_name: str
    state: str  # NEW, STILL_OPEN or RESOLVED
    opened_on: date
    resolved_on: date | None
    history: tuple[HistoryEntry, ...]
    threshold: int
    periods_required: int
    escalation_id: int | None
    escalation_level: int | None
    escalation_open: bool
    escalation_opened_on: date | None
    escalation_resolution: str

    @property
    def counts(self) -> str:
        return ", ".join(f"{entry.period}: {entry.count}" for entry in self.history)


@dataclass(frozen=True, slots=True)
class EscalationItem:
    """An open escalation: what stalled and since when."""

    escalation_id: int
    level: int
    reason: str
    subject: str
    detail: str
    cause_since: date
    opened_on: date
    measure_title: str


@dataclass(frozen=True, slots=True)
class FollowUpPointer:
    """The half-year report this follow-up meeting takes up, with its headline counts."""

    period_label: str
    plan_title: str
    round_open: bool
    asked: int
    reported: int
    on_time: int
    missing: int
    lights: dict[str, int]
    note: str  # why there is no report (no plan), else ""


@dataclass(slots=True)
class ForumAgenda:
    municipality_name: str
    municipality_code: str
    forum_name: str
    forum_kind: str
    meeting_on: date
    start_time: time | None
    place: str
    previous_meeting: date | None
    next_meeting: date | None
    as_of: date  # the day the agenda is judged on: the meeting day, or an earlier day asked for
    members: list[str]
    problems: list[ProblemItem] = field(default_factory=list)
    escalations: list[EscalationItem] = field(default_factory=list)
    follow_up: FollowUpPointer | None = None

    @property
    def is_management(self) -> bool:
        return self.forum_kind == ForumKind.MUNICIPAL_MANAGEMENT.value

    @property
    def open_problems(self) -> list[ProblemItem]:
        return [item for item in self.problems if item.state != RESOLVED]

    @property
    def resolved_problems(self) -> list[ProblemItem]:
        return [item for item in self.problems if item.state == RESOLVED]


# ---------------------------------------------------------------------------------------------------
# Compiling


def forum_of_kind(session: Session, municipality_id: int, kind: ForumKind) -> Forum:
    """The kommun's forum of ``kind`` (the first by name when the directory names several)."""
    found = session.exec(
        select(Forum)
        .where(Forum.municipality_id == municipality_id, Forum.kind == kind)
        .order_by(col(Forum.name), col(Forum.id))
    ).first()
    if found is None:
        raise ForumAgendaError(
            f"Kommunen har inget forum av typen {kind.value} ({_FORUM_WORDS.get(kind, kind.value)}) i "
            "katalogen. Lägg till det under forum: i katalogfilen och läs in den igen."
        )
    return found


def choose_meeting(session: Session, forum: Forum, meeting_on: date | None, as_of: date) -> ForumMeeting:
    """Meeting ``meeting_on``, or the forum's first meeting on or after ``as_of``."""
    every = meetings(session, forum.id or 0)
    if not every:
        raise ForumAgendaError(
            f"{forum.name} har inga möten i katalogen. Lägg till mötesdagarna under moten: i katalogfilen."
        )
    if meeting_on is not None:
        found = next((meeting for meeting in every if meeting.meeting_date == meeting_on), None)
        if found is None:
            near = ", ".join(
                m.meeting_date.isoformat() for m in every if m.meeting_date.year == meeting_on.year
            )
            raise ForumAgendaError(
                f"{forum.name} har inget möte {meeting_on.isoformat()}. "
                + (f"Mötesdagar {meeting_on.year}: {near}." if near else "Inga möten det året.")
            )
        return found
    upcoming = next((meeting for meeting in every if meeting.meeting_date >= as_of), None)
    if upcoming is None:
        raise ForumAgendaError(
            f"{forum.name} har inget möte {as_of.isoformat()} eller senare; det senaste var "
            f"{every[-1].meeting_date.isoformat()}. Ange ett möte med --mote DATUM."
        )
    return upcoming


def _escalation_states(session: Session, ids: list[int]) -> dict[int, Escalation]:
    return {e.id or 0: e for e in session.exec(select(Escalation).where(col(Escalation.id).in_(ids)))}


def problem_items(
    session: Session,
    municipality: Municipality,
    kind: ForumKind,
    previous_meeting: date | None,
    day: date,
) -> list[ProblemItem]:
    """Persisting problems routed to ``kind``: open on ``day``, or resolved after ``previous_meeting``."""
    rhythm = rhythm_from_json(municipality.rhythm)
    names = {category.key: category.name for category in rhythm.est.categories}
    query = select(PersistingProblem).where(
        PersistingProblem.municipality_id == municipality.id,
        PersistingProblem.forum_kind == kind.value,
        col(PersistingProblem.opened_on) <= day,
    )
    if previous_meeting is not None:
        query = query.where(
            sa.or_(
                col(PersistingProblem.resolved_on).is_(None),
                col(PersistingProblem.resolved_on) > previous_meeting,
            )
        )
    rows = list(session.exec(query.order_by(col(PersistingProblem.opened_on), col(PersistingProblem.id))))
    escalations = _escalation_states(session, [row.escalation_id for row in rows if row.escalation_id])
    items = []
    for row in rows:
        resolved = row.resolved_on is not None and row.resolved_on <= day
        if resolved:
            state = RESOLVED
        elif previous_meeting is not None and row.opened_on <= previous_meeting:
            state = STILL_OPEN
        else:
            state = NEW
        escalation = escalations.get(row.escalation_id or 0)
        escalation_open = escalation is not None and (
            escalation.resolved_on is None or escalation.resolved_on > day
        )
        items.append(
            ProblemItem(
                problem_id=row.id or 0,
                area=row.area,
                category=row.category,
                category_name=names.get(row.category, row.category),
                state=state,
                opened_on=row.opened_on,
                resolved_on=row.resolved_on if resolved else None,
                history=tuple(
                    HistoryEntry(str(e["period"]), str(e["start"]), str(e["end"]), int(str(e["count"])))
                    for e in row.history
                    if str(e.get("end", "")) <= day.isoformat()
                ),
                threshold=rhythm.est.persisting.threshold,
                periods_required=rhythm.est.persisting.periods,
                escalation_id=row.escalation_id,
                escalation_level=escalation.level if escalation else None,
                escalation_open=escalation_open,
                escalation_opened_on=escalation.opened_on if escalation else None,
                escalation_resolution="" if escalation is None or escalation_open else escalation.resolution,
            )
        )
    return items


def escalation_items(
    session: Session, municipality_id: int, kind: ForumKind, day: date
) -> list[EscalationItem]:
    """Escalations open on ``day`` for this forum: level 2 for kommunledningen; level 1 and 2 about a
    measure (directly or through one of its tasks) for the BRÅ. Persisting problems are not repeated."""
    measure_id = sa.func.coalesce(col(Escalation.measure_id), col(Task.measure_id))
    query = (
        select(Escalation, Measure.title)
        .outerjoin(Task, col(Task.id) == col(Escalation.task_id))
        .outerjoin(Measure, col(Measure.id) == measure_id)
        .where(
            Escalation.municipality_id == municipality_id,
            col(Escalation.reason) != EscalationReason.PERSISTING_PROBLEM,
            col(Escalation.opened_on) <= day,
            sa.or_(col(Escalation.resolved_on).is_(None), col(Escalation.resolved_on) > day),
        )
        .order_by(col(Escalation.cause_since), col(Escalation.id))
    )
    if kind == ForumKind.MUNICIPAL_MANAGEMENT:
        query = query.where(col(Escalation.level) == 2)  # noqa: PLR2004 - level 2 is kommunledningen
    else:
        query = query.where(col(Escalation.level).in_([1, 2]), col(Measure.id).is_not(None))
    return [
        EscalationItem(
            escalation_id=escalation.id or 0,
            level=escalation.level,
            reason=escalation.reason.label,
            subject=escalation.subject,
            detail=escalation.detail,
            cause_since=escalation.cause_since,
            opened_on=escalation.opened_on,
            measure_title=title or "",
        )
        for escalation, title in session.exec(query).all()
    ]


def follow_up_pointer(
    session: Session, municipality: Municipality, forum: Forum, meeting: ForumMeeting
) -> FollowUpPointer | None:
    """The half-year report when ``meeting`` is a follow-up meeting of the rhythm, else None."""
    rhythm = rhythm_from_json(municipality.rhythm)
    if forum.kind != rhythm.follow_up.forum:
        return None
    occasion = next(
        (o for o in follow_up_occasions(session, municipality, rhythm) if o.meeting_id == meeting.id), None
    )
    if occasion is None:
        return None
    try:
        report = compile_report(session, municipality.id or 0, parse_period(occasion.period_label))
    except ValueError as error:
        return FollowUpPointer(
            occasion.period_label,
            "",
            round_open=False,
            asked=0,
            reported=0,
            on_time=0,
            missing=0,
            lights={},
            note=str(error),
        )
    totals = report.totals()
    summary = report.round
    return FollowUpPointer(
        period_label=report.period.label,
        plan_title=report.plan_title,
        round_open=summary is not None,
        asked=summary.asked if summary else 0,
        reported=summary.reported if summary else 0,
        on_time=summary.on_time if summary else 0,
        missing=summary.missing if summary else 0,
        lights={light.value: totals[light] for light in Light},
        note="",
    )


def compile_forum_agenda(
    session: Session,
    municipality: Municipality,
    kind: ForumKind,
    *,
    as_of: date,
    meeting_on: date | None = None,
) -> ForumAgenda:
    """The agenda of the forum's meeting ``meeting_on`` (default: its first meeting on or after
    ``as_of``), judged as of ``as_of`` or the meeting day, whichever is earlier. Reads only; raises
    ForumAgendaError (Swedish) for a forum or meeting that does not exist."""
    forum = forum_of_kind(session, municipality.id or 0, kind)
    meeting = choose_meeting(session, forum, meeting_on, as_of)
    every = [m.meeting_date for m in meetings(session, forum.id or 0)]
    earlier = [d for d in every if d < meeting.meeting_date]
    later = [d for d in every if d > meeting.meeting_date]
    day = min(as_of, meeting.meeting_date)
    previous = earlier[-1] if earlier else None
    return ForumAgenda(
        municipality_name=municipality.name,
        municipality_code=municipality.code,
        forum_name=forum.name,
        forum_kind=forum.kind.value,
        meeting_on=meeting.meeting_date,
        start_time=meeting.start_time,
        place=meeting.place,
        previous_meeting=previous,
        next_meeting=later[0] if later else None,
        as_of=day,
        members=[person.name for person in forum_members(session, forum.id or 0)],
        problems=problem_items(session, municipality, forum.kind, previous, day),
        escalations=escalation_items(session, municipality.id or 0, forum.kind, day),
        follow_up=follow_up_pointer(session, municipality, forum, meeting),
    )


# ---------------------------------------------------------------------------------------------------
# Rendering


def title(agenda: ForumAgenda) -> str:
    return render("reports/forum_agenda_title.txt.j2", agenda=agenda).strip()


def render_html(agenda: ForumAgenda) -> str:
    return render("reports/forum_agenda.html.j2", agenda=agenda, title=title(agenda))


def _markup(agenda: ForumAgenda, *, docx: bool) -> str:
    return render("reports/forum_agenda.txt.j2", agenda=agenda, title=title(agenda), docx=docx)


def render_text(agenda: ForumAgenda) -> str:
    """The agenda as plain text: headings underlined, tables aligned."""
    return plain_text(_markup(agenda, docx=False))


def render_docx(agenda: ForumAgenda) -> bytes:
    blocks = docx_blocks(_markup(agenda, docx=True), {})
    letterhead = word.Letterhead(
        organisation=agenda.municipality_name, dated=swedish_date(agenda.as_of, "D MMMM YYYY")
    )
    return word.docx_document(title(agenda), blocks, created=moment_of(agenda.as_of), letterhead=letterhead)


def render_forum_agenda(agenda: ForumAgenda, fmt: str) -> bytes:
    """One format of the agenda as bytes."""
    if fmt == "html":
        return render_html(agenda).encode()
    if fmt == "text":
        return render_text(agenda).encode()
    if fmt == "docx":
        return render_docx(agenda)
    raise ValueError(fmt)
