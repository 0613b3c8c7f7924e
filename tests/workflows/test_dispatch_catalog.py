"""The dispatch catalog and gazetteer: shipped files load, reports route where a person
would expect, bad inputs are refused with stable codes, bad files with messages."""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point

from workflows.catalog_loader import DEFAULT_CATALOG, Catalog, CatalogError
from workflows.dispatch_catalog import (
    DISPATCH_FILE,
    GAZETTEER_FILE,
    DispatchCatalog,
    RouteError,
    RouteErrorCode,
    load_dispatch_catalog,
)

JINHAIHU = (117.35, 40.17)
BINHE = (117.12, 40.14)  # Pinggu's town centre
MAFANG = (117.02, 40.06)
TIANANMEN = (116.3975, 39.9087)  # Beijing, but not Pinggu


@pytest.fixture(scope="module")
def dispatch(catalog: Catalog) -> DispatchCatalog:
    return load_dispatch_catalog(catalog)


def test_every_playbook_takes_reports_of_some_category(dispatch: DispatchCatalog,
                                                        catalog: Catalog) -> None:
    assert {s.case_type for s in dispatch.services()} == set(catalog.playbooks)
    assert 12 <= len(dispatch.services()) <= 16
    keys = [(s.group_zh, s.code) for s in dispatch.services()]
    assert keys == sorted(keys)
    food_stages = {s.stage for s in dispatch.services() if s.case_type == "food-supply-chain"}
    assert food_stages == set(catalog.playbooks["food-supply-chain"].stages)


_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def test_every_word_a_reader_sees_is_written_in_both_languages(
        dispatch: DispatchCatalog) -> None:
    """A console page shows one language: each name, description, group, question and
    listed answer has its Chinese, with no English word, and its English, with no Chinese
    (a plate such as 京A12345 may be an example in Chinese only)."""
    for s in dispatch.services():
        pairs = [(s.name_zh, s.name_en), (s.description_zh, s.description),
                 (s.group_zh, s.group_en)]
        for a in s.attributes:
            pairs.append((a.description_zh, a.description))
            pairs += [(v.name_zh, v.name_en) for v in a.values]
            assert a.description_in("zh") == a.description_zh
            assert a.description_in("en") == a.description
        for zh, en in pairs:
            assert _CJK.search(zh) and not _LATIN_WORD.search(zh), (s.code, zh)
            assert en.strip() and not _CJK.search(en), (s.code, en)
        assert (s.name_in("zh"), s.description_in("zh"), s.group_in("zh")) == (
            s.name_zh, s.description_zh, s.group_zh)
        assert (s.name_in("en"), s.description_in("en"), s.group_in("en")) == (
            s.name_en, s.description, s.group_en)
    groups = {(s.group_zh, s.group_en) for s in dispatch.services()}
    assert len({zh for zh, _ in groups}) == len({en for _, en in groups}) == len(groups)
    vehicle = dispatch.service("black-smoke-vehicle")
    assert vehicle and (attribute := vehicle.attribute("vehicle"))
    assert [v.name_in("zh") for v in attribute.values][:2] == ["重型货车", "轻型货车"]
    assert [v.name_in("en") for v in attribute.values][:2] == ["Heavy truck", "Light truck"]


@pytest.mark.parametrize(("code", "point", "attributes", "expected"), [
    # 吹哨报到: quarrying in Jinhaihu is the township's to lead.
    ("night-quarrying", JINHAIHU, {"site": "  北寨村东山 "},
     ("illegal-mining", "", "jinhaihu", "jinhaihu-township", "金海湖镇", "北寨村东山")),
    ("black-smoke-vehicle", BINHE, {"plate": "京A12345", "vehicle": "heavy-truck"},
     ("highway-emissions", "roadside-check", "pinggu", "traffic-police", "滨河街道", "京A12345")),
    ("restaurant-fumes", JINHAIHU, {"business": "老王烧烤", "nuisance": "fumes, noise"},
     ("citizen-hotline", "", "jinhaihu", "jinhaihu-township", "金海湖镇", "老王烧烤")),
    ("restaurant-fumes", BINHE, {"business": "老王烧烤", "nuisance": "fumes"},
     ("citizen-hotline", "", "pinggu", "command-center", "滨河街道", "老王烧烤")),
    ("food-restaurant", MAFANG, {"business": "马坊食堂", "people-ill": "3"},
     ("food-supply-chain", "catering", "pinggu", "market-regulation", "马坊镇", "马坊食堂")),
    ("food-street-vendor", MAFANG, {},
     ("food-supply-chain", "unlicensed", "pinggu", "urban-management", "马坊镇", "")),
    ("general-request", BINHE, {},
     ("citizen-hotline", "", "pinggu", "command-center", "滨河街道", "")),
])
def test_reports_go_where_a_person_expects(dispatch: DispatchCatalog, code: str,
                                           point: tuple[float, float],
                                           attributes: dict[str, str],
                                           expected: tuple[str, ...]) -> None:
    route = dispatch.route(code, lon=point[0], lat=point[1], attributes=attributes)
    assert (route.case_type, route.stage, route.jurisdiction, route.lead, route.area_name,
            route.subject) == expected


def test_a_jurisdiction_given_by_the_hotline_wins_over_the_point(
        dispatch: DispatchCatalog) -> None:
    route = dispatch.route("price-complaint", jurisdiction="jinhaihu")
    assert (route.jurisdiction, route.lead, route.area_name) == (
        "jinhaihu", "jinhaihu-township", "金海湖镇")
    route = dispatch.route("price-complaint", lon=BINHE[0], lat=BINHE[1],
                           jurisdiction="jinhaihu")
    assert (route.jurisdiction, route.area) == ("jinhaihu", "binhe")


def test_mining_outside_jinhaihu_is_refused_not_routed_to_nobody(
        dispatch: DispatchCatalog) -> None:
    with pytest.raises(RouteError) as err:
        dispatch.route("illegal-mining", lon=MAFANG[0], lat=MAFANG[1])
    assert err.value.code == RouteErrorCode.NOT_SERVED_HERE
    assert "jinhaihu" in str(err.value)


def _bad(field: str, error: RouteErrorCode, **kwargs: Any
         ) -> tuple[str, RouteErrorCode, dict[str, Any]]:
    return field, error, kwargs


@pytest.mark.parametrize(("field", "error", "kwargs"), [
    _bad("service_code", RouteErrorCode.UNKNOWN_SERVICE, code="flying-saucer"),
    _bad("service_code", RouteErrorCode.UNKNOWN_SERVICE, code="x" * 10_000),
    _bad("location", RouteErrorCode.OUTSIDE_DISTRICT, lon=TIANANMEN[0], lat=TIANANMEN[1]),
    _bad("location", RouteErrorCode.NO_LOCATION),
    _bad("location", RouteErrorCode.BAD_LOCATION, lon=math.nan, lat=40.1),
    _bad("location", RouteErrorCode.BAD_LOCATION, lon=40.1, lat=117.3),  # lat, lon swapped
    _bad("location", RouteErrorCode.BAD_LOCATION, lon=117.3),
    _bad("jurisdiction", RouteErrorCode.UNKNOWN_JURISDICTION, jurisdiction="mars"),
    _bad("attributes.vehicle", RouteErrorCode.MISSING_ATTRIBUTE, code="black-smoke-vehicle",
         attributes={"plate": "京A12345"}),
    _bad("attributes.vehicle", RouteErrorCode.MISSING_ATTRIBUTE, code="black-smoke-vehicle",
         attributes={"vehicle": "  "}),
    _bad("attributes.vehicle", RouteErrorCode.BAD_ATTRIBUTE, code="black-smoke-vehicle",
         attributes={"vehicle": "spaceship"}),
    _bad("attributes.nuisance", RouteErrorCode.BAD_ATTRIBUTE, code="restaurant-fumes",
         attributes={"nuisance": "fumes,karaoke"}),
    _bad("attributes.amount", RouteErrorCode.BAD_ATTRIBUTE, attributes={"amount": "a lot"}),
    _bad("attributes.amount", RouteErrorCode.BAD_ATTRIBUTE, attributes={"amount": "nan"}),
    _bad("attributes.business", RouteErrorCode.BAD_ATTRIBUTE,
         attributes={"business": "店" * 201}),
    _bad("attributes.business", RouteErrorCode.BAD_ATTRIBUTE,
         attributes={"business": "店" * 129}),  # over a case subject's limit
    _bad("attributes", RouteErrorCode.BAD_ATTRIBUTE, attributes={"colour": "red"}),
    _bad("attributes", RouteErrorCode.BAD_ATTRIBUTE,
         attributes={f"a{i}": "x" for i in range(21)}),
    _bad("attributes.seen-at", RouteErrorCode.BAD_ATTRIBUTE, code="illegal-mining",
         lon=JINHAIHU[0], lat=JINHAIHU[1], attributes={"seen-at": "last night"}),
])
def test_bad_reports_are_refused_with_a_stable_code(
        dispatch: DispatchCatalog, field: str, error: RouteErrorCode,
        kwargs: dict[str, Any]) -> None:
    code = kwargs.pop("code", "price-complaint")
    kwargs.setdefault("lon", None if "jurisdiction" in kwargs or field == "location"
                      else BINHE[0])
    kwargs.setdefault("lat", None if "jurisdiction" in kwargs or field == "location"
                      else BINHE[1])
    with pytest.raises(RouteError) as err:
        dispatch.route(code, **kwargs)
    assert (err.value.field, err.value.code) == (field, error)
    assert len(str(err.value)) < 400


@pytest.mark.parametrize(("text", "expected"), [
    ("油烟", "restaurant-fumes"), ("黑烟", "black-smoke-vehicle"),
    ("Black SMOKE", "black-smoke-vehicle"), ("ｐａｒｋｉｎｇ", "illegal-parking"),
    ("夜间 施工", "construction-noise-night"), ("盗采", "night-quarrying"),
])
def test_search_finds_a_category_in_chinese_or_english(dispatch: DispatchCatalog,
                                                       text: str, expected: str) -> None:
    assert expected in [s.code for s in dispatch.search(text)]


def test_search_of_nothing_lists_everything(dispatch: DispatchCatalog) -> None:
    assert dispatch.search("  ") == dispatch.services()
    assert dispatch.search("no such thing 不存在") == []
    with pytest.raises(RouteError):
        dispatch.search("x" * 201)


_ENVELOPE = (116.88, 39.98, 117.52, 40.40)  # the district's bounding box, and a margin


@given(st.one_of(
    st.tuples(st.floats(_ENVELOPE[0], _ENVELOPE[2]), st.floats(_ENVELOPE[1], _ENVELOPE[3])),
    # Vertices and edges, where "contains" and "touches" part ways.
    st.sampled_from([(117.28, 40.13), (117.10, 40.12), (117.10, 40.15), (116.90, 40.02)])))
def test_locate_agrees_with_a_brute_force_search(dispatch: DispatchCatalog,
                                                 point: tuple[float, float]) -> None:
    containing = [a for a in dispatch.gazetteer.areas if a.geometry.contains(Point(point))]
    found = dispatch.locate(*point)
    if not containing:
        assert found is None
        return
    assert found == min(containing, key=lambda a: a.geometry.area)
    assert all(a.geometry.covers(found.geometry) for a in containing)


# Broken copies of the files ---------------------------------------------------------------

Edit = Callable[[dict[str, Any]], None]


def _service(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in data["services"] if s["code"] == code)


def _area(data: dict[str, Any], area_id: str) -> dict[str, Any]:
    return next(f for f in data["features"] if f["properties"]["id"] == area_id)


def _ring(data: dict[str, Any], area_id: str, ring: list[list[float]]) -> None:
    _area(data, area_id)["geometry"]["coordinates"] = [[*ring, ring[0]]]


DISPATCH_EDITS: list[tuple[str, Edit]] = [
    ("services[0].case_type: no playbook 'mining'",
     lambda d: d["services"][0].update(case_type="mining")),
    ("services[4].stage: 'canning' is not one of food-supply-chain's stages",
     lambda d: _service(d, "food-shop").update(stage="canning")),
    (".stage: citizen-hotline has no stages", lambda d: _service(d, "price-complaint").update(
        stage="circulation")),
    ("duplicate codes food-shop", lambda d: _service(d, "food-farm").update(code="food-shop")),
    ("services[7].attributes: at most one attribute may be the subject", lambda d: _service(
        d, "black-smoke-vehicle")["attributes"][2].update(subject=True)),
    ("services[7].attributes[1].values: a singlevaluelist needs values", lambda d: _service(
        d, "black-smoke-vehicle")["attributes"][1].pop("values")),
    ("services[4].attributes[0].required: a subject must stay optional", lambda d: _service(
        d, "food-shop")["attributes"][0].update(required=True)),
    (".code: 'Food_Shop' must be", lambda d: _service(d, "food-shop").update(
        code="Food_Shop")),
    ("illegal-mining's matrix names no lead for stage (none) in pinggu",
     lambda d: _service(d, "illegal-mining").pop("jurisdictions")),
    ("services[0].priorty: unknown field", lambda d: d["services"][0].update(priorty=2)),
    ("services[0].group: unknown field", lambda d: d["services"][0].update(group="资源")),
    ("services[1].description_zh: required", lambda d: d["services"][1].update(
        description_zh=" ")),
    ("services[2].group_en: required", lambda d: d["services"][2].update(group_en="")),
    ("services[0].attributes[0].description_zh: required (it is the question",
     lambda d: d["services"][0]["attributes"][0].update(description_zh="")),
    ("services[7].attributes[1].values: every value needs name_zh and name_en",
     lambda d: _service(d, "black-smoke-vehicle")["attributes"][1]["values"][0].update(
         name_en=" ")),
    ("priority: Input should be less than or equal to 5",
     lambda d: d["services"][0].update(priority=9)),
]
GAZETTEER_EDITS: list[tuple[str, Edit]] = [
    ("invalid polygon: Self-intersection", lambda d: _ring(
        d, "binhe", [[117.10, 40.12], [117.15, 40.17], [117.15, 40.12], [117.10, 40.17]])),
    ("features[2].geometry: xinggu and binhe overlap", lambda d: _ring(
        d, "binhe", [[117.08, 40.12], [117.15, 40.12], [117.15, 40.17], [117.08, 40.17]])),
    ("features[1].geometry: jinhaihu reaches outside its parent pinggu", lambda d: _ring(
        d, "jinhaihu", [[117.28, 40.13], [117.60, 40.13], [117.60, 40.22], [117.28, 40.22]])),
    ("coordinates out of range (they are longitude, latitude", lambda d: _ring(
        d, "mafang", [[40.03, 116.96], [40.03, 117.08], [40.11, 117.04]])),
    ("properties.jurisdiction: no agency of the directory serves 'binhe'",
     lambda d: _area(d, "binhe")["properties"].update(jurisdiction="binhe")),
    ("properties.parent: no area 'beijing'",
     lambda d: _area(d, "pinggu")["properties"].update(parent="beijing")),
    ("features[0].properties.parent: pinggu is its own parent",
     lambda d: _area(d, "pinggu")["properties"].update(parent="pinggu")),
    ("duplicate area id binhe", lambda d: _area(d, "xinggu")["properties"].update(id="binhe")),
    ("properties.jurisdction: unknown field",
     lambda d: _area(d, "binhe")["properties"].update(jurisdction="pinggu")),
]


def _broken_copy(tmp_path: Path, dispatch_edit: Edit | None = None,
                 gazetteer_edit: Edit | None = None) -> Path:
    for name in (DISPATCH_FILE, GAZETTEER_FILE):
        shutil.copy(DEFAULT_CATALOG / name, tmp_path / name)
    if dispatch_edit is not None:
        data = yaml.safe_load((tmp_path / DISPATCH_FILE).read_text(encoding="utf-8"))
        dispatch_edit(data)
        (tmp_path / DISPATCH_FILE).write_text(yaml.safe_dump(data, allow_unicode=True),
                                              encoding="utf-8")
    if gazetteer_edit is not None:
        data = json.loads((tmp_path / GAZETTEER_FILE).read_text(encoding="utf-8"))
        gazetteer_edit(data)
        (tmp_path / GAZETTEER_FILE).write_text(json.dumps(data), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("message", "edit"), DISPATCH_EDITS,
                         ids=[m for m, _ in DISPATCH_EDITS])
def test_a_broken_catalog_is_refused_naming_file_and_field(
        catalog: Catalog, tmp_path: Path, message: str, edit: Edit) -> None:
    with pytest.raises(CatalogError) as err:
        load_dispatch_catalog(catalog, _broken_copy(tmp_path, dispatch_edit=edit))
    assert str(err.value).startswith(f"{DISPATCH_FILE}: ")
    assert message in str(err.value)


@pytest.mark.parametrize(("message", "edit"), GAZETTEER_EDITS,
                         ids=[m for m, _ in GAZETTEER_EDITS])
def test_a_broken_gazetteer_is_refused_naming_file_and_field(
        catalog: Catalog, tmp_path: Path, message: str, edit: Edit) -> None:
    with pytest.raises(CatalogError) as err:
        load_dispatch_catalog(catalog, _broken_copy(tmp_path, gazetteer_edit=edit))
    assert str(err.value).startswith(f"{GAZETTEER_FILE}: ")
    assert message in str(err.value)


def test_the_shipped_copy_loads_from_another_folder(catalog: Catalog, tmp_path: Path) -> None:
    loaded = load_dispatch_catalog(catalog, _broken_copy(tmp_path))
    assert loaded.locate(*JINHAIHU) is not None
