"""What people read, as bytes: the follow-up report, the forum agenda, the årshjul; and indicators.

The command line writes these bytes to files and the web app sends them as downloads: both call the
same functions, so a document looks the same whichever door it left by. Charts (matplotlib) and Word
(python-docx) are imported only when a document needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from core.errors import InvalidInputError
from core.text import name_key
from models.enums import ForumKind
from models.indicator import Indicator, indicator_values, indicators, normalise_source
from models.municipality import Municipality

if TYPE_CHECKING:
    from reports.follow_up_report import IndicatorTrend

FOLLOW_UP_FORMATS = ("html", "docx", "pdf", "xlsx")


def _pdf(name: str, docx: bytes) -> bytes:
    """The DOCX as PDF through LibreOffice; its absence is a Swedish message, not a crash."""
    from documents.office import OfficeUnavailableError, pdf_of  # noqa: PLC0415 - only for a PDF

    try:
        return pdf_of({name: docx})[name]
    except OfficeUnavailableError as error:
        raise InvalidInputError(str(error)) from None


def follow_up_documents(
    session: Session,
    municipality: Municipality,
    period_text: str,
    formats: list[str],
    *,
    generated: datetime,
    plan_id: int | None = None,
) -> dict[str, bytes]:
    """The half-year report of ``period_text`` (``2025H2``) in each of ``formats``: html, docx and pdf
    (the DOCX through LibreOffice) are the report, xlsx the measure register in the importer's layout."""
    from reports.follow_up_report import compile_report, parse_period  # noqa: PLC0415 - heavy, on demand
    from reports.plan_export import export_plan_xlsx  # noqa: PLC0415 - as above
    from reports.report_documents import draw_charts, report_docx, report_html  # noqa: PLC0415 - as above

    report = compile_report(session, municipality.id or 0, parse_period(period_text), plan_id=plan_id)
    charts = draw_charts(report) if {"html", "docx", "pdf"} & set(formats) else None
    documents: dict[str, bytes] = {}
    for fmt in formats:
        if fmt == "xlsx":
            documents[fmt] = export_plan_xlsx(session, report.plan_id, created=generated)
        elif fmt == "docx" and charts is not None:
            documents[fmt] = report_docx(report, charts, generated=generated)
        elif fmt == "pdf" and charts is not None:
            documents[fmt] = _pdf("rapport.docx", report_docx(report, charts, generated=generated))
        elif fmt == "html" and charts is not None:
            documents[fmt] = report_html(report, charts, generated=generated).encode("utf-8")
        else:
            raise InvalidInputError(f'Formatet "{fmt}" finns inte (välj {", ".join(FOLLOW_UP_FORMATS)}).')
    return documents


def year_wheel_documents(session: Session, municipality: Municipality, year: int) -> dict[str, bytes]:
    """The årshjul of ``year`` as SVG, PNG, PDF (an A4 page) and ICS."""
    from reports.year_wheel import (  # noqa: PLC0415 - heavy
        stamp_of,
        wheel_events,
        wheel_ics,
        wheel_image,
        wheel_notes,
    )

    events = wheel_events(session, municipality, year)
    notes = wheel_notes(session, municipality)
    return {
        "svg": wheel_image(events, year, municipality, "svg", notes),
        "png": wheel_image(events, year, municipality, "png", notes),
        "pdf": wheel_image(events, year, municipality, "pdf", notes),
        "ics": wheel_ics(events, year, municipality, stamp_of(year)),
    }


def forum_agenda_document(
    session: Session,
    municipality: Municipality,
    forum: ForumKind,
    *,
    as_of: date,
    meeting_on: date | None,
    fmt: str,
) -> bytes:
    """The agenda of a meeting of the local BRÅ or kommunledningen, in html, docx, pdf or text."""
    from reports.forum_agenda import compile_forum_agenda, render_forum_agenda  # noqa: PLC0415 - heavy

    agenda = compile_forum_agenda(session, municipality, forum, as_of=as_of, meeting_on=meeting_on)
    if fmt == "pdf":
        return _pdf("dagordning.docx", render_forum_agenda(agenda, "docx"))
    return render_forum_agenda(agenda, fmt)


@dataclass(frozen=True, slots=True)
class IndicatorCommand:
    """An indicator's definition; an existing indicator of the same name is changed."""

    name: str
    source: str
    unit: str = ""
    higher_is_better: bool | None = None
    target: float | None = None
    focus_area: str | None = None  # a focus area's title, or part of it


def define_indicator(
    session: Session, municipality: Municipality, command: IndicatorCommand
) -> tuple[Indicator, bool]:
    """Create the indicator, or change the one with that name; True when it was created."""
    from importers.indicator_values import focus_area_by_name  # noqa: PLC0415 - reads files: on demand

    area_id = None
    if command.focus_area:
        area_id = focus_area_by_name(session, municipality.id or 0, command.focus_area)
        if area_id is None:
            raise InvalidInputError(
                f'Fokusområdet "{command.focus_area}" finns inte i kommunens planer. Se: samordna plan list'
            )
    name = command.name.strip()
    # Compared in Python: SQLite's lower() folds no Å, Ä or Ö.
    found = next(
        (
            row
            for row in session.exec(select(Indicator).where(Indicator.municipality_id == municipality.id))
            if name_key(row.name) == name_key(name)
        ),
        None,
    )
    indicator = found or Indicator(municipality_id=municipality.id or 0, name=name)
    indicator.source = normalise_source(command.source)
    indicator.unit = command.unit
    indicator.higher_is_better = command.higher_is_better
    indicator.target = command.target
    indicator.focus_area_id = area_id
    session.add(indicator)
    session.flush()
    return indicator, found is None


def indicator_overview(
    session: Session, municipality: Municipality
) -> list[tuple[Indicator, IndicatorTrend]]:
    """Every indicator of the kommun with its trend (values, direction, target met)."""
    from reports.follow_up_report import indicator_trend  # noqa: PLC0415 - keeps the import light

    return [
        (indicator, indicator_trend(indicator, indicator_values(session, indicator.id or 0)))
        for indicator in indicators(session, municipality.id or 0)
    ]
