"""The follow-up report's documents: DOCX opens in LibreOffice, HTML renders in Chromium, XLSX re-imports."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from importers.directory_import import import_directory_file
from importers.indicator_values import import_indicator_values
from importers.plan_import import import_plan_file
from models.db import make_engine, transaction
from models.directory import Forum, Organisation, Person
from models.plan import FocusArea, Measure, MeasureParty
from reports.follow_up_report import LIGHT_RULES, FollowUpReport, compile_report, parse_period
from reports.plan_export import export_plan_xlsx
from reports.report_documents import draw_charts, report_docx, report_html
from tests.conftest import EXAMPLES, import_falun
from tests.office import chromium, libreoffice_convert
from tests.report_support import simulate_in_place

GENERATED = datetime(2025, 7, 1, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def simulated(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    path = tmp_path_factory.mktemp("rapport") / "falun.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with transaction(engine) as session:
        municipality_id = import_falun(session)
        import_indicator_values(session, EXAMPLES / "falun-indikatorer.csv", municipality_id)
    simulate_in_place(engine, "2080", date(2025, 1, 1), date(2025, 6, 30))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def report(simulated: sa.Engine) -> FollowUpReport:
    with Session(simulated) as session:
        return compile_report(session, 1, parse_period("2025H1"))


def test_docx_opens_in_libreoffice(report: FollowUpReport, tmp_path: Path) -> None:
    """The DOCX report is a document LibreOffice opens and converts to PDF."""
    source = tmp_path / "uppfoljning.docx"
    source.write_bytes(report_docx(report, draw_charts(report), generated=GENERATED))
    pdf = libreoffice_convert(source, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_size > 20_000  # text, tables and the charts


def test_html_renders_in_chromium(report: FollowUpReport, tmp_path: Path) -> None:
    """The HTML report renders in Chromium with one row per measure, the rule table and loaded charts."""
    page_file = tmp_path / "uppfoljning.html"
    page_file.write_text(report_html(report, draw_charts(report), generated=GENERATED), encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page()
        page.goto(page_file.as_uri())
        ids = page.eval_on_selector_all("tr.atgard", "rows => rows.map(r => Number(r.dataset.measureId))")
        assert sorted(ids) == sorted(line.measure_id for line in report.lines)
        lights = page.eval_on_selector_all("tr.atgard", "rows => rows.map(r => r.dataset.ljus)")
        assert lights == [line.light.value for line in report.lines]
        rules = page.eval_on_selector_all(
            "table.regler td:nth-child(4)", "cells => cells.map(c => c.textContent)"
        )
        assert rules == [rule.text for rule in LIGHT_RULES]
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
        assert len(widths) >= 1 + 5  # overview + five indicators
        assert all(width > 0 for width in widths)
        assert page.inner_text("strong.saknade") == str(len(report.missing))
        page.close()


def _plan_shape(session: Session, plan_id: int) -> dict[str, object]:
    areas = list(
        session.exec(select(FocusArea).where(FocusArea.plan_id == plan_id).order_by(col(FocusArea.position)))
    )
    measures = list(
        session.exec(select(Measure).where(Measure.plan_id == plan_id).order_by(col(Measure.position)))
    )
    names = {("o", o.id): o.name for o in session.exec(select(Organisation))}
    names |= {("p", p.id): p.name for p in session.exec(select(Person))}
    names |= {("f", f.id): f.name for f in session.exec(select(Forum))}
    parties = {
        m.position: [
            (
                p.role,
                names.get(("o", p.organisation_id))
                or names.get(("p", p.person_id))
                or names.get(("f", p.forum_id)),
            )
            for p in session.exec(
                select(MeasureParty)
                .where(MeasureParty.measure_id == m.id)
                .order_by(col(MeasureParty.position))
            )
        ]
        for m in measures
    }
    area_titles = {a.id: a.title for a in areas}
    return {
        "areas": [(a.title, a.overall_goal) for a in areas],
        "measures": [
            (
                area_titles[m.focus_area_id],
                m.title,
                m.description,
                m.raw_period,
                m.raw_scope,
                m.raw_responsible,
                m.raw_partners,
                m.raw_cost,
                m.raw_goal,
                m.raw_follow_up,
                m.period_start,
                m.period_end,
                m.ongoing,
                m.recurring,
                m.follow_up_frequency,
                m.status,
                m.extra,
                m.parent_id is not None,
            )
            for m in measures
        ],
        "parties": parties,
    }


@pytest.mark.parametrize(
    ("directory", "plan"),
    [
        ("falun-katalog.yaml", "falun-atgardsplan-2024.xlsx"),
        ("orsa-katalog.yaml", "orsa-handlingsplan-2024-2025.xlsx"),
    ],
)
def test_xlsx_export_reimports_to_the_same_plan(
    sqlite_template: Path, tmp_path: Path, directory: str, plan: str
) -> None:
    """The exported register, imported into a fresh database, is the same plan."""
    engines = []
    shapes = []
    source = EXAMPLES / plan
    for round_ in (1, 2):
        path = tmp_path / f"db{round_}.db"
        shutil.copyfile(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        engines.append(engine)
        with transaction(engine) as session:
            import_directory_file(session, EXAMPLES / directory, None)
            plan_id = import_plan_file(session, source).plan_id or 0
            shapes.append(_plan_shape(session, plan_id))
            exported = tmp_path / f"export{round_}.xlsx"
            exported.write_bytes(export_plan_xlsx(session, plan_id, created=GENERATED))
            source = exported
    for engine in engines:
        engine.dispose()
    assert shapes[0] == shapes[1]
    assert len(shapes[0]["measures"]) > 0  # type: ignore[arg-type]


def test_bad_period_is_refused_in_swedish(falun_cli) -> None:  # type: ignore[no-untyped-def]
    """A period that is not a half-year gets a clear Swedish message and exit 1."""
    code, _, err = falun_cli("rapport", "uppfoljning", "--period", "2025-06", "--kommun", "2080")
    assert code == 1
    assert 'Perioden "2025-06" förstås inte' in err
