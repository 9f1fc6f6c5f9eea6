"""``samordna est``: incidents, the fortnightly lägesbild, the agenda and the decisions of the EST meeting."""

from __future__ import annotations

import json
import sys
from datetime import date, time
from pathlib import Path

import click
import pendulum
from sqlmodel import Session, col, select

from importers.incidents import parse_time, read_incident_list, read_police_events
from models.db import transaction
from models.directory import Person
from models.est import PersistingProblem
from models.incident import IncidentInput, IncidentSource, content_key, store_incidents, validate_incident
from models.municipality import Municipality
from models.rhythm import rhythm_from_json
from samordna.cli_common import KOMMUN_OPTION, UserError, engine_of, municipality_of, settings_of
from samordna.clicksv import SwedishGroup
from samordna.settings import TIMEZONE
from samordna.text import render


def _today() -> date:
    return pendulum.now(TIMEZONE).date()


def _date(value: str | None, option: str, default: date | None = None) -> date:
    if not value:
        if default is None:
            raise UserError(f"{option} saknas (skriv ÅÅÅÅ-MM-DD).")
        return default
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f'{option}: "{value}" är inget datum (skriv ÅÅÅÅ-MM-DD).') from None


def _cycle_number(municipality: Municipality, cykel: int | None, as_of: date | None = None) -> int:
    from flows.est import cycle_number_at  # noqa: PLC0415 - flows import Prefect: only when a command needs it

    if cykel is not None:
        if cykel < 1:
            raise UserError("--cykel numreras från 1.")
        return cykel
    return cycle_number_at(rhythm_from_json(municipality.rhythm), as_of or _today())


@click.group(cls=SwedishGroup)
def est() -> None:
    """EST: händelser, lägesbild var 14:e dag, dagordning, beslut och eskalering."""


def register(cli: click.Group) -> None:
    """Add the EST commands to the top-level group."""
    cli.add_command(est)


# ---------------------------------------------------------------------------------------------------
# rapportera


def _interactive() -> bool:
    return sys.stdin.isatty()


def _ask(value: str | None, prompt: str, *, default: str | None = None, required: bool = True) -> str:
    if value is not None:
        return value
    if _interactive():
        answer: str = click.prompt(
            prompt, default=default if default is not None else "", show_default=bool(default)
        )
        return answer
    if required and default is None:
        raise UserError(f"{prompt} saknas: ange det med flaggan, eller kör kommandot i en terminal.")
    return default or ""


@est.command("rapportera")
@click.option("--datum", metavar="DATUM", help="När det hände (ÅÅÅÅ-MM-DD). Standard: i dag.")
@click.option("--tid", metavar="TID", help="Klockslag (21:30) eller del av dygnet: natt, morgon, dag, kväll.")
@click.option("--omrade", "omrade", metavar="OMRÅDE", help="Området, ett av kommunens områden.")
@click.option("--plats", metavar="PLATS", help="Platsen i området (t.ex. busshållplatsen).")
@click.option("--kategori", metavar="KATEGORI", help="Kategori (nyckel eller namn), t.ex. klotter.")
@click.option("--organisation", metavar="ORG", help="Rapporterande organisation.")
@click.option("--roll", metavar="ROLL", help="Rapportörens roll (t.ex. bovärd), inget namn.")
@click.option("--allvarlighet", type=click.IntRange(1, 3), help="Bedömd allvarlighet 1–3.")
@click.option("--polisanmald/--ej-polisanmald", "polisanmald", default=None, help="Anmäld till polisen?")
@click.option("--beskrivning", metavar="TEXT", help="Kort beskrivning (högst 500 tecken), utan namn.")
@KOMMUN_OPTION
@click.pass_context
def report(
    ctx: click.Context,
    datum: str | None,
    tid: str | None,
    omrade: str | None,
    plats: str | None,
    kategori: str | None,
    organisation: str | None,
    roll: str | None,
    allvarlighet: int | None,
    polisanmald: bool | None,  # noqa: FBT001 - click passes flags by name
    beskrivning: str | None,
    kommun: str | None,
) -> None:
    """Rapportera en händelse (frågar efter det som saknas när du kör i en terminal)."""
    engine = engine_of(ctx)
    with transaction(engine) as session:
        municipality = municipality_of(session, ctx, kommun)
        rhythm = rhythm_from_json(municipality.rhythm)
        if kategori is None and _interactive():
            click.echo("Kategorier: " + ", ".join(f"{c.key} ({c.name})" for c in rhythm.est.categories))
        if omrade is None and _interactive() and rhythm.est.areas:
            click.echo("Områden: " + ", ".join(area.name for area in rhythm.est.areas))
        occurred = _date(_ask(datum, "Datum", default=_today().isoformat()), "--datum")
        when = _ask(tid, "Tid eller del av dygnet", default="", required=False)
        category = _ask(kategori, "Kategori")
        clock, part = _clock(when)
        given = IncidentInput(
            occurred_on=occurred,
            category=category,
            area=_ask(omrade, "Område", default="", required=False),
            place=_ask(plats, "Plats", default="", required=False),
            organisation=_ask(organisation, "Organisation", default="", required=False),
            reporter_role=_ask(roll, "Din roll", default="", required=False),
            severity=_severity(allvarlighet),
            reported_to_police=_reported(polisanmald),
            description=_ask(beskrivning, "Kort beskrivning", default="", required=False),
            occurred_time=clock,
            part_of_day=part,
        )
        key = content_key(municipality.id or 0, IncidentSource.ACTOR, given)
        incident, problems = validate_incident(
            municipality.id or 0, given, rhythm, source=IncidentSource.ACTOR, key=key
        )
        if incident is None:
            raise UserError(
                "Händelsen sparades inte.\n" + "\n".join(f"- {p.field}: {p.message}" for p in problems)
            )
        stored = store_incidents(session, [incident])
    click.echo(render("est/rapporterad.txt.j2", incident=incident, stored=stored), nl=False)


def _choose(prompt: str, choices: dict[str, object], default: str) -> object:
    """Ask until one of ``choices`` is typed; the hint is Swedish (click's own would be English)."""
    while True:
        answer = str(click.prompt(prompt, default=default)).strip().casefold()
        if answer in choices:
            return choices[answer]
        click.echo(f"Svara {' eller '.join(choices)}.")


def _severity(given: int | None) -> int:
    if given is not None or not _interactive():
        return given or 1
    return int(str(_choose("Allvarlighet 1, 2 eller 3", {"1": 1, "2": 2, "3": 3}, "1")))


def _reported(given: bool | None) -> bool:  # noqa: FBT001 - the flag's value as given
    if given is not None or not _interactive():
        return bool(given)
    return bool(_choose("Polisanmäld? (ja/nej)", {"ja": True, "nej": False}, "nej"))


def _clock(text: str) -> tuple[time | None, str]:
    """A clock time, or else a part of the day as written."""
    if not text.strip():
        return None, ""
    try:
        clock = parse_time(text)
    except ValueError:
        raise UserError(
            f'--tid: "{text}" är ingen tid (skriv t.ex. 21:30, eller natt/morgon/dag/kväll).'
        ) from None
    return (clock, "") if clock is not None else (None, text)


# ---------------------------------------------------------------------------------------------------
# import


@est.command("import")
@click.argument("path", metavar="FIL", type=click.Path(path_type=Path))
@click.option(
    "--organisation", default="", help="Organisationen som listan kommer från, om den saknar kolumn."
)
@click.option("--dry-run", is_flag=True, help="Kontrollera filen utan att spara något.")
@KOMMUN_OPTION
@click.pass_context
def import_incidents(
    ctx: click.Context,
    path: Path,
    organisation: str,
    dry_run: bool,  # noqa: FBT001 - click passes flags by name
    kommun: str | None,
) -> None:
    """Importera händelser: en aktörs lista (CSV/XLSX) eller Polisens händelser (JSON)."""
    engine = engine_of(ctx)
    with transaction(engine) as session:
        municipality = municipality_of(session, ctx, kommun)
        rhythm = rhythm_from_json(municipality.rhythm)
        police = path.suffix.casefold() == ".json"
        if police:
            result = read_police_events(path, municipality.id or 0, municipality.name, rhythm)
        else:
            result = read_incident_list(path, municipality.id or 0, rhythm, organisation=organisation)
        stored = 0 if dry_run else store_incidents(session, result.incidents)
        if dry_run:
            session.rollback()
    click.echo(
        render(
            "est/import.txt.j2",
            path=path,
            police=police,
            result=result,
            stored=stored,
            dry_run=dry_run,
            skipped=sorted(result.skipped_reasons.items()),
        ),
        nl=False,
    )


# ---------------------------------------------------------------------------------------------------
# lagesbild, dagordning, protokoll


CYKEL_OPTION = click.option(
    "--cykel", type=int, metavar="N", help="EST-mötets nummer. Standard: nästa möte från i dag."
)


@est.command("lagesbild")
@CYKEL_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@KOMMUN_OPTION
@click.pass_context
def situation(ctx: click.Context, cykel: int | None, fmt: str, kommun: str | None) -> None:
    """Visa EST-lägesbilden för en period (antal, förändring, brännpunkter, ihållande problem)."""
    from flows.est_agenda import compile_agenda, render_situation_text  # noqa: PLC0415 - flows import Prefect

    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        agenda = compile_agenda(session, municipality, _cycle_number(municipality, cykel))
    if fmt == "json":
        s = agenda.situation
        data = {
            "period": s.period.label,
            "från": s.period.start.isoformat(),
            "till": s.period.end.isoformat(),
            "totalt": s.total,
            "förra_perioden": s.total_previous,
            "samma_period_i_fjol": s.total_year_ago,
            "per_kategori": s.by_category,
            "per_område": s.by_area,
            "område_kategori": [
                {"område": a, "kategori": c, "antal": n} for (a, c), n in sorted(s.counts.items())
            ],
            "hot_spots": [
                {"område": h.area, "kategori": h.category, "antal": h.count, "förra": h.previous}
                for h in s.hot_spots
            ],
            "ihållande": [
                {
                    "område": f.area,
                    "kategori": f.category,
                    "perioder": [{"period": f"EST-{p.number}", "antal": p.count} for p in f.streak],
                    "till": [forum.value for forum in f.forums],
                }
                for f in s.persisting
            ],
            "öppna_insatser": len(s.interventions),
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(render_situation_text(agenda), nl=False)


def _document(
    ctx: click.Context, kind: str, cykel: int | None, fmt: str, out: Path | None, kommun: str | None
) -> None:
    from documents.office import OfficeUnavailableError  # noqa: PLC0415 - beside its use
    from flows.est_agenda import compile_agenda, render_format  # noqa: PLC0415 - flows import Prefect

    if out is None and fmt in {"docx", "pdf"}:
        raise UserError(f"{fmt.upper()} skrivs till en fil: ange --ut FIL.")
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        agenda = compile_agenda(session, municipality, _cycle_number(municipality, cykel))
    try:
        content = render_format(agenda, fmt, kind)
    except OfficeUnavailableError as error:
        raise UserError(str(error)) from None
    if out is None:
        click.echo(content.decode(), nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    click.echo(f"Skrev {out}")


@est.command("dagordning")
@CYKEL_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "docx", "pdf", "ics", "text"]),
    default="text",
    show_default=True,
    help="pdf kräver LibreOffice (soffice).",
)
@click.option("--ut", "out", type=click.Path(path_type=Path), help="Skriv till FIL i stället för skärmen.")
@KOMMUN_OPTION
@click.pass_context
def agenda_command(
    ctx: click.Context, cykel: int | None, fmt: str, out: Path | None, kommun: str | None
) -> None:
    """Dagordningen till ett EST-möte: HTML med diagram, DOCX, PDF, kalenderinbjudan (ICS) eller text."""
    _document(ctx, "dagordning", cykel, fmt, out, kommun)


@est.command("protokoll")
@CYKEL_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "docx", "pdf", "text"]),
    default="text",
    show_default=True,
    help="pdf kräver LibreOffice (soffice).",
)
@click.option("--ut", "out", type=click.Path(path_type=Path), help="Skriv till FIL i stället för skärmen.")
@KOMMUN_OPTION
@click.pass_context
def protocol_command(
    ctx: click.Context, cykel: int | None, fmt: str, out: Path | None, kommun: str | None
) -> None:
    """Protokollet från ett EST-möte: närvaro, lägesbild, beslutade och öppna insatser, det som lyfts."""
    _document(ctx, "protokoll", cykel, fmt, out, kommun)


# ---------------------------------------------------------------------------------------------------
# beslut


def _person(session: Session, municipality_id: int, text: str, option: str = "--ansvarig") -> Person:
    folded = text.strip().casefold()
    people = session.exec(select(Person).where(Person.municipality_id == municipality_id)).all()
    found = [
        p
        for p in people
        if folded in {p.email.casefold(), p.name.casefold(), *(a.casefold() for a in p.aliases)}
    ]
    if len(found) != 1:
        raise UserError(
            f'{option}: hittar {"ingen" if not found else "flera"} person i katalogen som heter "{text}" '
            "(ange namn eller e-postadress)."
        )
    return found[0]


@est.command("beslut")
@CYKEL_OPTION
@click.option("--insats", required=True, metavar="TEXT", help="Vad som ska göras.")
@click.option("--omrade", "omrade", default="", metavar="OMRÅDE", help="Var: området.")
@click.option("--plats", default="", metavar="PLATS", help="Var: platsen i området.")
@click.option("--ansvarig", required=True, metavar="NAMN|E-POST", help="Ansvarig person i katalogen.")
@click.option("--senast", required=True, metavar="DATUM", help="Klart senast (ÅÅÅÅ-MM-DD).")
@KOMMUN_OPTION
@click.pass_context
def decision_command(
    ctx: click.Context,
    cykel: int | None,
    insats: str,
    omrade: str,
    plats: str,
    ansvarig: str,
    senast: str,
    kommun: str | None,
) -> None:
    """Registrera en insats som EST-mötet beslutade: den blir en uppgift med påminnelser."""
    from flows.est_decisions import record_decision  # noqa: PLC0415 - flows import Prefect
    from models.incident import find_area, personal_data_problem  # noqa: PLC0415 - beside its use

    due = _date(senast, "--senast")
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        rhythm = rhythm_from_json(municipality.rhythm)
        for field, text in (("--insats", insats), ("--plats", plats)):
            problem = personal_data_problem(text, field)
            if problem:
                raise UserError(problem)
        area = omrade
        if omrade and rhythm.est.areas:
            found = find_area(omrade, rhythm)
            if found is None:
                raise UserError(f'--omrade: okänt område "{omrade}".')
            area = found
        number = _cycle_number(municipality, cykel)
        person = _person(session, municipality.id or 0, ansvarig)
        intervention, task, created = record_decision(
            session, municipality, number, insats, area, plats, person, due
        )
        click.echo(
            render(
                "est/beslut.txt.j2",
                intervention=intervention,
                task=task,
                created=created,
                person=person,
                number=number,
            ),
            nl=False,
        )


@est.command("narvaro")
@CYKEL_OPTION
@click.option(
    "--narvarande",
    "present",
    multiple=True,
    metavar="NAMN|E-POST",
    help="En person som var närvarande (upprepa flaggan för fler).",
)
@click.option(
    "--franvarande",
    "absent",
    multiple=True,
    metavar="NAMN|E-POST",
    help="En person som var frånvarande; EST-gruppens övriga antecknas frånvarande ändå.",
)
@KOMMUN_OPTION
@click.pass_context
def attendance_command(
    ctx: click.Context,
    cykel: int | None,
    present: tuple[str, ...],
    absent: tuple[str, ...],
    kommun: str | None,
) -> None:
    """Anteckna närvaron vid ett EST-möte: de närvarande; övriga i EST-gruppen som frånvarande."""
    from flows.est_decisions import record_attendance  # noqa: PLC0415 - flows import Prefect

    if not present and not absent:
        raise UserError("Ange minst en --narvarande (eller --franvarande).")
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        number = _cycle_number(municipality, cykel)
        municipality_id = municipality.id or 0
        here = [_person(session, municipality_id, text, "--narvarande") for text in present]
        away = [_person(session, municipality_id, text, "--franvarande") for text in absent]
        both = {person.id for person in here} & {person.id for person in away}
        if both:
            raise UserError("Samma person kan inte vara både närvarande och frånvarande.")
        rows = record_attendance(session, municipality, number, here, away)
        click.echo(render("est/narvaro.txt.j2", number=number, rows=rows), nl=False)


@est.command("insats")
@click.argument("intervention_id", metavar="INSATS", type=int)
@click.option(
    "--status",
    "state",
    required=True,
    type=click.Choice(["genomförd", "avbruten", "öppen"]),
    help="Insatsens nya status.",
)
@click.option("--datum", metavar="DATUM", help="När (ÅÅÅÅ-MM-DD). Standard: i dag.")
@KOMMUN_OPTION
@click.pass_context
def intervention_command(
    ctx: click.Context, intervention_id: int, state: str, datum: str | None, kommun: str | None
) -> None:
    """Markera en insats som genomförd eller avbruten: dess uppgifter stängs vid nästa dagliga kontroll."""
    from flows.est_decisions import close_intervention  # noqa: PLC0415 - flows import Prefect
    from models.est import InterventionState  # noqa: PLC0415 - beside its use

    day = _date(datum, "--datum", _today())
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        found = close_intervention(
            session, municipality.id or 0, intervention_id, InterventionState(state), day
        )
        if found is None:
            raise UserError(f"Insats {intervention_id} finns inte i {municipality.name}.")
        click.echo(render("est/insats.txt.j2", intervention=found), nl=False)


# ---------------------------------------------------------------------------------------------------
# skicka, arenden


@est.command("skicka")
@click.option("--as-of", "as_of", metavar="DATUM", help="Kör som om det vore DATUM. Standard: i dag.")
@KOMMUN_OPTION
@click.pass_context
def send_command(ctx: click.Context, as_of: str | None, kommun: str | None) -> None:
    """Lägg dagordningen i utkorgen till EST-gruppen om det är dags (samma som flödet est-dagordning)."""
    from flows.est_agenda import send_agendas  # noqa: PLC0415 - flows import Prefect

    day = _date(as_of, "--as-of", _today())
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        events = send_agendas(session, municipality, day)
    click.echo(render("est/skickat.txt.j2", events=events, day=day), nl=False)


@est.command("arenden")
@KOMMUN_OPTION
@click.pass_context
def forum_items_command(ctx: click.Context, kommun: str | None) -> None:
    """Ihållande problem som lyfts till BRÅ eller kommunledningen, med historik."""
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        rows = session.exec(
            select(PersistingProblem)
            .where(PersistingProblem.municipality_id == municipality.id)
            .order_by(col(PersistingProblem.opened_on), col(PersistingProblem.id))
        ).all()
        names = {c.key: c.name for c in rhythm_from_json(municipality.rhythm).est.categories}
        click.echo(render("est/arenden.txt.j2", rows=rows, names=names), nl=False)


# ---------------------------------------------------------------------------------------------------
# demo


def demo_section(ctx: click.Context) -> None:
    """The EST part of `samordna demo` (a year of incidents for Falun and the agendas it produces)."""
    from flows.est_demo import run_demo  # noqa: PLC0415 - flows import Prefect

    settings = settings_of(ctx)
    engine = engine_of(ctx)
    summary = run_demo(engine, settings.data_dir / "demo")
    click.echo(render("est/demo.txt.j2", summary=summary), nl=False)


__all__ = ["demo_section", "register"]
