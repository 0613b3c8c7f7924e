"""Sending a probe and reading its answer, on every door.

Each request carries a W3C `traceparent` of its own: the gateway continues the caller's
trace, and the ledger keeps the trace id of the request behind every event, so the
oracle can tell which request caused what. A call refused for the caller's rate
(RESOURCE_EXHAUSTED with a retry delay, or 429) is sent again after the delay, a few
times: the fuzzer wants each request judged, not queued.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import grpc
import httpx
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor

from gateway.command_rpcs import FORWARDED_ACTIONS
from seamless.v1 import agency_pb2, case_service_pb2, oversight_pb2, report_pb2, roster_pb2
from tests.fuzz.answers import Answer, cases_of, connect_answer, error_reason, http_answer
from tests.fuzz.bodies import form_pairs, json_body
from tests.fuzz.probes import Probe, Transport
from tests.fuzz.target import Target
from tests.fuzz.wire import Shape, encode, envelope
from trust.attestations import Act, content_digest, sign_act
from trust.pki import Role
from trust.statements import Signer
from trust.tls import expecting, mutual_tls_channel, server_only_channel

TIMEOUT = 30.0
SERVICES = [m.DESCRIPTOR.services_by_name[n] for m, n in (
    (case_service_pb2, "CaseService"), (oversight_pb2, "OversightService"),
    (report_pb2, "ReportService"), (agency_pb2, "AgencyService"),
    (roster_pb2, "RosterService"))]
METHODS: dict[str, MethodDescriptor] = {f"{s.name}/{m.name}": m
                                        for s in SERVICES for m in s.methods}
RETRYABLE = frozenset({"RATE_LIMITED", "TOO_MANY_IN_FLIGHT", "HEAVY_JOB_RUNNING",
                       "HEAVY_JOBS_BUSY"})
RETRIES = 3
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Sender:
    def __init__(self, target: Target, *, sources: int = 1) -> None:
        self._target = target
        self._authority = target.authority
        self._public = grpc.aio.secure_channel(
            target.public, server_only_channel(self._authority), options=expecting(Role.GATEWAY))
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._signers: dict[str, Signer] = {}
        # Each client on an address of its own (127.0.0.N): Open311 and sign-in count
        # per address, and a benchmark sends far more than one client would.
        self._http = [httpx.AsyncClient(
            base_url=target.http_url, timeout=TIMEOUT, transport=httpx.AsyncHTTPTransport(
                local_address=f"127.0.0.{1 + i}", limits=httpx.Limits(max_keepalive_connections=0)))
            for i in range(sources)]
        self._sent = 0
        self._csrf: dict[str, str] = {}

    async def close(self) -> None:
        for channel in [self._public, *self._channels.values()]:
            await channel.close(grace=None)
        for client in self._http:
            await client.aclose()

    async def send(self, probe: Probe) -> Answer:
        # One trace for the request and its retries: whichever attempt the platform took,
        # what it recorded is this request's.
        trace = secrets.token_hex(16)
        answer = await self._once(probe, trace)
        for attempt in range(1, RETRIES + 1):
            wait = answer.reason in RETRYABLE or answer.http == 429
            if not wait:
                break
            await asyncio.sleep(min(5.0, 0.5 * attempt))
            answer = replace(await self._once(probe, trace), retries=attempt)
        return answer

    async def _once(self, probe: Probe, trace: str) -> Answer:
        parent = f"00-{trace}-{secrets.token_hex(8)}-01"
        self._sent += 1
        http = self._http[self._sent % len(self._http)]
        try:
            if probe.transport in (Transport.GRPC, Transport.MTLS, Transport.DESK):
                answer = await self._grpc(probe, parent)
            elif probe.transport is Transport.CONNECT:
                answer = await self._connect(http, probe, parent)
            else:
                answer = await self._http_door(http, probe, parent)
        except (httpx.TransportError, httpx.DecodingError) as err:
            answer = Answer("NO_ANSWER", f"{type(err).__name__}: {err}")
        except (httpx.InvalidURL, ValueError) as err:
            # The client would not send it (a URL or header no HTTP client sends).
            answer = Answer("CLIENT_REFUSED", f"{type(err).__name__}: {err}")
        return replace(answer, trace_id=trace)

    # ----- gRPC: the public port, the agencies' port, the desks --------------------

    def _signer(self, party: str) -> Signer:
        if party not in self._signers:
            self._signers[party] = Signer(self._target.identity(party))
        return self._signers[party]

    def _channel(self, probe: Probe) -> grpc.aio.Channel:
        if probe.transport is Transport.GRPC:
            return self._public
        key = f"{probe.transport}:{probe.caller}"
        if key not in self._channels:
            if probe.transport is Transport.MTLS:
                self._channels[key] = grpc.aio.secure_channel(
                    self._target.mtls, mutual_tls_channel(self._target.identity(probe.caller)),
                    options=expecting(Role.GATEWAY))
            else:
                self._channels[key] = self._target.desk_channel(probe.caller.partition("@")[2])
        return self._channels[key]

    def credential(self, probe: Probe) -> list[tuple[str, str]]:
        """The credential headers of a person's probe."""
        token = self._target.sessions.get(probe.caller, "")
        value = {"session": f"Bearer {token}", "garbage": "Bearer not.a.session",
                 "scheme": f"Basic {token}", "huge": "Bearer " + "A" * 10_000}.get(
                     probe.credential, "")
        return [("authorization", value)] if value and token else []

    def act(self, probe: Probe) -> list[tuple[str, str]]:
        """The `seamless-act` an agency's service forwards with the request."""
        if probe.credential == "none":
            return []
        if probe.credential == "garbage":
            return [("seamless-act", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA")]
        request = probe.message
        name = probe.rpc.rpartition("/")[2]
        action = FORWARDED_ACTIONS.get(name, "SIGN")
        act = Act(case_id=str(getattr(request, "case_id", "")),
                  task_id=str(getattr(request, "task_id", "")), action=action,
                  officer=str(getattr(request, "officer_id", "")),
                  request_id=str(getattr(request, "request_id", "")), session_id="fuzz",
                  content=content_digest(
                      action, findings=str(getattr(request, "findings", "")),
                      evidence_refs=list(getattr(request, "evidence_refs", ())),
                      reason=str(getattr(request, "reason", "")),
                      suggested_agency=str(getattr(request, "suggested_agency", ""))))
        if probe.credential == "other-act":
            act = replace(act, request_id=act.request_id + "-other")
        signer = probe.caller
        if probe.credential == "other-agency":
            signer = next(a for a in self._target.desks if a not in (probe.caller, "oversight"))
        return [("seamless-act", sign_act(self._signer(signer), act, at=datetime.now(UTC)))]

    async def _grpc(self, probe: Probe, parent: str) -> Answer:
        assert probe.message is not None
        method = METHODS[probe.rpc]
        path = f"/{method.containing_service.full_name}/{method.name}"
        metadata = [("traceparent", parent)] + (
            self.act(probe) if probe.transport is Transport.MTLS else self.credential(probe))
        channel = self._channel(probe)
        payload = encode(probe.message, probe.shape)
        output = message_factory.GetMessageClass(method.output_type)
        try:
            if method.server_streaming:
                stream = channel.unary_stream(path, request_serializer=None,
                                              response_deserializer=None)
                async for _chunk in stream(payload, metadata=metadata, timeout=TIMEOUT):
                    pass
                return Answer("OK")
            unary = channel.unary_unary(path, request_serializer=None,
                                        response_deserializer=None)
            reply = await unary(payload, metadata=metadata, timeout=TIMEOUT)
            return Answer("OK", cases=cases_of(output.FromString(reply)))
        except grpc.aio.AioRpcError as err:
            details = b""
            trailing: tuple[Any, ...] = tuple(err.trailing_metadata() or ())
            for key, value in trailing:
                if key == "grpc-status-details-bin" and isinstance(value, bytes):
                    details = value
            return Answer(err.code().name, err.details() or "", reason=error_reason(details))

    # ----- Connect -----------------------------------------------------------------

    async def _connect(self, http: httpx.AsyncClient, probe: Probe, parent: str) -> Answer:
        assert probe.message is not None
        method = METHODS[probe.rpc]
        path = f"/{method.containing_service.full_name}/{method.name}"
        headers = {"traceparent": parent, "connect-protocol-version": "1",
                   **dict(self.credential(probe))}
        params: dict[str, str] = {}
        body = b""
        broken_wire = probe.shape.name != "valid"
        if probe.encoding == "json":
            body, headers["content-type"] = json_body(probe.message, probe.shape)
        elif probe.encoding == "proto":
            body, headers["content-type"] = encode(probe.message, probe.shape), "application/proto"
        elif probe.encoding == "grpc-web":
            body = envelope(encode(probe.message, probe.shape))
            headers.update({"content-type": "application/grpc-web+proto", "x-grpc-web": "1"})
        elif probe.encoding == "stream":
            inner = encode(probe.message, probe.shape) if broken_wire else \
                json_body(probe.message, Shape())[0]
            body = envelope(inner, length=probe.shape.arg if probe.shape.name == "truncated"
                            else None)
            headers["content-type"] = "application/connect+" + ("proto" if broken_wire
                                                                 else "json")
        elif broken_wire:  # GET, the message as base64 proto
            params = {"encoding": "proto", "base64": "1", "connect": "v1", "message":
                      base64.urlsafe_b64encode(encode(probe.message, probe.shape)).decode()}
        else:
            params = {"encoding": "json", "connect": "v1",
                      "message": json_body(probe.message, Shape())[0].decode()}
        headers.update(dict(probe.headers))
        reply = await http.request(probe.method, path, content=body or None, params=params,
                                   headers=headers)
        return connect_answer(reply, method)


    # ----- Open311 and the console ---------------------------------------------------

    async def csrf(self, http: httpx.AsyncClient, caller: str) -> str:
        if caller not in self._csrf:
            page = await http.get("/inbox", headers=self._cookie(caller))
            found = _CSRF.search(page.text)
            self._csrf[caller] = found.group(1) if found else ""
        return self._csrf[caller]

    def _cookie(self, caller: str) -> dict[str, str]:
        token = self._target.sessions.get(caller, "")
        return {"cookie": f"seamless_session={token}"} if caller and token else {}

    async def _http_door(self, http: httpx.AsyncClient, probe: Probe, parent: str) -> Answer:
        console = probe.transport is Transport.CONSOLE
        path = _printable(probe.path if console else "/open311/v2" + probe.path)
        headers = {"traceparent": parent, **(self._cookie(probe.caller) if console else {})}
        pairs = form_pairs(probe.message) if probe.message is not None else list(probe.pairs)
        if probe.method == "GET":
            reply = await http.get(path, params=tuple(pairs), headers=headers)
            return http_answer(reply)
        if console and probe.credential != "no-csrf":
            token = "0" * 64 if probe.credential == "bad-csrf" else ""
            if not token and path == "/login":
                form = await http.get("/login")
                found = _CSRF.search(form.text)
                token = found.group(1) if found else ""
                headers["cookie"] = "; ".join(f"{k}={v}" for k, v in form.cookies.items())
            elif not token and probe.caller:
                token = await self.csrf(http, probe.caller)
            pairs.append(("csrf", token))
        if not console and probe.credential != "none":
            key = self._target.open311_key if probe.credential != "garbage" else "o311.x.y"
            pairs += [("api_key", key)] * (2 if probe.credential == "twice" else 1)
        shape = probe.shape.name
        if path == "/auth/sign-in" and shape == "valid":
            shape = "json"  # the programs' sign-in takes JSON
        body, headers["content-type"] = form_body(pairs, shape)
        content: bytes | AsyncIterator[bytes] = body
        if probe.shape.name == "no-length":
            content = _chunks(body)
        reply = await http.post(path, content=content, headers=headers)
        answer = http_answer(reply)
        if answer.ok:
            named = [v for k, v in pairs if k == "case_id"]
            where = reply.headers.get("location", "").removeprefix("/cases/")
            answer = replace(answer, cases=tuple(named + ([where] if where else [])))
        return answer


def _printable(path: str) -> str:
    """Control characters percent-encoded, as a client puts them in a URL."""
    return "".join(f"%{ord(c):02X}" if c.isascii() and not c.isprintable() else c
                   for c in path)


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    yield body[: len(body) // 2]
    yield body[len(body) // 2:]


def form_body(pairs: list[tuple[str, str]], shape: str) -> tuple[bytes, str]:
    """A form post's body and content type, broken as `shape` says."""
    form = "application/x-www-form-urlencoded"
    if shape == "many-fields":
        pairs = pairs + [(f"f{i}", "x") for i in range(90)]
    if shape == "oversize":
        pairs = pairs + [("description", "x" * 70_000)]
    body = urlencode(pairs).encode()
    if shape == "bad-percent":
        return body + b"&description=%zz%e4%", form
    if shape == "bad-utf8":
        return body + b"&description=\xff\xfe\xc0\x80", form
    if shape == "wrong-content-type":
        return body, "text/plain"
    if shape == "multipart":
        return (b'--x\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\n'
                b"data\r\n--x--\r\n"), "multipart/form-data; boundary=x"
    if shape == "json":
        return json.dumps(dict(pairs)).encode(), "application/json"
    return body, form

