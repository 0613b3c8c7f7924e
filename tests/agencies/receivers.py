"""Real receivers for the agencies' notifications: an HTTP server standing for an
agency's own system (a webhook), and an SMTP server (aiosmtpd) for its mail."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.ports import free_port


@dataclass
class Posted:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """Takes POSTs on its own port; `stop` and `start` again on the same port stand for
    a receiver that went down and came back."""

    port: int = field(default_factory=free_port)
    posted: list[Posted] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/seamless"

    def start(self) -> None:
        posted = self.posted

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                posted.append(Posted({k.lower(): v for k, v in self.headers.items()},
                                     self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"


class MailServer:
    """A real SMTP server on its own port, keeping what it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self._mailbox = _Mailbox()
        self._controller = Controller(self._mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Message]:
        return self._mailbox.messages

    def __enter__(self) -> MailServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
