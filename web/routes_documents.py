"""The coordinator's documents: the EST meeting (lägesbild and agenda as HTML, DOCX, ICS), the
half-year follow-up report and the årshjul, and the plan import with its dry-run preview.

Documents are the same bytes the command line writes (``services.reports``, ``reports.est_agenda``).
A whole HTML document (the agenda, the report) is served with a policy that allows its own inline
styles and embedded chart images, and nothing else.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from core import clock
from core.errors import InvalidInputError, NotFoundError
from models.db import transaction
from services.dashboard import Document, current_round_label, est_document, est_view, preview_plan_import
from services.reports import FOLLOW_UP_FORMATS, follow_up_documents, year_wheel_documents
from web.forms import field, upload
from web.pages import page
from web.session import require_coordinator, require_form_token
from web.state import state_of

router = APIRouter()

DOCUMENT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
MEDIA = {
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "svg": "image/svg+xml",
    "png": "image/png",
    "ics": "text/calendar; charset=utf-8",
}
PLAN_SUFFIXES = (".xlsx", ".csv", ".yaml", ".yml")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_UPLOAD_ID = re.compile(r"^(\d+)-[A-Za-z0-9_-]{32}$")
MAX_NAME = 200
UPLOAD_KEPT_SECONDS = 24 * 3600


def _download(document: Document) -> Response:
    inline = document.media_type.startswith(("text/html", "image/"))
    disposition = "inline" if inline else "attachment"
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{document.filename}"',
            "Content-Security-Policy": DOCUMENT_POLICY,
        },
    )


# EST ------------------------------------------------------------------------------------------------


@router.get("/samordnare/est")
def est(request: Request, cykel: int | None = None) -> Response:
    """The next EST meeting (or meeting ``cykel``): its lägesbild, open insatser, agenda to download."""
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        view = est_view(session, login.municipality, cykel, clock.local_day(now))
        return page(
            "est.html.j2", title=f"EST-möte {view.number}", login=login, current="/samordnare/est", view=view
        )


@router.get("/samordnare/est/{number}/dagordning.{fmt}")
def est_agenda(number: int, fmt: str, request: Request) -> Response:
    """The agenda of meeting ``number`` as html, docx or ics."""
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        document = est_document(session, login.municipality, number, fmt, clock.local_day(now))
    return _download(document)


# Reports ----------------------------------------------------------------------------------------------


@router.get("/samordnare/rapporter")
def reports(request: Request, period: str | None = None, ar: int | None = None) -> Response:
    """The follow-up report of a half-year and the årshjul of a year, to open or download."""
    state = state_of(request)
    now = clock.now()
    today = clock.local_day(now)
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        chosen = (period or current_round_label(session, login.municipality, today)).strip().upper()
        if not re.fullmatch(r"\d{4}H[12]", chosen):
            raise InvalidInputError(f'Perioden "{chosen}" förstås inte: skriv t.ex. 2025H2.')
        year = ar or today.year
        periods = [f"{y}H{h}" for y in range(today.year - 2, today.year + 1) for h in (1, 2)]
        return page(
            "reports.html.j2",
            title="Uppföljning och årshjul",
            login=login,
            current="/samordnare/rapporter",
            period=chosen,
            periods=periods,
            year=year,
            years=list(range(today.year - 2, today.year + 2)),
            formats=FOLLOW_UP_FORMATS,
        )


@router.get("/samordnare/rapporter/uppfoljning/{period}.{fmt}")
def follow_up(period: str, fmt: str, request: Request) -> Response:
    """The half-year report as html or docx, or the measure register as xlsx."""
    if fmt not in FOLLOW_UP_FORMATS:
        raise NotFoundError(f'Formatet "{fmt}" finns inte.')
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        content = follow_up_documents(session, login.municipality, period, [fmt], generated=now)[fmt]
    name = "atgardsregister" if fmt == "xlsx" else "uppfoljning"
    return _download(Document(f"{name}-{login.municipality.code}-{period}.{fmt}", MEDIA[fmt], content))


@router.get("/samordnare/rapporter/arshjul/{year}.{fmt}")
def year_wheel(year: int, fmt: str, request: Request) -> Response:
    """The årshjul as svg, png or ics."""
    if fmt not in {"svg", "png", "ics"} or not 2000 <= year <= 2100:  # noqa: PLR2004 - a sane year
        raise NotFoundError("Årshjulet finns inte i det formatet eller för det året.")
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        content = year_wheel_documents(session, login.municipality, year)[fmt]
    return _download(Document(f"arshjul-{login.municipality.code}-{year}.{fmt}", MEDIA[fmt], content))


# Plan import ----------------------------------------------------------------------------------------


@router.get("/samordnare/import")
def import_form(request: Request, meddelande: str | None = None) -> Response:
    """Upload a plan (XLSX, CSV or YAML): first a preview, the same as `plan import --dry-run`."""
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        return page(
            "import.html.j2",
            title="Importera åtgärdsplan",
            login=login,
            current="/samordnare/import",
            preview=None,
            upload_id="",
            filename="",
            notice=meddelande,
        )


async def _store_upload(request: Request, form: FormData, person_id: int) -> tuple[str, str]:
    """The uploaded file saved as ``<data dir>/webb-uppladdningar/<person>-<random>/<its own name>``
    (its name is what the preview shows); (upload id, file name)."""
    file = upload(form, "fil")
    if file is None or not file.filename:
        raise InvalidInputError("Välj en fil med åtgärdsplanen.")
    name = Path(file.filename.replace("\\", "/")).name.strip()
    suffix = Path(name).suffix.lower()
    if suffix not in PLAN_SUFFIXES or len(name) > MAX_NAME:
        raise InvalidInputError(f"Filen ska vara {', '.join(PLAN_SUFFIXES)}: {name} går inte att läsa.")
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(f"Filen är större än {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    upload_id = f"{person_id}-{secrets.token_urlsafe(24)}"
    _remove_old_uploads(state_of(request).upload_dir)
    folder = state_of(request).upload_dir / upload_id
    folder.mkdir(parents=True, mode=0o700)
    (folder / name).write_bytes(content)
    return upload_id, name


def _remove_old_uploads(root: Path) -> None:
    """Previews nobody confirmed are removed after a day: the folder never grows for good."""
    if not root.is_dir():
        return
    cutoff = time.time() - UPLOAD_KEPT_SECONDS
    for folder in root.iterdir():
        if _UPLOAD_ID.match(folder.name) and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def _uploaded(request: Request, upload_id: str, person_id: int) -> Path:
    """The file of an upload this person made (and that is still there)."""
    found = _UPLOAD_ID.match(upload_id)
    folder = state_of(request).upload_dir / upload_id
    files = sorted(folder.iterdir()) if found is not None and folder.is_dir() else []
    if found is None or int(found[1]) != person_id or len(files) != 1:
        raise InvalidInputError("Den uppladdade filen finns inte längre: ladda upp den igen.")
    return files[0]


def _preview(request: Request, form: FormData, upload_id: str, filename: str, *, save: bool) -> Response:
    state = state_of(request)
    now = clock.now()
    with transaction(state.engine) as session:
        login = require_coordinator(request, session, now)
        require_form_token(login, form.get("csrf"))
        path = _uploaded(request, upload_id, login.person.id or 0)
        preview = preview_plan_import(session, login.municipality, path, save=save)
        if save and preview.ok:
            shutil.rmtree(path.parent, ignore_errors=True)
            return RedirectResponse("/samordnare/import?meddelande=importerad", status_code=303)
        return page(
            "import.html.j2",
            title="Importera åtgärdsplan",
            login=login,
            current="/samordnare/import",
            preview=preview,
            upload_id=upload_id if preview.ok else "",
            filename=filename,
            status_code=200 if preview.ok else 400,
        )


@router.post("/samordnare/import")
async def import_preview(request: Request) -> Response:
    """The uploaded plan checked and summarised, nothing written."""
    state = state_of(request)
    async with request.form() as form:  # closes uploaded files afterwards
        now = clock.now()

        def check() -> int:
            with transaction(state.engine) as session:
                login = require_coordinator(request, session, now)
                require_form_token(login, form.get("csrf"))
                return login.person.id or 0

        person_id = await run_in_threadpool(check)
        upload_id, filename = await _store_upload(request, form, person_id)
        return await run_in_threadpool(_preview, request, form, upload_id, filename, save=False)


@router.post("/samordnare/import/spara")
async def import_save(request: Request) -> Response:
    """The previewed plan imported, in one transaction."""
    async with request.form() as form:  # closes uploaded files afterwards
        return await run_in_threadpool(
            _preview, request, form, field(form, "uppladdning"), field(form, "filnamn"), save=True
        )
