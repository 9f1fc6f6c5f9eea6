"""Channels: where a message goes, and the one call that sends it. The only module that imports apprise.

A person is reached by e-mail (``Settings.mail_url`` with the person's address appended) and by each of
their ``notify_targets`` (apprise URLs: workflows://, slack://, json://, …). Secrets in those URLs are
written as ``{env:NAME}`` placeholders; they are resolved from the environment here, when a target is
built for a send, so the database, the outbox and the logs never hold a credential. Every target carries
a ``label`` (scheme, host and recipient, no user, password or token) that is safe to log and store.

Facts about apprise 2.0.1 this module relies on (checked on this machine):
- a new ``apprise.Apprise()`` per message: reusing one throttles e-mail to one message per 5.5 s;
- ``async_mode=False, service_timeout=0``: apprise's thread pool is module-global, not fork-safe;
- ``notify()`` returns a result that is falsy when the target failed; NOMATCH means nothing was loaded,
  which is a configuration error, never a success;
- the e-mail plugin takes no plain-text part of its own: given ``body_format=html`` it sends
  ``multipart/alternative`` whose text part is its conversion of the HTML, which puts every table cell
  on a line of its own. The plugin looks that conversion up by name
  (``apprise.plugins.email.base.convert_between``) while it builds the message, in the thread that
  sends; this module replaces that name once with a function that returns our ``body_text`` when a
  send here has set it (a ContextVar, so concurrent sends never see each other's text) and apprise's
  own conversion otherwise. So a mail carries the HTML and our text (aligned tables) as alternatives;
  ``body_text`` is also what every other channel gets;
- inline images (RFC 2387): with ``inline=yes`` on the mail URL, an attachment whose file name the
  HTML references as ``cid:<file name>`` is sent inline with that Content-ID, and the message becomes
  ``multipart/related`` (the other attachments stay downloadable files). Mail clients block ``data:``
  URIs, so charts travel this way: a mail with image attachments gets ``inline=yes``, and other
  channels are not told about the images (they are the HTML's pictures, not files);
- attachments: ``notify(attach=AppriseAttachment)`` with one ``AttachFile(path, name=, mimetype=)`` per
  file. The e-mail plugin then sends ``multipart/mixed`` (the body, then each file as a base64
  ``attachment`` part with that file name and Content-Type). apprise refuses a ``mimetype`` that is
  not in the ``mimetypes`` registry (a .docx type is not in Python's built-in table, only in
  /etc/mime.types), so each attachment's type is registered for its suffix first. Files are written to
  a private temporary directory (mode 0700) per send and removed after it. Only mail targets get
  them: json:// and chat plugins take attachments too, but would post the bytes to a webhook, so they
  get the text and a line saying the files come by e-mail;
- a refused SMTP connection fails in ≈ 0.05 s; a server that never answers takes 15 s unless the URL
  carries ``cto``/``rto`` (connect/read timeouts), which mail targets get (3 s) when they have none;
- ``notify()`` says only yes or no. Why a send failed is in apprise's own log (logger ``apprise``), at
  WARNING: "Connection error while submitting email …" and "A Connection error occurred sending …"
  when the server could not be reached, "… error=503." with the HTTP status a server answered,
  "Sending email to "…" failed." when a reachable mail server refused the message (a 550 to RCPT). So
  each send captures those records and classifies the failure (``SendResult.channel_down``): the
  channel could not be reached (no connection, a timeout, an HTTP status other than 400, 413, 414 or
  422) → the channel is paused and the message waits without spending an attempt; anything else is
  the message's own rejection and counts against it;
- a mail server is probed without sending anything through apprise's own SMTP controller (connect,
  STARTTLS or SSL as the URL says, log in), with the host, port, mode and credentials the plugin parsed
  from the URL.

Every target names its channel (``Target.channel``, no credential): the mail server
(``e-post mailto://host:port``), or the webhook's scheme, host and path. With no
``SAMORDNA_MAIL_URL`` a person reachable only by e-mail gets an unconfigured mail target: delivery
holds such messages instead of failing them.
"""

from __future__ import annotations

import contextvars
import logging
import mimetypes
import os
import re
import smtplib
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import apprise
from apprise.attachment.file import AttachFile
from apprise.exception import AppriseException

# apprise's e-mail plugin loads its PGP support lazily, on the first mail URL, and that imports the
# standard library's deprecated ``imghdr`` (Python 3.11/3.12): a DeprecationWarning in the middle of a
# send, which -W error turns into a failed send. Load it here once, with that one warning silenced.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="'imghdr' is deprecated", category=DeprecationWarning)
    import apprise.utils.pgp
    from apprise.plugins.email.base import NotifyEmail
    from apprise.plugins.email.smtp import AppriseSMTPController
import apprise.plugins.email.base as apprise_email

from core.settings import Settings
from core.templating import render
from models.directory import Person
from notifications.documents import Attachment

logger = logging.getLogger(__name__)

MAIL_SCHEMES = frozenset({"mailto", "mailtos"})
MAIL_TIMEOUT_SECONDS = "3"
MAIL_UNCONFIGURED = "e-post (SAMORDNA_MAIL_URL saknas)"
_PLACEHOLDER = re.compile(r"\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_HTTP_STATUS = re.compile(r"error=(\d{3})")
# HTTP answers that refuse this message's content, not the channel: the rest (401, 403, 404, 429, 5xx,
# …) would refuse every message alike.
_MESSAGE_STATUSES = frozenset({400, 413, 414, 422})
_UNREACHABLE = ("connection error", "timed out", "timeout")

# The plain-text part of the mail being sent in this context, if we wrote one (see the docstring).
_PLAIN_TEXT: contextvars.ContextVar[str | None] = contextvars.ContextVar("samordna_plain_text", default=None)
_apprise_conversion: Callable[[object, object, str], str] = apprise_email.convert_between  # type: ignore[attr-defined]  # a plain module attribute of apprise 2.0


def _our_plain_text(from_format: object, to_format: object, content: str) -> str:
    text = _PLAIN_TEXT.get()
    if text is not None and to_format == apprise.NotifyFormat.TEXT:
        return text
    return _apprise_conversion(from_format, to_format, content)


apprise_email.convert_between = _our_plain_text  # type: ignore[attr-defined]  # see the docstring


@dataclass(frozen=True, slots=True)
class Target:
    """One place a message is sent to. ``url`` holds resolved secrets: never log, show or store it."""

    url: str = field(repr=False)
    label: str
    is_mail: bool = False
    # A Swedish configuration error found while building the target (an unset secret, an unreadable
    # URL); a target with an error is not sent to, and its send fails with this text.
    error: str = ""
    # The channel the target is sent through (DeliveryChannel.key); never holds a credential.
    channel: str = ""
    # E-mail while SAMORDNA_MAIL_URL is not set: delivery holds the message, nothing is sent or failed.
    unconfigured: bool = False

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one send to one target gave. ``detail`` is Swedish and never holds a credential."""

    ok: bool
    detail: str
    # The channel itself could not be reached (or refused every message alike): the message waits for
    # it without spending an attempt. False for a message the channel refused.
    channel_down: bool = False


def targets_for(person: Person, settings: Settings, *, reply_to: str = "") -> list[Target]:
    """The person's e-mail (through ``settings.mail_url``, with ``reply_to`` as its Reply-To) followed
    by their other targets. Without a mail URL, a person reachable only by e-mail gets an unconfigured
    mail target (held, not failed)."""
    found: list[Target] = []
    if person.email and settings.mail_url:
        found.append(mail_target(settings.mail_url, person.email, reply_to=reply_to))
    elif person.email and not person.notify_targets:
        found.append(unconfigured_mail_target(person.email))
    found.extend(notify_target(url) for url in person.notify_targets)
    return found


def unconfigured_mail_target(recipient: str) -> Target:
    """E-mail to ``recipient`` while no mail server is configured: a target delivery holds."""
    return Target(
        url="",
        label=f"mailto://(ingen e-postserver)/{recipient}",
        is_mail=True,
        error="konfigurationsfel: SAMORDNA_MAIL_URL är inte satt, så e-post kan inte skickas",
        channel=MAIL_UNCONFIGURED,
        unconfigured=True,
    )


def mail_channel(mail_url: str) -> str:
    """The channel key of the mail server ``mail_url`` names: scheme, host and port, no credential."""
    parts = urlsplit(mail_url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"e-post {parts.scheme}://{parts.hostname or '?'}{port}"


def fallback_targets(coordinators: list[Person], settings: Settings) -> list[Target]:
    """Where a fallback message goes: ``settings.fallback_url`` if set, else each coordinator's targets."""
    if settings.fallback_url:
        return [notify_target(settings.fallback_url)]
    return [target for person in coordinators for target in targets_for(person, settings)]


def mail_target(mail_url: str, recipient: str, *, reply_to: str = "") -> Target:
    """``mail_url`` with ``to=recipient`` (and 3 s connect/read timeouts unless it names its own); with
    ``reply_to``, apprise's ``reply=`` sets the mail's Reply-To header (left out when it is the
    recipient's own address)."""
    # Built on the unresolved URL, where secrets are placeholders without URL syntax in them.
    parts = urlsplit(mail_url)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    extra = [f"to={quote(recipient, safe='@+')}"]
    if reply_to and "reply" not in present:
        extra.append(f"reply={quote(reply_to, safe='@+')}")
    extra += [f"{key}={MAIL_TIMEOUT_SECONDS}" for key in ("cto", "rto") if key not in present]
    query = "&".join(part for part in (parts.query, *extra) if part)
    label = f"{parts.scheme}://{parts.hostname or '?'}/{recipient}"
    url, missing = resolve_secrets(urlunsplit(parts._replace(query=query)))
    return Target(
        url=url, label=label, is_mail=True, error=_missing_error(missing), channel=mail_channel(mail_url)
    )


def notify_target(raw_url: str) -> Target:
    """An apprise URL from the directory or the settings, its secrets resolved, with a safe label."""
    scheme = urlsplit(raw_url).scheme or "?"
    url, missing = resolve_secrets(raw_url)
    if missing:
        return Target(url=url, label=f"{scheme}://", error=_missing_error(missing), channel=f"{scheme}://")
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return Target(
            url=url,
            label=f"{scheme}://",
            error=f"konfigurationsfel: apprise kan inte tolka adressen ({scheme}://…)",
            channel=f"{scheme}://",
        )
    # apprise's privacy form masks passwords and tokens; drop the query and any user part as well.
    private = urlsplit(str(plugin.url(privacy=True)))  # type: ignore[no-untyped-call]  # apprise's url() is unannotated
    host = private.netloc.rpartition("@")[2]
    label = urlunsplit((private.scheme, host, private.path, "", ""))[:300]
    return Target(url=url, label=label, is_mail=private.scheme in MAIL_SCHEMES, channel=label)


def resolve_secrets(url: str) -> tuple[str, list[str]]:
    """``url`` with each ``{env:NAME}`` replaced by that environment variable; the names not set."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value is None:
            missing.append(match.group(1))
            return ""
        return quote(value, safe="")

    return _PLACEHOLDER.sub(replace, url), missing


def _missing_error(missing: list[str]) -> str:
    if not missing:
        return ""
    return "konfigurationsfel: miljövariabeln " + ", ".join(missing) + " är inte satt"


def send(
    target: Target, subject: str, body_text: str, body_html: str, attachments: Sequence[Attachment] = ()
) -> SendResult:
    """Send one message to one target with a new ``apprise.Apprise()``; never raises. A mail target gets
    ``attachments`` as files; any other target gets the text and a line saying they come by e-mail."""
    if target.error:
        return SendResult(ok=False, detail=target.error)
    if not attachments:
        return _send(target, subject, body_text, body_html, None)
    if not target.is_mail:
        files = [attachment.filename for attachment in attachments if not _is_image(attachment)]
        if not files:
            return _send(target, subject, body_text, "", None)
        note = render("notifications/bilagor.txt.j2", names=files)
        return _send(target, subject, body_text.rstrip("\n") + "\n\n" + note.strip() + "\n", "", None)
    if any(_is_image(attachment) for attachment in attachments):
        target = Target(url=_with_inline(target.url), label=target.label, is_mail=True)
    try:
        folder = tempfile.TemporaryDirectory(prefix="samordna-bilagor-")
    except OSError as error:
        return SendResult(ok=False, detail=f"bilagorna kunde inte förberedas ({type(error).__name__})")
    with folder as directory:
        try:
            attach = _attachment_files(Path(directory), attachments)
        except (OSError, AppriseException) as error:
            return SendResult(ok=False, detail=f"bilagorna kunde inte förberedas ({type(error).__name__})")
        return _send(target, subject, body_text, body_html, attach)


def _is_image(attachment: Attachment) -> bool:
    return attachment.mime_type.startswith("image/")


def _with_inline(url: str) -> str:
    """The mail URL with ``inline=yes`` (unless it says otherwise): images referenced as ``cid:`` in the
    HTML go inline. The query is extended as it is, never re-encoded (it may hold a resolved secret)."""
    parts = urlsplit(url)
    if any(key == "inline" for key, _ in parse_qsl(parts.query, keep_blank_values=True)):
        return url
    return urlunsplit(parts._replace(query="&".join(part for part in (parts.query, "inline=yes") if part)))


def _attachment_files(directory: Path, attachments: Sequence[Attachment]) -> apprise.AppriseAttachment:
    """Each attachment written to ``directory`` (private to this send) and wrapped for apprise."""
    attach = apprise.AppriseAttachment()
    for number, attachment in enumerate(attachments, start=1):
        name = Path(attachment.filename).name or f"bilaga-{number}"
        path = directory / f"{number:02d}-{name}"
        path.write_bytes(attachment.content)
        if attachment.mime_type not in mimetypes.types_map.values():
            mimetypes.add_type(attachment.mime_type, Path(name).suffix or ".dat")
        attach.add(AttachFile(str(path), name=name, mimetype=attachment.mime_type))  # type: ignore[no-untyped-call]  # apprise is unannotated
    return attach


def _send(
    target: Target, subject: str, body_text: str, body_html: str, attach: apprise.AppriseAttachment | None
) -> SendResult:
    # The send runs in this thread. apprise otherwise dispatches through one module-level
    # ThreadPoolExecutor (for parallel sends, and for sequential ones with a service_timeout), which a
    # forked process inherits without its worker threads: a send after a fork then waits forever (seen
    # in the kill test). The socket timeouts (cto/rto) bound the send instead.
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False, service_timeout=0))
    try:
        added = notifier.add(target.url)
    except Exception:  # noqa: BLE001 - a plugin that raises on a bad URL is a configuration error, not a crash
        added = False
    if not added:
        return SendResult(ok=False, detail="konfigurationsfel: apprise kan inte använda adressen")
    if target.is_mail and body_html:
        body, body_format = body_html, apprise.NotifyFormat.HTML
    else:
        body, body_format = body_text, apprise.NotifyFormat.TEXT
    token = _PLAIN_TEXT.set(body_text if body_format == apprise.NotifyFormat.HTML and body_text else None)
    with _apprise_warnings() as warnings_seen:
        try:
            result = notifier.notify(body=body, title=subject, body_format=body_format, attach=attach)
        except Exception as error:  # noqa: BLE001 - any failure inside apprise is a failed send to retry
            return SendResult(ok=False, detail=f"oväntat fel i apprise ({type(error).__name__})")
        finally:
            _PLAIN_TEXT.reset(token)
    if result:
        return SendResult(ok=True, detail="levererat")
    status = getattr(result, "status", None)
    if status == apprise.AppriseResultStatus.NOMATCH:
        return SendResult(ok=False, detail="konfigurationsfel: adressen motsvarar ingen tjänst i apprise")
    if status == apprise.AppriseResultStatus.TIMEOUT:
        return SendResult(ok=False, detail="kanalen kunde inte nås: tidsgränsen gick ut", channel_down=True)
    return classify_failure(warnings_seen)


def classify_failure(warnings_seen: Sequence[str]) -> SendResult:
    """A failed send, judged from what apprise logged (module docstring): the channel down, or the
    message refused."""
    text = " ".join(warnings_seen).casefold()
    status = _HTTP_STATUS.search(text)
    if status is not None:
        code = int(status.group(1))
        if code in _MESSAGE_STATUSES:
            return SendResult(ok=False, detail=f"mottagaren tog inte emot meddelandet (svar {code})")
        return SendResult(
            ok=False, detail=f"kanalen kunde inte nås: servern svarade {code}", channel_down=True
        )
    if any(marker in text for marker in _UNREACHABLE):
        return SendResult(ok=False, detail="kanalen kunde inte nås: ingen anslutning", channel_down=True)
    if "sending email to" in text or "was refused" in text:
        return SendResult(ok=False, detail="mottagaren tog inte emot meddelandet (e-postservern nekade det)")
    return SendResult(ok=False, detail="mottagaren tog inte emot meddelandet (nekat eller inte nåbart)")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _apprise_warnings() -> Iterator[list[str]]:
    """The WARNING records apprise logs inside the block (its logger at WARNING at least meanwhile)."""
    apprise_logger = logging.getLogger("apprise")
    collect = _Collect()
    previous = apprise_logger.level
    if not apprise_logger.isEnabledFor(logging.WARNING):
        apprise_logger.setLevel(logging.WARNING)
    apprise_logger.addHandler(collect)
    try:
        yield collect.messages
    finally:
        apprise_logger.removeHandler(collect)
        apprise_logger.setLevel(previous)


def probe(target: Target) -> SendResult | None:
    """A health probe of the target's channel that sends nothing: for e-mail, connect to the mail server
    as apprise would (STARTTLS or SSL, log in) and leave again. None for a channel without a probe: a
    webhook is probed by its next real send."""
    if not target.is_mail or target.error:
        return None
    plugin = apprise.Apprise.instantiate(target.url)
    if not isinstance(plugin, NotifyEmail):
        return SendResult(
            ok=False, detail="konfigurationsfel: apprise kan inte tolka adressen", channel_down=True
        )
    try:
        with AppriseSMTPController(
            host=plugin.smtp_host,
            port=int(plugin.port or 0),
            secure_mode=plugin.secure_mode or "",
            user=plugin.user,
            password=plugin.password,
            verify_certificate=plugin.verify_certificate,
            socket_connect_timeout=int(plugin.socket_connect_timeout or 3),
        ):
            pass
    except (OSError, smtplib.SMTPException, RuntimeError, AppriseException) as error:
        return SendResult(
            ok=False, detail=f"e-postservern svarar inte ({type(error).__name__})", channel_down=True
        )
    return SendResult(ok=True, detail="e-postservern svarar")
