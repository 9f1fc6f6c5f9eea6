"""``samordna est``: incidents, the fortnightly lägesbild, the agenda and the decisions of the EST meeting."""

from __future__ import annotations

import json
import sys
from datetime import time
from pathlib import Path

import click

from core import clock
from core.templating import render
from importers.incidents import parse_time
from models.db import transaction
from models.est import InterventionState
from models.incident import IncidentInput
from models.rhythm import rhythm_from_json
from samordna.cli_common import KOMMUN_OPTION, UserError, day_option, engine_of, municipality_of, settings_of
from samordna.clicksv import SwedishGroup
from services import est as est_service


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
        occurred = day_option(_ask(datum, "Datum", default=clock.today().isoformat()), "--datum")
        assert occurred is not None  # noqa: S101 - the answer has a default
        when = _ask(tid, "Tid eller del av dygnet", default="", required=False)
        category = _ask(kategori, "Kategori")
        at, part = _clock(when)
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
            occurred_time=at,
            part_of_day=part,
        )
        incident, stored = est_service.report_incident(session, municipality, given)
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
        at = parse_time(text)
    except ValueError:
        raise UserError(
            f'--tid: "{text}" är ingen tid (skriv t.ex. 21:30, eller natt/morgon/dag/kväll).'
        ) from None
    return (at, "") if at is not None else (None, text)


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
        done = est_service.import_incidents(
            session, municipality, path, organisation=organisation, dry_run=dry_run
        )
    click.echo(
        render(
            "est/import.txt.j2",
            path=path,
            police=done.police,
            result=done.result,
            stored=done.stored,
            dry_run=dry_run,
            skipped=sorted(done.result.skipped_reasons.items()),
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
    from reports.est_agenda import compile_agenda, render_situation_text  # noqa: PLC0415 - charts and Word only when asked for

    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        agenda = compile_agenda(session, municipality, est_service.meeting_number(municipality, cykel))
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
    from reports.est_agenda import compile_agenda, render_format  # noqa: PLC0415 - charts and Word only when asked for

    if out is None and fmt in {"docx", "pdf"}:
        raise UserError(f"{fmt.upper()} skrivs till en fil: ange --ut FIL.")
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        agenda = compile_agenda(session, municipality, est_service.meeting_number(municipality, cykel))
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
    command = est_service.DecisionCommand(
        text=insats,
        responsible=ansvarig,
        due=day_option(senast, "--senast") or clock.today(),
        meeting=cykel,
        area=omrade,
        place=plats,
    )
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        outcome = est_service.record_est_decision(session, municipality, command)
        click.echo(
            render(
                "est/beslut.txt.j2",
                intervention=outcome.intervention,
                task=outcome.task,
                created=outcome.created,
                person=outcome.person,
                number=outcome.meeting,
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
    command = est_service.AttendanceCommand(present=present, absent=absent, meeting=cykel)
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        outcome = est_service.record_est_attendance(session, municipality, command)
        click.echo(render("est/narvaro.txt.j2", number=outcome.meeting, rows=outcome.rows), nl=False)


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
    day = day_option(datum, "--datum") or clock.today()
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        found = est_service.set_intervention_state(
            session, municipality, intervention_id, InterventionState(state), day
        )
        click.echo(render("est/insats.txt.j2", intervention=found), nl=False)


# ---------------------------------------------------------------------------------------------------
# skicka, arenden


@est.command("skicka")
@click.option("--as-of", "as_of", metavar="DATUM", help="Kör som om det vore DATUM. Standard: i dag.")
@KOMMUN_OPTION
@click.pass_context
def send_command(ctx: click.Context, as_of: str | None, kommun: str | None) -> None:
    """Lägg dagordningen i utkorgen till EST-gruppen om det är dags (samma som flödet est-dagordning)."""
    from reports.est_agenda import send_agendas  # noqa: PLC0415 - charts and Word only when asked for

    day = day_option(as_of, "--as-of") or clock.today()
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
        rows = est_service.persisting_problems(session, municipality)
        names = {c.key: c.name for c in rhythm_from_json(municipality.rhythm).est.categories}
        click.echo(render("est/arenden.txt.j2", rows=rows, names=names), nl=False)


# ---------------------------------------------------------------------------------------------------
# demo


def demo_section(ctx: click.Context) -> None:
    """The EST part of `samordna demo` (a year of incidents for Falun and the agendas it produces)."""
    from services.demo import run_demo  # noqa: PLC0415 - charts and Word only when asked for

    settings = settings_of(ctx)
    engine = engine_of(ctx)
    summary = run_demo(engine, settings.data_dir / "demo")
    click.echo(render("est/demo.txt.j2", summary=summary), nl=False)


__all__ = ["demo_section", "register"]
