"""The dispatch catalog (派单目录) and the district gazetteer: from a citizen's report to
the case type, stage, jurisdiction and subject it is routed by.

A report's category is an Open311 service (`catalog/dispatch.yaml`): it names a playbook
and a stage, so that playbook's responsibility matrix names the lead. Its location names
the jurisdiction through the gazetteer (`catalog/gazetteer.geojson`): the smallest area
containing the point. Its subject attribute (a plate, a site, a shop) decides which open
case it joins. Both files are checked in full at load, including that every category
finds a lead wherever the gazetteer can place a report, so no category routes to nobody.

Every word a reader sees (a service's name, description and group, a question, a listed
answer) is written twice, in Chinese (`_zh`) and English (a description's English is plain
`description`, as Open311 serves it); `name_in`, `description_in` and `group_in` pick the
reader's language, so a page shows one language at a time.

Pure: no Temporal, no wall clock, no I/O beyond reading the two files at load. The
gazetteer itself (areas, point lookup, its checks) is `workflows.gazetteer`; `Area` and
`Gazetteer` are re-exported here with the rest of the dispatch API.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field

# The catalog's own reader and validator, so these files' messages read like the others'.
from workflows.catalog_loader import DEFAULT_CATALOG, Catalog, CatalogError, _parse, _read
from workflows.gazetteer import Area, Gazetteer, is_coordinate, load_gazetteer
from workflows.rules.catalog import Playbook
from workflows.rules.limits import MAX_ID, MAX_SUBJECT

__all__ = [
    "DISPATCH_FILE", "GAZETTEER_FILE", "Area", "AttributeValue", "Datatype",
    "DispatchCatalog", "Gazetteer", "Route", "RouteError", "RouteErrorCode", "Service",
    "ServiceAttribute", "Tier", "load_dispatch_catalog",
]

DISPATCH_FILE = "dispatch.yaml"
GAZETTEER_FILE = "gazetteer.geojson"
MAX_ATTRIBUTES = 20
MAX_ATTRIBUTE_VALUE = 200
MAX_SEARCH = 200
_CODE = re.compile(r"[a-z0-9-]{1,64}")
_STRICT: dict[str, Any] = {"extra": "forbid"}


def _in(lang: str, zh: str, en: str) -> str:
    """The Chinese words for a Chinese reader, the English for everyone else."""
    return zh if lang == "zh" else en


class Datatype(StrEnum):
    """Open311 GeoReport v2 attribute datatypes."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"


LIST_TYPES = (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST)


class Tier(StrEnum):
    """The 12345 answer tiers."""

    EMERGENCY = "emergency"
    UTILITIES = "utilities"
    GENERAL = "general"
    COMPLEX = "complex"


# What callers are told; informative only: the playbook's clocks are what run.
TIER_ANSWER_WITHIN: Mapping[Tier, str] = MappingProxyType({
    Tier.EMERGENCY: "2h", Tier.UTILITIES: "24h", Tier.GENERAL: "7d", Tier.COMPLEX: "15d"})


class RouteErrorCode(StrEnum):
    UNKNOWN_SERVICE = "UNKNOWN_SERVICE"
    MISSING_ATTRIBUTE = "MISSING_ATTRIBUTE"
    BAD_ATTRIBUTE = "BAD_ATTRIBUTE"
    NO_LOCATION = "NO_LOCATION"
    BAD_LOCATION = "BAD_LOCATION"
    OUTSIDE_DISTRICT = "OUTSIDE_DISTRICT"
    UNKNOWN_JURISDICTION = "UNKNOWN_JURISDICTION"
    # The category's playbook names no lead where the report is (see dispatch.yaml).
    NOT_SERVED_HERE = "NOT_SERVED_HERE"
    TOO_LONG = "TOO_LONG"


class RouteError(ValueError):
    """A report that cannot be routed: `field` names the input, `code` is stable."""

    def __init__(self, field: str, message: str, *, code: RouteErrorCode) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class AttributeValue:
    """One answer a list question offers."""

    key: str
    name_zh: str
    name_en: str
    __pydantic_config__ = _STRICT

    def name_in(self, lang: str) -> str:
        return _in(lang, self.name_zh, self.name_en)


@dataclass(frozen=True)
class ServiceAttribute:
    """A question the report answers (an Open311 service-definition attribute)."""

    code: str
    datatype: Datatype
    description: str  # the question, in English
    description_zh: str  # the question, in Chinese
    order: int
    required: bool = False
    values: tuple[AttributeValue, ...] = ()
    # Its answer is the report's subject: reports on one subject join one open case.
    subject: bool = False
    __pydantic_config__ = _STRICT

    def description_in(self, lang: str) -> str:
        return _in(lang, self.description_zh, self.description)


@dataclass(frozen=True)
class Service:
    """A category of report (an Open311 service) and where it is dispatched."""

    code: str
    name_zh: str
    name_en: str
    description: str  # in English
    description_zh: str
    # The group it is listed under ("资源" / "Natural resources").
    group_zh: str
    group_en: str
    keywords: tuple[str, ...]
    case_type: str
    tier: Tier
    priority: Annotated[int, Field(ge=1, le=5)]
    stage: str = ""
    attributes: tuple[ServiceAttribute, ...] = ()
    # Where the category is taken; empty: wherever the gazetteer places a report.
    jurisdictions: tuple[str, ...] = ()
    __pydantic_config__ = _STRICT

    def name_in(self, lang: str) -> str:
        return _in(lang, self.name_zh, self.name_en)

    def description_in(self, lang: str) -> str:
        return _in(lang, self.description_zh, self.description)

    @property
    def case_title(self) -> str:
        """The title of a case a report of this category opens: its name in both
        languages (a page shows the reader's: `ConsoleCore.case_title`)."""
        return f"{self.name_zh} {self.name_en}"

    def group_in(self, lang: str) -> str:
        return _in(lang, self.group_zh, self.group_en)

    @property
    def answer_within(self) -> str:
        return TIER_ANSWER_WITHIN[self.tier]

    @property
    def subject_attribute(self) -> ServiceAttribute | None:
        return next((a for a in self.attributes if a.subject), None)

    def attribute(self, code: str) -> ServiceAttribute | None:
        return next((a for a in self.attributes if a.code == code), None)


@dataclass(frozen=True)
class _DispatchFile:
    services: tuple[Service, ...]
    __pydantic_config__ = _STRICT


@dataclass(frozen=True)
class Route:
    """Where a report goes: the case type and stage it opens or joins, the jurisdiction
    and the lead the matrix names there, and the subject it merges on."""

    service: Service
    case_type: str
    stage: str
    jurisdiction: str
    lead: str
    area: str  # the gazetteer area ("" when none), as a case's report records it
    area_name: str
    subject: str  # "" when the report has none: it opens a case of its own


_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, eq=False)
class DispatchCatalog:
    """The services and the gazetteer, as `load_dispatch_catalog` checked them."""

    catalog: tuple[Service, ...]
    gazetteer: Gazetteer
    playbooks: Mapping[str, Playbook]
    _by_code: Mapping[str, Service] = field(init=False, repr=False)
    _haystacks: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.catalog, key=lambda s: (s.group_zh, s.group_en, s.code)))
        object.__setattr__(self, "catalog", ordered)
        object.__setattr__(self, "_by_code", MappingProxyType({s.code: s for s in ordered}))
        object.__setattr__(self, "_haystacks", tuple(
            _fold("\n".join((s.code, s.name_zh, s.name_en, s.group_zh, s.group_en,
                             *s.keywords)))
            for s in ordered))

    def service(self, code: str) -> Service | None:
        return self._by_code.get(code)

    def services(self) -> list[Service]:
        """Every service, by group (its Chinese name) then code."""
        return list(self.catalog)

    def search(self, text: str) -> list[Service]:
        """Services matching every word of `text` (any case, full- or half-width) in their
        code, names, group or keywords; all of them for empty text."""
        if len(text) > MAX_SEARCH:
            raise RouteError("text", f"the search is {len(text)} characters; the limit is "
                             f"{MAX_SEARCH}", code=RouteErrorCode.TOO_LONG)
        terms = _fold(text).split()
        return [s for s, hay in zip(self.catalog, self._haystacks, strict=True)
                if all(t in hay for t in terms)]

    def locate(self, lon: float, lat: float) -> Area | None:
        return self.gazetteer.locate(lon, lat)

    def route(self, code: str, *, lon: float | None = None, lat: float | None = None,
              jurisdiction: str = "", attributes: Mapping[str, str] = _NO_ATTRIBUTES
              ) -> Route:
        """Where a report goes. A jurisdiction given (the hotline's call) wins over the
        point, which then only names the area, even a point outside the district;
        otherwise the point decides. Multivaluelist answers are keys separated by commas."""
        if len(code) > MAX_ID or (service := self._by_code.get(code)) is None:
            raise RouteError("service_code", f"no service {code[:MAX_ID]!r} in the catalog",
                             code=RouteErrorCode.UNKNOWN_SERVICE)
        subject = _checked_subject(service, attributes)
        area = self._area_at(lon, lat)
        playbook = self.playbooks[service.case_type]
        if jurisdiction:
            known = self.gazetteer.jurisdictions() | {
                r.jurisdiction for r in playbook.matrix if r.jurisdiction != "*"}
            if jurisdiction not in known:
                raise RouteError("jurisdiction", f"no jurisdiction {jurisdiction[:MAX_ID]!r}"
                                 f" (known: {', '.join(sorted(known))})",
                                 code=RouteErrorCode.UNKNOWN_JURISDICTION)
            area = area or self.gazetteer.area(jurisdiction)
            where = "jurisdiction"
        elif lon is None:
            raise RouteError("location", "give the report's location (lon, lat) or a "
                             "jurisdiction", code=RouteErrorCode.NO_LOCATION)
        elif area is None:
            raise RouteError("location", f"({lon}, {lat}) is outside the district: no "
                             "jurisdiction takes it", code=RouteErrorCode.OUTSIDE_DISTRICT)
        else:
            jurisdiction, where = area.jurisdiction, "location"
        rule = playbook.lead_rule(stage=service.stage, jurisdiction=jurisdiction)
        if rule is None or (service.jurisdictions and jurisdiction not in service.jurisdictions):
            raise RouteError(where, f"{service.code} is not taken in {jurisdiction}, only in "
                             f"{', '.join(self.served_in(service))} (where {playbook.id}'s "
                             "matrix names a lead)", code=RouteErrorCode.NOT_SERVED_HERE)
        return Route(service=service, case_type=service.case_type, stage=service.stage,
                     jurisdiction=jurisdiction, lead=rule.lead, area=area.id if area else "",
                     area_name=area.name_zh if area else "", subject=subject)

    def served_in(self, service: Service) -> list[str]:
        """The jurisdictions where the service is taken (its playbook names a lead)."""
        playbook = self.playbooks[service.case_type]
        return sorted(j for j in service.jurisdictions or self.gazetteer.jurisdictions()
                      if playbook.lead_rule(stage=service.stage, jurisdiction=j) is not None)

    def _area_at(self, lon: float | None, lat: float | None) -> Area | None:
        if lon is None and lat is None:
            return None
        if lon is None or lat is None or not is_coordinate(lon, lat):
            raise RouteError("location", f"({lon}, {lat}) is not a longitude, latitude pair",
                             code=RouteErrorCode.BAD_LOCATION)
        return self.gazetteer.locate(lon, lat)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _checked_subject(service: Service, attributes: Mapping[str, str]) -> str:
    """Check the answers against the service's questions; the subject, stripped."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise RouteError("attributes", f"{len(attributes)} attributes; the limit is "
                         f"{MAX_ATTRIBUTES}", code=RouteErrorCode.BAD_ATTRIBUTE)
    for key, value in attributes.items():
        attribute = service.attribute(key) if isinstance(key, str) else None
        if attribute is None:
            asked = ", ".join(a.code for a in service.attributes) or "nothing"
            raise RouteError("attributes", f"{service.code} asks no {str(key)[:MAX_ID]!r} "
                             f"(it asks: {asked})", code=RouteErrorCode.BAD_ATTRIBUTE)
        _check_answer(attribute, value, f"attributes.{key}")
    for attribute in service.attributes:
        if attribute.required and not attributes.get(attribute.code, "").strip():
            raise RouteError(f"attributes.{attribute.code}", f"{attribute.code} is required: "
                             f"{attribute.description}", code=RouteErrorCode.MISSING_ATTRIBUTE)
    subject_attribute = service.subject_attribute
    subject = attributes.get(subject_attribute.code, "").strip() if subject_attribute else ""
    if len(subject) > MAX_SUBJECT:
        raise RouteError(f"attributes.{subject_attribute.code if subject_attribute else ''}",
                         f"the subject is {len(subject)} characters; the limit is "
                         f"{MAX_SUBJECT}", code=RouteErrorCode.BAD_ATTRIBUTE)
    return subject


def _check_answer(attribute: ServiceAttribute, value: object, where: str) -> None:
    def bad(problem: str) -> RouteError:
        return RouteError(where, f"{attribute.code}: {problem}",
                          code=RouteErrorCode.BAD_ATTRIBUTE)

    if not isinstance(value, str):
        raise bad("the answer must be text")
    if len(value) > MAX_ATTRIBUTE_VALUE:
        raise bad(f"{len(value)} characters; the limit is {MAX_ATTRIBUTE_VALUE}")
    answer = value.strip()
    if not answer:
        return  # not answered; required answers are checked by the caller
    if attribute.datatype == Datatype.NUMBER:
        try:
            number = float(answer)
        except ValueError:
            raise bad(f"{answer!r} is not a number") from None
        if not math.isfinite(number):
            raise bad(f"{answer!r} is not a number")
    elif attribute.datatype == Datatype.DATETIME:
        try:
            datetime.fromisoformat(answer)
        except ValueError:
            raise bad(f"{answer!r} is not a date and time like 2026-05-01T21:30+08:00") from None
    elif attribute.datatype in LIST_TYPES:
        keys = {v.key for v in attribute.values}
        # A multivaluelist answer is its keys separated by commas.
        chosen = ([k.strip() for k in answer.split(",")]
                  if attribute.datatype == Datatype.MULTIVALUELIST else [answer])
        unknown = [k for k in chosen if k not in keys]
        if unknown:
            raise bad(f"{unknown[0]!r} is not one of {', '.join(sorted(keys))}")


# Loading ---------------------------------------------------------------------------------


def load_dispatch_catalog(catalog: Catalog, folder: Path = DEFAULT_CATALOG
                            ) -> DispatchCatalog:
    gazetteer = load_gazetteer(folder / GAZETTEER_FILE, catalog.directory)
    path = folder / DISPATCH_FILE
    services = _parse(path, _DispatchFile, _read(path)).services
    problems = list(_services_problems(services, catalog, gazetteer))
    if problems:
        raise CatalogError(f"{path.name}: " + "; ".join(problems))
    # Questions in the order they are asked.
    services = tuple(replace(s, attributes=tuple(sorted(s.attributes, key=lambda a: a.order)))
                     for s in services)
    return DispatchCatalog(catalog=services, gazetteer=gazetteer,
                             playbooks=MappingProxyType(dict(catalog.playbooks)))


def _services_problems(services: tuple[Service, ...], catalog: Catalog,
                       gazetteer: Gazetteer) -> Iterable[str]:
    codes = [s.code for s in services]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        yield f"services: duplicate codes {', '.join(duplicates)}"
    for i, service in enumerate(services):
        where = f"services[{i}]"
        if not _CODE.fullmatch(service.code):
            yield f"{where}.code: {service.code!r} must be 1-64 of a-z, 0-9 and -"
        for name in ("name_zh", "name_en", "description", "description_zh", "group_zh",
                     "group_en"):
            if not getattr(service, name).strip():
                yield f"{where}.{name}: required"
        yield from _attribute_problems(where, service.attributes)
        for j in service.jurisdictions:
            if j not in gazetteer.jurisdictions():
                yield f"{where}.jurisdictions: no area of the gazetteer maps to {j!r}"
        playbook = catalog.playbooks.get(service.case_type)
        if playbook is None:
            yield (f"{where}.case_type: no playbook {service.case_type!r} (playbooks: "
                   f"{', '.join(sorted(catalog.playbooks))})")
            continue
        if playbook.stages and service.stage not in playbook.stages:
            yield (f"{where}.stage: {service.stage!r} is not one of {playbook.id}'s stages "
                   f"({', '.join(playbook.stages)})")
            continue
        if not playbook.stages and service.stage:
            yield f"{where}.stage: {playbook.id} has no stages; leave stage empty"
            continue
        for j in sorted(set(service.jurisdictions) or gazetteer.jurisdictions()):
            if playbook.lead_rule(stage=service.stage, jurisdiction=j) is None:
                yield (f"{where}: {playbook.id}'s matrix names no lead for stage "
                       f"{service.stage or '(none)'} in {j}; add a matrix row, or list where "
                       "the service is taken under jurisdictions")


def _attribute_problems(where: str, attributes: tuple[ServiceAttribute, ...]
                        ) -> Iterable[str]:
    if len(attributes) > MAX_ATTRIBUTES:
        yield f"{where}.attributes: {len(attributes)}; the limit is {MAX_ATTRIBUTES}"
    codes = [a.code for a in attributes]
    if len(set(codes)) != len(codes):
        yield f"{where}.attributes: codes must be unique"
    if sum(a.subject for a in attributes) > 1:
        yield f"{where}.attributes: at most one attribute may be the subject"
    for k, attribute in enumerate(attributes):
        at = f"{where}.attributes[{k}]"
        if not _CODE.fullmatch(attribute.code):
            yield f"{at}.code: {attribute.code!r} must be 1-64 of a-z, 0-9 and -"
        for name in ("description", "description_zh"):
            if not getattr(attribute, name).strip():
                yield f"{at}.{name}: required (it is the question the caller is asked)"
        listed = attribute.datatype in LIST_TYPES
        if listed and not attribute.values:
            yield f"{at}.values: a {attribute.datatype} needs values to choose from"
        if not listed and attribute.values:
            yield f"{at}.values: only list datatypes take values"
        keys = [v.key for v in attribute.values]
        if len(set(keys)) != len(keys) or not all(_CODE.fullmatch(k) for k in keys):
            yield f"{at}.values: keys must be unique, 1-64 of a-z, 0-9 and -"
        if not all(v.name_zh.strip() and v.name_en.strip() for v in attribute.values):
            yield f"{at}.values: every value needs name_zh and name_en"
        if attribute.subject and attribute.required:
            yield (f"{at}.required: a subject must stay optional (a caller who did not "
                   "catch it would type a placeholder, merging unrelated reports)")
        if attribute.subject and attribute.datatype != Datatype.STRING:
            yield f"{at}.datatype: a subject is a string (a plate, a site, a name)"
