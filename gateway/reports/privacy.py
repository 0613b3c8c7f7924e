"""Who sees a reporter's contact: the one rule every door (RPCs, console, Open311) asks.

A reporter's name, phone and e-mail are personal data. The hotline, which calls the
reporter back, and the case's current lead, which may need to, see them in full;
everyone else who may see the report sees them masked (张*, 138****5678, z***@…), and
nothing derived from the ledger (traces, exports) ever holds them.
"""

from __future__ import annotations

import re
from functools import lru_cache

# What stands for a reporter's contact typed into a report's own words.
MASK = "***"
# A phone number is matched on its last digits (a subscriber number is 8 in China), so
# "+86 139 1234 5678", "13912345678" and "139.1234.5678" are one number.
_PHONE_TAIL = 8
# A report's words and contact never change, and a listing masks the same reports poll
# after poll (Open311's GET /requests: 200 a page, every few seconds): masked once each.
MASKED_REMEMBERED = 4096


def may_see_contact(viewer: str, *, owner: str, hotline: str) -> bool:
    return viewer in (hotline, owner)


def mask_name(name: str) -> str:
    return name[:1] + "*" * min(len(name) - 1, 3) if name else ""


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(digits)
    return "".join(digits[:3]) + "****" + "".join(digits[-4:])


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if local and domain else ""


def _phone_pattern(phone: str) -> re.Pattern[str] | None:
    digits = re.sub(r"\D", "", phone)[-_PHONE_TAIL:]
    if len(digits) < 5:
        return None
    # Those digits, with any separators between them and any prefix before them (a
    # country code, a trunk 0), and not followed by another digit.
    return re.compile(r"(?<![\d+])(?:\+?\d[\d\s\-().]*?)?" + r"[\s\-().]*".join(digits)
                      + r"(?!\d)")


@lru_cache(maxsize=MASKED_REMEMBERED)
def mask_text(text: str, *, name: str, phone: str, email: str) -> str:
    """`text` with the reporter's own contact masked, however it was typed in: what a
    report's description and address become for anyone but the hotline and the lead
    (the case's description, Open311's answers, masked views)."""
    for value in (email, name, *name.split()):
        if len(value.strip()) >= 2:
            # Whole words only among Latin letters and digits (a reporter named "Li" is
            # no reason to mask "police"); Chinese is written without spaces.
            word = rf"(?<![A-Za-z0-9]){re.escape(value.strip())}(?![A-Za-z0-9])"
            text = re.sub(word, MASK, text, flags=re.IGNORECASE)
    pattern = _phone_pattern(phone)
    return pattern.sub(MASK, text) if pattern is not None else text
