"""The dispatch catalog (派单目录) as GeoReport v2 services and service definitions.

Names: `service_name` is "中文名 English name", and so are a service's group and a list
value's name ("资源 Natural resources", "挖掘 Digging"), joined here from the catalog's
two languages (`name_zh`, `name_en`, `group_zh`, `group_en`) as a report's case is
titled. GeoReport v2 has no way to ask for a language, and the district's readers are
Chinese-speaking first; one bilingual name keeps both readers and every client (which
shows the name as given) served, and the whole list reads in one style. Descriptions,
longer, are served in English (`description`).
"""

from __future__ import annotations

from gateway.open311.fields import ATTRIBUTE, SERVICE, SERVICE_DEFINITION, SERVICE_TYPE, VALUE
from gateway.open311.formats import Many, Value, record
from workflows.dispatch_catalog import (
    MAX_ATTRIBUTE_VALUE,
    AttributeValue,
    Datatype,
    Service,
    ServiceAttribute,
)

# What a client should tell its user about each datatype (the spec's
# datatype_description), including how a multivaluelist is posted.
DATATYPE_DESCRIPTIONS: dict[Datatype, str] = {
    Datatype.STRING: f"一行文字 One line of text, at most {MAX_ATTRIBUTE_VALUE} characters",
    Datatype.NUMBER: "数字 A number, e.g. 3 or 12.5",
    Datatype.DATETIME: "日期时间 A date and time with its offset, e.g. "
                       "2026-05-01T21:30:00+08:00",
    Datatype.TEXT: f"文字 Text, may span lines, at most {MAX_ATTRIBUTE_VALUE} characters",
    Datatype.SINGLEVALUELIST: "单选 One of the values' keys",
    Datatype.MULTIVALUELIST: "多选 One or more of the values' keys, each sent as "
                             "attribute[code][]=key",
}
_UNITS = {"h": ("小时", "hours"), "d": ("天", "days")}


def service_name(service: Service) -> str:
    return f"{service.name_zh} {service.name_en}"


def group_name(service: Service) -> str:
    return f"{service.group_zh} {service.group_en}"


def value_name(value: AttributeValue) -> str:
    return f"{value.name_zh} {value.name_en}"


def service_notice(service: Service) -> str:
    """What happens next (the spec's service_notice): the 12345 answer time of the
    service's tier. Informative: the case's promised deadline is expected_datetime."""
    within = service.answer_within
    amount, unit = within[:-1], _UNITS.get(within[-1:])
    if unit is None:  # a tier written otherwise: say it as it is
        return f"{within}内答复 Answered within {within}"
    return f"{amount}{unit[0]}内答复 Answered within {amount} {unit[1]}"


def service_record(service: Service) -> dict[str, Value]:
    return record(SERVICE, service_code=service.code, service_name=service_name(service),
                  description=service.description, metadata=bool(service.attributes),
                  type=SERVICE_TYPE, keywords=", ".join(service.keywords),
                  group=group_name(service))


def _attribute_record(attribute: ServiceAttribute) -> dict[str, Value]:
    return record(
        ATTRIBUTE, variable=True, code=attribute.code, datatype=attribute.datatype.value,
        required=attribute.required,
        datatype_description=DATATYPE_DESCRIPTIONS[attribute.datatype],
        order=attribute.order, description=attribute.description,
        values=Many("value", [record(VALUE, key=v.key, name=value_name(v))
                              for v in attribute.values]))


def definition_record(service: Service) -> dict[str, Value]:
    return record(SERVICE_DEFINITION, service_code=service.code,
                  attributes=Many("attribute", [_attribute_record(a)
                                                for a in service.attributes]))
