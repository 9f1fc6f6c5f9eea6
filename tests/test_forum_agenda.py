"""The BRÅ's and kommunledningen's agenda: persisting problems from EST once, with their history as SQL
counts; open escalations; the half-year follow-up at follow-up meetings; and the CLI."""

from __future__ import annotations

import io
from datetime import date, time, timedelta

import docx
import sqlalchemy as sa
from sqlmodel import select

from cycles.est import run_est_cycle
from cycles.follow_up import run_follow_up_cycle
from models.db import transaction
from models.enums import ForumKind
from models.escalation import Escalation, EscalationReason
from models.incident import Incident, IncidentSource, store_incidents
from models.municipality import find_municipality
from models.plan import Measure
from models.rhythm import EscalationTarget, rhythm_from_json
from reports.forum_agenda import RESOLVED, STILL_OPEN, ForumAgenda, compile_forum_agenda, render_text
from tests.conftest import Cli

# EST meetings in Falun's rhythm (first 2025-01-07, every 14 days): EST-3 … EST-7.
MEETINGS = [date(2025, 2, 4), date(2025, 2, 18), date(2025, 3, 4), date(2025, 3, 18), date(2025, 4, 1)]
# Per EST period (3…7) the incidents of two cells: one that falls below the threshold in EST-7.
FALLS = ("Bojsenburg", "narkotika", [6, 6, 7, 6, 1])
HOLDS = ("Stadskärnan", "klotter", [5, 8, 5, 9, 6])


def _incidents(municipality_id: int, area: str, category: str, counts: list[int]) -> list[Incident]:
    rows = []
    for meeting, count in zip(MEETINGS, counts, strict=True):
        day = meeting - timedelta(days=3)
        rows.extend(
            Incident(
                municipality_id=municipality_id,
                occurred_on=day,
                occurred_time=time(21, index),
                weekday=day.weekday(),
                hour=21,
                area=area,
                category=category,
                source=IncidentSource.ACTOR,
                external_key=f"{municipality_id}:forum:{area}:{category}:{meeting}:{index}",
            )
            for index in range(count)
        )
    return rows


def _run_est(
    engine: sa.Engine, municipality_id: int, target: EscalationTarget, cells: list[tuple[str, str, list[int]]]
) -> None:
    """Route persisting problems to ``target``, store the incidents, and close EST-3 … EST-7."""
    with transaction(engine) as session:
        municipality = find_municipality(session, "2080")
        assert municipality is not None
        rhythm = rhythm_from_json(municipality.rhythm)
        persisting = rhythm.est.persisting.model_copy(update={"escalate_to": target})
        est = rhythm.est.model_copy(update={"persisting": persisting})
        municipality.rhythm = rhythm.model_copy(update={"est": est}).model_dump(mode="json", by_alias=True)
        session.add(municipality)
        for area, category, counts in cells:
            store_incidents(session, _incidents(municipality_id, area, category, counts))
    for day in MEETINGS:
        with transaction(engine) as session:
            municipality = find_municipality(session, "2080")
            assert municipality is not None
            run_est_cycle(session, municipality, day)


def _agenda(engine: sa.Engine, kind: ForumKind, as_of: date, meeting_on: date | None = None) -> ForumAgenda:
    with transaction(engine) as session:
        municipality = find_municipality(session, "2080")
        assert municipality is not None
        return compile_forum_agenda(session, municipality, kind, as_of=as_of, meeting_on=meeting_on)


def _sql_count(
    engine: sa.Engine, municipality_id: int, area: str, category: str, start: str, end: str
) -> int:
    query = sa.text(
        "SELECT COUNT(*) FROM incident WHERE municipality_id = :m AND area = :a AND category = :c "
        "AND occurred_on >= :s AND occurred_on <= :e"
    )
    with engine.connect() as connection:
        params = {"m": municipality_id, "a": area, "c": category}
        return int(
            connection.execute(
                query, {**params, "s": date.fromisoformat(start), "e": date.fromisoformat(end)}
            ).scalar_one()
        )


def test_bra_agenda_holds_each_problem_once_with_sql_history(engine: sa.Engine, falun: int) -> None:
    """Problems escalated to the BRÅ appear once on its next agenda with SQL-equal history; a resolved
    one is marked resolved there and gone from the agenda after; none reach kommunledningen's."""
    _run_est(engine, falun, EscalationTarget.BRA, [FALLS, HOLDS])
    with transaction(engine) as session:
        municipality = find_municipality(session, "2080")
        assert municipality is not None
        run_follow_up_cycle(session, municipality, date(2025, 5, 1))
    agenda = _agenda(engine, ForumKind.LOCAL_BRA, date(2025, 4, 2))
    assert agenda.meeting_on == date(2025, 5, 20)  # Faluns BRÅ's next meeting
    assert agenda.as_of == date(2025, 4, 2)
    cells = [(item.area, item.category) for item in agenda.problems]
    assert sorted(cells) == sorted([(FALLS[0], FALLS[1]), (HOLDS[0], HOLDS[1])])
    for item in agenda.problems:
        assert item.history, item
        for entry in item.history:
            assert entry.count == _sql_count(engine, falun, item.area, item.category, entry.start, entry.end)
    by_cell = {(item.area, item.category): item for item in agenda.problems}
    fell, held = by_cell[(FALLS[0], FALLS[1])], by_cell[(HOLDS[0], HOLDS[1])]
    assert [e.period for e in fell.history] == ["EST-3", "EST-4", "EST-5", "EST-6"]
    assert [e.count for e in fell.history] == FALLS[2][:4]
    assert [e.count for e in held.history] == HOLDS[2]
    assert (fell.state, fell.resolved_on, fell.escalation_open) == (RESOLVED, date(2025, 4, 1), False)
    assert (held.state, held.escalation_open, held.escalation_level) == ("ny", True, 1)
    assert held.threshold == 5
    text = render_text(agenda)
    assert text.count("Narkotika (misstänkt försäljning, påverkade personer) i Bojsenburg (löst)") == 1
    assert "Historik: EST-3: 5, EST-4: 8, EST-5: 5, EST-6: 9, EST-7: 6" in text
    # A follow-up meeting (May): the half-year report's headline counts, equal to the database.
    assert agenda.follow_up is not None
    assert agenda.follow_up.period_label == "2025H1"
    with engine.connect() as connection:
        asked = connection.execute(
            sa.text(
                "SELECT COUNT(*) FROM task WHERE municipality_id = :m AND kind = 'statusrapport' "
                "AND period_label = '2025H1' AND state != 'avbruten'"
            ),
            {"m": falun},
        ).scalar_one()
    assert (agenda.follow_up.asked, agenda.follow_up.reported, agenda.follow_up.missing) == (asked, 0, asked)
    assert asked > 0
    assert f"{asked} åtgärder ombads rapportera, 0 rapporterade" in text
    # The meeting after: the resolved problem is gone, the open one still there; no follow-up pointer.
    later = _agenda(engine, ForumKind.LOCAL_BRA, date(2025, 12, 1), date(2025, 9, 16))
    assert [(item.area, item.state) for item in later.problems] == [(HOLDS[0], STILL_OPEN)]
    assert later.follow_up is None
    # Nothing was routed to kommunledningen.
    assert _agenda(engine, ForumKind.MUNICIPAL_MANAGEMENT, date(2025, 4, 2)).problems == []


def test_management_gets_its_problems_and_level_two_escalations(engine: sa.Engine, falun: int) -> None:
    """A problem routed to kommunledningen is on its agenda, not the BRÅ's; kommunledningen sees open
    level-2 escalations, the BRÅ open level 1 and 2 escalations about measures."""
    _run_est(engine, falun, EscalationTarget.MANAGEMENT, [FALLS])
    with transaction(engine) as session:
        measures = session.exec(select(Measure).where(Measure.municipality_id == falun).limit(2)).all()
        rows = [
            (2, measures[0].id, "Åtgärden har avstannat", EscalationReason.REPORTED_STALLED),
            (1, measures[1].id, "Rapport saknas två gånger", EscalationReason.MISSED_FOLLOW_UPS),
            (1, None, "Uppgift försenad", EscalationReason.TASK_OVERDUE),
            (2, None, "Insats försenad", EscalationReason.INTERVENTION_OVERDUE),
        ]
        for index, (level, measure_id, subject, reason) in enumerate(rows):
            session.add(
                Escalation(
                    municipality_id=falun,
                    level=level,
                    reason=reason,
                    subject=subject,
                    measure_id=measure_id,
                    cause_since=date(2025, 2, 1),
                    opened_on=date(2025, 3, 1),
                    dedupe_key=f"test:{index}",
                )
            )
    management = _agenda(engine, ForumKind.MUNICIPAL_MANAGEMENT, date(2025, 3, 5))
    assert management.meeting_on == date(2025, 3, 10)
    assert [(item.area, item.state, item.escalation_level) for item in management.problems] == [
        (FALLS[0], "ny", 2)
    ]
    assert [e.subject for e in management.escalations] == ["Åtgärden har avstannat", "Insats försenad"]
    assert all(e.cause_since == date(2025, 2, 1) for e in management.escalations)
    bra = _agenda(engine, ForumKind.LOCAL_BRA, date(2025, 3, 5))
    assert bra.problems == []
    assert sorted(e.subject for e in bra.escalations) == [
        "Rapport saknas två gånger",
        "Åtgärden har avstannat",
    ]


def test_cli_renders_html_docx_and_text(cli: Cli, engine: sa.Engine, falun: int) -> None:
    """`rapport dagordning` writes HTML, DOCX (opens in python-docx) and text with the EST item."""
    _run_est(engine, falun, EscalationTarget.BRA, [FALLS])
    base = ("rapport", "dagordning", "--forum", "bra", "--kommun", "2080")
    code, out, err = cli(*base, "--mote", "2025-05-20", "--format", "text")
    assert code == 0, err
    assert "Dagordning för Faluns BRÅ 2025-05-20" in out
    assert "Historik: EST-3: 6, EST-4: 6, EST-5: 7, EST-6: 6" in out
    target = cli.data_dir / "bra.html"
    code, out, err = cli(*base, "--as-of", "2025-04-02", "--format", "html", "--ut", target)
    assert code == 0, err
    html = target.read_text(encoding="utf-8")
    assert html.count('data-status="löst"') == 1
    assert '<tr data-period="EST-5"><td>EST-5</td>' in html
    word_file = cli.data_dir / "bra.docx"
    code, out, err = cli(*base, "--mote", "2025-05-20", "--format", "docx", "--ut", word_file)
    assert code == 0, err
    document = docx.Document(io.BytesIO(word_file.read_bytes()))
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    assert "2. Ärenden från EST" in paragraphs
    assert any(cell.text == "EST-6" for table in document.tables for row in table.rows for cell in row.cells)


def test_bad_forum_or_date_is_a_swedish_message(cli: Cli, engine: sa.Engine, falun: int) -> None:
    """A date that is no meeting, a bad date, and a forum without meetings: Swedish message, exit 1."""
    base = ("rapport", "dagordning", "--kommun", "2080")
    code, _, err = cli(*base, "--forum", "bra", "--mote", "2025-05-21")
    assert code == 1
    assert "Faluns BRÅ har inget möte 2025-05-21" in err
    assert "2025-05-20" in err
    code, _, err = cli(*base, "--forum", "bra", "--mote", "21 maj")
    assert (code, "är inget datum" in err) == (1, True)
    code, _, err = cli(*base, "--forum", "bra", "--as-of", "2030-01-01")
    assert (code, "har inget möte 2030-01-01 eller senare" in err) == (1, True)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "DELETE FROM forum_meeting WHERE forum_id IN "
                "(SELECT id FROM forum WHERE municipality_id = :m AND kind = 'kommunledningen')"
            ),
            {"m": falun},
        )
    code, _, err = cli(*base, "--forum", "kommunledningen")
    assert code == 1
    assert "Kommunledningen har inga möten i katalogen" in err
    assert "Traceback" not in err
