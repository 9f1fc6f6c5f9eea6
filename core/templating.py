"""Every text a person reads is rendered here, from jinja2 templates in ``templates/``.

StrictUndefined: a template that names a missing value fails in tests instead of printing a blank.
Dates and numbers are written the Swedish way through ``core.text`` ("tisdag 3 mars 2026", "31,5 %",
"andra halvåret 2025"): the filters ``svdatum``, ``isodatum``, ``kort``, ``tal``, ``procent``,
``forandring``, ``halvar``, ``halvar_kort`` and ``versal`` are those functions, so Python and templates
write a date or a number one way.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from core.text import (
    capitalised,
    half_year_name,
    half_year_short,
    iso_date,
    local_time,
    percent_change,
    shorten,
    swedish_date,
    swedish_number,
    swedish_percent,
)


def templates_dir() -> Path:
    """The templates: inside the installed package when built as a wheel, else the repository's folder."""
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).parents[1] / "templates"


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between processes (jinja2's per-user folder in the system's temp
    folder, mode 0700): a command compiles its templates once, not on every run (measured: 80 ms of
    `samordna est lagesbild`). A folder that cannot be written only costs that time again."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            return


def _compiled_templates() -> jinja2.BytecodeCache | None:
    try:
        return _CompiledTemplates()
    except (OSError, RuntimeError):  # no safe folder of our own: compile each time
        return None


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one jinja2 environment: autoescaped HTML, plain text as written, Swedish date filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates are part of the release: checking every file's mtime on each render (twice per
        # digest, thousands of digests in a national sweep) buys nothing.
        auto_reload=False,
        bytecode_cache=_compiled_templates(),
    )
    env.filters["svdatum"] = swedish_date
    env.filters["isodatum"] = iso_date
    env.filters["kort"] = shorten
    env.filters["tal"] = swedish_number
    env.filters["procent"] = swedish_percent
    env.filters["forandring"] = percent_change
    env.filters["halvar"] = half_year_name
    env.filters["halvar_kort"] = half_year_short
    env.filters["versal"] = capitalised
    env.filters["tidpunkt"] = local_time
    return env


def render(name: str, **context: Any) -> str:
    """Render ``templates/<name>`` with ``context``."""
    return environment().get_template(name).render(**context)
