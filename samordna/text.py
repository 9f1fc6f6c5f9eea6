"""Every text a person reads is rendered here, from jinja2 templates in ``templates/``.

StrictUndefined: a template that names a missing value fails in tests instead of printing a blank.
Dates are written the Swedish way through pendulum ("tisdag 3 mars 2026").
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import pendulum

from samordna.settings import TIMEZONE


def templates_dir() -> Path:
    """The templates: beside the package when installed from a wheel, else the repository's folder."""
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).parents[1] / "templates"


@lru_cache(maxsize=4096)  # a digest writes the same few dates many times; pendulum's formatting is slow
def swedish_date(value: date | datetime | None, pattern: str = "dddd D MMMM YYYY") -> str:
    """``tisdag 3 mars 2026``; an aware datetime is shown in Europe/Stockholm."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = pendulum.instance(value).in_timezone(TIMEZONE)
    else:
        moment = pendulum.datetime(value.year, value.month, value.day, tz=TIMEZONE)
    return moment.format(pattern, locale="sv")


def swedish_number(value: int) -> str:
    """``1 048 576``: whole numbers grouped by thousands with a space, as Swedish text writes them."""
    return f"{value:,}".replace(",", " ")


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["svdatum"] = swedish_date
    env.filters["isodatum"] = iso_date
    return env


def render(name: str, **context: Any) -> str:
    """Render ``templates/<name>`` with ``context``."""
    return environment().get_template(name).render(**context)
