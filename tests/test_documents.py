"""Charts, ICS calendars and DOCX files: what every report and agenda is delivered as."""

from __future__ import annotations

import io
import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import icalendar
import pytest

from documents.calendar import CalendarEvent, ics_calendar
from documents.charts import bar_chart, data_uri, grouped_bar_chart, heatmap, line_chart
from documents.word import Heading, Image, PageBreak, Paragraph, Table, docx_document
from tests.office import chromium, libreoffice_convert

STOCKHOLM = ZoneInfo("Europe/Stockholm")
STAMP = datetime(2026, 1, 5, 8, 0, tzinfo=STOCKHOLM)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_charts_are_png_and_follow_their_data() -> None:
    """Each chart kind is a real PNG; the same data draws the same bytes, other data other bytes."""
    counts = {"Skadegörelse": 12.0, "Klotter": 7.0, "Nedskräpning": 3.0}
    charts = [
        bar_chart(counts, title="Händelser"),
        grouped_bar_chart(["Järnet", "Bojsenburg"], {"Nu": [3, 5], "Förra": [2, 6]}, title="Områden"),
        line_chart(["2024", "2025"], {"NTU": [61.0, None]}, title="Trygghet", target=70.0),
        heatmap(["mån", "tis"], ["0", "1", "2"], [[0, 1, 2], [3, 0, 1]], title="Tider"),
    ]
    for png in charts:
        width, height = _png_size(png)
        assert width > 300
        assert height > 150
    assert bar_chart(counts, title="Händelser") == charts[0]
    assert bar_chart({**counts, "Klotter": 8.0}, title="Händelser") != charts[0]
    assert data_uri(charts[0]).startswith("data:image/png;base64,iVBOR")


def test_svg_charts_are_svg() -> None:
    """A chart asked for as SVG is an SVG document."""
    svg = bar_chart({"a": 1.0}, title="t", fmt="svg")
    assert b"<svg" in svg[:500]


def test_ics_holds_local_time_across_daylight_saving() -> None:
    """A 09:00 meeting in winter and in summer is 09:00 Europe/Stockholm in the parsed calendar."""
    winter = datetime(2025, 1, 7, 9, 0, tzinfo=STOCKHOLM)
    summer = datetime(2025, 7, 8, 9, 0, tzinfo=STOCKHOLM)
    events = [
        CalendarEvent(uid="est-1@samordna", summary="EST-möte 1", start=winter, location="Rådhuset"),
        CalendarEvent(uid="est-2@samordna", summary="EST-möte 2", start=summer),
        CalendarEvent(uid="frist@samordna", summary="Uppföljning", start=date(2025, 5, 12)),
    ]
    parsed = icalendar.Calendar.from_ical(ics_calendar(events, name="EST", stamp=STAMP, method="REQUEST"))
    assert parsed.get("method") == "REQUEST"
    assert [tz.get("tzid") for tz in parsed.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    starts = {str(event.get("uid")): event.decoded("dtstart") for event in parsed.walk("VEVENT")}
    assert starts["est-1@samordna"].utcoffset().total_seconds() == 3600
    assert starts["est-2@samordna"].utcoffset().total_seconds() == 7200
    assert {(start.hour, start.minute) for uid, start in starts.items() if uid.startswith("est")} == {(9, 0)}
    assert starts["frist@samordna"] == date(2025, 5, 12)


def test_ics_refuses_naive_times() -> None:
    """A meeting time without a time zone is a programming error, not a guess."""
    naive = CalendarEvent(uid="x", summary="x", start=datetime(2025, 1, 7, 9, 0))  # noqa: DTZ001 - the point
    with pytest.raises(ValueError, match="aware"):
        ics_calendar([naive], name="x", stamp=STAMP)


def _document() -> bytes:
    png = bar_chart({"Klotter": 4.0}, title="Händelser")
    blocks = [
        Heading("Åtgärder"),
        Paragraph("Öppna insatser först, försenade överst.", bold=True),
        Table(
            ["Åtgärd", "Status"],
            [["Belysning i Järnet", "Försenad"], ["Trygghetsvandring", "Klar"]],
            ["F4CCCC"],
        ),
        Image(png, width_cm=12),
        PageBreak(),
        Paragraph("Beslut", style="List Bullet"),
    ]
    return docx_document("Dagordning EST", blocks, created=STAMP)


def test_docx_holds_the_blocks() -> None:
    """The DOCX reopens with its title, headings, table cells and picture."""
    document = docx.Document(io.BytesIO(_document()))
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert texts[0] == "Dagordning EST"
    assert "Åtgärder" in texts
    assert document.tables[0].cell(1, 0).text == "Belysning i Järnet"
    assert len(document.inline_shapes) == 1
    assert document.core_properties.language == "sv-SE"


def test_docx_opens_in_libreoffice(tmp_path: Path) -> None:
    """LibreOffice converts the DOCX to a PDF holding its text: the file opens in a real office suite."""
    source = tmp_path / "dagordning.docx"
    source.write_bytes(_document())
    pdf = libreoffice_convert(source, "pdf", tmp_path / "out")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 5000


def test_chart_renders_in_chromium(tmp_path: Path) -> None:
    """An HTML page with a chart as data URI shows the picture in headless Chromium."""
    page_file = tmp_path / "sida.html"
    page_file.write_text(f'<img id="c" src="{data_uri(bar_chart({"a": 2.0}, title="t"))}">', encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page()
        page.goto(page_file.as_uri())
        assert page.evaluate("document.getElementById('c').naturalWidth") > 300


def test_ics_time_zone_covers_the_calendars_span_so_2038_meetings_stay_right() -> None:
    """26 fortnightly meetings at 09:00 in 2038: read through the VTIMEZONE alone (not the zone's name),
    every one is at the tz database's instant (icalendar's default rules stop at 2038: 16 were wrong)."""
    stockholm = ZoneInfo("Europe/Stockholm")
    first = datetime(2038, 1, 5, 9, 0, tzinfo=stockholm)
    events = [
        CalendarEvent(uid=f"est-2080-{n}@samordna", summary="EST-möte", start=first + timedelta(days=14 * n))
        for n in range(26)
    ]
    parsed = icalendar.Calendar.from_ical(
        ics_calendar(events, name="EST 2038", stamp=datetime(2026, 1, 1, tzinfo=UTC))
    )
    (zone,) = parsed.walk("VTIMEZONE")
    from_vtimezone = zone.to_tz(lookup_tzid=False)
    starts = [event.decoded("dtstart").replace(tzinfo=None) for event in parsed.walk("VEVENT")]
    wrong = [
        local
        for local in starts
        if local.replace(tzinfo=from_vtimezone).utcoffset() != local.replace(tzinfo=stockholm).utcoffset()
    ]
    assert len(starts) == 26
    assert wrong == []
    assert {local.replace(tzinfo=stockholm).utcoffset() for local in starts} == {
        timedelta(hours=1),
        timedelta(hours=2),
    }
