"""The use cases behind the web pages, on SQLite and PostgreSQL: answers from the ansvarig's page, links,
logins, the resend of a message, and the command line that starts the web app and sets passwords."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from core import clock
from core.errors import InvalidInputError, NotFoundError
from core.settings import Settings
from core.web_secret import create_local_secret, link_secret
from cycles.est_decisions import record_decision
from models.db import transaction
from models.directory import Person, person_by_email
from models.enums import MeasureStatus
from models.est import Intervention, InterventionState
from models.indicator import Indicator, IndicatorValue
from models.municipality import Municipality
from models.outbox import MessageKind, MessageState, OutboxMessage
from models.plan import Measure
from models.task import Task, TaskKind, TaskState
from models.web import PersonalLink, WebAccount, WebSession
from notifications.channels import mail_target
from notifications.outbox_admin import requeue_message
from notifications.personal_links import LinkMaker, personal_links
from services.accounts import KEEP_OLD_SESSIONS, WRONG, current_login, log_in, set_password
from services.answers import StatusAnswer, answer_status, complete_task, finish_intervention
from services.links import LinkProblem, LinkRefusedError, open_link, revoke_link
from tests.conftest import REPO, Cli

SECRET = b"en-hemlighet-for-tjanstetesterna-32-tecken-eller-fler"
NOW = clock.moment_of(date(2026, 5, 20))


def _falun(session: Session, falun: int) -> Municipality:
    found = session.get(Municipality, falun)
    assert found is not None
    return found


def _person(session: Session, falun: int, email: str) -> Person:
    found = person_by_email(session, falun, email)
    assert found is not None
    return found


def _task(session: Session, falun: int, person: Person, kind: TaskKind, **values: object) -> Task:
    task = Task(
        municipality_id=falun,
        kind=kind,
        subject=f"Prov: {kind.value}",
        due_date=date(2026, 5, 22),
        idempotency_key=f"prov:{kind.value}:{person.id}:{len(values)}",
        assignee_person_id=person.id,
        **values,
    )
    session.add(task)
    session.flush()
    return task


def test_a_status_answer_closes_the_own_task_and_stores_indicator_values(
    engine: sa.Engine, falun: int
) -> None:
    """The page's report goes through record_status_report; indicator values land in the round's half-year."""
    with transaction(engine) as session:
        municipality = _falun(session, falun)
        erik = _person(session, falun, "erik.nystrom@example.se")
        measure = session.exec(select(Measure).where(Measure.municipality_id == falun)).first()
        assert measure is not None
        indicator = Indicator(
            municipality_id=falun, name="Antal trygghetsvandringar", focus_area_id=measure.focus_area_id
        )
        session.add(indicator)
        task = _task(
            session, falun, erik, TaskKind.STATUS_REPORT, measure_id=measure.id, period_label="2026H1"
        )
        answer = StatusAnswer(
            MeasureStatus.ONGOING,
            comment="Bra",
            progress_percent=30,
            indicator_values={indicator.id or 0: "3,5"},
        )
        outcome = answer_status(session, municipality, erik, task.id or 0, answer, NOW)
        assert [closed.id for closed in outcome.closed_tasks] == [task.id]
        assert outcome.report.reporter_person_id == erik.id
        assert outcome.report.source == "webb"
        with pytest.raises(InvalidInputError, match="redan klar"):
            answer_status(session, municipality, erik, task.id or 0, answer, NOW)
    with Session(engine) as session:
        [value] = session.exec(select(IndicatorValue)).all()
        assert (value.value, value.period_start, value.period_end) == (
            3.5,
            date(2026, 1, 1),
            date(2026, 6, 30),
        )


def test_someone_elses_task_is_refused_and_a_bad_indicator_value_saves_nothing(
    engine: sa.Engine, falun: int
) -> None:
    """A task of another person is not found; a value that is no number refuses the whole report."""
    with transaction(engine) as session:
        municipality = _falun(session, falun)
        erik = _person(session, falun, "erik.nystrom@example.se")
        lena = _person(session, falun, "lena.eriksson@example.se")
        measure = session.exec(select(Measure).where(Measure.municipality_id == falun)).first()
        assert measure is not None
        indicator = Indicator(municipality_id=falun, name="Andel trygga", focus_area_id=measure.focus_area_id)
        session.add(indicator)
        task = _task(session, falun, erik, TaskKind.STATUS_REPORT, measure_id=measure.id)
        task_id, indicator_id = task.id or 0, indicator.id or 0
        with pytest.raises(NotFoundError):
            answer_status(session, municipality, lena, task_id, StatusAnswer(MeasureStatus.ONGOING), NOW)
    answer = StatusAnswer(MeasureStatus.ONGOING, indicator_values={indicator_id: "många"})
    with transaction(engine) as session, pytest.raises(InvalidInputError, match="inget tal"):
        answer_status(session, _falun(session, falun), erik, task_id, answer, NOW)
    with Session(engine) as session:
        reopened = session.get(Task, task_id)
        assert reopened is not None
        assert reopened.state == TaskState.OPEN
        assert session.exec(select(IndicatorValue)).all() == []


def test_an_insats_and_a_lagesbild_step_close_their_tasks_at_once(engine: sa.Engine, falun: int) -> None:
    """Finishing an insats marks it and closes its follow-up task now; a step is marked done."""
    with transaction(engine) as session:
        municipality = _falun(session, falun)
        jonas = _person(session, falun, "jonas.ek@example.se")
        intervention, task, _ = record_decision(
            session, municipality, 5, "Ökad närvaro", "Bojsenburg", "", jonas, date(2026, 6, 1)
        )
        finish_intervention(session, municipality, jonas, task.id or 0, InterventionState.DONE, NOW)
        step = _task(session, falun, jonas, TaskKind.SITUATION_ASSESSMENT_STEP)
        complete_task(session, municipality, jonas, step.id or 0, NOW)
        status = _task(session, falun, jonas, TaskKind.STATUS_REPORT)
        with pytest.raises(NotFoundError):
            complete_task(session, municipality, jonas, status.id or 0, NOW)
        ids = (intervention.id, task.id, step.id)
    with Session(engine) as session:
        done = session.get(Intervention, ids[0])
        assert done is not None
        assert (done.state, done.closed_on) == (InterventionState.DONE, clock.local_day(NOW))
        for task_id in ids[1:]:
            closed = session.get(Task, task_id)
            assert closed is not None
            assert (closed.state, closed.closed_at) == (TaskState.DONE, NOW)


def test_links_open_for_their_person_until_revoked_or_expired(engine: sa.Engine, falun: int) -> None:
    """open_link names the person of a valid link; revoked, expired and foreign tokens are refused."""
    maker = LinkMaker(SECRET, "https://samordna.falun.se", 30)
    with transaction(engine) as session:
        erik = _person(session, falun, "erik.nystrom@example.se")
        url = personal_links(session, maker, falun, [erik.id or 0], NOW)[erik.id or 0]
        token = url.rsplit("/", 1)[1]
        holder = open_link(session, SECRET, token, NOW + timedelta(days=29))
        assert holder.person.id == erik.id
        assert holder.link.last_used_at == NOW + timedelta(days=29)
        for secret, moment, problem in (
            (b"en-annan-hemlighet-som-ar-minst-32-tecken-lang", NOW, LinkProblem.UNKNOWN),
            (SECRET, NOW + timedelta(days=30), LinkProblem.EXPIRED),
        ):
            with pytest.raises(LinkRefusedError) as refused:
                open_link(session, secret, token, moment)
            assert refused.value.problem == problem
        revoke_link(session, _falun(session, falun), holder.link.id or 0, erik.id or 0, NOW)
        with pytest.raises(LinkRefusedError) as refused:
            open_link(session, SECRET, token, NOW)
        assert refused.value.problem == LinkProblem.REVOKED
    with Session(engine) as session:
        stored = " ".join(
            str(value) for row in session.exec(select(PersonalLink)) for value in row.model_dump().values()
        )
    assert token not in stored


def test_passwords_lock_after_five_failures_and_only_roles_get_accounts(
    engine: sa.Engine, falun: int
) -> None:
    """Argon2id hashes; five failures lock; a person without a role gets no account; an unknown address,
    a wrong password and a locked account all get the same answer."""
    with transaction(engine) as session:
        municipality = _falun(session, falun)
        with pytest.raises(InvalidInputError, match="ingen roll"):
            set_password(session, municipality, "erik.nystrom@example.se", "ett-langt-losenord", NOW)
        with pytest.raises(InvalidInputError, match="minst 12"):
            set_password(session, municipality, "anna.lindqvist@example.se", "kort", NOW)
        anna = set_password(session, municipality, "anna.lindqvist@example.se", "ett-langt-losenord", NOW)
        account = session.get(WebAccount, anna.id)
        assert account is not None
        assert account.password_hash.startswith("$argon2id$")
        assert "ett-langt-losenord" not in account.password_hash
        assert log_in(session, "okand@example.se", "x", NOW, hours=8).message == WRONG
        messages = [
            log_in(session, "ANNA.lindqvist@example.se", "fel", NOW, hours=8).message for _ in range(5)
        ]
        assert messages == [WRONG] * 5
        locked = log_in(session, "anna.lindqvist@example.se", "ett-langt-losenord", NOW, hours=8)
        assert locked.cookie_token is None
        assert locked.message == WRONG  # the lock is not told apart from a wrong password
        assert "5 misslyckade försök i rad spärras inloggningen i 15 minuter" in WRONG
        later = NOW + timedelta(minutes=16)
        outcome = log_in(session, "anna.lindqvist@example.se", "ett-langt-losenord", later, hours=8)
        assert outcome.cookie_token is not None
        login = current_login(session, outcome.cookie_token, later)
        assert login is not None
        assert login.coordinator
        assert current_login(session, outcome.cookie_token, later + timedelta(hours=8)) is None


def test_requeue_puts_only_failed_and_unknown_messages_back(engine: sa.Engine, falun: int) -> None:
    """FAILED and UNKNOWN go back to the queue with their attempts; other states are refused."""
    with transaction(engine) as session:
        rows = {
            state: OutboxMessage(
                municipality_id=falun,
                dedupe_key=f"prov:{state.value}",
                kind=MessageKind.OTHER,
                subject="Prov",
                body_text="Prov",
                state=state,
                attempts=5,
                last_error="fel",
            )
            for state in (MessageState.FAILED, MessageState.UNKNOWN, MessageState.SENT)
        }
        session.add_all(rows.values())
        session.flush()
        for state in (MessageState.FAILED, MessageState.UNKNOWN):
            again = requeue_message(session, rows[state].id or 0, NOW)
            assert (again.state, again.attempts, again.next_attempt_at, again.last_error) == (
                MessageState.PENDING,
                5,
                NOW,
                "",
            )
        with pytest.raises(InvalidInputError, match="bara misslyckade"):
            requeue_message(session, rows[MessageState.SENT].id or 0, NOW)
        with pytest.raises(NotFoundError):
            requeue_message(session, 999_999, NOW)


def test_mail_targets_carry_reply_to() -> None:
    """A mail target asks apprise for the Reply-To header; other URLs are left as they were."""
    target = mail_target(
        "mailto://127.0.0.1:25?from=samordna@falun.se", "erik@falun.se", reply_to="anna@falun.se"
    )
    assert "reply=anna@falun.se" in target.url
    assert "reply=" not in mail_target("mailto://127.0.0.1:25?from=a@b.se", "erik@falun.se").url


def test_local_secret_is_made_once_and_a_short_one_is_refused(tmp_path: pytest.TempPathFactory) -> None:
    """The demo's secret file is written once (mode 0600) and reused; a short setting is refused."""
    settings = Settings(data_dir=tmp_path)  # type: ignore[arg-type]
    assert link_secret(settings) is None
    first = create_local_secret(settings)
    assert create_local_secret(settings) == first == link_secret(settings)
    assert (settings.data_dir / "webb-hemlighet").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match="för kort"):
        link_secret(Settings(data_dir=tmp_path, web_secret="kort"))  # type: ignore[arg-type]  # noqa: S106 - too short on purpose


def test_samordna_webb_refuses_to_start_without_a_secret(falun_cli: Cli) -> None:
    """Without SAMORDNA_WEB_SECRET and without --demo the web app does not start: a Swedish message."""
    code, _, err = falun_cli("webb", "--port", "1", env={"SAMORDNA_WEB_SECRET": ""})
    assert code == 1
    assert "Ingen hemlighet för personliga länkar" in err
    assert "samordna webb --demo" in err


def test_samordna_webb_konto_sets_a_password_asked_twice(falun_cli: Cli) -> None:
    """The account command asks twice (hidden) and stores an Argon2id hash for the coordinator."""
    done = subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "samordna"),
            "webb",
            "konto",
            "--epost",
            "anna.lindqvist@example.se",
            "--kommun",
            "2080",
        ],
        input="ett-riktigt-langt-losenord\nett-riktigt-langt-losenord\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "SAMORDNA_DATABASE_URL": falun_cli.url,
            "SAMORDNA_DATA_DIR": str(falun_cli.data_dir),
            "PATH": "/usr/bin:/bin",
        },
    )
    assert done.returncode == 0, done.stderr
    assert "Lösenordet för Anna Lindqvist är satt" in done.stdout
    engine = sa.create_engine(falun_cli.url)
    with Session(engine) as session:
        [account] = session.exec(select(WebAccount)).all()
        assert account.password_hash.startswith("$argon2id$")
    engine.dispose()


@pytest.mark.parametrize(
    ("email", "lines", "message"),
    [
        ("okand@example.se", "", '"okand@example.se" finns inte i katalogen för Falun.'),
        ("anna.lindqvist@example.se", "ett-riktigt-langt-losenord\nett-annat-langt-losenord\n", "inte lika"),
        ("anna.lindqvist@example.se", "kort\nkort\n", "minst 12 tecken"),
    ],
)
def test_samordna_webb_konto_refuses_before_storing(
    falun_cli: Cli, email: str, lines: str, message: str
) -> None:
    """An unknown person is refused before any password is read; two different or too short passwords
    are refused; a Swedish message, exit 1, and no account is stored."""
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "samordna"), "webb", "konto", "--epost", email, "--kommun", "2080"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "SAMORDNA_DATABASE_URL": falun_cli.url,
            "SAMORDNA_DATA_DIR": str(falun_cli.data_dir),
            "PATH": "/usr/bin:/bin",
        },
    )
    assert (done.returncode, message in done.stderr, "Traceback" in done.stderr) == (1, True, False)
    engine = sa.create_engine(falun_cli.url)
    with Session(engine) as session:
        assert session.exec(select(WebAccount)).all() == []
    engine.dispose()


def test_old_sessions_are_deleted_at_the_next_login(engine: sa.Engine, falun: int) -> None:
    """A session that ended or expired more than a week ago is deleted when anyone logs in; a recent
    one, and one still running, are kept."""
    with transaction(engine) as session:
        municipality = _falun(session, falun)
        set_password(session, municipality, "anna.lindqvist@example.se", "ett-langt-losenord", NOW)
        first = log_in(session, "anna.lindqvist@example.se", "ett-langt-losenord", NOW, hours=8)
        assert first.cookie_token is not None
        days = KEEP_OLD_SESSIONS.days
        second = log_in(
            session, "anna.lindqvist@example.se", "ett-langt-losenord", NOW + timedelta(days=1), hours=8
        )
        assert second.cookie_token is not None
        assert len(session.exec(select(WebSession)).all()) == 2  # the first expired a day ago: kept
        third = log_in(
            session,
            "anna.lindqvist@example.se",
            "ett-langt-losenord",
            NOW + timedelta(days=days + 2),
            hours=8,
        )
        assert third.cookie_token is not None
        left = session.exec(select(WebSession)).all()
        assert len(left) == 1  # the first two expired more than a week before the third login
        assert current_login(session, third.cookie_token, NOW + timedelta(days=days + 2)) is not None
