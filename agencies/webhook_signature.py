"""How a webhook's receiver knows a notification is the agency's and fresh.

Each request carries `Seamless-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256
of `<t>.<body>` under the subscription's secret. A receiver recomputes it over the raw
body, compares in constant time, and refuses a `t` more than five minutes from its own
clock (a recorded request replayed later no longer verifies); the body's `key` (also
the `Seamless-Idempotency-Key` header) tells it a retry from a new notification.
The README's example is this function, written out.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Seamless-Signature"
KEY_HEADER = "Seamless-Idempotency-Key"
EVENT_HEADER = "Seamless-Event"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify(secret: str, body: bytes, header: str, now: float,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Whether `header` signs `body` under `secret`, made within `tolerance` of `now`."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        at = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, at), f"t={at},v1={fields.get('v1', '')}")
