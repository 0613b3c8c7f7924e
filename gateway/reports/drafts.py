"""What the intake takes in: a report's fields checked and bounded before it is stored,
and how the intake refuses one (`IntakeError`, the same for every door)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.reports.store import (
    MAX_ENCODED,
    MAX_MEDIA_URL,
    MAX_MEDIA_URLS,
    ReportDraft,
    encode_attributes,
    encode_media,
)
from workflows.rules import limits
from workflows.seals import Vouch

MAX_NAME = 64
MAX_EMAIL = 254
# Digits with the usual separators and an optional +: what a phone number is written as.
_PHONE = re.compile(r"\+?[0-9][0-9 \-()]{2,30}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,63}")


class IntakeError(Exception):
    """A report the intake refuses. `code` is stable; `field` names the input."""

    def __init__(self, code: str, message: str, *, field: str = "",
                 status: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.code, self.message, self.field, self.status = code, message, field, status


@dataclass(frozen=True)
class Taker:
    """Who takes a report in, as the door proved it: a hotline officer (signed session)
    or an Open311 client (its API key). The case records the hotline acting through it."""

    officer: str
    vouch: Vouch
    # How the report row names it: "command-center/op-wang" or "open311/citylink".
    label: str


def check_draft(draft: ReportDraft) -> None:
    def text(field: str, value: str, limit: int) -> None:
        if len(value) > limit:
            raise IntakeError("TEXT_TOO_LONG", f"{field} is {len(value)} characters; the "
                              f"limit is {limit}", field=field)
    text("description", draft.description, limits.MAX_TEXT)
    text("address", draft.address, limits.MAX_LOCATION)
    text("contact_name", draft.contact_name, MAX_NAME)
    text("contact_email", draft.contact_email, MAX_EMAIL)
    if draft.contact_phone and not _PHONE.fullmatch(draft.contact_phone):
        raise IntakeError("BAD_PHONE", "contact_phone: digits, spaces, dashes and an optional "
                          "leading +, at most 32 characters", field="contact_phone")
    if draft.contact_email and not _EMAIL.fullmatch(draft.contact_email):
        raise IntakeError("BAD_EMAIL", "contact_email is not an e-mail address",
                          field="contact_email")
    if len(draft.media_urls) > MAX_MEDIA_URLS:
        raise IntakeError("TOO_MANY_MEDIA", f"media_url: at most {MAX_MEDIA_URLS} per report",
                          field="media_url")
    for url in draft.media_urls:
        if len(url) > MAX_MEDIA_URL or not url.startswith(("https://", "http://")):
            raise IntakeError("BAD_MEDIA_URL", f"media_url: an http(s) URL of at most "
                              f"{MAX_MEDIA_URL} characters", field="media_url")
    if len(encode_media(list(draft.media_urls))) > MAX_ENCODED or \
            len(encode_attributes(dict(draft.attributes))) > MAX_ENCODED:
        raise IntakeError("TEXT_TOO_LONG", f"attributes and media_url: at most {MAX_ENCODED} "
                          "characters together each", field="attributes")
    if not draft.description.strip() and not draft.attributes:
        raise IntakeError("MISSING_FIELD", "description: say what the report is about",
                          field="description")
