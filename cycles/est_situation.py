"""The fortnightly EST-lägesbild (EstSituation): what the incidents of one EST period show.

Not the law's two-yearly lägesbild (SituationAssessment, flows/situation_assessment.py): this is the
picture of one 14-day period that the EST meeting works from. For EST period ``n`` (the days after
meeting ``n - 1`` up to meeting ``n``) it computes, with SQL aggregates (GROUP BY over the period's
rows, a fixed handful of queries whatever the number of incidents):

- counts by category × area, and the change against the previous period and the same period a year
  earlier (52 weeks back, so weekdays line up);
- hot-spots: the area × category cells that grew most against the previous period;
- hot-times: weekday × hour (incidents with only a part of the day are counted apart);
- the open insatser with status, ansvarig and due date, overdue on top;
- persisting problems: the same area and category with at least the kommun's threshold in each of
  N consecutive periods, with the forum the kommun's rutin raises it to (BRÅ and/or kommunledningen).

``close_period`` is what happens when a period closes (the EST cycle on a meeting day, or the first run
after it: the cycle catches up missed meetings oldest first): each persisting problem is raised once
(one PersistingProblem row, one Escalation, one item on the next meeting of the forum), its history
grows while it persists, and it is resolved when a period falls below the threshold; the period's
EstCycle row records the day it was first judged (``judged_on``). All of it through unique keys and
conditional updates, so any number of runs leaves the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cycles.est_calendar import cycle_row, meeting_at, meeting_date, period_start
from models.directory import Forum, ForumMeeting, Person, forum_name_of_kind
from models.enums import ForumKind
from models.escalation import Escalation, EscalationLevel, EscalationReason
from models.est import EstCycle, Intervention, InterventionState, PersistingProblem
from models.incident import UNKNOWN_HOUR, IncidentDayCount, IncidentHourCount
from models.records import Event, insert_once
from models.rhythm import EscalationTarget, Rhythm
from models.working_days import working_days_between

YEAR_DAYS = 364  # 52 weeks: the same weekdays a year earlier
HISTORY_WINDOW = 26  # periods looked back for a streak (a year of 14-day periods)
HOT_SPOTS = 5
UNKNOWN_AREA = "Okänt område"
WEEKDAYS = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")

Cell = tuple[str, str]  # (area, category key)


@dataclass(frozen=True, slots=True)
class Period:
    number: int
    start: date
    end: date

    @property
    def label(self) -> str:
        return f"EST-{self.number}"

    def shifted(self, days: int) -> tuple[date, date]:
        return self.start - timedelta(days=days), self.end - timedelta(days=days)


def period_of(rhythm: Rhythm, number: int) -> Period:
    """EST period ``number``: the days after meeting ``number - 1`` up to meeting ``number``."""
    return Period(number, period_start(rhythm, number), meeting_date(rhythm, number))


@dataclass(frozen=True, slots=True)
class HotSpot:
    area: str
    category: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True, slots=True)
class InterventionLine:
    id: int
    title: str
    area: str
    place: str
    responsible: str
    due_date: date
    status: str
    overdue_working_days: int  # 0 when not overdue


@dataclass(frozen=True, slots=True)
class StreakPeriod:
    number: int
    start: date
    end: date
    count: int


@dataclass(frozen=True, slots=True)
class PersistingFinding:
    area: str
    category: str
    streak: tuple[StreakPeriod, ...]  # oldest first, each at or above the threshold
    forums: tuple[ForumKind, ...]  # where the kommun's rutin raises it

    @property
    def first_number(self) -> int:
        return self.streak[0].number


@dataclass(slots=True)
class EstSituation:
    """Everything the agenda and the lägesbild command print about one period."""

    municipality_id: int
    period: Period
    meeting_at: datetime
    categories: dict[str, str]  # key → Swedish name, in configured order
    areas: list[str]  # configured areas, then any other seen, then UNKNOWN_AREA if used
    counts: dict[Cell, int]
    previous: dict[Cell, int]
    year_ago: dict[Cell, int]
    hot_spots: list[HotSpot]
    hot_times: list[list[int]]  # [weekday][hour]
    without_hour: int
    interventions: list[InterventionLine]
    persisting: list[PersistingFinding]
    threshold: int
    periods_required: int
    by_category: dict[str, int] = field(default_factory=dict)
    by_area: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def total_previous(self) -> int:
        return sum(self.previous.values())

    @property
    def total_year_ago(self) -> int:
        return sum(self.year_ago.values())

    def category_total(self, counts: dict[Cell, int], key: str) -> int:
        return sum(count for (_, category), count in counts.items() if category == key)

    def area_total(self, counts: dict[Cell, int], area: str) -> int:
        return sum(count for (name, _), count in counts.items() if name == area)


# ---------------------------------------------------------------------------------------------------
# SQL aggregates


def counts_by_period(
    session: Session, municipality_id: int, periods: list[tuple[date, date]]
) -> dict[int, dict[Cell, int]]:
    """Counts per area × category for each of ``periods`` (index → cell → count): one GROUP BY over the
    daily counts (``models.incident.IncidentDayCount``: a row per day, area and category, so a year of a
    big city is a few hundred thousand rows fewer to read than its incidents). Periods must not overlap."""
    if not periods:
        return {}
    day = col(IncidentDayCount.occurred_on)
    bucket = sa.case(
        *[(day.between(start, end), index) for index, (start, end) in enumerate(periods)],
        else_=-1,
    ).label("bucket")
    low = min(start for start, _ in periods)
    high = max(end for _, end in periods)
    rows = session.execute(
        sa.select(
            bucket,
            col(IncidentDayCount.area),
            col(IncidentDayCount.category),
            sa.func.sum(col(IncidentDayCount.count)),
        )
        .where(col(IncidentDayCount.municipality_id) == municipality_id, day.between(low, high))
        .group_by(bucket, col(IncidentDayCount.area), col(IncidentDayCount.category))
    ).all()
    result: dict[int, dict[Cell, int]] = {index: {} for index in range(len(periods))}
    for index, area, category, count in rows:
        if index >= 0:
            result[index][(area or UNKNOWN_AREA, category)] = int(count)
    return result


def hot_times(session: Session, municipality_id: int, start: date, end: date) -> tuple[list[list[int]], int]:
    """Counts per weekday × hour over the days, and how many incidents have no hour: the sum of the
    daily hour counts (``models.incident.IncidentHourCount``), at most 25 rows a day."""
    rows = session.execute(
        sa.select(
            col(IncidentHourCount.occurred_on), col(IncidentHourCount.hour), col(IncidentHourCount.count)
        ).where(
            col(IncidentHourCount.municipality_id) == municipality_id,
            col(IncidentHourCount.occurred_on).between(start, end),
        )
    ).all()
    grid = [[0] * 24 for _ in range(7)]
    without = 0
    for day, hour, count in rows:
        if hour == UNKNOWN_HOUR:
            without += int(count)
        else:
            grid[day.weekday()][hour] += int(count)
    return grid, without


def intervention_lines(
    session: Session, municipality_id: int, as_of: date, before_number: int | None = None
) -> list[InterventionLine]:
    """Insatser open on ``as_of`` (decided at a meeting before ``before_number``, when given), with
    ansvarig and due date; overdue on top (most overdue first), then by due date."""
    query = (
        select(Intervention, Person)
        .join(Person, col(Person.id) == col(Intervention.responsible_person_id), isouter=True)
        .join(EstCycle, col(EstCycle.id) == col(Intervention.est_cycle_id), isouter=True)
        .where(
            col(Intervention.municipality_id) == municipality_id,
            sa.or_(
                col(Intervention.state) == InterventionState.OPEN,
                col(Intervention.closed_on) > as_of,  # closed later: still open on the day looked at
            ),
        )
    )
    if before_number is not None:
        query = query.where(
            sa.or_(col(EstCycle.number) < before_number, col(Intervention.est_cycle_id).is_(None))
        )
    rows = session.exec(query).all()
    lines = [
        InterventionLine(
            id=intervention.id or 0,
            title=intervention.title,
            area=intervention.area,
            place=intervention.place,
            responsible=person.name if person is not None else "ingen ansvarig",
            due_date=intervention.due_date,
            status="försenad" if intervention.due_date < as_of else InterventionState.OPEN.value,
            overdue_working_days=working_days_between(intervention.due_date, as_of)
            if intervention.due_date < as_of
            else 0,
        )
        for intervention, person in rows
    ]
    return sorted(lines, key=lambda line: (-line.overdue_working_days, line.due_date, line.id))


# ---------------------------------------------------------------------------------------------------
# Pure logic


def hot_spots(counts: dict[Cell, int], previous: dict[Cell, int], limit: int = HOT_SPOTS) -> list[HotSpot]:
    """The cells that grew most against the previous period (only growth counts), largest first."""
    spots = [
        HotSpot(area, category, count, previous.get((area, category), 0))
        for (area, category), count in counts.items()
        if count > previous.get((area, category), 0)
    ]
    return sorted(spots, key=lambda spot: (-spot.change, -spot.count, spot.area, spot.category))[:limit]


def forums_for(rhythm: Rhythm) -> tuple[ForumKind, ...]:
    target = rhythm.est.persisting.escalate_to
    if target == EscalationTarget.BRA:
        return (ForumKind.LOCAL_BRA,)
    if target == EscalationTarget.MANAGEMENT:
        return (ForumKind.MUNICIPAL_MANAGEMENT,)
    return (ForumKind.LOCAL_BRA, ForumKind.MUNICIPAL_MANAGEMENT)


def persisting_findings(
    rhythm: Rhythm, windows: list[Period], by_window: dict[int, dict[Cell, int]]
) -> list[PersistingFinding]:
    """Cells at or above the threshold in each of the newest N (or more) consecutive periods.

    ``windows[0]`` is the newest period, ``windows[k]`` k periods earlier; ``by_window`` their counts."""
    rule = rhythm.est.persisting
    cells = set(by_window.get(0, {}))
    findings: list[PersistingFinding] = []
    for cell in sorted(cells):
        streak: list[StreakPeriod] = []
        for index, period in enumerate(windows):
            count = by_window.get(index, {}).get(cell, 0)
            if count < rule.threshold:
                break
            streak.append(StreakPeriod(period.number, period.start, period.end, count))
        if len(streak) >= rule.periods and cell[0] != UNKNOWN_AREA:
            findings.append(PersistingFinding(cell[0], cell[1], tuple(reversed(streak)), forums_for(rhythm)))
    return findings


def _windows(rhythm: Rhythm, number: int) -> list[Period]:
    return [period_of(rhythm, n) for n in range(number, max(0, number - HISTORY_WINDOW), -1)]


def compile_situation(
    session: Session, municipality_id: int, rhythm: Rhythm, number: int, as_of: date | None = None
) -> EstSituation:
    """The EST-lägesbild of period ``number``; ``as_of`` (default: the meeting day) judges what is
    overdue."""
    period = period_of(rhythm, number)
    windows = _windows(rhythm, number)
    year_ago = period.shifted(YEAR_DAYS)
    spans = [(window.start, window.end) for window in windows]
    # The year-ago period lies outside the window only when the window is shorter than a year.
    year_index = next((index for index, span in enumerate(spans) if span == year_ago), None)
    overlaps = any(start <= year_ago[1] and year_ago[0] <= end for start, end in spans)
    if year_index is None and not overlaps:
        spans.append(year_ago)
        year_index = len(spans) - 1
    by_window = counts_by_period(session, municipality_id, spans)
    if year_index is None:  # an interval that does not divide the year: its own query
        year_index = len(spans)
        by_window[year_index] = counts_by_period(session, municipality_id, [year_ago])[0]
    counts = by_window[0]
    previous = by_window.get(1, {})
    grid, without = hot_times(session, municipality_id, period.start, period.end)
    categories = {category.key: category.name for category in rhythm.est.categories}
    seen = {area for counts_ in (counts, previous, by_window[year_index]) for area, _ in counts_}
    configured = [area.name for area in rhythm.est.areas]
    areas = configured + sorted(seen - set(configured) - {UNKNOWN_AREA})
    if UNKNOWN_AREA in seen:
        areas.append(UNKNOWN_AREA)
    situation = EstSituation(
        municipality_id=municipality_id,
        period=period,
        meeting_at=meeting_at(rhythm, number),
        categories=categories,
        areas=areas,
        counts=counts,
        previous=previous,
        year_ago=by_window[year_index],
        hot_spots=hot_spots(counts, previous),
        hot_times=grid,
        without_hour=without,
        interventions=intervention_lines(session, municipality_id, as_of or period.end, number),
        persisting=persisting_findings(
            rhythm, windows, {index: by_window[index] for index in range(len(windows))}
        ),
        threshold=rhythm.est.persisting.threshold,
        periods_required=rhythm.est.persisting.periods,
    )
    situation.by_category = {key: situation.category_total(counts, key) for key in categories}
    situation.by_area = {area: situation.area_total(counts, area) for area in areas}
    return situation


# ---------------------------------------------------------------------------------------------------
# Closing a period: persisting problems raised once


def _history(finding: PersistingFinding) -> list[dict[str, object]]:
    return [
        {
            "period": f"EST-{step.number}",
            "start": step.start.isoformat(),
            "end": step.end.isoformat(),
            "count": step.count,
        }
        for step in finding.streak
    ]


def problem_key(municipality_id: int, finding: PersistingFinding, forum: ForumKind) -> str:
    cell = f"{finding.area}:{finding.category}"
    return f"ihållande:{municipality_id}:{cell}:EST-{finding.first_number}:{forum.value}"


def _next_forum_meeting(session: Session, municipality_id: int, forum: ForumKind, after: date) -> date | None:
    return session.execute(
        sa.select(sa.func.min(col(ForumMeeting.meeting_date)))
        .join(Forum, col(Forum.id) == col(ForumMeeting.forum_id))
        .where(
            col(Forum.municipality_id) == municipality_id,
            col(Forum.kind) == forum,
            col(ForumMeeting.meeting_date) > after,
        )
    ).scalar()


def _recipient(session: Session, municipality_id: int, forum: ForumKind) -> Person | None:
    role = "kommunledning" if forum == ForumKind.MUNICIPAL_MANAGEMENT else "bra_samordnare"
    people = session.exec(
        select(Person).where(Person.municipality_id == municipality_id).order_by(col(Person.id))
    )
    matching = [person for person in people if role in (person.roles or [])]
    if not matching and forum == ForumKind.MUNICIPAL_MANAGEMENT:
        return _recipient(session, municipality_id, ForumKind.LOCAL_BRA)
    return matching[0] if matching else None


FORUM_NAMES = {ForumKind.LOCAL_BRA: "BRÅ", ForumKind.MUNICIPAL_MANAGEMENT: "kommunledningen"}


def _raise(
    session: Session,
    municipality_id: int,
    finding: PersistingFinding,
    forum: ForumKind,
    names: dict[str, str],
    as_of: date,
) -> list[Event]:
    key = problem_key(municipality_id, finding, forum)
    level = EscalationLevel.MANAGEMENT if forum == ForumKind.MUNICIPAL_MANAGEMENT else EscalationLevel.MANAGER
    recipient = _recipient(session, municipality_id, forum)
    category = names.get(finding.category, finding.category)
    counts = ", ".join(f"EST-{step.number}: {step.count}" for step in finding.streak)
    subject = f"Ihållande problem: {category} i {finding.area}"
    forum_name = forum_name_of_kind(session, municipality_id, forum, FORUM_NAMES[forum])
    escalation = Escalation(
        municipality_id=municipality_id,
        level=int(level),
        reason=EscalationReason.PERSISTING_PROBLEM,
        detail=(
            f"{category} i {finding.area} har legat över tröskeln {len(finding.streak)} EST-perioder i rad "
            f"({counts}). Enligt kommunens rutin lyfts problemet till {forum_name} för beslut om "
            "mer omfattande insatser."
        )[:2000],
        subject=subject,
        recipient_person_id=recipient.id if recipient else None,
        cause_since=finding.streak[0].start,
        opened_on=as_of,
        dedupe_key=f"eskalering:{key}"[:300],
    )
    events: list[Event] = []
    if insert_once(session, escalation, key="dedupe_key"):
        events.append(Event(as_of, "eskalering", subject, recipient.name if recipient else "", int(level)))
    escalation_id = session.exec(
        select(Escalation.id).where(Escalation.dedupe_key == escalation.dedupe_key)
    ).one()
    problem = PersistingProblem(
        municipality_id=municipality_id,
        area=finding.area,
        category=finding.category,
        first_cycle_number=finding.first_number,
        last_cycle_number=finding.streak[-1].number,
        history=_history(finding),
        forum_kind=forum.value,
        forum_meeting_on=_next_forum_meeting(session, municipality_id, forum, as_of),
        escalation_id=escalation_id,
        opened_on=as_of,
        dedupe_key=key,
    )
    if insert_once(session, problem, key="dedupe_key"):
        events.append(Event(as_of, "ärende till forum", f"{subject} (till {forum_name})"))
    return events


def close_period(
    session: Session, municipality_id: int, rhythm: Rhythm, number: int, as_of: date
) -> list[Event]:
    """Raise the persisting problems of period ``number`` (once each), extend the history of those that
    go on, and resolve those that fell below the threshold. Idempotent."""
    return close_periods(session, municipality_id, rhythm, [number], as_of)


def close_periods(
    session: Session, municipality_id: int, rhythm: Rhythm, numbers: list[int], as_of: date
) -> list[Event]:
    """``close_period`` for each of ``numbers``, oldest first, as a run that missed meetings catches up.

    One count query covers every streak window of them all: only the counts decide here (hot-times,
    insatser and the year-earlier figures of the lägesbild do not), and a catch-up closes up to a
    year of periods. Each period's EstCycle row records the first day it was judged."""
    numbers = sorted(set(numbers))
    if not numbers:
        return []
    spans = [period_of(rhythm, n) for n in range(max(1, numbers[0] - HISTORY_WINDOW + 1), numbers[-1] + 1)]
    counted = counts_by_period(session, municipality_id, [(span.start, span.end) for span in spans])
    by_number = {span.number: counted[index] for index, span in enumerate(spans)}
    events: list[Event] = []
    for number in numbers:
        windows = _windows(rhythm, number)
        by_window = {index: by_number[window.number] for index, window in enumerate(windows)}
        events.extend(_judge(session, municipality_id, rhythm, number, windows, by_window, as_of))
    _mark_judged(session, municipality_id, rhythm, numbers, as_of)
    session.flush()
    return events


def _mark_judged(
    session: Session, municipality_id: int, rhythm: Rhythm, numbers: list[int], as_of: date
) -> None:
    """The first day counts (a period judged again keeps it); a missing row is made."""
    existing = set(
        session.exec(
            select(EstCycle.number).where(
                EstCycle.municipality_id == municipality_id, col(EstCycle.number).in_(numbers)
            )
        )
    )
    for number in numbers:
        if number not in existing:
            row = cycle_row(municipality_id, rhythm, number)
            row.judged_on = as_of
            insert_once(session, row, key=("municipality_id", "number"))
    session.execute(
        sa.update(EstCycle)
        .where(
            col(EstCycle.municipality_id) == municipality_id,
            col(EstCycle.number).in_(numbers),
            col(EstCycle.judged_on).is_(None),
        )
        .values(judged_on=as_of)
    )


def _judge(
    session: Session,
    municipality_id: int,
    rhythm: Rhythm,
    number: int,
    windows: list[Period],
    by_window: dict[int, dict[Cell, int]],
    as_of: date,
) -> list[Event]:
    names = {category.key: category.name for category in rhythm.est.categories}
    events: list[Event] = []
    holding: dict[Cell, PersistingFinding] = {}
    for finding in persisting_findings(rhythm, windows, by_window):
        holding[(finding.area, finding.category)] = finding
    open_rows = session.exec(
        select(PersistingProblem).where(
            PersistingProblem.municipality_id == municipality_id, col(PersistingProblem.resolved_on).is_(None)
        )
    ).all()
    open_cells = {(row.area, row.category, row.forum_kind): row for row in open_rows}
    for cell, finding in holding.items():
        for forum in finding.forums:
            row = open_cells.get((*cell, forum.value))
            if row is None:
                events.extend(_raise(session, municipality_id, finding, forum, names, as_of))
            elif row.last_cycle_number < number:
                # Still persisting: the same problem, a longer history; no new escalation.
                known = {entry["period"] for entry in row.history}
                row.history = [
                    *row.history,
                    *[entry for entry in _history(finding) if entry["period"] not in known],
                ]
                row.last_cycle_number = number
                session.add(row)
    for row in open_rows:
        if (row.area, row.category) in holding or row.last_cycle_number >= number:
            continue
        count = by_window[0].get((row.area, row.category), 0)
        resolution = f"Under tröskeln i EST-{number} ({count} händelser)"
        changed = session.execute(
            sa.update(PersistingProblem)
            .where(col(PersistingProblem.id) == row.id, col(PersistingProblem.resolved_on).is_(None))
            .values(resolved_on=as_of)
            .returning(col(PersistingProblem.id))
        ).first()
        if changed is not None and row.escalation_id is not None:
            session.execute(
                sa.update(Escalation)
                .where(col(Escalation.id) == row.escalation_id, col(Escalation.resolved_on).is_(None))
                .values(resolved_on=as_of, resolution=resolution)
            )
            events.append(Event(as_of, "eskalering löst", f"{row.category} i {row.area}: {resolution}"))
    return events
