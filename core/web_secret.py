"""The secret that signs personal links: from ``SAMORDNA_WEB_SECRET``, else a file under the data folder.

The daily sweep (which writes the links into mails) and the web app (which checks them) must use the
same secret, so both read it here. In production it is a setting; for a demo or a developer's machine,
``create_local_secret`` writes a random one to ``<data_dir>/webb-hemlighet`` (mode 0600) once, and
every later process on that data folder finds it. Without either, mails carry no personal link and
``samordna webb`` refuses to start.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from core.settings import Settings

SECRET_FILE = "webb-hemlighet"  # noqa: S105 - a file name, not a secret
MIN_SECRET_LENGTH = 32


class WebSecretError(ValueError):
    """The configured secret cannot be used; the message is Swedish."""


def secret_file(settings: Settings) -> Path:
    """Where a locally generated secret lives."""
    return settings.data_dir / SECRET_FILE


def link_secret(settings: Settings) -> bytes | None:
    """The link secret as bytes, or None when none is configured (no links are made then)."""
    configured = settings.web_secret.get_secret_value().strip()
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise WebSecretError(
                f"SAMORDNA_WEB_SECRET är för kort: minst {MIN_SECRET_LENGTH} tecken "
                '(skapa en med: python3 -c "import secrets; print(secrets.token_urlsafe(48))").'
            )
        return configured.encode()
    path = secret_file(settings)
    try:
        stored = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise WebSecretError(f"{path} går inte att läsa ({type(error).__name__}).") from error
    if len(stored) < MIN_SECRET_LENGTH:
        raise WebSecretError(f"{path} innehåller ingen giltig hemlighet; ta bort filen och skapa en ny.")
    return stored.encode()


def create_local_secret(settings: Settings) -> bytes:
    """The local secret, written to ``<data_dir>/webb-hemlighet`` first if there is none yet."""
    existing = link_secret(settings)
    if existing is not None:
        return existing
    path = secret_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once never overwrite each other's secret.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        found = link_secret(settings)
        if found is None:  # pragma: no cover - the file was removed between the two calls
            raise WebSecretError(f"{path} försvann medan den skapades; försök igen.") from None
        return found
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value.encode()
