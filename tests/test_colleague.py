"""Behaving like a colleague (issue 14): a plan taken into use mid-stream raises no escalation for its
history, the coordinator hears of that history once, escalations arrive as one digest a day, and every
person's first message about a task comes when the task opens. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from sqlmodel import Session, col, select

from core.clock import local_day
from cycles.daily_sweep import _load, _responsible_for_measures, sweep_and_notify, sweep_moment
from cycles.est import run_est_cycle
from cycles.est_calendar import cycle_number_at, meeting_cancelled, meeting_date, meeting_note, period_start
from cycles.follow_up import responsible_persons, run_follow_up_cycle
from flows.simulation import SimulationOptions, simulate
from importers.directory_import import import_directory_file
from importers.follow_up import parse_follow_up
from importers.plan_import import import_plan_file
from models.db import make_engine, transaction
from models.directory import Forum, Organisation, Person, forum_name_of_kind, person_by_email
from models.enums import ForumKind
from models.escalation import Escalation
from models.municipality import Municipality, find_municipality
from models.outbox import MessageKind, OutboxMessage
from models.plan import ActionPlan, Measure, MeasureForum, MeasureParty, PartyRole
from models.responsibility import responsible_person
from models.rhythm import rhythm_from_json
from models.task import Reminder, ReminderKind, Task, TaskKind
from models.working_days import add_working_days, is_working_day
from reports.est_agenda import compile_agenda, render_text, send_agendas
from reports.year_wheel import wheel_events
from tests.conftest import Cli, import_falun

EXAMPLES = Path(__file__).parents[1] / "examples"
SCHEDULES = Path(__file__).parents[1] / "prefect.yaml"
ADOPTED = date(2025, 3, 3)  # a Monday: Orsa takes its running 2024–2025 plan into Samordna
A_YEAR_LATER = date(2026, 3, 2)


def import_orsa(session: Session, adopted_on: date = ADOPTED) -> Municipality:
    """Orsa's directory and running handlingsplan 2024–2025, taken into use on ``adopted_on``."""
    _, municipality = import_directory_file(session, EXAMPLES / "orsa-katalog.yaml", adopted_on=adopted_on)
    import_plan_file(session, EXAMPLES / "orsa-handlingsplan-2024-2025.xlsx", adopted_on=adopted_on)
    return municipality


def messages_of(session: Session, kind: MessageKind) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def sweep_moment_on(day: date) -> datetime:
    """08:00 on ``day``: created after that day's 07:00 sweep, as the follow-up cycle does."""
    return sweep_moment(day) + timedelta(hours=1)


def working_days(start: date, end: date) -> list[date]:
    return [
        start + timedelta(days=n)
        for n in range((end - start).days + 1)
        if is_working_day(start + timedelta(days=n))
    ]


def test_import_records_the_adoption_day_on_kommun_and_plan(engine: sa.Engine) -> None:
    """Importing starts the grace: the kommun created by the import and the plan carry the day."""
    with transaction(engine) as session:
        municipality = import_orsa(session)
        [plan] = session.exec(select(ActionPlan).where(ActionPlan.municipality_id == municipality.id)).all()
        assert (municipality.adopted_on, plan.adopted_on) == (ADOPTED, ADOPTED)


def test_history_before_adoption_raises_no_escalation_and_one_summary(engine: sa.Engine) -> None:
    """Measures already past their end on adoption day escalate to nobody; the coordinator gets one list."""
    with transaction(engine) as session:
        municipality = import_orsa(session)
        for day in working_days(ADOPTED, ADOPTED + timedelta(days=45)):
            sweep_and_notify(session, municipality, day)
    with Session(engine) as session:
        assert session.exec(select(Escalation)).all() == []
        [summary] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == MessageKind.SUMMARY)).all()
        coordinator = session.get(Person, summary.recipient_person_id)
        assert coordinator is not None
        assert coordinator.name == "Jonas Lindh"
        late = session.exec(
            select(Measure).where(
                col(Measure.period_end) < ADOPTED, col(Measure.municipality_id) == municipality.id
            )
        ).all()
        assert late
        assert "redan försenade när planen togs i bruk" in summary.subject
        assert "REDAN FÖRSENAT NÄR PLANEN TOGS I BRUK" in summary.body_text
        for measure in late:
            if measure.parent_id is None:
                assert f"samordna status report {measure.id} " in summary.body_text
        assert local_day(summary.created_at) == ADOPTED


def test_a_cause_that_begins_after_adoption_still_escalates(engine: sa.Engine) -> None:
    """The grace covers only the past: a measure whose end date passes after adoption is escalated."""
    with transaction(engine) as session:
        municipality = import_orsa(session)
        plan_measures = session.exec(select(Measure).where(Measure.municipality_id == municipality.id)).all()
        target = next(m for m in plan_measures if m.parent_id is None)
        target.period_end = ADOPTED + timedelta(days=7)
        session.add(target)
        session.flush()
        for day in working_days(ADOPTED, ADOPTED + timedelta(days=60)):
            sweep_and_notify(session, municipality, day)
    with Session(engine) as session:
        escalations = session.exec(select(Escalation)).all()
        assert escalations
        assert {escalation.measure_id for escalation in escalations if escalation.measure_id} == {target.id}
        assert all(escalation.cause_since >= ADOPTED for escalation in escalations)


def test_a_plan_without_adoption_day_is_judged_on_all_its_history(engine: sa.Engine) -> None:
    """A plan imported without an adoption day (None) has no grace: its late measures escalate."""
    with transaction(engine) as session:
        municipality = import_orsa(session)
        for row in (municipality, *session.exec(select(ActionPlan)).all()):
            row.adopted_on = None
            session.add(row)
        session.flush()
        sweep_and_notify(session, municipality, ADOPTED)
        assert session.exec(select(Escalation)).all()
        assert not session.exec(select(OutboxMessage).where(OutboxMessage.kind == MessageKind.SUMMARY)).all()


def test_a_new_task_is_announced_on_the_day_it_opens_then_the_ladder_reminds(engine: sa.Engine) -> None:
    """The first message about a task is a 'ny uppgift' in that day's digest; the ladder follows as before."""
    with transaction(engine) as session:
        municipality = import_orsa(session)
        emma = session.exec(select(Person).where(Person.name == "Emma Wik")).one()
        opened = date(2025, 4, 1)
        due = add_working_days(opened, 15)
        task = Task(
            municipality_id=municipality.id or 0,
            kind=TaskKind.PLAN_REVISION,
            subject="Se över handlingsplanen",
            due_date=due,
            idempotency_key="test:ny-uppgift",
            assignee_person_id=emma.id,
            created_at=sweep_moment_on(opened),
        )
        session.add(task)
        session.flush()
        for day in working_days(opened, due):
            sweep_and_notify(session, municipality, day)
        reminders = session.exec(
            select(Reminder).where(Reminder.task_id == task.id).order_by(col(Reminder.remind_on))
        ).all()
        assert [(r.remind_on, r.kind) for r in reminders] == [
            (opened, ReminderKind.NEW_TASK),
            (add_working_days(due, -3), ReminderKind.BEFORE_DUE),
            (due, ReminderKind.DUE_DAY),
        ]
        assert reminders[0].subject.startswith('Ny uppgift: "Se över handlingsplanen" senast ')
        first = session.get(OutboxMessage, reminders[0].outbox_message_id)
        assert first is not None
        assert first.subject == "Samordna: 1 uppgift att göra – 1 ny"
        assert "NY UPPGIFT: Se över handlingsplanen" in first.body_text


def test_a_simulated_year_of_a_running_plan(engine: sa.Engine, tmp_path: Path) -> None:
    """Orsa's running plan over a year: kommunledningen gets at most one escalation mail per working day,
    none about history before adoption, and every first message about a task comes when it opens."""
    with transaction(engine) as session:
        import_orsa(session)
    work = tmp_path / "sim"
    work.mkdir()
    url = engine.url.render_as_string(hide_password=False)
    simulate(url, SimulationOptions(start=ADOPTED, end=A_YEAR_LATER, kommun="2034"), work, SCHEDULES)
    copy = make_engine(f"sqlite:///{(work / 'simulering.db').as_posix()}")
    try:
        with Session(copy) as session:
            leaders = {p.id for p in session.exec(select(Person)) if "kommunledning" in p.roles}
            mails = session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == MessageKind.ESCALATION)
            ).all()
            per_day = Counter((m.recipient_person_id, local_day(m.created_at)) for m in mails)
            assert any(person in leaders for person, _ in per_day), "the year raised something to the top"
            assert max(per_day.values()) == 1
            assert all(is_working_day(day) for _, day in per_day)
            escalations = session.exec(select(Escalation)).all()
            assert all(e.cause_since >= ADOPTED for e in escalations)
            [summary] = session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == MessageKind.SUMMARY)
            ).all()
            assert local_day(summary.created_at) == ADOPTED
            first_reminders = dict(
                session.exec(
                    select(Reminder.task_id, sa.func.min(Reminder.remind_on)).group_by(col(Reminder.task_id))
                ).all()
            )
            checked = 0
            for task in session.exec(select(Task).where(col(Task.assignee_person_id).is_not(None))):
                opened = local_day(task.created_at)
                first_working_day = opened if is_working_day(opened) else add_working_days(opened, 1)
                # A sweep at 07:00 sees a task created later that morning on its next working day.
                announced = first_reminders.get(task.id or 0)
                closed = local_day(task.closed_at) if task.closed_at else None
                if closed is not None and closed <= add_working_days(first_working_day, 1):
                    continue  # answered before there was anything to tell
                assert announced is not None, task.subject
                assert announced <= add_working_days(first_working_day, 1), task.subject
                kinds = session.exec(
                    select(Reminder.kind).where(Reminder.task_id == task.id, Reminder.remind_on == announced)
                ).all()
                assert kinds == [ReminderKind.NEW_TASK]
                checked += 1
            assert checked > 10
    finally:
        copy.dispose()


def test_kommun_lookup_folds_swedish_letters(engine: sa.Engine) -> None:
    """Älvbacka, Örebro and Åre are found by any case of their names on both databases."""
    with transaction(engine) as session:
        for name, code in (("Älvbacka", "2999"), ("Örebro", "1880"), ("Åre", "2321"), ("Östersund", "2380")):
            session.add(Municipality(name=name, code=code))
    with Session(engine) as session:
        for key, code in (
            ("Älvbacka", "2999"),
            ("älvbacka", "2999"),
            ("ÄLVBACKA", "2999"),
            (" örebro ", "1880"),
            ("ÅRE", "2321"),
            ("östersund", "2380"),
        ):
            found = find_municipality(session, key)
            assert found is not None, key
            assert found.code == code
        assert find_municipality(session, "Alvbacka") is None


def test_person_by_email_folds_swedish_letters(engine: sa.Engine) -> None:
    """An e-mail address with Å is found whatever its case: the SSPF --anvandare lookup."""
    with transaction(engine) as session:
        kommun = Municipality(name="Älvbacka", code="2999")
        session.add(kommun)
        session.flush()
        session.add(Person(municipality_id=kommun.id or 0, name="Åsa Ek", email="Åsa.Ek@example.se"))
    with Session(engine) as session:
        found = person_by_email(session, kommun.id or 0, "åsa.ek@EXAMPLE.se")
        assert found is not None
        assert found.name == "Åsa Ek"


def test_cli_takes_the_kommun_by_its_swedish_name(cli: Cli) -> None:
    """`--kommun Älvbacka` works in any case, like the kod: the CLI's lookup folds Å, Ä and Ö."""
    assert cli("kommun", "skapa", "--namn", "Älvbacka", "--kod", "2999")[0] == 0
    for key in ("Älvbacka", "ÄLVBACKA", "älvbacka", "2999"):
        code, out, err = cli("plan", "list", "--kommun", key)
        assert code == 0, err
        assert "finns inte" not in out + err


# ---------------------------------------------------------------------------------------------------
# The plan's own words: keys, the lägesbild's date, organisations without a contact person


def plan_workbook(path: Path, facts: list[list[str]]) -> Path:
    """A small Älvbacka plan: a Plan sheet with ``facts`` and one focus area of two measures."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Plan"
    for row in facts:
        sheet.append(row)
    area = book.create_sheet("Trygghet")
    area.append(["Åtgärd", "Tid", "Ansvarig"])
    area.append(["Trygghetsvandringar i centrum", "Hösten 2026", "Fritidsförvaltningen"])
    area.append(["Belysning i parken", "2026", "Tekniska kontoret"])
    book.save(path)
    return path


ALVBACKA_FACTS = [
    ["Kommun", "Älvbacka"],
    ["Kommunkod", "2999"],
    ["Titel", "Åtgärdsplan 2026–2027"],
    ["Antagen av", "Kommunfullmäktige § 56"],
    ["Antagen", "2026-02-16"],
    ["Ska revideras", "2027-12-31"],
    ["Färgkod", "grön"],
]


def test_plan_keys_are_read_through_their_aliases_and_unknown_keys_warned(cli: Cli, tmp_path: Path) -> None:
    """'Antagen av', 'Antagen', 'Ska revideras' fill their fields; 'Färgkod' is kept and warned about."""
    assert cli("kommun", "skapa", "--namn", "Älvbacka", "--kod", "2999")[0] == 0
    code, out, err = cli("plan", "import", plan_workbook(tmp_path / "plan.xlsx", ALVBACKA_FACTS))
    assert code == 0, err
    assert 'okänd uppgift "Färgkod" på bladet Plan' in out
    engine = make_engine(cli.url)
    try:
        with Session(engine) as session:
            plan = session.exec(select(ActionPlan)).one()
            assert (plan.decided_by, plan.decided_on, plan.revision_due) == (
                "Kommunfullmäktige § 56",
                date(2026, 2, 16),
                date(2027, 12, 31),
            )
            assert plan.extra == {"Färgkod": "grön"}
    finally:
        engine.dispose()


def test_lagesbild_date_is_recorded_and_plan_kontroll_flags_a_missing_one(cli: Cli, tmp_path: Path) -> None:
    """Without a dated lägesbild plan kontroll says so; `plan lagesbild --datum` records it, once."""
    assert cli("kommun", "skapa", "--namn", "Älvbacka", "--kod", "2999")[0] == 0
    assert cli("plan", "import", plan_workbook(tmp_path / "plan.xlsx", ALVBACKA_FACTS))[0] == 0
    code, out, _ = cli("plan", "kontroll", "--kommun", "Älvbacka", "--as-of", "2026-03-02")
    assert code == 0
    assert "Lägesbild: inget datum registrerat" in out
    code, out, err = cli("plan", "lagesbild", "--datum", "2025-11-20", "--plan", "1", "--kommun", "älvbacka")
    assert code == 0, err
    assert out.strip() == "Lägesbild 2025 i Älvbacka är registrerad med datum 2025-11-20."
    assert "var redan registrerad" in cli("plan", "lagesbild", "--datum", "2025-11-20", "--kommun", "2999")[1]
    code, out, _ = cli("plan", "kontroll", "--kommun", "2999", "--as-of", "2026-03-02")
    assert "inget datum registrerat" not in out
    assert "Nästa lägesbild" not in out  # 2027-11-19 lies more than 90 days ahead
    assert cli("plan", "lagesbild", "--datum", "30 februari 2025", "--kommun", "2999")[0] == 1


def test_plan_kontroll_names_organisations_without_a_contact_person(cli: Cli, tmp_path: Path) -> None:
    """An ansvarig organisation without a contact person is named by plan kontroll, text and JSON."""
    directory = tmp_path / "katalog.yaml"
    directory.write_text(
        'kommun: {namn: Älvbacka, kod: "2999"}\n'
        "personer:\n"
        "  - {namn: Sara Holm, epost: sara.holm@example.se, roller: [bra_samordnare]}\n"
        "organisationer:\n"
        "  - {namn: Fritidsförvaltningen}\n"
        "  - {namn: Tekniska kontoret, kontakt: sara.holm@example.se}\n",
        encoding="utf-8",
    )
    assert cli("katalog", "import", directory)[0] == 0
    assert cli("plan", "import", plan_workbook(tmp_path / "plan.xlsx", ALVBACKA_FACTS))[0] == 0
    code, out, _ = cli("plan", "kontroll", "--kommun", "2999", "--as-of", "2026-03-02")
    assert code == 0
    assert "Organisationer utan kontaktperson i katalogen" in out
    assert "Fritidsförvaltningen (1 åtgärd)" in out
    assert "Tekniska kontoret (" not in out
    code, out, _ = cli("plan", "kontroll", "--kommun", "2999", "--format", "json", "--as-of", "2026-03-02")
    assert json.loads(out)[0]["organisationer_utan_kontakt"] == [
        {"namn": "Fritidsförvaltningen", "atgarder": 1}
    ]


def test_a_measure_of_an_organisation_without_contact_is_asked_of_the_coordinator_but_owned_by_nobody(
    engine: sa.Engine,
) -> None:
    """The follow-up task goes to the BRÅ-samordnare; the responsible lookups name nobody, all three alike."""
    with transaction(engine) as session:
        municipality = import_orsa(session)
        organisation = Organisation(municipality_id=municipality.id or 0, name="Fritidsförvaltningen")
        session.add(organisation)
        session.flush()
        owned = [
            measure.id or 0
            for measure in session.exec(select(Measure).where(col(Measure.parent_id).is_(None))).all()[:2]
        ]
        for party in session.exec(select(MeasureParty).where(col(MeasureParty.measure_id).in_(owned))):
            session.delete(party)
        for measure_id in owned:
            session.add(
                MeasureParty(
                    measure_id=measure_id,
                    role=PartyRole.RESPONSIBLE,
                    position=1,
                    organisation_id=organisation.id,
                )
            )
        session.flush()
        assert owned
        batched = responsible_persons(session, owned, municipality.id or 0)
        one_by_one = {m: responsible_person(session, m, municipality.id or 0) for m in owned}
        sweep = _load(session, municipality, ADOPTED)
        swept = _responsible_for_measures(sweep, set(owned))
        assert batched == one_by_one == swept == dict.fromkeys(owned)
        orphans = owned
        for day in (date(2025, 4, 14), date(2025, 10, 27)):  # before the May and November meetings
            run_follow_up_cycle(session, municipality, day)
        coordinator = session.exec(select(Person).where(Person.name == "Jonas Lindh")).one()
        tasks = session.exec(select(Task).where(col(Task.measure_id).in_(orphans))).all()
        assert tasks
        assert {task.assignee_person_id for task in tasks} == {coordinator.id}


def test_head_word_columns_are_shown_and_a_missing_ansvarig_column_is_said_first(
    cli: Cli, tmp_path: Path
) -> None:
    """Head-word mappings are listed (an outright column wins); a missing ansvarig or tid column leads."""
    assert cli("kommun", "skapa", "--namn", "Älvbacka", "--kod", "2999")[0] == 0
    mapped = tmp_path / "plan.csv"
    mapped.write_text(
        "Åtgärd;Tidplan för genomförande;Ansvarig enhet;Ansvarig\n"
        "Trygghetsvandringar;Hösten 2026;Fritid;Polisen\n",
        encoding="utf-8",
    )
    code, out, err = cli("plan", "import", mapped, "--kommun", "Älvbacka", "--dry-run")
    assert code == 0, err
    assert '"Tidplan för genomförande" → tid (ordet "tid")' in out
    assert '"Ansvarig" har redan det fältet' in out  # the outright Ansvarig column wins
    assert "OBS:" not in out
    bare = tmp_path / "bar.csv"
    bare.write_text("Åtgärd;Kostnad\nTrygghetsvandringar;Inom budget\n", encoding="utf-8")
    code, out, _ = cli("plan", "import", bare, "--kommun", "2999", "--dry-run")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("OBS: planen har ingen kolumn för ansvarig.")
    assert lines[1].startswith("OBS: planen har ingen kolumn för tid (period).")


# ---------------------------------------------------------------------------------------------------
# EST meetings on holidays


def falun_rule(session: Session, falun: int, rule: str) -> Municipality:
    """Falun with the holiday rule ``rule`` in its EST rhythm."""
    municipality = session.get(Municipality, falun)
    assert municipality is not None
    rhythm = dict(municipality.rhythm)
    rhythm["est"] = {**rhythm.get("est", {}), "pa_helgdag": rule}
    municipality.rhythm = rhythm
    session.add(municipality)
    session.flush()
    return municipality


@pytest.mark.parametrize(
    ("first", "number", "scheduled", "held"),
    [
        (date(2025, 1, 7), 27, date(2026, 1, 6), date(2026, 1, 7)),  # trettondedag jul, a Tuesday
        (date(2026, 4, 30), 2, date(2026, 5, 14), date(2026, 5, 15)),  # Kristi himmelsfärdsdag
        (date(2026, 4, 30), 18, date(2026, 12, 24), date(2026, 12, 28)),  # julafton, then juldagen, a weekend
    ],
)
def test_a_meeting_on_a_holiday_moves_to_the_next_working_day(
    first: date, number: int, scheduled: date, held: date
) -> None:
    """By default a meeting on a (de-facto) holiday is held the next working day; the periods follow."""
    rhythm = rhythm_from_json({"est": {"forsta_mote": first.isoformat()}})
    assert meeting_date(rhythm, number) == held
    assert "Mötet är flyttat från" in meeting_note(rhythm, number)
    assert cycle_number_at(rhythm, scheduled) == number  # Prefect's run on the scheduled day prepares it
    assert period_start(rhythm, number + 1) == held + timedelta(days=1)
    assert not meeting_cancelled(rhythm, number)


def test_a_moved_meeting_says_so_in_its_agenda_and_the_arshjul(engine: sa.Engine) -> None:
    """Falun's EST meeting 27 (trettondedag jul 2026) is moved; agenda and årshjul state it."""
    with transaction(engine) as session:
        falun = import_falun(session)
        municipality = session.get(Municipality, falun)
        assert municipality is not None
        agenda = compile_agenda(session, municipality, 27, date(2026, 1, 5))
        assert local_day(agenda.meeting_at) == date(2026, 1, 7)
        text = render_text(agenda)
        assert (
            "OBS: Mötet är flyttat från tisdag 6 januari 2026 (trettondedag jul) till onsdag 7 januari 2026."
            in text
        )
        events = [e for e in wheel_events(session, municipality, 2026) if e.uid == "est-2080-27@samordna"]
        assert [e.day for e in events] == [date(2026, 1, 7)]
        assert "flyttat från tisdag 6 januari 2026" in events[0].summary


def test_a_cancelled_meeting_asks_for_nothing_and_sends_no_agenda(engine: sa.Engine) -> None:
    """Under pa_helgdag: stall_in meeting 27 is cancelled: no report tasks, no agenda, a note instead."""
    with transaction(engine) as session:
        municipality = falun_rule(session, import_falun(session), "stall_in")
        run_est_cycle(session, municipality, date(2025, 12, 23))  # the day meeting 26 is held
        labels = set(session.exec(select(Task.period_label).where(Task.kind == TaskKind.REPORT_INCIDENTS)))
        assert labels == {"EST-28"}
        assert send_agendas(session, municipality, date(2026, 1, 5)) == []
        agenda = compile_agenda(session, municipality, 27, date(2026, 1, 5))
        assert agenda.note == "Mötet är inställt: tisdag 6 januari 2026 är trettondedag jul."


# ---------------------------------------------------------------------------------------------------
# The kommun's own forum names


TRYGGHETSRADET = [
    (ForumKind.LOCAL_BRA, "Trygghetsrådet"),
    (ForumKind.LOCAL_BRA, "Folkhälso- och trygghetsrådet"),
]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Till Trygghetsrådet", "Trygghetsrådet"),
        ("Rapport till Folkhälso- och trygghetsrådet en gång per halvår", "Folkhälso- och trygghetsrådet"),
        ("till TRYGGHETSRÅDET", "TRYGGHETSRÅDET"),
    ],
)
def test_follow_up_recognises_the_kommuns_own_forum_names(text: str, name: str) -> None:
    """A forum name or alias from the directory is the forum of its kind, named as the text writes it."""
    assert parse_follow_up(text).forums == ()
    found = parse_follow_up(text, TRYGGHETSRADET)
    assert (found.forums, found.forum_names, found.understood) == ((ForumKind.LOCAL_BRA,), (name,), True)


def test_an_imported_follow_up_to_trygghetsradet_links_the_kommuns_forum(cli: Cli, tmp_path: Path) -> None:
    """'Till Trygghetsrådet' in a plan becomes the measure's forum, the directory's Trygghetsrådet."""
    directory = tmp_path / "katalog.yaml"
    directory.write_text(
        'kommun: {namn: Älvbacka, kod: "2999"}\n'
        "personer:\n"
        "  - {namn: Sara Holm, epost: sara.holm@example.se, roller: [bra_samordnare]}\n"
        "forum:\n"
        "  - {namn: Trygghetsrådet, typ: lokala_bra, alias: [Brottsförebyggande rådet]}\n",
        encoding="utf-8",
    )
    assert cli("katalog", "import", directory)[0] == 0
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "Åtgärd;Ansvarig;Uppföljning\nTrygghetsvandringar;Sara Holm;Till Trygghetsrådet\n", encoding="utf-8"
    )
    code, out, err = cli("plan", "import", plan, "--kommun", "Älvbacka")
    assert code == 0, err
    assert "Uppföljningar som inte kunde tolkas" not in out
    engine = make_engine(cli.url)
    try:
        with Session(engine) as session:
            [link] = session.exec(select(MeasureForum)).all()
            forum = session.exec(select(Forum)).one()
            assert (link.kind, link.name, link.forum_id) == (ForumKind.LOCAL_BRA, "Trygghetsrådet", forum.id)
            assert (
                forum_name_of_kind(session, forum.municipality_id, ForumKind.LOCAL_BRA, "BRÅ")
                == "Trygghetsrådet"
            )
    finally:
        engine.dispose()
