"""Sealed envelopes: every payload the platform hands Temporal, encrypted and
authenticated.

A payload codec (Temporal's own extension point for this) on the gateway's and the
worker's client: workflow inputs and continue-as-new, update arguments and results,
activity inputs and results, query results, memos and failure details are sealed with
AES-256-GCM under the engine's current key (`trust.engine_keys`), its id in the
payload's metadata. What the engine stores, shows (`temporal workflow show`, the UI) and
hands to anyone else is ciphertext; what it hands the worker is opened, or, when it
does not open, handed on as `Unopened` for the worker to refuse (`workflows.unopened`).

Each payload is bound to the workflow it belongs to: Temporal tells the codec which
workflow a payload is for (its serialization context), the id is authenticated with the
payload, and a payload copied out of one case's history into another workflow (a
foreign one under another id, say) does not open there. The id also travels in the
payload's metadata, so a reader without a context (the codec endpoint, a history read
back) can still open it.

Search attributes stay plaintext, because the engine indexes them, and so do headers,
which carry the gateway's signed seals (who acted, on which command's digest).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from trust.engine_keys import EngineKeys, EnvelopeError
from workflows.unopened import PlatformPayloadConverter, unopened_payload

SEALED_ENCODING = b"binary/seamless-sealed"
KEY_ID = "seamless-key"
# The workflow a payload was sealed for (authenticated, not secret).
WORKFLOW = "seamless-workflow"
# Authenticated with every payload: a sealed payload opens only as one of ours.
_CONTEXT = b"seamless engine payload v2"
# Payloads sealed before they were bound to their workflow (no WORKFLOW in their
# metadata): they still open, so that cases running at the upgrade replay, unbound.
# Removing the key from a bound payload gains nothing: it then fails this context.
_UNBOUND_CONTEXT = b"seamless engine payload v1"


def _workflow_of(context: SerializationContext | None) -> str | None:
    if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
        return context.workflow_id or None
    return None


class EnvelopeCodec(PayloadCodec, WithSerializationContext):
    def __init__(self, keys: EngineKeys, workflow_id: str | None = None) -> None:
        self._keys = keys
        # The workflow this codec seals for and opens in; None where Temporal names none
        # (reading a history back, the codec endpoint).
        self._workflow_id = workflow_id

    @property
    def subject_secret(self) -> bytes:
        return self._keys.subject_secret

    def with_context(self, context: SerializationContext) -> Self:
        workflow_id = _workflow_of(context)
        if workflow_id == self._workflow_id:
            return self
        return type(self)(self._keys, workflow_id)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        bound = self._workflow_id or ""
        key_id, sealed = self._keys.seal(payload.SerializeToString(), _bound(bound))
        return Payload(metadata={"encoding": SEALED_ENCODING, KEY_ID: key_id.encode(),
                                 WORKFLOW: bound.encode()}, data=sealed)

    def open(self, payload: Payload) -> Payload:
        """The payload sealed inside, or an unopened one saying why not (never an
        exception: one would fail the worker's whole task, again and again)."""
        encoding = payload.metadata.get("encoding", b"")
        if encoding != SEALED_ENCODING:
            shown = encoding.decode("utf-8", "replace")[:40] or "no encoding"
            return unopened_payload(f"plaintext ({shown}), not sealed by the platform")
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        if WORKFLOW in payload.metadata:
            bound = payload.metadata[WORKFLOW].decode("utf-8", "replace")
            if self._workflow_id is not None and bound != self._workflow_id:
                return unopened_payload("sealed for another workflow "
                                        f"({bound[:80] or 'none'}), not this one")
            context = _bound(bound)
        else:
            context = _UNBOUND_CONTEXT
        try:
            opened = Payload.FromString(self._keys.open(key_id, payload.data, context))
        except EnvelopeError as err:
            return unopened_payload(str(err))
        except Exception:  # a sealed message that is not a payload: not one of ours
            return unopened_payload("sealed, but not a payload")
        return opened


def _bound(workflow_id: str) -> bytes:
    return _CONTEXT + b"\0" + workflow_id.encode()


def subject_secret(converter: DataConverter) -> bytes:
    """The key of the subject locks (rules.opening.subject_lock) of a client whose
    converter seals payloads; nothing for one that does not (a test's engine)."""
    codec = converter.payload_codec
    return codec.subject_secret if isinstance(codec, EnvelopeCodec) else b""


def data_converter(keys: EngineKeys) -> DataConverter:
    """The gateway's and the worker's converter: payloads sealed on the way to the
    engine, opened (or marked unopened) on the way back."""
    return DataConverter(payload_converter_class=PlatformPayloadConverter,
                         payload_codec=EnvelopeCodec(keys))
