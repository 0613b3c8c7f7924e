"""The model converts to the seamless.v1 contract without losing anything a caller reads."""

from __future__ import annotations

from datetime import UTC, timedelta
from enum import StrEnum

import pytest

from seamless.v1 import case_pb2
from tests.workflows.builders import T0, actor, open_mining, rid
from workflows.catalog_loader import Catalog
from workflows.rules.commands import OfferHandoff, SignTask
from workflows.rules.model import (
    CaseStatus,
    EventKind,
    HandoffState,
    NoticeKind,
    OwnershipVia,
    ReviewOutcome,
    TaskState,
)
from workflows.to_proto import case_to_proto, enum_value, event_to_proto


@pytest.mark.parametrize("enum", [CaseStatus, TaskState, ReviewOutcome, HandoffState,
                                  OwnershipVia, EventKind, NoticeKind])
def test_every_model_state_exists_in_the_contract(enum: type[StrEnum]) -> None:
    numbers = [enum_value(member) for member in enum]
    assert 0 not in numbers and len(set(numbers)) == len(numbers)


def test_a_live_case_converts(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    engine.execute(SignTask(rid(), actor("natural-resources"), "T1"), T0)
    engine.execute(OfferHandoff(rid(), actor("jinhaihu-township"), "natural-resources", "r"), T0)
    message = case_to_proto(engine.state)
    assert message.owner == "jinhaihu-township"
    assert message.status == case_pb2.CASE_STATUS_OPEN
    assert [t.state for t in message.tasks][:2] == [case_pb2.TASK_STATE_SIGNED,
                                                    case_pb2.TASK_STATE_DISPATCHED]
    on_scene_by = message.tasks[0].on_scene_by.deadline.ToDatetime(tzinfo=UTC)
    assert on_scene_by == T0 + timedelta(minutes=30)
    # The signed task races its on-scene clock (30 minutes); the others, their sign-for.
    assert [t.running_clock for t in message.tasks] == \
        ["on_scene_by", "sign_by", "sign_by", "sign_by"]
    assert message.handoff.to_agency == "natural-resources"
    assert message.handoff.state == case_pb2.HANDOFF_STATE_PENDING
    assert not message.ownership[0].HasField("end_time")
    event = event_to_proto(message.id, engine.state.events[-1])
    assert event.kind == case_pb2.CASE_EVENT_KIND_HANDOFF_OFFERED
    assert event.sequence == len(engine.state.events)
    # Round-trips through the wire format.
    assert case_pb2.Case.FromString(message.SerializeToString()) == message
