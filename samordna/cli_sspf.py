"""``samordna sspf``: SSPF case management with privacy by design, over ``services.sspf``.

Every command names its user (``--anvandare`` or ``SAMORDNA_ANVANDARE``, an e-mail address in the
kommun's directory). The use case runs through ``services.sspf.run_audited``: one transaction that
decides access, does its work and appends its audit entry before anything is printed. A refusal is
logged in a transaction of its own and ends as a Swedish message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import click

from core import clock
from core.templating import render
from models.crypto import new_key
from models.sspf import (
    FACTOR_LEVELS,
    FACTORS,
    LEGAL_BASES,
    Actor,
    ClosureReason,
    ReferralReason,
    RiskLevel,
    Signer,
    SspfRole,
)
from samordna.cli_common import day_option, engine_of, settings_of
from samordna.clicksv import SwedishGroup
from services import sspf as service
from services.sspf import Acting, SspfCall

T = TypeVar("T")
CHAIN_BROKEN = 3  # `sspf logg`'s exit code when the chain, an anchor or a trigger shows tampering


@dataclass(frozen=True, slots=True)
class SspfOptions:
    """The group's options: who acts, in which kommun, and why."""

    acting: Acting


def _run(ctx: click.Context, command: str, default_purpose: str, work: Callable[[SspfCall], str]) -> None:
    """Run ``work`` through the audited door; print its text only after the commit."""
    options: SspfOptions = ctx.find_object(SspfOptions)  # type: ignore[assignment]
    text = service.run_audited(
        engine_of(ctx), settings_of(ctx), options.acting, command, default_purpose, work
    )
    click.echo(text, nl=False)


def _day(value: str | None, option: str) -> date | None:
    return day_option(value, option)


def _required_day(value: str, option: str) -> date:
    day = day_option(value, option)
    if day is None:
        raise click.UsageError(f"{option} saknas.")
    return day


def register(cli: click.Group) -> None:
    """Add the SSPF commands to the top-level group."""
    cli.add_command(sspf)


@click.group(cls=SwedishGroup)
@click.option(
    "--anvandare",
    "email",
    metavar="EPOST",
    help="Vem du är: din e-postadress i kommunens katalog (standard: SAMORDNA_ANVANDARE).",
)
@click.option(
    "--kommun", "kommun", metavar="KOMMUN", help="Kommunkod eller namn (standard: SAMORDNA_KOMMUN)."
)
@click.option("--syfte", metavar="TEXT", help="Varför du läser eller ändrar (skrivs i granskningsloggen).")
@click.pass_context
def sspf(ctx: click.Context, email: str | None, kommun: str | None, syfte: str | None) -> None:
    """SSPF-ärenden (skola, socialtjänst, polis, fritid): behovsstyrd åtkomst och granskningslogg."""
    ctx.obj = SspfOptions(Acting(email or settings_of(ctx).acting_user, kommun, syfte))


@sspf.group("arende", cls=SwedishGroup)
def case_group() -> None:
    """Ärenden: skapa, lista, visa, stänga."""


@case_group.command("skapa")
@click.option("--hanvisare", required=True, metavar="ORG", help="Organisationen som hänvisade den unga.")
@click.option("--hanvisad", metavar="DATUM", help="Hänvisningens datum (standard: i dag).")
@click.option(
    "--orsak", required=True, type=click.Choice([r.value for r in ReferralReason]), help="Hänvisningsorsak."
)
@click.option(
    "--risk",
    required=True,
    type=click.Choice([r.value for r in RiskLevel]),
    help="Samordnarens riskbedömning.",
)
@click.option("--riskkommentar", metavar="TEXT", help="Motivering av riskbedömningen (krypteras).")
@click.option("--namn", metavar="NAMN", help="Den ungas namn (valfritt; krypteras).")
@click.option(
    "--personnummer", metavar="PNR", help="Den ungas personnummer (valfritt; kontrolleras, krypteras)."
)
@click.option("--fodelsedatum", metavar="DATUM", help="Födelsedatum när personnummer saknas (krypteras).")
@click.option("--vardnadshavare", type=click.IntRange(0, 2), default=2, show_default=True, help="Antal.")
@click.option("--undantag", metavar="ORSAK", help="Skäl att ta emot en ung utanför målgruppens ålder.")
@click.pass_context
def case_create(ctx: click.Context, /, **options: Any) -> None:
    """Skapa ett ärende; den unga får en pseudonym ärendekod och du blir ärendets samordnare."""
    command = service.OpenCaseCommand(
        referral_organisation=options["hanvisare"],
        reason=ReferralReason(options["orsak"]),
        risk=RiskLevel(options["risk"]),
        referred_on=_day(options["hanvisad"], "--hanvisad"),
        risk_note=options["riskkommentar"],
        name=options["namn"],
        personnummer=options["personnummer"],
        birth=_day(options["fodelsedatum"], "--fodelsedatum"),
        guardians=options["vardnadshavare"],
        exception=options["undantag"],
    )

    def work(call: SspfCall) -> str:
        case, outside = service.open_case(call, command)
        return render("sspf/receipt.txt.j2", kind="skapat", case=case, outside=outside)

    _run(ctx, "arende skapa", "nytt ärende efter hänvisning", work)


@case_group.command("lista")
@click.pass_context
def case_list(ctx: click.Context) -> None:
    """Lista ärendena i vars team du ingår (bara ärendekoder, inga namn)."""
    _run(
        ctx,
        "arende lista",
        "översikt över egna ärenden",
        lambda call: render("sspf/case_list.txt.j2", cases=service.list_cases(call)),
    )


@case_group.command("visa")
@click.argument("kod")
@click.pass_context
def case_show(ctx: click.Context, kod: str) -> None:
    """Visa ett ärende (bara för ärendets team)."""

    def work(call: SspfCall) -> str:
        view = service.read_case(call, kod)
        return render(
            "sspf/case_show.txt.j2",
            case=view.case,
            youth_name=view.youth_name,
            personnummer=view.personnummer,
            birth=view.birth,
            age=view.age,
            adult=view.adult,
            exception=view.exception,
            referral=view.referral,
            risk_note=view.risk_note,
            closure_note=view.closure_note,
            team=view.team,
        )

    _run(ctx, "arende visa", "handläggning av ärendet", work)


@case_group.command("stang")
@click.argument("kod")
@click.option("--orsak", required=True, type=click.Choice([r.value for r in ClosureReason]), help="Varför.")
@click.option("--kommentar", metavar="TEXT", help="Kort kommentar (krypteras).")
@click.option("--datum", metavar="DATUM", help="Avslutsdatum (standard: i dag).")
@click.pass_context
def case_close(ctx: click.Context, kod: str, orsak: str, kommentar: str | None, datum: str | None) -> None:
    """Avsluta ett ärende; öppna åtgärder och deras uppgifter avbryts. Gallras efter gallringstiden."""
    command = service.CloseCaseCommand(kod, ClosureReason(orsak), kommentar, _day(datum, "--datum"))

    def work(call: SspfCall) -> str:
        case = service.close_case(call, command)
        return render("sspf/receipt.txt.j2", kind="avslutat", case=case, outside=False)

    _run(ctx, "arende stang", "avslut av ärendet", work)


# ---------------------------------------------------------------------------------------------------
# Consent and disclosure


@sspf.group("samtycke", cls=SwedishGroup)
def consent_group() -> None:
    """Samtycken: vem som skrivit under, vilka organisationer, syfte, omprövning, återkallelse."""


@consent_group.command("registrera")
@click.argument("kod")
@click.option(
    "--undertecknare",
    "signers",
    multiple=True,
    required=True,
    type=click.Choice([s.value for s in Signer]),
    help="Vem som skrev under (upprepa: ung, vårdnadshavare_1, vårdnadshavare_2).",
)
@click.option(
    "--organisation", "orgs", multiple=True, required=True, metavar="ORG", help="Omfattas (upprepa)."
)
@click.option("--syfte", "consent_purpose", required=True, metavar="TEXT", help="Samtyckets syfte.")
@click.option("--datum", metavar="DATUM", help="Dagen samtycket lämnades (standard: i dag).")
@click.option("--omprovas", required=True, metavar="DATUM", help="Senaste dag för omprövning.")
@click.pass_context
def consent_register(
    ctx: click.Context,
    kod: str,
    signers: tuple[str, ...],
    orgs: tuple[str, ...],
    consent_purpose: str,
    datum: str | None,
    omprovas: str,
) -> None:
    """Registrera ett samtycke. Före 18 år: den unga och varje vårdnadshavare; från 18: den unga ensam."""
    command = service.ConsentCommand(
        code=kod,
        signers=tuple(Signer(signer) for signer in signers),
        organisations=orgs,
        purpose=consent_purpose,
        review_on=_required_day(omprovas, "--omprovas"),
        given_on=_day(datum, "--datum"),
    )

    def work(call: SspfCall) -> str:
        consent, case, covered = service.register_consent(call, command)
        return f"Samtycke {consent.id} i {case.code} är registrerat ({covered} organisationer).\n"

    _run(ctx, "samtycke registrera", "registrering av samtycke", work)


@consent_group.command("aterkalla")
@click.argument("samtycke_id", type=int, metavar="ID")
@click.option(
    "--datum", metavar="DATUM", help="Dagen den unga eller vårdnadshavaren återkallade (standard: i dag)."
)
@click.pass_context
def consent_withdraw(ctx: click.Context, samtycke_id: int, datum: str | None) -> None:
    """Återkalla ett samtycke: inget lämnas ut på det från och med den dagen."""
    on = _day(datum, "--datum")

    def work(call: SspfCall) -> str:
        consent, case = service.withdraw_consent(call, samtycke_id, on)
        withdrawn = consent.withdrawn_on.isoformat() if consent.withdrawn_on else ""
        return f"Samtycke {samtycke_id} i {case.code} är återkallat från {withdrawn}.\n"

    _run(ctx, "samtycke aterkalla", "återkallelse av samtycke", work)


@consent_group.command("lista")
@click.argument("kod")
@click.pass_context
def consent_list(ctx: click.Context, kod: str) -> None:
    """Lista ärendets samtycken och om de gäller i dag."""

    def work(call: SspfCall) -> str:
        case, rows = service.list_consents(call, kod)
        return render("sspf/consent_list.txt.j2", case=case, rows=rows)

    _run(ctx, "samtycke lista", "kontroll av samtycken", work)


@sspf.command("utlamna")
@click.argument("kod")
@click.option("--organisation", "org", required=True, metavar="ORG", help="Mottagande organisation.")
@click.option("--datum", metavar="DATUM", help="Dagen för utlämnandet (standard: i dag).")
@click.option(
    "--lagrum", type=click.Choice(sorted(LEGAL_BASES)), help="Lagrum när utlämnandet inte bygger på samtycke."
)
@click.option("--motivering", metavar="TEXT", help="Varför lagrummet är tillämpligt (krypteras).")
@click.pass_context
def disclose(
    ctx: click.Context, kod: str, org: str, datum: str | None, lagrum: str | None, motivering: str | None
) -> None:
    """Registrera ett utlämnande till en organisation: kräver giltigt samtycke, eller lagrum."""
    command = service.DisclosureCommand(kod, org, _day(datum, "--datum"), lagrum, motivering)

    def work(call: SspfCall) -> str:
        case, organisation, basis = service.disclose(call, command)
        return f"Utlämnandet av {case.code} till {organisation.name} är registrerat ({basis}).\n"

    _run(ctx, "utlamna", "utlämnande till samverkanspart", work)


# ---------------------------------------------------------------------------------------------------
# Risk and protective factors


@sspf.group("faktor", cls=SwedishGroup)
def factor_group() -> None:
    """Risk- och skyddsfaktorer enligt Socialstyrelsens lista, bedömda vid ett datum."""


@factor_group.command("katalog")
def factor_catalogue() -> None:
    """Visa faktorerna och deras koder (inga ärendeuppgifter)."""
    click.echo(render("sspf/factor_catalogue.txt.j2", factors=FACTORS, levels=FACTOR_LEVELS), nl=False)


@factor_group.command("bedom")
@click.argument("kod")
@click.option(
    "--faktor", required=True, metavar="KOD", help="Faktorns kod (se: samordna sspf faktor katalog)."
)
@click.option("--niva", required=True, type=click.IntRange(0, 3), help="0 saknas, 1 låg, 2 måttlig, 3 hög.")
@click.option("--datum", metavar="DATUM", help="Bedömningens datum (standard: i dag).")
@click.option("--kommentar", metavar="TEXT", help="Kort motivering (krypteras).")
@click.pass_context
def factor_assess(
    ctx: click.Context, kod: str, faktor: str, niva: int, datum: str | None, kommentar: str | None
) -> None:
    """Bedöm en faktor vid ett datum; tidigare bedömningar står kvar, så förändringen syns."""
    command = service.FactorCommand(kod, faktor, niva, _day(datum, "--datum"), kommentar)

    def work(call: SspfCall) -> str:
        case, code, day = service.assess_factor(call, command)
        return f"{code} i {case.code}: {FACTOR_LEVELS[niva]} ({day.isoformat()}).\n"

    _run(ctx, "faktor bedom", "kartläggning av risk- och skyddsfaktorer", work)


@factor_group.command("lista")
@click.argument("kod")
@click.pass_context
def factor_list(ctx: click.Context, kod: str) -> None:
    """Visa ärendets bedömningar per faktor och datum: förändringen över tid."""

    def work(call: SspfCall) -> str:
        case, dates, rows = service.factor_history(call, kod)
        return render("sspf/factor_list.txt.j2", case=case, dates=dates, rows=rows, levels=FACTOR_LEVELS)

    _run(ctx, "faktor lista", "uppföljning av risk- och skyddsfaktorer", work)


# ---------------------------------------------------------------------------------------------------
# The åtagandeplan, meetings and the team


@sspf.group("atgard", cls=SwedishGroup)
def action_group() -> None:
    """Åtagandeplanen: åtgärder per aktör med ägare och sista dag; de blir uppgifter med påminnelser."""


@action_group.command("skapa")
@click.argument("kod")
@click.option("--aktor", required=True, type=click.Choice([a.value for a in Actor]), help="Vem som gör den.")
@click.option("--agare", required=True, metavar="EPOST", help="Ansvarig person (i ärendets team).")
@click.option("--text", "text", required=True, metavar="TEXT", help="Åtgärden, utan namn eller personnummer.")
@click.option("--senast", required=True, metavar="DATUM", help="Sista dag (flyttas till arbetsdag).")
@click.pass_context
def action_create(ctx: click.Context, kod: str, aktor: str, agare: str, text: str, senast: str) -> None:
    """Lägg till en åtgärd; ägaren får en uppgift vars ämne bara är ärendekoden och åtgärden."""
    command = service.ActionCommand(kod, Actor(aktor), agare, text, _required_day(senast, "--senast"))

    def work(call: SspfCall) -> str:
        action, case = service.create_action(call, command)
        return (
            f"Åtgärd {action.id} i {case.code} är skapad, senast {action.due_on.isoformat()}; "
            "ägaren får en uppgift.\n"
        )

    _run(ctx, "atgard skapa", "åtagandeplan", work)


@action_group.command("klar")
@click.argument("atgard_id", type=int, metavar="ID")
@click.option("--datum", metavar="DATUM", help="När den blev klar (standard: i dag).")
@click.pass_context
def action_done(ctx: click.Context, atgard_id: int, datum: str | None) -> None:
    """Markera en åtgärd som klar (ägaren eller samordnaren); påminnelserna upphör."""
    on = _day(datum, "--datum")

    def work(call: SspfCall) -> str:
        _, case = service.complete_action(call, atgard_id, on)
        return f"Åtgärd {atgard_id} i {case.code} är klar.\n"

    _run(ctx, "atgard klar", "åtagandeplan", work)


@action_group.command("lista")
@click.argument("kod")
@click.pass_context
def action_list(ctx: click.Context, kod: str) -> None:
    """Visa ärendets åtagandeplan."""

    def work(call: SspfCall) -> str:
        case, rows = service.list_actions(call, kod)
        return render("sspf/action_list.txt.j2", case=case, rows=rows)

    _run(ctx, "atgard lista", "åtagandeplan", work)


@sspf.group("mote", cls=SwedishGroup)
def meeting_group() -> None:
    """Möten i ärendet: datum och beslut."""


@meeting_group.command("registrera")
@click.argument("kod")
@click.option("--datum", required=True, metavar="DATUM", help="Mötets datum.")
@click.option("--beslut", required=True, metavar="TEXT", help="Beslut (krypteras).")
@click.pass_context
def meeting_register(ctx: click.Context, kod: str, datum: str, beslut: str) -> None:
    """Registrera ett möte och dess beslut; öppna uppföljningsuppgifter för ärendet blir klara."""
    held = _required_day(datum, "--datum")

    def work(call: SspfCall) -> str:
        case = service.register_meeting(call, kod, held, beslut)
        return f"Mötet {held.isoformat()} i {case.code} är registrerat.\n"

    _run(ctx, "mote registrera", "uppföljningsmöte", work)


@meeting_group.command("lista")
@click.argument("kod")
@click.pass_context
def meeting_list(ctx: click.Context, kod: str) -> None:
    """Visa ärendets möten och beslut."""

    def work(call: SspfCall) -> str:
        case, rows = service.list_meetings(call, kod)
        return render("sspf/meeting_list.txt.j2", case=case, rows=rows)

    _run(ctx, "mote lista", "uppföljningsmöte", work)


@sspf.group("team", cls=SwedishGroup)
def team_group() -> None:
    """Ärendets team: bara de som ingår i det läser ärendet."""


@team_group.command("lagg-till")
@click.argument("kod")
@click.option("--person", "email", required=True, metavar="EPOST", help="Personen som ska ingå.")
@click.option(
    "--organisation", "org", required=True, metavar="ORG", help="Organisationen personen företräder."
)
@click.pass_context
def team_add(ctx: click.Context, kod: str, email: str, org: str) -> None:
    """Lägg till en medlem ur den operativa gruppen för en organisation."""

    def work(call: SspfCall) -> str:
        case, person, organisation = service.add_team_member(call, kod, email, org)
        return f"{person.name} ingår nu i teamet för {case.code} ({organisation.name}).\n"

    _run(ctx, "team lagg-till", "teamets sammansättning", work)


@team_group.command("ta-bort")
@click.argument("kod")
@click.option("--person", "email", required=True, metavar="EPOST", help="Personen som ska lämna teamet.")
@click.pass_context
def team_remove(ctx: click.Context, kod: str, email: str) -> None:
    """Ta bort en medlem ur teamet: åtkomsten upphör genast."""

    def work(call: SspfCall) -> str:
        case, person = service.remove_team_member(call, kod, email)
        return f"{person.name} ingår inte längre i teamet för {case.code}.\n"

    _run(ctx, "team ta-bort", "teamets sammansättning", work)


@team_group.command("lista")
@click.argument("kod")
@click.pass_context
def team_list(ctx: click.Context, kod: str) -> None:
    """Visa ärendets team."""

    def work(call: SspfCall) -> str:
        case, members, names = service.list_team(call, kod)
        return render("sspf/team_list.txt.j2", case=case, members=members, organisations=names)

    _run(ctx, "team lista", "teamets sammansättning", work)


# ---------------------------------------------------------------------------------------------------
# Administration: roles, the log review, keys, the cycle


@sspf.group("roll", cls=SwedishGroup)
def role_group() -> None:
    """SSPF-roller (administratör): samordnare, operativ (per organisation), administratör."""


@role_group.command("tilldela")
@click.option("--person", "email", required=True, metavar="EPOST", help="Personen.")
@click.option("--roll", "role", required=True, type=click.Choice([r.value for r in SspfRole]), help="Rollen.")
@click.option("--organisation", "org", metavar="ORG", help="Organisationen (krävs för operativ).")
@click.pass_context
def role_grant(ctx: click.Context, email: str, role: str, org: str | None) -> None:
    """Ge en person en SSPF-roll."""

    def work(call: SspfCall) -> str:
        person, organisation = service.grant_role(call, email, SspfRole(role), org)
        where = f" för {organisation.name}" if organisation else ""
        return f"{person.name} har rollen {role}{where}.\n"

    _run(ctx, "roll tilldela", "behörighetsadministration", work)


@role_group.command("aterkalla")
@click.option("--person", "email", required=True, metavar="EPOST", help="Personen.")
@click.option("--roll", "role", required=True, type=click.Choice([r.value for r in SspfRole]), help="Rollen.")
@click.pass_context
def role_revoke(ctx: click.Context, email: str, role: str) -> None:
    """Återkalla en SSPF-roll: åtkomsten upphör genast."""

    def work(call: SspfCall) -> str:
        person, count = service.revoke_role(call, email, SspfRole(role))
        return f"{count} tilldelningar av {role} för {person.name} är återkallade.\n"

    _run(ctx, "roll aterkalla", "behörighetsadministration", work)


@role_group.command("lista")
@click.pass_context
def role_list(ctx: click.Context) -> None:
    """Visa vem som har vilken SSPF-roll."""
    _run(
        ctx,
        "roll lista",
        "behörighetsadministration",
        lambda call: render("sspf/role_list.txt.j2", rows=service.list_roles(call)),
    )


@sspf.command("logg")
@click.option("--fran", metavar="DATUM", help="Första dagen (standard: första dagen förra månaden).")
@click.option("--till", metavar="DATUM", help="Sista dagen (standard: sista dagen förra månaden).")
@click.pass_context
def log_review(ctx: click.Context, fran: str | None, till: str | None) -> None:
    """Loggkontroll: läsningar per användare och ärende, utanför uppdrag, nekade försök, och kedjan
    kontrollerad mot nyckeln, ankarna och spärrarna (slutkod 3 om något är brutet)."""
    start, end = _day(fran, "--fran"), _day(till, "--till")
    intact: list[bool] = []

    def work(call: SspfCall) -> str:
        report, first, last = service.review_log(call, start, end)
        intact.append(report.chain.intact)
        return render("sspf/log_review.txt.j2", report=report, start=first, end=last)

    _run(ctx, "logg", "loggkontroll", work)
    if intact and not intact[0]:
        ctx.exit(CHAIN_BROKEN)


@sspf.group("nyckel", cls=SwedishGroup)
def key_group() -> None:
    """Krypteringsnycklar för SSPF-data."""


@key_group.command("ny")
def key_new() -> None:
    """Skriv ut en ny nyckel att lägga först i SAMORDNA_SSPF_KEYS (sparas ingenstans)."""
    click.echo(new_key())


@key_group.command("rotera")
@click.pass_context
def key_rotate(ctx: click.Context) -> None:
    """Kryptera om allt SSPF-data med den nyaste nyckeln (den första i SAMORDNA_SSPF_KEYS)."""

    def work(call: SspfCall) -> str:
        count = service.rotate_keys(call)
        return (
            f"{count} krypterade värden är omkrypterade med den nyaste nyckeln. "
            "Äldre nycklar kan nu tas bort ur SAMORDNA_SSPF_KEYS.\n"
        )

    _run(ctx, "nyckel rotera", "nyckelbyte", work)


@sspf.command("kor")
@click.option("--as-of", "as_of", metavar="DATUM", help="Kör som om det vore denna dag (standard: i dag).")
@click.option("--utan-prefect", is_flag=True, help="Kör logiken direkt, utan Prefects körhistorik.")
@click.pass_context
def run_cycle(ctx: click.Context, as_of: str | None, utan_prefect: bool) -> None:  # noqa: FBT001 - click flag
    """Kör SSPF-cykeln nu: uppföljning, samtyckesomprövning, 18-årssamtycke och gallring."""
    day = _day(as_of, "--as-of") or clock.today()
    options: SspfOptions = ctx.find_object(SspfOptions)  # type: ignore[assignment]
    settings = settings_of(ctx)
    engine = engine_of(ctx)
    code = service.run_audited(
        engine,
        settings,
        options.acting,
        "kor",
        "schemalagd uppföljning och gallring",
        lambda call: service.authorise_cycle_run(call, day),
    )
    if utan_prefect:
        totals = service.run_cycle_now(engine, settings, code, day)
    else:
        from flows.prefect_env import configure_prefect  # noqa: PLC0415 - before Prefect is imported

        configure_prefect(settings)
        from flows.sspf import sspf_flow  # noqa: PLC0415 - imports Prefect

        totals = sspf_flow(code, day.isoformat())
    click.echo(render("sspf/cycle.txt.j2", day=day, totals=totals, prefect=not utan_prefect), nl=False)
