import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from seamless.v1 import case_pb2 as _case_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_OCEL2_JSON: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_OCEL2_JSON: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat

class Gap(_message.Message):
    __slots__ = ("case_id", "task_id", "kind", "accountable", "from_agency", "to_agency", "start_time", "end_time", "duration", "deadline", "breached", "ref", "start_sequence", "end_sequence", "start_trace_id", "end_trace_id", "late_from_start", "case_number")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTABLE_FIELD_NUMBER: _ClassVar[int]
    FROM_AGENCY_FIELD_NUMBER: _ClassVar[int]
    TO_AGENCY_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    BREACHED_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    START_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    END_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    START_TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    END_TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    LATE_FROM_START_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    task_id: str
    kind: _case_pb2.GapKind
    accountable: str
    from_agency: str
    to_agency: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    deadline: _timestamp_pb2.Timestamp
    breached: bool
    ref: str
    start_sequence: int
    end_sequence: int
    start_trace_id: str
    end_trace_id: str
    late_from_start: bool
    case_number: str
    def __init__(self, case_id: _Optional[str] = ..., task_id: _Optional[str] = ..., kind: _Optional[_Union[_case_pb2.GapKind, str]] = ..., accountable: _Optional[str] = ..., from_agency: _Optional[str] = ..., to_agency: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., breached: _Optional[bool] = ..., ref: _Optional[str] = ..., start_sequence: _Optional[int] = ..., end_sequence: _Optional[int] = ..., start_trace_id: _Optional[str] = ..., end_trace_id: _Optional[str] = ..., late_from_start: _Optional[bool] = ..., case_number: _Optional[str] = ...) -> None: ...

class OwnershipPeriod(_message.Message):
    __slots__ = ("owner", "start_time", "end_time")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    owner: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, owner: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CaseLines(_message.Message):
    __slots__ = ("case_id", "case_type", "opened_time", "legal", "promised", "actual", "closed")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPENED_TIME_FIELD_NUMBER: _ClassVar[int]
    LEGAL_FIELD_NUMBER: _ClassVar[int]
    PROMISED_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    case_type: str
    opened_time: _timestamp_pb2.Timestamp
    legal: _duration_pb2.Duration
    promised: _duration_pb2.Duration
    actual: _duration_pb2.Duration
    closed: bool
    def __init__(self, case_id: _Optional[str] = ..., case_type: _Optional[str] = ..., opened_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., legal: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., promised: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., actual: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., closed: _Optional[bool] = ...) -> None: ...

class CaseTypeLines(_message.Message):
    __slots__ = ("case_type", "cases", "closed", "median_legal", "median_promised", "median_actual", "closed_within_promised", "closed_within_legal")
    CASE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_LEGAL_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_PROMISED_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_ACTUAL_FIELD_NUMBER: _ClassVar[int]
    CLOSED_WITHIN_PROMISED_FIELD_NUMBER: _ClassVar[int]
    CLOSED_WITHIN_LEGAL_FIELD_NUMBER: _ClassVar[int]
    case_type: str
    cases: int
    closed: int
    median_legal: _duration_pb2.Duration
    median_promised: _duration_pb2.Duration
    median_actual: _duration_pb2.Duration
    closed_within_promised: int
    closed_within_legal: int
    def __init__(self, case_type: _Optional[str] = ..., cases: _Optional[int] = ..., closed: _Optional[int] = ..., median_legal: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., median_promised: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., median_actual: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., closed_within_promised: _Optional[int] = ..., closed_within_legal: _Optional[int] = ...) -> None: ...

class BounceChain(_message.Message):
    __slots__ = ("case_id", "task_ids", "agencies", "bounces")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    AGENCIES_FIELD_NUMBER: _ClassVar[int]
    BOUNCES_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    agencies: _containers.RepeatedScalarFieldContainer[str]
    bounces: int
    def __init__(self, case_id: _Optional[str] = ..., task_ids: _Optional[_Iterable[str]] = ..., agencies: _Optional[_Iterable[str]] = ..., bounces: _Optional[int] = ...) -> None: ...

class GetTimelineRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class GetTimelineResponse(_message.Message):
    __slots__ = ("case_id", "trace_id", "events", "ownership", "gaps", "bounce_chains", "lines", "verdict", "case_number")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    OWNERSHIP_FIELD_NUMBER: _ClassVar[int]
    GAPS_FIELD_NUMBER: _ClassVar[int]
    BOUNCE_CHAINS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    trace_id: str
    events: _containers.RepeatedCompositeFieldContainer[_case_pb2.CaseEvent]
    ownership: _containers.RepeatedCompositeFieldContainer[OwnershipPeriod]
    gaps: _containers.RepeatedCompositeFieldContainer[Gap]
    bounce_chains: _containers.RepeatedCompositeFieldContainer[BounceChain]
    lines: CaseLines
    verdict: LedgerVerdict
    case_number: str
    def __init__(self, case_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., events: _Optional[_Iterable[_Union[_case_pb2.CaseEvent, _Mapping]]] = ..., ownership: _Optional[_Iterable[_Union[OwnershipPeriod, _Mapping]]] = ..., gaps: _Optional[_Iterable[_Union[Gap, _Mapping]]] = ..., bounce_chains: _Optional[_Iterable[_Union[BounceChain, _Mapping]]] = ..., lines: _Optional[_Union[CaseLines, _Mapping]] = ..., verdict: _Optional[_Union[LedgerVerdict, _Mapping]] = ..., case_number: _Optional[str] = ...) -> None: ...

class ListGapsRequest(_message.Message):
    __slots__ = ("agency", "kind", "breached_only", "since", "page_size", "page_token", "open_only")
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BREACHED_ONLY_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    agency: str
    kind: _case_pb2.GapKind
    breached_only: bool
    since: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    open_only: bool
    def __init__(self, agency: _Optional[str] = ..., kind: _Optional[_Union[_case_pb2.GapKind, str]] = ..., breached_only: _Optional[bool] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., open_only: _Optional[bool] = ...) -> None: ...

class ListGapsResponse(_message.Message):
    __slots__ = ("gaps", "next_page_token")
    GAPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    gaps: _containers.RepeatedCompositeFieldContainer[Gap]
    next_page_token: str
    def __init__(self, gaps: _Optional[_Iterable[_Union[Gap, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AgencyScorecard(_message.Message):
    __slots__ = ("agency", "tasks", "on_time_sign_rate", "sign_judged", "on_time_arrival_rate", "arrival_judged", "on_time_completion_rate", "completion_judged", "bounce_rate", "median_handoff_acceptance", "handoffs_accepted", "resolution_rate", "cases_led", "score", "rank", "hotline")
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_SIGN_RATE_FIELD_NUMBER: _ClassVar[int]
    SIGN_JUDGED_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_ARRIVAL_RATE_FIELD_NUMBER: _ClassVar[int]
    ARRIVAL_JUDGED_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_COMPLETION_RATE_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_JUDGED_FIELD_NUMBER: _ClassVar[int]
    BOUNCE_RATE_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_HANDOFF_ACCEPTANCE_FIELD_NUMBER: _ClassVar[int]
    HANDOFFS_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_RATE_FIELD_NUMBER: _ClassVar[int]
    CASES_LED_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    HOTLINE_FIELD_NUMBER: _ClassVar[int]
    agency: str
    tasks: int
    on_time_sign_rate: float
    sign_judged: int
    on_time_arrival_rate: float
    arrival_judged: int
    on_time_completion_rate: float
    completion_judged: int
    bounce_rate: float
    median_handoff_acceptance: _duration_pb2.Duration
    handoffs_accepted: int
    resolution_rate: float
    cases_led: int
    score: float
    rank: int
    hotline: HotlineFigures
    def __init__(self, agency: _Optional[str] = ..., tasks: _Optional[int] = ..., on_time_sign_rate: _Optional[float] = ..., sign_judged: _Optional[int] = ..., on_time_arrival_rate: _Optional[float] = ..., arrival_judged: _Optional[int] = ..., on_time_completion_rate: _Optional[float] = ..., completion_judged: _Optional[int] = ..., bounce_rate: _Optional[float] = ..., median_handoff_acceptance: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., handoffs_accepted: _Optional[int] = ..., resolution_rate: _Optional[float] = ..., cases_led: _Optional[int] = ..., score: _Optional[float] = ..., rank: _Optional[int] = ..., hotline: _Optional[_Union[HotlineFigures, _Mapping]] = ...) -> None: ...

class HotlineFigures(_message.Message):
    __slots__ = ("response_rate", "sign_judged", "ratings", "solved_rate", "solved", "satisfaction_rate", "satisfied", "basically_satisfied", "dissatisfied", "reopen_rate", "reopened", "objections", "objections_upheld", "objections_reassigned")
    RESPONSE_RATE_FIELD_NUMBER: _ClassVar[int]
    SIGN_JUDGED_FIELD_NUMBER: _ClassVar[int]
    RATINGS_FIELD_NUMBER: _ClassVar[int]
    SOLVED_RATE_FIELD_NUMBER: _ClassVar[int]
    SOLVED_FIELD_NUMBER: _ClassVar[int]
    SATISFACTION_RATE_FIELD_NUMBER: _ClassVar[int]
    SATISFIED_FIELD_NUMBER: _ClassVar[int]
    BASICALLY_SATISFIED_FIELD_NUMBER: _ClassVar[int]
    DISSATISFIED_FIELD_NUMBER: _ClassVar[int]
    REOPEN_RATE_FIELD_NUMBER: _ClassVar[int]
    REOPENED_FIELD_NUMBER: _ClassVar[int]
    OBJECTIONS_FIELD_NUMBER: _ClassVar[int]
    OBJECTIONS_UPHELD_FIELD_NUMBER: _ClassVar[int]
    OBJECTIONS_REASSIGNED_FIELD_NUMBER: _ClassVar[int]
    response_rate: float
    sign_judged: int
    ratings: int
    solved_rate: float
    solved: int
    satisfaction_rate: float
    satisfied: int
    basically_satisfied: int
    dissatisfied: int
    reopen_rate: float
    reopened: int
    objections: int
    objections_upheld: int
    objections_reassigned: int
    def __init__(self, response_rate: _Optional[float] = ..., sign_judged: _Optional[int] = ..., ratings: _Optional[int] = ..., solved_rate: _Optional[float] = ..., solved: _Optional[int] = ..., satisfaction_rate: _Optional[float] = ..., satisfied: _Optional[int] = ..., basically_satisfied: _Optional[int] = ..., dissatisfied: _Optional[int] = ..., reopen_rate: _Optional[float] = ..., reopened: _Optional[int] = ..., objections: _Optional[int] = ..., objections_upheld: _Optional[int] = ..., objections_reassigned: _Optional[int] = ...) -> None: ...

class CaseTypeScorecard(_message.Message):
    __slots__ = ("case_type", "cases", "closed", "tasks", "hotline", "reports")
    CASE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    HOTLINE_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    case_type: str
    cases: int
    closed: int
    tasks: int
    hotline: HotlineFigures
    reports: int
    def __init__(self, case_type: _Optional[str] = ..., cases: _Optional[int] = ..., closed: _Optional[int] = ..., tasks: _Optional[int] = ..., hotline: _Optional[_Union[HotlineFigures, _Mapping]] = ..., reports: _Optional[int] = ...) -> None: ...

class AreaReports(_message.Message):
    __slots__ = ("area", "reports")
    AREA_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    area: str
    reports: int
    def __init__(self, area: _Optional[str] = ..., reports: _Optional[int] = ...) -> None: ...

class GetScorecardsRequest(_message.Message):
    __slots__ = ("since",)
    SINCE_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetScorecardsResponse(_message.Message):
    __slots__ = ("scorecards", "case_type_lines", "bounce_chains", "case_type_scorecards", "area_reports")
    SCORECARDS_FIELD_NUMBER: _ClassVar[int]
    CASE_TYPE_LINES_FIELD_NUMBER: _ClassVar[int]
    BOUNCE_CHAINS_FIELD_NUMBER: _ClassVar[int]
    CASE_TYPE_SCORECARDS_FIELD_NUMBER: _ClassVar[int]
    AREA_REPORTS_FIELD_NUMBER: _ClassVar[int]
    scorecards: _containers.RepeatedCompositeFieldContainer[AgencyScorecard]
    case_type_lines: _containers.RepeatedCompositeFieldContainer[CaseTypeLines]
    bounce_chains: _containers.RepeatedCompositeFieldContainer[BounceChain]
    case_type_scorecards: _containers.RepeatedCompositeFieldContainer[CaseTypeScorecard]
    area_reports: _containers.RepeatedCompositeFieldContainer[AreaReports]
    def __init__(self, scorecards: _Optional[_Iterable[_Union[AgencyScorecard, _Mapping]]] = ..., case_type_lines: _Optional[_Iterable[_Union[CaseTypeLines, _Mapping]]] = ..., bounce_chains: _Optional[_Iterable[_Union[BounceChain, _Mapping]]] = ..., case_type_scorecards: _Optional[_Iterable[_Union[CaseTypeScorecard, _Mapping]]] = ..., area_reports: _Optional[_Iterable[_Union[AreaReports, _Mapping]]] = ...) -> None: ...

class HandoffCell(_message.Message):
    __slots__ = ("from_agency", "to_agency", "offers", "accepted", "median_wait", "p90_wait")
    FROM_AGENCY_FIELD_NUMBER: _ClassVar[int]
    TO_AGENCY_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_WAIT_FIELD_NUMBER: _ClassVar[int]
    P90_WAIT_FIELD_NUMBER: _ClassVar[int]
    from_agency: str
    to_agency: str
    offers: int
    accepted: int
    median_wait: _duration_pb2.Duration
    p90_wait: _duration_pb2.Duration
    def __init__(self, from_agency: _Optional[str] = ..., to_agency: _Optional[str] = ..., offers: _Optional[int] = ..., accepted: _Optional[int] = ..., median_wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., p90_wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetHandoffMatrixRequest(_message.Message):
    __slots__ = ("since",)
    SINCE_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetHandoffMatrixResponse(_message.Message):
    __slots__ = ("cells",)
    CELLS_FIELD_NUMBER: _ClassVar[int]
    cells: _containers.RepeatedCompositeFieldContainer[HandoffCell]
    def __init__(self, cells: _Optional[_Iterable[_Union[HandoffCell, _Mapping]]] = ...) -> None: ...

class ExportEventLogRequest(_message.Message):
    __slots__ = ("format",)
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    format: ExportFormat
    def __init__(self, format: _Optional[_Union[ExportFormat, str]] = ...) -> None: ...

class ExportEventLogResponse(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class VerifyLedgerRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class LedgerVerdict(_message.Message):
    __slots__ = ("case_id", "events", "intact", "broken_at", "problem")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    INTACT_FIELD_NUMBER: _ClassVar[int]
    BROKEN_AT_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    events: int
    intact: bool
    broken_at: int
    problem: str
    def __init__(self, case_id: _Optional[str] = ..., events: _Optional[int] = ..., intact: _Optional[bool] = ..., broken_at: _Optional[int] = ..., problem: _Optional[str] = ...) -> None: ...

class VerifyLedgerResponse(_message.Message):
    __slots__ = ("verdicts", "cases_checked", "cases_broken", "checkpoints", "witnessed_at", "witness_problems", "engine_findings")
    VERDICTS_FIELD_NUMBER: _ClassVar[int]
    CASES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    CASES_BROKEN_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    WITNESSED_AT_FIELD_NUMBER: _ClassVar[int]
    WITNESS_PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FINDINGS_FIELD_NUMBER: _ClassVar[int]
    verdicts: _containers.RepeatedCompositeFieldContainer[LedgerVerdict]
    cases_checked: int
    cases_broken: int
    checkpoints: int
    witnessed_at: _timestamp_pb2.Timestamp
    witness_problems: _containers.RepeatedScalarFieldContainer[str]
    engine_findings: _containers.RepeatedCompositeFieldContainer[EngineFinding]
    def __init__(self, verdicts: _Optional[_Iterable[_Union[LedgerVerdict, _Mapping]]] = ..., cases_checked: _Optional[int] = ..., cases_broken: _Optional[int] = ..., checkpoints: _Optional[int] = ..., witnessed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., witness_problems: _Optional[_Iterable[str]] = ..., engine_findings: _Optional[_Iterable[_Union[EngineFinding, _Mapping]]] = ...) -> None: ...

class EngineFinding(_message.Message):
    __slots__ = ("kind", "case_id", "case_number", "workflow_id", "run_id", "at", "detail")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    kind: str
    case_id: str
    case_number: str
    workflow_id: str
    run_id: str
    at: _timestamp_pb2.Timestamp
    detail: str
    def __init__(self, kind: _Optional[str] = ..., case_id: _Optional[str] = ..., case_number: _Optional[str] = ..., workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detail: _Optional[str] = ...) -> None: ...
