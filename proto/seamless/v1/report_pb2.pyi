import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Satisfaction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SATISFACTION_UNSPECIFIED: _ClassVar[Satisfaction]
    SATISFACTION_SATISFIED: _ClassVar[Satisfaction]
    SATISFACTION_BASICALLY_SATISFIED: _ClassVar[Satisfaction]
    SATISFACTION_DISSATISFIED: _ClassVar[Satisfaction]
SATISFACTION_UNSPECIFIED: Satisfaction
SATISFACTION_SATISFIED: Satisfaction
SATISFACTION_BASICALLY_SATISFIED: Satisfaction
SATISFACTION_DISSATISFIED: Satisfaction

class ReporterContact(_message.Message):
    __slots__ = ("name", "phone", "email", "masked")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    MASKED_FIELD_NUMBER: _ClassVar[int]
    name: str
    phone: str
    email: str
    masked: bool
    def __init__(self, name: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., masked: _Optional[bool] = ...) -> None: ...

class ReportAttribute(_message.Message):
    __slots__ = ("code", "value")
    CODE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    code: str
    value: str
    def __init__(self, code: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Report(_message.Message):
    __slots__ = ("id", "channel", "service_code", "description", "address", "lat", "lon", "located", "jurisdiction", "area", "subject", "attributes", "media_urls", "contact", "received_time", "case_id", "case_number", "routing_problem", "rated", "solved", "satisfaction", "rated_time", "reopened_as")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LAT_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    LOCATED_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    MEDIA_URLS_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_TIME_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ROUTING_PROBLEM_FIELD_NUMBER: _ClassVar[int]
    RATED_FIELD_NUMBER: _ClassVar[int]
    SOLVED_FIELD_NUMBER: _ClassVar[int]
    SATISFACTION_FIELD_NUMBER: _ClassVar[int]
    RATED_TIME_FIELD_NUMBER: _ClassVar[int]
    REOPENED_AS_FIELD_NUMBER: _ClassVar[int]
    id: str
    channel: str
    service_code: str
    description: str
    address: str
    lat: float
    lon: float
    located: bool
    jurisdiction: str
    area: str
    subject: str
    attributes: _containers.RepeatedCompositeFieldContainer[ReportAttribute]
    media_urls: _containers.RepeatedScalarFieldContainer[str]
    contact: ReporterContact
    received_time: _timestamp_pb2.Timestamp
    case_id: str
    case_number: str
    routing_problem: str
    rated: bool
    solved: bool
    satisfaction: Satisfaction
    rated_time: _timestamp_pb2.Timestamp
    reopened_as: str
    def __init__(self, id: _Optional[str] = ..., channel: _Optional[str] = ..., service_code: _Optional[str] = ..., description: _Optional[str] = ..., address: _Optional[str] = ..., lat: _Optional[float] = ..., lon: _Optional[float] = ..., located: _Optional[bool] = ..., jurisdiction: _Optional[str] = ..., area: _Optional[str] = ..., subject: _Optional[str] = ..., attributes: _Optional[_Iterable[_Union[ReportAttribute, _Mapping]]] = ..., media_urls: _Optional[_Iterable[str]] = ..., contact: _Optional[_Union[ReporterContact, _Mapping]] = ..., received_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., case_id: _Optional[str] = ..., case_number: _Optional[str] = ..., routing_problem: _Optional[str] = ..., rated: _Optional[bool] = ..., solved: _Optional[bool] = ..., satisfaction: _Optional[_Union[Satisfaction, str]] = ..., rated_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reopened_as: _Optional[str] = ...) -> None: ...

class SubmitReportRequest(_message.Message):
    __slots__ = ("request_id", "channel", "service_code", "description", "address", "lat", "lon", "located", "jurisdiction", "attributes", "media_urls", "contact", "officer_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LAT_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    LOCATED_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    MEDIA_URLS_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    channel: str
    service_code: str
    description: str
    address: str
    lat: float
    lon: float
    located: bool
    jurisdiction: str
    attributes: _containers.RepeatedCompositeFieldContainer[ReportAttribute]
    media_urls: _containers.RepeatedScalarFieldContainer[str]
    contact: ReporterContact
    officer_id: str
    def __init__(self, request_id: _Optional[str] = ..., channel: _Optional[str] = ..., service_code: _Optional[str] = ..., description: _Optional[str] = ..., address: _Optional[str] = ..., lat: _Optional[float] = ..., lon: _Optional[float] = ..., located: _Optional[bool] = ..., jurisdiction: _Optional[str] = ..., attributes: _Optional[_Iterable[_Union[ReportAttribute, _Mapping]]] = ..., media_urls: _Optional[_Iterable[str]] = ..., contact: _Optional[_Union[ReporterContact, _Mapping]] = ..., officer_id: _Optional[str] = ...) -> None: ...

class SubmitReportResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: Report
    def __init__(self, report: _Optional[_Union[Report, _Mapping]] = ...) -> None: ...

class GetReportRequest(_message.Message):
    __slots__ = ("report_id",)
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    def __init__(self, report_id: _Optional[str] = ...) -> None: ...

class GetReportResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: Report
    def __init__(self, report: _Optional[_Union[Report, _Mapping]] = ...) -> None: ...

class ListReportsRequest(_message.Message):
    __slots__ = ("case_id", "follow_up", "page_size")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_UP_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    follow_up: bool
    page_size: int
    def __init__(self, case_id: _Optional[str] = ..., follow_up: _Optional[bool] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListReportsResponse(_message.Message):
    __slots__ = ("reports",)
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[Report]
    def __init__(self, reports: _Optional[_Iterable[_Union[Report, _Mapping]]] = ...) -> None: ...

class MergeReportRequest(_message.Message):
    __slots__ = ("request_id", "report_id", "case_id", "officer_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    report_id: str
    case_id: str
    officer_id: str
    def __init__(self, request_id: _Optional[str] = ..., report_id: _Optional[str] = ..., case_id: _Optional[str] = ..., officer_id: _Optional[str] = ...) -> None: ...

class MergeReportResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: Report
    def __init__(self, report: _Optional[_Union[Report, _Mapping]] = ...) -> None: ...

class SplitReportRequest(_message.Message):
    __slots__ = ("request_id", "report_id", "reason", "officer_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    report_id: str
    reason: str
    officer_id: str
    def __init__(self, request_id: _Optional[str] = ..., report_id: _Optional[str] = ..., reason: _Optional[str] = ..., officer_id: _Optional[str] = ...) -> None: ...

class SplitReportResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: Report
    def __init__(self, report: _Optional[_Union[Report, _Mapping]] = ...) -> None: ...

class RateReportRequest(_message.Message):
    __slots__ = ("report_id", "solved", "satisfaction", "reopen_lead", "officer_id")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    SOLVED_FIELD_NUMBER: _ClassVar[int]
    SATISFACTION_FIELD_NUMBER: _ClassVar[int]
    REOPEN_LEAD_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    solved: bool
    satisfaction: Satisfaction
    reopen_lead: str
    officer_id: str
    def __init__(self, report_id: _Optional[str] = ..., solved: _Optional[bool] = ..., satisfaction: _Optional[_Union[Satisfaction, str]] = ..., reopen_lead: _Optional[str] = ..., officer_id: _Optional[str] = ...) -> None: ...

class RateReportResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: Report
    def __init__(self, report: _Optional[_Union[Report, _Mapping]] = ...) -> None: ...
