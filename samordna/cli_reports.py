"""Follow-up reports, indicators, the plan health check and the årshjul."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlmodel import Session

from core import clock
from core.templating import render
from models import db
from models.municipality import Municipality, find_municipality
from samordna.cli_common import (
    EXAMPLES,
    KOMMUN_OPTION,
    PREFECT_YAML,
    UserError,
    day_option,
    engine_of,
    municipality_of,
    settings_of,
)
from samordna.clicksv import SwedishGroup
from services.reports import (
    IndicatorCommand,
    define_indicator,
    follow_up_documents,
    forum_agenda_document,
    indicator_overview,
    year_wheel_documents,
)

FORMATS = {"html": "html", "docx": "docx", "pdf": "pdf", "xlsx": "xlsx"}


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def follow_up_files(
    session: Session,
    municipality: Municipality,
    period_text: str,
    out: dict[str, Path],
    *,
    plan_id: int | None = None,
) -> dict[str, Path]:
    """The report of ``period_text`` written in each format of ``out`` to its path."""
    documents = follow_up_documents(
        session, municipality, period_text, list(out), generated=clock.now(), plan_id=plan_id
    )
    return {fmt: _write(out[fmt], data) for fmt, data in documents.items()}


def wheel_files(session: Session, municipality: Municipality, year: int, out_dir: Path) -> dict[str, Path]:
    """The årshjul of ``year`` as SVG, PNG and PDF (an A4 page) and ICS in ``out_dir``."""
    stem = f"arshjul-{municipality.code}-{year}"
    return {
        fmt: _write(out_dir / f"{stem}.{fmt}", data)
        for fmt, data in year_wheel_documents(session, municipality, year).items()
    }


def register(cli: click.Group) -> None:  # noqa: C901, PLR0915 - one place that declares every command of the area
    """Add `rapport`, `indikator` and `arshjul` to the top level and the health check to `plan`."""
    plan = cli.commands["plan"]
    assert isinstance(plan, click.Group)  # noqa: S101 - defined in samordna.cli before any area loads

    @cli.group("rapport", cls=SwedishGroup)
    def rapport() -> None:
        """Rapporter till BRÅ och Kommunstyrelsen."""

    @rapport.command("uppfoljning")
    @click.option(
        "--period",
        "period_text",
        required=True,
        metavar="PERIOD",
        help="Halvåret, t.ex. 2025H1 eller 2025H2.",
    )
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(list(FORMATS)),
        default="html",
        show_default=True,
        help="html, docx och pdf (kräver LibreOffice): rapporten; xlsx: åtgärdsregistret (kan läsas in "
        "med plan import).",
    )
    @click.option(
        "--ut",
        "out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Fil att skriva (standard: under datakatalogen).",
    )
    @click.option("--plan", "plan_id", type=int, help="Planens id (standard: kommunens senaste plan).")
    @KOMMUN_OPTION
    @click.pass_context
    def rapport_uppfoljning(
        ctx: click.Context,
        period_text: str,
        fmt: str,
        out: Path | None,
        plan_id: int | None,
        kommun: str | None,
    ) -> None:
        """Halvårsuppföljningen: trafikljus per åtgärd, indikatorer, saknade rapporter och analys."""
        with db.transaction(engine_of(ctx)) as session:
            municipality = municipality_of(session, ctx, kommun)
            target = out or settings_of(ctx).data_dir / "rapporter" / (
                f"uppfoljning-{municipality.code}-{period_text.strip().upper()}.{fmt}"
            )
            written = follow_up_files(session, municipality, period_text, {fmt: target}, plan_id=plan_id)
        click.echo(f"Skrev {written[fmt]}")

    @rapport.command("dagordning")
    @click.option(
        "--forum",
        "forum",
        type=click.Choice(["bra", "kommunledningen"]),
        required=True,
        help="Vilket forums möte: kommunens lokala BRÅ eller kommunledningen.",
    )
    @click.option("--mote", "mote", metavar="DATUM", help="Mötets dag (ÅÅÅÅ-MM-DD). Standard: nästa möte.")
    @click.option("--as-of", "as_of", metavar="DATUM", help="Räkna som om det vore denna dag (ÅÅÅÅ-MM-DD).")
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["html", "docx", "pdf", "text"]),
        default="text",
        show_default=True,
        help="pdf kräver LibreOffice (soffice).",
    )
    @click.option(
        "--ut",
        "out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Skriv till FIL i stället för skärmen.",
    )
    @KOMMUN_OPTION
    @click.pass_context
    def rapport_dagordning(
        ctx: click.Context,
        forum: str,
        mote: str | None,
        as_of: str | None,
        fmt: str,
        out: Path | None,
        kommun: str | None,
    ) -> None:
        """Dagordning för BRÅ eller kommunledningen: ärenden från EST, eskaleringar, uppföljning."""
        from reports.forum_agenda import FORUM_KINDS  # noqa: PLC0415 - Word and charts only for this command

        if out is None and fmt in {"docx", "pdf"}:
            raise UserError(f"{fmt.upper()} skrivs till en fil: ange --ut FIL.")
        meeting_on = day_option(mote, "--mote")
        day = day_option(as_of, "--as-of") or clock.today()
        with db.transaction(engine_of(ctx)) as session:
            municipality = municipality_of(session, ctx, kommun)
            content = forum_agenda_document(
                session, municipality, FORUM_KINDS[forum], as_of=day, meeting_on=meeting_on, fmt=fmt
            )
        if out is None:
            click.echo(content.decode(), nl=False)
            return
        click.echo(f"Skrev {_write(out, content)}")

    @cli.group("indikator", cls=SwedishGroup)
    def indikator() -> None:
        """Indikatorer: definiera dem och läs in deras värden per period."""

    @indikator.command("skapa")
    @click.option(
        "--namn", required=True, help='Indikatorns namn, t.ex. "Andel som känner sig trygga i centrum".'
    )
    @click.option(
        "--kalla",
        "source",
        required=True,
        help="NTU, LUPP, Polisens trygghetsmätning, Anmälda brott, Egen räkning …",
    )
    @click.option("--enhet", "unit", default="", help="T.ex. procent, antal, per 1000 invånare.")
    @click.option(
        "--hogre-ar-battre/--lagre-ar-battre", "higher", default=None, help="Vilket håll som är bättre."
    )
    @click.option("--mal", "target", type=float, help="Målvärde.")
    @click.option(
        "--fokusomrade", "focus_area", help="Fokusområdet (namn eller del av namnet) indikatorn mäter."
    )
    @KOMMUN_OPTION
    @click.pass_context
    def indikator_skapa(
        ctx: click.Context,
        namn: str,
        source: str,
        unit: str,
        higher: bool | None,  # noqa: FBT001 - click passes options by name
        target: float | None,
        focus_area: str | None,
        kommun: str | None,
    ) -> None:
        """Definiera en indikator (eller ändra en med samma namn)."""
        command = IndicatorCommand(namn, source, unit, higher, target, focus_area)
        with db.transaction(engine_of(ctx)) as session:
            municipality = municipality_of(session, ctx, kommun)
            indicator, created = define_indicator(session, municipality, command)
        click.echo(
            f'{"Skapade" if created else "Ändrade"} indikatorn "{indicator.name}" ({indicator.source}).'
        )

    @indikator.command("lista")
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
    @KOMMUN_OPTION
    @click.pass_context
    def indikator_lista(ctx: click.Context, fmt: str, kommun: str | None) -> None:
        """Lista kommunens indikatorer med senaste värde."""
        with db.transaction(engine_of(ctx)) as session:
            municipality = municipality_of(session, ctx, kommun)
            rows = indicator_overview(session, municipality)
        if fmt == "json":
            payload = [
                {
                    "id": i.id,
                    "namn": i.name,
                    "kalla": i.source,
                    "enhet": i.unit,
                    "hogre_ar_battre": i.higher_is_better,
                    "mal": i.target,
                    "fokusomrade_id": i.focus_area_id,
                    "varden": [list(p) for p in t.points],
                    "trend": t.trend,
                    "mal_uppnatt": t.target_met,
                }
                for i, t in rows
            ]
            click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        else:
            click.echo(
                render("reports/indicator_list.txt.j2", municipality=municipality, rows=rows), nl=False
            )

    @indikator.command("import")
    @click.argument("fil", type=click.Path(path_type=Path))
    @click.option(
        "--dry-run", is_flag=True, help="Kontrollera filen och visa vad som skulle läsas in, utan att spara."
    )
    @KOMMUN_OPTION
    @click.pass_context
    def indikator_import(ctx: click.Context, fil: Path, dry_run: bool, kommun: str | None) -> None:  # noqa: FBT001 - click passes flags by name  # noqa: FBT001 - click flag
        """Läs in indikatorvärden per period från CSV eller XLSX (en transaktion)."""
        from importers.indicator_values import import_indicator_values  # noqa: PLC0415 - light start

        with db.transaction(engine_of(ctx)) as session:
            municipality = municipality_of(session, ctx, kommun)
            result = import_indicator_values(session, fil, municipality.id or 0, dry_run=dry_run)
        click.echo(render("reports/indicator_import.txt.j2", result=result, dry_run=dry_run), nl=False)

    @plan.command("kontroll")
    @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
    @click.option("--as-of", "as_of", metavar="DATUM", help="Bedöm som om det vore denna dag (ÅÅÅÅ-MM-DD).")
    @KOMMUN_OPTION
    @click.pass_context
    def plan_kontroll(ctx: click.Context, fmt: str, as_of: str | None, kommun: str | None) -> None:
        """Planens hälsa: period, namngiven ansvarig, mätbart mål, koppling till orsak, revidering."""
        from reports.plan_health import CHECKS, check_plans  # noqa: PLC0415 - light start

        day = day_option(as_of, "--as-of") or clock.today()
        with db.transaction(engine_of(ctx)) as session:
            municipality = municipality_of(session, ctx, kommun)
            health = check_plans(session, municipality, day)
        if fmt == "json":
            payload: list[dict[str, Any]] = [
                {
                    "plan_id": h.plan_id,
                    "titel": h.title,
                    "atgarder": h.measures,
                    "revideras": h.revision_due.isoformat() if h.revision_due else None,
                    "antal": {check: h.count(check) for check in CHECKS},
                    "brister": [asdict(f) for f in h.findings],
                    "planen": h.plan_notes,
                    "organisationer_utan_kontakt": [
                        {"namn": name, "atgarder": count} for name, count in h.organisations_without_contact
                    ],
                }
                for h in health
            ]
            click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        else:
            click.echo(
                render(
                    "reports/plan_health.txt.j2",
                    municipality=municipality,
                    health=health,
                    checks=CHECKS,
                    day=day,
                ),
                nl=False,
            )

    @cli.command("arshjul")
    @click.option("--ar", "year", type=click.IntRange(2000, 2100), required=True, help="Året, t.ex. 2026.")
    @click.option(
        "--ut", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Katalog att skriva till."
    )
    @KOMMUN_OPTION
    @click.pass_context
    def arshjul(ctx: click.Context, year: int, out_dir: Path | None, kommun: str | None) -> None:
        """Årshjulet: årets möten, uppföljningar, lägesbild och revidering som hjul och kalender (ICS)."""
        with db.transaction(engine_of(ctx)) as session:
            municipality = municipality_of(session, ctx, kommun)
            written = wheel_files(
                session, municipality, year, out_dir or settings_of(ctx).data_dir / "arshjul"
            )
        for path in written.values():
            click.echo(f"Skrev {path}")


def demo_section(ctx: click.Context) -> None:
    """The reporting part of `samordna demo` (the half-year report and the årshjul).

    The demo's two simulated years ran on a throwaway copy, so the real database has the plan but no
    status reports. The report needs a half-year of them: April–December 2025 is simulated again (same
    seed) on a copy kept just long enough to write the 2025H2 report from it.
    """
    from flows.simulation import SimulationOptions, simulate  # noqa: PLC0415 - imports Prefect after configure
    from importers.indicator_values import import_indicator_values  # noqa: PLC0415 - light start

    settings = settings_of(ctx)
    out_dir = settings.data_dir / "demo"
    started = time.monotonic()
    # From April: the first round (2025H1) opens in April, so both rounds of 2025 are simulated.
    options = SimulationOptions(start=date(2025, 4, 1), end=date(2025, 12, 31), kommun="2080")
    with tempfile.TemporaryDirectory(prefix="samordna-rapport-") as work_dir:
        simulate(settings.database_url, options, Path(work_dir), PREFECT_YAML)
        engine = db.make_engine(f"sqlite:///{(Path(work_dir) / 'simulering.db').as_posix()}")
        try:
            with db.transaction(engine) as session:
                municipality = find_municipality(session, "2080")
                if municipality is None:
                    return
                # The example's indicator values, on the copy only, so the report shows its trends.
                import_indicator_values(session, EXAMPLES / "falun-indikatorer.csv", municipality.id or 0)
                reports = follow_up_files(
                    session,
                    municipality,
                    "2025H2",
                    {
                        "html": out_dir / "uppfoljning-2080-2025H2.html",
                        "docx": out_dir / "uppfoljning-2080-2025H2.docx",
                    },
                )
                wheel = wheel_files(session, municipality, 2026, out_dir)
        finally:
            engine.dispose()
    click.echo("\nHalvårsuppföljning andra halvåret 2025 (simulerat år 2025) och årshjul 2026:")
    for path in [*reports.values(), *wheel.values()]:
        click.echo(f"  {path}")
    click.echo(f"({time.monotonic() - started:.1f} s)")


__all__ = ["demo_section", "follow_up_files", "register", "wheel_files"]
