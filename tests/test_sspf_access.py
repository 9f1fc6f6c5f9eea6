"""The access matrix: every `samordna sspf` command run by every role, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import click
import sqlalchemy as sa

from samordna.cli import cli as root
from tests.conftest import Cli
from tests.sspf_support import (
    ADMIN,
    BRA,
    COORDINATOR,
    OTHER_COORDINATOR,
    POLICE,
    SCHOOL,
    as_user,
    audit_rows,
    grant_roles,
    import_directory,
    keys,  # noqa: F401 - fixture
    secrets_of,
    seed_case,
)

USERS = {
    "ingen roll (kommunledning)": BRA,
    "BRÅ-samordnare och administratör": ADMIN,
    "operativ, Skolan, utanför teamet": SCHOOL,
    "annan SSPF-samordnare": OTHER_COORDINATOR,
    "operativ, Polisen, i teamet": POLICE,
    "ärendets SSPF-samordnare": COORDINATOR,  # last: its changes come after the others were refused
}
READS = {
    ("arende", "visa"),
    ("arende", "lista"),
    ("samtycke", "lista"),
    ("faktor", "lista"),
    ("atgard", "lista"),
    ("mote", "lista"),
    ("team", "lista"),
}
EVERYONE = set(USERS.values())
ADMINS = {ADMIN}
TEAM = {COORDINATOR, POLICE}
OWN = {COORDINATOR}


def _matrix(code: str, today: str) -> list[tuple[tuple[str, ...], tuple[str, ...], set[str]]]:
    """(command, its arguments, who may run it), in an order where changes come after reads."""
    later = date.fromisoformat(today).replace(year=date.fromisoformat(today).year + 1).isoformat()
    return [
        (("faktor", "katalog"), (), EVERYONE),
        (("nyckel", "ny"), (), EVERYONE),
        (("arende", "lista"), (), {COORDINATOR, OTHER_COORDINATOR, POLICE, SCHOOL}),
        (("arende", "visa"), (code,), TEAM),
        (("samtycke", "lista"), (code,), TEAM),
        (("faktor", "lista"), (code,), TEAM),
        (("atgard", "lista"), (code,), TEAM),
        (("mote", "lista"), (code,), TEAM),
        (("team", "lista"), (code,), TEAM),
        (("faktor", "bedom"), (code, "--faktor", "SU3", "--niva", "2", "--datum", "@dag"), TEAM),
        (("atgard", "klar"), ("1",), {COORDINATOR, POLICE}),
        (
            ("atgard", "skapa"),
            (code, "--aktor", "polis", "--agare", POLICE, "--text", "Hembesök", "--senast", later),
            OWN,
        ),
        (("mote", "registrera"), (code, "--datum", today, "--beslut", "Fortsatt plan"), OWN),
        (("utlamna",), (code, "--organisation", "Polisen"), OWN),
        (
            ("samtycke", "registrera"),
            (
                code,
                "--undertecknare",
                "ung",
                "--undertecknare",
                "vårdnadshavare_1",
                "--undertecknare",
                "vårdnadshavare_2",
                "--organisation",
                "Polisen",
                "--syfte",
                "SSPF",
                "--omprovas",
                later,
            ),
            OWN,
        ),
        (("team", "lagg-till"), (code, "--person", SCHOOL, "--organisation", "Skolan"), OWN),
        (
            ("arende", "skapa"),
            ("--hanvisare", "Skolan", "--orsak", "brott", "--risk", "låg", "--fodelsedatum", "2012-01-01"),
            {COORDINATOR, OTHER_COORDINATOR},
        ),
        (("roll", "lista"), (), ADMINS),
        (
            ("roll", "tilldela"),
            ("--person", SCHOOL, "--roll", "operativ", "--organisation", "Skolan"),
            ADMINS,
        ),
        (("logg",), ("--fran", "2000-01-01", "--till", "2099-12-31"), ADMINS),
        (("nyckel", "rotera"), (), ADMINS),
        (("kor",), ("--utan-prefect",), {ADMIN, COORDINATOR, OTHER_COORDINATOR}),
        (("team", "ta-bort"), (code, "--person", SCHOOL), OWN),
        (("samtycke", "aterkalla"), ("2",), OWN),
        (("arende", "stang"), (code, "--orsak", "mal_uppnatt"), OWN),
        (("roll", "aterkalla"), ("--person", OTHER_COORDINATOR, "--roll", "samordnare"), ADMINS),
    ]


def _sspf_commands() -> set[tuple[str, ...]]:
    group = root.get_command(click.Context(root), "sspf")  # imported on first use, as the CLI does
    assert isinstance(group, click.Group)
    found: set[tuple[str, ...]] = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update((name, sub) for sub in command.commands)
        else:
            found.add((name,))
    return found


def test_access_matrix(cli: Cli, engine: sa.Engine, keys: str) -> None:  # noqa: F811 - fixture
    """Every sspf command × role: allowed exactly where the role gives the right; 0 reads of case data
    outside a role's rights (no output, no read in the log); every permitted read is in the audit log."""
    del keys
    import_directory(engine)
    grant_roles(cli)
    case = seed_case(cli)
    code, _, err = as_user(
        cli, COORDINATOR, "atgard", "skapa", case.code, "--aktor", "polis", "--agare", POLICE, "--text",
        "Samtal om fritid", "--senast", "2030-01-10",
    )  # fmt: skip
    assert code == 0, err
    today = date.today().isoformat()  # noqa: DTZ011 - the CLI's today
    matrix = _matrix(case.code, today)
    assert {command for command, _, _ in matrix} == _sspf_commands()  # every command is in the matrix
    outcomes: dict[tuple[tuple[str, ...], str], int] = {}
    for command, args, allowed in matrix:
        for user in USERS.values():
            reads_before = len(audit_rows(engine, "läsning"))
            # One assessment per factor and day: each user assesses on a day of their own.
            day = f"2026-01-{list(USERS.values()).index(user) + 1:02d}"
            exit_code, out, err = as_user(cli, user, *command, *(day if a == "@dag" else a for a in args))
            outcomes[(command, user)] = exit_code
            assert (exit_code == 0) == (user in allowed), f"{' '.join(command)} som {user}: {err or out}"
            assert "Traceback" not in err
            if user not in TEAM:
                for secret in secrets_of(case):
                    assert secret not in out + err, f"{' '.join(command)} som {user} visade personuppgifter"
            new_reads = audit_rows(engine, "läsning")[reads_before:]
            if command in READS and exit_code == 0 and command != ("arende", "lista"):
                assert (user, "läsning", " ".join(command), case.code) in new_reads
            if user not in TEAM:
                assert [r for r in new_reads if r[3] == case.code and r[0] == user] == []
    reads = [row for row in audit_rows(engine, "läsning") if row[3] == case.code]
    assert {actor for actor, *_ in reads} <= {*TEAM, "system"}  # "system": the cycle run by `kor`
    denied = audit_rows(engine, "nekad")
    refused_case_commands = sum(
        1
        for (command, user), exit_code in outcomes.items()
        if exit_code != 0 and user != BRA and command not in {("faktor", "katalog"), ("nyckel", "ny")}
    )
    assert len(denied) >= refused_case_commands - len(USERS)  # refusals are logged too
