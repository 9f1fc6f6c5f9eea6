"""prefect.yaml's deployments and schedules, checked with Prefect's own schedule objects (no server)."""

from __future__ import annotations

import asyncio
import importlib
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from prefect.cli.deploy._models import PrefectYamlModel, RawScheduleConfig
from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule

from cycles.est_calendar import (
    cycle_number_at,
    held_meeting_number,
    meeting_at,
    meeting_date,
    scheduled_meeting_date,
)
from flows.schedules import (
    ScheduleFileError,
    _server_schedule,
    instants,
    load_schedules,
    schedule_from_config,
)
from flows.simulation import est_runs_that_act
from importers.directory_import import read_directory

REPO = Path(__file__).resolve().parents[1]
PREFECT_YAML = REPO / "prefect.yaml"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
START = datetime(2025, 1, 1, tzinfo=STOCKHOLM)
END = datetime(2031, 1, 1, tzinfo=STOCKHOLM)
# Every DST change in Sweden 2025–2030: last Sunday of March (to +02:00) and of October (to +01:00).
DST_CHANGES = [
    date(2025, 3, 30),
    date(2025, 10, 26),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2027, 3, 28),
    date(2027, 10, 31),
    date(2028, 3, 26),
    date(2028, 10, 29),
    date(2029, 3, 25),
    date(2029, 10, 28),
    date(2030, 3, 31),
    date(2030, 10, 27),
]
EXPECTED = {
    "est": "flows/deployments.py:est_flow",
    "uppfoljning": "flows/deployments.py:follow_up_flow",
    "lagesbild": "flows/deployments.py:situation_assessment_flow",
    "daglig-kontroll": "flows/deployments.py:daily_sweep_flow",
    "leverans": "flows/delivery.py:delivery_flow",
    "est-dagordning": "flows/deployments.py:est_agenda_flow",
    "sspf": "flows/deployments.py:sspf_flow",
    "cykel-del": "flows/deployments.py:cycle_part_flow",
}
# Started by the cycles' flows (one run per part of a national run), never by a schedule.
UNSCHEDULED = {"cykel-del"}
SCHEDULED = [name for name in EXPECTED if name not in UNSCHEDULED]


@pytest.fixture(scope="module")
def document() -> dict[str, object]:
    return yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def specs() -> dict[str, list[DeploymentScheduleCreate]]:
    return load_schedules(PREFECT_YAML)


@pytest.fixture(scope="module")
def fired(specs: dict[str, list[DeploymentScheduleCreate]]) -> dict[str, list[datetime]]:
    """Every cycle deployment's instants 2025–2030, computed once (the five-minute delivery has its own
    test: six years of it would be 630,000 instants)."""
    return {
        name: instants(found[0], START, END) for name, found in specs.items() if found and name != "leverans"
    }


def local(moments: list[datetime]) -> list[datetime]:
    return [moment.astimezone(STOCKHOLM) for moment in moments]


def raw_deployments(document: dict[str, object]) -> list[dict[str, object]]:
    deployments = document["deployments"]
    assert isinstance(deployments, list)
    return deployments


def test_project_layout(document):
    """prefect.yaml is a Prefect 3 project file whose pull step sets the working directory."""
    assert document["name"] == "samordna"
    assert document["prefect-version"] == "3.9.1"
    assert document["build"] is None
    assert document["push"] is None
    assert document["pull"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $SAMORDNA_HOME }}"}}
    ]


def test_prefect_accepts_the_file(document):
    """Prefect's own model of prefect.yaml (what `prefect deploy` validates) accepts every key we wrote."""
    model = PrefectYamlModel.model_validate(document)
    assert [deployment.name for deployment in model.deployments] == list(EXPECTED)
    for deployment in raw_deployments(document):
        for entry in deployment["schedules"]:
            RawScheduleConfig.model_validate(entry)  # extra="forbid": a misspelt key fails here


def test_one_deployment_per_cycle_on_the_samordna_pool(document, specs):
    """One deployment per cycle for every kommun (no per-kommun copies), each with its entrypoint on work
    pool samordna (declared once in the file) and one schedule; cykel-del, the part of a national run
    that another worker takes, has none."""
    deployments = raw_deployments(document)
    assert {entry["name"]: entry["entrypoint"] for entry in deployments} == EXPECTED
    assert document["definitions"]["work_pools"]["samordna"] == {"name": "samordna", "job_variables": {}}
    assert [entry["work_pool"] for entry in deployments] == [{"name": "samordna", "job_variables": {}}] * len(
        EXPECTED
    )
    assert {name: len(found) for name, found in specs.items()} == {
        name: 0 if name in UNSCHEDULED else 1 for name in EXPECTED
    }
    # Runs of one cycle go one after the other (a caught-up day, then today); the parts run side by side.
    assert {entry["name"]: entry.get("concurrency_limit") for entry in deployments} == {
        **dict.fromkeys(EXPECTED, 1),
        "leverans": None,
        "cykel-del": None,
    }


def test_schedule_kinds_and_parameters(document, specs):
    """Every schedule is a cron (the lägesbild an rrule) for every kommun: no deployment names a kommun."""
    kinds = {name: type(found[0].schedule) for name, found in specs.items() if found}
    assert kinds == {
        "est": CronSchedule,
        "uppfoljning": CronSchedule,
        "lagesbild": RRuleSchedule,
        "daglig-kontroll": CronSchedule,
        "leverans": CronSchedule,
        "est-dagordning": CronSchedule,
        "sspf": CronSchedule,
    }
    assert {entry["name"]: entry.get("parameters") for entry in raw_deployments(document)} == dict.fromkeys(
        EXPECTED
    )
    assert {(found[0].active, len(found[0].parameters)) for found in specs.values() if found} == {(True, 0)}


def test_est_entrypoint_is_the_est_flow():
    """The EST entrypoint names the module attribute that holds the est-cykel flow."""
    path, attribute = EXPECTED["est"].split(":")
    module = path.removesuffix(".py").replace("/", ".")
    assert getattr(importlib.import_module(module), attribute).name == "est-cykel"


def test_raw_schedule_declarations(document):
    """In the file: anchors quoted with an offset, every schedule in Europe/Stockholm, rrules with DTSTART."""
    schedules = [entry for deployment in raw_deployments(document) for entry in deployment["schedules"]]
    assert len(schedules) == len(SCHEDULED)
    for entry in schedules:
        assert entry["timezone"] == "Europe/Stockholm"
        if "interval" in entry:
            # Quoted: YAML kept a string (unquoted it would be a datetime and `prefect deploy` fails).
            assert isinstance(entry["anchor_date"], str)
            assert datetime.fromisoformat(entry["anchor_date"]).utcoffset() is not None
        if "rrule" in entry:
            assert entry["rrule"].startswith("DTSTART:")
    est = raw_deployments(document)[0]["schedules"][0]
    assert est == {"cron": "0 22 * * *", "timezone": "Europe/Stockholm"}


def test_loader_builds_what_prefect_deploy_builds(document, specs):
    """For every schedule, load_schedules gives the object `prefect deploy` builds from the same entry."""
    for deployment in raw_deployments(document):
        for position, entry in enumerate(deployment["schedules"]):
            prefect_builds = DeploymentScheduleCreate(**_schedule_config_to_deployment_schedule(entry))
            assert specs[deployment["name"]][position] == prefect_builds


def test_sync_generator_agrees_with_get_dates(specs):
    """instants() gives the dates of Prefect's async get_dates, the scheduler's own entry point."""
    for name, found in specs.items():
        if not found:
            continue
        server = _server_schedule(found[0].schedule)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        end = start + (timedelta(days=2) if name == "leverans" else timedelta(days=365))
        expected = [
            datetime.fromtimestamp(moment.timestamp(), tz=UTC)
            for moment in asyncio.run(server.get_dates(start=start, end=end))
        ]
        assert instants(found[0], start, end) == [moment for moment in expected if moment < end]


def test_est_every_day_at_ten_in_the_evening_local(fired):
    """The national EST run fires once a day at 22:00 Europe/Stockholm, 2025 to 2030, across every DST
    change (21:00 UTC in winter, 20:00 UTC in summer)."""
    moments = local(fired["est"])
    assert moments[0] == datetime(2025, 1, 1, 22, tzinfo=STOCKHOLM)
    assert len(moments) == (date(2031, 1, 1) - date(2025, 1, 1)).days
    assert {moment.time() for moment in moments} == {time(22, 0)}
    assert {(later.date() - earlier.date()).days for earlier, later in pairwise(moments)} == {1}
    for change in DST_CHANGES:
        before, after = (
            datetime.combine(change + timedelta(days=shift), time(22), STOCKHOLM) for shift in (-1, 1)
        )
        assert before in moments
        assert after in moments
        assert {before.utcoffset(), after.utcoffset()} == {timedelta(hours=1), timedelta(hours=2)}


def test_daily_sweep_weekdays_at_seven(fired):
    """The daily sweep fires once at 07:00 local on every weekday 2025–2030 and never on a weekend."""
    moments = local(fired["daglig-kontroll"])
    days = [moment.date() for moment in moments]
    weekdays = [
        day
        for day in (
            date(2025, 1, 1) + timedelta(days=offset)
            for offset in range((date(2031, 1, 1) - date(2025, 1, 1)).days)
        )
        if day.weekday() < 5
    ]
    assert days == weekdays
    assert len(days) == 1565
    assert {moment.time() for moment in moments} == {time(7, 0)}
    assert {moment.utcoffset() for moment in moments} == {timedelta(hours=1), timedelta(hours=2)}


def test_follow_up_mondays_at_eight(fired):
    """The follow-up fires every Monday at 08:00 local, 313 Mondays 2025–2030, across DST."""
    moments = local(fired["uppfoljning"])
    assert len(moments) == 313
    assert {moment.weekday() for moment in moments} == {0}
    assert {moment.time() for moment in moments} == {time(8, 0)}
    # In UTC a week is an hour shorter across the spring change and an hour longer across the autumn one.
    gaps = {later - earlier for earlier, later in pairwise(fired["uppfoljning"])}
    assert gaps == {timedelta(days=7), timedelta(days=7, hours=-1), timedelta(days=7, hours=1)}
    assert {(later.date() - earlier.date()).days for earlier, later in pairwise(moments)} == {7}
    for change in DST_CHANGES:
        after = min(moment for moment in moments if moment.date() > change)
        assert after.date() == change + timedelta(days=1)
        assert after.time() == time(8, 0)


def test_situation_assessment_first_monday_at_eight(fired):
    """Lägesbild fires on the first Monday of each month at 08:00 local: 72 months 2025–2030."""
    moments = local(fired["lagesbild"])
    assert len(moments) == 72
    assert [(moment.year, moment.month) for moment in moments] == [
        (year, month) for year in range(2025, 2031) for month in range(1, 13)
    ]
    assert {(moment.weekday(), moment.day <= 7, moment.time()) for moment in moments} == {
        (0, True, time(8, 0))
    }
    assert moments[:4] == [
        datetime(2025, 1, 6, 8, tzinfo=STOCKHOLM),
        datetime(2025, 2, 3, 8, tzinfo=STOCKHOLM),
        datetime(2025, 3, 3, 8, tzinfo=STOCKHOLM),
        datetime(2025, 4, 7, 8, tzinfo=STOCKHOLM),
    ]
    assert moments[3].utcoffset() == timedelta(hours=2)


def test_instants_are_plain_aware_utc(fired):
    """instants() returns plain datetimes in UTC, never Prefect's pendulum subclass."""
    for moments in fired.values():
        assert {type(moment) for moment in moments} == {datetime}
        assert {moment.tzinfo for moment in moments} == {UTC}


def test_instants_window_is_half_open(specs):
    """An instant equal to start is included, one equal to end is not."""
    first = datetime(2025, 1, 7, 21, tzinfo=UTC)  # 22:00 in Stockholm
    assert instants(specs["est"][0], first, first + timedelta(days=1)) == [first]
    assert instants(specs["est"][0].schedule, first + timedelta(seconds=1), first + timedelta(days=1)) == []


def test_the_national_est_run_acts_on_each_kommuns_own_meeting_days():
    """Falun's meetings 1..130 are each judged, and the next one prepared, by the national EST run on the
    meeting's own day, after the meeting began: 22:00 on a Tuesday at 09:00, and for a meeting the
    holiday rule moved (trettondedag jul 2026, nationaldagen 2028) on the day it moved to. A kommun whose
    meetings fall on Thursdays at 13:30 gets its own Thursdays: no deployment per kommun is needed."""
    falun = read_directory(REPO / "examples" / "falun-katalog.yaml").rhythm
    assert falun is not None
    thursdays = falun.model_copy(
        update={
            "est": falun.est.model_copy(
                update={"first_meeting": date(2025, 1, 9), "meeting_time": time(13, 30)}
            )
        }
    )
    national = instants(load_schedules(PREFECT_YAML)["est"][0], START, END)
    for rhythm in (falun, thursdays):
        acting = est_runs_that_act(rhythm, national, since=START)
        moved = [n for n in range(1, 131) if meeting_date(rhythm, n) != scheduled_meeting_date(rhythm, n)]
        # Falun: trettondedag jul 2026, nationaldagen 2028; Thursdays: Kristi himmelsfärdsdag among others.
        assert moved == [27, 90] if rhythm is falun else moved
        for number, run in enumerate(acting[:130], start=1):
            assert run.astimezone(STOCKHOLM).date() == meeting_date(rhythm, number)
            assert run.astimezone(STOCKHOLM).time() == time(22, 0)
            assert run >= meeting_at(rhythm, number)
            day = run.astimezone(STOCKHOLM).date()
            # The run on the meeting day sees the meeting held and prepares the next one.
            assert held_meeting_number(rhythm, day) == number
            assert cycle_number_at(rhythm, day + timedelta(days=1)) == number + 1


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"interval": 1209600, "anchor_date": "2025-01-07T09:00:00", "timezone": "Europe/Stockholm"},
            "UTC-förskjutning",
        ),
        (
            {
                "interval": 1209600,
                "anchor_date": datetime(2025, 1, 7, 9, tzinfo=UTC),
                "timezone": "Europe/Stockholm",
            },
            "citattecken",
        ),
        ({"interval": 1209600, "timezone": "Europe/Stockholm"}, "citattecken"),
        ({"rrule": "RRULE:FREQ=MONTHLY;BYDAY=1MO", "timezone": "Europe/Stockholm"}, "DTSTART"),
        ({"cron": "0 7 * * 1-5"}, "timezone"),
        ({"timezone": "Europe/Stockholm"}, "cron, interval eller rrule"),
    ],
)
def test_loader_refuses_what_prefect_would_misread(entry, message):
    """A naive or unquoted anchor, an rrule without DTSTART and a schedule without timezone are refused."""
    with pytest.raises(ScheduleFileError, match=message):
        schedule_from_config("prov", entry)


def test_iso_interval_is_accepted():
    """An ISO 8601 interval (P14D) gives the same schedule as 1209600 seconds."""
    by_seconds = {
        "interval": 1209600,
        "anchor_date": "2025-01-07T09:00:00+01:00",
        "timezone": "Europe/Stockholm",
    }
    by_iso = {**by_seconds, "interval": "P14D"}
    assert schedule_from_config("prov", by_iso) == schedule_from_config("prov", by_seconds)


def test_interval_without_timezone_drifts_in_summer():
    """Why the loader requires timezone: Prefect's default (UTC) moves a +01:00 anchor to 10:00 in summer."""
    schedule = IntervalSchedule(interval=timedelta(days=14), anchor_date="2025-01-07T09:00:00+01:00")
    assert schedule.timezone == "UTC"
    moments = local(instants(schedule, START, datetime(2026, 1, 1, tzinfo=STOCKHOLM)))
    assert {moment.time() for moment in moments} == {time(9, 0), time(10, 0)}
    assert moments[6] == datetime(2025, 4, 1, 10, tzinfo=STOCKHOLM)


def test_delivery_every_five_minutes_across_dst(specs):
    """The outbox is drained every five minutes, also through the night the clocks go forward."""
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    moments = instants(specs["leverans"][0], start, start + timedelta(days=2))
    assert len(moments) == 2 * 24 * 12
    assert {later - earlier for earlier, later in pairwise(moments)} == {timedelta(minutes=5)}
