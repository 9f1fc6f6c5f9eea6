"""What goes wrong in an import, said in Swedish with the place it went wrong.

Every problem names the file and, where it has them, the sheet, the row and the column, so that a
coordinator can open the workbook and find the cell. An import with any error writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Location:
    """A place in an input file. ``row`` is the 1-based row a spreadsheet shows; ``column`` its header."""

    file: Path
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    column_letter: str | None = None
    row_label: str = "rad"

    def describe(self) -> str:
        """``plan.xlsx, blad "Fokus 1", rad 7, kolumn "Tid" (B)``."""
        parts = [self.file.name]
        if self.sheet is not None:
            parts.append(f'blad "{self.sheet}"')
        if self.row is not None:
            parts.append(f"{self.row_label} {self.row}")
        if self.column is not None:
            letter = f" ({self.column_letter})" if self.column_letter else ""
            parts.append(f'kolumn "{self.column}"{letter}')
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Problem:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location.describe()}: {self.message}"


class ImportFailedError(Exception):
    """The input cannot be imported; nothing was written. Carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems
