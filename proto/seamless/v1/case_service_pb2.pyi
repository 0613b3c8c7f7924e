import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from seamless.v1 import agency_pb2 as _agency_pb2
from seamless.v1 import case_pb2 as _case_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORK_KIND_UNSPECIFIED: _ClassVar[WorkKind]
    WORK_KIND_TASK: _ClassVar[WorkKind]
    WORK_KIND_HANDOFF_OFFER: _ClassVar[WorkKind]
    WORK_KIND_DECLINE_REVIEW: _ClassVar[WorkKind]
    WORK_KIND_EXTENSION_DECISION: _ClassVar[WorkKind]
    WORK_KIND_ESCALATION: _ClassVar[WorkKind]
    WORK_KIND_CASE: _ClassVar[WorkKind]
    WORK_KIND_OBJECTION: _ClassVar[WorkKind]

class WorkAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORK_ACTION_UNSPECIFIED: _ClassVar[WorkAction]
    WORK_ACTION_NONE: _ClassVar[WorkAction]
    WORK_ACTION_SIGN: _ClassVar[WorkAction]
    WORK_ACTION_ARRIVE: _ClassVar[WorkAction]
    WORK_ACTION_COMPLETE: _ClassVar[WorkAction]
    WORK_ACTION_ANSWER_HANDOFF: _ClassVar[WorkAction]
    WORK_ACTION_REVIEW_DECLINE: _ClassVar[WorkAction]
    WORK_ACTION_DECIDE_EXTENSION: _ClassVar[WorkAction]
    WORK_ACTION_RESOLVE_ESCALATION: _ClassVar[WorkAction]
    WORK_ACTION_DISPATCH: _ClassVar[WorkAction]
    WORK_ACTION_CLOSE: _ClassVar[WorkAction]
    WORK_ACTION_DECIDE_OBJECTION: _ClassVar[WorkAction]
WORK_KIND_UNSPECIFIED: WorkKind
WORK_KIND_TASK: WorkKind
WORK_KIND_HANDOFF_OFFER: WorkKind
WORK_KIND_DECLINE_REVIEW: WorkKind
WORK_KIND_EXTENSION_DECISION: WorkKind
WORK_KIND_ESCALATION: WorkKind
WORK_KIND_CASE: WorkKind
WORK_KIND_OBJECTION: WorkKind
WORK_ACTION_UNSPECIFIED: WorkAction
WORK_ACTION_NONE: WorkAction
WORK_ACTION_SIGN: WorkAction
WORK_ACTION_ARRIVE: WorkAction
WORK_ACTION_COMPLETE: WorkAction
WORK_ACTION_ANSWER_HANDOFF: WorkAction
WORK_ACTION_REVIEW_DECLINE: WorkAction
WORK_ACTION_DECIDE_EXTENSION: WorkAction
WORK_ACTION_RESOLVE_ESCALATION: WorkAction
WORK_ACTION_DISPATCH: WorkAction
WORK_ACTION_CLOSE: WorkAction
WORK_ACTION_DECIDE_OBJECTION: WorkAction

class OpenCaseRequest(_message.Message):
    __slots__ = ("request_id", "type", "subject_key", "title", "description", "jurisdiction", "location", "stage", "priority", "lead", "officer_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    LEAD_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    type: str
    subject_key: str
    title: str
    description: str
    jurisdiction: str
    location: str
    stage: str
    priority: int
    lead: str
    officer_id: str
    def __init__(self, request_id: _Optional[str] = ..., type: _Optional[str] = ..., subject_key: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., jurisdiction: _Optional[str] = ..., location: _Optional[str] = ..., stage: _Optional[str] = ..., priority: _Optional[int] = ..., lead: _Optional[str] = ..., officer_id: _Optional[str] = ...) -> None: ...

class OpenCaseResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class GetCaseRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class GetCaseResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class CaseSummary(_message.Message):
    __slots__ = ("id", "type", "subject_key", "title", "owner", "status", "opened_at", "closed_at", "number")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    subject_key: str
    title: str
    owner: str
    status: _case_pb2.CaseStatus
    opened_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    number: str
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., subject_key: _Optional[str] = ..., title: _Optional[str] = ..., owner: _Optional[str] = ..., status: _Optional[_Union[_case_pb2.CaseStatus, str]] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., number: _Optional[str] = ...) -> None: ...

class ListCasesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "owner", "status", "type", "subject", "subject_begins")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_BEGINS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    owner: str
    status: _case_pb2.CaseStatus
    type: str
    subject: str
    subject_begins: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner: _Optional[str] = ..., status: _Optional[_Union[_case_pb2.CaseStatus, str]] = ..., type: _Optional[str] = ..., subject: _Optional[str] = ..., subject_begins: _Optional[bool] = ...) -> None: ...

class ListCasesResponse(_message.Message):
    __slots__ = ("cases", "next_page_token")
    CASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    cases: _containers.RepeatedCompositeFieldContainer[CaseSummary]
    next_page_token: str
    def __init__(self, cases: _Optional[_Iterable[_Union[CaseSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DispatchTaskRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "kind", "assignee", "title", "instructions", "sign_within", "on_scene_within", "due_within", "due_time")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    SIGN_WITHIN_FIELD_NUMBER: _ClassVar[int]
    ON_SCENE_WITHIN_FIELD_NUMBER: _ClassVar[int]
    DUE_WITHIN_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    kind: str
    assignee: str
    title: str
    instructions: str
    sign_within: str
    on_scene_within: str
    due_within: str
    due_time: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., kind: _Optional[str] = ..., assignee: _Optional[str] = ..., title: _Optional[str] = ..., instructions: _Optional[str] = ..., sign_within: _Optional[str] = ..., on_scene_within: _Optional[str] = ..., due_within: _Optional[str] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DispatchTaskResponse(_message.Message):
    __slots__ = ("case", "task_id")
    CASE_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    task_id: str
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ..., task_id: _Optional[str] = ...) -> None: ...

class SignTaskRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "task_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    task_id: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., task_id: _Optional[str] = ...) -> None: ...

class SignTaskResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class ArriveOnSceneRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "task_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    task_id: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., task_id: _Optional[str] = ...) -> None: ...

class ArriveOnSceneResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class CompleteTaskRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "task_id", "findings", "evidence_refs")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_REFS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    task_id: str
    findings: str
    evidence_refs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., task_id: _Optional[str] = ..., findings: _Optional[str] = ..., evidence_refs: _Optional[_Iterable[str]] = ...) -> None: ...

class CompleteTaskResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class DeclineTaskRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "task_id", "reason", "suggested_agency")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_AGENCY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    task_id: str
    reason: str
    suggested_agency: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., task_id: _Optional[str] = ..., reason: _Optional[str] = ..., suggested_agency: _Optional[str] = ...) -> None: ...

class DeclineTaskResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class ReviewDeclineRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "task_id", "outcome", "redispatch_to", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REDISPATCH_TO_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    task_id: str
    outcome: _case_pb2.DeclineReviewOutcome
    redispatch_to: str
    note: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., task_id: _Optional[str] = ..., outcome: _Optional[_Union[_case_pb2.DeclineReviewOutcome, str]] = ..., redispatch_to: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ReviewDeclineResponse(_message.Message):
    __slots__ = ("case", "redispatched_task_id", "redispatched_to")
    CASE_FIELD_NUMBER: _ClassVar[int]
    REDISPATCHED_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REDISPATCHED_TO_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    redispatched_task_id: str
    redispatched_to: str
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ..., redispatched_task_id: _Optional[str] = ..., redispatched_to: _Optional[str] = ...) -> None: ...

class RequestExtensionRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "task_id", "new_due_time", "reason", "new_due_within")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NEW_DUE_WITHIN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    task_id: str
    new_due_time: _timestamp_pb2.Timestamp
    reason: str
    new_due_within: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., task_id: _Optional[str] = ..., new_due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., new_due_within: _Optional[str] = ...) -> None: ...

class RequestExtensionResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class DecideExtensionRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "task_id", "grant", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    GRANT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    task_id: str
    grant: bool
    note: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., task_id: _Optional[str] = ..., grant: _Optional[bool] = ..., note: _Optional[str] = ...) -> None: ...

class DecideExtensionResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class CaseServiceWithdrawTaskRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "task_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    task_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., task_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CaseServiceWithdrawTaskResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class OfferHandoffRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "to_agency", "reason", "expires_within")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_AGENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_WITHIN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    to_agency: str
    reason: str
    expires_within: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., to_agency: _Optional[str] = ..., reason: _Optional[str] = ..., expires_within: _Optional[str] = ...) -> None: ...

class OfferHandoffResponse(_message.Message):
    __slots__ = ("case", "handoff_id")
    CASE_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    handoff_id: str
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ..., handoff_id: _Optional[str] = ...) -> None: ...

class AcceptHandoffRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "handoff_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    handoff_id: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., handoff_id: _Optional[str] = ...) -> None: ...

class AcceptHandoffResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class DeclineHandoffRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "handoff_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    handoff_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., handoff_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DeclineHandoffResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class WithdrawHandoffRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "handoff_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    handoff_id: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., handoff_id: _Optional[str] = ...) -> None: ...

class WithdrawHandoffResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class AssignOwnerRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "agency", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    agency: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., agency: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AssignOwnerResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class ResolveEscalationRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "escalation_id", "resolution")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    escalation_id: str
    resolution: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., escalation_id: _Optional[str] = ..., resolution: _Optional[str] = ...) -> None: ...

class ResolveEscalationResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class CloseCaseRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "summary", "answer")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    summary: str
    answer: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., summary: _Optional[str] = ..., answer: _Optional[str] = ...) -> None: ...

class CloseCaseResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class ObjectToLeadRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "reason", "suggested_agency")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_AGENCY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    reason: str
    suggested_agency: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., reason: _Optional[str] = ..., suggested_agency: _Optional[str] = ...) -> None: ...

class ObjectToLeadResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class DecideObjectionRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "officer_id", "objection_id", "outcome", "reassign_to", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASSIGN_TO_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    officer_id: str
    objection_id: str
    outcome: _case_pb2.ObjectionOutcome
    reassign_to: str
    note: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ..., objection_id: _Optional[str] = ..., outcome: _Optional[_Union[_case_pb2.ObjectionOutcome, str]] = ..., reassign_to: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class DecideObjectionResponse(_message.Message):
    __slots__ = ("case",)
    CASE_FIELD_NUMBER: _ClassVar[int]
    case: _case_pb2.Case
    def __init__(self, case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class CaseServiceListInboxRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "open_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    open_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., open_only: _Optional[bool] = ...) -> None: ...

class WorkItem(_message.Message):
    __slots__ = ("case_id", "case_number", "case_type", "case_title", "owner", "kind", "ref", "title", "action", "next_step", "open", "since", "deadline", "seconds_left", "overdue", "overdue_since", "misses", "task_state", "detail", "asked_due", "delivered", "case_location", "case_subject", "case_description", "task_kind", "on_scene_by", "raised_by", "suggested_agency", "phrase")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CASE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CASE_TITLE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    NEXT_STEP_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_LEFT_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_SINCE_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    TASK_STATE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ASKED_DUE_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    CASE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    CASE_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CASE_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TASK_KIND_FIELD_NUMBER: _ClassVar[int]
    ON_SCENE_BY_FIELD_NUMBER: _ClassVar[int]
    RAISED_BY_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_AGENCY_FIELD_NUMBER: _ClassVar[int]
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    case_number: str
    case_type: str
    case_title: str
    owner: str
    kind: WorkKind
    ref: str
    title: str
    action: WorkAction
    next_step: str
    open: bool
    since: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    seconds_left: int
    overdue: bool
    overdue_since: _timestamp_pb2.Timestamp
    misses: int
    task_state: _case_pb2.TaskState
    detail: str
    asked_due: _timestamp_pb2.Timestamp
    delivered: bool
    case_location: str
    case_subject: str
    case_description: str
    task_kind: str
    on_scene_by: _timestamp_pb2.Timestamp
    raised_by: str
    suggested_agency: str
    phrase: str
    def __init__(self, case_id: _Optional[str] = ..., case_number: _Optional[str] = ..., case_type: _Optional[str] = ..., case_title: _Optional[str] = ..., owner: _Optional[str] = ..., kind: _Optional[_Union[WorkKind, str]] = ..., ref: _Optional[str] = ..., title: _Optional[str] = ..., action: _Optional[_Union[WorkAction, str]] = ..., next_step: _Optional[str] = ..., open: _Optional[bool] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., seconds_left: _Optional[int] = ..., overdue: _Optional[bool] = ..., overdue_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., misses: _Optional[int] = ..., task_state: _Optional[_Union[_case_pb2.TaskState, str]] = ..., detail: _Optional[str] = ..., asked_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delivered: _Optional[bool] = ..., case_location: _Optional[str] = ..., case_subject: _Optional[str] = ..., case_description: _Optional[str] = ..., task_kind: _Optional[str] = ..., on_scene_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., raised_by: _Optional[str] = ..., suggested_agency: _Optional[str] = ..., phrase: _Optional[str] = ...) -> None: ...

class CaseServiceListInboxResponse(_message.Message):
    __slots__ = ("next_page_token", "items")
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    items: _containers.RepeatedCompositeFieldContainer[WorkItem]
    def __init__(self, next_page_token: _Optional[str] = ..., items: _Optional[_Iterable[_Union[WorkItem, _Mapping]]] = ...) -> None: ...

class ListNoticesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "mark_read")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MARK_READ_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    mark_read: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., mark_read: _Optional[bool] = ...) -> None: ...

class ListNoticesResponse(_message.Message):
    __slots__ = ("notices", "next_page_token", "unread")
    NOTICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    UNREAD_FIELD_NUMBER: _ClassVar[int]
    notices: _containers.RepeatedCompositeFieldContainer[_agency_pb2.Notice]
    next_page_token: str
    unread: int
    def __init__(self, notices: _Optional[_Iterable[_Union[_agency_pb2.Notice, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., unread: _Optional[int] = ...) -> None: ...

class ListAgenciesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAgenciesResponse(_message.Message):
    __slots__ = ("agencies", "coordinator")
    AGENCIES_FIELD_NUMBER: _ClassVar[int]
    COORDINATOR_FIELD_NUMBER: _ClassVar[int]
    agencies: _containers.RepeatedCompositeFieldContainer[_agency_pb2.Agency]
    coordinator: str
    def __init__(self, agencies: _Optional[_Iterable[_Union[_agency_pb2.Agency, _Mapping]]] = ..., coordinator: _Optional[str] = ...) -> None: ...

class ListPlaybooksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PlaybookTaskKind(_message.Message):
    __slots__ = ("id", "title", "capability", "sign_within", "on_scene_within", "due_within", "needs_presence", "is_approval")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    SIGN_WITHIN_FIELD_NUMBER: _ClassVar[int]
    ON_SCENE_WITHIN_FIELD_NUMBER: _ClassVar[int]
    DUE_WITHIN_FIELD_NUMBER: _ClassVar[int]
    NEEDS_PRESENCE_FIELD_NUMBER: _ClassVar[int]
    IS_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    capability: str
    sign_within: str
    on_scene_within: str
    due_within: str
    needs_presence: bool
    is_approval: bool
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., capability: _Optional[str] = ..., sign_within: _Optional[str] = ..., on_scene_within: _Optional[str] = ..., due_within: _Optional[str] = ..., needs_presence: _Optional[bool] = ..., is_approval: _Optional[bool] = ...) -> None: ...

class PlaybookLead(_message.Message):
    __slots__ = ("stage", "jurisdiction", "lead", "first_receiver_may_lead", "opening_tasks")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    LEAD_FIELD_NUMBER: _ClassVar[int]
    FIRST_RECEIVER_MAY_LEAD_FIELD_NUMBER: _ClassVar[int]
    OPENING_TASKS_FIELD_NUMBER: _ClassVar[int]
    stage: str
    jurisdiction: str
    lead: str
    first_receiver_may_lead: bool
    opening_tasks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, stage: _Optional[str] = ..., jurisdiction: _Optional[str] = ..., lead: _Optional[str] = ..., first_receiver_may_lead: _Optional[bool] = ..., opening_tasks: _Optional[_Iterable[str]] = ...) -> None: ...

class Playbook(_message.Message):
    __slots__ = ("id", "name_zh", "name_en", "description", "stages", "jurisdictions", "matrix", "task_kinds", "legal_line", "promised_line", "handoff_expires_within", "decline_review_within")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_ZH_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    JURISDICTIONS_FIELD_NUMBER: _ClassVar[int]
    MATRIX_FIELD_NUMBER: _ClassVar[int]
    TASK_KINDS_FIELD_NUMBER: _ClassVar[int]
    LEGAL_LINE_FIELD_NUMBER: _ClassVar[int]
    PROMISED_LINE_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_EXPIRES_WITHIN_FIELD_NUMBER: _ClassVar[int]
    DECLINE_REVIEW_WITHIN_FIELD_NUMBER: _ClassVar[int]
    id: str
    name_zh: str
    name_en: str
    description: str
    stages: _containers.RepeatedScalarFieldContainer[str]
    jurisdictions: _containers.RepeatedScalarFieldContainer[str]
    matrix: _containers.RepeatedCompositeFieldContainer[PlaybookLead]
    task_kinds: _containers.RepeatedCompositeFieldContainer[PlaybookTaskKind]
    legal_line: str
    promised_line: str
    handoff_expires_within: str
    decline_review_within: str
    def __init__(self, id: _Optional[str] = ..., name_zh: _Optional[str] = ..., name_en: _Optional[str] = ..., description: _Optional[str] = ..., stages: _Optional[_Iterable[str]] = ..., jurisdictions: _Optional[_Iterable[str]] = ..., matrix: _Optional[_Iterable[_Union[PlaybookLead, _Mapping]]] = ..., task_kinds: _Optional[_Iterable[_Union[PlaybookTaskKind, _Mapping]]] = ..., legal_line: _Optional[str] = ..., promised_line: _Optional[str] = ..., handoff_expires_within: _Optional[str] = ..., decline_review_within: _Optional[str] = ...) -> None: ...

class ListPlaybooksResponse(_message.Message):
    __slots__ = ("playbooks",)
    PLAYBOOKS_FIELD_NUMBER: _ClassVar[int]
    playbooks: _containers.RepeatedCompositeFieldContainer[Playbook]
    def __init__(self, playbooks: _Optional[_Iterable[_Union[Playbook, _Mapping]]] = ...) -> None: ...
