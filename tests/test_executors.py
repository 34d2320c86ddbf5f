"""The compiled read path answers what it covers, byte for byte as the resolvers would."""

from __future__ import annotations

import httpx
import pytest

from service import compiled_view
from tests import conftest
from tests.conftest import GraphQL, data_of

COVERED = [
    '{ municipality(code: "302015") { id code name kana kind kindLabel population '
    "region { name shortName municipalities { code } } prefecture { code name } } }",
    "{ municipalities(first: 5) { totalCount edges { cursor node { id code __typename } } "
    "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { name } } }",
    '{ municipalities(first: 3, kind: TOWN, search: "ちょう", '
    "orderBy: {field: POPULATION, direction: DESC}) { totalCount edges { cursor node { code "
    "population } } } }",
    "{ a: regions { name } b: regions { ...R } } fragment R on Region { shortName "
    "municipalities { ... on Municipality { code } } }",
    "{ tiers { __typename id level name label description kpiTarget } }",
    "{ prefectures { code regions { name } } standardDatasets { key name legacyNumber } }",
    "query($c: String!) { prefecture(code: $c) { name municipalities { code } } }",
]


@pytest.mark.parametrize("query", COVERED)
async def test_covered_queries_are_compiled(
    client: httpx.AsyncClient, gql: GraphQL, query: str
) -> None:
    before = len(conftest.executors_compared)
    data_of(await gql(query, {"c": "300004"} if "$c" in query else None))
    assert len(conftest.executors_compared) == before + 1, "the compiled path declined"


async def test_cursor_pages_agree(gql: GraphQL) -> None:
    query = (
        "query($after: String) { municipalities(first: 7, after: $after) { edges { node { code } } "
        "pageInfo { hasNextPage hasPreviousPage endCursor } } }"
    )
    after = None
    codes: list[str] = []
    while True:
        page = data_of(await gql(query, {"after": after}))["municipalities"]
        codes += [e["node"]["code"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(codes) == 30


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { queryType { name } } }",  # introspection
        '{ municipalities(region: "海草") { totalCount } }',  # needs the region lookup first
        '{ municipality(code: "302015") { tier { score } } }',  # a field without SQL mapping
        '{ municipality(code: "302015") @include(if: true) { code } }',  # directives
    ],
)
async def test_the_rest_goes_to_the_resolvers(client: httpx.AsyncClient, query: str) -> None:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert "x-dxlink-executor" not in response.headers


async def test_a_built_statement_is_reused_for_the_same_request(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = compiled_view.compile_operation

    def counting(*args: object, **kwargs: object) -> object:
        calls.append("built")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(compiled_view, "compile_operation", counting)
    query = {"query": "query($n: Int!) { municipalities(first: $n) { totalCount } }"}
    for n in (2, 2, 3, 2):
        response = await client.post("/graphql", json={**query, "variables": {"n": n}})
        assert response.headers["x-dxlink-executor"] == "compiled"
    assert len(calls) == 2  # n=2 once, n=3 once
