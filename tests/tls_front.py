"""Mutual TLS in front of a plaintext server, for a server that has no TLS of its own.

The Temporal dev server stands in for `temporalio/server` in the tests, and has no TLS;
in front of it this does what the real server's frontend does with
`TEMPORAL_TLS_REQUIRE_CLIENT_AUTH`: it completes a TLS handshake (HTTP/2 by ALPN, as
gRPC asks) only with a client whose certificate the given authority issued for client
authentication, then relays bytes both ways. A client without one never reaches the
server behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from pathlib import Path


class TlsFront:
    def __init__(self, port: int, target_port: int, *, certificate: Path, key: Path,
                 client_authority: Path) -> None:
        self.port, self.target_port = port, target_port
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH,
                                             cafile=str(client_authority))
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_cert_chain(str(certificate), str(key))
        context.set_alpn_protocols(["h2"])
        self._context = context
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tls-front", daemon=True)

    def __enter__(self) -> TlsFront:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the TLS front did not listen on {self.port}")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        # A refused handshake is what this is for, not news for the log.
        self._loop.set_exception_handler(lambda _loop, _context: None)
        self._loop.run_until_complete(asyncio.start_server(
            self._relay, "127.0.0.1", self.port, ssl=self._context))
        self._ready.set()
        self._loop.run_forever()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                     ) -> None:
        try:
            target_reader, target_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, target_writer), _pipe(target_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, ssl.SSLError, OSError, RuntimeError):
            writer.close()
