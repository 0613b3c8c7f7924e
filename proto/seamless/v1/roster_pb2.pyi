import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OfficerRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OFFICER_ROLE_UNSPECIFIED: _ClassVar[OfficerRole]
    OFFICER_ROLE_OFFICER: _ClassVar[OfficerRole]
    OFFICER_ROLE_DISPATCHER: _ClassVar[OfficerRole]
    OFFICER_ROLE_HEAD: _ClassVar[OfficerRole]
OFFICER_ROLE_UNSPECIFIED: OfficerRole
OFFICER_ROLE_OFFICER: OfficerRole
OFFICER_ROLE_DISPATCHER: OfficerRole
OFFICER_ROLE_HEAD: OfficerRole

class Officer(_message.Message):
    __slots__ = ("id", "name", "roles", "disabled", "disabled_reason", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    DISABLED_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    roles: _containers.RepeatedScalarFieldContainer[OfficerRole]
    disabled: bool
    disabled_reason: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[OfficerRole, str]]] = ..., disabled: _Optional[bool] = ..., disabled_reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SignInRequest(_message.Message):
    __slots__ = ("officer_id", "password", "new_password")
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    NEW_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    officer_id: str
    password: str
    new_password: str
    def __init__(self, officer_id: _Optional[str] = ..., password: _Optional[str] = ..., new_password: _Optional[str] = ...) -> None: ...

class SignInResponse(_message.Message):
    __slots__ = ("session", "agency", "officer", "expires_at")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    OFFICER_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    session: str
    agency: str
    officer: Officer
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, session: _Optional[str] = ..., agency: _Optional[str] = ..., officer: _Optional[_Union[Officer, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SignOutRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SignOutResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckSessionRequest(_message.Message):
    __slots__ = ("session_id", "officer_id")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    officer_id: str
    def __init__(self, session_id: _Optional[str] = ..., officer_id: _Optional[str] = ...) -> None: ...

class CheckSessionResponse(_message.Message):
    __slots__ = ("active", "roles", "reason")
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    active: bool
    roles: _containers.RepeatedScalarFieldContainer[OfficerRole]
    reason: str
    def __init__(self, active: _Optional[bool] = ..., roles: _Optional[_Iterable[_Union[OfficerRole, str]]] = ..., reason: _Optional[str] = ...) -> None: ...

class ListOfficersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListOfficersResponse(_message.Message):
    __slots__ = ("officers",)
    OFFICERS_FIELD_NUMBER: _ClassVar[int]
    officers: _containers.RepeatedCompositeFieldContainer[Officer]
    def __init__(self, officers: _Optional[_Iterable[_Union[Officer, _Mapping]]] = ...) -> None: ...

class AddOfficerRequest(_message.Message):
    __slots__ = ("officer_id", "name", "roles", "password")
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    officer_id: str
    name: str
    roles: _containers.RepeatedScalarFieldContainer[OfficerRole]
    password: str
    def __init__(self, officer_id: _Optional[str] = ..., name: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[OfficerRole, str]]] = ..., password: _Optional[str] = ...) -> None: ...

class AddOfficerResponse(_message.Message):
    __slots__ = ("officer", "initial_password")
    OFFICER_FIELD_NUMBER: _ClassVar[int]
    INITIAL_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    officer: Officer
    initial_password: str
    def __init__(self, officer: _Optional[_Union[Officer, _Mapping]] = ..., initial_password: _Optional[str] = ...) -> None: ...

class DisableOfficerRequest(_message.Message):
    __slots__ = ("officer_id", "reason")
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    officer_id: str
    reason: str
    def __init__(self, officer_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DisableOfficerResponse(_message.Message):
    __slots__ = ("officer", "sessions_ended")
    OFFICER_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_ENDED_FIELD_NUMBER: _ClassVar[int]
    officer: Officer
    sessions_ended: int
    def __init__(self, officer: _Optional[_Union[Officer, _Mapping]] = ..., sessions_ended: _Optional[int] = ...) -> None: ...

class ResetPasswordRequest(_message.Message):
    __slots__ = ("officer_id", "password")
    OFFICER_ID_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    officer_id: str
    password: str
    def __init__(self, officer_id: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class ResetPasswordResponse(_message.Message):
    __slots__ = ("new_password", "sessions_ended")
    NEW_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_ENDED_FIELD_NUMBER: _ClassVar[int]
    new_password: str
    sessions_ended: int
    def __init__(self, new_password: _Optional[str] = ..., sessions_ended: _Optional[int] = ...) -> None: ...

class ChangePasswordRequest(_message.Message):
    __slots__ = ("current_password", "new_password")
    CURRENT_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    NEW_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    current_password: str
    new_password: str
    def __init__(self, current_password: _Optional[str] = ..., new_password: _Optional[str] = ...) -> None: ...

class ChangePasswordResponse(_message.Message):
    __slots__ = ("sessions_ended",)
    SESSIONS_ENDED_FIELD_NUMBER: _ClassVar[int]
    sessions_ended: int
    def __init__(self, sessions_ended: _Optional[int] = ...) -> None: ...
