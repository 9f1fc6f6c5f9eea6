"""What leaves the building prints: every document for the demo (Falun) and for an empty kommun (Orsa,
its directory and plan and nothing else), converted by LibreOffice to PDF in one run: A4 on every page,
page counts within bounds, no word broken inside a table cell, Swedish throughout. PNGs of the first
pages are kept under var/test-artefacts/ for a person to look at."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from lxml import etree
from sqlmodel import Session

from cycles.est import est_members
from cycles.est_calendar import meeting_date
from cycles.est_decisions import record_attendance
from documents.office import convert_files
from documents.word import CELL_PADDING_PT, TWIPS_PER_PT, longest_word_pt
from importers.indicator_values import import_indicator_values
from importers.status_import import write_status_sheet
from models.db import make_engine, transaction
from models.municipality import Municipality, find_municipality
from models.rhythm import rhythm_from_json
from reports.est_agenda import PROTOCOL, agenda_charts, compile_agenda, render_docx, render_text
from reports.follow_up_report import compile_report, parse_period
from reports.forum_agenda import FORUM_KINDS, compile_forum_agenda
from reports.forum_agenda import render_docx as forum_docx
from reports.report_documents import draw_charts, report_docx
from reports.year_wheel import wheel_events, wheel_image
from services.demo import run_demo
from tests.conftest import EXAMPLES, REPO, import_example, import_falun
from tests.office import require_program
from tests.report_support import simulate_in_place

ARTEFACTS = REPO / "var" / "test-artefacts"
GENERATED = datetime(2025, 7, 1, 8, tzinfo=UTC)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A4_POINTS = (595.3, 841.9)
FALUN_MEETING = 13  # 24 June 2025: the demo decided an insats at it (flows.est_demo.DEMO_DECISIONS)
EMPTY_MEETING = 13
STATUS_DAY = date(2025, 4, 22)  # the 2025H1 round is open: every measure waits for its report
# Pages each document may take (the report was 25 pages before this was built, 41 for a new kommun).
PAGE_BOUNDS = {
    "falun-rapport": (6, 14),
    "falun-dagordning": (2, 6),
    "falun-protokoll": (2, 6),
    "falun-forum": (1, 4),
    "falun-statusark": (1, 3),
    "tom-rapport": (2, 8),
    "tom-dagordning": (1, 2),
    "tom-protokoll": (1, 2),
    "tom-forum": (1, 2),
    "tom-statusark": (1, 1),
}
LANDSCAPE_PAGES = {"falun-rapport": (1, 8), "tom-rapport": (1, 5)}


@dataclass(frozen=True, slots=True)
class Printed:
    source: Path  # the DOCX or XLSX
    pdf: Path

    @property
    def name(self) -> str:
        return self.source.stem


def _copy_template(sqlite_template: Path, folder: Path, name: str) -> sa.Engine:
    path = folder / f"{name}.db"
    shutil.copyfile(sqlite_template, path)
    return make_engine(f"sqlite:///{path}")


def _kommun(session: Session, code: str) -> Municipality:
    found = find_municipality(session, code)
    assert found is not None
    return found


def _falun(sqlite_template: Path, folder: Path, out: Path) -> sa.Engine:
    """Falun with half a year of simulated follow-up (the status sheet written while the round was
    open), indicators, a year of EST incidents with decisions, and one meeting's attendance."""
    engine = _copy_template(sqlite_template, folder, "falun")
    with transaction(engine) as session:
        municipality_id = import_falun(session)
        import_indicator_values(session, EXAMPLES / "falun-indikatorer.csv", municipality_id)
    simulate_in_place(engine, "2080", date(2025, 1, 1), STATUS_DAY)
    with transaction(engine) as session:
        write_status_sheet(session, _kommun(session, "2080"), out / "falun-statusark.xlsx", STATUS_DAY)
    simulate_in_place(engine, "2080", STATUS_DAY + timedelta(days=1), date(2025, 6, 30))
    run_demo(engine, folder / "demo")
    with transaction(engine) as session:
        falun = _kommun(session, "2080")
        members = est_members(session, falun.id or 0)
        record_attendance(session, falun, FALUN_MEETING, members[:5])
    return engine


def _empty(sqlite_template: Path, folder: Path, out: Path) -> sa.Engine:
    """A kommun that has just started: Orsa's directory and plan, no reports, no incidents."""
    engine = _copy_template(sqlite_template, folder, "tom")
    with transaction(engine) as session:
        import_example(session, "orsa-katalog.yaml", "orsa-handlingsplan-2024-2025.xlsx")
        write_status_sheet(session, _kommun(session, "2034"), out / "tom-statusark.xlsx", STATUS_DAY)
    return engine


def _render(engine: sa.Engine, code: str, prefix: str, out: Path) -> None:
    """The kommun's report (2025H1), EST agenda and protocol, BRÅ agenda and årshjul, into ``out``."""
    with Session(engine) as session:
        municipality = _kommun(session, code)
        report = compile_report(session, municipality.id or 0, parse_period("2025H1"))
        (out / f"{prefix}-rapport.docx").write_bytes(
            report_docx(report, draw_charts(report), generated=GENERATED)
        )
        rhythm = rhythm_from_json(municipality.rhythm)
        number = FALUN_MEETING if code == "2080" else EMPTY_MEETING
        agenda = compile_agenda(
            session, municipality, number, meeting_date(rhythm, number) - timedelta(days=2)
        )
        (out / f"{prefix}-dagordning.docx").write_bytes(render_docx(agenda))
        (out / f"{prefix}-protokoll.docx").write_bytes(
            render_docx(compile_agenda(session, municipality, number), PROTOCOL)
        )
        forum = compile_forum_agenda(session, municipality, FORUM_KINDS["bra"], as_of=date(2025, 5, 1))
        (out / f"{prefix}-forum.docx").write_bytes(forum_docx(forum))
        events = wheel_events(session, municipality, 2025)
        (out / f"{prefix}-arshjul.pdf").write_bytes(wheel_image(events, 2025, municipality, "pdf"))


@pytest.fixture(scope="module")
def printed(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Printed]:
    """Every document of both kommuner, and its PDF from one LibreOffice run."""
    require_program("soffice")
    folder = tmp_path_factory.mktemp("utskrift")
    out = folder / "dokument"
    out.mkdir()
    engines = {"2080": _falun(sqlite_template, folder, out), "2034": _empty(sqlite_template, folder, out)}
    for code, prefix in (("2080", "falun"), ("2034", "tom")):
        _render(engines[code], code, prefix, out)
    for engine in engines.values():
        engine.dispose()
    sources = sorted([*out.glob("*.docx"), *out.glob("*.xlsx")])
    converted = convert_files(sources, folder / "pdf")
    documents = {source.stem: Printed(source, pdf) for source, pdf in converted.items()}
    documents |= {path.stem: Printed(path, path) for path in out.glob("*-arshjul.pdf")}
    return documents


def _pages(pdf: Path) -> list[tuple[float, float]]:
    """Each page's (width, height) in points, from pdfinfo."""
    info = subprocess.run(
        [require_program("pdfinfo"), "-f", "1", "-l", "999", str(pdf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        (float(width), float(height))
        for width, height in re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+) pts", info)
    ]


def _pdf_text(pdf: Path) -> str:
    text = subprocess.run(
        [require_program("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return unicodedata.normalize("NFKC", text)


def _docx_xml(path: Path, part: str) -> etree._Element:
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read(part))


def _text_of(element: etree._Element) -> str:
    return "".join(node.text or "" for node in element.iter(f"{W}t"))


def test_every_page_is_a4(printed: dict[str, Printed]) -> None:
    """Every page of every document is A4, in portrait or landscape (the issue found US Letter)."""
    assert len(printed) == 12
    for name, document in printed.items():
        pages = _pages(document.pdf)
        assert pages, name
        for width, height in pages:
            assert sorted((round(width), round(height))) == [round(A4_POINTS[0]), round(A4_POINTS[1])], name


def test_page_counts_are_within_bounds(printed: dict[str, Printed]) -> None:
    """The 33-measure report fits a handful of landscape pages, the agenda and protocol a few pages, the
    status sheet one page wide, the årshjul one page; an empty kommun's documents are short."""
    for name, (low, high) in PAGE_BOUNDS.items():
        pages = _pages(printed[name].pdf)
        assert low <= len(pages) <= high, f"{name}: {len(pages)} sidor"
    for name, (low, high) in LANDSCAPE_PAGES.items():
        wide = [page for page in _pages(printed[name].pdf) if page[0] > page[1]]
        assert low <= len(wide) <= high, f"{name}: {len(wide)} liggande sidor"
    for name in ("falun-arshjul", "tom-arshjul"):
        assert len(_pages(printed[name].pdf)) == 1


def test_no_word_is_broken_inside_a_table_cell(printed: dict[str, Printed]) -> None:
    """Every table column is at least as wide as its longest word at the cell's font size, and every
    word of the tables comes out of LibreOffice whole (as often in the PDF as in the document)."""
    checked = 0
    for name, document in printed.items():
        if document.source.suffix != ".docx":
            continue
        body = _docx_xml(document.source, "word/document.xml")
        for table in body.iter(f"{W}tbl"):
            widths = [int(column.get(f"{W}w")) / TWIPS_PER_PT for column in table.iter(f"{W}gridCol")]
            for row in table.iter(f"{W}tr"):
                for cell, width in zip(row.findall(f"{W}tc"), widths, strict=True):
                    run = cell.find(f".//{W}r")
                    if run is None:
                        continue
                    size = int(run.find(f"{W}rPr/{W}sz").get(f"{W}val")) / 2
                    flag = run.find(f"{W}rPr/{W}b")
                    bold = flag is not None and flag.get(f"{W}val") not in {"0", "false"}
                    needed = longest_word_pt(_text_of(cell), size, bold=bold) + 2 * CELL_PADDING_PT
                    assert needed <= width, f"{name}: {_text_of(cell)!r} needs {needed:.1f} pt of {width:.1f}"
                    checked += 1
        words = Counter(
            word
            for paragraph in body.iter(f"{W}p")
            if any(True for _ in paragraph.iterancestors(f"{W}tbl"))
            for word in re.findall(r"\w{6,}", _text_of(paragraph))
        )
        in_pdf = Counter(re.findall(r"\w{6,}", _pdf_text(document.pdf)))
        broken = {word: count for word, count in words.items() if in_pdf[word] < count}
        assert not broken, f"{name}: ord brutna i PDF: {sorted(broken)[:10]}"
    assert checked > 500


def test_documents_are_swedish(printed: dict[str, Printed]) -> None:
    """sv-SE in the document defaults and on every style; half-years in words, decimal commas, no
    internal keys and no CLI command in what the documents say."""
    for name, document in printed.items():
        if document.source.suffix != ".docx":
            continue
        styles = _docx_xml(document.source, "word/styles.xml")
        default = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
        assert default is not None
        assert default.get(f"{W}val") == "sv-SE", name
        for style in styles.iter(f"{W}style"):
            lang = style.find(f"{W}rPr/{W}lang")
            assert lang is not None, f"{name}: {style.get(f'{W}styleId')}"
            assert lang.get(f"{W}val") == "sv-SE"
        core = _docx_xml(document.source, "docProps/core.xml")
        assert "sv-SE" in [node.text for node in core.iter("{http://purl.org/dc/elements/1.1/}language")]
        text = _pdf_text(document.pdf)
        assert not re.search(r"\b20\d\dH[12]\b", text), name
        assert not re.search(r"\b[a-zåäö]+_[a-zåäö]+\b", text), name
        assert "samordna " not in text, name
        assert "Hot-" not in text, name
    report = _pdf_text(printed["falun-rapport"].pdf)
    assert "Halvårsuppföljning första halvåret 2025" in report
    assert "6,4 index 0–10" in report  # an indicator value from examples/falun-indikatorer.csv
    assert "6.4" not in report


def test_report_has_contents_with_page_numbers(printed: dict[str, Printed]) -> None:
    """The report's contents list shows on the first page with page numbers that LibreOffice computed."""
    first = subprocess.run(
        [
            require_program("pdftotext"),
            "-f",
            "1",
            "-l",
            "1",
            "-layout",
            str(printed["falun-rapport"].pdf),
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Innehåll" in first
    numbers = [
        int(found)
        for found in re.findall(r"Fokusområde \d\.(?:(?!Fokusområde).)*?\.{4,} *(\d+)", first, re.DOTALL)
    ]
    assert len(numbers) == 3
    assert numbers == sorted(numbers)
    assert numbers[0] >= 2  # the focus areas start on the landscape pages after the rules


def test_status_sheet_prints_one_page_wide(printed: dict[str, Printed]) -> None:
    """The status sheet is set to A4 landscape, one page wide, its header row on every page; the
    instructions name no command (the sheet goes to partners)."""
    workbook = openpyxl.load_workbook(io.BytesIO(printed["falun-statusark"].source.read_bytes()))
    sheet = workbook.active
    assert sheet is not None
    assert sheet.max_row > 30  # every measure of the round
    assert (sheet.page_setup.paperSize, sheet.page_setup.orientation) == (9, "landscape")
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows in {"4:4", "$4:$4"}
    assert "samordna " not in str(sheet["A2"].value)
    for width, height in _pages(printed["falun-statusark"].pdf):
        assert width > height


def test_empty_period_is_said_in_words(
    printed: dict[str, Printed], sqlite_template: Path, tmp_path: Path
) -> None:
    """A period without incidents: a sentence, no chart, no table of zeros, no percentage from nothing."""
    text = _pdf_text(printed["tom-dagordning"].pdf)
    assert "Inga händelser rapporterades under perioden" in text
    assert "%" not in text
    with zipfile.ZipFile(printed["tom-dagordning"].source) as archive:
        assert not [name for name in archive.namelist() if name.startswith("word/media/")]
    engine = _copy_template(sqlite_template, tmp_path, "tom")
    with transaction(engine) as session:
        import_example(session, "orsa-katalog.yaml", "orsa-handlingsplan-2024-2025.xlsx")
        agenda = compile_agenda(session, _kommun(session, "2034"), EMPTY_MEETING)
    engine.dispose()
    assert agenda_charts(agenda) == {}
    assert "Inga händelser rapporterades" in render_text(agenda)


def test_protocol_records_attendance_and_the_insatser_open_after_the_meeting(
    printed: dict[str, Printed],
) -> None:
    """The protocol says who was there and who was not, and lists the insats just decided among the
    open ones; the agenda fills in the next meeting."""
    protocol = _pdf_text(printed["falun-protokoll"].pdf)
    present, absent = protocol.split("Närvarande:")[1].split("Frånvarande:")
    assert present.count("(") == 5  # five members, each with their organisation
    assert "Sofia Engström" in absent.split("1. Lägesbild")[0]
    open_after = protocol.split("Öppna insatser efter mötet")[1]
    assert "Fältare och fritidsledare kvällstid" in open_after
    assert "Inga öppna insatser" not in open_after
    agenda = _pdf_text(printed["falun-dagordning"].pdf)
    assert "Nästa möte: EST-möte 14, tisdag 8 juli 2025 kl. 09:00–10:30" in agenda
    assert "Brännpunkter" in agenda
    assert "Tidsmönster" in agenda


def test_first_pages_are_kept_as_png_for_a_person_to_look_at(printed: dict[str, Printed]) -> None:
    """PNGs of the first two pages of each document land in var/test-artefacts/, each with ink on it."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for name, document in sorted(printed.items()):
        stem = ARTEFACTS / name
        subprocess.run(
            [
                require_program("pdftoppm"),
                "-png",
                "-r",
                "50",
                "-f",
                "1",
                "-l",
                "2",
                str(document.pdf),
                str(stem),
            ],
            check=True,
        )
    written = sorted(ARTEFACTS.glob("*.png"))
    print(f"\nSidor att titta på: {ARTEFACTS}")  # noqa: T201 - the test's artefacts, for a person
    assert {path.name.rsplit("-", 1)[0] for path in written} >= set(printed)
    for path in written:
        assert path.stat().st_size > 2_000
