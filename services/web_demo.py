"""The web part of ``samordna demo``: today's reminders with personal links, and a coordinator login.

The demo's simulated years run on throwaway copies, so the database itself has the plan and the EST
year but no reminders. Here every cycle runs for the last ``DEMO_DAYS`` days up to today, as the
scheduled flows would have (EST, follow-up, lägesbild, the daily sweep), so the outbox holds real
digests and escalations written today or lately, each with its recipient's personal link (made with
the local link secret, which this step creates if there is none). Links last ``link_days`` from the
day they were made, so every link in the outbox still works. The BRÅ-samordnare gets a generated
password unless she has one; it is printed once and written to ``<data_dir>/demo/webb-inloggning.txt``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import col, func, select

from core import clock
from core.settings import Settings
from core.web_secret import create_local_secret
from cycles.est_calendar import meeting_date
from models.db import transaction
from models.municipality import find_municipality
from models.outbox import MessageKind, OutboxMessage
from models.responsibility import bra_coordinator
from models.rhythm import rhythm_from_json
from models.web import account_of
from models.working_days import is_working_day
from services.accounts import set_password
from services.cycles import CYCLES, run_cycle

DEMO_DAYS = 14
DEMO_EST_YEAR = 2025  # the year services.demo.run_demo generates incidents for
DEMO_CYCLES = ("est", "uppfoljning", "lagesbild", "daglig")
LOGIN_FILE = "webb-inloggning.txt"


@dataclass(frozen=True, slots=True)
class WebDemo:
    """What the step left for the person trying the demo."""

    days: int
    messages: int  # digests and escalations in the outbox
    linked: int  # of which carry a personal link
    coordinator_email: str
    password: str | None  # None: the coordinator had a password already
    login_file: str
    base_url: str
    est_meeting: int  # the demo's last EST meeting with incidents (2025), for a full agenda


def prepare_web_demo(engine: sa.Engine, settings: Settings, today: date | None = None) -> WebDemo:
    """Run the cycles of the last days for Falun and give its coordinator a login (module docstring)."""
    create_local_secret(settings)
    last = today or clock.today()
    days = [last - timedelta(days=offset) for offset in range(DEMO_DAYS, -1, -1)]
    ran = 0
    for day in days:
        if not is_working_day(day):
            continue
        ran += 1
        for name in DEMO_CYCLES:
            run_cycle(engine, CYCLES[name].run, "2080", day)
    with transaction(engine) as session:
        municipality = find_municipality(session, "2080")
        if municipality is None:
            raise LookupError("Falun (2080) finns inte: importera exempelkatalogen först.")
        kinds = [MessageKind.DIGEST, MessageKind.ESCALATION]
        base = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.municipality_id == municipality.id, col(OutboxMessage.kind).in_(kinds))
        )
        messages = int(session.exec(base).one())
        linked = int(session.exec(base.where(col(OutboxMessage.body_text).contains("/svar/"))).one())
        coordinator = bra_coordinator(session, municipality.id or 0)
        if coordinator is None or coordinator.id is None:
            raise LookupError("Falun har ingen BRÅ-samordnare i katalogen.")
        password = None
        if account_of(session, coordinator.id) is None:
            password = secrets.token_urlsafe(12)
            set_password(session, municipality, coordinator.email, password, clock.now())
        email = coordinator.email
        rhythm = rhythm_from_json(municipality.rhythm)
        last_2025 = max((n for n in range(1, 60) if meeting_date(rhythm, n).year == DEMO_EST_YEAR), default=1)
    login_file = settings.data_dir / "demo" / LOGIN_FILE
    if password is not None:
        login_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(login_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(f"{settings.base_url.rstrip('/')}/logga-in\n{email}\n{password}\n")
    return WebDemo(ran, messages, linked, email, password, str(login_file), settings.base_url, last_2025)
