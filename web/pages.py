"""Rendering a page: the template under ``templates/web/``, the base context every page shares, and the
Swedish pages for a refused link, a refused form and an error."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse

from core.templating import render
from models.sspf import SspfRole
from services.accounts import Login

# The coordinator's menu: (path, label). SSPF is shown to those with an SSPF role.
COORDINATOR_MENU = (
    ("/samordnare", "Översikt"),
    ("/samordnare/utkorg", "Utkorg"),
    ("/samordnare/est", "EST"),
    ("/samordnare/rapporter", "Rapporter"),
    ("/samordnare/import", "Importera plan"),
    ("/samordnare/lankar", "Länkar"),
)
SSPF_MENU = (("/sspf", "SSPF"),)
CASE_ROLES = frozenset({SspfRole.COORDINATOR, SspfRole.OPERATIVE})

# What a redirect after a saved form may say (by key, so no text from the URL reaches the page).
NOTICES = {
    "status": "Tack! Statusrapporten är sparad och uppgiften är klar.",
    "insats": "Tack! Insatsen är markerad och uppgiften är klar.",
    "klar": "Tack! Uppgiften är markerad som klar.",
    "handelse": "Tack! Händelsen är rapporterad till EST-gruppen.",
    "handelse-fanns": "Händelsen fanns redan: den rapporterades tidigare.",
    "skickas-om": "Meddelandet ligger i kön igen och skickas vid nästa leverans.",
    "aterkallad": "Länken är återkallad. Personens nästa påminnelse får en ny länk.",
    "importerad": "Planen är importerad.",
}


def menu(login: Login | None, current: str) -> list[dict[str, Any]]:
    """The menu for this login, with the current page marked."""
    if login is None:
        return []
    items = list(COORDINATOR_MENU) if login.coordinator else []
    if login.sspf_roles & CASE_ROLES:  # an administratör's SSPF work (roles, keys, log) is on the CLI
        items += list(SSPF_MENU)
    return [{"href": href, "label": label, "current": current == href} for href, label in items]


def page_text(
    template: str,
    *,
    title: str,
    login: Login | None = None,
    current: str = "",
    notice: str | None = None,
    **context: Any,
) -> str:
    """``templates/web/<template>`` rendered with the base context every page has."""
    kommun = context.pop("kommun", "")
    return render(
        f"web/{template}",
        title=title,
        login=login,
        menu=menu(login, current),
        kommun=login.municipality_name if login else kommun,
        notice=NOTICES.get(notice or ""),
        **context,
    )


def page(template: str, *, title: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``page_text`` as a response."""
    return HTMLResponse(page_text(template, title=title, **context), status_code=status_code)


def message_page(title: str, text: str, *, status_code: int, login: Login | None = None) -> HTMLResponse:
    """A page that only says something: an error, a refusal, a missing page."""
    return page("message.html.j2", title=title, login=login, status_code=status_code, text=text, kommun="")


def refused_link_page(status_code: int) -> HTMLResponse:
    """What a wrong, altered, expired or revoked link shows: this page and nothing else."""
    return page("link_refused.html.j2", title="Länken fungerar inte", status_code=status_code, kommun="")


def refused_form_page(login: Login | None = None) -> HTMLResponse:
    """A form post without its CSRF token (or with a wrong one): refused, nothing saved."""
    return message_page(
        "Formuläret kunde inte skickas",
        "Säkerhetskontrollen av formuläret misslyckades, så inget sparades. Ladda om sidan och försök "
        "igen. Om det händer igen: logga ut och in, eller öppna länken i ditt senaste mejl.",
        status_code=403,
        login=login,
    )
