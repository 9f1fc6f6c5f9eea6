"""Anchors of the SSPF audit chain, written where the database's owner cannot rewrite them.

An anchor (``models.audit.Anchor``: head hash, count, entries without a MAC, sealed with the audit key)
is appended as one JSON line to ``SAMORDNA_AUDIT_ANCHOR_FILE`` (opened with O_APPEND and synced; make
the file itself append-only, ``chattr +a``, or put it on a WORM share or a remote log mount) and sent to
``SAMORDNA_AUDIT_ANCHOR_URL`` (an apprise URL such as the kommun's syslog or log server) when set.
``publish_anchor`` writes one once ``audit_anchor_every`` entries were added since the last anchor in the
file (always, with ``force``); without an audit key it writes none: an unsealed anchor proves nothing.
``read_anchors`` reads the file back for ``samordna sspf logg``.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from core.settings import Settings
from models.audit import Anchor, AuditKeys, make_anchor

__all__ = ["publish_anchor", "read_anchors"]

logger = logging.getLogger(__name__)
FILE_MODE = 0o640


def read_anchors(path: Path | None) -> tuple[list[Anchor] | None, list[str]]:
    """(The anchors in ``path``, None when no file is configured; the lines that are not anchors)."""
    if path is None:
        return None, []
    if not path.exists():
        return [], []
    anchors: list[Anchor] = []
    problems: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        return [], [f"ankarfilen {path} går inte att läsa ({type(error).__name__})"]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            anchors.append(Anchor.parse(line))
        except ValueError:
            problems.append(f"rad {number} i ankarfilen är inget ankare: filen har ändrats")
    return anchors, problems


def publish_anchor(
    engine: sa.Engine, settings: Settings, now: datetime, *, force: bool = False
) -> Anchor | None:
    """Write an anchor of the chain as it stands (module docstring); the anchor, or None if none was due.

    Never raises for a file or a server that cannot be reached: that is logged as an error (the
    entries themselves are in the database, sealed; the next anchor covers them)."""
    keys = AuditKeys.from_settings(settings)
    if keys is None or not (settings.audit_anchor_file or settings.audit_anchor_url):
        return None
    with Session(engine) as session:
        anchor = make_anchor(session, keys, now)
    path = settings.audit_anchor_file
    if path is not None and not force:
        anchors, _ = read_anchors(path)
        if anchors and anchor.count - anchors[-1].count < settings.audit_anchor_every:
            return None
    line = anchor.line()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            try:
                os.write(descriptor, (line + "\n").encode("utf-8"))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as error:
            logger.error(  # noqa: TRY400 - the error's kind is the message; no traceback in the log
                "granskningsloggens ankare kunde inte skrivas till %s (%s)", path, type(error).__name__
            )
    if settings.audit_anchor_url:
        from notifications.channels import notify_target, send  # noqa: PLC0415 - apprise only when an anchor goes out

        result = send(
            notify_target(settings.audit_anchor_url), "Samordna: granskningsloggens ankare", line, ""
        )
        if not result.ok:
            logger.error("granskningsloggens ankare kunde inte skickas: %s", result.detail)
    return anchor
