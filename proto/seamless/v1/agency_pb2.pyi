import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from seamless.v1 import case_pb2 as _case_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_ACTION_UNSPECIFIED: _ClassVar[TaskAction]
    TASK_ACTION_SIGN: _ClassVar[TaskAction]
    TASK_ACTION_ARRIVE: _ClassVar[TaskAction]
    TASK_ACTION_COMPLETE: _ClassVar[TaskAction]
    TASK_ACTION_DECLINE: _ClassVar[TaskAction]

class InboxItemState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INBOX_ITEM_STATE_UNSPECIFIED: _ClassVar[InboxItemState]
    INBOX_ITEM_STATE_OPEN: _ClassVar[InboxItemState]
    INBOX_ITEM_STATE_WITHDRAWN: _ClassVar[InboxItemState]
TASK_ACTION_UNSPECIFIED: TaskAction
TASK_ACTION_SIGN: TaskAction
TASK_ACTION_ARRIVE: TaskAction
TASK_ACTION_COMPLETE: TaskAction
TASK_ACTION_DECLINE: TaskAction
INBOX_ITEM_STATE_UNSPECIFIED: InboxItemState
INBOX_ITEM_STATE_OPEN: InboxItemState
INBOX_ITEM_STATE_WITHDRAWN: InboxItemState

class EvidenceHeader(_message.Message):
    __slots__ = ("case_id", "task_id", "name")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    task_id: str
    name: str
    def __init__(self, case_id: _Optional[str] = ..., task_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class StoreEvidenceRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: EvidenceHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[EvidenceHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class EvidenceFile(_message.Message):
    __slots__ = ("sha256", "size", "media_type", "name", "case_id", "task_id", "holder", "uploaded_by", "uploaded_at", "taken_at", "located", "lat", "lon")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_BY_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_AT_FIELD_NUMBER: _ClassVar[int]
    TAKEN_AT_FIELD_NUMBER: _ClassVar[int]
    LOCATED_FIELD_NUMBER: _ClassVar[int]
    LAT_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    size: int
    media_type: str
    name: str
    case_id: str
    task_id: str
    holder: str
    uploaded_by: str
    uploaded_at: _timestamp_pb2.Timestamp
    taken_at: _timestamp_pb2.Timestamp
    located: bool
    lat: float
    lon: float
    def __init__(self, sha256: _Optional[str] = ..., size: _Optional[int] = ..., media_type: _Optional[str] = ..., name: _Optional[str] = ..., case_id: _Optional[str] = ..., task_id: _Optional[str] = ..., holder: _Optional[str] = ..., uploaded_by: _Optional[str] = ..., uploaded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., taken_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., located: _Optional[bool] = ..., lat: _Optional[float] = ..., lon: _Optional[float] = ...) -> None: ...

class StoreEvidenceResponse(_message.Message):
    __slots__ = ("file", "created")
    FILE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    file: EvidenceFile
    created: bool
    def __init__(self, file: _Optional[_Union[EvidenceFile, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class FetchEvidenceRequest(_message.Message):
    __slots__ = ("case_id", "sha256", "viewer_agency", "viewer_officer", "thumbnail")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    VIEWER_AGENCY_FIELD_NUMBER: _ClassVar[int]
    VIEWER_OFFICER_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    sha256: str
    viewer_agency: str
    viewer_officer: str
    thumbnail: bool
    def __init__(self, case_id: _Optional[str] = ..., sha256: _Optional[str] = ..., viewer_agency: _Optional[str] = ..., viewer_officer: _Optional[str] = ..., thumbnail: _Optional[bool] = ...) -> None: ...

class FetchEvidenceResponse(_message.Message):
    __slots__ = ("file", "chunk")
    FILE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    file: EvidenceFile
    chunk: bytes
    def __init__(self, file: _Optional[_Union[EvidenceFile, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ListEvidenceRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class ListEvidenceResponse(_message.Message):
    __slots__ = ("files",)
    FILES_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[EvidenceFile]
    def __init__(self, files: _Optional[_Iterable[_Union[EvidenceFile, _Mapping]]] = ...) -> None: ...

class ListCustodyRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class CustodyEntry(_message.Message):
    __slots__ = ("sha256", "task_id", "agency", "officer", "at", "served", "thumbnail")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    OFFICER_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    SERVED_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    task_id: str
    agency: str
    officer: str
    at: _timestamp_pb2.Timestamp
    served: bool
    thumbnail: bool
    def __init__(self, sha256: _Optional[str] = ..., task_id: _Optional[str] = ..., agency: _Optional[str] = ..., officer: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., served: _Optional[bool] = ..., thumbnail: _Optional[bool] = ...) -> None: ...

class ListCustodyResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[CustodyEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[CustodyEntry, _Mapping]]] = ...) -> None: ...

class ActOnTaskRequest(_message.Message):
    __slots__ = ("request_id", "case_id", "task_id", "action", "officer_id", "findings", "evidence_refs", "reason", "suggested_agency")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_REFS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_AGENCY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    task_id: str
    action: TaskAction
    officer_id: str
    findings: str
    evidence_refs: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    suggested_agency: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ..., task_id: _Optional[str] = ..., action: _Optional[_Union[TaskAction, str]] = ..., officer_id: _Optional[str] = ..., findings: _Optional[str] = ..., evidence_refs: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., suggested_agency: _Optional[str] = ...) -> None: ...

class ActOnTaskResponse(_message.Message):
    __slots__ = ("item", "case")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    CASE_FIELD_NUMBER: _ClassVar[int]
    item: InboxItem
    case: _case_pb2.Case
    def __init__(self, item: _Optional[_Union[InboxItem, _Mapping]] = ..., case: _Optional[_Union[_case_pb2.Case, _Mapping]] = ...) -> None: ...

class InboxItem(_message.Message):
    __slots__ = ("case_id", "task_id", "round", "case_type", "case_title", "owner", "kind", "title", "instructions", "sign_by", "on_scene_by", "due_by", "state", "delivered_at", "withdraw_reason", "task_state", "case_number")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    CASE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CASE_TITLE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    SIGN_BY_FIELD_NUMBER: _ClassVar[int]
    ON_SCENE_BY_FIELD_NUMBER: _ClassVar[int]
    DUE_BY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    WITHDRAW_REASON_FIELD_NUMBER: _ClassVar[int]
    TASK_STATE_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    task_id: str
    round: int
    case_type: str
    case_title: str
    owner: str
    kind: str
    title: str
    instructions: str
    sign_by: _timestamp_pb2.Timestamp
    on_scene_by: _timestamp_pb2.Timestamp
    due_by: _timestamp_pb2.Timestamp
    state: InboxItemState
    delivered_at: _timestamp_pb2.Timestamp
    withdraw_reason: str
    task_state: _case_pb2.TaskState
    case_number: str
    def __init__(self, case_id: _Optional[str] = ..., task_id: _Optional[str] = ..., round: _Optional[int] = ..., case_type: _Optional[str] = ..., case_title: _Optional[str] = ..., owner: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., instructions: _Optional[str] = ..., sign_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., on_scene_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[InboxItemState, str]] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., withdraw_reason: _Optional[str] = ..., task_state: _Optional[_Union[_case_pb2.TaskState, str]] = ..., case_number: _Optional[str] = ...) -> None: ...

class DeliverTaskRequest(_message.Message):
    __slots__ = ("idempotency_key", "assignee", "item")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    assignee: str
    item: InboxItem
    def __init__(self, idempotency_key: _Optional[str] = ..., assignee: _Optional[str] = ..., item: _Optional[_Union[InboxItem, _Mapping]] = ...) -> None: ...

class DeliverTaskResponse(_message.Message):
    __slots__ = ("item", "created", "receipt")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    item: InboxItem
    created: bool
    receipt: str
    def __init__(self, item: _Optional[_Union[InboxItem, _Mapping]] = ..., created: _Optional[bool] = ..., receipt: _Optional[str] = ...) -> None: ...

class WithdrawTaskRequest(_message.Message):
    __slots__ = ("idempotency_key", "assignee", "case_id", "task_id", "reason")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    assignee: str
    case_id: str
    task_id: str
    reason: str
    def __init__(self, idempotency_key: _Optional[str] = ..., assignee: _Optional[str] = ..., case_id: _Optional[str] = ..., task_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class WithdrawTaskResponse(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: InboxItem
    def __init__(self, item: _Optional[_Union[InboxItem, _Mapping]] = ...) -> None: ...

class ReceiveNoticeRequest(_message.Message):
    __slots__ = ("idempotency_key", "recipient", "case_id", "kind", "text", "task_id", "handoff_id", "case_number", "phrase")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    recipient: str
    case_id: str
    kind: _case_pb2.NoticeKind
    text: str
    task_id: str
    handoff_id: str
    case_number: str
    phrase: str
    def __init__(self, idempotency_key: _Optional[str] = ..., recipient: _Optional[str] = ..., case_id: _Optional[str] = ..., kind: _Optional[_Union[_case_pb2.NoticeKind, str]] = ..., text: _Optional[str] = ..., task_id: _Optional[str] = ..., handoff_id: _Optional[str] = ..., case_number: _Optional[str] = ..., phrase: _Optional[str] = ...) -> None: ...

class Notice(_message.Message):
    __slots__ = ("case_id", "case_number", "kind", "text", "task_id", "handoff_id", "received_at", "phrase", "unread")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    UNREAD_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    case_number: str
    kind: _case_pb2.NoticeKind
    text: str
    task_id: str
    handoff_id: str
    received_at: _timestamp_pb2.Timestamp
    phrase: str
    unread: bool
    def __init__(self, case_id: _Optional[str] = ..., case_number: _Optional[str] = ..., kind: _Optional[_Union[_case_pb2.NoticeKind, str]] = ..., text: _Optional[str] = ..., task_id: _Optional[str] = ..., handoff_id: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., phrase: _Optional[str] = ..., unread: _Optional[bool] = ...) -> None: ...

class AgencyServiceListNoticesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "mark_read")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MARK_READ_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    mark_read: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., mark_read: _Optional[bool] = ...) -> None: ...

class AgencyServiceListNoticesResponse(_message.Message):
    __slots__ = ("notices", "next_page_token", "unread")
    NOTICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    UNREAD_FIELD_NUMBER: _ClassVar[int]
    notices: _containers.RepeatedCompositeFieldContainer[Notice]
    next_page_token: str
    unread: int
    def __init__(self, notices: _Optional[_Iterable[_Union[Notice, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., unread: _Optional[int] = ...) -> None: ...

class ReceiveNoticeResponse(_message.Message):
    __slots__ = ("created", "receipt")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    created: bool
    receipt: str
    def __init__(self, created: _Optional[bool] = ..., receipt: _Optional[str] = ...) -> None: ...

class ListInboxRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "open_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    open_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., open_only: _Optional[bool] = ...) -> None: ...

class ListInboxResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[InboxItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[InboxItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DescribeAgencyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Agency(_message.Message):
    __slots__ = ("id", "name_zh", "name_en", "jurisdictions", "capabilities")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_ZH_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    JURISDICTIONS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    id: str
    name_zh: str
    name_en: str
    jurisdictions: _containers.RepeatedScalarFieldContainer[str]
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name_zh: _Optional[str] = ..., name_en: _Optional[str] = ..., jurisdictions: _Optional[_Iterable[str]] = ..., capabilities: _Optional[_Iterable[str]] = ...) -> None: ...

class DescribeAgencyResponse(_message.Message):
    __slots__ = ("agency",)
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    agency: Agency
    def __init__(self, agency: _Optional[_Union[Agency, _Mapping]] = ...) -> None: ...
