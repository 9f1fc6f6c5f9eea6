"""Real peers on loopback for delivery tests: an aiosmtpd SMTP server and a json:// webhook receiver.

``SmtpServer`` runs aiosmtpd's ``Controller`` on 127.0.0.1 at a free port and keeps every message it
accepts, parsed as ``email.message.EmailMessage``; it can be stopped and started again on the same port
(a mail server that is down), and can refuse chosen recipients with a 550 (a mailbox that does not
exist). ``WebhookReceiver`` is a threaded ``http.server`` that keeps the JSON
body of every POST.
"""

from __future__ import annotations

import email
import json
import socket
import threading
from collections import Counter
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, _options: list[str]
    ) -> str:
        if address.casefold() in self.server.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.server.lock:
            self.server.messages.append(parsed)
        return "250 OK"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 that stores what it receives. Use as a context manager."""

    def __init__(
        self,
        port: int | None = None,
        *,
        credentials: tuple[str, str] | None = None,
        refuse: frozenset[str] = frozenset(),
    ) -> None:
        self.port = port or free_port()
        self.credentials = credentials  # when set: AUTH offered, only this login accepted
        self.refuse = frozenset(address.casefold() for address in refuse)  # RCPT TO answered with 550
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            auth: dict[str, Any] = {}
            if self.credentials is not None:
                auth = {
                    "authenticator": self._authenticate,
                    "auth_require_tls": False,
                }
            self._controller = Controller(
                _Handler(self), hostname="127.0.0.1", port=self.port, server_hostname="localhost", **auth
            )
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(self, *args: Any) -> AuthResult:
        data = args[-1]
        expected = self.credentials
        ok = (
            isinstance(data, LoginPassword)
            and expected is not None
            and (data.login.decode(), data.password.decode()) == expected
        )
        return AuthResult(success=ok, handled=False)

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)

    def subjects(self) -> Counter[str]:
        """How many times each subject arrived."""
        return Counter(str(message["Subject"]) for message in self.received())

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class WebhookReceiver:
    """A threaded HTTP server on 127.0.0.1 that stores the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                receiver.bodies.append(body)
                receiver.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
