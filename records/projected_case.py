"""What the lists show of a case (`ProjectedCase`): the case's rules make it
(`workflows.projection`) and send it with each batch of events; the ledger's append
stores it in the read model (`observability.projection`) in the same transaction.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from seamless.v1 import case_service_pb2


@dataclass(frozen=True)
class ProjectedCase:
    """What the lists show of a case as it stands after the events sent with it."""

    number: str
    case_type: str
    subject: str
    title: str
    owner: str
    status: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    promised_by: datetime | None = None
    answer: str = ""
    reopened_from: str = ""
    # Until when the hotline may record its reporters' ratings (回访), once closed.
    follow_up_ends: datetime | None = None
    participants: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    # Agency -> the work the case asks of it: a serialized CaseServiceListInboxResponse
    # (base64), without what depends on the moment it is read.
    work: dict[str, str] = field(default_factory=dict)


def encode_work(items: Sequence[case_service_pb2.WorkItem]) -> str:
    answer = case_service_pb2.CaseServiceListInboxResponse(items=items)
    return base64.b64encode(answer.SerializeToString()).decode("ascii")


def decode_work(text_: str) -> list[case_service_pb2.WorkItem]:
    return list(case_service_pb2.CaseServiceListInboxResponse.FromString(
        base64.b64decode(text_)).items)
