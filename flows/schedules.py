"""The schedules of ``prefect.yaml``, read into Prefect's own schedule objects.

One file drives both Prefect (``prefect deploy --all``) and the simulation: ``load_schedules`` builds the
same ``IntervalSchedule``/``CronSchedule``/``RRuleSchedule`` objects that ``prefect deploy`` builds from
the file (mirroring ``prefect.cli.deploy._schedules``; a test checks that both agree), wrapped in the
``DeploymentScheduleCreate`` that ``prefect deploy`` and ``serve()`` send to the server, and ``instants``
asks Prefect's server-side schedule for its dates, the code its scheduler runs. So the simulation fires
every cycle exactly when the deployed flows would, DST included.

The loader is stricter than Prefect, because Prefect silently does the wrong thing otherwise (facts
checked on this stack, see stack-notes): an interval needs an ``anchor_date`` string with an explicit
UTC offset (without one it is read as UTC) and a ``timezone`` (without one it drifts an hour in summer);
an ``rrule`` needs an explicit ``DTSTART`` (without one it starts 2020-01-01 00:00); every schedule
needs a ``timezone`` (a cron without one runs in UTC).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.schedules import (
    CronSchedule,
    IntervalSchedule,
    NoSchedule,
    RRuleSchedule,
)
from prefect.server.schemas import schedules as server_schedules
from prefect.types._datetime import parse_datetime

PrefectSchedule = IntervalSchedule | CronSchedule | RRuleSchedule
# Prefect's own "schedule of a deployment": accepted as is by RunnerDeployment(schedules=…) and serve().
ScheduleSpec = DeploymentScheduleCreate
_ServerSchedule = (
    server_schedules.IntervalSchedule | server_schedules.CronSchedule | server_schedules.RRuleSchedule
)
# Prefect's date generation checks at most this many candidates per call: longer windows are paged.
_PAGE = server_schedules.MAX_ITERATIONS


class ScheduleFileError(ValueError):
    """``prefect.yaml`` declares a schedule that Prefect would misread; the message is Swedish."""


def load_schedules(path: Path) -> dict[str, list[ScheduleSpec]]:
    """Every deployment of ``path`` by name, with its schedules (an empty list when it has none).

    Each schedule is what ``prefect deploy`` sends for that entry: the schedule object with the entry's
    ``active`` flag and parameter overrides. Deployment-level fields (entrypoint, parameters, work pool)
    stay in the file; ``flows.serving.declared_deployments`` reads them.
    """
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: dict[str, list[ScheduleSpec]] = {}
    for deployment in document.get("deployments") or []:
        name = str(deployment["name"])
        found[name] = [
            ScheduleSpec(
                schedule=schedule_from_config(name, config),
                active=config.get("active", True),
                parameters=config.get("parameters") or {},
            )
            for config in deployment.get("schedules") or []
        ]
    return found


def schedule_from_config(deployment: str, config: dict[str, Any]) -> PrefectSchedule:
    """One ``schedules:`` entry as Prefect's schedule object, after the checks in the module docstring."""
    timezone = config.get("timezone")
    if not timezone:
        raise ScheduleFileError(f"{deployment}: schemat saknar timezone (ange Europe/Stockholm).")
    if cron := config.get("cron"):
        options = {"cron": cron, "timezone": timezone, "day_or": config.get("day_or")}
        return CronSchedule(**{key: value for key, value in options.items() if value is not None})
    if interval := config.get("interval"):
        return IntervalSchedule(
            interval=timedelta(seconds=interval) if isinstance(interval, int | float) else interval,
            anchor_date=parse_datetime(_checked_anchor(deployment, config.get("anchor_date"))),
            timezone=timezone,
        )
    if rrule := config.get("rrule"):
        return _rrule_schedule(deployment, rrule, timezone)
    raise ScheduleFileError(f"{deployment}: ett schema behöver cron, interval eller rrule.")


def _checked_anchor(deployment: str, anchor: object) -> str:
    if not isinstance(anchor, str):
        # Unquoted, YAML reads a timestamp and `prefect deploy` fails; missing, Prefect anchors on "now".
        raise ScheduleFileError(
            f'{deployment}: anchor_date måste anges inom citattecken, t.ex. "2025-01-07T09:00:00+01:00".'
        )
    try:
        parsed = datetime.fromisoformat(anchor)
    except ValueError as error:
        raise ScheduleFileError(f"{deployment}: anchor_date {anchor!r} är ingen tidpunkt.") from error
    if parsed.utcoffset() is None:
        raise ScheduleFileError(
            f"{deployment}: anchor_date {anchor!r} saknar UTC-förskjutning (t.ex. +01:00) och "
            "skulle läsas som UTC."
        )
    return anchor


def _rrule_schedule(deployment: str, rrule: str, timezone: str) -> RRuleSchedule:
    try:
        # Prefect also accepts a JSON object {"rrule": …, "timezone": …}; the file's timezone wins.
        schedule = RRuleSchedule(**json.loads(rrule))
        schedule.timezone = timezone
    except json.JSONDecodeError:
        schedule = RRuleSchedule(rrule=rrule, timezone=timezone)
    if "DTSTART" not in schedule.rrule.upper():
        raise ScheduleFileError(f"{deployment}: rrule måste ha en uttrycklig DTSTART.")
    return schedule


def _server_schedule(schedule: PrefectSchedule | NoSchedule) -> _ServerSchedule | None:
    """The server-side twin of a client schedule (only the server schemas generate dates)."""
    data = schedule.model_dump()
    if isinstance(schedule, IntervalSchedule):
        return server_schedules.IntervalSchedule.model_validate(data)
    if isinstance(schedule, CronSchedule):
        return server_schedules.CronSchedule.model_validate(data)
    if isinstance(schedule, RRuleSchedule):
        return server_schedules.RRuleSchedule.model_validate(data)
    return None


def _plain_utc(moment: datetime) -> datetime:
    # Prefect hands back pendulum subclasses whose pendulum-only methods warn: keep a plain datetime.
    return datetime.fromtimestamp(moment.timestamp(), tz=UTC)


def instants(
    schedule: ScheduleSpec | PrefectSchedule | NoSchedule, start: datetime, end: datetime
) -> list[datetime]:
    """The instants ``schedule`` fires at with start <= instant < end, as aware UTC datetimes, in order.

    ``start`` and ``end`` must be aware. The dates come from Prefect's own generator (the one behind
    ``get_dates``, used synchronously so that callers need no event loop), page by page because Prefect
    stops after 1,000 candidates per call.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start och end måste ha tidszon.")
    server = _server_schedule(schedule.schedule if isinstance(schedule, ScheduleSpec) else schedule)
    found: list[datetime] = []
    if server is None:
        return found
    cursor = start.astimezone(UTC)
    while True:
        page = [
            _plain_utc(moment)
            for moment in server._get_dates_generator(n=_PAGE, start=cursor, end=end)  # noqa: SLF001 - Prefect's sync date generator; get_dates wraps it in a coroutine
        ]
        page = [moment for moment in page if cursor <= moment < end]
        if not page:
            return found
        found.extend(page)
        # Instants are whole seconds; resume just after the last one so that none repeats.
        cursor = page[-1] + timedelta(microseconds=1)
