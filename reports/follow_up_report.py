"""Halvårsuppföljningen: the follow-up report for the BRÅ and Kommunstyrelsen, as plain data.

``compile_report(session, municipality_id, period)`` reads the database and returns a typed
``FollowUpReport`` for one half-year (``2025H1`` = January–June 2025): per focus area each measure once
with its traffic light, progress, latest comment and next step, ansvarig, whether it reported on time,
and its open escalations; the indicators with their trends and target attainment; the measures that did
not report; and the analysis summary (problems, causes and measures per focus area). Renderers (HTML,
DOCX, XLSX) live in ``reports.report_documents`` and only format this object.

Everything is judged *as of the period's last day*: the latest status report on or before it, the
escalations open on it. The round of the period is the follow-up round labelled with it; a measure
"reported" in a round when it has a status report in the round's window (the round's creation day up to
its meeting), the rule the follow-up cycle closes tasks by. It reported *on time* when the first such
report is dated on or before the round's due date.

The traffic light comes from ``LIGHT_RULES``: one table, evaluated top to bottom, the first rule that
holds decides. The report prints that same table, so the text and the logic cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from core.errors import InvalidInputError
from models.enums import FINISHED_STATUSES, MeasureStatus
from models.escalation import Escalation
from models.follow_up import FollowUpRound, round_forum_name
from models.indicator import Indicator, IndicatorValue
from models.municipality import Municipality
from models.plan import (
    ActionPlan,
    Cause,
    FocusArea,
    Measure,
    Problem,
    StatusReport,
    focus_areas,
    plans,
)
from models.responsibility import responsible_persons
from models.rhythm import rhythm_from_json
from models.task import Task, TaskKind, TaskState

__all__ = [
    "DUE_SOON_DAYS",
    "LIGHT_RULES",
    "FollowUpReport",
    "Light",
    "MeasureFacts",
    "MeasureLine",
    "ReportPeriod",
    "Reporting",
    "compile_report",
    "judge",
    "parse_period",
]

# A measure whose end date falls within this many days after the period is "due soon" (gul).
DUE_SOON_DAYS = 90
_PERIOD = re.compile(r"^\s*(?P<year>\d{4})\s*[Hh](?P<half>[12])\s*$")


class Light(StrEnum):
    GREEN = "grön"
    YELLOW = "gul"
    RED = "röd"


class Reporting(StrEnum):
    """Whether a measure reported in the period's round."""

    ON_TIME = "i tid"
    LATE = "sent"
    MISSING = "saknas"
    NOT_ASKED = "ej efterfrågad"


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    label: str
    start: date
    end: date


def parse_period(text: str) -> ReportPeriod:
    """``2025H1`` → 1 January–30 June 2025; ``2025H2`` → 1 July–31 December.

    Raises InvalidInputError in Swedish.
    """
    found = _PERIOD.match(text)
    if found is None:
        raise InvalidInputError(
            f'Perioden "{text}" förstås inte: skriv år och halvår, t.ex. 2025H1 (januari–juni) '
            "eller 2025H2 (juli–december)."
        )
    year, half = int(found["year"]), int(found["half"])
    if half == 1:
        return ReportPeriod(f"{year}H1", date(year, 1, 1), date(year, 6, 30))
    return ReportPeriod(f"{year}H2", date(year, 7, 1), date(year, 12, 31))


@dataclass(frozen=True, slots=True)
class MeasureFacts:
    """What the traffic light is judged on, as of the period's last day."""

    status: MeasureStatus
    last_two_statuses: tuple[MeasureStatus, ...]  # the latest reports' statuses, newest first (at most 2)
    asked_this_round: bool
    reported_this_round: bool
    asked_previous_round: bool
    reported_previous_round: bool
    open_escalation_levels: tuple[int, ...]
    period_end: date | None  # the measure's own end date
    report_end: date  # the report period's last day

    @property
    def missed_this_round(self) -> bool:
        return self.asked_this_round and not self.reported_this_round

    @property
    def missed_previous_round(self) -> bool:
        return self.asked_previous_round and not self.reported_previous_round

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


@dataclass(frozen=True, slots=True)
class LightRule:
    light: Light
    name: str
    text: str  # how the report states the rule
    holds: Callable[[MeasureFacts], bool]


LIGHT_RULES: tuple[LightRule, ...] = (
    LightRule(
        Light.GREEN,
        "genomförd",
        "Åtgärden är rapporterad genomförd.",
        lambda f: f.status is MeasureStatus.COMPLETED,
    ),
    LightRule(
        Light.RED,
        "avstannad",
        "Senaste rapporten säger avstannad.",
        lambda f: f.status is MeasureStatus.STALLED,
    ),
    LightRule(
        Light.RED,
        "försenad två gånger",
        "De två senaste rapporterna säger båda försenad.",
        lambda f: f.last_two_statuses == (MeasureStatus.DELAYED, MeasureStatus.DELAYED),
    ),
    LightRule(
        Light.RED,
        "två missade omgångar",
        "Ingen statusrapport i vare sig denna eller förra uppföljningsomgången.",
        lambda f: f.missed_this_round and f.missed_previous_round,
    ),
    LightRule(
        Light.RED,
        "eskalerad till kommunledningen",
        "En eskalering på nivå 2 (kommunledningen) är öppen vid periodens slut.",
        lambda f: 2 in f.open_escalation_levels,  # noqa: PLR2004 - escalation level 2
    ),
    LightRule(
        Light.RED,
        "efter slutdatum",
        "Åtgärdens slutdatum har passerat utan att den är genomförd eller avbruten.",
        lambda f: f.period_end is not None and f.period_end < f.report_end and not f.finished,
    ),
    LightRule(
        Light.YELLOW,
        "försenad",
        "Senaste rapporten säger försenad.",
        lambda f: f.status is MeasureStatus.DELAYED,
    ),
    LightRule(
        Light.YELLOW,
        "rapport saknas",
        "Ingen statusrapport i denna uppföljningsomgång.",
        lambda f: f.missed_this_round,
    ),
    LightRule(
        Light.YELLOW,
        "eskalerad",
        "En eskalering på nivå 1 (chef eller BRÅ-samordnare) är öppen vid periodens slut.",
        lambda f: 1 in f.open_escalation_levels,
    ),
    LightRule(
        Light.YELLOW,
        "slutdatum nära",
        f"Slutdatumet infaller inom {DUE_SOON_DAYS} dagar efter periodens slut och åtgärden "
        "är inte genomförd.",
        lambda f: (
            f.period_end is not None
            and f.report_end <= f.period_end <= f.report_end + timedelta(days=DUE_SOON_DAYS)
            and not f.finished
        ),
    ),
    LightRule(
        Light.YELLOW,
        "avbruten",
        "Åtgärden är avbruten: BRÅ bör ta ställning till om den ska ersättas.",
        lambda f: f.status is MeasureStatus.CANCELLED,
    ),
    LightRule(Light.GREEN, "enligt plan", "Inget av ovanstående: arbetet går enligt plan.", lambda _f: True),
)


def judge(facts: MeasureFacts) -> LightRule:
    """The first rule of ``LIGHT_RULES`` that holds (the last one always does)."""
    return next(rule for rule in LIGHT_RULES if rule.holds(facts))


@dataclass(frozen=True, slots=True)
class MeasureLine:
    measure_id: int
    position: int
    title: str
    is_sub_row: bool
    responsible: str  # the person asked (named ansvarig, an organisation's contact, or the coordinator)
    responsible_text: str  # the plan's own Ansvarig text
    status: MeasureStatus
    progress_percent: int | None
    comment: str
    next_step: str
    reported_on: date | None  # the latest status report on or before the period's end
    reporting: Reporting
    escalations: tuple[str, ...]
    light: Light
    rule: str
    period_end: date | None


@dataclass(frozen=True, slots=True)
class IndicatorTrend:
    name: str
    source: str
    unit: str
    higher_is_better: bool | None
    target: float | None
    points: tuple[tuple[str, float], ...]  # (period label, value), oldest first, up to the period's end
    trend: str  # förbättrad, försämrad, oförändrad, okänd riktning, för få värden
    target_met: bool | None


@dataclass(frozen=True, slots=True)
class AnalysisRow:
    """The stadsdel template's analysis tab: per prioritised area, its counts."""

    focus_area: str
    problems: int
    causes: int
    measures: int
    measures_linked: int  # measures linked to a cause


@dataclass(slots=True)
class AreaSection:
    focus_area_id: int
    title: str
    overall_goal: str
    lines: list[MeasureLine] = field(default_factory=list)
    indicators: list[IndicatorTrend] = field(default_factory=list)
    number: int = 0  # the area's place in the plan, from 1

    @property
    def label(self) -> str:
        """ "1. Barn och unga": the number once, also when the plan already wrote it into the title."""
        if re.match(rf"^\s*{self.number}\s*[.):]", self.title):
            return self.title.strip()
        return f"{self.number}. {self.title}"

    def count(self, light: Light) -> int:
        return sum(1 for line in self.lines if line.light is light)


@dataclass(frozen=True, slots=True)
class RoundSummary:
    label: str
    forum: str
    meeting_date: date
    due_date: date
    asked: int
    reported: int
    on_time: int
    missing: int
    compiled_reported: int | None  # the counts the follow-up cycle recorded when it compiled the round
    compiled_missing: int | None


@dataclass(slots=True)
class FollowUpReport:
    municipality: str
    municipality_code: str
    plan_id: int
    plan_title: str
    plan_decided_on: date | None
    revision_due: date | None
    period: ReportPeriod
    round: RoundSummary | None
    areas: list[AreaSection]
    analysis: list[AnalysisRow]
    other_indicators: list[IndicatorTrend]
    rules: tuple[LightRule, ...] = LIGHT_RULES

    @property
    def lines(self) -> list[MeasureLine]:
        return [line for area in self.areas for line in area.lines]

    @property
    def missing(self) -> list[tuple[str, MeasureLine]]:
        """The measures asked this round that did not report, with their focus area."""
        return [
            (area.title, line)
            for area in self.areas
            for line in area.lines
            if line.reporting is Reporting.MISSING
        ]

    def totals(self) -> dict[Light, int]:
        return {light: sum(1 for line in self.lines if line.light is light) for light in Light}

    @property
    def open_escalations(self) -> int:
        return sum(len(line.escalations) for line in self.lines)


# --- reading the database ---------------------------------------------------------------------------


def _chosen_plan(session: Session, municipality_id: int, plan_id: int | None) -> ActionPlan:
    if plan_id is not None:
        found = session.get(ActionPlan, plan_id)
        if found is None or found.municipality_id != municipality_id:
            raise InvalidInputError(f"Planen {plan_id} finns inte i kommunen. Se: samordna plan list")
        return found
    known = plans(session, municipality_id)
    if not known:
        raise InvalidInputError("Kommunen har ingen åtgärdsplan. Importera den med: samordna plan import FIL")
    return known[0]


def _rounds(
    session: Session, municipality_id: int, label: str
) -> tuple[FollowUpRound | None, FollowUpRound | None]:
    """The period's round and the round before it."""
    rows = list(
        session.exec(
            select(FollowUpRound)
            .where(FollowUpRound.municipality_id == municipality_id)
            .order_by(col(FollowUpRound.meeting_date))
        )
    )
    for index, round_ in enumerate(rows):
        if round_.period_label == label:
            return round_, rows[index - 1] if index > 0 else None
    return None, None


def _window(round_: FollowUpRound, create_days_before_due: int) -> tuple[date, date]:
    # The follow-up cycle's rule (cycles.follow_up.answered): from the round's creation day to its meeting.
    return round_.due_date - timedelta(days=create_days_before_due), round_.meeting_date


def _asked(session: Session, round_: FollowUpRound | None, measure_ids: list[int]) -> set[int]:
    if round_ is None:
        return set()
    return {
        measure_id
        for measure_id in session.exec(
            select(Task.measure_id).where(
                Task.municipality_id == round_.municipality_id,
                Task.kind == TaskKind.STATUS_REPORT,
                Task.period_label == round_.period_label,
                col(Task.state) != TaskState.CANCELLED,
                col(Task.measure_id).in_(measure_ids),
            )
        )
        if measure_id is not None
    }


def _first_in(reports: list[StatusReport], window: tuple[date, date] | None) -> StatusReport | None:
    if window is None:
        return None
    first, last = window
    return next((report for report in reports if first <= report.reported_on <= last), None)


def _escalations(session: Session, municipality_id: int, end: date) -> dict[int, list[Escalation]]:
    """Escalations open on ``end`` by measure: on the measure itself or on one of its tasks."""
    rows = session.exec(
        select(Escalation, Task.measure_id)
        .outerjoin(Task, col(Task.id) == col(Escalation.task_id))
        .where(
            Escalation.municipality_id == municipality_id,
            col(Escalation.opened_on) <= end,
            (col(Escalation.resolved_on).is_(None)) | (col(Escalation.resolved_on) > end),
        )
        .order_by(col(Escalation.opened_on), col(Escalation.id))
    ).all()
    found: dict[int, list[Escalation]] = {}
    for escalation, task_measure in rows:
        measure_id = escalation.measure_id or task_measure
        if measure_id is not None:
            found.setdefault(measure_id, []).append(escalation)
    return found


def value_label(start: date, end: date) -> str:
    """``2024`` for a whole year, ``2025H1`` for a half-year, else ``2025-03-01–2025-05-31``."""
    if start == date(start.year, 1, 1) and end == date(start.year, 12, 31):
        return str(start.year)
    if start == date(start.year, 1, 1) and end == date(start.year, 6, 30):
        return f"{start.year}H1"
    if start == date(start.year, 7, 1) and end == date(start.year, 12, 31):
        return f"{start.year}H2"
    return f"{start.isoformat()}–{end.isoformat()}"


def indicator_trend(indicator: Indicator, values: list[IndicatorValue]) -> IndicatorTrend:
    """Trend (the latest value against the one before) and target attainment of the latest value."""
    points = tuple((value_label(v.period_start, v.period_end), v.value) for v in values)
    trend = "för få värden"
    if len(points) >= 2:  # noqa: PLR2004 - a trend needs two values
        latest, previous = points[-1][1], points[-2][1]
        if latest == previous:
            trend = "oförändrad"
        elif indicator.higher_is_better is None:
            trend = "ökar" if latest > previous else "minskar"
        else:
            trend = "förbättrad" if (latest > previous) == indicator.higher_is_better else "försämrad"
    target_met: bool | None = None
    if points and indicator.target is not None and indicator.higher_is_better is not None:
        latest = points[-1][1]
        target_met = latest >= indicator.target if indicator.higher_is_better else latest <= indicator.target
    return IndicatorTrend(
        indicator.name,
        indicator.source,
        indicator.unit,
        indicator.higher_is_better,
        indicator.target,
        points,
        trend,
        target_met,
    )


def _indicators(session: Session, municipality_id: int, end: date) -> dict[int | None, list[IndicatorTrend]]:
    indicators = list(
        session.exec(
            select(Indicator)
            .where(Indicator.municipality_id == municipality_id)
            .order_by(col(Indicator.name))
        )
    )
    values: dict[int, list[IndicatorValue]] = {}
    for value in session.exec(
        select(IndicatorValue)
        .where(
            col(IndicatorValue.indicator_id).in_([i.id for i in indicators]),
            col(IndicatorValue.period_end) <= end,
        )
        .order_by(col(IndicatorValue.period_start), col(IndicatorValue.period_end))
    ):
        values.setdefault(value.indicator_id, []).append(value)
    grouped: dict[int | None, list[IndicatorTrend]] = {}
    for indicator in indicators:
        grouped.setdefault(indicator.focus_area_id, []).append(
            indicator_trend(indicator, values.get(indicator.id or 0, []))
        )
    return grouped


def _analysis(session: Session, areas: list[FocusArea], measures: list[Measure]) -> list[AnalysisRow]:
    area_ids = [area.id for area in areas]
    problems = list(session.exec(select(Problem).where(col(Problem.focus_area_id).in_(area_ids))))
    causes = list(
        session.exec(select(Cause).where(col(Cause.problem_id).in_([problem.id for problem in problems])))
    )
    problem_area = {problem.id: problem.focus_area_id for problem in problems}
    rows = []
    for area in areas:
        mine = [m for m in measures if m.focus_area_id == area.id]
        rows.append(
            AnalysisRow(
                area.title,
                sum(1 for problem in problems if problem.focus_area_id == area.id),
                sum(1 for cause in causes if problem_area.get(cause.problem_id) == area.id),
                len(mine),
                sum(1 for m in mine if m.cause_id is not None),
            )
        )
    return rows


def compile_report(
    session: Session, municipality_id: int, period: ReportPeriod, *, plan_id: int | None = None
) -> FollowUpReport:
    """The follow-up report of ``period`` for the kommun's plan (the newest unless ``plan_id``).

    Reads only; raises ValueError (Swedish) when the kommun has no such plan."""
    municipality = session.get(Municipality, municipality_id)
    if municipality is None:
        raise InvalidInputError(f"Kommunen {municipality_id} finns inte.")
    plan = _chosen_plan(session, municipality_id, plan_id)
    rhythm = rhythm_from_json(municipality.rhythm)
    areas = focus_areas(session, plan.id or 0)
    measures = list(
        session.exec(
            select(Measure).where(Measure.plan_id == plan.id).order_by(col(Measure.position), col(Measure.id))
        )
    )
    ids = [m.id or 0 for m in measures]
    reports: dict[int, list[StatusReport]] = {}
    for report in session.exec(
        select(StatusReport)
        .where(col(StatusReport.measure_id).in_(ids), col(StatusReport.reported_on) <= period.end)
        .order_by(col(StatusReport.reported_on), col(StatusReport.id))
    ):
        reports.setdefault(report.measure_id, []).append(report)
    this_round, previous_round = _rounds(session, municipality_id, period.label)
    lead = rhythm.follow_up.create_days_before_due
    this_window = _window(this_round, lead) if this_round else None
    previous_window = _window(previous_round, lead) if previous_round else None
    asked_now, asked_before = _asked(session, this_round, ids), _asked(session, previous_round, ids)
    escalations = _escalations(session, municipality_id, period.end)
    people = responsible_persons(session, ids, municipality_id)
    sections = {
        area.id: AreaSection(area.id or 0, area.title, area.overall_goal, number=index)
        for index, area in enumerate(areas, start=1)
    }
    counts = {"asked": 0, "reported": 0, "on_time": 0}
    for measure in measures:
        mine = reports.get(measure.id or 0, [])
        latest = mine[-1] if mine else None
        in_round = _first_in(mine, this_window)
        asked = (measure.id or 0) in asked_now
        open_here = escalations.get(measure.id or 0, [])
        facts = MeasureFacts(
            status=latest.status if latest else measure.status,
            last_two_statuses=tuple(report.status for report in reversed(mine[-2:])),
            asked_this_round=asked,
            reported_this_round=in_round is not None,
            asked_previous_round=(measure.id or 0) in asked_before,
            reported_previous_round=_first_in(mine, previous_window) is not None,
            open_escalation_levels=tuple(sorted({e.level for e in open_here})),
            period_end=measure.period_end,
            report_end=period.end,
        )
        rule = judge(facts)
        if not asked:
            reporting = Reporting.NOT_ASKED
        elif in_round is None:
            reporting = Reporting.MISSING
        elif this_round is not None and in_round.reported_on <= this_round.due_date:
            reporting = Reporting.ON_TIME
        else:
            reporting = Reporting.LATE
        counts["asked"] += asked
        counts["reported"] += asked and in_round is not None
        counts["on_time"] += reporting is Reporting.ON_TIME
        person = people.get(measure.id or 0)
        sections[measure.focus_area_id].lines.append(
            MeasureLine(
                measure_id=measure.id or 0,
                position=measure.position,
                title=measure.title,
                is_sub_row=measure.parent_id is not None,
                responsible=person.name if person is not None else "",
                responsible_text=measure.raw_responsible,
                status=facts.status,
                progress_percent=latest.progress_percent if latest else None,
                comment=latest.comment if latest else "",
                next_step=latest.next_step if latest else "",
                reported_on=latest.reported_on if latest else None,
                reporting=reporting,
                # The reason in words and since when; the escalation's long detail (every reminder
                # sent) belongs in its own message, not in a table cell of the report.
                escalations=tuple(
                    f"nivå {e.level}: {e.reason.label} (sedan {e.opened_on.isoformat()})" for e in open_here
                ),
                light=rule.light,
                rule=rule.name,
                period_end=measure.period_end,
            )
        )
    indicators = _indicators(session, municipality_id, period.end)
    for area_id, section in sections.items():
        section.indicators = indicators.get(area_id, [])
    area_ids = set(sections)
    summary = None
    if this_round is not None:
        summary = RoundSummary(
            label=this_round.period_label,
            forum=round_forum_name(session, this_round) or "",
            meeting_date=this_round.meeting_date,
            due_date=this_round.due_date,
            asked=counts["asked"],
            reported=counts["reported"],
            on_time=counts["on_time"],
            missing=counts["asked"] - counts["reported"],
            compiled_reported=this_round.reported_count if this_round.compiled_at else None,
            compiled_missing=this_round.missing_count if this_round.compiled_at else None,
        )
    return FollowUpReport(
        municipality=municipality.name,
        municipality_code=municipality.code,
        plan_id=plan.id or 0,
        plan_title=plan.title,
        plan_decided_on=plan.decided_on,
        revision_due=plan.revision_due,
        period=period,
        round=summary,
        areas=list(sections.values()),
        analysis=_analysis(session, areas, measures),
        other_indicators=[
            trend for area_id, trends in indicators.items() if area_id not in area_ids for trend in trends
        ],
    )
