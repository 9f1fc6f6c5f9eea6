"""Reading posted forms: every field as text, and the few conversions the pages need, in Swedish."""

from __future__ import annotations

import re
from datetime import time

from starlette.datastructures import FormData, UploadFile

from core.errors import InvalidInputError

_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def field(form: FormData, name: str) -> str:
    """A text field's value ("" when missing or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def upload(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) else None


def optional_percent(text: str, what: str) -> int | None:
    """A whole percentage 0–100, or None when left empty."""
    cleaned = text.strip().removesuffix("%").strip()
    if not cleaned:
        return None
    if not cleaned.isdigit() or not 0 <= int(cleaned) <= 100:  # noqa: PLR2004 - a percentage
        raise InvalidInputError(f"{what}: skriv ett heltal från 0 till 100.")
    return int(cleaned)


def optional_clock(text: str, what: str) -> time | None:
    """``21:30`` (or ``21.30``) as a time, or None when left empty."""
    cleaned = text.strip()
    if not cleaned:
        return None
    found = _CLOCK.match(cleaned)
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:  # noqa: PLR2004 - a clock
        raise InvalidInputError(f'{what}: "{cleaned}" är ingen tid; skriv t.ex. 21:30.')
    return time(int(found[1]), int(found[2]))
