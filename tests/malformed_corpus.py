"""A corpus of hostile and broken files for every import, generated on the spot (never committed).

Each entry is a file and the ``samordna`` command that imports it. Together they cover the bombs issue
16 measured (a 5 KB workbook whose one cell sits at XFD1048576, YAML with nested aliases, 1.5 million
CSV rows, a cell over the csv module's 131,072 characters), broken encodings and formats, and values a
database would refuse (NUL characters, texts longer than their column). Every one must end as a Swedish
message with a non-zero exit other than 70, change nothing, and stay within the memory limit.

Run as a script (``python -m tests.malformed_corpus DIR URL``) it imports the whole corpus through the
CLI in one process and prints one JSON line per file, then the process's peak memory.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import resource
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

KOMMUN = "2080"
MEASURE_ID = "1"  # the first measure of the Falun example, present on a fresh database of each kind
ADDRESS_SPACE_LIMIT = 2 * 1024**3  # the driver may not take the machine down if a bomb gets through

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}"
    "{shared}"
    "</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_SHARED_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _workbook_xml(count: int) -> str:
    sheets = "".join(f'<sheet name="Blad{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, count + 1))
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f"<sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(count: int, *, shared: bool) -> str:
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    if shared:
        rels += f'<Relationship Id="rId{count + 1}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>'
    )


def sheet_xml(rows: str, dimension: str | None = "A1", extra: str = "") -> str:
    """A worksheet part with ``rows`` (``<row>`` elements) and the declared ``dimension``."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">{declared}'
        f"<sheetData>{rows}</sheetData>{extra}</worksheet>"
    )


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def write_xlsx(
    path: Path, sheets: list[str | Callable[[zipfile.ZipFile, str], None]], shared: str | None = None
) -> None:
    """A workbook written part by part (no library that might refuse the content we want to test)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(
                sheets="".join(_SHEET_TYPE.format(n=n) for n in range(1, len(sheets) + 1)),
                shared=_SHARED_TYPE if shared is not None else "",
            ),
        )
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook_xml(len(sheets)))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets), shared=shared is not None))
        for number, sheet in enumerate(sheets, start=1):
            name = f"xl/worksheets/sheet{number}.xml"
            if callable(sheet):
                sheet(archive, name)
            else:
                archive.writestr(name, sheet)
        if shared is not None:
            archive.writestr("xl/sharedStrings.xml", shared)


def _stream_part(chunks: Callable[[], Iterable[bytes]]) -> Callable[[zipfile.ZipFile, str], None]:
    def write(archive: zipfile.ZipFile, name: str) -> None:
        with archive.open(name, "w", force_zip64=True) as part:
            for chunk in chunks():
                part.write(chunk)

    return write


def _many_rows(count: int) -> Iterator[bytes]:
    yield sheet_xml("", None).split("<sheetData>")[0].encode() + b"<sheetData>"
    for n in range(1, count + 1):
        yield f'<row r="{n}">{inline(f"A{n}", "Åtgärd")}</row>'.encode()
    yield b"</sheetData></worksheet>"


def _padding(megabytes: int) -> Iterator[bytes]:
    yield sheet_xml("", None).split("<sheetData>")[0].encode() + b"<sheetData>"
    block = b" " * 1024 * 1024
    for _ in range(megabytes):
        yield block
    yield b"</sheetData></worksheet>"


PLAN_HEADER = "Åtgärd;Tid;Ansvarig;Uppföljning"


def _plan_csv(*rows: str) -> str:
    return "\n".join(("Fokusområde: Trygghet", PLAN_HEADER, *rows)) + "\n"


_BILLION_LAUGHS_YAML = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
    "plan: {titel: *i}\n"
    "fokusområden: []\n"
)
_DIRECTORY_ALIAS_BOMB = (
    "kommun: {namn: Falun, kod: '2080'}\n"
    "x: &x [aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa]\n"
    "y: &y [*x, *x, *x, *x, *x, *x, *x, *x, *x, *x]\n"
    "z: &z [*y, *y, *y, *y, *y, *y, *y, *y, *y, *y]\n"
    "w: &w [*z, *z, *z, *z, *z, *z, *z, *z, *z, *z]\n"
    "personer:\n  - {namn: Anna, epost: anna@example.se, alias: [*w, *w, *w, *w, *w]}\n"
)
_ENTITY_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10)
    )
    + f']><sst xmlns="{_MAIN}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
)


@dataclass(frozen=True, slots=True)
class Case:
    """One hostile file: its name, how to write it, and the command (before the file) that reads it."""

    name: str
    command: tuple[str, ...]
    write: Callable[[Path], None]


def _text(content: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content.encode(encoding))


def _bytes(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


def _xlsx(
    *sheets: str | Callable[[zipfile.ZipFile, str], None], shared: str | None = None
) -> Callable[[Path], None]:
    return lambda path: write_xlsx(path, list(sheets), shared)


def _repeat(line: bytes, count: int, head: bytes = b"") -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("wb") as handle:
            handle.write(head)
            block = line * 10_000
            for _ in range(count // 10_000):
                handle.write(block)

    return write


def _truncated(path: Path) -> None:
    write_xlsx(path, [sheet_xml(f'<row r="1">{inline("A1", "Åtgärd")}</row>', None)])
    path.write_bytes(path.read_bytes()[:300])


def _zip_without_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")


def _nested(opening: str, closing: str, depth: int) -> str:
    return opening * depth + closing * depth


def _col(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        name = chr(65 + remainder) + name
    return name


PLAN = ("plan", "import")
STATUS = ("status", "import")
EST = ("est", "import")
INDICATOR = ("indikator", "import")
DIRECTORY = ("katalog", "import")

_far = inline("XFD1048576", "x")
_header_row = f'<row r="1">{inline("A1", "Åtgärd")}{inline("B1", "Tid")}</row>'
_random = random.Random(16)  # noqa: S311 - reproducible garbage, not security

CASES: tuple[Case, ...] = (
    # XLSX: range, size and structure
    Case(
        "cell-at-xfd1048576.xlsx", PLAN, _xlsx(sheet_xml(f'<row r="1048576">{_far}</row>', "A1:XFD1048576"))
    ),
    Case("cell-at-xfd-dimension-lies.xlsx", PLAN, _xlsx(sheet_xml(f'<row r="1048576">{_far}</row>', "A1"))),
    Case("cell-at-xfd-no-dimension.xlsx", PLAN, _xlsx(sheet_xml(f'<row r="1">{_far}</row>', None))),
    Case(
        "row-1048576.xlsx",
        PLAN,
        _xlsx(sheet_xml(f'{_header_row}<row r="1048576">{inline("A1048576", "x")}</row>', "A1")),
    ),
    Case("unpacks-to-110-mb.xlsx", PLAN, _xlsx(_stream_part(lambda: _padding(110)))),
    Case("150000-rows.xlsx", PLAN, _xlsx(_stream_part(lambda: _many_rows(150_000)))),
    Case(
        "300-columns.xlsx",
        PLAN,
        _xlsx(
            sheet_xml(
                '<row r="1">' + "".join(inline(f"{_col(n)}1", "x") for n in range(300)) + "</row>", None
            )
        ),
    ),
    Case(
        "cell-40000-chars.xlsx",
        PLAN,
        _xlsx(sheet_xml(f'{_header_row}<row r="2">{inline("A2", "å" * 40_000)}</row>', None)),
    ),
    Case(
        "measure-5000-chars.xlsx",
        PLAN,
        _xlsx(sheet_xml(f'{_header_row}<row r="2">{inline("A2", "Trygghet " * 560)}</row>', None)),
    ),
    Case(
        "merged-a1-xfd1048576.xlsx",
        PLAN,
        _xlsx(
            sheet_xml(
                _header_row, None, '<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
            )
        ),
    ),
    Case(
        "entity-bomb.xlsx",
        PLAN,
        _xlsx(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', None), shared=_ENTITY_BOMB),
    ),
    Case(
        "shared-string-missing.xlsx",
        PLAN,
        _xlsx(sheet_xml('<row r="1"><c r="A1" t="s"><v>99</v></c></row>', None)),
    ),
    Case("150-sheets.xlsx", PLAN, _xlsx(*([sheet_xml(_header_row, None)] * 150))),
    Case("not-a-zip.xlsx", PLAN, _bytes(bytes(_random.randrange(256) for _ in range(4096)))),
    Case("empty.xlsx", PLAN, _bytes(b"")),
    Case("zip-without-workbook.xlsx", PLAN, _zip_without_workbook),
    Case("truncated.xlsx", PLAN, _truncated),
    Case("broken-xml.xlsx", PLAN, _xlsx('<?xml version="1.0"?><worksheet><sheetData><row r="1"><c r="A1"')),
    # CSV: size, encodings, cells
    Case("cell-200000-chars.csv", PLAN, _text(_plan_csv(f"{'x' * 200_000};2025;Polisen;BRÅ"))),
    Case("cell-40000-chars.csv", PLAN, _text(_plan_csv(f"{'x' * 40_000};2025;Polisen;BRÅ"))),
    Case("measure-4001-chars.csv", PLAN, _text(_plan_csv(f"{'y' * 4001};2025;Polisen;BRÅ"))),
    Case("nul-in-cell.csv", PLAN, _text(_plan_csv("Trygghets\x00vandring;2025;Polisen;BRÅ"))),
    Case(
        "neither-utf8-nor-cp1252.csv",
        PLAN,
        _bytes(
            _plan_csv("Trygghetsvandring;2025;Polisen;BRÅ")
            .encode("cp1252")
            .replace(b"vandring", b"vandr\x81\x8d\x90ng\xc3")
        ),
    ),
    Case("utf16-bom-missing-measure.csv", PLAN, _text(_plan_csv(";2025;Polisen;BRÅ"), "utf-16")),
    Case("utf16-no-bom-missing-measure.csv", PLAN, _text(_plan_csv(";2025;Polisen;BRÅ"), "utf-16-le")),
    Case(
        "1500000-rows.csv",
        PLAN,
        _repeat(b"T;2025\n", 1_500_000, b"\xef\xbb\xbfFokusomr\xc3\xa5de: X\n\xc3\x85tg\xc3\xa4rd;Tid\n"),
    ),
    Case("25-mb.csv", PLAN, _repeat(b"x" * 99 + b"\n", 250_000)),
    Case("500-columns.csv", PLAN, _text(";".join(["Åtgärd"] + [f"K{n}" for n in range(499)]) + "\n")),
    Case(
        "unclosed-quote.csv",
        PLAN,
        _text(_plan_csv('"Trygghetsvandring;2025;Polisen;BRÅ', *["rad;2025;x;y"] * 3000)),
    ),
    Case("binary-garbage.csv", PLAN, _bytes(bytes(_random.randrange(256) for _ in range(8192)))),
    Case("empty.csv", PLAN, _bytes(b"\n\n")),
    Case(
        "quoted-delimiters-no-measure.csv",
        PLAN,
        _text(_plan_csv('"";"Start hösten 2024; pågående";"Polisen, kommunen";"BRÅ; KS"')),
    ),
    # YAML plans
    Case("billion-laughs.yaml", PLAN, _text(_BILLION_LAUGHS_YAML)),
    Case("anchor.yaml", PLAN, _text("plan: &p {titel: Plan}\nfokusområden: []\n")),
    Case(
        "merge-key.yaml",
        PLAN,
        _text(
            "bas: &b {tid: 2025}\nplan: {titel: P}\nfokusområden:\n  - titel: T\n"
            "    åtgärder:\n      - {<<: *b, åtgärd: A}\n"
        ),
    ),
    Case("nested-10000.yaml", PLAN, _text("plan: " + _nested("[", "]", 10_000) + "\n")),
    Case(
        "impossible-date.yaml", PLAN, _text("plan: {titel: P, beslutsdatum: 2025-02-30}\nfokusområden: []\n")
    ),
    Case("integer-10000-digits.yaml", PLAN, _text("plan: {titel: " + "9" * 10_000 + "}\nfokusområden: []\n")),
    Case("latin1.yaml", PLAN, _text("plan: {titel: Åtgärdsplan}\nfokusområden: []\n", "latin-1")),
    Case("syntax-error.yaml", PLAN, _text("plan: {titel: [P\nfokusområden: ]\n")),
    Case("scalar-40000-chars.yaml", PLAN, _text("plan: {titel: " + "p" * 40_000 + "}\nfokusområden: []\n")),
    Case(
        "python-tag.yaml", PLAN, _text("plan: !!python/object/apply:os.system ['true']\nfokusområden: []\n")
    ),
    Case("top-level-list.yaml", PLAN, _text("- a\n- b\n")),
    Case("250000-values.yaml", PLAN, _text("plan: {titel: P}\nfokusområden:\n" + "- x\n" * 250_000)),
    Case(
        "measure-5000-chars.yaml",
        PLAN,
        _text(
            "plan: {titel: P}\nfokusområden:\n  - titel: T\n    åtgärder:\n      - {åtgärd: "
            + "m" * 5000
            + ", tid: '2025'}\n"
        ),
    ),
    Case(
        "nul-escape.yaml",
        PLAN,
        _text(
            'plan: {titel: "P\\0Q"}\nfokusområden:\n  - titel: T\n    åtgärder:\n      - {åtgärd: "A\\0B"}\n'
        ),
    ),
    # Directories
    Case("directory-alias-bomb.yaml", DIRECTORY, _text(_DIRECTORY_ALIAS_BOMB)),
    Case(
        "directory-impossible-date.yaml",
        DIRECTORY,
        _text("kommun: {namn: Falun, kod: '2080'}\nforum:\n  - {namn: BRÅ, typ: bra, moten: [2025-02-30]}\n"),
    ),
    Case(
        "directory-roles-not-a-list.yaml",
        DIRECTORY,
        _text(
            "kommun: {namn: Falun, kod: '2080'}\npersoner:\n"
            "  - {namn: Anna, epost: anna@example.se, roller: 5, kanaler: 7}\n"
            "forum:\n  - {namn: BRÅ, typ: bra, medlemmar: 3}\n"
        ),
    ),
    Case(
        "directory-name-300-chars.yaml",
        DIRECTORY,
        _text(
            "kommun: {namn: Falun, kod: '2080'}\npersoner:\n  - {namn: "
            + "N" * 300
            + ", epost: anna@example.se}\n"
        ),
    ),
    Case(
        "directory-nul.yaml",
        DIRECTORY,
        _text(
            "kommun: {namn: Falun, kod: '2080'}\npersoner:\n  - {namn: \"An\\0na\", epost: anna@example.se}\n"
        ),
    ),
    Case("directory-deep.yaml", DIRECTORY, _text("personer: " + _nested("{a: ", "}", 200) + "\n")),
    Case("directory-not-utf8.yaml", DIRECTORY, _bytes(b"kommun: {namn: \xff\xfe\xfa}\n")),
    # Status sheets
    Case(
        "status-cell-at-xfd.xlsx", STATUS, _xlsx(sheet_xml(f'<row r="1048576">{_far}</row>', "A1:XFD1048576"))
    ),
    Case(
        "status-comment-9000-chars.csv",
        STATUS,
        _text(f"Id;Status;Kommentar\n{MEASURE_ID};pågående;{'k' * 9000}\n"),
    ),
    Case(
        "status-cell-200000-chars.csv",
        STATUS,
        _text(f"Id;Status;Kommentar\n{MEASURE_ID};pågående;{'k' * 200_000}\n"),
    ),
    Case("status-nul.csv", STATUS, _text(f"Id;Status;Kommentar\n{MEASURE_ID};pågående;a\x00b\n")),
    # EST incidents
    Case("est-json-nested-100000.json", EST, _text(_nested("[", "]", 100_000))),
    Case("est-json-integer-10000-digits.json", EST, _text("[" + "7" * 10_000 + "]")),
    Case("est-json-not-utf8.json", EST, _bytes(b'[{"id": "\xff\xfe"}]')),
    Case(
        "est-cell-200000-chars.csv",
        EST,
        _text(f"Datum;Kategori;Beskrivning\n2025-03-03;klotter;{'b' * 200_000}\n"),
    ),
    Case("est-cell-at-xfd.xlsx", EST, _xlsx(sheet_xml(f'<row r="1048576">{_far}</row>', "A1:XFD1048576"))),
    # Indicator values
    Case("indicator-not-cp1252.csv", INDICATOR, _bytes(b"Indikator;Period;V\xe4rde\nNTU\x81\x8d;2025;3,4\n")),
    Case("indicator-unpacks-to-110-mb.xlsx", INDICATOR, _xlsx(_stream_part(lambda: _padding(110)))),
    Case(
        "indicator-note-3000-chars.csv",
        INDICATOR,
        _text(f"Indikator;Period;Värde;Kommentar;Källa\nOtrygghet;2025;3,4;{'n' * 3000};NTU\n"),
    ),
)


def write_corpus(folder: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """Write every case into ``folder``; (file, command) pairs."""
    written = []
    for case in CASES:
        path = folder / case.name
        case.write(path)
        written.append((path, case.command))
    return written


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM) in kB. Not getrusage's ru_maxrss: Linux carries that
    over exec from the process that forked us (a pytest worker of several hundred MB)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_corpus(folder: Path) -> None:
    """Import every file of the corpus through the CLI in this process; one JSON line each, then the peak."""
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    from samordna.cli import main  # noqa: PLC0415 - after the limit, so that the import counts too

    for case in CASES:
        path = folder / case.name
        out, err = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*case.command, str(path), "--kommun", KOMMUN])
        print(  # noqa: T201 - the driver's report, read by the test
            json.dumps(
                {
                    "file": case.name,
                    "code": code,
                    "stderr": err.getvalue(),
                    "stdout": out.getvalue()[:2000],
                    "seconds": round(time.perf_counter() - started, 2),
                    "peak_kb": peak_rss_kb(),
                },
                ensure_ascii=False,
            ),
            flush=True,
        )


if __name__ == "__main__":
    run_corpus(Path(sys.argv[1]))
    os._exit(0)
