"""A console form post as the request message of the command it names.

The console has one door for every command: `POST /act/<Method>`, a form whose fields
are the request's fields by name (a report's intake, whose request nests messages, has a
form of its own: `gateway.console.hotline`). What the form carries is read into the message the
gRPC and HTTP APIs take, and the same handler judges it; this module only converts text
to fields and bounds it, so the rules stay in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from gateway.http_api import CASE_SERVICE, REPORT_SERVICE
from workflows import command_table

# The commands a console form may send, each with its service: every command the
# console has words for (workflows.command_table); SubmitReport has the intake's form.
SERVICE_OF = {call.rpc: call.service for call in command_table.WORDED}
REPORT_COMMANDS = frozenset(rpc for rpc, service in SERVICE_OF.items()
                            if service == command_table.REPORT)
COMMANDS = frozenset(SERVICE_OF)
# A form field longer than this is refused here (the handlers bound each field anyway;
# this keeps a pasted novel from travelling further).
MAX_FIELD_CHARS = 16 * 1024
# The form fields that are not the request's.
CONTROL_FIELDS = frozenset({"csrf", "next"})


class FormError(ValueError):
    """A form field the request cannot take; the message (English) names it, `field` is
    its name for a page in another language."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def request_of(method: str, form: Mapping[str, str | list[str]], zone: tzinfo) -> Message:
    """The request message of `method` from a form: strings as given, repeated strings
    one a line, booleans from checkboxes or "true"/"false", enums by name, times as the
    browser's local date-time in the platform's zone."""
    if method not in COMMANDS:
        raise FormError("", f"{method} is not a command the console sends")
    service = CASE_SERVICE if SERVICE_OF[method] == "CaseService" else REPORT_SERVICE
    descriptor = service.methods_by_name[method].input_type
    request = message_factory.GetMessageClass(descriptor)()
    for name, raw in form.items():
        if name in CONTROL_FIELDS:
            continue
        field = descriptor.fields_by_name.get(name)
        if field is None:
            raise FormError(name, f"{name}: not a field of {method}")
        value = raw if isinstance(raw, str) else "\n".join(raw)
        if len(value) > MAX_FIELD_CHARS:
            raise FormError(name, f"{name}: at most {MAX_FIELD_CHARS} characters")
        _set(request, field, value.strip(), zone)
    return request


def _set(request: Message, field: FieldDescriptor, value: str, zone: tzinfo) -> None:
    if value == "":
        return
    name = field.name
    if field.is_repeated:
        if field.type != FieldDescriptor.TYPE_STRING:
            raise FormError(name, f"{name}: not a form field")
        getattr(request, name).extend(line.strip() for line in value.splitlines()
                                      if line.strip())
    elif field.type == FieldDescriptor.TYPE_STRING:
        setattr(request, name, value)
    elif field.type == FieldDescriptor.TYPE_BOOL:
        setattr(request, name, value.lower() in {"on", "true", "1", "yes"})
    elif field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
        try:
            setattr(request, name, int(value))
        except ValueError:
            raise FormError(name, f"{name}: a whole number, not {value!r}") from None
    elif field.type == FieldDescriptor.TYPE_ENUM and field.enum_type is not None:
        number = field.enum_type.values_by_name.get(value)
        if number is None:
            raise FormError(name, f"{name}: one of "
                            f"{', '.join(v.name for v in field.enum_type.values[1:])}")
        setattr(request, name, number.number)
    elif field.message_type is not None and \
            field.message_type.full_name == "google.protobuf.Timestamp":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise FormError(name, f"{name}: a date and time such as 2026-12-01T09:30") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        try:
            getattr(request, name).FromDatetime(moment)
        except (OverflowError, ValueError):  # before the year 1 once in UTC
            raise FormError(name, f"{name}: a date and time between the years 1 and 9999") \
                from None
    else:
        raise FormError(name, f"{name}: not a form field")
