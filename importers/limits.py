"""Hard limits on every file an import reads, checked before and while it is read.

A 5 KB workbook whose one cell sits at XFD1048576, a few hundred bytes of YAML aliases or a CSV of
1.5 million rows must end as a Swedish message naming the file and the place, not as gigabytes of
memory or a traceback. Every limit is a setting (``SAMORDNA_IMPORT_MAX_…``, see samordna/settings.py);
the message names the setting so an administrator can raise it for a file that is large for a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings, read_settings
from core.text import swedish_number
from importers.problems import ImportFailedError, Location, Problem

__all__ = ["ImportLimits", "check_file", "current_limits", "decode_text", "limit_problem"]


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """The limits one import works under (see the ``import_max_*`` settings)."""

    file_bytes: int
    decompressed_bytes: int
    sheets: int
    rows: int
    columns: int
    cells: int
    cell_chars: int
    yaml_depth: int
    yaml_nodes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ImportLimits:
        return cls(
            file_bytes=settings.import_max_file_bytes,
            decompressed_bytes=settings.import_max_decompressed_bytes,
            sheets=settings.import_max_sheets,
            rows=settings.import_max_rows,
            columns=settings.import_max_columns,
            cells=settings.import_max_cells,
            cell_chars=settings.import_max_cell_chars,
            yaml_depth=settings.import_max_yaml_depth,
            yaml_nodes=settings.import_max_yaml_nodes,
        )


def current_limits() -> ImportLimits:
    """The limits the environment sets now. Read fresh, not through the process-wide ``get_settings()``
    cache: an import must not fix that cache's other values (the database URL) for the whole process."""
    return ImportLimits.from_settings(read_settings())


def limit_problem(where: Location, what: str, limit: int, setting: str) -> ImportFailedError:
    """``{what}; gränsen är {limit} (SAMORDNA_{setting})``: a breach, as an import failure."""
    return ImportFailedError(
        [Problem(where, f"{what}; gränsen är {swedish_number(limit)} (SAMORDNA_{setting}).")]
    )


def check_file(path: Path, limits: ImportLimits) -> int:
    """The file's size in bytes, after checking that it exists, is a file and is within the size limit."""
    where = Location(path)
    if not path.exists():
        raise ImportFailedError([Problem(where, "filen finns inte.")])
    if not path.is_file():
        raise ImportFailedError([Problem(where, "är ingen fil.")])
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ImportFailedError(
            [Problem(where, f"filen går inte att läsa ({type(error).__name__}).")]
        ) from error
    if size > limits.file_bytes:
        raise limit_problem(
            where, f"filen är {swedish_number(size)} byte", limits.file_bytes, "IMPORT_MAX_FILE_BYTES"
        )
    return size


def decode_text(path: Path, raw: bytes, *, legacy: bool = False) -> str:
    """``raw`` as text: UTF-8 (with or without BOM) or UTF-16 with its BOM; with ``legacy`` also
    Windows-1252, which Excel on Swedish Windows writes. Anything else, or a NUL character, is refused."""
    text: str | None = None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            text = None
    else:
        for encoding in ("utf-8-sig", "cp1252") if legacy else ("utf-8-sig",):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    if text is None:
        kinds = "UTF-8, UTF-16 eller Windows-1252" if legacy else "UTF-8"
        raise ImportFailedError(
            [Problem(Location(path), f"filen är inte text i {kinds}; spara den som UTF-8.")]
        )
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportFailedError(
            [Problem(Location(path, row=line), "filen innehåller NUL-tecken (är den en binärfil?).")]
        )
    return text
