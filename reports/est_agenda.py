"""The EST meeting's agenda (dagordning) and protocol (protokoll), and sending the agenda.

``compile_agenda`` gathers one meeting: date, time, place, participants (the EST group), the period's
EST-lägesbild (flows/est_situation.py), proposals (persisting problems to raise, brännpunkter to act
on), the next meeting, and for the protocol the insatser decided at the meeting, the attendance and
the insatser open after it (those just decided included). Renderers turn it into HTML (charts as PNG
data URIs, or ``cid:`` references to inline images in a mail), plain text (tables as aligned text),
DOCX (documents.word, from a line template) and an ICS invitation (documents.calendar: the meeting at
its local time, the BRÅ-samordnare as organizer, the EST group as attendees, a stable UID and a
SEQUENCE that grows when the meeting moves). A period without incidents is said in words: no charts,
no tables of zeros, no percentage change from nothing.

``send_agendas`` (flow ``est-dagordning``, weekdays 07:15) writes the agenda to every EST member
through the outbox ``agenda_lead_working_days`` working days before the meeting (or later, up to the
meeting day, when a run was missed), exactly once per meeting and recipient: dedupe key
``est-dagordning:<kommun>:EST-<n>:<person>``. The message's HTML is the whole agenda (charts inside);
the DOCX agenda and the ICS invitation (METHOD:REQUEST) are attached to it, written by
notifications/documents.py in the same transaction, so e-mail delivers them and calendars take the
meeting. ``samordna est dagordning`` renders the same files on demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.clock import moment_of
from core.templating import render
from core.text import percent_change, swedish_date, text_table
from cycles.est import ensure_cycle, est_members, has_est_group
from cycles.est_calendar import cycle_number_at, meeting_at, meeting_cancelled, meeting_date, meeting_note
from cycles.est_decisions import attendance
from cycles.est_situation import (
    WEEKDAYS,
    EstSituation,
    InterventionLine,
    compile_situation,
    intervention_lines,
)
from documents import calendar, charts, office, word
from models.directory import Organisation, Person, forum_name_of_kind
from models.enums import ForumKind
from models.est import Intervention, PersistingProblem, est_cycle_by_number
from models.municipality import Municipality
from models.outbox import message_ids_by_key
from models.records import Event
from models.responsibility import bra_coordinator
from models.rhythm import Rhythm, rhythm_from_json
from models.working_days import add_working_days, previous_working_day
from notifications.documents import DOCX_TYPE, ICS_TYPE, PNG_TYPE, Attachment, Letter, write_document_messages

FORMATS = ("html", "text", "docx", "ics", "pdf")
AGENDA = "dagordning"
PROTOCOL = "protokoll"


@dataclass(frozen=True, slots=True)
class Participant:
    person_id: int
    name: str
    title: str
    organisation: str
    email: str


@dataclass(frozen=True, slots=True)
class Decision:
    """An insats decided at the meeting (from the Intervention rows of its EstCycle)."""

    id: int
    title: str
    area: str
    place: str
    responsible: str
    due_date: date
    state: str


@dataclass(frozen=True, slots=True)
class ForumItem:
    """A persisting problem on its way to a forum: raised when, to which meeting, with its history."""

    area: str
    category: str
    forum: str
    meeting_on: date | None
    history: list[dict[str, object]]
    opened_on: date


@dataclass(slots=True)
class EstAgenda:
    municipality_name: str
    municipality_code: str
    number: int
    meeting_at: datetime
    meeting_end: datetime
    place: str
    participants: list[Participant]
    situation: EstSituation
    decisions: list[Decision] = field(default_factory=list)
    forum_items: list[ForumItem] = field(default_factory=list)
    stamp: datetime = field(default_factory=lambda: moment_of(date(2025, 1, 1)))
    note: str = ""  # a meeting the holiday rule moved or cancelled says so (cycles.est_calendar.meeting_note)
    next_meeting_at: datetime | None = None
    next_meeting_end: datetime | None = None
    organizer: Participant | None = None  # the BRÅ-samordnare, who sends the invitation
    # The protocol's: who was there (recorded with the decisions), and the insatser open after the
    # meeting, those decided at it included.
    attendance: list[tuple[Participant, bool]] = field(default_factory=list)
    open_after: list[InterventionLine] = field(default_factory=list)
    sequence: int = 0  # the invitation's SEQUENCE
    bra_name: str = "BRÅ"  # what the kommun calls its local BRÅ (its directory: "Trygghetsrådet", …)

    @property
    def present(self) -> list[Participant]:
        return [person for person, was_there in self.attendance if was_there]

    @property
    def absent(self) -> list[Participant]:
        return [person for person, was_there in self.attendance if not was_there]

    @property
    def uid(self) -> str:
        return f"est-{self.municipality_code}-{self.number}@samordna"


# ---------------------------------------------------------------------------------------------------
# Compiling


def participants(session: Session, municipality_id: int) -> list[Participant]:
    """The EST group's members with their organisation's name."""
    return as_participants(session, est_members(session, municipality_id))


def as_participants(session: Session, members: Sequence[Person]) -> list[Participant]:
    """Persons with their organisation's name, in the given order."""
    organisation_ids = {member.organisation_id for member in members if member.organisation_id}
    names = {
        organisation.id: organisation.name
        for organisation in session.exec(
            select(Organisation).where(col(Organisation.id).in_(organisation_ids))
        )
    }
    return [
        Participant(
            person_id=member.id or 0,
            name=member.name,
            title=member.title,
            organisation=names.get(member.organisation_id, "") if member.organisation_id else "",
            email=member.email,
        )
        for member in members
    ]


def decisions(session: Session, municipality_id: int, rhythm: Rhythm, number: int) -> list[Decision]:
    """The insatser decided at meeting ``number``, by due date."""
    cycle = est_cycle_by_number(session, municipality_id, number)
    if cycle is None:
        return []
    rows = session.exec(
        select(Intervention, Person)
        .join(Person, col(Person.id) == col(Intervention.responsible_person_id), isouter=True)
        .where(Intervention.est_cycle_id == cycle.id)
        .order_by(col(Intervention.due_date), col(Intervention.id))
    ).all()
    del rhythm
    return [
        Decision(
            id=intervention.id or 0,
            title=intervention.title,
            area=intervention.area,
            place=intervention.place,
            responsible=person.name if person else "ingen ansvarig",
            due_date=intervention.due_date,
            state=intervention.state.value,
        )
        for intervention, person in rows
    ]


def forum_items(session: Session, municipality_id: int, as_of: date) -> list[ForumItem]:
    """Persisting problems raised to a forum by ``as_of`` and not resolved then, oldest first."""
    rows = session.exec(
        select(PersistingProblem)
        .where(
            col(PersistingProblem.municipality_id) == municipality_id,
            col(PersistingProblem.opened_on) <= as_of,
            sa.or_(col(PersistingProblem.resolved_on).is_(None), col(PersistingProblem.resolved_on) > as_of),
        )
        .order_by(col(PersistingProblem.opened_on), col(PersistingProblem.id))
    ).all()
    bra = forum_name_of_kind(session, municipality_id, ForumKind.LOCAL_BRA, "BRÅ")
    return [
        ForumItem(
            area=row.area,
            category=row.category,
            forum=bra if row.forum_kind == ForumKind.LOCAL_BRA else "kommunledningen",
            meeting_on=row.forum_meeting_on,
            history=[entry for entry in row.history if str(entry.get("end", "")) <= as_of.isoformat()],
            opened_on=row.opened_on,
        )
        for row in rows
    ]


def compile_agenda(
    session: Session, municipality: Municipality, number: int, as_of: date | None = None
) -> EstAgenda:
    """Everything the agenda (and the protocol) of EST meeting ``number`` prints."""
    municipality_id = municipality.id or 0
    rhythm = rhythm_from_json(municipality.rhythm)
    situation = compile_situation(session, municipality_id, rhythm, number, as_of)
    start = situation.meeting_at
    minutes = timedelta(minutes=rhythm.est.meeting_minutes)
    following = meeting_at(rhythm, number + 1)
    coordinator = bra_coordinator(session, municipality_id)
    recorded = attendance(session, municipality_id, number)
    people = as_participants(session, [person for person, _ in recorded])
    meeting_day = meeting_date(rhythm, number)
    agenda = EstAgenda(
        municipality_name=municipality.name,
        municipality_code=municipality.code,
        number=number,
        meeting_at=start,
        meeting_end=start + timedelta(minutes=rhythm.est.meeting_minutes),
        place=rhythm.est.place,
        participants=participants(session, municipality_id),
        situation=situation,
        decisions=decisions(session, municipality_id, rhythm, number),
        forum_items=forum_items(session, municipality_id, as_of or meeting_day),
        bra_name=forum_name_of_kind(session, municipality_id, ForumKind.LOCAL_BRA, "BRÅ"),
        stamp=moment_of(as_of or meeting_day),
        note=meeting_note(rhythm, number),
        next_meeting_at=following,
        next_meeting_end=following + minutes,
        organizer=as_participants(session, [coordinator])[0] if coordinator else None,
        attendance=[(person, present) for person, (_, present) in zip(people, recorded, strict=True)],
        open_after=intervention_lines(
            session, municipality_id, max(as_of or meeting_day, meeting_day), number + 1
        ),
    )
    agenda.sequence = invitation_sequence(session, municipality, number, record=False)
    return agenda


def invitation_fingerprint(rhythm: Rhythm, number: int) -> str:
    """What the invitation to meeting ``number`` says about when and where: a change is a move."""
    start = meeting_at(rhythm, number)
    end = start + timedelta(minutes=rhythm.est.meeting_minutes)
    return f"{start.isoformat()}|{end.isoformat()}|{rhythm.est.place}"[:200]


def invitation_sequence(session: Session, municipality: Municipality, number: int, *, record: bool) -> int:
    """The SEQUENCE of the meeting's invitation: 0 for the first, one more for each move. With
    ``record`` (sending), the invitation sent is stored; without it (rendering on demand) nothing is
    written and a move shows as the sequence the next sending will use."""
    rhythm = rhythm_from_json(municipality.rhythm)
    fingerprint = invitation_fingerprint(rhythm, number)
    municipality_id = municipality.id or 0
    cycle = est_cycle_by_number(session, municipality_id, number)
    if cycle is None or not cycle.invitation_fingerprint:
        if record:
            row = ensure_cycle(session, municipality_id, rhythm, number)
            row.invitation_fingerprint = fingerprint
            session.add(row)
            session.flush()
        return cycle.invitation_sequence if cycle else 0
    if cycle.invitation_fingerprint == fingerprint:
        return cycle.invitation_sequence
    if not record:
        return cycle.invitation_sequence + 1
    cycle.invitation_sequence += 1
    cycle.invitation_fingerprint = fingerprint
    session.add(cycle)
    session.flush()
    return cycle.invitation_sequence


# ---------------------------------------------------------------------------------------------------
# Rendering


def _change(now: int, before: int) -> str:
    """A table cell: "+12 %", "ny" when there was nothing before, "–" when there is nothing at all."""
    if before == 0:
        return "ny" if now else "–"
    return percent_change(now, before) or "–"


def short_name(name: str) -> str:
    """A category's name without its explanation: "Narkotika", not "Narkotika (misstänkt …)"."""
    return name.split(" (", maxsplit=1)[0].split(" / ", maxsplit=1)[0]


def _rows(agenda: EstAgenda) -> list[dict[str, object]]:
    """Category rows of the summary table: this period, previous, a year ago, change."""
    situation = agenda.situation
    return [
        {
            "key": key,
            "name": name,
            "count": situation.category_total(situation.counts, key),
            "previous": situation.category_total(situation.previous, key),
            "year_ago": situation.category_total(situation.year_ago, key),
            "change": _change(
                situation.category_total(situation.counts, key),
                situation.category_total(situation.previous, key),
            ),
        }
        for key, name in situation.categories.items()
    ]


def _matrix(agenda: EstAgenda) -> tuple[list[str], list[dict[str, object]]]:
    """Area × category counts of the period: the categories with any count as columns (short names),
    and per area its cells, its total and its non-zero categories in words."""
    situation = agenda.situation
    used = [key for key in situation.categories if situation.category_total(situation.counts, key)]
    rows = [
        {
            "area": area,
            "cells": [situation.counts.get((area, key), 0) for key in used],
            "total": situation.by_area.get(area, 0),
            "parts": [
                (short_name(situation.categories[key]), situation.counts[(area, key)])
                for key in used
                if situation.counts.get((area, key), 0)
            ],
        }
        for area in situation.areas
        if situation.by_area.get(area, 0)
    ]
    return [short_name(situation.categories[key]) for key in used], rows


CHART_NAMES = ("kategorier", "omraden", "tider")


def agenda_charts(agenda: EstAgenda) -> dict[str, bytes]:
    """The agenda's charts as PNG: categories against the previous period and a year ago, areas,
    and the time pattern (weekday × hour). None for a period without incidents (the text says so),
    and no time chart when no incident of the period has a clock time."""
    situation = agenda.situation
    if not situation.total:
        return {}
    # Short labels ("Narkotika", not its whole definition) keep the chart legible and its layout quick.
    names = [short_name(name) for name in situation.categories.values()]
    keys = list(situation.categories)
    drawn = {
        "kategorier": charts.grouped_bar_chart(
            names,
            {
                f"EST-{agenda.number}": [situation.category_total(situation.counts, key) for key in keys],
                "Förra perioden": [situation.category_total(situation.previous, key) for key in keys],
                "Samma period i fjol": [situation.category_total(situation.year_ago, key) for key in keys],
            },
            title="Händelser per kategori",
            value_label="antal",
            margins=(0.1, 0.32, 0.98, 0.9),
        ),
        "omraden": charts.bar_chart(
            {area: situation.by_area.get(area, 0) for area in situation.areas},
            title="Händelser per område",
            value_label="antal",
            margins=(0.2, 0.12, 0.97, 0.9),
        ),
    }
    if any(any(hours) for hours in situation.hot_times):
        drawn["tider"] = charts.heatmap(
            list(WEEKDAYS),
            [f"{hour:02d}" if hour % 3 == 0 else "" for hour in range(24)],
            situation.hot_times,
            title="När händelserna inträffade (veckodag × timme)",
            margins=(0.07, 0.1, 0.99, 0.88),
        )
    return drawn


def chart_filename(agenda: EstAgenda, name: str) -> str:
    """The file name of a chart attached to a mail, which the HTML names as ``cid:<file name>``."""
    return f"EST-{agenda.number}-{name}.png"


def _context(agenda: EstAgenda, chart_sources: dict[str, str]) -> dict[str, object]:
    columns, matrix = _matrix(agenda)
    situation = agenda.situation
    meeting_day = agenda.meeting_at.date()
    return {
        "agenda": agenda,
        "s": situation,
        "rows": _rows(agenda),
        "columns": columns,
        "matrix": matrix,
        "change_total": percent_change(situation.total, situation.total_previous),
        "change_year": percent_change(situation.total, situation.total_year_ago),
        "overdue": [line for line in situation.interventions if line.overdue_working_days],
        "on_time": [line for line in situation.interventions if not line.overdue_working_days],
        "after_overdue": [line for line in agenda.open_after if line.due_date < meeting_day],
        "after_on_time": [line for line in agenda.open_after if line.due_date >= meeting_day],
        "charts": chart_sources,
        "weekdays": WEEKDAYS,
        "busiest": _busiest_times(situation),
        "forum_items": agenda.forum_items,
        "raised": {(item.area, item.category) for item in agenda.forum_items},
    }


def _busiest_times(situation: EstSituation, limit: int = 3) -> list[dict[str, object]]:
    cells = [
        {"weekday": WEEKDAYS[day], "hour": hour, "count": count}
        for day, hours in enumerate(situation.hot_times)
        for hour, count in enumerate(hours)
        if count
    ]
    return sorted(cells, key=lambda cell: -int(str(cell["count"])))[:limit]


def title(agenda: EstAgenda, kind: str = AGENDA) -> str:
    return render("est/rubrik.txt.j2", agenda=agenda, kind=kind).strip()


def render_html(
    agenda: EstAgenda,
    kind: str = AGENDA,
    charts_png: dict[str, bytes] | None = None,
    *,
    recipient: str = "",
    attachments: Sequence[str] = (),
    inline_images: bool = False,
) -> str:
    """The agenda (or protocol) as one HTML page with its charts inside (data URIs); as a message, with
    a greeting to ``recipient``, the names of the attached files, and with ``inline_images`` the charts
    as ``cid:`` references to the PNG attachments named by ``chart_filename``."""
    png = charts_png if charts_png is not None else agenda_charts(agenda)
    if inline_images:
        sources = {name: f"cid:{chart_filename(agenda, name)}" for name in png}
    else:
        sources = {name: charts.data_uri(content) for name, content in png.items()}
    return render(
        f"est/{kind}.html.j2",
        title=title(agenda, kind),
        recipient=recipient,
        attachments=list(attachments),
        **_context(agenda, sources),
    )


def render_text(
    agenda: EstAgenda, kind: str = AGENDA, *, recipient: str = "", attachments: Sequence[str] = ()
) -> str:
    """The agenda (or protocol) as plain text: headings underlined, tables aligned."""
    return plain_text(
        render(
            f"est/{kind}.txt.j2",
            title=title(agenda, kind),
            recipient=recipient,
            attachments=list(attachments),
            **_context(agenda, {}),
        )
    )


def _line_block(line: str, charts_png: dict[str, bytes]) -> word.Block | None:
    if not line.strip():
        return None
    if line.startswith("## "):
        return word.Heading(line[3:], 2)
    if line.startswith("# "):
        return word.Heading(line[2:], 1)
    if line.startswith("- "):
        return word.Paragraph(line[2:], style="List Bullet")
    if line.startswith("! "):
        return word.Paragraph(line[2:], bold=True)
    if line.startswith("[bild:") and line.endswith("]"):
        png = charts_png.get(line[6:-1])
        return word.Image(png) if png else None
    if line == "[liggande]":
        return word.Orientation(landscape=True)
    if line == "[staende]":
        return word.Orientation(landscape=False)
    if line == "[innehall]":
        return word.Contents()
    if line == "---":
        return word.PageBreak()
    return word.Paragraph(line)


def _table_row(line: str) -> tuple[list[str], bool]:
    marked = line.startswith("|*")
    return [cell.strip() for cell in line[2 if marked else 1 :].split("|")], marked


def docx_blocks(text: str, charts_png: dict[str, bytes]) -> list[word.Block]:
    """Blocks from a line template: ``# `` heading, ``## `` subheading, ``- `` bullet, ``! `` bold,
    ``|a|b`` table rows (the first is the header; ``|*a|b`` marks a row red), ``[bild:namn]`` a chart,
    ``[innehall]`` the contents, ``[liggande]``/``[staende]`` landscape or portrait pages from here,
    ``---`` a page break, anything else a paragraph."""
    blocks: list[word.Block] = []
    table: list[list[str]] = []
    colours: list[str | None] = []

    def flush() -> None:
        if table:
            blocks.append(word.Table(table[0], table[1:], colours[1:]))
            table.clear()
            colours.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if line.startswith("|"):
            cells, marked = _table_row(line)
            table.append(cells)
            colours.append("F8D7DA" if marked else None)
            continue
        flush()
        block = _line_block(line, charts_png)
        if block is not None:
            blocks.append(block)
    flush()
    return blocks


def plain_text(text: str) -> str:
    """The same line template as plain text for a mail or a terminal: headings underlined, ``|`` rows
    as an aligned table (``core.text.text_table``), bullets kept, pictures and page marks left out,
    never more than one blank line in a row."""
    out: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if table:
            out.extend([*text_table(table).splitlines(), ""])
            table.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if line.startswith("|"):
            table.append(_table_row(line)[0])
            continue
        flush()
        if line.startswith(("[bild:", "[innehall]", "[liggande]", "[staende]")) or line == "---":
            continue
        if line.startswith(("# ", "## ")):
            heading = line.split(" ", 1)[1]
            out.extend(["", heading, ("=" if line.startswith("# ") else "-") * len(heading)])
        elif line.startswith("! "):
            out.append(line[2:])
        else:
            out.append(line)
    flush()
    lines: list[str] = []
    for line in out:
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip("\n") + "\n"


def letterhead(agenda: EstAgenda) -> word.Letterhead:
    return word.Letterhead(
        organisation=agenda.municipality_name,
        dated=swedish_date(agenda.stamp.date(), "D MMMM YYYY"),
    )


def render_docx(agenda: EstAgenda, kind: str = AGENDA, charts_png: dict[str, bytes] | None = None) -> bytes:
    png = charts_png if charts_png is not None else agenda_charts(agenda)
    text = render(
        f"est/{kind}.txt.j2",
        title=title(agenda, kind),
        recipient="",
        attachments=[],
        docx=True,
        **_context(agenda, {}),
    )
    return word.docx_document(
        title(agenda, kind), docx_blocks(text, png), created=agenda.stamp, letterhead=letterhead(agenda)
    )


def render_ics(agenda: EstAgenda, *, attached: bool = False) -> bytes:
    """The invitation: the meeting at its local time, the BRÅ-samordnare as organizer, the EST group as
    attendees; ``attached`` when it travels with the agenda in one mail (its text says so)."""
    organizer = agenda.organizer
    event = calendar.CalendarEvent(
        uid=agenda.uid,
        summary=title(agenda),
        start=agenda.meeting_at,
        end=agenda.meeting_end,
        location=agenda.place,
        description=render(
            "est/inbjudan.txt.j2", agenda=agenda, s=agenda.situation, attached=attached
        ).strip(),
        categories=("EST",),
        attendees=[
            calendar.Participant(person.email, person.name) for person in agenda.participants if person.email
        ],
        organizer=calendar.Participant(organizer.email, organizer.name)
        if organizer and organizer.email
        else None,
        sequence=agenda.sequence,
    )
    return calendar.ics_calendar([event], name=title(agenda), stamp=agenda.stamp, method="REQUEST")


def render_situation_text(agenda: EstAgenda) -> str:
    """The EST-lägesbild alone (``samordna est lagesbild``): figures, insatser, persisting problems."""
    return plain_text(render("est/lagesbild.txt.j2", **_context(agenda, {})))


def render_format(agenda: EstAgenda, fmt: str, kind: str = AGENDA) -> bytes:
    """One format of the agenda (or protocol) as bytes; PDF through LibreOffice (``documents.office``)."""
    if fmt == "html":
        return render_html(agenda, kind).encode()
    if fmt == "text":
        return render_text(agenda, kind).encode()
    if fmt == "docx":
        return render_docx(agenda, kind)
    if fmt == "pdf":
        name = docx_name(agenda, kind)
        return office.pdf_of({name: render_docx(agenda, kind)})[name]
    if fmt == "ics":
        return render_ics(agenda)
    raise ValueError(fmt)


def docx_name(agenda: EstAgenda, kind: str = AGENDA) -> str:
    return f"{kind}-EST-{agenda.number}.docx"


def ics_name(agenda: EstAgenda) -> str:
    return f"EST-{agenda.number}.ics"


def write_documents(agenda: EstAgenda, folder: Path, kind: str = AGENDA) -> dict[str, Path]:
    """HTML (with charts), DOCX and, for an agenda, ICS, written to ``folder``; their paths by format.
    Writing again overwrites them with the same content."""
    folder.mkdir(parents=True, exist_ok=True)
    png = agenda_charts(agenda)
    files = {
        "html": (folder / f"{kind}-EST-{agenda.number}.html", render_html(agenda, kind, png).encode()),
        "docx": (folder / docx_name(agenda, kind), render_docx(agenda, kind, png)),
    }
    if kind == AGENDA:
        files["ics"] = (folder / ics_name(agenda), render_ics(agenda))
    for path, content in files.values():
        path.write_bytes(content)
    return {fmt: path for fmt, (path, _) in files.items()}


# ---------------------------------------------------------------------------------------------------
# Sending


def agenda_send_day(rhythm: Rhythm, number: int) -> date:
    """The working day the agenda of meeting ``number`` is sent."""
    lead = rhythm.est.agenda_lead_working_days
    return previous_working_day(add_working_days(meeting_date(rhythm, number), -lead))


def agenda_key(municipality_id: int, number: int, person_id: int, sequence: int = 0) -> str:
    """One key per meeting, person and invitation sequence: a moved meeting is sent again."""
    key = f"est-dagordning:{municipality_id}:EST-{number}:{person_id}"
    return f"{key}:v{sequence}" if sequence else key


def send_agendas(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """The agenda of the coming meeting to every EST member, once, from its send day to the meeting day,
    with the DOCX agenda and the ICS invitation attached."""
    municipality_id = municipality.id
    if municipality_id is None or not has_est_group(session, municipality_id):
        return []
    rhythm = rhythm_from_json(municipality.rhythm)
    number = cycle_number_at(rhythm, as_of)
    if as_of < agenda_send_day(rhythm, number) or meeting_cancelled(rhythm, number):
        return []  # not yet, or a meeting the holiday rule cancelled: no agenda to send
    members = est_members(session, municipality_id)
    # The place and time as they stand now: a change since the last sending is a moved meeting.
    sequence = invitation_sequence(session, municipality, number, record=True)
    keys = {agenda_key(municipality_id, number, member.id or 0, sequence): member for member in members}
    written = message_ids_by_key(session, list(keys))
    if not set(keys) - set(written):
        return []
    agenda = compile_agenda(session, municipality, number, as_of)
    png = agenda_charts(agenda)
    documents = [
        Attachment(docx_name(agenda), DOCX_TYPE, render_docx(agenda, AGENDA, png)),
        Attachment(ics_name(agenda), ICS_TYPE, render_ics(agenda, attached=True)),
    ]
    images = [Attachment(chart_filename(agenda, name), PNG_TYPE, content) for name, content in png.items()]
    names = [attachment.filename for attachment in documents]
    letters = [
        Letter(
            dedupe_key=key,
            recipient_person_id=member.id or 0,
            body_text=render_text(agenda, recipient=member.name, attachments=names),
            body_html=render_html(
                agenda, AGENDA, png, recipient=member.name, attachments=names, inline_images=True
            ),
        )
        for key, member in keys.items()
        if key not in written
    ]
    at = moment_of(as_of, rhythm.daily_sweep_time)
    inserted = write_document_messages(
        session, municipality_id, title(agenda), letters, [*documents, *images], at
    )
    return [
        Event(as_of, AGENDA, f"Dagordning till EST-möte {number}", keys[key].name) for key in sorted(inserted)
    ]
