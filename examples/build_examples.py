"""Faithful transcriptions of three real plans as XLSX demo data and importer test fixtures.

The seeds in ``shared/seeds/`` are text extracted from the plans' PDF and Excel files. This module holds
their measure tables as plain Python data (one dict per measure row, the Swedish text as the seed has
it) and writes them as workbooks with openpyxl:

- ``falun-atgardsplan-2024.xlsx``: Falun's åtgärdsplan 2024, three focus areas, 33 measures.
- ``orsa-handlingsplan-2024-2025.xlsx``: Orsa's handlingsplan 2024–2025, two focus areas, five measures
  (the first with four sub-rows under one merged Åtgärd cell) and the indicators of both areas.
- ``stadsdel-atgardsplan-2025.xlsx``: a stadsdel's åtgärdsplan template 2025 with its OCR-damaged text
  and headers kept, one sheet with the prioritised area as a column and no Plan sheet.

Every transcription judgement (continuations joined, columns assigned, headers added) is listed in
``examples/README.md``. Run ``.venv/bin/python examples/build_examples.py`` to rewrite the workbooks
next to this file; the output is byte-for-byte reproducible.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

HERE: Final = Path(__file__).resolve().parent

FALUN_FILE: Final = "falun-atgardsplan-2024.xlsx"
ORSA_FILE: Final = "orsa-handlingsplan-2024-2025.xlsx"
STADSDEL_FILE: Final = "stadsdel-atgardsplan-2025.xlsx"

# Workbook properties and zip entry times are pinned so that a rebuild changes no byte.
FIXED_TIMESTAMP: Final = datetime(2025, 1, 1, 0, 0, 0)  # noqa: DTZ001 - openpyxl stores naive UTC
_ZIP_TIMESTAMP: Final = (2025, 1, 1, 0, 0, 0)


class _MergedWithAbove:
    """The cell continues the cell above it: written as one vertically merged cell."""

    def __repr__(self) -> str:
        return "MERGED_WITH_ABOVE"


MERGED_WITH_ABOVE: Final = _MergedWithAbove()

CellText = str | _MergedWithAbove
FactValue = str | date | None


@dataclass(frozen=True, slots=True)
class FocusArea:
    """One measure table: a fokusområde with its header and rows (dicts keyed by the header names)."""

    title: str
    sheet_name: str  # Excel allows 31 characters and no : \ / ? * [ ]
    header: tuple[str, ...]
    rows: tuple[dict[str, CellText], ...]
    goal: str | None = None  # only where the seed states an overall goal for the area


@dataclass(frozen=True, slots=True)
class PlanWorkbook:
    """A plan as a workbook: a "Plan" sheet of facts, one sheet per focus area, optional indicators."""

    filename: str
    facts: tuple[tuple[str, FactValue], ...]
    focus_areas: tuple[FocusArea, ...]
    indicators: tuple[tuple[str, str, str], ...] = ()  # (Fokusområde, Indikator, Källa)


# ---------------------------------------------------------------------------------------------------
# Falun: Åtgärdsplan enligt 5 § Lag (2023:196), seed falun-atgardsplan-2024.txt
# ---------------------------------------------------------------------------------------------------

FALUN_FOLLOW_UP: Final = "Faluns BRÅ och Kommunstyrelsen en gång per halvår."

FALUN_FACTS: Final[tuple[tuple[str, FactValue], ...]] = (
    ("Kommun", "Falun"),
    ("Kommunkod", "2080"),
    ("Titel", "Åtgärdsplan enligt 5 § Lag (2023:196) om kommuners ansvar för brottsförebyggande arbete"),
    # Faluns brottsförebyggande råd ställde sig bakom planen 2024-09-27; the political decision was
    # to be taken "under hösten 2024" and the seed gives no date for it.
    ("Beslutad av", "Kommunstyrelsen"),
    ("Beslutsdatum", None),
    ("Giltig från", None),
    ("Revideras senast", None),
    (
        "Lägesbild",
        (
            "Lägesbild för Falun enligt 4§ Lag (2023:196) om kommuners ansvar för brottsförebyggande "
            "arbete - Brott och (o)trygghet"
        ),
    ),
    ("Lägesbild beslutad", date(2024, 5, 30)),  # "antogs av Faluns Kommunstyrelse 2024-05-30"
    ("Uppföljning", FALUN_FOLLOW_UP),
)

# Focus area 1 writes "Ansvariga"; focus areas 2 and 3 write "Ansvarig".
FALUN_HEADER_1: Final = ("Åtgärd", "Tid", "Omfattning", "Ansvariga", "Kostnad", "Mål", "Uppföljning")
FALUN_HEADER: Final = ("Åtgärd", "Tid", "Omfattning", "Ansvarig", "Kostnad", "Mål", "Uppföljning")

FALUN_AREA_1: Final = FocusArea(
    title="1. Barn och unga – geografiska områden",
    sheet_name="1 Barn och unga",
    header=FALUN_HEADER_1,
    rows=(
        # seed line 113
        {
            "Åtgärd": (
                "Starta samverkansgrupper i - Nedre Norslund och - Järnet motsvarande "
                "samverkansgruppen i Bojsenburg. Samverkansgruppen i Bojsenburg fortsätter."
            ),
            "Tid": "Start våren 2025 Pågående",
            "Omfattning": "Ca 2 möten per halvår/område.",
            "Ansvariga": (
                "Falu kommun (Faluns BRÅ sammankallar), Kopparstaden, andra bostadsbolag, Polisen "
                "Skolan, Förskolan, Ungdomsstödjare, Fritid för unga, Dialogen"
            ),
            "Kostnad": "Inom befintlig budget.",
            "Mål": (
                "Att få igång en lokal samverkan med berörda verksamheter för att gemensamt driva "
                "ett trygghets- och brottsförebyggande arbete."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed lines 114 + 116: continuation row joined, HTML stripped, "upptagnings-" + "område"
        {
            "Åtgärd": (
                "Införandet av SSPF för målgruppen unga 12-20 år med normbrytande beteende med risk "
                "för fortsatt normbrytande beteende som kriminalitet, missbruk, radikalisering - "
                "utbildningar om målgruppen samt insatser. - samverkan - insatser (kunskapsbaserade) "
                "för barn/ungdom, föräldrar. Enligt beslut i Kommunfullmäktige 2022-12-13 samt "
                "överenskommelse mellan Falu kommun och Polisen i pågående Medborgarlöfte från "
                "2022-12-02 om att avsätta resurser för genomförandet."
            ),
            "Tid": "Start 2024",
            "Omfattning": "Hela kommunen som upptagningsområde för berörd målgrupp.",
            "Ansvariga": (
                "Barn och familjesektionen samt medverkande aktörer; skolan, polisen, fritid samt "
                "även andra berörda verksamheter."
            ),
            "Kostnad": (
                "Inom befintlig budget samt bidrag från BRÅ med 557 000 kr, för projektledare samt "
                "utbildningar att användas under 2024."
            ),
            "Mål": (
                "Att få igång en strukturerad samverkan där berörda verksamheter utifrån sina "
                "uppdrag ger det bästa tillgängliga stödet till målgruppen individer och deras "
                "familjer för att minska risken för fortsatt normbrytande beteende som är till skada "
                "både för individen och omgivningen."
            ),
            "Uppföljning": "Vid styrgruppsmöten för Tillsammans för varje barn.",
        },
        # seed line 117
        {
            "Åtgärd": (
                "Tidiga samordnare insatser (TSI) – Tillsammans för varje barn (fortsatt "
                "utveckling-breddning)"
            ),
            "Tid": "Pågående",
            "Omfattning": "",
            "Ansvariga": "Barn och utbildningsförvaltningen med samverkande aktörer i och utanför kommunen.",
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Att nå barn och familjer med tidiga samordnade insatser för att förebygga en "
                "negativ utveckling."
            ),
            "Uppföljning": "Styrgruppen för tillsammans för varje barn",
        },
        # seed line 118
        {
            "Åtgärd": "Föräldrakurser för föräldrar med barn i förskolan – metoden Trygghetscirkeln",
            "Tid": "Pågående",
            "Omfattning": "",
            "Ansvariga": "Förskolan med viss förstärkt resurs",
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Att stärka föräldrarna i deras föräldraskap samt skapa samverkan mellan föräldrarna "
                "och med förskolepersonalen för att förebygga en negativ utveckling hos barnen."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed lines 119 + 121: Kostnad continues after a page break ("Social-" + "styrelsen")
        {
            "Åtgärd": (
                "Föräldrakurser för föräldrar med barn i åk F-9 skolan – med metoden COPE, som "
                "rekommenderas av Socialstyrelsen, där Britsarvsskolan, Södra skolan, Västra skolan "
                "och Hälsingårdsskolan prioriteras."
            ),
            "Tid": "Start hösten 2024",
            "Omfattning": "",
            "Ansvariga": (
                "Skolans kuratorer tillsammans med socialtjänstens öppenvård Dialogen samt socialsekreterare."
            ),
            "Kostnad": (
                "Med befintliga resurser. Medel från BRÅ för utbildningar under 2024. Medel från "
                "Socialstyrelsen för fortsatt utbildning."
            ),
            "Mål": (
                "Att stärka föräldrarna i deras föräldraskap samt skapa samverkan mellan föräldrarna "
                "och med skolpersonal."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 122
        {
            "Åtgärd": (
                "Aktiv fritid för elever i årskurs 4-6 i en pilotskola i anslutning till skoltid - "
                "Extra studietid - Idrott - Kultur - Mellanmål"
            ),
            "Tid": "Våren 2025 – 2027.",
            "Omfattning": (
                "5 dagar/vecka, måndag-fredag Verksamhet ca 3 timmar i direkt anslutning till "
                "skoltid Om möjligt också relations- och trygghetsskande närvaro på skolan del av dagen."
            ),
            "Ansvariga": (
                "Projekt med en kombinerad tjänst med en projektledare som också arbetar operativt. "
                "Faluns Sociala hållbarhetsstrateg finns med som stöd och ser över möjligheten att "
                "samordna delar med det pågående utvecklingsarbetet som går under namnet ”Hela "
                "Falun.” Föreningar bjuds in och barnen ges möjlighet att prova på olika aktiviteter "
                "och ges stöd till en fortsatt aktiv fritid inom föreningslivet. Samverkan med Skol IF"
            ),
            "Kostnad": (
                "Inom KS befintliga ram (utv. reserv) Ekonomiskt stöd kommer också att sökas från "
                "BRÅ, Brottsförebyggande rådet för finansiering/delfinansiering för uppstartsåret 2025."
            ),
            "Mål": (
                "Att ge barn tillgång till fler trygga vuxna samt en aktiv fritid med möjlighet och "
                "inspiration att utöva idrott och kultur samt få stöd i skolarbetet efter skolan."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 123
        {
            "Åtgärd": (
                "Fortsatt arbete för att öka trygghet och studiero i skolan. - Rutiner, - "
                "utbildning, - högre vuxennärvaro på raster mm"
            ),
            "Tid": "Pågående Start hösten 2024-",
            "Omfattning": "",
            "Ansvariga": (
                "Barn och utbildningsförvaltningen BRÅ-samordnare och Kommunpolis finns som stöd "
                "bland annat i framtagande av rutin för polisanmälan skola - polis."
            ),
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Att genom ökad trygghet och studiero bidra till god hälsa och bättre "
                "förutsättningarna för att fler barn och unga ska lyckas i skolan."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 124
        {
            "Åtgärd": (
                "Åtgärder i den fysiska miljön (inomhus/utomhus) för att öka tryggheten och minska "
                "brotten i skolan t ex kamerabevakning, belysning, buskage, att ha med "
                "trygghet/brottsförebyggande kunskap i planering inför byggnationer/ombyggnationer"
            ),
            "Tid": "Pågående men med möjlig utveckling med start våren 2025",
            "Omfattning": "",
            "Ansvariga": (
                "Barn och utbildningsförvaltningen och Serviceförvaltningen med stöd av "
                "BRÅ-samordnare och Säkerhetssamordnare mfl"
            ),
            "Kostnad": "Kostnader tillkommer vid insatser",
            "Mål": (
                "Att genom ökad trygghet bidra till god hälsa och bättre förutsättningarna för att "
                "fler barn och unga ska lyckas i skolan."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 126
        {
            "Åtgärd": (
                "Socialtjänstens uppsökande förebyggande arbete stärk. Ungdomsstödjarna som idag har "
                "målgruppen barn/unga 13-19 år som är i riskzonen för och/eller har utvecklat ett "
                "normbrytande beteende som t ex kriminalitet, missbruk, radikalisering samt "
                "resursförstärkning för målgruppen till att gälla även barn i åldern 10-12 år som är "
                "i riskzonen för och/eller har utvecklat ett normbrytande beteende som t ex "
                "kriminalitet, missbruk, radikalisering."
            ),
            "Tid": "Start våren 2025",
            "Omfattning": "Fyra befintliga tjänster samt resursförstärkning för målgruppen 10-12 år.",
            "Ansvariga": (
                "Socialtjänsten Ungdomsstödjarna (fyra tjänster) med nu aktuell målgrupp 13-19 år "
                "samt resursförstärkning för att även arbeta riktat mot målgruppen 10-12 år."
            ),
            "Kostnad": "Inom KS befintliga ram (utv. reserv)",
            "Mål": (
                "Att förstärka socialtjänstens uppsökande verksamhet för att öka möjligheten att nå "
                "barn med normbrytande beteende tidigare."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 127
        {
            "Åtgärd": "Blåljusdagar och kvällar",
            "Tid": "En blåljusdag/kväll per termin, vanligtvis maj och september",
            "Omfattning": (
                "I aktuella skolor på dagen och i områdena på em/kväll: - Hälsinggårds-skolan/Nedre "
                "Norslund - Södra skolan/Järnet - Britsarvsskolan/Montessoriskolan/Bojsenburg"
            ),
            "Ansvariga": (
                "Faluns BRÅ tillsammans med medverkande aktörer, Kopparstaden, polis, skolan, "
                "Ungdomsstödjare, socialtjänst, ambulans, räddningstjänst, fritid för unga och föreningar."
            ),
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Att fortsätta att öka kunskapen om de medverkande verksamheternas uppdrag - att ge "
                "stöd och hjälp till barn och vuxna – utifrån sina olika uppdrag."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 128
        {
            "Åtgärd": "Sommarlovsaktiviteter som Kopparstaden genomför i bostadsområden",
            "Tid": "Pågående",
            "Omfattning": "Aktuella områden",
            "Ansvariga": "Kopparstaden",
            "Kostnad": "Inom befintlig budget",
            "Mål": "En aktiv fritid och tillgång till trygga vuxna bidrar i det förebyggande arbetet.",
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 129
        {
            "Åtgärd": "Aktiviteter i bostadsområdena t ex Bojsenkarnevalen",
            "Tid": "Pågående",
            "Omfattning": "Aktuella områden",
            "Ansvariga": "Kopparstaden",
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Relationsskapande aktiviteter för att öka sammanhållningen och tilliten mellan "
                "boende samt också med bostadsbolaget"
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 131
        {
            "Åtgärd": (
                "Trygghetsvandringar med påföljande: - Åtgärder i den fysiska miljön för att öka "
                "tryggheten och minska brotten i bostadsområden - Andra trygghetsskapande åtgärder i "
                "bostadsområden"
            ),
            "Tid": "Ca 2,5 timmar/per tillfälle",
            "Omfattning": "Juni 2024: Bojsenburg Hösten 2024/Våren 2025: Järnet och Nedre Norslund",
            "Ansvariga": (
                "Kopparstaden, övriga Fastighetsägare/bostadsbolag, Falu kommun (Faluns BRÅ), Miljö- "
                "och samhällsbyggnadsförvaltningen, Serviceförvaltningen inbjudna aktörer, boende"
            ),
            "Kostnad": (
                "Trygghetsvandringar genomförs inom befintlig budget. Kostnader vid åtgärder tillkommer."
            ),
            "Mål": "För att öka tryggheten och minska brotten i bostadsområden",
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 132
        {
            "Åtgärd": (
                "Grannsamverkan i flerfamiljshus och/eller ”Våga bry dig” där också våld i nära "
                "relation ingår"
            ),
            "Tid": "Start hösten 2024",
            "Omfattning": "Bojsenburg, Järnet och Nedre Norslund",
            "Ansvariga": (
                "Kopparstaden samt övriga bostadsbolag tillsammans med Falu kommun (Faluns BRÅ) och Polisen"
            ),
            "Kostnad": "Inom befintlig budget",
            "Mål": "Öka tryggheten och förebygga brott samt öka sammanhållning och gemenskap",
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 133
        {
            "Åtgärd": (
                "Samverkan mellan aktuella skolor och näringslivet för att få till föreläsningar på "
                "skolorna om yrkeslivets möjligheter"
            ),
            "Tid": "Start hösten 2024",
            "Omfattning": "Västra skolan, Britsarvsskolan, Hälsingårdsskolan och Södra skolan",
            "Ansvariga": (
                "Skolornas rektorer med stöd av grundskolechef/biträdande grundskolechef samt "
                "Svenskt näringsliv/näringslivet"
            ),
            "Kostnad": "Inom befintlig budget",
            "Mål": "Ge ökad inspiration och motivation till barn och unga",
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 134
        {
            "Åtgärd": (
                "Fortsatt arbete för att förebygga bruk/missbruk av ANDTS bland barn och unga i "
                "aktuella områden (och hela kommunen) - årligen uppdatera rutiner/policys i grund- "
                "och gymnasieskolan - använda Skolverkets och CANs material för ANDT(S) i "
                "skolundervisning - föreläsningar för yrkesverksamma och föräldrar - lättillgängligt "
                "råd och stöd till unga och föräldrar samt tydliga kontaktvägar - riktade insatser "
                "av polisen i samverkan med kommunen, bostadsbolag och andra aktörer."
            ),
            "Tid": "Pågående",
            "Omfattning": "I aktuella områden (och hela kommunen)",
            "Ansvariga": (
                "Gemensamt ansvar för främst grundskola, gymnasieskola, socialtjänst, polis, Faluns "
                "BRÅ, bostadsbolag. För utveckling av lättillgängligt råd och stöd för unga och "
                "deras föräldrar gällande missbruk så finns ett gemensamt ansvar där Region Dalarna "
                "och länets kommuner däribland Falu kommun har antagit en avsiktsförklaring om att "
                "starta MiniMaria-mottagningar (primärvård)."
            ),
            "Kostnad": "Inom befintlig budget. Omfördelning/förstärkning öppenvård",
            "Mål": (
                "Förebygga att barn och unga påbörjar ett missbruk Ge tidigt råd och stöd till unga "
                "och föräldrar för att förebygga att unga fastnar i missbruk Samverkan för att "
                "upptäcka och lagföra kriminella individer"
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
    ),
)

FALUN_AREA_2: Final = FocusArea(
    title="2. Otrygghet i stadskärnan – Stölder, droger och andra otrygghetsskapande aktiviteter",
    sheet_name="2 Otrygghet i stadskärnan",
    header=FALUN_HEADER,
    rows=(
        # seed line 159
        {
            "Åtgärd": "Fortsatt och utökad samverkan och stöd till butiker för att förebygga brott",
            "Tid": "Pågående",
            "Omfattning": "Stadskärnan",
            "Ansvarig": (
                "Polisen och kommunen (Faluns BRÅ), fastighetsägare, Centrala stadsrum, Svenskt näringsliv"
            ),
            "Kostnad": "Inom befintlig budget",
            "Mål": "Öka tryggheten och minska brotten i handeln.",
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed lines 160 + 162: the Mål cell continues after a page break
        {
            "Åtgärd": (
                "Fortsatt arbete med att kartlägga, förebygga och tidigt upptäcka personer med "
                "missbruk. Arbeta för att minska närvaron och den negativa påverkan som personer med "
                "narkotikamissbruk/sprutmissbruk har."
            ),
            "Tid": "Till viss del påbörjad, utvecklingsarbete under 2025",
            "Omfattning": "Främst stadskärnan med närliggande områden.",
            "Ansvarig": (
                "Falu kommun, Kommunstyrelsen, Faluns BRÅ, Arbetslivs- och socialförvaltningen, "
                "Polisen Region Dalarna RIA Frivården"
            ),
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Förebygga och tidigt upptäcka missbruk. Förebygga risk att barn och vuxna smittas "
                "av hepatit/HIV från sprutor genom att minska antalet personer som slänger begagnade "
                "sprutor/kanyler. Minska risken för stölder och andra brott som i hög grad kan "
                "kopplas till gruppen."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 163
        {
            "Åtgärd": (
                "Samverkan med handel/paketutlämnare för att förebygga att t ex narkotika, vapen och "
                "kontanter skickas/lämnas ut"
            ),
            "Tid": "Start 2024",
            "Omfattning": "Samtliga i kommunen kan erbjudas",
            "Ansvarig": (
                "Polisen och Falu kommun (Faluns BRÅ) med hjälp av Kommunikatörer, aktuella "
                "handlare, Svenskt näringsliv och Handels"
            ),
            "Kostnad": "Inom befintlig budget. I övrigt inom befintlig budget.",
            "Mål": "Att öka tryggheten i handeln och minska försändelser/smuggling med illegalt innehåll",
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 164
        {
            "Åtgärd": "Trygghetsvandringar i stadskärnan 1-2 gånger per år med påföljande åtgärdsplan.",
            "Tid": "Pågående",
            "Omfattning": "Vår och höst",
            "Ansvarig": "Falu kommun (Faluns BRÅ) tillsammans med Centrala stadsrum bjuder in",
            "Kostnad": (
                "Inom befintlig budget. Kostnader tillkommer för respektive fastighetsägare vid åtgärder."
            ),
            "Mål": (
                "Att tillsammans uppmärksamma brister/risker och ta fram åtgärder som ökar "
                "tryggheten och minskar brotten i stadskärnan."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 165
        {
            "Åtgärd": (
                "Trygghetsskapande och brottsförebyggande åtgärder i området se över möjlighet till: "
                "- ökad belysning, - ökad kamerabevakning, - ordningsvakter inom utvalda områden - "
                "aktivering av ytor, även tillfälliga"
            ),
            "Tid": "Delvis pågående samt utvecklingsarbete från hösten 2024",
            "Omfattning": "",
            "Ansvarig": (
                "Falu kommun tillsammans med andra fastighetsägare, polis, Centrala stadsrum och "
                "andra aktörer"
            ),
            "Kostnad": "Medel behöver avsättas av respektive part vid genomförande av insats/insatser.",
            "Mål": (
                "Att genom ett ökat flöde av människor och genomtänkta åtgärder i den fysiska miljön "
                "bidra till att öka tryggheten och minska risken för brott."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed lines 166 + 168: the Åtgärd cell continues after a page break
        {
            "Åtgärd": (
                "Öka flödet med trygga människor i stadskärnan på olika tider t ex verksamheter som "
                "är igång på olika tider t ex hotell, hemtjänst, tandläkarmottagning, restauranger, "
                "caféer och uteserveringar, fritidsbank, idrottshall/lokal. Föreningar bör engageras."
            ),
            "Tid": "Delsvis pågående",
            "Omfattning": (
                "Stadskärnan, främst runt Knutpunkten/ Holmtorget och Resecentrum/ stationsområdet."
            ),
            "Ansvarig": (
                "Falu kommun, Faluns BRÅ, Näringslivskontoret, Miljö och "
                "samhällsbyggnadsförvaltningen, Serviceförvaltningen/fastighet, Centrala stadsrum, "
                "privata fastighetsägare"
            ),
            "Kostnad": "Inom befintlig budget.",
            "Mål": (
                "Att genom ett ökat flöde av människor bidra till att öka tryggheten och minska "
                "risken för brott."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 169
        {
            "Åtgärd": (
                "Förbättrad samverkan och mer långsiktig planering för Falu kommun gällande "
                "ny-/ombyggnad av fastigheter, utveckling av gator, torg och parker kopplat till "
                "ökad trygghet."
            ),
            "Tid": "Delvis pågående, men behöver stärkas/utvecklas",
            "Omfattning": "Stadskärnan, men även övergripande för kommunen",
            "Ansvarig": (
                "Falu kommun, Miljö och samhällsbyggnadsförvaltningen, BRÅ-samordnare, privata "
                "fastighetsägare"
            ),
            "Kostnad": "Inom befintlig budget.",
            "Mål": (
                "Att genomtänkta och kunskapsbaserade åtgärder i den fysiska miljön öka tryggheten "
                "och minska risken för brott."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 170
        {
            "Åtgärd": (
                "Samverkan med skolor i centrala Falun för att om möjligt sprida skolelever till "
                "andra hållplatser än Knutpunkten."
            ),
            "Tid": "Start hösten 2024",
            "Omfattning": "Kommunala skolor samt friskolor i centrala Falun",
            "Ansvarig": (
                "Falu kommun (Faluns BRÅ), Barn och utbildningsförvaltningen samt friskolorna i "
                "centrala Falun."
            ),
            "Kostnad": "Inom befintlig budget.",
            "Mål": (
                "Att genom samverkan minska risken för konflikter mellan unga samt minska risken för "
                "butikstölder i stadskärnan."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 171
        {
            "Åtgärd": "Krogar mot knark -samverkan -utbildning -rutiner",
            "Tid": "Start hösten 2024",
            "Omfattning": "Samtliga intresserade krogar, restauranger och hotell",
            "Ansvarig": "Falu kommun, polisen, Länsstyrelsen Dalarna",
            "Kostnad": "Inom KS befintliga ram (utv. reserv)",
            "Mål": (
                "Att öka trygghet i krogmiljö, förebygga drogdebut och missbruk hos unga och unga "
                "vuxna. Samt påverka attityder hos unga och vuxna till droger."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 172
        {
            "Åtgärd": (
                "Förebygga cykelstölder i stadskärnan - fortsätta arbetet och samverkan i arbetsgruppen"
            ),
            "Tid": "Pågående",
            "Omfattning": "Stadskärnan (men även till viss del övriga Falun)",
            "Ansvarig": (
                "Falu kommun, polisen, Centrala stadsrum, Falu-P, Länsförsäkringar samt "
                "fastighetsägare i stadskärnan"
            ),
            "Kostnad": "Kostnader för insatser kan tillkomma.",
            "Mål": "Att genom samverkan och åtgärder förebygga stölder av cyklar och elcyklar",
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed lines 173 + 175: Åtgärd, Ansvarig ("BRÅ-" + "samordnare") and Mål continue
        {
            "Åtgärd": "Klassrumsbesök av butikshefer/personal, polis och Ungdomsstödjare i utvalda årskurser",
            "Tid": "Start hösten 2024",
            "Omfattning": "Stadskärnan",
            "Ansvarig": "Centrala stadsum (Butiksforum), BRÅ-samordnare och Kommunpolis samordnar",
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Genom ökad kunskapen om konsekvenserna av butiksstölder bidra till att minska "
                "risken för att barn och unga börjar att begå dessa brott."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 176
        {
            "Åtgärd": (
                "Se över möjlighet att införa förbud mot förtäring av lustgas i Falu kommuns lokala "
                "ordningsföreskrifter och samtidigt en kampanj/information om risker med missbruk av "
                "lustgas."
            ),
            "Tid": "Start december 2024",
            "Omfattning": "Stadskärnan (inom utvalda områden)",
            "Ansvarig": "Stadsjurister med stöd av BRÅ-samordnare/ANDTS-strateg och Polisen.",
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Förebygga missbruk av lustgas genom att införa förbud på strategiska platser. "
                "Möjliggöra beslag."
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
    ),
)

FALUN_AREA_3: Final = FocusArea(
    title="3. Organiserad brottslighet – kriminell ekonomi, otillbörlig påverkan och brott mot välfärden",
    sheet_name="3 Organiserad brottslighet",
    header=FALUN_HEADER,
    rows=(
        # seed line 187
        {
            "Åtgärd": "Utse representanter i förvaltningarna",
            "Tid": "Start 2025",
            "Omfattning": "Hela kommunen samt UHC (Upphandlingscentrum)",
            "Ansvarig": (
                "Kommundirektören tillser att: - samtliga förvaltningschefer utser "
                "ansvariga/representanter för frågorna - ekonomikontoret och personalkontoret utser "
                "ansvariga/representanter - på stadskansliet är Stadsjurister och BRÅ-samordnare "
                "representanter/ansvariga för att sprida kunskap mm - Arbetsgrupp skapas - UHC bjuds in"
            ),
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Att genom ökad kunskap, förbättrade rutiner och samverkan minska riskerna för "
                "felaktiga utbetalningar, otillbörlig påverkan mm"
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 189
        {
            "Åtgärd": (
                "Medvetandegöra – ”Där det finns pengar, finns det brott!” (SKR) - Kunskapsdagar/ "
                "föreläsningar för representanter från verksamheterna i kommunen samt UHC"
            ),
            "Tid": "Start 2025",
            "Omfattning": "Hela kommunen genom utsedda personer i förvaltningarna",
            "Ansvarig": "Kommundirektör med stöd av arbetsgruppen/utvald del av arbetsgruppen",
            "Kostnad": (
                "Inom KS befintliga ram (utv. reserv) Ekonomiskt stöd kommer också att sökas från "
                "BRÅ för 2025."
            ),
            "Mål": (
                "Att genom ökad kunskap, förbättrade rutiner och samverkan minska riskerna för "
                "brott, felaktiga utbetalningar, otillbörlig påverkan mm"
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 190
        {
            "Åtgärd": (
                "- identifiera riskområden - utbildningar inom aktuella områden - sprida aktuell "
                "kunskap till berörda"
            ),
            "Tid": "Start hösten 2024",
            "Omfattning": "Hela kommunen genom utsedda personer i förvaltningarna",
            "Ansvarig": "Arbetsgruppen",
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Att genom ökad kunskap, förbättrade rutiner och samverkan minska riskerna för "
                "brott, felaktiga utbetalningar, otillbörlig påverkan mm"
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 191
        {
            "Åtgärd": (
                "Förbättra/ta fram rutiner för att - förebygga brott och - för att förebygga "
                "otillbörlig påverkan/infiltration"
            ),
            "Tid": "Start hösten 2024",
            "Omfattning": "Hela kommunen genom utsedda personer i förvaltningarna",
            "Ansvarig": "Arbetsgruppen",
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Att genom ökad kunskap, förbättrade rutiner och samverkan minska riskerna för "
                "brott, felaktiga utbetalningar, otillbörlig påverkan mm"
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
        # seed line 192
        {
            "Åtgärd": "Starta en lokal myndighetssamverkan",
            "Tid": "Start hösten 2024",
            "Omfattning": "Berörda",
            "Ansvarig": (
                "Falu kommun Faluns BRÅ utvald del av arbetsgruppen, Polisen och andra berörda "
                "myndigheter Samverkan med näringslivet"
            ),
            "Kostnad": "Inom befintlig budget",
            "Mål": (
                "Att genom ökad kunskap, förbättrade rutiner och samverkan minska riskerna för "
                "brott, felaktiga utbetalningar, otillbörlig påverkan mm"
            ),
            "Uppföljning": "Faluns BRÅ och Kommunstyrelsen en gång per halvår.",
        },
    ),
)

FALUN: Final = PlanWorkbook(
    filename=FALUN_FILE,
    facts=FALUN_FACTS,
    focus_areas=(FALUN_AREA_1, FALUN_AREA_2, FALUN_AREA_3),
    # The seed names no indicators for Falun, so the workbook has no "Indikatorer" sheet.
)

# ---------------------------------------------------------------------------------------------------
# Orsa: Handlingsplan för brottsförebyggande arbete 2024–2025, seed orsa-handlingsplan-2024-2025.txt
# ---------------------------------------------------------------------------------------------------

ORSA_FACTS: Final[tuple[tuple[str, FactValue], ...]] = (
    ("Kommun", "Orsa"),
    ("Kommunkod", "2034"),
    ("Titel", "Handlingsplan för brottsförebyggande arbete 2024–2025"),
    ("Beslutad av", "Kommunstyrelsen, § 104"),
    ("Beslutsdatum", date(2024, 6, 17)),
    ("Revideras senast", date(2026, 6, 17)),  # "Datum för revidering: 2026-06-17"
    ("Diarienummer", "KS 2024/274"),
    ("Revideringsintervall", "Vid behov"),
    ("Ansvarig för revidering", "Beredskaps- och säkerhetssamordnare"),
)

# The seed's second column has no header (focus area 2: "Åtgärd<tab><tab>Samverkan..."); it holds a
# description of each activity, so it is named "Beskrivning" here.
ORSA_HEADER: Final = ("Åtgärd", "Beskrivning", "Samverkan", "Ansvarig", "Uppföljning")

ORSA_AREA_1: Final = FocusArea(
    title="Trygghetsskapande åtgärder",
    sheet_name="1 Trygghetsskapande åtgärder",
    header=ORSA_HEADER,
    rows=(
        # seed lines 118-121: one åtgärd with four sub-rows; the Åtgärd cell is merged over them.
        # In this table the extracted rows have four cells: the roles list sits under "Ansvarig",
        # and no cell is in "Samverkan".
        {
            "Åtgärd": (
                "Systematisk kartläggning av otrygghet i det offentliga rummet Digital trygghetsvandring"
            ),
            "Beskrivning": (
                "Kommunikationsinsats på hemsida och sociala medier: "
                "Varför genomför vi denna digitala trygghetsvandring?"
            ),
            "Samverkan": "",
            "Ansvarig": "BRÅ-Samordnare Ungdoms-samordnare, Kommunikation,",
            "Uppföljning": "Sept. 2024",
        },
        {
            "Åtgärd": MERGED_WITH_ABOVE,
            "Beskrivning": (
                "Platsanalyser och digitala trygghetsvandringar. Kartverktyg och innehåll tas fram i "
                "samverkan med GIS-enheten. Digital trygghetsvandring genomförs under en 4-veckorsperiod."
            ),
            "Samverkan": "",
            "Ansvarig": "BRÅ-Samordnare, Ungdoms-samordnare, Kommunikation, GIS-enheten",
            "Uppföljning": "Hösten 2024",
        },
        {
            "Åtgärd": MERGED_WITH_ABOVE,
            "Beskrivning": (
                "Utvärdering och sammanställning av resultat "
                "Följa upp med en fysisk trygghetsvandring vid behov."
            ),
            "Samverkan": "",
            "Ansvarig": "BRÅ-samordnare, lägesbildsgruppen, Utredare",
            "Uppföljning": "Okt. 2024",
        },
        {
            "Åtgärd": MERGED_WITH_ABOVE,
            "Beskrivning": (
                "Återkoppling BRÅ Beslut kring vidare insatser i arbetet med trygghetsvandring, "
                "kommunikationsinsatser och fysisk planering."
            ),
            "Samverkan": "",
            "Ansvarig": "BRÅ-samordnare, Utredare",
            "Uppföljning": "Lokala BRÅ Orsa",
        },
        # seed lines 122 + 123: "BRÅ-Samordnare," ends in a comma and "Kommunikation" follows in the
        # next cell, so both are read as one Ansvarig list; line 123 carries the row's Uppföljning.
        {
            "Åtgärd": "Förstärkt kommunikation av positiva budskap",
            "Beskrivning": (
                "Kommunicera trygghetsinsatser på kommunens ytor på sociala medier för att öka invånarnas "
                "medvetenhet om det lokala brottsförebyggande och trygghetsskapande arbetet."
            ),
            "Samverkan": "",
            "Ansvarig": "BRÅ-Samordnare, Kommunikation",
            "Uppföljning": "Löpande rapportering till lokala BRÅ Orsa",
        },
    ),
)

ORSA_AREA_2: Final = FocusArea(
    title="Välfärdsbrott och otillåten påverkan",
    sheet_name="2 Välfärdsbrott",
    header=ORSA_HEADER,
    rows=(
        # seed line 139
        {
            "Åtgärd": "Identifiera risker och riskområden",
            "Beskrivning": "Genomför crime proofing-analys av berörda verksamheter.",
            "Samverkan": "BRÅ-samordnare, berörd enhetschef",
            "Ansvarig": "Berörd sektorschef",
            "Uppföljning": "2025",
        },
        # seed line 140
        {
            "Åtgärd": "Skapa organisatoriska förutsättningar",
            "Beskrivning": "Ta fram styrdokument för arbete mot korruption och otillåten påverkan",
            "Samverkan": "BRÅ-samordnare, utredare",
            "Ansvarig": "Kommunledningen",
            "Uppföljning": "2025",
        },
        # seed line 141
        {
            "Åtgärd": "Kompetenshöjning",
            "Beskrivning": (
                "Ta fram kompetenshöjande insatser för berörda verksamheter i arbetet mot välfärdsbrott."
            ),
            "Samverkan": "BRÅ-samordnare",
            "Ansvarig": "Kommunledningen",
            "Uppföljning": "Uppstart höst 2024",
        },
    ),
)

# (Fokusområde, Indikator, Källa): the seed's lists under "Indikatorer och mätpunkter" (lines 129-134)
# and "Indikatorer" (lines 145-147); Källa is the name after the dash, empty where the seed names none.
ORSA_INDICATORS: Final = (
    (
        "Trygghetsskapande åtgärder",
        "Andel som känner sig trygga i sitt bostadsområde när det är mörkt ute",
        "NTU",
    ),
    ("Trygghetsskapande åtgärder", "Medborgarundersökning kring trygghetsfrågor", ""),
    (
        "Trygghetsskapande åtgärder",
        "Antal anmälningar om otrygga platser i offentlig miljö",
        "Digitalt trygghetsvandringar",
    ),
    ("Trygghetsskapande åtgärder", "Antal åtgärdade anmälningar om otrygga platser i offentlig miljö", ""),
    ("Trygghetsskapande åtgärder", "Antal anmälda brott i offentlig miljö", "BRÅ"),
    ("Trygghetsskapande åtgärder", "Andel barn och ungdomar som känner sig trygga i skolan", "LUPP"),
    (
        "Välfärdsbrott och otillåten påverkan",
        (
            "Enkät om välfärdsbrottslighet till nyckelfunktioner kring kunskap, kompetens och behov av "
            "stöd för att bedriva effektivt arbete mot välfärdsbrott."
        ),
        "",
    ),
    ("Välfärdsbrott och otillåten påverkan", "Mått på hur många som gått utbildning", ""),
    ("Välfärdsbrott och otillåten påverkan", "Mått på antal kunskapshöjande aktiviteter", ""),
)

ORSA: Final = PlanWorkbook(
    filename=ORSA_FILE,
    facts=ORSA_FACTS,
    focus_areas=(ORSA_AREA_1, ORSA_AREA_2),
    indicators=ORSA_INDICATORS,
)

# ---------------------------------------------------------------------------------------------------
# Stadsdel: Åtgärdsplan 2025 (template), seed stadsdel-atgardsplan-mall-2025.txt
# ---------------------------------------------------------------------------------------------------
# OCR lost å, ä and ö and misread letters ("6ka" for "öka", "|" for "I"); that damage is kept on
# purpose, headers included. Each cell is the seed's wrapped lines joined with single spaces; where the
# OCR interleaved columns on one line, the fragments were sorted back into their columns.

STADSDEL_SHEET: Final = "Atgardsplan"
STADSDEL_TITLE: Final = "Atgardsplan 2025"
STADSDEL_INSTRUCTIONS: Final = (
    # seed lines 3-9
    (
        "Enligt lag (2023:196) om kommuners ansvar for brottsférebyggande arbete ska "
        "kommunerna ta fram en lagesbild 6ver brottsligheten i kommunen. Med lagesbilden som "
        "underlag, och utifran genomférd orsaksanalys, ska atgarder for att forebygga brott "
        "och 6ka tryggheten inom respektive prioriterat samverkansomrade anges. "
        "Atgardsplanen utgar fran de prioriterade samverkansomradena i den centrala "
        "samverkanoverenskommelsen. Det finns en flik per prioriterat samverkansomrade. Har "
        "stadsdelsférvaltningen och lokalpolisomradet enats om ytterligare samverkansomraden "
        "sa anges de dven har. Infoga i sa fall en ny flik, en mall pa en sadan flik finns "
        "under punkt 6. Langst till hdger bland flikarna finns en analysflik som anger "
        "antalet problemomraden, identifierade orsaker och atgarder under respektive "
        "prioriterat omrade."
    ),
    # seed lines 11-19
    (
        "| atgardsplanen beskrivs det operativa arbetet som ska genomforas inom respektive "
        "prioriterat samverkansomrade. For att lyckas med att ta fram atgarder som paverkar "
        "de identifierade utmaningarna, kravs att en val genomférd analys av mojliga orsaker "
        "till problemet och konkreta mal finns. Utga fran er lagesbild och orsaksanalys for "
        "att formulera atgarder. Atgéardsplanen fortydligar om det ar en punktinsats eller "
        "en del av ordinarie arbete. Insatserna specificeras med en tydlig kortfattad "
        "beskrivning av vad som ska goras, hur det ska utforas, vilka som ar ansvariga och "
        "tidsplan. Atgarderna som anges kan bade vara sddana som genomfors i samverkan med "
        "polisen och pa egen hand i den egna organisationen. Sortera i mojligaste man i "
        "vilken ordning olika atgarder ska genomféras. Bérja med det som ger omedelbar "
        "effekt och bygg pa med atgéarder som tar langre tid. Koppla operativa mal till "
        "respektive atgard. Arbeta med SMART:a mal (Specifika, Matbara, Accepeterade, "
        "Realistiska, Tidsatta). Kolumnen géllande uppfoljning fylls inte i vid upprattandet "
        "av atgardsplan men anges redan nu for att underlatta vid uppféljningen i slutet av aret."
    ),
    # seed line 24
    "Atgirdsplaner ska beslutas av stadsdelsnamnderna och limnas in i samband med tertialrapport 1.",
)
STADSDEL_HEADER: Final = (
    "Prioriterat omrade",
    "Problemomrade",
    "Orsak",
    "Atgard",
    "Operativa mal",
    "Nar",
    "Ansvarig",
    "Uppfoljning",
)
# The prioritised areas are named as in the seed's summary tab (lines 530-537) and, for the last one,
# as the tab's own title (lines 479-480). "Uppfoljning" is empty everywhere: the template says the
# column is filled in only at the follow-up at the end of the year.
STADSDEL_ROWS: Final[tuple[dict[str, CellText], ...]] = (
    # seed lines 117-148
    {
        "Prioriterat omrade": "Systemhotade brottslighet",
        "Problemomrade": "Vilfardsbrottslighet",
        "Orsak": (
            "Kommunen kan komma att kopa in tjanster fran mindre seriosa aktorer - antingen inom ramen "
            "for upphandlade leverantorsavtal eller utanfor avtal"
        ),
        "Atgard": (
            "Avtalsuppféljning - Gallande férvaltningens egna upphandlingar sker avtalsuppfoljning med "
            "upphandlade leverantorer kontinuerligt, och i samband med dem gors ekonomiska kontroller av "
            "leverantorerna. Genom utdkad intern kontroll sakerstaller férvaltningen vidare att "
            "ink6psprocessen bedrivs effektivt och att inkdp sker genom stadens upphandlade leverantérer."
        ),
        "Operativa mal": "Andelen prioriterade avtal dar uppféljning genomforts",
        "Nar": "",
        "Ansvarig": "Avtalsansvarig",
        "Uppfoljning": "",
    },
    # seed lines 150-161
    {
        "Prioriterat omrade": "Systemhotade brottslighet",
        "Problemomrade": "Vilfardsbrottslighet",
        "Orsak": "Svarigheter att urskilja vad som ar valfardsbrottslighet.",
        "Atgard": "Fortsatt kompetensutveckling samt deltagande i stadsoévergripande natverk",
        "Operativa mal": "",
        "Nar": "Linjeverksamhet",
        "Ansvarig": "Avdelningschef",
        "Uppfoljning": "",
    },
    # seed lines 163-177
    {
        "Prioriterat omrade": "Systemhotade brottslighet",
        "Problemomrade": "Otillaten paverkan",
        "Orsak": "Olika typer av paverkan pa tjanstepersoner som forsvarar tjansteutévningen.",
        "Atgard": "Oka kunskapen om otillaten paverkan samt genomfora skyddsdialoger",
        "Operativa mal": "JSYSTCTITAatISK kontroll i VoR visar att arbetssatten",
        "Nar": "",
        "Ansvarig": "Avdelningschef",
        "Uppfoljning": "",
    },
    # seed lines 234-268
    {
        "Prioriterat omrade": "Sarskilt utsatta och sarbara brottsoffer",
        "Problemomrade": "Aldre",
        "Orsak": (
            "| senaste trygghetmatningen (2023) framkom det att dldre i stadsdelen upplever storst oro i "
            'offentliga miljoer sasom "utanfor porten och pa garden" samt "pa vagen till och fran bostaden".'
        ),
        "Atgard": "Information, kunskapsspridning, ex pa manadsmoten hos pensionarsorganisation er",
        "Operativa mal": (
            "Deltagandei trygghetsvandringar fran pensiondrsorganisatio ner. "
            "Delta pa manadsmoten hos pensiondrsorganisatio ner arligen."
        ),
        "Nar": "",
        "Ansvarig": "Avd AO tillsammans med polisen",
        "Uppfoljning": "",
    },
    # seed lines 273-296 (columns interleaved by the OCR)
    {
        "Prioriterat omrade": "Sarskilt utsatta och sarbara brottsoffer",
        "Problemomrade": "Aldre",
        "Orsak": "Utsatthet for brott i hemmet",
        "Atgard": (
            "Hemtjansten delar ut informationsmaterial om brott mot aldre och samtalar med den aldre om "
            'hur man kan skydda sig. Vid "vagor" av bedragerier tas detta upp pa enheterna sa att '
            "hemtjansten paminner de dldre om hur man ska agera."
        ),
        "Operativa mal": (
            "Att nd samtliga dldre med insatser av kommunal hemtjanst med information for att forebygga "
            "att de utsatts for brott"
        ),
        "Nar": "Linjearbete",
        "Ansvarig": "Enhetschefer hemtjanst samt bestallare (AF kommunicerar med bvrig HT)",
        "Uppfoljning": "",
    },
    # seed lines 358-384
    {
        "Prioriterat omrade": "Sarskilt utsatta och sarbara brottsoffer",
        "Problemomrade": "Personer med funktionsnedsattning",
        "Orsak": (
            "Personer med funktionsnedsattni ng sticker utialla fragor relaterat till upplevd otrygghet "
            "i senaste trygghetsmatninge n (2023) for stadsdelen."
        ),
        "Atgard": (
            "Gruppbostdderna analyserar och bedémer risker inom gruppbostaden, formulerar och foljer upp "
            "handlingsplaner systematiskt"
        ),
        "Operativa mal": "Upplevd o6kad trygghet",
        "Nar": "Linjearbete",
        "Ansvarig": "Utforare LSS",
        "Uppfoljning": "",
    },
    # seed lines 389-414
    {
        "Prioriterat omrade": "Sarskilt utsatta och sarbara brottsoffer",
        "Problemomrade": "Personer med funktionsnedsattning",
        "Orsak": (
            "| senaste Trygghetsmatninge n (2023) uppger 25 % med funktionnedsattnin g att nagon i deras "
            "hushall under de 12 senaste manaderna har utsatts for nagot brott."
        ),
        "Atgard": (
            "Foljer och anvander stadens rutiner for hanetring av egna medel. Egenkontroller genomfors."
        ),
        "Operativa mal": "Sdker hantering av egna medel tillampas",
        "Nar": "Linjearbete",
        "Ansvarig": "Utforare LSS",
        "Uppfoljning": "",
    },
    # seed lines 416-443 (columns interleaved by the OCR; the Ansvarig text is cut off in the seed)
    {
        "Prioriterat omrade": "Sarskilt utsatta och sarbara brottsoffer",
        "Problemomrade": "Utsatta vald i nara relation",
        "Orsak": "Kontakt med bistandshandlaggar e/stédmaijligheter tas i ett sent och akut skede",
        "Atgard": (
            "Okad kunskap till personal. Sprider informationsmaterial pa olika satt och deltar i kampanjer"
        ),
        "Operativa mal": "Att nd ut med information till medborgare forebyggande",
        "Nar": "Linjearbete",
        "Ansvarig": "Enheterna inom utforare och bestéllare samt",
        "Uppfoljning": "",
    },
    # seed lines 518-527 (columns interleaved by the OCR)
    {
        "Prioriterat omrade": "Kriminella miljoer och livsstilar",
        "Problemomrade": "Kriminella livstilar",
        "Orsak": "Konstaterad kriminalitet",
        "Atgard": (
            "Stark samverkan mellan bestdllare/utforare. Ingd i stadsovergripande natverk och styrning."
        ),
        "Operativa mal": "",
        "Nar": "linjeverksamhet",
        "Ansvarig": "Enh prevention och trygghet, vuxenenheten, barn och familj.",
        "Uppfoljning": "",
    },
)

# ---------------------------------------------------------------------------------------------------
# Writing the workbooks
# ---------------------------------------------------------------------------------------------------

_WIDE_COLUMNS: Final = {"Åtgärd", "Atgard", "Mål", "Beskrivning", "Orsak", "Indikator"}
_BOLD: Final = Font(bold=True)
_WRAP: Final = Alignment(wrap_text=True, vertical="top")


def _cell(value: CellText | FactValue) -> str | date | None:
    """What goes into the sheet: an empty string is an empty cell."""
    if isinstance(value, _MergedWithAbove) or value == "":
        return None
    return value


def _check_keys(row: dict[str, CellText], header: tuple[str, ...], where: str) -> None:
    if tuple(row) != header:
        raise ValueError(f"{where}: the row's keys {tuple(row)} differ from the header {header}.")


def _layout(sheet: Worksheet, header: tuple[str, ...], header_row: int) -> None:
    """Bold header, wrapped text, readable widths, panes frozen under the header."""
    for column, name in enumerate(header, start=1):
        sheet.cell(header_row, column).font = _BOLD
        sheet.column_dimensions[get_column_letter(column)].width = 60 if name in _WIDE_COLUMNS else 28
    for row in sheet.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = _WRAP
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)


def _write_rows(
    sheet: Worksheet, header: tuple[str, ...], rows: tuple[dict[str, CellText], ...], where: str
) -> None:
    """Append the header and the rows; MERGED_WITH_ABOVE cells become vertical merges."""
    sheet.append(list(header))
    header_row = sheet.max_row
    merge_start: dict[int, int] = {}  # column → first row of the current merge run
    for row in rows:
        _check_keys(row, header, where)
        sheet.append([_cell(row[name]) for name in header])
        current = sheet.max_row
        for column, name in enumerate(header, start=1):
            if row[name] is MERGED_WITH_ABOVE:
                if current == header_row + 1:
                    raise ValueError(f"{where}: the first row cannot continue the cell above it.")
                merge_start.setdefault(column, current - 1)
            elif column in merge_start:
                sheet.merge_cells(
                    start_row=merge_start.pop(column),
                    start_column=column,
                    end_row=current - 1,
                    end_column=column,
                )
    last = sheet.max_row
    for column, first in merge_start.items():
        sheet.merge_cells(start_row=first, start_column=column, end_row=last, end_column=column)
    _layout(sheet, header, header_row)


def _write_focus_area(workbook: Workbook, area: FocusArea) -> None:
    sheet = workbook.create_sheet(area.sheet_name)
    sheet.append([f"Fokusområde: {area.title}"])
    sheet["A1"].font = _BOLD
    if area.goal:
        sheet.append([f"Övergripande mål: {area.goal}"])
    sheet.append([None])
    _write_rows(sheet, area.header, area.rows, area.sheet_name)


def _write_facts(workbook: Workbook, facts: tuple[tuple[str, FactValue], ...]) -> None:
    sheet = workbook.create_sheet("Plan")
    for key, value in facts:
        sheet.append([key, _cell(value)])
        if isinstance(value, date):
            sheet.cell(sheet.max_row, 2).number_format = "yyyy-mm-dd"
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 100
    for row in sheet.iter_rows():
        row[0].font = _BOLD


def _write_indicators(workbook: Workbook, indicators: tuple[tuple[str, str, str], ...]) -> None:
    sheet = workbook.create_sheet("Indikatorer")
    header = ("Fokusområde", "Indikator", "Källa")
    sheet.append(list(header))
    for indicator in indicators:
        sheet.append([_cell(value) for value in indicator])
    _layout(sheet, header, 1)


def _save(workbook: Workbook, path: Path) -> Path:
    """Save with pinned timestamps (document properties and zip entries): same data, same bytes."""
    workbook.properties.creator = "Samordna examples/build_examples.py"
    workbook.properties.lastModifiedBy = "Samordna examples/build_examples.py"
    workbook.properties.created = FIXED_TIMESTAMP
    workbook.properties.modified = FIXED_TIMESTAMP
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()  # Workbook.save would stamp "modified" with now()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            pinned = zipfile.ZipInfo(entry.filename, date_time=_ZIP_TIMESTAMP)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o644 << 16
            target.writestr(pinned, source.read(entry.filename))
    return path


def _new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def build_plan(plan: PlanWorkbook, out_dir: Path) -> Path:
    """Write one plan workbook (Plan sheet, focus-area sheets, indicators) into ``out_dir``."""
    workbook = _new_workbook()
    if plan.facts:
        _write_facts(workbook, plan.facts)
    for area in plan.focus_areas:
        _write_focus_area(workbook, area)
    if plan.indicators:
        _write_indicators(workbook, plan.indicators)
    return _save(workbook, out_dir / plan.filename)


def build_stadsdel(out_dir: Path) -> Path:
    """Write the stadsdel template: title and instruction rows, then one table with the area as a column.

    No Plan sheet: the template names no kommun, the importer takes it from a command-line option.
    """
    workbook = _new_workbook()
    sheet = workbook.create_sheet(STADSDEL_SHEET)
    sheet.append([STADSDEL_TITLE])
    sheet["A1"].font = _BOLD
    sheet.append([None])
    for paragraph in STADSDEL_INSTRUCTIONS:
        sheet.append([paragraph])
    sheet.append([None])
    _write_rows(sheet, STADSDEL_HEADER, STADSDEL_ROWS, STADSDEL_SHEET)
    return _save(workbook, out_dir / STADSDEL_FILE)


def build_all(out_dir: Path) -> list[Path]:
    """Write the three workbooks into ``out_dir`` (created if missing) and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [build_plan(FALUN, out_dir), build_plan(ORSA, out_dir), build_stadsdel(out_dir)]


if __name__ == "__main__":
    for written in build_all(HERE):
        print(written.relative_to(HERE.parent))
