"""Word documents (DOCX) from a few plain blocks: kommuner work in Word, so agendas, protocols and
follow-up reports are also delivered as DOCX that they can edit and print."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Cm, Pt, RGBColor


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    bold: bool = False
    style: str | None = None  # e.g. "List Bullet"


@dataclass(frozen=True, slots=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    # Optional background colour per row (hex without #), e.g. a traffic light.
    row_colours: Sequence[str | None] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Image:
    png: bytes
    width_cm: float = 16.0


@dataclass(frozen=True, slots=True)
class PageBreak:
    pass


Block = Heading | Paragraph | Table | Image | PageBreak


def _shade(cell: object, colour: str) -> None:
    from docx.oxml import OxmlElement  # noqa: PLC0415 - only needed for coloured cells
    from docx.oxml.ns import qn  # noqa: PLC0415

    properties = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined] # noqa: SLF001 - python-docx has no API for cell shading
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    properties.append(shading)


def docx_document(
    title: str, blocks: Sequence[Block], *, created: datetime, author: str = "Samordna"
) -> bytes:
    """A DOCX with ``title`` as its title and the blocks in order; ``created`` is written as the
    document's creation time (pass the run's moment so the same input gives the same document)."""
    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = author
    document.core_properties.created = created
    document.core_properties.modified = created
    document.core_properties.language = "sv-SE"
    normal = document.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(2.2)
    document.add_heading(title, level=0)
    for block in blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level)
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph(style=block.style)
            run = paragraph.add_run(block.text)
            run.bold = block.bold
        elif isinstance(block, Table):
            table = document.add_table(rows=1, cols=len(block.header))
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for cell, text in zip(table.rows[0].cells, block.header, strict=True):
                cell.text = ""
                run = cell.paragraphs[0].add_run(text)
                run.bold = True
                run.font.color.rgb = RGBColor(0x1F, 0x1F, 0x1F)
            for index, row in enumerate(block.rows):
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = text
                colour = block.row_colours[index] if index < len(block.row_colours) else None
                if colour:
                    for cell in cells:
                        _shade(cell, colour)
        elif isinstance(block, Image):
            document.add_picture(io.BytesIO(block.png), width=Cm(block.width_cm))
        else:
            document.add_page_break()  # type: ignore[no-untyped-call]
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
