"""The fortnightly EST-lägesbild: every figure equals a direct SQL count; persisting problems raised once."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import sqlalchemy as sa
from sqlmodel import select

from cycles.daily_sweep import sweep_and_notify
from cycles.est import run_est_cycle
from cycles.est_situation import UNKNOWN_AREA, period_of, persisting_findings
from flows.deployments import est_agenda_flow
from models.db import transaction
from models.enums import ForumKind
from models.escalation import Escalation, EscalationReason
from models.est import PersistingProblem
from models.incident import Incident, IncidentSource, store_incidents
from models.municipality import find_municipality
from models.outbox import OutboxMessage
from models.rhythm import rhythm_from_json
from reports.est_agenda import compile_agenda, render_html, render_text
from services.demo import generate_incidents
from tests.conftest import Cli

MEETING = date(2025, 3, 18)  # EST-6 in Falun's rhythm (first meeting 2025-01-07, every 14 days)
NUMBER = 6


def sql_counts(engine: sa.Engine, municipality_id: int, start: date, end: date) -> dict[tuple[str, str], int]:
    """Counts per area and category, written here independently of the code under test."""
    query = sa.text(
        "SELECT area, category, COUNT(*) FROM incident "
        "WHERE municipality_id = :m AND occurred_on >= :a AND occurred_on <= :b GROUP BY area, category"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"m": municipality_id, "a": start, "b": end}).all()
    return {(area or UNKNOWN_AREA, category): int(count) for area, category, count in rows}


def by_category(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (_, category), count in counts.items():
        totals[category] = totals.get(category, 0) + count
    return totals


def test_every_figure_equals_a_direct_sql_count(engine: sa.Engine, falun: int) -> None:
    """Counts, previous period, a year earlier, hot-times and the rendered tables all match SQL."""
    with transaction(engine) as session:
        store_incidents(session, generate_incidents(falun, date(2024, 3, 1), date(2025, 3, 31), seed=7))
        incident = Incident(
            municipality_id=falun,
            occurred_on=date(2025, 3, 10),
            weekday=0,
            category="annat",
            source=IncidentSource.ACTOR,
            external_key=f"{falun}:test:no-area",
        )
        store_incidents(session, [incident])
    with transaction(engine) as session:
        municipality = find_municipality(session, "2080")
        assert municipality is not None
        agenda = compile_agenda(session, municipality, NUMBER)
    situation = agenda.situation
    start = MEETING - timedelta(days=13)
    current = sql_counts(engine, falun, start, MEETING)
    previous = sql_counts(engine, falun, start - timedelta(days=14), MEETING - timedelta(days=14))
    year_ago = sql_counts(engine, falun, start - timedelta(days=364), MEETING - timedelta(days=364))
    assert (situation.period.start, situation.period.end) == (start, MEETING)
    assert situation.counts == current
    assert situation.previous == previous
    assert situation.year_ago == year_ago
    assert situation.total == sum(current.values()) > 20
    assert situation.total_year_ago == sum(year_ago.values()) > 0
    assert situation.counts[(UNKNOWN_AREA, "annat")] >= 1
    with engine.connect() as connection:
        times = connection.execute(
            sa.text(
                "SELECT weekday, hour, COUNT(*) FROM incident WHERE municipality_id = :m "
                "AND occurred_on BETWEEN :a AND :b GROUP BY weekday, hour"
            ),
            {"m": falun, "a": start, "b": MEETING},
        ).all()
    assert {(w, h): c for w, h, c in times if h is not None} == {
        (w, h): situation.hot_times[w][h] for w in range(7) for h in range(24) if situation.hot_times[w][h]
    }
    assert situation.without_hour == sum(c for _, h, c in times if h is None)
    # The rendered agenda prints the same numbers.
    html = render_html(agenda, charts_png={})
    expected = {
        key: (by_category(current).get(key, 0), by_category(previous).get(key, 0))
        for key in situation.categories
    }
    printed = {
        key: (int(now), int(before))
        for key, now, before in re.findall(
            r'<tr data-kategori="(\w+)"><td>[^<]*</td><td class="num">(\d+)</td><td class="num">(\d+)</td>',
            html,
        )
    }
    assert printed == expected
    for area, cells in re.findall(r'<tr data-omrade="([^"]+)"><td>[^<]*</td>(.*?)</tr>', html):
        numbers = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', cells)]
        assert numbers[-1] == sum(count for (name, _), count in current.items() if name == area)
    assert f'<strong id="total">{sum(current.values())}</strong>' in html
    text = render_text(agenda)
    assert (
        f"rapporterades {sum(current.values())} händelser, mot {sum(previous.values())} förra perioden"
        in text
    )
    # Hot-spots are the cells that grew most.
    growth = sorted((count - previous.get(cell, 0) for cell, count in current.items()), reverse=True)
    assert [spot.change for spot in situation.hot_spots] == [g for g in growth if g > 0][
        : len(situation.hot_spots)
    ]


def _narcotics(municipality_id: int, day: date, count: int, tag: str) -> list[Incident]:
    return [
        Incident(
            municipality_id=municipality_id,
            occurred_on=day,
            occurred_time=time(20, index),
            weekday=day.weekday(),
            hour=20,
            area="Bojsenburg",
            category="narkotika",
            source=IncidentSource.ACTOR,
            external_key=f"{municipality_id}:test:{tag}:{index}",
        )
        for index in range(count)
    ]


def test_persisting_problem_makes_exactly_one_escalation(engine: sa.Engine, falun: int) -> None:
    """Above the threshold (5) for 3 periods in a row: one escalation and one BRÅ item, however often
    the EST cycle and the daily sweep run; resolved when a period falls below."""
    incidents = [
        *_narcotics(falun, date(2025, 1, 28), 6, "est3"),
        *_narcotics(falun, date(2025, 2, 10), 6, "est4"),
        *_narcotics(falun, date(2025, 2, 25), 7, "est5"),
        *_narcotics(falun, date(2025, 3, 11), 6, "est6"),
        *_narcotics(falun, date(2025, 3, 25), 1, "est7"),
    ]
    with transaction(engine) as session:
        store_incidents(session, incidents)
    day = date(2025, 2, 3)
    while day <= date(2025, 3, 20):
        for _ in range(2):
            with transaction(engine) as session:
                municipality = find_municipality(session, "2080")
                assert municipality is not None
                run_est_cycle(session, municipality, day)
                if day.weekday() < 5 and day.day % 3 == 0:
                    sweep_and_notify(session, municipality, day)
        day += timedelta(days=1)
    with transaction(engine) as session:
        escalations = session.exec(
            select(Escalation).where(Escalation.reason == EscalationReason.PERSISTING_PROBLEM)
        ).all()
        problems = session.exec(select(PersistingProblem)).all()
        assert len(escalations) == 1
        assert len(problems) == 1
        escalation, problem = escalations[0], problems[0]
        assert (escalation.opened_on, escalation.resolved_on, escalation.level) == (date(2025, 3, 4), None, 1)
        assert escalation.cause_since == date(2025, 1, 22)  # the first day of EST-3
        assert (problem.area, problem.category, problem.forum_kind) == (
            "Bojsenburg",
            "narkotika",
            "lokala_bra",
        )
        assert problem.forum_meeting_on == date(2025, 5, 20)  # Faluns BRÅ's next meeting
        assert [(entry["period"], entry["count"]) for entry in problem.history] == [
            ("EST-3", 6),
            ("EST-4", 6),
            ("EST-5", 7),
            ("EST-6", 6),
        ]
        messages = session.exec(
            select(OutboxMessage).where(OutboxMessage.subject.startswith("ESKALERING"))
        ).all()  # type: ignore[attr-defined]
        assert len([m for m in messages if "Ihållande problem" in m.subject]) == 1
        municipality = find_municipality(session, "2080")
        assert municipality is not None
        agenda = compile_agenda(session, municipality, 7, date(2025, 3, 30))
        # The kommun's own name for its BRÅ, from the directory (issue 14), not a generic "BRÅ".
        assert [(item.area, item.forum) for item in agenda.forum_items] == [("Bojsenburg", "Faluns BRÅ")]
        text = render_text(agenda)
        assert "EST-3: 6, EST-4: 6, EST-5: 7, EST-6: 6" in text
        # Its headings too: the section is "Lyfta till Faluns BRÅ …", never a bare "till BRÅ".
        assert "Lyfta till Faluns BRÅ eller kommunledningen" in text
        assert "till BRÅ " not in text
    for _ in range(2):
        with transaction(engine) as session:
            municipality = find_municipality(session, "2080")
            assert municipality is not None
            run_est_cycle(session, municipality, date(2025, 4, 1))
    with transaction(engine) as session:
        escalation = session.exec(
            select(Escalation).where(Escalation.reason == EscalationReason.PERSISTING_PROBLEM)
        ).one()
        assert escalation.resolved_on == date(2025, 4, 1)
        assert "Under tröskeln i EST-7" in escalation.resolution
        assert session.exec(select(PersistingProblem)).one().resolved_on == date(2025, 4, 1)


def test_decisions_become_tasks_and_the_protocol(falun_cli: Cli) -> None:
    """`est beslut` makes an insats and one task for its ansvarig; the protocol prints it; once only."""
    args = (
        "est", "beslut", "--kommun", "2080", "--cykel", "6", "--insats", "Ökad närvaro vid busshållplatsen",
        "--omrade", "bojsenburg", "--plats", "busshållplatsen", "--ansvarig", "jonas.ek@example.se",
        "--senast", "2025-04-06",
    )  # fmt: skip
    code, out, err = falun_cli(*args)
    assert (code, err) == (0, "")
    assert "registrerad för EST-möte 6" in out
    assert "fredag 4 april 2025" in out  # a Sunday due date moves back to the Friday
    code, out, _ = falun_cli(*args)
    assert "fanns redan" in out
    engine = sa.create_engine(falun_cli.url)
    with engine.connect() as connection:
        tasks = connection.execute(
            sa.text("SELECT kind, due_date, period_label FROM task WHERE idempotency_key LIKE :key"),
            {"key": "insats:%:beslut"},
        ).all()
        assert [(kind, str(due), label) for kind, due, label in tasks] == [
            ("folj_upp_insats", "2025-04-04", "insats-EST-6")
        ]
    code, out, _ = falun_cli("est", "protokoll", "--kommun", "2080", "--cykel", "6")
    assert code == 0
    decided = out.split("Beslutade insatser\n")[1].split("Öppna insatser efter mötet\n")[0]
    open_after = out.split("Öppna insatser efter mötet\n")[1].split("Lyfts till ")[0]
    # One row of an aligned table: the insats, where, who and by when side by side.
    assert re.search(r"\nÖkad närvaro vid +Bojsenburg, +Jonas Ek +2025-04-04\n", decided)
    assert re.search(
        r"\nÖkad närvaro vid +Bojsenburg, +Jonas Ek +2025-04-04 +öppen\n", open_after
    )  # just decided
    assert "Inga öppna insatser" not in open_after
    code, out, _ = falun_cli("est", "lagesbild", "--kommun", "2080", "--cykel", "9", "--format", "json")
    assert code == 0
    assert '"öppna_insatser": 1' in out
    code, out, _ = falun_cli("est", "dagordning", "--kommun", "2080", "--cykel", "9")
    open_now = out.split("Öppna insatser (försenade först)\n")[1].split("Förslag\n")[0]
    assert open_now.split("\n")[3].startswith("Ökad närvaro")  # overdue on 2025-04-29: on top…
    assert "försenad 15" in open_now.split("\n")[3]  # … and marked (working days: Easter)
    with engine.connect() as connection:
        intervention_id = connection.execute(sa.text("SELECT id FROM intervention")).scalar_one()
    code, out, _ = falun_cli(
        "est",
        "insats",
        str(intervention_id),
        "--kommun",
        "2080",
        "--status",
        "genomförd",
        "--datum",
        "2025-04-30",
    )
    assert code == 0
    assert "är nu genomförd (2025-04-30)" in out
    code, _, _ = falun_cli("run", "daglig", "--kommun", "2080", "--as-of", "2025-05-02", "--utan-prefect")
    assert code == 0
    with engine.connect() as connection:
        states = connection.execute(
            sa.text("SELECT state FROM task WHERE idempotency_key LIKE :key"),
            {"key": f"insats:{intervention_id}:%"},
        ).scalars()
        assert set(states) == {"klar"}
    code, _, err = falun_cli(
        "est",
        "beslut",
        "--kommun",
        "2080",
        "--insats",
        "Samtal",
        "--ansvarig",
        "Ingen Alls",
        "--senast",
        "2025-04-01",
    )
    assert code == 1
    assert "hittar ingen person" in err


def test_streaks_need_every_period_at_the_threshold() -> None:
    """A streak counts periods at or above the threshold from the newest back; one below breaks it;
    an unknown area is never raised; "båda" raises to the BRÅ and kommunledningen."""
    rhythm = rhythm_from_json({"est": {"ihallande": {"troskel": 5, "perioder": 3, "eskalera_till": "båda"}}})
    windows = [period_of(rhythm, number) for number in range(10, 4, -1)]
    by_window = {
        0: {("Järnet", "brand"): 5, ("Slätta", "klotter"): 9, (UNKNOWN_AREA, "annat"): 9},
        1: {("Järnet", "brand"): 7, ("Slätta", "klotter"): 4, (UNKNOWN_AREA, "annat"): 9},
        2: {("Järnet", "brand"): 5, (UNKNOWN_AREA, "annat"): 9},
        3: {("Järnet", "brand"): 6},
        4: {("Järnet", "brand"): 2},
    }
    findings = persisting_findings(rhythm, windows, by_window)
    assert [(f.area, f.category) for f in findings] == [("Järnet", "brand")]
    assert [(step.number, step.count) for step in findings[0].streak] == [(7, 6), (8, 5), (9, 7), (10, 5)]
    assert findings[0].forums == (ForumKind.LOCAL_BRA, ForumKind.MUNICIPAL_MANAGEMENT)
    assert persisting_findings(rhythm, windows, {0: by_window[0], 1: by_window[1]}) == []


def test_agenda_flow_is_deployed_by_name() -> None:
    """prefect.yaml's est-dagordning entrypoint is the flow named est-dagordning."""
    assert est_agenda_flow.name == "est-dagordning"
