"""The compiled read path answers what it covers, byte for byte as the resolvers would."""

from __future__ import annotations

import base64
import json
from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from auth.principal import Role
from auth.tokens import mint_token
from schema.node import encode_global_id
from service import compiled_view
from service.app import create_app
from service.database import Database, ReadPool
from service.settings import Settings
from tests import conftest
from tests import factories as f
from tests.conftest import GraphQL, data_of

COVERED = [
    '{ __typename municipality(code: "302015") @include(if: true) { code } '
    'b: municipality(code: "302023") @skip(if: true) { code } }',
    'query($full: Boolean!) { municipality(code: "302015") { code name @include(if: $full) '
    "region @skip(if: $full) { name } } }",
    '{ municipality(code: "302015") { name region { name } ...M } } '
    "fragment M on Municipality { name code region { shortName } }",
    '{ municipalities(region: "海草") { totalCount nodes { code } } }',
    "query($r: String) { municipalities(region: $r, first: 3) { totalCount nodes { code } } }",
    '{ municipality(code: "302015") { tier { score snapshotOn tier { name } } } }',
    "{ viewer { role subject municipality { code } expert { name } region { name } } }",
    "{ experts(first: 2) { totalCount nodes { name themes } } dispatchAssignments { theme } }",
    '{ auditLog(first: 2, entity: "expert") { totalCount edges { node { action } } } }',
    "{ tierDistribution { snapshotOn suppressed count tier { level name } } }",
    "{ kpiProgress { snapshot municipalities inTarget share regions { region { name } share } } }",
    '{ assessmentAnswerCounts(round: "2024-04", question: "3-4") { round suppressed '
    "question { key } counts { count option { label } } } }",
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
    values = {"c": "300004", "full": True, "r": "海草"}
    variables = {name: value for name, value in values.items() if f"${name}" in query}
    before = len(conftest.executors_compared)
    data_of(await gql(query, variables))
    assert len(conftest.executors_compared) == before + 1, "the compiled path declined"


async def test_a_variable_that_shapes_the_statement_gets_a_variant_of_its_own(
    gql: GraphQL,
) -> None:
    query = (
        'query($full: Boolean!, $r: String) { municipality(code: "302015") { code '
        "name @include(if: $full) } municipalities(region: $r, first: 2) { nodes { code } } }"
    )
    before = len(conftest.executors_compared)
    answers = [
        data_of(await gql(query, {"full": full, "r": region}))
        for full, region in ((True, None), (False, None), (True, "東牟婁"), (True, None))
    ]
    assert len(conftest.executors_compared) == before + 4
    assert answers[0]["municipality"] == {"code": "302015", "name": "和歌山市"}
    assert answers[1]["municipality"] == {"code": "302015"}
    assert [n["code"] for n in answers[2]["municipalities"]["nodes"]] == ["302074", "304212"]
    assert answers[3] == answers[0]


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
        '{ __type(name: "Municipality") { name } }',
    ],
)
async def test_the_rest_goes_to_the_resolvers(client: httpx.AsyncClient, query: str) -> None:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert "x-dxlink-executor" not in response.headers


async def test_one_statement_serves_every_value_of_the_variables(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    calls: list[str] = []
    original = compiled_view.compile_plan

    def counting(*args: object, **kwargs: object) -> object:
        calls.append("built")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(compiled_view, "compile_plan", counting)
    query = {
        "query": "query($n: Int!, $c: String!) { municipalities(first: $n) { totalCount "
        "nodes { code } } municipality(code: $c) { name } }"
    }
    answers = []
    for n, code in ((2, "302015"), (2, "302015"), (3, "302023"), (1, "304271")):
        response = await client.post("/graphql", json={**query, "variables": {"n": n, "c": code}})
        assert response.headers["x-dxlink-executor"] == "compiled"
        answers.append(data_of(response.json()))
    assert len(calls) == 1  # one statement for the document and role, whatever the values
    assert [len(a["municipalities"]["nodes"]) for a in answers] == [2, 2, 3, 1]
    names = [a["municipality"]["name"] for a in answers]
    assert names == ["和歌山市", "和歌山市", "海南市", "北山村"]
    # Another principal of the same role shares it too; another role has its own.
    for code in ("302015", "302023"):
        token = mint_token(
            settings, role=Role.municipal_staff, subject="s", scope={"municipality": code}
        )
        response = await client.post(
            "/graphql",
            json={**query, "variables": {"n": 1, "c": code}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.headers["x-dxlink-executor"] == "compiled"
    assert len(calls) == 2


async def _post(client: httpx.AsyncClient, body: object, **headers: str) -> httpx.Response:
    return await client.post(
        "/graphql",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
    )


@pytest.mark.parametrize(
    "body",
    [
        # A null variable for a non-null argument with a default: an error, not the default.
        {
            "query": 'query($n: Int) { municipality(code: "302015") { datasets(first: $n) '
            "{ identifier } } }",
            "variables": {"n": None},
        },
        {"query": "{ tiers { level } }", "variables": []},
        {"query": "{ tiers { level } }", "variables": {}, "extensions": 0},
    ],
)
async def test_requests_the_resolvers_refuse_are_not_compiled(
    client: httpx.AsyncClient, body: dict
) -> None:
    response = await _post(client, body)
    assert "x-dxlink-executor" not in response.headers
    assert response.status_code == 400 or response.json().get("errors"), response.text


async def test_only_json_posts_take_the_compiled_path(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ tiers { level } }"}',
        headers={"Content-Type": "text/plain"},
    )
    assert "x-dxlink-executor" not in response.headers
    assert response.status_code == 400


async def test_deeply_nested_variables_are_a_bad_request(client: httpx.AsyncClient) -> None:
    deep: dict = {}
    for _ in range(300):
        deep = {"x": deep}
    response = await _post(client, {"query": "{ tiers { level } }", "variables": {"deep": deep}})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST", "limit": "maxJsonDepth", "maximum": 32}
    shallow: dict = {}
    for _ in range(20):
        shallow = {"x": shallow}
    response = await _post(client, {"query": "{ tiers { level } }", "variables": {"v": shallow}})
    assert response.json()["data"]["tiers"][0] == {"level": 1}


async def test_a_deeply_nested_cursor_is_a_malformed_cursor(gql: GraphQL) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")
    body = await gql(
        "query($a: String) { municipalities(first: 1, after: $a) { totalCount } }", {"a": cursor}
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


@pytest.mark.parametrize(
    ("score", "written"), [(60, b'"score":60'), (61.5, b'"score":61.5'), (0.05, b'"score":0.05')]
)
async def test_floats_are_written_as_postgresql_writes_them_on_both_paths(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    settings: Settings,
    score: float,
    written: bytes,
) -> None:
    """A float the resolvers used to write as 60.0 and PostgreSQL as 60: both now write the
    database's text (schema/scalars.py), and the compiled path answers."""
    tier = await f.create_tier_assignment(
        connection, municipality_id=await f.municipality_id(connection, "302015"), score=score
    )
    token = mint_token(settings, role=Role.prefecture_admin, subject="a")
    query = "query($id: ID!) { node(id: $id) { ... on TierAssignment { score } } }"
    variables = {"id": encode_global_id("TierAssignment", tier)}
    for executor in ("compiled", "resolvers"):
        response = await _post(
            client,
            {"query": query, "variables": variables},
            Authorization=f"Bearer {token}",
            **({"X-Dxlink-Executor": "resolvers"} if executor == "resolvers" else {}),
        )
        assert response.headers.get("x-dxlink-executor", "resolvers") == executor
        assert written in response.content


async def test_dates_are_iso_8601_whatever_the_sessions_datestyle(
    connection: AsyncConnection, gql: GraphQL
) -> None:
    """Both paths write dates as date.isoformat() does, also where PostgreSQL's own date
    output would follow another DateStyle (the setting ends with the test's transaction)."""
    await connection.exec_driver_sql("SET datestyle = 'German, DMY'")
    municipality = await f.municipality_id(connection, "302015")
    await f.create_dataset(connection, publishers=[municipality], modified_on=date(987, 6, 5))
    before = len(conftest.executors_compared)
    body = await gql('{ municipality(code: "302015") { datasets(first: 1) { modifiedOn } } }')
    assert data_of(body)["municipality"]["datasets"] == [{"modifiedOn": "0987-06-05"}]
    assert len(conftest.executors_compared) == before + 1, "the compiled path declined"


async def test_reads_go_to_the_resolvers_while_the_read_pool_cannot_connect(
    engine: AsyncEngine, settings: Settings
) -> None:
    unreachable = ReadPool("postgresql://dxlink@127.0.0.1:1/nowhere", settings)
    app = create_app(settings, database=Database(engine, read_pool=unreachable))
    transport = httpx.ASGITransport(app=app)
    query = {"query": "{ municipalities(first: 2) { edges { node { code } } } }"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for _ in range(2):  # the second one without retrying the connection
            response = await client.post("/graphql", json=query)
            assert response.status_code == 200
            assert response.headers.get("x-dxlink-executor") != "compiled"
            codes = [e["node"]["code"] for e in data_of(response.json())["municipalities"]["edges"]]
            assert codes == ["302015", "302023"]
    await unreachable.close()


def test_plan_cache_is_bounded_by_the_size_of_what_it_keeps() -> None:
    cache = compiled_view._Lru(maxsize=100)
    for i in range(10):
        cache.put(i, f"sql {i}", weight=30)
    assert [cache.get(i, None) for i in range(10)] == [None] * 7 + ["sql 7", "sql 8", "sql 9"]
