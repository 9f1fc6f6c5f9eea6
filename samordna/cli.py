"""``samordna``: a thin command line over plain functions.

Each command opens one transaction, calls the importers or flows, and renders what a person reads
from a template. Errors a user can cause end as a Swedish message and a non-zero exit, never as a
traceback; an unexpected error is written to a log file and named as such.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from sqlmodel import Session

from documents.spreadsheet import csv_text
from importers.directory_import import import_directory_file
from importers.plan_draft import PlanFacts
from importers.plan_import import ImportReport, import_plan_file
from importers.problems import ImportFailedError
from models import db
from models.directory import forums, organisations, persons
from models.municipality import KOMMUNKOD, Municipality, find_municipality, list_municipalities
from models.plan import (
    ActionPlan,
    Measure,
    MeasureParty,
    focus_areas,
    json_ready,
    measure_flags,
    measure_forums,
    measure_parties,
    measures,
    plans,
)
from models.validation import StoredValueError
from notifications.health import configuration_errors, configuration_warnings
from samordna import cli_est, cli_outbox, cli_reports, cli_sspf
from samordna.cli_common import (
    EXAMPLES,
    KOMMUN_OPTION,
    PREFECT_YAML,
    UserError,
    engine_of,
    municipality_of,
    settings_of,
)
from samordna.clicksv import SwedishGroup, usage_error_message
from samordna.prefect_env import configure_prefect
from samordna.settings import TIMEZONE, Settings, get_settings
from samordna.text import render

if TYPE_CHECKING:
    from flows.reporting import ReportOutcome

MAX_SIMULATION_DAYS = 5 * 366


@click.group(cls=SwedishGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Samordna: kommunens brottsförebyggande arbete från lägesbild och åtgärdsplan till uppföljning.

    Inställningar läses från miljövariabler med prefixet SAMORDNA_ (se README).
    """
    ctx.ensure_object(Settings)


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Skapa databasen eller uppgradera den till senaste schemat."""
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

    publish_anchor(engine, settings, datetime.now(UTC), force=True)


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
    if not KOMMUNKOD.match(kod.strip()):
        raise UserError(f'Kommunkoden "{kod}" ska vara fyra siffror (Falun 2080, Orsa 2034).')
    with db.transaction(engine_of(ctx)) as session:
        existing = find_municipality(session, kod.strip())
        if existing is not None:
            raise UserError(f"Kommunkoden {kod} finns redan: {existing.name}.")
        session.add(Municipality(name=namn.strip(), code=kod.strip()))
    click.echo(f"Kommunen {namn.strip()} ({kod.strip()}) är skapad.")


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
    with db.transaction(engine_of(ctx)) as session:
        counts, municipality = import_directory_file(session, fil, kommun)
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
    dry_run: bool,  # noqa: FBT001 - click passes flags positionally by name
    ersatt: bool,  # noqa: FBT001 - click passes flags positionally by name
) -> None:
    """Importera en åtgärdsplan från XLSX, CSV eller YAML i en enda transaktion."""
    facts = PlanFacts(
        title=titel or "",
        decided_by=beslutad_av or "",
        decided_on=_option_date("--beslutsdatum", beslutsdatum),
        valid_from=_option_date("--giltig-fran", giltig_fran),
        revision_due=_option_date("--revideras-senast", revideras_senast, end=True),
        follow_up=uppfoljning or "",
    )
    engine = engine_of(ctx)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if katalog_fil is not None:
            import_directory_file(session, katalog_fil, kommun)
        report = import_plan_file(
            session,
            fil,
            kommun=kommun,
            mapping_specs=list(mappings),
            facts=facts,
            replace=ersatt,
            dry_run=dry_run,
        )
        if dry_run:
            session.rollback()
    click.echo(
        render("cli/plan_import.txt.j2", report=report, dry_run=dry_run, summary=_summary(report)), nl=False
    )


def _option_date(option: str, value: str | None, *, end: bool = False) -> date | None:
    if not value:
        return None
    from importers.periods import InvalidDateError, parse_period  # noqa: PLC0415 - only when the option is given

    try:
        period = parse_period(value)
    except InvalidDateError as error:
        raise UserError(f"{option}: {error}") from error
    chosen = period.end if end else period.start
    if chosen is None or not period.understood:
        raise UserError(f'{option}: "{value}" är inget datum (skriv t.ex. 2026-06-17).')
    return chosen


def _summary(report: ImportReport) -> dict[str, Any]:
    return {
        "areas": [(area.title, len(area.measures)) for area in report.draft.focus_areas],
        "measure_count": len(report.draft.measures),
        "sub_rows": sum(1 for m in report.draft.measures if m.is_sub_row),
        "indicators": len(report.draft.indicators),
        "unmatched": sorted(report.unmatched_parties.items(), key=lambda item: (-item[1], item[0])),
    }


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
    with db.transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        rows = measure_register(session, municipality.id or 0, plan_id=plan_id)
        known_plans = plans(session, municipality.id or 0)
    if output_format == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        click.echo(_csv(rows), nl=False)
    else:
        click.echo(
            render("cli/plan_list.txt.j2", municipality=municipality, rows=rows, plans=known_plans), nl=False
        )


def measure_register(
    session: Session, municipality_id: int, *, plan_id: int | None = None
) -> list[dict[str, Any]]:
    """Every measure with its raw text, parsed values, parties and flags, as plain data."""
    found = measures(session, municipality_id, plan_id=plan_id)
    ids = [m.id or 0 for m in found]
    parties = measure_parties(session, ids)
    forums_by_measure = measure_forums(session, ids)
    names = _party_names(session, municipality_id)
    plan_titles = {p.id: p.title for p in plans(session, municipality_id)}
    areas = {area.id: area.title for plan_id in plan_titles for area in focus_areas(session, plan_id or 0)}
    return [
        _register_row(m, parties[m.id or 0], forums_by_measure[m.id or 0], names, areas, plan_titles)
        for m in found
    ]


def _party_names(session: Session, municipality_id: int) -> dict[tuple[str, int], str]:
    names: dict[tuple[str, int], str] = {}
    for org in organisations(session, municipality_id):
        names[("organisation", org.id or 0)] = org.name
    for person in persons(session, municipality_id):
        names[("person", person.id or 0)] = person.name
    for forum in forums(session, municipality_id):
        names[("forum", forum.id or 0)] = forum.name
    return names


def _party(party: MeasureParty, names: dict[tuple[str, int], str]) -> dict[str, Any]:
    for kind, key in (
        ("organisation", party.organisation_id),
        ("person", party.person_id),
        ("forum", party.forum_id),
    ):
        if key is not None:
            return {"typ": kind, "id": key, "namn": names.get((kind, key), "?")}
    return {"typ": "okänd", "id": None, "namn": "?"}


def _register_row(
    measure: Measure,
    parties: list[MeasureParty],
    forums: list[Any],
    names: dict[tuple[str, int], str],
    areas: dict[int | None, str],
    plan_titles: dict[int | None, str],
) -> dict[str, Any]:
    return json_ready(
        {
            "id": measure.id,
            "plan_id": measure.plan_id,
            "plan": plan_titles.get(measure.plan_id, ""),
            "fokusomrade": areas.get(measure.focus_area_id, ""),
            "atgard": measure.title,
            "beskrivning": measure.description,
            "delaktivitet_till": measure.parent_id,
            "status": measure.status,
            "period_start": measure.period_start,
            "period_slut": measure.period_end,
            "pagaende": measure.ongoing,
            "aterkommande": measure.recurring,
            "period_tolkad": measure.period_understood,
            "uppfoljning_frekvens": measure.follow_up_frequency,
            "uppfoljning_forum": [forum.name for forum in forums],
            "uppfoljning_tolkad": measure.follow_up_understood,
            "ansvariga": [_party(p, names) for p in parties if p.role == "ansvarig"],
            "samverkan": [_party(p, names) for p in parties if p.role == "samverkan"],
            "ej_matchade": measure.unmatched_parties,
            "flaggor": measure_flags(measure),
            "text": {
                "tid": measure.raw_period,
                "omfattning": measure.raw_scope,
                "ansvarig": measure.raw_responsible,
                "samverkan": measure.raw_partners,
                "kostnad": measure.raw_cost,
                "mal": measure.raw_goal,
                "uppfoljning": measure.raw_follow_up,
            },
            "extra": measure.extra,
            "kalla": {"blad": measure.source_sheet, "rad": measure.source_row},
        }
    )


_CSV_COLUMNS = (
    "id",
    "plan_id",
    "fokusomrade",
    "atgard",
    "status",
    "period_start",
    "period_slut",
    "pagaende",
    "aterkommande",
    "period_tolkad",
    "uppfoljning_frekvens",
    "uppfoljning_forum",
    "ansvariga",
    "ej_matchade",
    "flaggor",
)


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for row in rows:
        cells = []
        for column in _CSV_COLUMNS:
            value = row[column]
            if isinstance(value, list):
                value = ", ".join(item["namn"] if isinstance(item, dict) else str(item) for item in value)
            # Imported text is never a formula to the spreadsheet that opens the file.
            cells.append("" if value is None else csv_text(value))
        writer.writerow(cells)
    return buffer.getvalue()


@plan.command("show")
@click.argument("plan_id", metavar="ID", type=int)
@KOMMUN_OPTION
@click.pass_context
def plan_show(ctx: click.Context, plan_id: int, kommun: str | None) -> None:
    """Visa en plan med fokusområden och åtgärder: texten som den skrevs och det som tolkades."""
    with db.transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        found = session.get(ActionPlan, plan_id)
        if found is None or found.municipality_id != municipality.id:
            raise UserError(f"Planen {plan_id} finns inte i {municipality.name}. Se: samordna plan list")
        rows = measure_register(session, municipality.id or 0, plan_id=plan_id)
        areas = focus_areas(session, plan_id)
    by_area = [(area, [row for row in rows if row["fokusomrade"] == area.title]) for area in areas]
    click.echo(render("cli/plan_show.txt.j2", plan=found, municipality=municipality, areas=by_area), nl=False)


@cli.group(cls=SwedishGroup)
def status() -> None:
    """Statusrapporter: registrera en rapport, skriv ut en mall att fylla i och läs in den."""


def _status_outcome_lines(outcome: ReportOutcome) -> list[str]:
    """What one recorded report did, in Swedish."""
    measure = outcome.measure
    report = outcome.report
    change = (
        f"status {outcome.previous_status.value} → {report.status.value}"
        if outcome.status_changed
        else f"status {measure.status.value} (oförändrad)"
    )
    title = _status_short(measure.title)
    lines = [f'Statusrapport för åtgärd {measure.id} "{title}" den {report.reported_on}: {change}.']
    for task in outcome.closed_tasks:
        lines.append(f"  Uppgift klar, påminnelserna upphör: {task.subject} (senast {task.due_date})")
    for escalation in outcome.resolved:
        lines.append(f"  Eskalering löst: {escalation.subject} – {escalation.resolution}")
    if not outcome.closed_tasks and not outcome.resolved:
        lines.append("  Inga öppna uppgifter eller eskaleringar berördes.")
    return lines


def _status_short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _status_date(option: str, value: str | None) -> date | None:
    if not value:
        return None
    from importers.periods import InvalidDateError, parse_period  # noqa: PLC0415 - only when given

    try:
        period = parse_period(value)
    except InvalidDateError as error:
        raise UserError(f"{option}: {error}") from error
    if not period.understood or period.start is None or period.start != period.end:
        raise UserError(f'{option}: "{value}" är inget datum (skriv t.ex. 2026-03-03 eller 3 mars 2026).')
    return period.start


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
    configure_prefect(settings_of(ctx))  # the flows import Prefect, which reads its settings at import
    from flows.reporting import ReportError, record_status_report  # noqa: PLC0415 - Prefect after configure
    from importers.status_import import parse_status  # noqa: PLC0415 - as above

    try:
        chosen = parse_status(status_value)
    except ValueError as error:
        raise UserError(f"--status: {error}") from error
    reported_on = _status_date("--datum", datum)
    now = datetime.now(UTC)
    with db.transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        try:
            outcome = record_status_report(
                session,
                municipality,
                measure_id,
                status=chosen,
                reported_on=reported_on or now.astimezone(ZoneInfo(TIMEZONE)).date(),
                comment=kommentar,
                progress_percent=framsteg,
                next_step=nasta_steg,
                reporter_name=rapportor,
                now=now,
            )
        except ReportError as error:
            raise UserError(str(error)) from error
        lines = _status_outcome_lines(outcome)
    click.echo("\n".join(lines))


@status.command("mall")
@click.option("--fil", required=True, type=click.Path(path_type=Path), help="XLSX-filen som skrivs.")
@KOMMUN_OPTION
@click.option(
    "--as-of", "as_of", metavar="DATUM", help="Öppna uppgifter denna dag (ÅÅÅÅ-MM-DD). Standard: i dag."
)
@click.pass_context
def status_template(ctx: click.Context, fil: Path, kommun: str | None, as_of: str | None) -> None:
    """Skriv en statusmall (XLSX) med en rad per åtgärd som väntar på statusrapport."""
    configure_prefect(settings_of(ctx))  # the flows import Prefect, which reads its settings at import
    from importers.status_import import write_status_sheet  # noqa: PLC0415 - Prefect after configure

    day = _as_of(as_of) or datetime.now(UTC).astimezone(ZoneInfo(TIMEZONE)).date()
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
    configure_prefect(settings_of(ctx))  # the flows import Prefect, which reads its settings at import
    from importers.status_import import import_status_sheet  # noqa: PLC0415 - Prefect after configure

    now = datetime.now(UTC)
    with Session(engine_of(ctx), expire_on_commit=False) as session, session.begin():
        municipality = municipality_of(session, ctx, kommun)
        summary = import_status_sheet(session, municipality, fil, now=now)
        head = "Provkörning, ingenting sparades" if dry_run else "Inläst"
        counts = (
            f"{len(summary.outcomes)} statusrapporter, {summary.tasks_closed} uppgifter klara, "
            f"{summary.escalations_resolved} eskaleringar lösta, "
            f"{summary.skipped} rader utan status hoppades över"
        )
        lines = [
            f"{head}: {fil.name} för {municipality.name}: {counts}.",
            *(line for outcome in summary.outcomes for line in _status_outcome_lines(outcome)),
        ]
        if dry_run:
            session.rollback()
    click.echo("\n".join(lines))


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Kör exemplet: Faluns katalog och åtgärdsplan importeras, listas och två år simuleras."""
    settings = settings_of(ctx)
    db.migrate(settings.database_url)
    engine = engine_of(ctx)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            import_directory_file(session, EXAMPLES / "falun-katalog.yaml", None)
            report = import_plan_file(session, EXAMPLES / "falun-atgardsplan-2024.xlsx", replace=True)
        click.echo(
            render("cli/plan_import.txt.j2", report=report, dry_run=False, summary=_summary(report)), nl=False
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
    click.echo(
        "\nHela tidslinjen: samordna simulate --from 2025-01-01 --to 2026-12-31 --kommun 2080\n"
        "Kör en cykel på riktigt: samordna run daglig --kommun 2080 --as-of 2025-05-07"
    )


CYCLE_NAMES = ("est", "uppfoljning", "lagesbild", "daglig")


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f'--as-of "{value}" är inget datum; skriv ÅÅÅÅ-MM-DD, t.ex. 2025-03-04.') from None


@cli.command("run")
@click.argument("cykel", type=click.Choice(CYCLE_NAMES))
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
    """Kör en cykel nu: est, uppfoljning, lagesbild eller daglig."""
    day = _as_of(as_of)
    settings = settings_of(ctx)
    engine = engine_of(ctx)
    configure_prefect(settings)
    from flows.cycles import CYCLES  # noqa: PLC0415 - imports Prefect, which must see configure_prefect first
    from flows.orchestration import (  # noqa: PLC0415 - as above
        UnknownMunicipalityError,
        count_events,
        municipality_codes,
        resolve_as_of,
        run_cycle,
    )

    spec = CYCLES[cykel]
    day = resolve_as_of(day)
    try:
        codes = municipality_codes(engine, kommun)
        if utan_prefect:
            totals: dict[str, int] = {}
            for code in codes:
                for kind, count in count_events(run_cycle(engine, spec.run, code, day)).items():
                    totals[kind] = totals.get(kind, 0) + count
        else:
            totals = spec.flow(kommun, day.isoformat())
    except UnknownMunicipalityError as error:
        raise UserError(str(error)) from error
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
    first, last = _as_of(start), _as_of(end)
    assert first is not None  # noqa: S101 - the option is required
    assert last is not None  # noqa: S101 - the option is required
    if last < first:
        raise UserError("--to ligger före --from.")
    if (last - first).days > MAX_SIMULATION_DAYS:
        raise UserError(f"Simuleringen kan omfatta högst {MAX_SIMULATION_DAYS // 365} år åt gången.")
    settings = settings_of(ctx)
    engine_of(ctx)  # the source must be migrated
    configure_prefect(settings)
    from flows.orchestration import UnknownMunicipalityError  # noqa: PLC0415 - imports Prefect after configure
    from flows.simulation import SimulationOptions, simulate  # noqa: PLC0415 - as above

    options = SimulationOptions(start=first, end=last, kommun=kommun, seed=seed, answer_rate=svarsfrekvens)
    with tempfile.TemporaryDirectory(prefix="samordna-simulering-") as work_dir:
        try:
            result = simulate(settings.database_url, options, Path(work_dir), PREFECT_YAML)
        except UnknownMunicipalityError as error:
            raise UserError(str(error)) from error
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
    from prefect import serve  # noqa: PLC0415 - Prefect must see configure_prefect first
    from prefect.deployments.runner import RunnerDeployment  # noqa: PLC0415 - as above
    from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415 - as above

    from flows.schedules import load_schedules  # noqa: PLC0415 - as above
    from flows.serving import crash_orphaned_runs, declared_deployments, local_server  # noqa: PLC0415 - as above

    existing = os.environ.get("PREFECT_API_URL")
    server = nullcontext(existing) if existing else local_server(port, home / "server.log")
    os.chdir(PREFECT_YAML.parent)  # prefect.yaml's entrypoints are relative to the repository
    with server as api_url, temporary_settings(updates={PREFECT_API_URL: api_url}):
        # Runs left unfinished in our own server belonged to a process that died (flows/serving.py).
        crashed = [] if existing else crash_orphaned_runs(api_url, datetime.now(UTC))
        schedules = load_schedules(PREFECT_YAML)
        deployments = [
            RunnerDeployment.from_entrypoint(
                declared.entrypoint,
                name=declared.name,
                schedules=schedules.get(declared.name),
                parameters=declared.parameters,
                description=declared.description or None,
            )
            for declared in declared_deployments(PREFECT_YAML)
        ]
        click.echo(
            render(
                "cli/serve.txt.j2",
                api_url=api_url,
                home=home,
                own_server=not existing,
                deployments=deployments,
                crashed=crashed,
            ),
            nl=False,
        )
        serve(*deployments, pause_on_shutdown=False, print_starting_message=False)


# The commands of EST, the follow-up reports and SSPF live in their own modules.
cli_est.register(cli)
cli_reports.register(cli, plan)
cli_sspf.register(cli)
cli_outbox.register(cli)


def _crash_log(settings: Settings) -> Path:
    log_dir = settings.data_dir / "logs"
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
    except UserError as error:
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
        log = _crash_log(get_settings())
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
