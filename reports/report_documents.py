"""The follow-up report as HTML and DOCX: formatting only, every figure comes from ``FollowUpReport``.

Charts are PNGs from ``documents.charts``: in HTML as data URIs (the page carries everything inside
itself), in DOCX as pictures. The words come from templates under ``templates/reports/``; the DOCX
column headings are the HTML's, from ``COLUMNS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.templating import render
from documents import charts, word
from reports.follow_up_report import FollowUpReport, IndicatorTrend, Light, MeasureLine

__all__ = ["COLUMNS", "LIGHT_COLOURS", "ReportCharts", "draw_charts", "report_docx", "report_html"]

LIGHT_COLOURS = {Light.GREEN: "#2E8B57", Light.YELLOW: "#E6B800", Light.RED: "#C0392B"}
# Pale versions for table rows in Word (hex without #).
_ROW_COLOURS = {Light.GREEN: "DFF0D8", Light.YELLOW: "FCF3CF", Light.RED: "F5B7B1"}
COLUMNS = (
    "Ljus",
    "Åtgärd",
    "Ansvarig",
    "Status",
    "Framsteg",
    "Senaste kommentar",
    "Nästa steg",
    "Rapporterat",
    "Öppna eskaleringar",
)


@dataclass(frozen=True, slots=True)
class ReportCharts:
    overview: bytes  # lights per focus area
    indicators: dict[str, bytes]  # by indicator name


def _indicator_chart(trend: IndicatorTrend) -> bytes:
    labels = [label for label, _ in trend.points]
    unit = f" ({trend.unit})" if trend.unit else ""
    return charts.line_chart(
        labels,
        {trend.name: [value for _, value in trend.points]},
        title=f"{trend.name}{unit}",
        value_label=trend.unit,
        target=trend.target,
    )


def draw_charts(report: FollowUpReport) -> ReportCharts:
    groups = [area.label[:31] for area in report.areas]
    overview = charts.grouped_bar_chart(
        groups,
        {light.value: [area.count(light) for area in report.areas] for light in Light},
        title="Åtgärder per fokusområde och trafikljus",
        value_label="antal åtgärder",
        colours=[LIGHT_COLOURS[light] for light in Light],
    )
    trends = [trend for area in report.areas for trend in area.indicators] + report.other_indicators
    return ReportCharts(
        overview,
        {trend.name: _indicator_chart(trend) for trend in trends if trend.points},
    )


def _cells(line: MeasureLine) -> list[str]:
    title = f"{line.position}. {line.title}" + (" (delaktivitet)" if line.is_sub_row else "")
    responsible = line.responsible or "–"
    if line.responsible_text and line.responsible_text != line.responsible:
        responsible = f"{responsible} ({line.responsible_text})"
    reported = line.reporting.value
    if line.reported_on is not None:
        reported += f", senast {line.reported_on.isoformat()}"
    return [
        f"{line.light.value}: {line.rule}",
        title,
        responsible,
        line.status.value,
        "–" if line.progress_percent is None else f"{line.progress_percent} %",
        line.comment or "–",
        line.next_step or "–",
        reported,
        "; ".join(line.escalations) or "–",
    ]


def report_html(report: FollowUpReport, report_charts: ReportCharts, *, generated: datetime) -> str:
    """The report as one self-contained HTML page."""
    return render(
        "reports/follow_up.html.j2",
        report=report,
        columns=COLUMNS,
        cells=_cells,
        colours=LIGHT_COLOURS,
        lights=list(Light),
        overview=charts.data_uri(report_charts.overview),
        indicator_charts={name: charts.data_uri(png) for name, png in report_charts.indicators.items()},
        generated=generated,
    )


def _trend_rows(trends: list[IndicatorTrend]) -> list[list[str]]:
    rows = []
    for trend in trends:
        latest = f"{trend.points[-1][1]:g} ({trend.points[-1][0]})" if trend.points else "–"
        target = "–" if trend.target is None else f"{trend.target:g}"
        met = {True: "uppnått", False: "ej uppnått", None: "–"}[trend.target_met]
        rows.append([trend.name, trend.source or "–", latest, trend.trend, target, met])
    return rows


_TREND_HEADER = ("Indikator", "Källa", "Senaste värde", "Trend", "Mål", "Målet")


def report_docx(report: FollowUpReport, report_charts: ReportCharts, *, generated: datetime) -> bytes:
    """The report as a Word document with the same sections, tables and charts as the HTML."""
    intro = render("reports/follow_up_intro.txt.j2", report=report).strip()
    blocks: list[word.Block] = [word.Paragraph(paragraph) for paragraph in intro.split("\n\n")]
    blocks.append(word.Heading("Så sätts trafikljuset", 1))
    blocks.append(
        word.Table(
            ("Ordning", "Ljus", "Regel", "Innebörd"),
            [
                [str(n), rule.light.value, rule.name, rule.text]
                for n, rule in enumerate(report.rules, start=1)
            ],
            row_colours=[_ROW_COLOURS[rule.light] for rule in report.rules],
        )
    )
    blocks.append(word.Paragraph("Reglerna prövas uppifrån och ned; den första som stämmer avgör ljuset."))
    blocks.append(word.Image(report_charts.overview, width_cm=16))
    for area in report.areas:
        blocks.append(word.PageBreak())
        blocks.append(word.Heading(f"Fokusområde {area.label}", 1))
        counts = ", ".join(f"{area.count(light)} {light.value}" for light in Light)
        blocks.append(word.Paragraph(f"{len(area.lines)} åtgärder: {counts}."))
        blocks.append(
            word.Table(
                COLUMNS,
                [_cells(line) for line in area.lines],
                row_colours=[_ROW_COLOURS[line.light] for line in area.lines],
            )
        )
        if area.indicators:
            blocks.append(word.Heading("Indikatorer", 2))
            blocks.append(word.Table(_TREND_HEADER, _trend_rows(area.indicators)))
            blocks.extend(
                word.Image(report_charts.indicators[trend.name], width_cm=14)
                for trend in area.indicators
                if trend.name in report_charts.indicators
            )
    if report.other_indicators:
        blocks.append(word.Heading("Övriga indikatorer", 1))
        blocks.append(word.Table(_TREND_HEADER, _trend_rows(report.other_indicators)))
    blocks.append(word.Heading("Åtgärder som inte rapporterade", 1))
    if report.missing:
        blocks.append(
            word.Table(
                ("Fokusområde", "Åtgärd", "Ansvarig"),
                [
                    [area, f"{line.position}. {line.title}", line.responsible or "–"]
                    for area, line in report.missing
                ],
            )
        )
    else:
        blocks.append(word.Paragraph("Alla åtgärder som ombads rapportera gjorde det."))
    blocks.append(word.Heading("Analys: problem, orsaker och åtgärder per prioriterat område", 1))
    blocks.append(
        word.Table(
            (
                "Prioriterat område",
                "Antal problem",
                "Antal identifierade orsaker",
                "Antal åtgärder",
                "Varav kopplade till en orsak",
            ),
            [
                [
                    row.focus_area,
                    str(row.problems),
                    str(row.causes),
                    str(row.measures),
                    str(row.measures_linked),
                ]
                for row in report.analysis
            ],
        )
    )
    title = f"Halvårsuppföljning {report.period.label}: {report.municipality}"
    return word.docx_document(title, blocks, created=generated)
