"""A POST Service Request, read: the form the spec defines, as a report draft.

The body is `application/x-www-form-urlencoded` (the spec's only format for it), parsed
here with bounds on its size and number of fields; it is never parsed as XML.
`attribute[code]=value` answers a question, `attribute[code][]=key` (repeated) picks
several keys of a multivaluelist, sent on as the catalog's comma-separated answer.

Open311 has no idempotency key, so a client's retry is recognised by its content: the
request id given to the intake is a digest of the key's name, every field but the key,
and the ten-minute window it arrived in. An identical post by the same client in the
same window returns the first report (a retry after a lost answer); the same words
posted later are a new report. A retry that straddles a window's edge makes a second
report, which the intake then merges onto the same case when it names the same subject.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

from gateway.open311.fields import POST_FIELDS
from gateway.reports.store import ReportDraft
from workflows.rules.report_ops import OPEN311

MAX_FIELDS = 64
# The spec's limit for a description; every other field is far shorter in the intake.
MAX_DESCRIPTION = 4000
MAX_FIELD = 512
IDEMPOTENCY_WINDOW_SECONDS = 600
CHANNEL = OPEN311
_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]{1,64})\](\[\])?")
# C0 controls other than tab, newline and carriage return, and DEL: never text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadForm(Exception):
    """A post that cannot be read; `message` says what to send instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Submission:
    draft: ReportDraft
    jurisdiction_id: str
    # A digest of every field but the API key: what makes two posts the same.
    fingerprint: str


def parse_form(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text),
                         max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadForm(f"send the request as application/x-www-form-urlencoded UTF-8, with "
                      f"at most {MAX_FIELDS} fields") from None


def api_key_of(pairs: list[tuple[str, str]]) -> str:
    keys = [value for name, value in pairs if name == "api_key"]
    return keys[0] if len(keys) == 1 else ""


def _fields(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    fields: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    listed: set[str] = set()
    for name, value in pairs:
        limit = MAX_DESCRIPTION if name == "description" else MAX_FIELD
        if len(value) > limit:
            raise BadForm(f"{name[:80]} is {len(value)} characters; the limit is {limit}")
        if _CONTROL.search(value):
            raise BadForm(f"{name[:80]}: control characters are not text")
        attribute = _ATTRIBUTE.fullmatch(name)
        if attribute is not None:
            code, many = attribute.group(1), bool(attribute.group(2))
            if code in attributes and not (many and code in listed):
                raise BadForm(f"attribute[{code}] is given twice; several keys of a "
                              f"multivaluelist are sent as attribute[{code}][]=key")
            if many:
                listed.add(code)
            attributes.setdefault(code, []).append(value)
        elif name in fields:
            raise BadForm(f"{name[:80]} is given twice")
        elif name in POST_FIELDS:
            fields[name] = value
        # Any other field is some client's extension: ignored, as the spec expects.
    return fields, attributes


def _coordinate(fields: dict[str, str]) -> tuple[float | None, float | None]:
    lat, lon = fields.get("lat", "").strip(), fields.get("long", "").strip()
    if not lat and not lon:
        return None, None
    try:
        point = float(lat), float(lon)
    except ValueError:
        raise BadForm("lat and long: both, as decimal degrees (WGS84)") from None
    if not all(math.isfinite(v) for v in point):
        raise BadForm("lat and long: both, as decimal degrees (WGS84)")
    return point


def read_submission(pairs: list[tuple[str, str]], photo_url: str = "") -> Submission:
    """The post's report; `photo_url` is where the public copy of the photo sent with it
    (`media`) is served, listed before a `media_url` the client gave."""
    fields, attributes = _fields(pairs)
    code = fields.get("service_code", "").strip()
    if not code:
        raise BadForm("service_code was not provided (GET services lists them)")
    lat, lon = _coordinate(fields)
    name = " ".join(n for n in (fields.get("first_name", "").strip(),
                                fields.get("last_name", "").strip()) if n)
    media = fields.get("media_url", "").strip()
    draft = ReportDraft(
        channel=CHANNEL, service_code=code, description=fields.get("description", ""),
        address=fields.get("address_string", "").strip(), lat=lat, lon=lon,
        # The intake places the report by its point; Open311's jurisdiction_id names the
        # whole endpoint, not one of the district's jurisdictions.
        jurisdiction="",
        attributes=tuple(sorted((c, ",".join(v)) for c, v in attributes.items())),
        media_urls=tuple(url for url in (photo_url, media) if url), contact_name=name,
        contact_phone=fields.get("phone", "").strip(),
        contact_email=fields.get("email", "").strip())
    content = sorted((n, v) for n, v in pairs if n != "api_key")
    fingerprint = hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()
    return Submission(draft=draft, jurisdiction_id=fields.get("jurisdiction_id", "").strip(),
                      fingerprint=fingerprint)


def request_id(key_name: str, submission: Submission, now: datetime) -> str:
    """The intake's request id for this post (see the module's docstring)."""
    window = int(now.timestamp()) // IDEMPOTENCY_WINDOW_SECONDS
    text = f"open311\n{key_name}\n{window}\n{submission.fingerprint}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]
