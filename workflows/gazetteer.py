"""The district gazetteer: the areas of the demo district as polygons, and which area
(so which jurisdiction) a point falls in.

Read from `catalog/gazetteer.geojson`, GeoJSON (RFC 7946) so a coordinator can check the
outlines in any map tool and drop in the surveying bureau's export. Coordinates are WGS84
longitude, latitude; Chinese map SDKs report GCJ-02 or BD-09, some hundreds of metres off,
so the intake converts to WGS84 first. Checked in full at load: valid polygons, each area
within its parent, areas of one parent sharing borders but no land, jurisdictions that
the directory's agencies serve.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import shapely
from shapely.errors import GEOSException
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

# The catalog's own validator, so this file's messages read like the others'.
from workflows.catalog_loader import CatalogError, _parse
from workflows.rules.catalog import Directory

_ID = re.compile(r"[a-z0-9-]{1,64}")
_STRICT: dict[str, Any] = {"extra": "forbid"}


@dataclass(frozen=True)
class Area:
    """A township or subdistrict (or the district itself) and the jurisdiction it maps to."""

    id: str
    name_zh: str
    name_en: str
    jurisdiction: str
    parent: str  # the enclosing area; "" for the outermost
    geometry: BaseGeometry = field(repr=False, compare=False)


@dataclass(frozen=True, eq=False)
class Gazetteer:
    """The district's areas; a point belongs to the smallest area containing it."""

    areas: tuple[Area, ...]
    _tree: shapely.STRtree = field(init=False, repr=False)
    _rank: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        geometries = [a.geometry for a in self.areas]
        shapely.prepare(geometries)  # point-in-polygon over long outlines stays fast
        by_size = sorted(range(len(self.areas)),
                         key=lambda i: (self.areas[i].geometry.area, self.areas[i].id))
        rank = [0] * len(by_size)
        for position, index in enumerate(by_size):
            rank[index] = position
        object.__setattr__(self, "_tree", shapely.STRtree(geometries))
        object.__setattr__(self, "_rank", tuple(rank))

    def area(self, area_id: str) -> Area | None:
        return next((a for a in self.areas if a.id == area_id), None)

    def jurisdictions(self) -> frozenset[str]:
        return frozenset(a.jurisdiction for a in self.areas)

    def locate(self, lon: float, lat: float) -> Area | None:
        """The smallest area whose interior holds the point; None outside them all (or for
        a point that is no coordinate: NaN, out of range)."""
        if not is_coordinate(lon, lat):
            return None
        hits = [int(i) for i in self._tree.query(Point(lon, lat))
                if shapely.contains_xy(self.areas[int(i)].geometry, lon, lat)]
        return self.areas[min(hits, key=self._rank.__getitem__)] if hits else None


def is_coordinate(lon: float, lat: float) -> bool:
    return math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90


@dataclass(frozen=True)
class _AreaProperties:
    id: str
    name_zh: str
    name_en: str
    jurisdiction: str
    parent: str = ""
    __pydantic_config__ = _STRICT


@dataclass(frozen=True)
class _Geometry:
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]  # shapely checks their shape
    __pydantic_config__ = _STRICT


@dataclass(frozen=True)
class _Feature:
    type: Literal["Feature"]
    properties: _AreaProperties
    geometry: _Geometry
    id: str | int | None = None
    bbox: list[float] | None = None
    __pydantic_config__ = _STRICT


@dataclass(frozen=True)
class _FeatureCollection:
    type: Literal["FeatureCollection"]
    features: tuple[_Feature, ...]
    description: str = ""
    name: str = ""
    bbox: list[float] | None = None
    __pydantic_config__ = _STRICT


def load_gazetteer(path: Path, directory: Directory) -> Gazetteer:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CatalogError(f"{path.name}: not valid JSON: {err}") from None
    collection = _parse(path, _FeatureCollection, data)
    known = {j for a in directory.agencies for j in a.jurisdictions}
    areas: list[tuple[int, Area]] = []
    problems: list[str] = []
    for i, feature in enumerate(collection.features):
        area, area_problems = _area(f"features[{i}]", feature, known)
        problems += area_problems
        if area is not None:
            areas.append((i, area))
    problems += _nesting_problems(areas)
    if not collection.features:
        problems.append("features: at least one area is required")
    if problems:
        raise CatalogError(f"{path.name}: " + "; ".join(problems))
    return Gazetteer(areas=tuple(a for _, a in areas))


def _area(where: str, feature: _Feature, jurisdictions: set[str]
          ) -> tuple[Area | None, list[str]]:
    props, problems = feature.properties, []
    if not _ID.fullmatch(props.id):
        problems.append(f"{where}.properties.id: {props.id!r} must be 1-64 of a-z, 0-9 and -")
    if props.jurisdiction not in jurisdictions:
        problems.append(f"{where}.properties.jurisdiction: no agency of the directory serves "
                        f"{props.jurisdiction!r}")
    try:
        geometry = shape({"type": feature.geometry.type,
                          "coordinates": feature.geometry.coordinates})
    except (ValueError, TypeError, IndexError, AttributeError, GEOSException) as err:
        return None, [*problems, f"{where}.geometry: not a {feature.geometry.type}: {err}"]
    if geometry.is_empty:
        problems.append(f"{where}.geometry: empty")
    elif not is_coordinate(*geometry.bounds[:2]) or not is_coordinate(*geometry.bounds[2:]):
        problems.append(f"{where}.geometry: coordinates out of range (they are longitude, "
                        "latitude in that order)")
    elif not geometry.is_valid:  # a valid polygon also has an area
        problems.append(f"{where}.geometry: invalid polygon: {explain_validity(geometry)}")
    area = Area(id=props.id, name_zh=props.name_zh, name_en=props.name_en,
                jurisdiction=props.jurisdiction, parent=props.parent, geometry=geometry)
    return (None if problems else area), problems


def _nesting_problems(areas: list[tuple[int, Area]]) -> Iterable[str]:
    """Each area lies within its parent; areas of one parent share borders, never land."""
    by_id = {a.id: a for _, a in areas}
    ids = [a.id for _, a in areas]
    for area_id in sorted({i for i in ids if ids.count(i) > 1}):
        yield f"features: duplicate area id {area_id}"
    for i, area in areas:
        where = f"features[{i}].properties.parent"
        parent = by_id.get(area.parent)
        if area.parent and parent is None:
            yield f"{where}: no area {area.parent!r}"
        elif parent is not None and not parent.geometry.covers(area.geometry):
            yield f"features[{i}].geometry: {area.id} reaches outside its parent {parent.id}"
        seen: set[str] = set()
        while parent is not None and parent.id not in seen:  # each step grows `seen`
            if parent.id == area.id:
                yield f"{where}: {area.id} is its own parent, or its parents' parent"
                break
            seen.add(parent.id)
            parent = by_id.get(parent.parent)
    for k, (i, a) in enumerate(areas):
        for _, b in areas[k + 1:]:
            if a.parent == b.parent and a.geometry.relate_pattern(b.geometry, "T********"):
                yield f"features[{i}].geometry: {a.id} and {b.id} overlap"
