import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CaseStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASE_STATUS_UNSPECIFIED: _ClassVar[CaseStatus]
    CASE_STATUS_OPEN: _ClassVar[CaseStatus]
    CASE_STATUS_CLOSED: _ClassVar[CaseStatus]

class TaskState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATE_UNSPECIFIED: _ClassVar[TaskState]
    TASK_STATE_DISPATCHED: _ClassVar[TaskState]
    TASK_STATE_SIGNED: _ClassVar[TaskState]
    TASK_STATE_ON_SCENE: _ClassVar[TaskState]
    TASK_STATE_DONE: _ClassVar[TaskState]
    TASK_STATE_DECLINED: _ClassVar[TaskState]
    TASK_STATE_WITHDRAWN: _ClassVar[TaskState]
    TASK_STATE_DEEMED_CONSENT: _ClassVar[TaskState]

class DeclineReviewOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECLINE_REVIEW_OUTCOME_UNSPECIFIED: _ClassVar[DeclineReviewOutcome]
    DECLINE_REVIEW_OUTCOME_UPHELD: _ClassVar[DeclineReviewOutcome]
    DECLINE_REVIEW_OUTCOME_OVERRULED: _ClassVar[DeclineReviewOutcome]

class HandoffState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HANDOFF_STATE_UNSPECIFIED: _ClassVar[HandoffState]
    HANDOFF_STATE_PENDING: _ClassVar[HandoffState]
    HANDOFF_STATE_ACCEPTED: _ClassVar[HandoffState]
    HANDOFF_STATE_DECLINED: _ClassVar[HandoffState]
    HANDOFF_STATE_WITHDRAWN: _ClassVar[HandoffState]
    HANDOFF_STATE_EXPIRED: _ClassVar[HandoffState]
    HANDOFF_STATE_SUPERSEDED: _ClassVar[HandoffState]

class OwnershipVia(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OWNERSHIP_VIA_UNSPECIFIED: _ClassVar[OwnershipVia]
    OWNERSHIP_VIA_OPEN: _ClassVar[OwnershipVia]
    OWNERSHIP_VIA_HANDOFF: _ClassVar[OwnershipVia]
    OWNERSHIP_VIA_ASSIGNMENT: _ClassVar[OwnershipVia]

class GapKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GAP_KIND_UNSPECIFIED: _ClassVar[GapKind]
    GAP_KIND_HANDOFF_PENDING: _ClassVar[GapKind]
    GAP_KIND_DISPATCH_UNSIGNED: _ClassVar[GapKind]
    GAP_KIND_ARRIVAL_PENDING: _ClassVar[GapKind]
    GAP_KIND_OVERDUE: _ClassVar[GapKind]
    GAP_KIND_DECLINE_REVIEW: _ClassVar[GapKind]
    GAP_KIND_ESCALATION: _ClassVar[GapKind]
    GAP_KIND_LEAD_OBJECTION: _ClassVar[GapKind]

class NoticeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTICE_KIND_UNSPECIFIED: _ClassVar[NoticeKind]
    NOTICE_KIND_SUPERVISION: _ClassVar[NoticeKind]
    NOTICE_KIND_ESCALATION: _ClassVar[NoticeKind]
    NOTICE_KIND_HANDOFF_OFFER: _ClassVar[NoticeKind]
    NOTICE_KIND_OWNERSHIP: _ClassVar[NoticeKind]
    NOTICE_KIND_REMINDER: _ClassVar[NoticeKind]
    NOTICE_KIND_DECISION: _ClassVar[NoticeKind]

class CaseEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASE_EVENT_KIND_UNSPECIFIED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_OPENED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_TASK_DISPATCHED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_TASK_SIGNED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_TASK_ON_SCENE: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_TASK_DONE: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_TASK_DECLINED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_DECLINE_REVIEWED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_EXTENSION_REQUESTED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_EXTENSION_DECIDED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_TASK_WITHDRAWN: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_DEEMED_CONSENT: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_NOTICE: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_ESCALATION: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_ESCALATION_RESOLVED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_HANDOFF_OFFERED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_HANDOFF_ACCEPTED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_HANDOFF_DECLINED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_HANDOFF_WITHDRAWN: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_HANDOFF_EXPIRED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_OWNER_ASSIGNED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_CLOSED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_LINE_MISSED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_TASK_DELIVERED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_NOTICE_DELIVERED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_REPORT_ATTACHED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_REPORT_DETACHED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_LEAD_OBJECTED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_OBJECTION_DECIDED: _ClassVar[CaseEventKind]
    CASE_EVENT_KIND_REPORT_RATED: _ClassVar[CaseEventKind]

class ObjectionOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OBJECTION_OUTCOME_UNSPECIFIED: _ClassVar[ObjectionOutcome]
    OBJECTION_OUTCOME_UPHELD: _ClassVar[ObjectionOutcome]
    OBJECTION_OUTCOME_REASSIGNED: _ClassVar[ObjectionOutcome]
CASE_STATUS_UNSPECIFIED: CaseStatus
CASE_STATUS_OPEN: CaseStatus
CASE_STATUS_CLOSED: CaseStatus
TASK_STATE_UNSPECIFIED: TaskState
TASK_STATE_DISPATCHED: TaskState
TASK_STATE_SIGNED: TaskState
TASK_STATE_ON_SCENE: TaskState
TASK_STATE_DONE: TaskState
TASK_STATE_DECLINED: TaskState
TASK_STATE_WITHDRAWN: TaskState
TASK_STATE_DEEMED_CONSENT: TaskState
DECLINE_REVIEW_OUTCOME_UNSPECIFIED: DeclineReviewOutcome
DECLINE_REVIEW_OUTCOME_UPHELD: DeclineReviewOutcome
DECLINE_REVIEW_OUTCOME_OVERRULED: DeclineReviewOutcome
HANDOFF_STATE_UNSPECIFIED: HandoffState
HANDOFF_STATE_PENDING: HandoffState
HANDOFF_STATE_ACCEPTED: HandoffState
HANDOFF_STATE_DECLINED: HandoffState
HANDOFF_STATE_WITHDRAWN: HandoffState
HANDOFF_STATE_EXPIRED: HandoffState
HANDOFF_STATE_SUPERSEDED: HandoffState
OWNERSHIP_VIA_UNSPECIFIED: OwnershipVia
OWNERSHIP_VIA_OPEN: OwnershipVia
OWNERSHIP_VIA_HANDOFF: OwnershipVia
OWNERSHIP_VIA_ASSIGNMENT: OwnershipVia
GAP_KIND_UNSPECIFIED: GapKind
GAP_KIND_HANDOFF_PENDING: GapKind
GAP_KIND_DISPATCH_UNSIGNED: GapKind
GAP_KIND_ARRIVAL_PENDING: GapKind
GAP_KIND_OVERDUE: GapKind
GAP_KIND_DECLINE_REVIEW: GapKind
GAP_KIND_ESCALATION: GapKind
GAP_KIND_LEAD_OBJECTION: GapKind
NOTICE_KIND_UNSPECIFIED: NoticeKind
NOTICE_KIND_SUPERVISION: NoticeKind
NOTICE_KIND_ESCALATION: NoticeKind
NOTICE_KIND_HANDOFF_OFFER: NoticeKind
NOTICE_KIND_OWNERSHIP: NoticeKind
NOTICE_KIND_REMINDER: NoticeKind
NOTICE_KIND_DECISION: NoticeKind
CASE_EVENT_KIND_UNSPECIFIED: CaseEventKind
CASE_EVENT_KIND_OPENED: CaseEventKind
CASE_EVENT_KIND_TASK_DISPATCHED: CaseEventKind
CASE_EVENT_KIND_TASK_SIGNED: CaseEventKind
CASE_EVENT_KIND_TASK_ON_SCENE: CaseEventKind
CASE_EVENT_KIND_TASK_DONE: CaseEventKind
CASE_EVENT_KIND_TASK_DECLINED: CaseEventKind
CASE_EVENT_KIND_DECLINE_REVIEWED: CaseEventKind
CASE_EVENT_KIND_EXTENSION_REQUESTED: CaseEventKind
CASE_EVENT_KIND_EXTENSION_DECIDED: CaseEventKind
CASE_EVENT_KIND_TASK_WITHDRAWN: CaseEventKind
CASE_EVENT_KIND_DEEMED_CONSENT: CaseEventKind
CASE_EVENT_KIND_NOTICE: CaseEventKind
CASE_EVENT_KIND_ESCALATION: CaseEventKind
CASE_EVENT_KIND_ESCALATION_RESOLVED: CaseEventKind
CASE_EVENT_KIND_HANDOFF_OFFERED: CaseEventKind
CASE_EVENT_KIND_HANDOFF_ACCEPTED: CaseEventKind
CASE_EVENT_KIND_HANDOFF_DECLINED: CaseEventKind
CASE_EVENT_KIND_HANDOFF_WITHDRAWN: CaseEventKind
CASE_EVENT_KIND_HANDOFF_EXPIRED: CaseEventKind
CASE_EVENT_KIND_OWNER_ASSIGNED: CaseEventKind
CASE_EVENT_KIND_CLOSED: CaseEventKind
CASE_EVENT_KIND_LINE_MISSED: CaseEventKind
CASE_EVENT_KIND_TASK_DELIVERED: CaseEventKind
CASE_EVENT_KIND_NOTICE_DELIVERED: CaseEventKind
CASE_EVENT_KIND_REPORT_ATTACHED: CaseEventKind
CASE_EVENT_KIND_REPORT_DETACHED: CaseEventKind
CASE_EVENT_KIND_LEAD_OBJECTED: CaseEventKind
CASE_EVENT_KIND_OBJECTION_DECIDED: CaseEventKind
CASE_EVENT_KIND_REPORT_RATED: CaseEventKind
OBJECTION_OUTCOME_UNSPECIFIED: ObjectionOutcome
OBJECTION_OUTCOME_UPHELD: ObjectionOutcome
OBJECTION_OUTCOME_REASSIGNED: ObjectionOutcome

class Actor(_message.Message):
    __slots__ = ("agency_id", "officer_id")
    AGENCY_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    agency_id: str
    officer_id: str
    def __init__(self, agency_id: _Optional[str] = ..., officer_id: _Optional[str] = ...) -> None: ...

class Clock(_message.Message):
    __slots__ = ("deadline", "misses")
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    deadline: _timestamp_pb2.Timestamp
    misses: int
    def __init__(self, deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., misses: _Optional[int] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("id", "kind", "title", "assignee", "state", "needs_presence", "is_approval", "sign_by", "on_scene_by", "due_by", "instructions", "findings", "evidence_refs", "decline_reason", "suggested_agency", "review_outcome", "redispatched_from", "bounce_count", "extension_pending", "extension_requested_due", "dispatched_at", "round", "delivered", "delivered_at", "running_clock", "extension_reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    NEEDS_PRESENCE_FIELD_NUMBER: _ClassVar[int]
    IS_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    SIGN_BY_FIELD_NUMBER: _ClassVar[int]
    ON_SCENE_BY_FIELD_NUMBER: _ClassVar[int]
    DUE_BY_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_REFS_FIELD_NUMBER: _ClassVar[int]
    DECLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_AGENCY_FIELD_NUMBER: _ClassVar[int]
    REVIEW_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REDISPATCHED_FROM_FIELD_NUMBER: _ClassVar[int]
    BOUNCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    EXTENSION_PENDING_FIELD_NUMBER: _ClassVar[int]
    EXTENSION_REQUESTED_DUE_FIELD_NUMBER: _ClassVar[int]
    DISPATCHED_AT_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    RUNNING_CLOCK_FIELD_NUMBER: _ClassVar[int]
    EXTENSION_REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    title: str
    assignee: str
    state: TaskState
    needs_presence: bool
    is_approval: bool
    sign_by: Clock
    on_scene_by: Clock
    due_by: Clock
    instructions: str
    findings: str
    evidence_refs: _containers.RepeatedScalarFieldContainer[str]
    decline_reason: str
    suggested_agency: str
    review_outcome: DeclineReviewOutcome
    redispatched_from: str
    bounce_count: int
    extension_pending: bool
    extension_requested_due: _timestamp_pb2.Timestamp
    dispatched_at: _timestamp_pb2.Timestamp
    round: int
    delivered: bool
    delivered_at: _timestamp_pb2.Timestamp
    running_clock: str
    extension_reason: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., assignee: _Optional[str] = ..., state: _Optional[_Union[TaskState, str]] = ..., needs_presence: _Optional[bool] = ..., is_approval: _Optional[bool] = ..., sign_by: _Optional[_Union[Clock, _Mapping]] = ..., on_scene_by: _Optional[_Union[Clock, _Mapping]] = ..., due_by: _Optional[_Union[Clock, _Mapping]] = ..., instructions: _Optional[str] = ..., findings: _Optional[str] = ..., evidence_refs: _Optional[_Iterable[str]] = ..., decline_reason: _Optional[str] = ..., suggested_agency: _Optional[str] = ..., review_outcome: _Optional[_Union[DeclineReviewOutcome, str]] = ..., redispatched_from: _Optional[str] = ..., bounce_count: _Optional[int] = ..., extension_pending: _Optional[bool] = ..., extension_requested_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dispatched_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., round: _Optional[int] = ..., delivered: _Optional[bool] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., running_clock: _Optional[str] = ..., extension_reason: _Optional[str] = ...) -> None: ...

class Handoff(_message.Message):
    __slots__ = ("id", "from_agency", "to_agency", "reason", "state", "offered_at", "expires_at", "ended_at", "decline_reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    FROM_AGENCY_FIELD_NUMBER: _ClassVar[int]
    TO_AGENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OFFERED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    DECLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    from_agency: str
    to_agency: str
    reason: str
    state: HandoffState
    offered_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    decline_reason: str
    def __init__(self, id: _Optional[str] = ..., from_agency: _Optional[str] = ..., to_agency: _Optional[str] = ..., reason: _Optional[str] = ..., state: _Optional[_Union[HandoffState, str]] = ..., offered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decline_reason: _Optional[str] = ...) -> None: ...

class OwnershipInterval(_message.Message):
    __slots__ = ("owner", "start_time", "end_time", "via")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    VIA_FIELD_NUMBER: _ClassVar[int]
    owner: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    via: OwnershipVia
    def __init__(self, owner: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., via: _Optional[_Union[OwnershipVia, str]] = ...) -> None: ...

class Escalation(_message.Message):
    __slots__ = ("id", "reason", "task_id", "raised_at", "resolved_at", "resolution", "phrase")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RAISED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    task_id: str
    raised_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    resolution: str
    phrase: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ..., task_id: _Optional[str] = ..., raised_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolution: _Optional[str] = ..., phrase: _Optional[str] = ...) -> None: ...

class CaseReport(_message.Message):
    __slots__ = ("id", "channel", "service_code", "area", "received_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_CODE_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    channel: str
    service_code: str
    area: str
    received_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., channel: _Optional[str] = ..., service_code: _Optional[str] = ..., area: _Optional[str] = ..., received_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Objection(_message.Message):
    __slots__ = ("id", "objector", "reason", "suggested_agency", "objected_time", "decide_by", "outcome", "decided_time", "note")
    ID_FIELD_NUMBER: _ClassVar[int]
    OBJECTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_AGENCY_FIELD_NUMBER: _ClassVar[int]
    OBJECTED_TIME_FIELD_NUMBER: _ClassVar[int]
    DECIDE_BY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DECIDED_TIME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    id: str
    objector: str
    reason: str
    suggested_agency: str
    objected_time: _timestamp_pb2.Timestamp
    decide_by: Clock
    outcome: ObjectionOutcome
    decided_time: _timestamp_pb2.Timestamp
    note: str
    def __init__(self, id: _Optional[str] = ..., objector: _Optional[str] = ..., reason: _Optional[str] = ..., suggested_agency: _Optional[str] = ..., objected_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decide_by: _Optional[_Union[Clock, _Mapping]] = ..., outcome: _Optional[_Union[ObjectionOutcome, str]] = ..., decided_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ...) -> None: ...

class CaseEvent(_message.Message):
    __slots__ = ("case_id", "sequence", "kind", "actor", "time", "task_id", "detail", "attributes", "trace_id", "span_id")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    sequence: int
    kind: CaseEventKind
    actor: Actor
    time: _timestamp_pb2.Timestamp
    task_id: str
    detail: str
    attributes: _containers.ScalarMap[str, str]
    trace_id: str
    span_id: str
    def __init__(self, case_id: _Optional[str] = ..., sequence: _Optional[int] = ..., kind: _Optional[_Union[CaseEventKind, str]] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., task_id: _Optional[str] = ..., detail: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ...) -> None: ...

class Case(_message.Message):
    __slots__ = ("id", "type", "title", "description", "subject_key", "jurisdiction", "location", "stage", "priority", "opened_by", "owner", "status", "opened_at", "closed_at", "legal_deadline", "promised_deadline", "tasks", "handoff", "ownership", "escalations", "number", "summary", "acts", "open_tasks", "reports", "answer", "reopened_from", "objections", "objection_window_ends")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    OPENED_BY_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    LEGAL_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    PROMISED_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_FIELD_NUMBER: _ClassVar[int]
    OWNERSHIP_FIELD_NUMBER: _ClassVar[int]
    ESCALATIONS_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ACTS_FIELD_NUMBER: _ClassVar[int]
    OPEN_TASKS_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    REOPENED_FROM_FIELD_NUMBER: _ClassVar[int]
    OBJECTIONS_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_WINDOW_ENDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    title: str
    description: str
    subject_key: str
    jurisdiction: str
    location: str
    stage: str
    priority: int
    opened_by: Actor
    owner: str
    status: CaseStatus
    opened_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    legal_deadline: _timestamp_pb2.Timestamp
    promised_deadline: _timestamp_pb2.Timestamp
    tasks: _containers.RepeatedCompositeFieldContainer[Task]
    handoff: Handoff
    ownership: _containers.RepeatedCompositeFieldContainer[OwnershipInterval]
    escalations: _containers.RepeatedCompositeFieldContainer[Escalation]
    number: str
    summary: str
    acts: _containers.RepeatedCompositeFieldContainer[CaseEvent]
    open_tasks: _containers.RepeatedScalarFieldContainer[str]
    reports: _containers.RepeatedCompositeFieldContainer[CaseReport]
    answer: str
    reopened_from: str
    objections: _containers.RepeatedCompositeFieldContainer[Objection]
    objection_window_ends: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., subject_key: _Optional[str] = ..., jurisdiction: _Optional[str] = ..., location: _Optional[str] = ..., stage: _Optional[str] = ..., priority: _Optional[int] = ..., opened_by: _Optional[_Union[Actor, _Mapping]] = ..., owner: _Optional[str] = ..., status: _Optional[_Union[CaseStatus, str]] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., legal_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., promised_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ..., handoff: _Optional[_Union[Handoff, _Mapping]] = ..., ownership: _Optional[_Iterable[_Union[OwnershipInterval, _Mapping]]] = ..., escalations: _Optional[_Iterable[_Union[Escalation, _Mapping]]] = ..., number: _Optional[str] = ..., summary: _Optional[str] = ..., acts: _Optional[_Iterable[_Union[CaseEvent, _Mapping]]] = ..., open_tasks: _Optional[_Iterable[str]] = ..., reports: _Optional[_Iterable[_Union[CaseReport, _Mapping]]] = ..., answer: _Optional[str] = ..., reopened_from: _Optional[str] = ..., objections: _Optional[_Iterable[_Union[Objection, _Mapping]]] = ..., objection_window_ends: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
