"""Who sees a reporter's contact: the one rule every door (RPCs, console, Open311) asks.

A reporter's name, phone and e-mail are personal data. The hotline, which calls the
reporter back, and the case's current lead, which may need to, see them in full;
everyone else who may see the report sees them masked (张*, 138****5678, z***@…), and
nothing derived from the ledger (traces, exports) ever holds them.
"""

from __future__ import annotations


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
