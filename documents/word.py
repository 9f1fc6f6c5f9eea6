"""Word documents (DOCX) from a few plain blocks: kommuner work in Word, so agendas, protocols and
follow-up reports are also delivered as DOCX that a nämndsekreterare can edit, print and file.

What every document gets, whoever builds it:

- A4 with the margins of a municipal document (2.5 cm binding margin, 2 cm elsewhere), Arial 11 pt,
  headings in black, Swedish (sv-SE) as the language of the document defaults and of every style, so
  Word's spelling and hyphenation are Swedish;
- a header with the organisation (the kommun) and the title, and a footer with the date and
  "Sida N av M" (PAGE and NUMPAGES fields), in every section;
- tables whose column widths come from their content: no column narrower than its longest word at the
  table's font size (measured, see ``text_width_pt``), the remaining width to the columns with the most
  text, so a measure's text gets room and a traffic light or a date stays narrow. A table that does not
  fit the portrait page at its font size goes into a landscape section of its own (with the headings
  just above it), and only when even landscape is too narrow does the font shrink, down to 7 pt; the
  header row repeats on every page and a row is never split across pages;
- images no wider than the text width of their section;
- ``Contents``: a list of the headings with their page numbers. It is no TOC field (LibreOffice keeps a
  TOC field's stored text, so a converted PDF would show stale or no numbers) but one line per heading
  with a PAGEREF field to a bookmark on the heading, which LibreOffice computes when it lays out the
  page; Word updates the fields when it opens the file (``w:updateFields``).

Widths are measured with DejaVu Sans, the font LibreOffice substitutes for Arial where Arial is not
installed and wider than Arial itself: a column wide enough in DejaVu Sans is wide enough in Arial.
The font file ships with matplotlib (``mpl-data``), so the measure is the same on every machine.
"""

from __future__ import annotations

import importlib.util
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docx.document import Document
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.section import Section
    from docx.text.paragraph import Paragraph as DocxParagraph
    from PIL import ImageFont

LANGUAGE = "sv-SE"
FONT = "Arial"
BODY_PT = 11.0
TABLE_PT = 9.0
SMALLEST_TABLE_PT = 7.0
HEADING_PT = {0: 20.0, 1: 14.0, 2: 12.0, 3: 11.0}
# A4 and the margins (cm): left is the binding side; landscape keeps 2 cm all round.
A4 = (21.0, 29.7)
PORTRAIT_MARGINS = {"top": 2.0, "bottom": 2.0, "left": 2.5, "right": 2.0}
LANDSCAPE_MARGINS = {"top": 2.0, "bottom": 2.0, "left": 2.0, "right": 2.0}
HEADER_DISTANCE_CM = 1.0
# Table cell padding (each side) and what a border and rounding can take, in points.
CELL_PADDING_PT = 2.85  # 0.1 cm
COLUMN_SLACK_PT = 3.0
TWIPS_PER_PT = 20
EMU_PER_PT = 12700
HEADER_FILL = "E7E6E6"
_MEASURE_SIZE = 100  # the font is loaded at this size; widths scale linearly
# A cell that holds only a number, a percentage or a dash: such columns are right-aligned.
_NUMBER = re.compile(r"^[+\-\u2212]?[\d\u00a0 ]+(?:[,.]\d+)?(?:\u00a0?%)?$|^[–-]$")


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
    font_pt: float = TABLE_PT
    # Optional per column: its share of the width left over once every column has its longest word
    # (default: in proportion to how much more its text wants; a weight of 2 doubles that).
    weights: Sequence[float] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Image:
    png: bytes
    width_cm: float = 16.0


@dataclass(frozen=True, slots=True)
class PageBreak:
    pass


@dataclass(frozen=True, slots=True)
class Contents:
    """The list of headings (levels 1 to ``levels``) with their page numbers, at this place."""

    title: str = "Innehåll"
    levels: int = 2


@dataclass(frozen=True, slots=True)
class Orientation:
    """Starts a new section (on a new page) in landscape or portrait for the blocks that follow."""

    landscape: bool


Block = Heading | Paragraph | Table | Image | PageBreak | Contents | Orientation


@dataclass(frozen=True, slots=True)
class Letterhead:
    """What the header and footer of every page say; the words come from the caller."""

    organisation: str = ""  # e.g. "Falun"
    dated: str = ""  # e.g. "23 december 2025"
    page_label: str = "Sida {page} av {pages}"
    subtitle: str = ""  # a line under the title on the first page


# ---------------------------------------------------------------------------------------------------
# Measuring text


def _font_file(bold: bool) -> Path:  # noqa: FBT001 - one flag, always passed by name below
    spec = importlib.util.find_spec("matplotlib")  # finds the package without importing it
    locations = list(spec.submodule_search_locations or []) if spec else []
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for location in locations:
        path = Path(location) / "mpl-data" / "fonts" / "ttf" / name
        if path.is_file():
            return path
    return Path("/usr/share/fonts/truetype/dejavu") / name


@lru_cache(maxsize=2)
def _font(*, bold: bool) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont  # noqa: PLC0415 - only when a document is written

    return ImageFont.truetype(str(_font_file(bold)), _MEASURE_SIZE)


@lru_cache(maxsize=65536)
def text_width_pt(text: str, size_pt: float, *, bold: bool = False) -> float:
    """The width of ``text`` on one line at ``size_pt``, in points (DejaVu Sans: at least Arial's)."""
    return _font(bold=bold).getlength(text) * size_pt / _MEASURE_SIZE


def longest_word_pt(text: str, size_pt: float, *, bold: bool = False) -> float:
    """The widest word of ``text`` (words split at white space) at ``size_pt``, in points."""
    return max((text_width_pt(word, size_pt, bold=bold) for word in text.split()), default=0.0)


def _line_pt(text: str, size_pt: float, *, bold: bool = False) -> float:
    return max((text_width_pt(line, size_pt, bold=bold) for line in text.splitlines()), default=0.0)


@dataclass(frozen=True, slots=True)
class TableLayout:
    """Column widths (points) and the font size that make a table fit a given text width."""

    widths: tuple[float, ...]
    font_pt: float

    @property
    def width(self) -> float:
        return sum(self.widths)


def _column_needs(table: Table, size_pt: float) -> tuple[list[float], list[float]]:
    """Per column: the least width (its longest word) and the width its longest line wants."""
    extra = 2 * CELL_PADDING_PT + COLUMN_SLACK_PT
    least = [longest_word_pt(text, size_pt, bold=True) + extra for text in table.header]
    wanted = [_line_pt(text, size_pt, bold=True) + extra for text in table.header]
    for row in table.rows:
        for index, text in enumerate(row):
            least[index] = max(least[index], longest_word_pt(text, size_pt) + extra)
            wanted[index] = max(wanted[index], _line_pt(text, size_pt) + extra)
    return least, wanted


def layout_table(table: Table, available_pt: float, size_pt: float | None = None) -> TableLayout | None:
    """Widths that fill ``available_pt``: every column at least its longest word, the rest shared by
    how much more each column's text wants; None when the words alone do not fit at this size."""
    size = table.font_pt if size_pt is None else size_pt
    least, wanted = _column_needs(table, size)
    if sum(least) > available_pt:
        return None
    if sum(wanted) <= available_pt:
        # Everything fits on one line: stretch to the full width in proportion to what each wants.
        scale = available_pt / sum(wanted)
        return TableLayout(tuple(width * scale for width in wanted), size)
    spare = available_pt - sum(least)
    weights = list(table.weights) or [1.0] * len(least)
    more = [(want - low) * weight for want, low, weight in zip(wanted, least, weights, strict=True)]
    total_more = sum(more) or 1.0
    return TableLayout(tuple(low + spare * m / total_more for low, m in zip(least, more, strict=True)), size)


def _sizes(table: Table) -> list[float]:
    sizes = [table.font_pt]
    while sizes[-1] - 0.5 >= SMALLEST_TABLE_PT:
        sizes.append(sizes[-1] - 0.5)
    return sizes


def text_width(*, landscape: bool) -> float:
    """The text width of an A4 page in points."""
    width_cm = A4[1] if landscape else A4[0]
    margins = LANDSCAPE_MARGINS if landscape else PORTRAIT_MARGINS
    return (width_cm - margins["left"] - margins["right"]) / 2.54 * 72


def fits_portrait(table: Table) -> bool:
    return layout_table(table, text_width(landscape=False)) is not None


def choose_layout(table: Table, *, landscape: bool) -> TableLayout:
    """The layout at the largest font size that fits the section (down to 7 pt); when nothing fits,
    the smallest size with the columns shared out by their least widths (words may then break)."""
    available = text_width(landscape=landscape)
    for size in _sizes(table):
        found = layout_table(table, available, size)
        if found is not None:
            return found
    least, _ = _column_needs(table, SMALLEST_TABLE_PT)
    scale = available / sum(least)
    return TableLayout(tuple(width * scale for width in least), SMALLEST_TABLE_PT)


# ---------------------------------------------------------------------------------------------------
# Styles: Swedish, Arial, black headings


def _set_lang(rpr: BaseOxmlElement) -> None:
    from docx.oxml import OxmlElement  # noqa: PLC0415 - only when a document is written
    from docx.oxml.ns import qn  # noqa: PLC0415 - only when a document is written

    for old in rpr.findall(qn("w:lang")):
        rpr.remove(old)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), LANGUAGE)
    lang.set(qn("w:eastAsia"), LANGUAGE)
    lang.set(qn("w:bidi"), "ar-SA")
    rpr.append(lang)


def _set_fonts(rpr: BaseOxmlElement) -> None:
    # A theme attribute wins over a named font, so the theme attributes go.
    from docx.oxml import OxmlElement  # noqa: PLC0415 - only when a document is written
    from docx.oxml.ns import qn  # noqa: PLC0415 - only when a document is written

    for old in rpr.findall(qn("w:rFonts")):
        rpr.remove(old)
    fonts = OxmlElement("w:rFonts")
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    rpr.insert(0, fonts)


def _style_rpr(style_element: BaseOxmlElement) -> BaseOxmlElement:
    from docx.oxml import OxmlElement  # noqa: PLC0415 - only when a document is written
    from docx.oxml.ns import qn  # noqa: PLC0415 - only when a document is written

    found: BaseOxmlElement | None = style_element.find(qn("w:rPr"))
    if found is None:
        found = OxmlElement("w:rPr")
        style_element.append(found)
    return found


def _swedish_styles(document: Document) -> None:
    """sv-SE and Arial in the document defaults and in every style; black headings; compact spacing."""
    from docx.oxml.ns import qn  # noqa: PLC0415 - only when a document is written

    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    assert defaults is not None  # noqa: S101 - python-docx's template always has it
    rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
    assert rpr is not None  # noqa: S101 - as above
    _set_fonts(rpr)
    _set_lang(rpr)
    spacing = defaults.find(qn("w:pPrDefault") + "/" + qn("w:pPr") + "/" + qn("w:spacing"))
    if spacing is not None:
        spacing.set(qn("w:after"), "120")
        spacing.set(qn("w:line"), "259")
    for style in styles.findall(qn("w:style")):
        style_rpr = _style_rpr(style)
        if style_rpr.find(qn("w:rFonts")) is not None:
            _set_fonts(style_rpr)
        _set_lang(style_rpr)
    _black_headings(document)
    _settings(document)
    _contents_styles(document)


def _black_headings(document: Document) -> None:
    from docx.oxml.ns import qn  # noqa: PLC0415 - only when a document is written
    from docx.shared import Pt, RGBColor  # noqa: PLC0415 - only when a document is written

    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    for level, size in HEADING_PT.items():
        style = document.styles["Title" if level == 0 else f"Heading {level}"]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = RGBColor(0, 0, 0)
        element = style.element
        ppr = element.find(qn("w:pPr"))
        if ppr is not None:
            for border in ppr.findall(qn("w:pBdr")):  # the template's Title has a blue rule under it
                ppr.remove(border)
    for name in ("Header", "Footer"):
        # The template's tab stops are for US Letter: each section sets its own at its text width.
        ppr = document.styles[name].element.find(qn("w:pPr"))
        for tabs in ppr.findall(qn("w:tabs")) if ppr is not None else []:
            ppr.remove(tabs)


def _settings(document: Document) -> None:
    from docx.oxml import OxmlElement  # noqa: PLC0415 - only when a document is written
    from docx.oxml.ns import qn  # noqa: PLC0415 - only when a document is written

    document.core_properties.language = LANGUAGE
    settings = document.settings.element
    for theme_lang in settings.findall(qn("w:themeFontLang")):
        theme_lang.set(qn("w:val"), LANGUAGE)
    for update in settings.findall(qn("w:updateFields")):
        settings.remove(update)
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def _contents_styles(document: Document) -> None:
    from docx.enum.style import WD_STYLE_TYPE  # noqa: PLC0415 - only when a document is written
    from docx.shared import Cm, Pt  # noqa: PLC0415 - only when a document is written

    for level in (1, 2, 3):
        name = f"toc {level}"
        if name not in [s.name for s in document.styles]:
            toc = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            toc.base_style = document.styles["Normal"]
            toc.paragraph_format.left_indent = Cm(0.6 * (level - 1))
            toc.paragraph_format.space_after = Pt(3)
            _set_lang(_style_rpr(toc.element))


# ---------------------------------------------------------------------------------------------------
# Sections, header and footer


def _page_setup(section: Section, *, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT  # noqa: PLC0415 - only when a document is written
    from docx.shared import Cm  # noqa: PLC0415 - only when a document is written

    width, height = A4
    margins = LANDSCAPE_MARGINS if landscape else PORTRAIT_MARGINS
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width = Cm(height if landscape else width)
    section.page_height = Cm(width if landscape else height)
    section.top_margin = Cm(margins["top"])
    section.bottom_margin = Cm(margins["bottom"])
    section.left_margin = Cm(margins["left"])
    section.right_margin = Cm(margins["right"])
    section.header_distance = section.footer_distance = Cm(HEADER_DISTANCE_CM)


def _field(paragraph: DocxParagraph, instruction: str, shown: str, size: float) -> None:
    """A simple field (PAGE, NUMPAGES) with the text shown until it is computed."""
    from docx.oxml import parse_xml  # noqa: PLC0415 - only when a document is written
    from docx.oxml.ns import nsdecls  # noqa: PLC0415 - only when a document is written

    simple = parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr="{instruction}"><w:r><w:rPr><w:sz w:val="{int(size * 2)}"/>'
        f"</w:rPr><w:t>{shown}</w:t></w:r></w:fldSimple>"
    )
    paragraph._p.append(simple)  # noqa: SLF001 - python-docx has no API for fields


def _small_run(paragraph: DocxParagraph, text: str, *, bold: bool = False) -> None:
    from docx.shared import Pt, RGBColor  # noqa: PLC0415 - only when a document is written

    run = paragraph.add_run(text)
    run.font.size = Pt(8.5)
    run.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
    run.bold = bold


def _header_footer(section: Section, title: str, letterhead: Letterhead, *, landscape: bool) -> None:
    from docx.enum.text import WD_TAB_ALIGNMENT  # noqa: PLC0415 - only when a document is written
    from docx.shared import Pt  # noqa: PLC0415 - only when a document is written

    width = Pt(text_width(landscape=landscape))
    section.header.is_linked_to_previous = False
    section.footer.is_linked_to_previous = False
    header = section.header.paragraphs[0]
    header.text = ""
    header.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    _small_run(header, letterhead.organisation, bold=True)
    _small_run(header, "\t" + title)
    footer = section.footer.paragraphs[0]
    footer.text = ""
    footer.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    _small_run(footer, letterhead.dated + "\t")
    before, _, rest = letterhead.page_label.partition("{page}")
    middle, _, after = rest.partition("{pages}")
    _small_run(footer, before)
    _field(footer, "PAGE", "1", 8.5)
    _small_run(footer, middle)
    _field(footer, "NUMPAGES", "1", 8.5)
    _small_run(footer, after)


# ---------------------------------------------------------------------------------------------------
# Blocks


def _numeric_columns(table: Table) -> list[bool]:
    """Columns of numbers (a dash for none allowed, at least one digit somewhere)."""
    return [
        any(any(char.isdigit() for char in row[index]) for row in table.rows)
        and all(_NUMBER.match(row[index].strip()) for row in table.rows)
        for index in range(len(table.header))
    ]


def _cell_xml(text: str, *, width: int, size: int, bold: bool, fill: str | None, right: bool) -> str:
    shading = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
    align = '<w:jc w:val="right"/>' if right else ""
    weight = "<w:b/>" if bold else ""
    runs = "<w:r><w:br/></w:r>".join(
        f'<w:r><w:rPr>{weight}<w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr>'
        f'<w:t xml:space="preserve">{_escape(line)}</w:t></w:r>'
        for line in text.split("\n")
    )
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shading}</w:tcPr>'
        f'<w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>{align}</w:pPr>'
        f"{runs}</w:p></w:tc>"
    )


def _table_xml(block: Table, layout: TableLayout) -> str:
    """The table as WordprocessingML: a fixed layout with the measured widths, the header row bold,
    shaded and repeated on every page, no row split across pages, numbers right-aligned. Written as
    one string and parsed once: python-docx's cell objects took seconds for a 500-measure report."""
    from docx.oxml.ns import nsdecls  # noqa: PLC0415 - only when a document is written

    widths = [round(width * TWIPS_PER_PT) for width in layout.widths]
    size = round(layout.font_pt * 2)
    padding = round(CELL_PADDING_PT * TWIPS_PER_PT)
    numeric = _numeric_columns(block)
    rows = []
    for index, texts in enumerate([block.header, *block.rows]):
        header = index == 0
        fill = HEADER_FILL if header else None
        if not header and index - 1 < len(block.row_colours):
            fill = block.row_colours[index - 1]
        cells = "".join(
            _cell_xml(text, width=width, size=size, bold=header, fill=fill, right=right and not header)
            for text, width, right in zip(texts, widths, numeric, strict=True)
        )
        flags = "<w:cantSplit/><w:tblHeader/>" if header else "<w:cantSplit/>"
        rows.append(f"<w:tr><w:trPr>{flags}</w:trPr>{cells}</w:tr>")
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
    return (
        f"<w:tbl {nsdecls('w')}><w:tblPr>"
        '<w:tblStyle w:val="TableGrid"/>'
        f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
        '<w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar><w:top w:w="20" w:type="dxa"/><w:left w:w="{padding}" w:type="dxa"/>'
        f'<w:bottom w:w="20" w:type="dxa"/><w:right w:w="{padding}" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
        'w:noHBand="0" w:noVBand="1"/>'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )


def _add_table(document: Document, block: Table, *, landscape: bool) -> None:
    from docx.oxml import parse_xml  # noqa: PLC0415 - only when a document is written
    from docx.oxml.ns import qn  # noqa: PLC0415 - only when a document is written
    from docx.shared import Pt  # noqa: PLC0415 - only when a document is written

    table = parse_xml(_table_xml(block, choose_layout(block, landscape=landscape)))
    body = document.element.body
    final = body.find(qn("w:sectPr"))
    if final is not None:
        final.addprevious(table)
    else:
        body.append(table)
    # A little air after the table (python-docx puts the next paragraph right under it).
    document.add_paragraph().paragraph_format.space_after = Pt(2)


def _bookmark(paragraph: DocxParagraph, name: str, number: int) -> None:
    from docx.oxml import parse_xml  # noqa: PLC0415 - only when a document is written
    from docx.oxml.ns import nsdecls  # noqa: PLC0415 - only when a document is written

    start = parse_xml(f'<w:bookmarkStart {nsdecls("w")} w:id="{number}" w:name="{name}"/>')
    end = parse_xml(f'<w:bookmarkEnd {nsdecls("w")} w:id="{number}"/>')
    paragraph._p.insert(1 if paragraph._p.pPr is not None else 0, start)  # noqa: SLF001 - no bookmark API
    paragraph._p.append(end)  # noqa: SLF001 - as above


def _contents_line(document: Document, text: str, bookmark: str, level: int, *, landscape: bool) -> None:
    from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER  # noqa: PLC0415 - only when a document is written
    from docx.oxml import parse_xml  # noqa: PLC0415 - only when a document is written
    from docx.oxml.ns import nsdecls  # noqa: PLC0415 - only when a document is written
    from docx.shared import Pt  # noqa: PLC0415 - only when a document is written

    paragraph = document.add_paragraph(style=f"toc {level}")
    paragraph.paragraph_format.tab_stops.add_tab_stop(
        Pt(text_width(landscape=landscape)), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS
    )
    link = parse_xml(
        f'<w:hyperlink {nsdecls("w")} w:anchor="{bookmark}" w:history="1"><w:r><w:t xml:space="preserve">'
        f"{_escape(text)}</w:t></w:r><w:r><w:tab/></w:r>"
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> PAGEREF {bookmark} \\h </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t></w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:hyperlink>'
    )
    paragraph._p.append(link)  # noqa: SLF001 - python-docx has no API for hyperlinks or fields


_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XML cannot hold


def _escape(text: str) -> str:
    return _NOT_XML.sub(" ", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(slots=True)
class _Builder:
    document: Document
    title: str
    letterhead: Letterhead
    landscape: bool = False
    contents_levels: int = 0
    headings: list[tuple[str, int, str]] = field(default_factory=list)  # text, level, bookmark
    heading_count: int = 0
    started: bool = False  # anything written in the current section

    def section(self, *, landscape: bool) -> None:
        """A new section on a new page (the first section is set up in place)."""
        from docx.enum.section import WD_SECTION  # noqa: PLC0415 - only when a document is written

        if self.started:
            section = self.document.add_section(WD_SECTION.NEW_PAGE)
        else:
            section = self.document.sections[-1]
        _page_setup(section, landscape=landscape)
        _header_footer(section, self.title, self.letterhead, landscape=landscape)
        self.landscape = landscape
        self.started = False

    def heading(self, block: Heading) -> None:
        paragraph = self.document.add_heading(block.text, level=block.level)
        if self.contents_levels and block.level <= self.contents_levels:
            self.heading_count += 1
            name = f"_Ref_rubrik_{self.heading_count}"
            _bookmark(paragraph, name, self.heading_count)

    def contents(self, block: Contents) -> None:
        self.document.add_heading(block.title, level=1)
        for text, level, bookmark in self.headings:
            _contents_line(self.document, text, bookmark, level, landscape=self.landscape)

    def image(self, block: Image) -> None:
        from docx.shared import Cm, Emu  # noqa: PLC0415 - only when a document is written

        widest = text_width(landscape=self.landscape) * EMU_PER_PT
        width = min(Cm(block.width_cm), Emu(int(widest)))
        self.document.add_picture(io.BytesIO(block.png), width=width)


def _landscape_groups(blocks: Sequence[Block]) -> list[bool]:
    """Per block, whether it goes on landscape pages: every block after an ``Orientation(True)``, and a
    table too wide for portrait together with the headings right above it."""
    landscape = [False] * len(blocks)
    explicit = False
    for index, block in enumerate(blocks):
        if isinstance(block, Orientation):
            explicit = block.landscape
        landscape[index] = explicit
    for index, block in enumerate(blocks):
        if isinstance(block, Table) and not landscape[index] and not fits_portrait(block):
            landscape[index] = True
            # The headings right above it, and one short paragraph between them and the table.
            before = index - 1
            if before >= 0 and isinstance(blocks[before], Paragraph) and not landscape[before]:
                landscape[before] = isinstance(blocks[before - 1], Heading) if before > 0 else False
                before -= 1 if landscape[before] else 0
            while before >= 0 and isinstance(blocks[before], Heading) and not landscape[before]:
                landscape[before] = True
                before -= 1
    return landscape


def _planned_headings(blocks: Sequence[Block], levels: int) -> list[tuple[str, int, str]]:
    found: list[tuple[str, int, str]] = []
    for block in blocks:
        if isinstance(block, Heading) and block.level <= levels:
            found.append((block.text, block.level, f"_Ref_rubrik_{len(found) + 1}"))
    return found


def docx_document(
    title: str,
    blocks: Sequence[Block],
    *,
    created: datetime,
    author: str = "Samordna",
    letterhead: Letterhead | None = None,
) -> bytes:
    """A DOCX with ``title`` as its title and the blocks in order; ``created`` is written as the
    document's creation time (pass the run's moment so the same input gives the same document)."""
    import docx  # noqa: PLC0415 - python-docx only when a document is written
    from docx.shared import RGBColor  # noqa: PLC0415 - only when a document is written

    head = letterhead or Letterhead()
    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = author
    document.core_properties.created = created
    document.core_properties.modified = created
    _swedish_styles(document)
    contents = next((block for block in blocks if isinstance(block, Contents)), None)
    levels = contents.levels if contents else 0
    builder = _Builder(document, title, head, contents_levels=levels)
    builder.headings = _planned_headings(blocks, levels)
    landscape = _landscape_groups(blocks)
    builder.section(landscape=landscape[0] if blocks else False)
    document.add_heading(title, level=0)
    if head.subtitle:
        subtitle = document.add_paragraph()
        run = subtitle.add_run(head.subtitle)
        run.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
    builder.started = True
    for block, wide in zip(blocks, landscape, strict=True):
        if isinstance(block, Orientation):
            continue
        if wide != builder.landscape:
            builder.section(landscape=wide)
        if isinstance(block, PageBreak):
            if builder.started:
                document.add_page_break()  # type: ignore[no-untyped-call]
            continue
        builder.started = True
        if isinstance(block, Heading):
            builder.heading(block)
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph(style=block.style)
            paragraph.add_run(block.text).bold = block.bold
        elif isinstance(block, Table):
            _add_table(document, block, landscape=builder.landscape)
        elif isinstance(block, Image):
            builder.image(block)
        else:
            builder.contents(block)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
