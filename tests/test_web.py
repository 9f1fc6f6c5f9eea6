"""The web app end to end: a real uvicorn server on loopback, real Chromium, a real SMTP server, SQLite and
PostgreSQL.

One server, SMTP server and browser per database kind (module scope): the Falun example with a
coordinator login and a seeded SSPF case. Screenshots of the main pages are kept as test artefacts in
``var/test-artefacts/web/<database>/`` (the folder is printed) so a person can look at them.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as clock_time
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from cryptography.fernet import Fernet
from sqlmodel import Session, col, select

from core import clock
from core.settings import Settings, get_settings
from cycles.daily_sweep import sweep_and_notify
from models.audit import AuditAction, AuditEntry
from models.db import make_engine, transaction
from models.directory import Person, person_by_email
from models.enums import MeasureStatus
from models.incident import Incident
from models.municipality import Municipality, find_municipality
from models.outbox import MessageKind, MessageState, OutboxMessage
from models.plan import ActionPlan, Measure, StatusReport
from models.responsibility import responsible_persons
from models.sspf import ReferralReason, RiskLevel, SspfRole
from models.task import Reminder, Task, TaskKind, TaskState
from models.web import PersonalLink, WebAccount
from models.working_days import is_working_day, next_working_day, previous_working_day
from notifications.delivery import deliver_due
from notifications.personal_links import LinkMaker, personal_links
from services import sspf as sspf_service
from services.accounts import set_password
from services.sspf import Acting, OpenCaseCommand
from tests.conftest import EXAMPLES, REPO, _fresh_postgres, import_falun
from tests.office import chromium
from tests.smtp import SmtpServer, free_port
from web.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SECRET = "provhemlighet-for-webbtesterna-minst-32-tecken"  # noqa: S105 - a test's own value
COORDINATOR = "anna.lindqvist@example.se"
COORDINATOR_PASSWORD = "samordnarens-provlosenord"  # noqa: S105 - a test's own value
SSPF_COORDINATOR = "sara.holm@example.se"
SSPF_PASSWORD = "sspf-samordnarens-losenord"  # noqa: S105 - a test's own value
EST_MEMBER = "jonas.ek@example.se"
YOUTH = "Wilma Testlund"
FALUN_PLAN = "Åtgärdsplan enligt 5 § Lag (2023:196) om kommuners ansvar för brottsförebyggande arbete"
ARTEFACTS = REPO / "var" / "test-artefacts" / "web"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/svar/[A-Za-z0-9_-]{43}")


@dataclass
class Site:
    kind: str
    url: str
    engine: sa.Engine
    settings: Settings
    smtp: SmtpServer
    browser: Browser
    municipality_id: int
    case_code: str
    artefacts: Path

    def shot(self, page: Page, name: str) -> None:
        """Keep a screenshot of the whole page as an artefact."""
        page.screenshot(path=str(self.artefacts / f"{name}.png"), full_page=True)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)

    def municipality(self, session: Session) -> Municipality:
        found = session.get(Municipality, self.municipality_id)
        assert found is not None
        return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def _database(kind: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        path = folder / "falun.db"
        shutil.copyfile(request.getfixturevalue("falun_sqlite_file"), path)
        yield f"sqlite:///{path}"
        return
    for url in _fresh_postgres(request.getfixturevalue("postgres_admin_url")):
        engine = make_engine(url)
        with transaction(engine) as session:
            import_falun(session)
        engine.dispose()
        yield url


def _seed_sspf(engine: sa.Engine, settings: Settings) -> str:
    """Sara Holm an SSPF samordnare with a case; Anna Lindqvist then only BRÅ-samordnare (no SSPF role)."""
    admin = Acting(COORDINATOR, "2080")
    sspf_service.run_audited(
        engine,
        settings,
        admin,
        "roll tilldela",
        "test",
        lambda call: sspf_service.grant_role(call, SSPF_COORDINATOR, SspfRole.COORDINATOR, None),
    )
    born = clock.today().replace(year=clock.today().year - 15, day=1)
    command = OpenCaseCommand("Skolan", ReferralReason.CRIME, RiskLevel.HIGH, name=YOUTH, birth=born)
    case, _ = sspf_service.run_audited(
        engine,
        settings,
        Acting(SSPF_COORDINATOR, "2080"),
        "arende skapa",
        "test",
        lambda call: sspf_service.open_case(call, command),
    )
    with transaction(engine) as session:
        anna = person_by_email(session, case.municipality_id, COORDINATOR)
        assert anna is not None
        anna.roles = [role for role in anna.roles if role != "administratör"]
        session.add(anna)
    return case.code


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(
    request: pytest.FixtureRequest, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    kind = request.param
    folder = tmp_path_factory.mktemp(f"web-{kind}")
    artefacts = ARTEFACTS / kind
    shutil.rmtree(artefacts, ignore_errors=True)
    artefacts.mkdir(parents=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with SmtpServer() as smtp, pytest.MonkeyPatch.context() as patch:
        # The daily sweep reads the link secret and address from the process's settings.
        patch.setenv("SAMORDNA_WEB_SECRET", SECRET)
        patch.setenv("SAMORDNA_BASE_URL", base_url)
        get_settings.cache_clear()
        for url in _database(kind, request, folder):
            settings = Settings(
                database_url=url,
                data_dir=folder / "data",
                web_secret=SECRET,
                base_url=base_url,
                mail_url=f"mailto://127.0.0.1:{smtp.port}?from=samordna@example.se",
                sspf_keys=Fernet.generate_key().decode(),
            )
            engine = make_engine(url)
            case_code = _seed_sspf(engine, settings)
            with transaction(engine) as session:
                municipality = find_municipality(session, "2080")
                assert municipality is not None
                set_password(session, municipality, COORDINATOR, COORDINATOR_PASSWORD, clock.now())
                set_password(session, municipality, SSPF_COORDINATOR, SSPF_PASSWORD, clock.now())
                municipality_id = municipality.id or 0
            server = uvicorn.Server(
                uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning")
            )
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            deadline = time.monotonic() + 30
            while not server.started:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.02)
            try:
                yield Site(
                    kind, base_url, engine, settings, smtp, browser, municipality_id, case_code, artefacts
                )
            finally:
                server.should_exit = True
                thread.join(timeout=30)
                engine.dispose()
                print(f"\nSkärmbilder från webbtesterna ({kind}): {artefacts}")  # noqa: T201 - where to look
    get_settings.cache_clear()


# ---------------------------------------------------------------------------------------------------
# Helpers


def working_day() -> date:
    """Today when it is a working day, else the working day before: the sweeps' day in these tests."""
    today = clock.today()
    return today if is_working_day(today) else previous_working_day(today)


def _ansvarig_and_measure(session: Session, municipality_id: int) -> tuple[Person, Measure]:
    """A measure whose ansvarig is someone other than the coordinator, with that person."""
    found = list(session.exec(select(Measure).where(Measure.municipality_id == municipality_id)))
    people = responsible_persons(session, [m.id or 0 for m in found], municipality_id)
    for measure in found:
        person = people.get(measure.id or 0)
        if person is not None and person.email not in {COORDINATOR, EST_MEMBER, SSPF_COORDINATOR}:
            return person, measure
    raise AssertionError("no measure with its own ansvarig in the Falun example")


def status_task(site: Site, key: str, day: date) -> tuple[int, int, str]:
    """A status task due on ``day`` for a measure with its own ansvarig: (task id, measure id, e-mail)."""
    with transaction(site.engine) as session:
        person, measure = _ansvarig_and_measure(session, site.municipality_id)
        task = Task(
            municipality_id=site.municipality_id,
            kind=TaskKind.STATUS_REPORT,
            subject=f"Statusrapport: {measure.title[:80]}",
            due_date=day,
            idempotency_key=key,
            measure_id=measure.id,
            assignee_person_id=person.id,
            period_label=f"{day.year}H{1 if day.month <= 6 else 2}",
        )
        session.add(task)
        session.flush()
        return task.id or 0, measure.id or 0, person.email


def sweep(site: Site, day: date) -> None:
    with transaction(site.engine) as session:
        sweep_and_notify(session, site.municipality(session), day)


def link_for(site: Site, email: str, *, fresh: bool = False) -> tuple[str, int]:
    """A valid personal link of ``email`` (a new one with ``fresh``) as a path on the test server, and
    the link's id."""
    maker = LinkMaker(SECRET.encode(), site.url, 30)
    with transaction(site.engine) as session:
        person = person_by_email(session, site.municipality_id, email)
        assert person is not None
        assert person.id is not None
        if fresh:
            for link in session.exec(select(PersonalLink).where(PersonalLink.person_id == person.id)):
                link.revoked_at = clock.now()
                session.add(link)
            session.flush()
        url = personal_links(session, maker, site.municipality_id, [person.id], clock.now())[person.id]
        [link] = [
            link
            for link in session.exec(select(PersonalLink).where(PersonalLink.person_id == person.id))
            if link.valid_at(clock.now() + timedelta(days=7))
        ]
    return url.removeprefix(site.url), link.id or 0


def mail_to(site: Site, email: str) -> list[EmailMessage]:
    return [message for message in site.smtp.received() if email in str(message["To"])]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def log_in(page: Page, site: Site, email: str, password: str) -> None:
    page.goto(f"{site.url}/logga-in")
    page.fill("#epost", email)
    page.fill("#losenord", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@contextmanager
def coordinator_client(site: Site) -> Iterator[tuple[httpx.Client, str]]:
    """An httpx client logged in as the coordinator, and its session's CSRF token."""
    with site.client() as client:
        form = client.get("/logga-in")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        answer = client.post(
            "/logga-in", data={"epost": COORDINATOR, "losenord": COORDINATOR_PASSWORD, "csrf": token[1]}
        )
        assert answer.status_code == 303, answer.text
        page = client.get("/samordnare/lankar")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        yield client, csrf[1]


def refused_without_data(response: httpx.Response, *names: str) -> None:
    assert "Länken fungerar inte" in response.text
    for name in names:
        assert name not in response.text


# ---------------------------------------------------------------------------------------------------
# The way back: mail → link → report → dashboard, and the next sweep is quiet


def test_ansvarig_answers_from_the_mailed_link_and_the_next_sweep_is_quiet(site: Site) -> None:
    """A digest delivered by SMTP carries a working link and Reply-To; the answer closes the task."""
    day = working_day()
    task_id, measure_id, email = status_task(site, "test:webb:svar", day)
    sweep(site, day)
    report = deliver_due(site.engine, clock.moment_of(day, clock_time(8, 0)), site.settings)
    assert report.failed == 0
    [mail] = [m for m in mail_to(site, email) if "uppgift" in str(m["Subject"])]
    assert str(mail["Reply-To"]) == COORDINATOR
    html = html_of(mail)
    assert "samordna status" not in html
    assert f'BRÅ-samordnaren Anna Lindqvist, <a href="mailto:{COORDINATOR}">' in html
    link = LINK.search(html)
    assert link is not None
    _answer_on_the_page(site, link[0], task_id)
    with Session(site.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        assert task.state == TaskState.DONE
        [saved] = session.exec(select(StatusReport).where(StatusReport.measure_id == measure_id)).all()
        assert (saved.status, saved.progress_percent, saved.source) == (MeasureStatus.ONGOING, 40, "webb")
    _coordinator_sees_it(site, measure_id)
    # The next working day's sweep sends nothing about it.
    following = next_working_day(day + timedelta(days=1))
    sweep(site, following)
    with Session(site.engine) as session:
        reminders = session.exec(select(Reminder).where(Reminder.task_id == task_id)).all()
        assert [r.remind_on for r in reminders] == [day]
        person = person_by_email(session, site.municipality_id, email)
        assert person is not None
        later = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.recipient_person_id == person.id,
                OutboxMessage.kind == MessageKind.DIGEST,
                col(OutboxMessage.created_at) > clock.moment_of(day, clock_time(12, 0)),
            )
        ).all()
        assert later == []


def _answer_on_the_page(site: Site, link: str, task_id: int) -> None:
    page = site.browser.new_page(locale="sv-SE", viewport={"width": 1100, "height": 900})
    page.goto(link)
    assert page.locator("h1").inner_text().startswith("Hej ")
    site.shot(page, "ansvarig")
    form = page.locator(f"form[action$='/status/{task_id}']")
    form.locator("label", has_text="pågående").click()
    form.locator("input[name=framsteg]").fill("40")
    form.locator("textarea[name=kommentar]").fill("Två trygghetsvandringar gjorda, en till i vår.")
    form.locator("textarea[name=nasta_steg]").fill("Vandring i Bojsenburg i mars.")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Statusrapporten är sparad" in page.locator(".meddelande").inner_text()
    site.shot(page, "ansvarig-sparad")
    page.close()


def _coordinator_sees_it(site: Site, measure_id: int) -> None:
    page = site.browser.new_page(locale="sv-SE", viewport={"width": 1280, "height": 900})
    log_in(page, site, COORDINATOR, COORDINATOR_PASSWORD)
    assert page.url.endswith("/samordnare")
    assert "pågående" in page.locator(f"tr:has(a[href='/samordnare/atgard/{measure_id}'])").inner_text()
    site.shot(page, "oversikt")
    page.goto(f"{site.url}/samordnare/atgard/{measure_id}")
    history = page.locator("table").first.inner_text()
    assert "pågående" in history
    assert "Två trygghetsvandringar gjorda" in history
    site.shot(page, "atgard")
    page.close()


def test_altered_expired_and_revoked_links_open_nothing(site: Site) -> None:
    """Every link that is not the person's valid one gives the Swedish refusal page and no data."""
    path, link_id = link_for(site, EST_MEMBER, fresh=True)
    with site.client() as client:
        ok = client.get(path)
        assert ok.status_code == 200
        assert "Jonas Ek" in ok.text
        token = path.rsplit("/", 1)[1]
        altered = token[:-1] + ("A" if token[-1] != "A" else "B")
        for wrong in (f"/svar/{altered}", f"/svar/{token[:20]}", "/svar/" + "x" * 43):
            refused = client.get(wrong)
            assert refused.status_code == 404
            refused_without_data(refused, "Jonas Ek", "Mina uppgifter")
    # Expired: the link's own expiry is signed, so an expired link is re-signed here as if issued
    # 31 days ago (moving expires_at alone would break the signature and give 404).
    expired_path, _ = link_for(site, EST_MEMBER, fresh=True)
    with transaction(site.engine) as session:
        person = person_by_email(session, site.municipality_id, EST_MEMBER)
        assert person is not None
        assert person.id is not None
        for link in session.exec(select(PersonalLink).where(PersonalLink.person_id == person.id)):
            link.revoked_at = clock.now()
            session.add(link)
        session.flush()
        old = clock.now() - timedelta(days=31)
        expired_path = personal_links(
            session, LinkMaker(SECRET.encode(), site.url, 30), site.municipality_id, [person.id], old
        )[person.id].removeprefix(site.url)
    with site.client() as client:
        expired = client.get(expired_path)
        assert expired.status_code == 403
        refused_without_data(expired, "Jonas Ek")
    path, link_id = link_for(site, EST_MEMBER)
    with site.client() as client:
        assert client.get(path).status_code == 200
        with coordinator_client(site) as (coordinator, csrf):
            revoked = coordinator.post(f"/samordnare/lankar/{link_id}/aterkalla", data={"csrf": csrf})
            assert revoked.status_code == 303
        after = client.get(path)
        assert after.status_code == 403
        refused_without_data(after, "Jonas Ek")
    page = site.browser.new_page(locale="sv-SE", viewport={"width": 1100, "height": 700})
    page.goto(f"{site.url}{path}")
    site.shot(page, "lank-nekad")
    page.close()


def test_a_link_row_pointed_at_another_person_opens_nothing(site: Site) -> None:
    """The token signs the person: a row edited to point at someone else no longer matches its token."""
    path, link_id = link_for(site, EST_MEMBER, fresh=True)
    with transaction(site.engine) as session:
        other = person_by_email(session, site.municipality_id, "sofia.engstrom@example.se")
        assert other is not None
        session.execute(
            sa.update(PersonalLink).where(col(PersonalLink.id) == link_id).values(person_id=other.id)
        )
    with site.client() as client:
        response = client.get(path)
    assert response.status_code == 404
    refused_without_data(response, "Sofia Engström", "Jonas Ek")


def test_form_posts_without_their_csrf_token_are_refused(site: Site) -> None:
    """A post without (or with a wrong) CSRF token is refused with 403 and changes nothing."""
    day = working_day()
    task_id, _, email = status_task(site, "test:webb:csrf", day)
    path, link_id = link_for(site, email)
    with site.client() as client:
        for data in ({"status": "genomförd"}, {"status": "genomförd", "csrf": "fel"}):
            answer = client.post(f"{path}/status/{task_id}", data=data)
            assert answer.status_code == 403
            assert "Formuläret kunde inte skickas" in answer.text
        assert (
            client.post(
                "/logga-in", data={"epost": COORDINATOR, "losenord": COORDINATOR_PASSWORD}
            ).status_code
            == 403
        )
    with coordinator_client(site) as (coordinator, csrf):
        assert coordinator.post(f"/samordnare/lankar/{link_id}/aterkalla", data={}).status_code == 403
        assert (
            coordinator.post(f"/samordnare/lankar/{link_id}/aterkalla", data={"csrf": csrf[:-1]}).status_code
            == 403
        )
    with Session(site.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        assert task.state == TaskState.OPEN
        link = session.get(PersonalLink, link_id)
        assert link is not None
        assert link.revoked_at is None
    # Put the task out of the way of the other tests.
    with transaction(site.engine) as session:
        session.execute(sa.update(Task).where(col(Task.id) == task_id).values(state=TaskState.CANCELLED))


def test_five_wrong_passwords_lock_the_account(site: Site) -> None:
    """Five wrong passwords in a row lock the account: then even the right one is refused."""
    email = "karin.dahl@example.se"  # kommunledning: give her the dashboard role for this test
    with transaction(site.engine) as session:
        karin = person_by_email(session, site.municipality_id, email)
        assert karin is not None
        karin.roles = [*karin.roles, "bra_samordnare"]
        session.add(karin)
        session.flush()
        set_password(session, site.municipality(session), email, "kommundirektorens-losenord", clock.now())
    with site.client() as client:
        for attempt in range(1, 6):
            form = client.get("/logga-in")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            answer = client.post(
                "/logga-in", data={"epost": email, "losenord": f"fel-{attempt}", "csrf": csrf[1]}
            )
            assert answer.status_code == 401
            assert "Fel e-postadress eller lösenord." in answer.text  # locked or not: the same words
        form = client.get("/logga-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        right = client.post(
            "/logga-in", data={"epost": email, "losenord": "kommundirektorens-losenord", "csrf": csrf[1]}
        )
        assert right.status_code == 401
        assert "spärras inloggningen i 15 minuter" in right.text
        assert "samordna_sessio" not in right.headers.get("set-cookie", "")
    with Session(site.engine) as session:
        karin = person_by_email(session, site.municipality_id, email)
        assert karin is not None
        account = session.get(WebAccount, karin.id)
        assert account is not None
        assert account.locked_until is not None
        assert account.locked_until > clock.now() + timedelta(minutes=14)


def test_a_coordinator_without_an_sspf_role_opens_no_case_and_the_refusal_is_logged(site: Site) -> None:
    """The BRÅ-samordnare gets 403 and no personal data on a case page; the refusal is in the audit log."""
    page = site.browser.new_page(locale="sv-SE", viewport={"width": 1100, "height": 800})
    log_in(page, site, COORDINATOR, COORDINATOR_PASSWORD)
    response = page.goto(f"{site.url}/sspf/arende/{site.case_code}")
    assert response is not None
    assert response.status == 403
    body = page.content()
    assert "Åtkomst nekad" in body
    assert YOUTH not in body
    assert "Testlund" not in body
    assert "SSPF" not in page.locator("nav").inner_text()
    site.shot(page, "sspf-nekad")
    page.close()
    with Session(site.engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.actor == COORDINATOR)).all()
    denied = [e for e in entries if e.action == AuditAction.DENIED and e.case_code == site.case_code]
    assert len(denied) == 1
    assert denied[0].command == "webb arende visa"
    assert [e for e in entries if e.action == AuditAction.READ] == []
    # Its samordnare reads it, and that read is logged too.
    page = site.browser.new_page(locale="sv-SE", viewport={"width": 1100, "height": 800})
    log_in(page, site, SSPF_COORDINATOR, SSPF_PASSWORD)
    page.goto(f"{site.url}/sspf/arende/{site.case_code}")
    assert YOUTH in page.content()
    site.shot(page, "sspf-arende")
    page.close()
    with Session(site.engine) as session:
        reads = session.exec(
            select(AuditEntry).where(
                AuditEntry.actor == SSPF_COORDINATOR,
                AuditEntry.action == AuditAction.READ,
                AuditEntry.case_code == site.case_code,
            )
        ).all()
    assert len(reads) >= 1


def test_the_incident_form_works_on_a_phone(site: Site) -> None:
    """At 375 px the EST form fits the screen, refuses a name inline, and stores the incident."""
    path, _ = link_for(site, EST_MEMBER, fresh=True)
    context = site.browser.new_context(
        locale="sv-SE", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    started = time.monotonic()
    page.goto(f"{site.url}{path}")
    page.click("text=Rapportera en händelse till EST")
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.input_value("#datum") == clock.today().isoformat()
    site.shot(page, "handelse-375")
    page.click("label:has-text('Bojsenburg')")
    page.click("label:has-text('Klotter')")
    page.fill("#plats", "busshållplatsen")
    page.fill("#beskrivning", "Johan Svensson och Lisa Berg sprayade på väggen")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    problem = page.locator("#fel-beskrivning").inner_text()
    assert "namn" in problem.casefold()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    site.shot(page, "handelse-375-nekad")
    page.fill("#beskrivning", "Nytt klotter på väggen vid hållplatsen.")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "Händelsen är rapporterad" in page.locator(".meddelande").inner_text()
    assert time.monotonic() - started < 60
    site.shot(page, "handelse-375-sparad")
    context.close()
    with Session(site.engine) as session:
        stored = session.exec(
            select(Incident).where(Incident.description == "Nytt klotter på väggen vid hållplatsen.")
        ).all()
    assert [(i.area, i.category, i.organisation) for i in stored] == [("Bojsenburg", "klotter", "Polisen")]


def test_outbox_resend_est_and_reports_pages(site: Site) -> None:
    """The coordinator resends a failed message and opens the EST agenda, reports and import pages."""
    with transaction(site.engine) as session:
        jonas = person_by_email(session, site.municipality_id, EST_MEMBER)
        assert jonas is not None
        message = OutboxMessage(
            municipality_id=site.municipality_id,
            dedupe_key="test:webb:misslyckat",
            kind=MessageKind.DIGEST,
            recipient_person_id=jonas.id,
            subject="Samordna: 1 uppgift att göra",
            body_text="Hej Jonas Ek",
            state=MessageState.FAILED,
            attempts=5,
            last_error="mailto://127.0.0.1/jonas.ek@example.se: mottagaren tog inte emot meddelandet",
        )
        session.add(message)
        session.flush()
        message_id = message.id
    page = site.browser.new_page(locale="sv-SE", viewport={"width": 1280, "height": 900})
    log_in(page, site, COORDINATOR, COORDINATOR_PASSWORD)
    page.goto(f"{site.url}/samordnare/utkorg")
    site.shot(page, "utkorg")
    page.click(f"button[aria-label='Skicka om meddelande {message_id}']")
    page.wait_for_load_state()
    assert "ligger i kön igen" in page.locator(".meddelande").inner_text()
    with Session(site.engine) as session:
        again = session.get(OutboxMessage, message_id)
        assert again is not None
        assert again.state == MessageState.PENDING
    page.goto(f"{site.url}/samordnare/est")
    assert "Dagordningen" in page.content()
    site.shot(page, "est")
    with page.expect_download() as download:
        page.click("text=Ladda ned (Word)")
    assert download.value.suggested_filename.endswith(".docx")
    page.goto(f"{site.url}/samordnare/lankar")
    assert "Personliga länkar" in page.content()
    site.shot(page, "lankar")
    page.goto(f"{site.url}/samordnare/rapporter")
    assert page.locator("img.bild").evaluate("image => image.naturalWidth") > 0
    site.shot(page, "rapporter")
    # The plan import shows the command line's own dry-run summary, and writes nothing.
    page.goto(f"{site.url}/samordnare/import")
    page.set_input_files("#fil", str(EXAMPLES / "stadsdel-atgardsplan-2025.xlsx"))
    page.click("text=Förhandsgranska")
    page.wait_for_load_state()
    preview = page.locator("pre").inner_text()
    assert preview.startswith("Provkörning (--dry-run): inget sparades.")
    assert "Fil:       stadsdel-atgardsplan-2025.xlsx" in preview
    site.shot(page, "import")
    page.close()
    with Session(site.engine) as session:
        assert [plan.title for plan in session.exec(select(ActionPlan))] == [FALUN_PLAN]
