"""The HTTP/JSON door: every RPC of both services answers over HTTP exactly as over gRPC
(same codes, ErrorInfo reasons and messages, same replies), reads answer GET, and the
limits and credentials are the gRPC ones."""

from __future__ import annotations

import asyncio
import json
import struct
import uuid
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import descriptor_pb2, json_format, message_factory
from google.protobuf.message import Message

from cli.provision import demo_password
from gateway.admission import HEAVY_METHODS
from records.participation import OVERSIGHT
from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import oversight_pb2 as ov
from tests.gateway.harness import (
    NO_CREDENTIAL,
    SERVICES,
    WRONG_CREDENTIAL,
    Gateway,
    http_failure,
)
from trust.attestations import ACT_HEADER

TOWNSHIP, NR, STRANGER = "jinhaihu-township", "natural-resources", "traffic-police"


def rid() -> str:
    return f"h-{uuid.uuid4()}"


async def _mining_case(gw: Gateway) -> str:
    reply = await gw.call("OpenCase", cs.OpenCaseRequest(
        request_id=rid(), type="illegal-mining", subject_key=f"Q-{uuid.uuid4().hex[:10]}",
        title="Quarrying by night", jurisdiction="jinhaihu"), TOWNSHIP)
    case_id: str = reply.case.id
    return case_id


def _request(method: Any, case_id: str) -> Message:
    """A request for `method` about `case_id`, with every field the method needs."""
    request = message_factory.GetMessageClass(method.input_type)()
    fields = {"request_id": rid(), "case_id": case_id, "task_id": "T1", "handoff_id": "H1",
              "escalation_id": "E1", "reason": "why not", "to_agency": NR, "agency": NR,
              "kind": "work-safety", "assignee": "emergency-management",
              "findings": "ore seized", "type": "illegal-mining", "title": "Quarrying",
              "subject_key": f"Q-{uuid.uuid4().hex[:10]}", "jurisdiction": "jinhaihu"}
    for name, value in fields.items():
        field = request.DESCRIPTOR.fields_by_name.get(name)
        if field is not None and field.type == field.TYPE_STRING:
            setattr(request, name, value)
    return request


UNARY = [(service.name, method) for service in SERVICES for method in service.methods
         if not method.server_streaming]


# Nobody, a forged credential, an agency taking no part, and the case's owner (allowed
# every read; its commands answered alike, a retried one with the first answer).
@pytest.mark.parametrize("caller", [NO_CREDENTIAL, WRONG_CREDENTIAL, STRANGER, TOWNSHIP])
async def test_every_rpc_answers_over_http_as_over_grpc(gw: Gateway, caller: str) -> None:
    case_id = await _mining_case(gw)

    async def compare(method: Any) -> None:
        request = _request(method, case_id)
        over_grpc = await _outcome(gw, method.name, request, caller, "grpc")
        # A retried command is the same answer: send the same request_id again.
        over_http = await _outcome(gw, method.name, request, caller, "http")
        assert over_http == over_grpc, method.name
    # Commands one by one (one may open a case the reads then see), the reads at once,
    # but for the whole-ledger ones, of which an agency runs one at a time.
    for service, method in UNARY:
        if not _read_only(method) or _heavy(service, method):
            await compare(method)
    await asyncio.gather(*(compare(m) for s, m in UNARY
                           if _read_only(m) and not _heavy(s, m)))


def _heavy(service: str, method: Any) -> bool:
    return f"/{method.containing_service.full_name}/{method.name}" in HEAVY_METHODS


def _read_only(method: Any) -> bool:
    return bool(method.GetOptions().idempotency_level ==
                descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS)


async def _outcome(gw: Gateway, method: str, request: Message, caller: str,
                   transport: str) -> Any:
    try:
        reply = await gw.call(method, request, caller, transport)
    except Exception:  # the Failure, whichever transport raised it
        return await gw.fails(method, request, caller, transport)
    # Open gaps and clocks run on between the two calls: the same fields answer.
    return sorted(json_format.MessageToDict(reply))


async def test_reads_also_answer_get(gw: Gateway) -> None:
    case_id = await _mining_case(gw)
    token = await gw.session(TOWNSHIP)
    message = json.dumps({"caseId": case_id})
    reply = await gw.http.get("/seamless.v1.CaseService/GetCase", params={
        "encoding": "json", "message": message, "connect": "v1"},
        headers={"authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["case"]["id"] == case_id
    stranger = await gw.http.get("/seamless.v1.CaseService/GetCase", params={
        "encoding": "json", "message": message, "connect": "v1"},
        headers={"authorization": f"Bearer {await gw.session(STRANGER)}"})
    assert (stranger.status_code, http_failure(stranger).reason) == (404, "CASE_NOT_FOUND")


async def test_a_command_does_not_answer_get(gw: Gateway) -> None:
    token = await gw.session(TOWNSHIP)
    reply = await gw.http.get("/seamless.v1.CaseService/OpenCase", params={
        "encoding": "json", "message": "{}", "connect": "v1"},
        headers={"authorization": f"Bearer {token}"})
    assert reply.status_code == 405


async def test_an_oversized_request_is_refused_on_both_transports(gw: Gateway) -> None:
    huge = cs.OpenCaseRequest(request_id=rid(), type="illegal-mining", subject_key="Q-1",
                              title="x" * (70 * 1024), jurisdiction="jinhaihu")
    over_grpc = await gw.fails("OpenCase", huge, TOWNSHIP, "grpc")
    over_http = await gw.fails("OpenCase", huge, TOWNSHIP, "http")
    assert over_grpc.code is over_http.code is grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_an_agencys_forwarded_act_is_no_credential_over_http(gw: Gateway) -> None:
    """The act header proves something only on the mutual-TLS port, where the agency's
    certificate vouches for it; over HTTP there is no certificate, so it is ignored."""
    case_id = await _mining_case(gw)
    reply = await gw.http.post(
        "/seamless.v1.CaseService/SignTask",
        content=json.dumps({"requestId": rid(), "caseId": case_id, "taskId": "T1"}),
        headers={"content-type": "application/json", ACT_HEADER: "forged.act.here"})
    assert http_failure(reply).reason == "UNAUTHENTICATED"


async def test_the_event_log_streams_over_http(gw: Gateway) -> None:
    await _mining_case(gw)
    request = json.dumps({"format": "EXPORT_FORMAT_CSV"}).encode()
    reply = await gw.http.post(
        "/seamless.v1.OversightService/ExportEventLog",
        content=struct.pack(">BI", 0, len(request)) + request,
        headers={"content-type": "application/connect+json",
                 "authorization": f"Bearer {await gw.session(OVERSIGHT)}"})
    assert reply.status_code == 200
    data, end = _unenvelope(reply.content)
    assert "error" not in end
    over_grpc = await gw.export(ov.ExportEventLogRequest(format=ov.EXPORT_FORMAT_CSV),
                                OVERSIGHT)
    # The ledger may have grown between the two reads; the header and the first events
    # are the same.
    assert data.splitlines()[:3] == over_grpc.splitlines()[:3]


def _unenvelope(body: bytes) -> tuple[bytes, dict[str, Any]]:
    """The data of a Connect server stream's messages, and its end-of-stream message."""
    data, end, at = b"", {}, 0
    while at < len(body):
        flags, length = struct.unpack(">BI", body[at:at + 5])
        payload = body[at + 5:at + 5 + length]
        at += 5 + length
        if flags & 0x02:
            end = json.loads(payload)
        else:
            data += json_format.Parse(payload, ov.ExportEventLogResponse()).data
    return data, end


async def test_a_program_signs_in_over_http_and_out_again(gw: Gateway) -> None:
    password = demo_password(gw.root, NR, "field-officer")
    wrong = await gw.http.post("/auth/sign-in", json={
        "agency": NR, "officer_id": "field-officer", "password": "guess"})
    stranger = await gw.http.post("/auth/sign-in", json={
        "agency": "nowhere", "officer_id": "field-officer", "password": password})
    assert wrong.status_code == stranger.status_code == 401
    assert wrong.json() == stranger.json()  # the same answer, whatever was wrong
    signed = await gw.http.post("/auth/sign-in", json={
        "agency": NR, "officer_id": "field-officer", "password": password})
    assert signed.status_code == 200
    assert signed.json()["officer"]["id"] == "field-officer"
    bearer = {"authorization": f"Bearer {signed.json()['session']}",
              "content-type": "application/json"}
    inbox = await gw.http.post("/seamless.v1.CaseService/ListInbox", content="{}",
                               headers=bearer)
    assert inbox.status_code == 200
    assert (await gw.http.post("/auth/sign-out", headers=bearer)).status_code == 200
    after = await gw.http.post("/seamless.v1.CaseService/ListInbox", content="{}",
                               headers=bearer)
    assert (after.status_code, http_failure(after).reason) == (401, "UNAUTHENTICATED")


async def test_a_sign_in_that_is_not_one_is_refused(gw: Gateway) -> None:
    as_json = {"content-type": "application/json"}
    for body, status in ((b"not json", 400), (b'{"agency": "x"}', 400),
                         (b"{" + b" " * 5000 + b"}", 413),
                         (b"{" + b" " * 100_000 + b"}", 413)):
        reply = await gw.http.post("/auth/sign-in", content=body, headers=as_json)
        assert reply.status_code == status
    # Not JSON: what a form on another site could post from its readers' browsers.
    form = await gw.http.post("/auth/sign-in", content=b'{"agency": "x"}',
                              headers={"content-type": "text/plain"})
    assert form.status_code == 415


async def test_an_address_that_keeps_failing_to_sign_in_is_held_off(gw: Gateway) -> None:
    # The HTTP port is on loopback, where a proxy in front would say who the client is.
    guesser = {"x-forwarded-for": "203.0.113.9"}
    password = demo_password(gw.root, NR, "dispatcher")
    for attempt in range(20):
        wrong = await gw.http.post("/auth/sign-in", headers=guesser, json={
            "agency": NR, "officer_id": f"officer-{attempt}", "password": "guess"})
        assert wrong.status_code == 401
    held = await gw.http.post("/auth/sign-in", headers=guesser, json={
        "agency": NR, "officer_id": "dispatcher", "password": password})
    assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
    elsewhere = await gw.http.post("/auth/sign-in", headers={
        "x-forwarded-for": "203.0.113.10"}, json={
        "agency": NR, "officer_id": "dispatcher", "password": password})
    assert elsewhere.status_code == 200


async def test_guesses_sent_all_at_once_meet_the_same_bound(gw: Gateway) -> None:
    """Forty wrong sign-ins from one address at once: the bound counts each before its
    answer, so no more than twenty reach the agency; the rest wait."""
    guesser = {"x-forwarded-for": "203.0.113.11"}
    replies = await asyncio.gather(*(gw.http.post("/auth/sign-in", headers=guesser, json={
        "agency": NR, "officer_id": f"officer-{attempt}", "password": "guess"})
        for attempt in range(40)))
    statuses = [reply.status_code for reply in replies]
    # Held at the gateway: 429 with the time to wait, without asking the agency.
    held = [reply for reply in replies if "retry-after" in reply.headers]
    assert statuses.count(401) <= 20 and len(held) >= 20, statuses
    assert all(reply.status_code == 429 for reply in held)


async def _raw(gw: Gateway, request: bytes) -> bytes:
    """Send `request` and a first chunk of a body meant to go on for ever, as a client
    that ignores every limit would, and read what the gateway answers."""
    url = httpx.URL(str(gw.http.base_url))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(request + b"4000\r\n" + b"x" * 0x4000 + b"\r\n")
        await writer.drain()
        return await asyncio.wait_for(reader.read(4096), 30)
    finally:
        writer.close()


@pytest.mark.parametrize("path", ["/auth/sign-in", "/open311/v2/requests.json",
                                  "/seamless.v1.CaseService/ListInbox"])
async def test_a_body_larger_than_it_declares_is_refused_on_every_route(
        gw: Gateway, path: str) -> None:
    # Content-Length says 10 bytes; the chunks that follow could go on for ever.
    smuggled = (f"POST {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json"
                "\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    answer = await _raw(gw, smuggled)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"Content-Length and Transfer-Encoding together" in answer
    # Chunks alone, no declared length: refused before a byte of the body is read.
    chunked = (f"POST {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json"
               "\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    assert (await _raw(gw, chunked)).startswith(b"HTTP/1.1 411")
    # The gateway still answers.
    assert (await gw.http.get("/open311/v2/services.json")).status_code == 200


async def test_a_body_counted_past_its_limit_never_reaches_the_handler() -> None:
    from gateway.http_server import BodyLimit

    read: list[int] = []

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        while True:  # a handler that reads whatever the server hands it
            message = await receive()
            if message["type"] != "http.request":
                return
            read.append(len(message["body"]))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[dict[str, Any]] = []

    async def arrives() -> dict[str, Any]:  # a server that believed a wrong length
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "headers": [(b"content-length", b"10")]}
    await BodyLimit(handler, max_bytes=4096)(scope, arrives, send)
    assert sum(read) <= 4096
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]


@pytest.mark.parametrize(("trusted", "seen"), [("", "127.0.0.1"),
                                               ("127.0.0.1", "203.0.113.9")])
async def test_a_forwarded_address_is_believed_only_from_a_trusted_proxy(
        trusted: str, seen: str) -> None:
    """Without a proxy configured, a local user who names a fresh X-Forwarded-For for
    each guess still gets one address: the connection's (what the throttles key on)."""
    from gateway.http_server import serve_http

    async def client_address(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["client"][0].encode()})

    async with serve_http(client_address, "127.0.0.1", 0, trusted_proxies=trusted) as port:
        async with httpx.AsyncClient() as client:
            reply = await client.get(f"http://127.0.0.1:{port}/",
                                     headers={"x-forwarded-for": "203.0.113.9"})
    assert reply.text == seen
