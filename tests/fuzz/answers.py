"""Reading answers: a gRPC status and its ErrorInfo, a Connect error body or stream end,
a gRPC-Web trailer frame, an HTTP door's status; and which cases an accepted answer says
it changed."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from urllib.parse import unquote

import grpc
import httpx
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

BAD_CODES = frozenset({"INTERNAL", "UNKNOWN", "DATA_LOSS", "NO_ANSWER"})
_TAGS = re.compile(r"<[^>]+>|\s+")


@dataclass(frozen=True)
class Answer:
    # A gRPC code's name ("OK", "NOT_FOUND"), a Connect code as one, "HTTP 404" for the
    # Open311 and console doors, "NO_ANSWER" when the connection ended without one.
    status: str
    message: str = ""
    http: int = 0
    reason: str = ""  # the ErrorInfo reason, when there is one
    trace_id: str = ""
    # Case references an accepted request names (its reply's case, its form's case_id).
    cases: tuple[str, ...] = ()
    retries: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "OK" or (self.status == f"HTTP {self.http}"
                                       and 200 <= self.http < 400)

    @property
    def bad(self) -> bool:
        """INTERNAL, UNKNOWN or no answer; a 5xx other than 503 on the HTTP doors."""
        return self.status in BAD_CODES or (
            self.status.startswith("HTTP ") and self.http >= 500 and self.http != 503)


def cases_of(reply: Message) -> tuple[str, ...]:
    """The cases an OK reply says it changed."""
    found = []
    for name in ("case", "report"):
        if name in reply.DESCRIPTOR.fields_by_name and reply.HasField(name):
            inner = getattr(reply, name)
            found.append(inner.id if name == "case" else inner.case_id)
    return tuple(f for f in found if f)


def error_reason(details: bytes) -> str:
    status = status_pb2.Status.FromString(details)
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return ""


def connect_answer(reply: httpx.Response, method: MethodDescriptor) -> Answer:
    """A Connect answer (or a gRPC or gRPC-Web one, which the port also gives)."""
    code = reply.status_code
    kind = reply.headers.get("content-type", "")
    if "grpc-status" in reply.headers or kind.startswith("application/grpc"):
        return _grpc_web_answer(reply, method)
    if code == 200 and kind.startswith("application/connect+"):
        error = _end_of_stream(reply.content)
        if error is None:
            return Answer("OK", http=code)
        return Answer(str(error.get("code", "?")).upper(), str(error.get("message", "")),
                      http=code)
    if code == 200:
        output = message_factory.GetMessageClass(method.output_type)()
        if kind.startswith("application/json"):
            json_format.Parse(reply.content, output, ignore_unknown_fields=True)
        else:
            output.ParseFromString(reply.content)
        return Answer("OK", http=code, cases=cases_of(output))
    try:
        error = reply.json()
        status = str(error["code"]).upper().replace("CANCELED", "CANCELLED")
    except (ValueError, KeyError, TypeError):
        return Answer(f"HTTP {code}", _text(reply.text), http=code)
    return Answer(status, str(error.get("message", "")), http=code,
                  reason=_connect_reason(error))


def _text(text: str) -> str:
    return _TAGS.sub(" ", text).strip()[:300]


def http_answer(reply: httpx.Response) -> Answer:
    status = f"HTTP {reply.status_code}"
    if reply.headers.get("location", "").startswith("/login"):
        status += " (to sign in)"  # the console's refusal of a reader it does not know
    return Answer(status, "" if reply.status_code < 400 else _text(reply.text),
                  http=reply.status_code)


_GRPC_CODES = {c.value[0]: c.name for c in grpc.StatusCode}


def _grpc_web_answer(reply: httpx.Response, method: MethodDescriptor) -> Answer:
    """A gRPC (or gRPC-Web) answer on the HTTP port: its status in the headers
    (trailers-only) or in the body's trailer frame."""
    trailers = {k: v for k, v in reply.headers.items() if k.startswith("grpc-")}
    data = b""
    at, content = 0, reply.content
    while at + 5 <= len(content):
        flags, size = content[at], int.from_bytes(content[at + 1:at + 5], "big")
        frame = content[at + 5:at + 5 + size]
        at += 5 + size
        if flags & 0x80:
            for line in frame.decode("utf-8", "replace").split("\r\n"):
                key, _, value = line.partition(":")
                trailers[key.strip().lower()] = value.strip()
        elif not data:
            data = frame
    status = _GRPC_CODES.get(int(trailers.get("grpc-status", "2") or 2), "UNKNOWN")
    message = unquote(trailers.get("grpc-message", ""))
    details = trailers.get("grpc-status-details-bin", "")
    reason = error_reason(base64.b64decode(details + "==")) if details else ""
    cases: tuple[str, ...] = ()
    if status == "OK" and data:
        output = message_factory.GetMessageClass(method.output_type)
        cases = cases_of(output.FromString(data))
    return Answer(status, message, http=reply.status_code, reason=reason, cases=cases)


def _connect_reason(error: dict[str, object]) -> str:
    for detail in error.get("details", []) or []:  # type: ignore[attr-defined]
        if isinstance(detail, dict) and detail.get("type") == "google.rpc.ErrorInfo":
            info = error_details_pb2.ErrorInfo.FromString(
                base64.b64decode(str(detail.get("value", "")) + "=="))
            return str(info.reason)
    return ""


def _end_of_stream(content: bytes) -> dict[str, object] | None:
    """The error of a Connect stream's end message, if it ends in one."""
    at = 0
    while at + 5 <= len(content):
        flags, size = content[at], int.from_bytes(content[at + 1:at + 5], "big")
        payload = content[at + 5:at + 5 + size]
        at += 5 + size
        if flags & 0x02:
            error = json.loads(payload or b"{}").get("error")
            return error if isinstance(error, dict) else None
    return None
