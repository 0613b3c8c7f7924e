"""Sealed envelopes: every payload the platform hands Temporal, encrypted and
authenticated.

A payload codec (Temporal's own extension point for this) on the gateway's and the
worker's client: workflow inputs and continue-as-new, update arguments and results,
activity inputs and results, query results, memos and failure details are sealed with
AES-256-GCM under the engine's current key (`trust.engine_keys`), its id in the
payload's metadata. What the engine stores, shows (`temporal workflow show`, the UI) and
hands to anyone else is ciphertext; what it hands the worker is opened, or, when it
does not open, handed on as `Unopened` for the worker to refuse (`workflows.unopened`).

Search attributes stay plaintext, because the engine indexes them, and so do headers,
which carry the gateway's signed seals (who acted, on which command's digest).
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from trust.engine_keys import EngineKeys, EnvelopeError
from workflows.unopened import PlatformPayloadConverter, unopened_payload

SEALED_ENCODING = b"binary/seamless-sealed"
KEY_ID = "seamless-key"
# Authenticated with every payload: a sealed payload opens only as one of ours.
_CONTEXT = b"seamless engine payload v1"


class EnvelopeCodec(PayloadCodec):
    def __init__(self, keys: EngineKeys) -> None:
        self._keys = keys

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        key_id, sealed = self._keys.seal(payload.SerializeToString(), _CONTEXT)
        return Payload(metadata={"encoding": SEALED_ENCODING, KEY_ID: key_id.encode()},
                       data=sealed)

    def open(self, payload: Payload) -> Payload:
        """The payload sealed inside, or an unopened one saying why not (never an
        exception: one would fail the worker's whole task, again and again)."""
        encoding = payload.metadata.get("encoding", b"")
        if encoding != SEALED_ENCODING:
            shown = encoding.decode("utf-8", "replace")[:40] or "no encoding"
            return unopened_payload(f"plaintext ({shown}), not sealed by the platform")
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        try:
            opened = Payload.FromString(self._keys.open(key_id, payload.data, _CONTEXT))
        except EnvelopeError as err:
            return unopened_payload(str(err))
        except Exception:  # a sealed message that is not a payload: not one of ours
            return unopened_payload("sealed, but not a payload")
        return opened


def data_converter(keys: EngineKeys) -> DataConverter:
    """The gateway's and the worker's converter: payloads sealed on the way to the
    engine, opened (or marked unopened) on the way back."""
    return DataConverter(payload_converter_class=PlatformPayloadConverter,
                         payload_codec=EnvelopeCodec(keys))
