"""What every route of one app shares: the settings, the engine, the link secret and cookie rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from fastapi import Request

from core.settings import Settings

SESSION_COOKIE = "samordna_sessio"
LOGIN_COOKIE = "samordna_inloggning"  # the login form's double-submit CSRF token


@dataclass(frozen=True, slots=True)
class WebState:
    settings: Settings
    engine: sa.Engine
    secret: bytes = field(repr=False)

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS when the app is reached by HTTPS (SAMORDNA_BASE_URL)."""
        return self.settings.base_url.startswith("https://")

    def cookie(self, name: str) -> str:
        # The __Host- prefix makes the browser refuse a cookie that is not Secure, host-only and Path=/.
        return f"__Host-{name}" if self.secure_cookies else name

    @property
    def upload_dir(self) -> Path:
        return self.settings.data_dir / "webb-uppladdningar"


def state_of(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state
