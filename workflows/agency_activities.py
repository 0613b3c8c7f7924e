"""The case activities that reach the agencies: real gRPC calls to their services.

Every call is mutual TLS with the worker's certificate (only the worker may deliver,
withdraw and notify) and every delivery and notice is answered with the agency's signed
receipt, which is checked here and kept with the case's event.

Transient failures (an agency down, a timeout) are raised as they are, so Temporal
retries them with backoff; a refusal that no retry can change (a malformed request, a
task addressed to the wrong agency) is non-retryable. Every call carries the effect's
idempotency key, so a retry never duplicates an inbox row or a notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio import activity
from temporalio.exceptions import ApplicationError

from observability import telemetry
from seamless.v1 import agency_pb2, agency_pb2_grpc
from trust.attestations import verify_receipt
from trust.pki import CertificateStore, Identity, Role
from trust.statements import StatementError
from trust.tls import expecting, mutual_tls_channel
from workflows import activities
from workflows.rules.effects import Notice, TaskDelivery, TaskWithdrawal

CALL_TIMEOUT_SECONDS = 10.0
# gRPC's default reconnect backoff grows to two minutes; an agency that comes back should
# get its deliveries within seconds (the activity's own retries pace the attempts).
CHANNEL_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 500),
                   ("grpc.min_reconnect_backoff_ms", 500),
                   ("grpc.max_reconnect_backoff_ms", 5000)]
# Retrying cannot change these answers.
_PERMANENT = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
              grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED,
              grpc.StatusCode.UNIMPLEMENTED}


def _stamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _permanent_or_raise(err: grpc.aio.AioRpcError, what: str) -> None:
    if err.code() in _PERMANENT:
        raise ApplicationError(f"{what} refused: {err.code().name}: {err.details()}",
                               type=f"AGENCY_{err.code().name}", non_retryable=True) from err
    raise err


class ReceiptRefused(Exception):
    """The agency answered without a receipt that holds: retried, as for an outage."""


class AgencyActivities:
    """Deliveries, withdrawals and notices, given where each agency's service listens
    (its mutual-TLS port), the worker's identity and the certificates receipts are
    checked against."""

    def __init__(self, addresses: Mapping[str, str], identity: Identity,
                 store: CertificateStore) -> None:
        self._addresses = dict(addresses)
        self._credentials = mutual_tls_channel(identity)
        self._store = store
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _stub(self, agency: str) -> agency_pb2_grpc.AgencyServiceStub:
        address = self._addresses.get(agency)
        if address is None:
            raise ApplicationError(f"no address is configured for agency {agency!r}",
                                   type="UNKNOWN_AGENCY_ADDRESS", non_retryable=True)
        channel = self._channels.get(agency)
        if channel is None:
            channel = self._channels[agency] = grpc.aio.secure_channel(
                address, self._credentials,
                options=[*CHANNEL_OPTIONS, *expecting(Role.AGENCY, agency)],
                interceptors=telemetry.grpc_client_interceptors())
        return agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(grace=None)
        self._channels.clear()

    def _receipt(self, receipt: str, agency: str, expected: dict[str, object]) -> str:
        try:
            verify_receipt(receipt, self._store, agency=agency, expected=expected)
        except StatementError as err:
            raise ReceiptRefused(f"{agency} answered without a receipt that holds: {err}") \
                from None
        return receipt

    @activity.defn(name=activities.DELIVER_TASK)
    async def deliver_task(self, delivery: TaskDelivery) -> activities.Received:
        """The attempt that succeeded (more than one means delivery was failing) and the
        assignee's receipt."""
        request = agency_pb2.DeliverTaskRequest(
            idempotency_key=delivery.idempotency_key, assignee=delivery.assignee,
            item=agency_pb2.InboxItem(
                case_id=delivery.case_id, case_number=delivery.case_number,
                task_id=delivery.task_id, round=delivery.round,
                case_type=delivery.case_type, case_title=delivery.case_title,
                owner=delivery.owner, kind=delivery.kind, title=delivery.title,
                instructions=delivery.instructions, sign_by=_stamp(delivery.sign_by),
                due_by=_stamp(delivery.due_by), on_scene_by=_stamp(delivery.on_scene_by)))
        try:
            answer = await self._stub(delivery.assignee).DeliverTask(
                request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as err:
            _permanent_or_raise(err, f"delivery of {delivery.task_id} to {delivery.assignee}")
        receipt = self._receipt(answer.receipt, delivery.assignee, {
            "what": "task", "case": delivery.case_id, "task": delivery.task_id,
            "round": delivery.round, "key": delivery.idempotency_key})
        return activities.Received(activity.info().attempt, (receipt,))

    @activity.defn(name=activities.WITHDRAW_TASK)
    async def withdraw_task(self, withdrawal: TaskWithdrawal) -> None:
        request = agency_pb2.WithdrawTaskRequest(
            idempotency_key=withdrawal.idempotency_key, assignee=withdrawal.assignee,
            case_id=withdrawal.case_id, task_id=withdrawal.task_id, reason=withdrawal.reason)
        try:
            await self._stub(withdrawal.assignee).WithdrawTask(request,
                                                               timeout=CALL_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as err:
            if err.code() is grpc.StatusCode.NOT_FOUND:
                return  # it never reached the inbox: nothing to take out
            _permanent_or_raise(err, f"withdrawal of {withdrawal.task_id}")

    @activity.defn(name=activities.SEND_NOTICE)
    async def send_notice(self, notice: Notice) -> activities.Received:
        """Every recipient's receipt, in the order of the recipients."""
        # One call per recipient, each idempotent on the agency's side, so a retry after
        # a partial failure only completes what is missing.
        receipts: list[str] = []
        for recipient in notice.recipients:
            request = agency_pb2.ReceiveNoticeRequest(
                idempotency_key=notice.idempotency_key, recipient=recipient,
                case_id=notice.case_id, case_number=notice.case_number,
                kind=f"NOTICE_KIND_{notice.kind.value}",
                text=notice.text, task_id=notice.task_id, handoff_id=notice.handoff_id,
                phrase=notice.phrase)
            try:
                answer = await self._stub(recipient).ReceiveNotice(
                    request, timeout=CALL_TIMEOUT_SECONDS)
            except grpc.aio.AioRpcError as err:
                _permanent_or_raise(err, f"notice to {recipient}")
            receipts.append(self._receipt(answer.receipt, recipient, {
                "what": "notice", "case": notice.case_id, "key": notice.idempotency_key}))
        return activities.Received(activity.info().attempt, tuple(receipts))
