"""``samordna``: a thin command line over the use cases in ``services/``.

Each command parses its options, calls a service in one transaction, and renders what a person reads
from a template. Errors a user can cause end as a Swedish message and a non-zero exit, never as a
traceback; an unexpected error is written to a log file and named as such. Prefect is imported only by
the commands that run flows, after ``configure_prefect`` has set its environment.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import sqlalchemy as sa
from sqlmodel import Session

from core import clock
from core.errors import DomainError
from core.settings import Settings, SettingsError, get_settings, read_settings
from core.templating import render
from flows.prefect_env import configure_prefect
from importers.problems import ImportFailedError
from models import db
from models.municipality import find_municipality, list_municipalities
from models.plan import plans
from models.validation import StoredValueError
from samordna.cli_common import (
    EXAMPLES,
    KOMMUN_OPTION,
    PREFECT_YAML,
    UserError,
    day_option,
    engine_of,
    kommun_or_default,
    municipality_of,
    settings_of,
)
from samordna.clicksv import SwedishGroup, usage_error_message
from services import cycles as cycle_service
from services.municipalities import create_municipality

if TYPE_CHECKING:
    from flows.serving import ServeStart

MAX_SIMULATION_DAYS = 5 * 366


@click.group(cls=SwedishGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Samordna: kommunens brottsförebyggande arbete från lägesbild och åtgärdsplan till uppföljning.

    Inställningar läses från miljövariabler med prefixet SAMORDNA_ (se README).
    """
    if ctx.find_object(Settings) is None:
        ctx.obj = read_settings()  # a refused value: SettingsError, a Swedish message naming the variable


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Skapa databasen eller uppgradera den till senaste schemat."""
    from notifications.health import configuration_errors, configuration_warnings  # noqa: PLC0415 - only here

    settings = settings_of(ctx)
    db.migrate(settings.database_url)
    engine = engine_of(ctx)
    click.echo(f"Databasen är klar (schema {db.current_revision(engine)}): {_safe_url(engine)}")
    for warning in configuration_warnings(settings):
        click.echo(f"Varning: {warning}", err=True)
    if errors := configuration_errors(settings):
        raise UserError(" ".join(errors))
    # An upgrade seals the audit log as it stands (its entries from before the audit key have no MAC).
    from notifications.audit_anchor import publish_anchor  # noqa: PLC0415 - apprise only here

    publish_anchor(engine, settings, clock.now(), force=True)


def _safe_url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@cli.group(cls=SwedishGroup)
def kommun() -> None:
    """Kommuner i databasen."""


@kommun.command("skapa")
@click.option("--namn", required=True, help="Kommunens namn, t.ex. Falun.")
@click.option("--kod", required=True, help="Kommunkod, fyra siffror, t.ex. 2080.")
@click.pass_context
def kommun_create(ctx: click.Context, namn: str, kod: str) -> None:
    """Lägg till en kommun."""
    with db.transaction(engine_of(ctx)) as session:
        created = create_municipality(session, name=namn, code=kod)
    click.echo(f"Kommunen {created.name} ({created.code}) är skapad.")


@kommun.command("lista")
@click.pass_context
def kommun_list(ctx: click.Context) -> None:
    """Visa kommunerna i databasen."""
    with db.transaction(engine_of(ctx)) as session:
        rows = list_municipalities(session)
    if not rows:
        click.echo("Inga kommuner ännu. Skapa en med: samordna kommun skapa --namn NAMN --kod KOD")
    for row in rows:
        click.echo(f"{row.code}  {row.name}")


@cli.group(cls=SwedishGroup)
def katalog() -> None:
    """Katalogen: organisationer, personer och forum som planerna nämner."""


@katalog.command("import")
@click.argument("fil", type=click.Path(path_type=Path))
@KOMMUN_OPTION
@click.pass_context
def katalog_import(ctx: click.Context, fil: Path, kommun: str | None) -> None:
    """Läs in en katalog (YAML) för en kommun; en ny import uppdaterar befintliga poster."""
    from importers.directory_import import import_directory_file  # noqa: PLC0415 - only this command reads YAML

    with db.transaction(engine_of(ctx)) as session:
        counts, municipality = import_directory_file(session, fil, kommun, adopted_on=clock.today())
    click.echo(
        f"Katalogen för {municipality.name} är inläst från {fil.name}: "
        f"{counts.organisations} organisationer, "
        f"{counts.persons} personer, {counts.forums} forum med {counts.meetings} mötesdatum."
    )


@cli.group(cls=SwedishGroup)
def plan() -> None:
    """Åtgärdsplaner: importera, lista och visa."""


@plan.command("import")
@click.argument("fil", type=click.Path(path_type=Path))
@KOMMUN_OPTION
@click.option(
    "--katalog", "katalog_fil", type=click.Path(path_type=Path), help="Läs först in en katalog (YAML)."
)
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar='"KOLUMN=FÄLT"',
    help='Tolka en okänd kolumn, t.ex. "Aktivitet=åtgärd". Kan upprepas.',
)
@click.option("--titel", help="Planens titel (annars bladet Plan, annars filnamnet).")
@click.option("--beslutad-av", help='Vem som beslutade planen, t.ex. "Kommunstyrelsen, § 104".')
@click.option("--beslutsdatum", help="Beslutsdatum, ÅÅÅÅ-MM-DD.")
@click.option("--giltig-fran", help="Gäller från, ÅÅÅÅ-MM-DD.")
@click.option("--revideras-senast", help="Revideras senast, t.ex. 2026-06-17 eller 2026-07.")
@click.option(
    "--uppfoljning", help='Planens uppföljning när raden inte anger någon, t.ex. "BRÅ en gång per halvår".'
)
@click.option(
    "--i-bruk-fran",
    help="Dagen planen tas i bruk i Samordna (standard: i dag). Det som redan var försenat då eskaleras "
    "inte utan listas en gång för BRÅ-samordnaren.",
)
@click.option("--dry-run", is_flag=True, help="Visa vad som skulle importeras utan att spara något.")
@click.option("--ersatt", is_flag=True, help="Ersätt en plan med samma titel (bara om den saknar historik).")
@click.pass_context
def plan_import(
    ctx: click.Context,
    fil: Path,
    kommun: str | None,
    katalog_fil: Path | None,
    mappings: tuple[str, ...],
    titel: str | None,
    beslutad_av: str | None,
    beslutsdatum: str | None,
    giltig_fran: str | None,
    revideras_senast: str | None,
    uppfoljning: str | None,
    i_bruk_fran: str | None,
    dry_run: bool,  # noqa: FBT001 - click passes flags positionally by name
    ersatt: bool,  # noqa: FBT001 - click passes flags positionally by name
) -> None:
    """Importera en åtgärdsplan från XLSX, CSV eller YAML i en enda transaktion."""
    from importers.plan_draft import PlanFacts  # noqa: PLC0415 - the importers only for an import
    from services.plans import PlanImportCommand, import_plan, import_summary  # noqa: PLC0415 - as above

    facts = PlanFacts(
        title=titel or "",
        decided_by=beslutad_av or "",
        decided_on=day_option(beslutsdatum, "--beslutsdatum", pick="start"),
        valid_from=day_option(giltig_fran, "--giltig-fran", pick="start"),
        revision_due=day_option(revideras_senast, "--revideras-senast", pick="end"),
        follow_up=uppfoljning or "",
    )
    command = PlanImportCommand(
        fil,
        kommun=kommun,
        directory_file=katalog_fil,
        mapping_specs=mappings,
        facts=facts,
        replace=ersatt,
        dry_run=dry_run,
        adopted_on=day_option(i_bruk_fran, "--i-bruk-fran"),
    )
    with db.transaction(engine_of(ctx)) as session:
        report = import_plan(session, command)
    click.echo(
        render("cli/plan_import.txt.j2", report=report, dry_run=dry_run, summary=import_summary(report)),
        nl=False,
    )


@plan.command("lagesbild")
@click.option("--datum", required=True, help="Dagen lägesbilden beslutades eller blev klar, ÅÅÅÅ-MM-DD.")
@click.option("--titel", default="", help='Lägesbildens titel (standard "Lägesbild ÅÅÅÅ").')
@click.option("--beslutad-av", default="", help='Vem som beslutade den, t.ex. "Kommunstyrelsen § 12".')
@click.option("--plan", "plan_id", type=int, help="Koppla lägesbilden till planen med detta id.")
@KOMMUN_OPTION
@click.pass_context
def plan_lagesbild(
    ctx: click.Context, datum: str, titel: str, beslutad_av: str, plan_id: int | None, kommun: str | None
) -> None:
    """Registrera lägesbildens datum: nästa lägesbild planeras två år fram från det."""
    from services.plans import record_lagesbild  # noqa: PLC0415 - services.plans loads the importers

    decided_on = day_option(datum, "--datum") or clock.today()
    with db.transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        assessment, changed = record_lagesbild(
            session, municipality, decided_on, title=titel, decided_by=beslutad_av, plan_id=plan_id
        )
        title, name = assessment.title, municipality.name
    verb = "är registrerad" if changed else "var redan registrerad"
    click.echo(f"{title} i {name} {verb} med datum {decided_on.isoformat()}.")


@plan.command("list")
@KOMMUN_OPTION
@click.option("--plan", "plan_id", type=int, help="Bara åtgärderna i planen med detta id.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table för människor, json och csv för andra program.",
)
@click.pass_context
def plan_list(ctx: click.Context, kommun: str | None, plan_id: int | None, output_format: str) -> None:
    """Lista kommunens åtgärder med tolkade perioder, uppföljning och flaggor."""
    from services.plans import measure_register, register_csv  # noqa: PLC0415 - loads the importers

    with db.transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        rows = measure_register(session, municipality.id or 0, plan_id=plan_id)
        known_plans = plans(session, municipality.id or 0)
    if output_format == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        click.echo(register_csv(rows), nl=False)
    else:
        click.echo(
            render("cli/plan_list.txt.j2", municipality=municipality, rows=rows, plans=known_plans), nl=False
        )


@plan.command("show")
@click.argument("plan_id", metavar="ID", type=int)
@KOMMUN_OPTION
@click.pass_context
def plan_show(ctx: click.Context, plan_id: int, kommun: str | None) -> None:
    """Visa en plan med fokusområden och åtgärder: texten som den skrevs och det som tolkades."""
    from services.plans import plan_view  # noqa: PLC0415 - services.plans loads the importers

    with db.transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        view = plan_view(session, municipality, plan_id)
    click.echo(
        render("cli/plan_show.txt.j2", plan=view.plan, municipality=municipality, areas=view.areas), nl=False
    )


@cli.group(cls=SwedishGroup)
def status() -> None:
    """Statusrapporter: registrera en rapport, skriv ut en mall att fylla i och läs in den."""


@status.command("report")
@click.argument("measure_id", metavar="ÅTGÄRD", type=int)
@click.option(
    "--status",
    "status_value",
    required=True,
    metavar="STATUS",
    help="planerad, pågående, försenad, avstannad, genomförd eller avbruten.",
)
@click.option("--kommentar", default="", help="Vad som har hänt sedan förra rapporten.")
@click.option(
    "--framsteg",
    type=click.IntRange(0, 100),
    metavar="0–100",
    help="Hur långt åtgärden har kommit, 0–100 procent.",
)
@click.option("--nasta-steg", "nasta_steg", default="", help="Vad som händer härnäst.")
@click.option("--datum", metavar="DATUM", help="Rapportens datum (ÅÅÅÅ-MM-DD). Standard: i dag.")
@click.option("--rapportor", default="", help="Vem som lämnade rapporten.")
@KOMMUN_OPTION
@click.pass_context
def status_report(
    ctx: click.Context,
    measure_id: int,
    status_value: str,
    kommentar: str,
    framsteg: int | None,
    nasta_steg: str,
    datum: str | None,
    rapportor: str,
    kommun: str | None,
) -> None:
    """Registrera en statusrapport för en åtgärd: stänger dess uppgift och löser eskaleringar."""
    from services.status import StatusReportCommand, parse_status_text, record_status_report  # noqa: PLC0415 - only the status commands

    command = StatusReportCommand(
        measure_id,
        parse_status_text(status_value, "--status"),
        reported_on=day_option(datum, "--datum"),
        comment=kommentar,
        progress_percent=framsteg,
        next_step=nasta_steg,
        reporter_name=rapportor,
    )
    with db.transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        outcome = record_status_report(session, municipality, command, now=clock.now())
        text = render("cli/status_outcomes.txt.j2", outcomes=[outcome])
    click.echo(text, nl=False)


@status.command("mall")
@click.option("--fil", required=True, type=click.Path(path_type=Path), help="XLSX-filen som skrivs.")
@KOMMUN_OPTION
@click.option(
    "--as-of", "as_of", metavar="DATUM", help="Öppna uppgifter denna dag (ÅÅÅÅ-MM-DD). Standard: i dag."
)
@click.pass_context
def status_template(ctx: click.Context, fil: Path, kommun: str | None, as_of: str | None) -> None:
    """Skriv en statusmall (XLSX) med en rad per åtgärd som väntar på statusrapport."""
    from importers.status_import import write_status_sheet  # noqa: PLC0415 - openpyxl only for this command

    day = day_option(as_of, "--as-of") or clock.today()
    if fil.suffix.casefold() != ".xlsx":
        raise UserError(f'--fil "{fil}": mallen skrivs som Excel-arbetsbok; ge filen ändelsen .xlsx.')
    with db.transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        try:
            count = write_status_sheet(session, municipality, fil, day)
        except OSError as error:
            raise UserError(
                f'--fil "{fil}" går inte att skriva ({error.strerror or type(error).__name__}).'
            ) from error
    click.echo(
        f"Statusmallen för {municipality.name} är skriven till {fil}: "
        f"{count} åtgärder väntar på statusrapport. "
        f"Fyll i kolumnen Status och läs in med: samordna status import {fil} --kommun {municipality.code}"
    )


@status.command("import")
@click.argument("fil", type=click.Path(path_type=Path))
@KOMMUN_OPTION
@click.option(
    "--dry-run", is_flag=True, help="Kontrollera och visa vad som skulle registreras utan att spara."
)
@click.pass_context
def status_import(
    ctx: click.Context,
    fil: Path,
    kommun: str | None,
    dry_run: bool,  # noqa: FBT001 - click passes flags by name
) -> None:
    """Läs in en ifylld statusmall (XLSX eller CSV) i en enda transaktion."""
    from services.status import import_status_sheet  # noqa: PLC0415 - only the status commands

    with Session(engine_of(ctx), expire_on_commit=False) as session, session.begin():
        municipality = municipality_of(session, ctx, kommun)
        summary = import_status_sheet(session, municipality, fil, now=clock.now())
        text = render("cli/status_import.txt.j2", summary=summary, municipality=municipality, dry_run=dry_run)
        if dry_run:
            session.rollback()
    click.echo(text, nl=False)


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Kör exemplet: Faluns katalog och åtgärdsplan importeras, listas och två år simuleras."""
    from samordna import cli_est, cli_reports, cli_web  # noqa: PLC0415 - the demo shows every area
    from services.plans import PlanImportCommand, import_plan, import_summary, measure_register  # noqa: PLC0415 - as above

    settings = settings_of(ctx)
    db.migrate(settings.database_url)
    engine = engine_of(ctx)
    command = PlanImportCommand(
        EXAMPLES / "falun-atgardsplan-2024.xlsx", directory_file=EXAMPLES / "falun-katalog.yaml", replace=True
    )
    try:
        with db.transaction(engine) as session:
            report = import_plan(session, command)
        click.echo(
            render("cli/plan_import.txt.j2", report=report, dry_run=False, summary=import_summary(report)),
            nl=False,
        )
    except ImportFailedError:
        # The example has history already (tasks, reports): keep it rather than replace it.
        click.echo("Exempelplanen finns redan med historik och importeras inte igen.")
    with db.transaction(engine) as session:
        municipality = find_municipality(session, "2080")
        assert municipality is not None  # noqa: S101 - the import above created it
        rows = measure_register(session, municipality.id or 0)
        known_plans = plans(session, municipality.id or 0)
    click.echo(
        render("cli/plan_list.txt.j2", municipality=municipality, rows=rows, plans=known_plans), nl=False
    )
    configure_prefect(settings)
    from flows.simulation import SimulationOptions, simulate  # noqa: PLC0415 - imports Prefect after configure

    options = SimulationOptions(start=date(2025, 1, 1), end=date(2026, 12, 31), kommun="2080")
    with tempfile.TemporaryDirectory(prefix="samordna-simulering-") as work_dir:
        result = simulate(settings.database_url, options, Path(work_dir), PREFECT_YAML)
    click.echo()
    _print_simulation(result, "sammanfattning")
    cli_est.demo_section(ctx)
    cli_reports.demo_section(ctx)
    cli_web.demo_section(ctx)
    click.echo(
        "\nHela tidslinjen: samordna simulate --from 2025-01-01 --to 2026-12-31 --kommun 2080\n"
        "Kör en cykel på riktigt: samordna run daglig --kommun 2080 --as-of 2025-05-07"
    )


@cli.command("run")
@click.argument("cykel", type=click.Choice(cycle_service.commands()))
@click.option(
    "--as-of", "as_of", metavar="DATUM", help="Kör som om det vore denna dag (ÅÅÅÅ-MM-DD). Standard: i dag."
)
@KOMMUN_OPTION
@click.option(
    "--utan-prefect",
    is_flag=True,
    help="Kör cykelns logik direkt, utan Prefects körhistorik (snabbare; samma resultat i databasen).",
)
@click.pass_context
def run_command(
    ctx: click.Context,
    cykel: str,
    as_of: str | None,
    kommun: str | None,
    utan_prefect: bool,  # noqa: FBT001 - click passes flags by name
) -> None:
    """Kör en cykel nu (se README för vad var och en gör)."""
    day = day_option(as_of, "--as-of") or clock.today()
    engine = engine_of(ctx)
    spec = cycle_service.CYCLES[cykel]
    wanted = kommun_or_default(ctx, kommun)
    codes = cycle_service.kommun_codes(engine, wanted)
    if utan_prefect:
        totals = cycle_service.run_for_kommuner(
            engine,
            cykel,
            codes,
            day,
            chunk_size=settings_of(ctx).run_chunk,
            threads=settings_of(ctx).run_threads,
        )
    else:
        configure_prefect(settings_of(ctx))
        from flows.deployments import CYCLE_FLOWS  # noqa: PLC0415 - imports Prefect after configure

        totals = CYCLE_FLOWS[cykel](wanted, day.isoformat())
    click.echo(
        render("cli/run.txt.j2", cycle=spec, day=day, codes=codes, totals=totals, prefect=not utan_prefect),
        nl=False,
    )


@cli.command("simulate")
@click.option("--from", "start", required=True, metavar="DATUM", help="Första dagen (ÅÅÅÅ-MM-DD).")
@click.option("--to", "end", required=True, metavar="DATUM", help="Sista dagen (ÅÅÅÅ-MM-DD).")
@KOMMUN_OPTION
@click.option("--seed", type=int, default=1, show_default=True, help="Samma seed ger samma simulerade år.")
@click.option(
    "--svarsfrekvens",
    type=click.FloatRange(0, 1),
    default=0.75,
    show_default=True,
    help="Andel ansvariga som svarar (resten är tysta hela perioden).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "sammanfattning", "json"]),
    default="text",
    show_default=True,
    help="text: hela tidslinjen; sammanfattning: antal per månad; json: för andra program.",
)
@click.pass_context
def simulate_command(
    ctx: click.Context,
    start: str,
    end: str,
    kommun: str | None,
    seed: int,
    svarsfrekvens: float,
    output_format: str,
) -> None:
    """Förhandsvisa cyklerna över en period på en kopia av databasen: uppgifter, påminnelser, eskaleringar."""
    first, last = day_option(start, "--from"), day_option(end, "--to")
    assert first is not None  # noqa: S101 - the option is required
    assert last is not None  # noqa: S101 - the option is required
    if last < first:
        raise UserError("--to ligger före --from.")
    if (last - first).days > MAX_SIMULATION_DAYS:
        raise UserError(f"Simuleringen kan omfatta högst {MAX_SIMULATION_DAYS // 365} år åt gången.")
    settings = settings_of(ctx)
    engine = engine_of(ctx)  # the source must be migrated
    wanted = kommun_or_default(ctx, kommun)
    cycle_service.kommun_codes(engine, wanted)  # an unknown kommun is refused before any copying
    configure_prefect(settings)
    from flows.simulation import SimulationOptions, simulate  # noqa: PLC0415 - imports Prefect after configure

    options = SimulationOptions(start=first, end=last, kommun=wanted, seed=seed, answer_rate=svarsfrekvens)
    with tempfile.TemporaryDirectory(prefix="samordna-simulering-") as work_dir:
        result = simulate(settings.database_url, options, Path(work_dir), PREFECT_YAML)
    _print_simulation(result, output_format)


def _print_simulation(result: Any, output_format: str) -> None:
    options = result.options
    first, last, seed = options.start, options.end, options.seed
    if output_format == "json":
        payload = {
            "från": first.isoformat(),
            "till": last.isoformat(),
            "seed": seed,
            "körningar": result.runs,
            "händelser": [
                {"kommun": e.kommun, "cykel": e.cycle, **e.event.as_json()} for e in result.entries
            ],
            "summa": result.totals(),
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    elif output_format == "sammanfattning":
        click.echo(
            render("cli/simulate_summary.txt.j2", result=result, options=options, months=_months(result)),
            nl=False,
        )
    else:
        click.echo(render("cli/simulate.txt.j2", result=result, options=options), nl=False)


def _months(result: Any) -> list[tuple[date, dict[str, int]]]:
    months: dict[date, dict[str, int]] = {}
    for entry in result.entries:
        month = entry.event.when.replace(day=1)
        kind = entry.event.kind if entry.event.kind != "eskalering" else f"eskalering {entry.event.level}"
        counts = months.setdefault(month, {})
        counts[kind] = counts.get(kind, 0) + 1
    return sorted(months.items())


@cli.command("serve")
@click.option(
    "--port", type=int, default=4200, show_default=True, help="Port för den lokala Prefect-servern."
)
@click.pass_context
def serve_command(ctx: click.Context, port: int) -> None:
    """Kör alla scheman i prefect.yaml i en process (inbäddat läge); avsluta med Ctrl-C."""
    settings = settings_of(ctx)
    engine_of(ctx)  # refuse to start on a database that is not migrated
    home = configure_prefect(settings)
    from flows.serving import serve_declared  # noqa: PLC0415 - imports Prefect after configure

    def started(start: ServeStart) -> None:
        click.echo(
            render(
                "cli/serve.txt.j2",
                api_url=start.api_url,
                home=start.home,
                own_server=start.own_server,
                deployments=start.deployments,
                crashed=start.crashed,
            ),
            nl=False,
        )

    serve_declared(PREFECT_YAML, port, home, started)


# The commands of EST, the follow-up reports and SSPF live in their own modules.
# The areas with commands of their own are imported when used: `samordna --help` and a command of
# another area load none of them (nor what they load: SSPF's keys, the web app's accounts, the report
# writers). The lines are the commands' own first lines (tests/test_cli.py checks they agree).
LAZY_AREAS = {
    "est": (
        "samordna.cli_est:register",
        "EST: händelser, lägesbild var 14:e dag, dagordning, beslut och eskalering.",
    ),
    "sspf": (
        "samordna.cli_sspf:register",
        "SSPF-ärenden (skola, socialtjänst, polis, fritid): behovsstyrd åtkomst och granskningslogg.",
    ),
    "webb": (
        "samordna.cli_web:register",
        "Starta webbappen: ansvarigas sidor bakom personliga länkar och BRÅ-samordnarens översikt.",
    ),
    "utkorg": (
        "samordna.cli_outbox:register",
        "Utkorgen: vad som väntar, har skickats, misslyckats eller har okänt utfall; skicka nu; skicka om.",
    ),
    "rapport": ("samordna.cli_reports:register", "Rapporter till BRÅ och Kommunstyrelsen."),
    "indikator": (
        "samordna.cli_reports:register",
        "Indikatorer: definiera dem och läs in deras värden per period.",
    ),
    "arshjul": (
        "samordna.cli_reports:register",
        "Årshjulet: årets möten, uppföljningar, lägesbild och revidering som hjul och kalender (ICS).",
    ),
}
for _name, (_register, _summary) in LAZY_AREAS.items():
    cli.add_lazy(_name, _register, _summary)
assert isinstance(plan, SwedishGroup)  # noqa: S101 - declared with cls=SwedishGroup above
plan.add_lazy(
    "kontroll",
    "samordna.cli_reports:register",
    "Planens hälsa: period, namngiven ansvarig, mätbart mål, koppling till orsak, revidering.",
)


def _crash_log() -> Path:
    try:
        data_dir = get_settings().data_dir
    except SettingsError:  # the settings themselves are broken: the default folder still takes the log
        data_dir = Settings.model_fields["data_dir"].default
    log_dir = Path(data_dir) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir / "samordna-fel.log"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: runs a command and turns every failure into a Swedish message and an exit code."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="samordna", standalone_mode=False
        )
    except click.UsageError as error:
        click.echo(usage_error_message(error), err=True)
        return 2
    except ImportFailedError as error:
        click.echo(render("cli/import_errors.txt.j2", problems=error.problems), err=True, nl=False)
        return 1
    except DomainError as error:
        click.echo(f"Fel: {error}", err=True)
        return 1
    except StoredValueError as error:
        click.echo(render("cli/stored_value_error.txt.j2", problems=error.problems), err=True, nl=False)
        return 1
    except click.Abort:
        click.echo("Avbrutet.", err=True)
        return 1
    except sa.exc.OperationalError as error:
        click.echo(
            f"Fel: databasen går inte att nå eller använda ({type(error.orig).__name__}). "
            "Kontrollera SAMORDNA_DATABASE_URL och att databasservern är igång.",
            err=True,
        )
        return 1
    except Exception:  # noqa: BLE001 - the last line of defence: no traceback reaches a user
        log = _crash_log()
        with log.open("a", encoding="utf-8") as handle:
            handle.write(traceback.format_exc())
        logging.getLogger(__name__).debug("unexpected error written to %s", log)
        click.echo(
            f"Ett oväntat fel inträffade. Detaljerna är sparade i {log}; skicka dem till er administratör.",
            err=True,
        )
        return 70
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
