"""`node(id:)`: every type with a global id is refetched by it; bad ids are named errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import GraphQL, data_of, error_of


def b64(text: str, padding: bool = True) -> str:
    encoded = base64.urlsafe_b64encode(text.encode()).decode()
    return encoded if padding else encoded.rstrip("=")


def pick(data: Any, path: list[Any]) -> dict:
    for step in path:
        data = data[step] if not callable(step) else step(data)
    return data


def where(field: str, value: Any) -> Any:
    return lambda items: next(item for item in items if item[field] == value)


# type name, a query reaching one object, the path to it, its fields that tell it apart.
CASES = [
    (
        "Municipality",
        '{ municipality(code: "304271") { id code name } }',
        ["municipality"],
        "code name",
    ),
    (
        "Region",
        "{ regions { id name shortName } }",
        ["regions", where("shortName", "日高")],
        "name shortName",
    ),
    ("Prefecture", "{ prefectures { id code name } }", ["prefectures", 0], "code name"),
    (
        "AssessmentFramework",
        '{ assessmentFramework(version: "2024") { id version title } }',
        ["assessmentFramework"],
        "version title",
    ),
    (
        "AssessmentSection",
        "{ assessmentFramework { sections { id key label } } }",
        ["assessmentFramework", "sections", where("key", "step2")],
        "key label",
    ),
    (
        "AssessmentQuestion",
        "{ assessmentFramework { questions { id key text } } }",
        ["assessmentFramework", "questions", where("key", "2-4")],
        "key text",
    ),
    (
        "AssessmentOption",
        "{ assessmentFramework { questions { key options { id label position } } } }",
        ["assessmentFramework", "questions", where("key", "1-1"), "options", 2],
        "label position",
    ),
    (
        "AssessmentRound",
        "{ assessmentFramework { rounds { id key opensOn } } }",
        ["assessmentFramework", "rounds", where("key", "2024-04")],
        "key opensOn",
    ),
    ("Tier", "{ tiers { id level name } }", ["tiers", where("level", 3)], "level name"),
    (
        "PublishedStatistic",
        '{ publishedStatistics(survey: "tiers 2024-11") { id survey category value } }',
        ["publishedStatistics", where("category", "3 協働")],
        "survey category value",
    ),
]


def node_query(type_name: str, fields: str) -> str:
    return (
        f"query($id: ID!) {{ node(id: $id) {{ __typename id ... on {type_name} {{ {fields} }} }} }}"
    )


async def fetch(gql: GraphQL, query: str, path: list[Any]) -> dict:
    return pick(data_of(await gql(query)), path)


@pytest.mark.parametrize(
    ("type_name", "query", "path", "fields"), CASES, ids=[case[0] for case in CASES]
)
async def test_node_refetches_the_object(
    gql: GraphQL, type_name: str, query: str, path: list[Any], fields: str
) -> None:
    obj = await fetch(gql, query, path)
    node = data_of(await gql(node_query(type_name, fields), {"id": obj["id"]}))["node"]
    assert node == {"__typename": type_name, **{k: obj[k] for k in ["id", *fields.split()]}}


async def test_node_tells_apart_objects_of_one_type(gql: GraphQL) -> None:
    tiers = data_of(await gql("{ tiers { id level } }"))["tiers"]
    query = node_query("Tier", "level")
    for tier in tiers:
        node = data_of(await gql(query, {"id": tier["id"]}))["node"]
        assert node["level"] == tier["level"]


async def test_ids_are_opaque_and_unique(gql: GraphQL) -> None:
    ids = []
    for type_name, query, path, _ in CASES:
        obj = await fetch(gql, query, path)
        assert type_name not in obj["id"]
        ids.append(obj["id"])
    assert len(set(ids)) == len(ids)


async def test_ids_are_stable_across_requests(gql: GraphQL) -> None:
    query = '{ municipality(code: "302015") { id } }'
    first = data_of(await gql(query))["municipality"]["id"]
    assert data_of(await gql(query))["municipality"]["id"] == first


ANY_NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.mark.parametrize(
    "global_id",
    [
        "nope",
        b64("Unknown:1"),
        b64("Region:abc"),
        b64("Region"),  # no key at all
        b64("Tier:"),  # an empty integer key
        b64("Tier:03"),  # not the canonical form of an id the API issues
        b64("Tier: 3"),
        b64("Tier:40000"),  # beyond the column's range: no such row can exist
        b64("Region:99999999999"),
        b64("AssessmentFramework:2024\x00"),  # PostgreSQL text cannot hold NUL
        b64("Municipality:30201\x00"),
    ],
)
async def test_malformed_id_is_an_error(gql: GraphQL, global_id: str) -> None:
    body = await gql(ANY_NODE, {"id": global_id})
    error = error_of(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}
    assert "id" in error["message"]
    assert error["path"] == ["node"]
    assert body["data"] == {"node": None}


@pytest.mark.parametrize(
    "global_id",
    [
        b64("Municipality:131016", padding=False),  # 千代田区: valid code, not in this data
        b64("Municipality:131016"),  # padding is accepted too
        b64("Tier:5"),
        b64("AssessmentFramework:1999"),
        b64("AssessmentRound:1999-04"),
    ],
)
async def test_well_formed_id_of_a_missing_object_is_null(gql: GraphQL, global_id: str) -> None:
    assert data_of(await gql(ANY_NODE, {"id": global_id})) == {"node": None}


async def test_unpadded_and_padded_ids_reach_the_same_object(gql: GraphQL) -> None:
    obj = data_of(await gql('{ municipality(code: "304271") { id } }'))["municipality"]
    padded = obj["id"] + "=" * (-len(obj["id"]) % 4)
    node = data_of(await gql(ANY_NODE, {"id": padded}))["node"]
    assert node["__typename"] == "Municipality"
    assert node["id"] == obj["id"]
