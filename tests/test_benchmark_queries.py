"""The benchmark's queries on national-scale synthetic data: plans and statement counts.

A scratch database gets the migrations, the seeds and bench/generate.py's data (with fewer
datasets than the benchmark, to stay quick); then each benchmark query is planned as the API
role under row-level security, and run through the API at two page sizes. The catalog's reads
(bench/shapes.py's dataset page, bench/search.py's workloads) are run through the API on the
compiled path, the dataset page against the floor's bytes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import parse
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.principal import PUBLIC, Principal, Role
from auth.tokens import mint_token
from bench import floor
from bench.generate import generate
from bench.run import NESTED, ONE
from bench.search import WORKLOADS
from bench.shapes import (
    CALENDAR,
    CALENDAR_MONTH,
    DASHBOARD,
    DASHBOARD_CODE,
    DATASET,
    KPI,
    PRINCIPAL_SCOPES,
    SHAPES,
    TIER_SNAPSHOT,
    TIERS,
    WG_BOARD,
    WG_BOARD_FIRST,
    WG_STAFF_CODE,
    global_id,
)
from bench.shapes import PRINCIPALS as BENCH_PRINCIPALS
from service.app import create_app
from service.cli import prepare_database
from service.compiler import compile_plan
from service.database import (
    API_ROLE,
    PRINCIPAL_SETTINGS,
    SESSION_PRINCIPAL,
    Database,
    create_engine,
    principal_values,
)
from service.graphql import build_schema
from service.settings import Settings
from tests.database import scratch_database


@pytest.fixture(scope="module")
async def national_url(pg_server: str, settings: Settings) -> AsyncIterator[str]:
    async with scratch_database(pg_server, "national") as url:
        await prepare_database(url, settings, migrate_=True, seed=True)
        await generate(url.replace("+asyncpg", ""), datasets=20_000, seed=1)
        yield url


@pytest.fixture(scope="module")
async def national(national_url: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(national_url, settings)
    try:
        yield engine
    finally:
        await engine.dispose()


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes += _plan_nodes(child)
    return nodes


def _literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    assert isinstance(value, str), value
    return "'" + value.replace("'", "''") + "'"


PRINCIPALS = {
    "public": PUBLIC,
    "municipal_staff": Principal(
        Role.municipal_staff, "s", municipality_id=1, municipality_code="302015"
    ),
}


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("n", [5, 20, 100])
async def test_nested_query_keeps_its_index_plan_under_rls(
    national_url: str, settings: Settings, who: str, n: int
) -> None:
    """The plan production runs: the generic plan of the prepared statement, on a read pool
    connection (API role, the principal's settings)."""
    principal = PRINCIPALS[who]
    plan = compile_plan(
        build_schema(settings)._schema, parse(NESTED), None, {"n": n}, principal, settings
    )
    sql, args = plan.statement({"n": n}, principal)
    async with _pooled_app(national_url, settings) as (_, database):
        assert database.read_pool is not None
        pool = await database.read_pool.pool()
        async with pool.acquire() as connection:
            await connection.read_as(principal, "SELECT ''", ())
            assert await connection.fetchval("SHOW plan_cache_mode") == "force_generic_plan"
            await connection.execute(f"PREPARE benchmark AS {sql}")
            values = ", ".join(map(_literal, args))  # EXECUTE takes no bind parameters
            plan = json.loads(
                await connection.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE benchmark({values})")
            )
            await connection.execute("DEALLOCATE benchmark")
    nodes = _plan_nodes(plan[0]["Plan"])
    indexes = {node.get("Index Name") for node in nodes}
    assert "ix_dataset_publisher_newest" in indexes, json.dumps(plan)[:2000]
    assert "uq_municipality_code" in indexes
    scanned = {node.get("Relation Name") for node in nodes if node["Node Type"] == "Seq Scan"}
    assert not scanned & {"dataset", "dataset_publisher", "municipality"}, scanned


# The floor's statements (bench/floor.py), their arguments (None: the ids of the first 20
# municipalities) and the indexes each must read for the floor to be a fair one: the newest
# datasets from ix_dataset_publisher_newest, as dxlink reads them.
FLOOR_PLANS: dict[str, tuple[str, tuple[Any, ...] | None, set[str]]] = {
    "nested datasets": (floor.DATASETS, None, {"ix_dataset_publisher_newest"}),
    "one municipality": (
        floor.ONE,
        ("302015",),
        {"uq_municipality_code", "ix_dataset_publisher_newest", "ix_municipality_region_id"},
    ),
    "municipalities of a region": (
        floor.IN_REGION,
        ("合成01-1振興局", 20),
        {"ix_municipality_region_id"},
    ),
}


@pytest.mark.parametrize("statement", FLOOR_PLANS)
async def test_floor_statements_read_the_indexes_under_rls(
    national_url: str, statement: str
) -> None:
    """Planned as the floor runs them: the API role with the public's session settings."""
    sql, args, expected = FLOOR_PLANS[statement]
    connection = await asyncpg.connect(national_url.replace("+asyncpg", ""))
    try:
        await connection.execute(f"SET ROLE {API_ROLE}")
        await connection.fetchval(SESSION_PRINCIPAL, *principal_values(PUBLIC, ""))
        if args is None:
            rows = await connection.fetch("SELECT id FROM municipality ORDER BY code LIMIT 20")
            args = ([row["id"] for row in rows],)
        plan = json.loads(await connection.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args))
    finally:
        await connection.close()
    nodes = _plan_nodes(plan[0]["Plan"])
    indexes = {node.get("Index Name") for node in nodes}
    assert expected <= indexes, json.dumps(plan)[:2000]
    scanned = {node.get("Relation Name") for node in nodes if node["Node Type"] == "Seq Scan"}
    assert not scanned & {"dataset", "dataset_publisher", "municipality"}, scanned


@pytest.mark.parametrize(
    ("query", "variables"), [(NESTED, {"n": 5}), (NESTED, {"n": 100}), (ONE, {})]
)
async def test_benchmark_queries_cost_two_statements(
    national: AsyncEngine, settings: Settings, query: str, variables: dict[str, Any]
) -> None:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    app = create_app(settings, database=Database(national))
    transport = httpx.ASGITransport(app=app)
    event.listen(national.sync_engine, "before_cursor_execute", record)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post("/graphql", json={"query": query, "variables": variables})
    finally:
        event.remove(national.sync_engine, "before_cursor_execute", record)
    assert response.headers["x-dxlink-executor"] == "compiled"
    assert "errors" not in response.json()
    assert len(statements) == 2, statements  # the principal's set_config, then the operation


# The dispatch calendar (bench/shapes.py `calendar`): a coordinator's month of assignments with
# their sessions, 24 each in the generated data.
COORDINATOR = Principal(Role.dispatch_coordinator, "bench-coordinator")
CALENDAR_VARIABLES = {"month": CALENDAR_MONTH}


async def test_calendar_reads_sessions_by_their_index_under_rls(
    national_url: str, settings: Settings
) -> None:
    """dxlink's generic plan (on a read pool connection) and the floor's sessions statement
    both read each assignment's sessions from ix_dispatch_visit_assignment_id, never all
    12,000 of them."""
    plan = compile_plan(
        build_schema(settings)._schema, parse(CALENDAR), None, CALENDAR_VARIABLES, COORDINATOR,
        settings,
    )  # fmt: skip
    sql, args = plan.statement(CALENDAR_VARIABLES, COORDINATOR)
    plans = []
    async with _pooled_app(national_url, settings) as (_, database):
        assert database.read_pool is not None
        pool = await database.read_pool.pool()
        async with pool.acquire() as connection:
            await connection.read_as(COORDINATOR, "SELECT ''", ())
            await connection.execute(f"PREPARE calendar AS {sql}")
            values = ", ".join(map(_literal, args))
            plans.append(await connection.fetchval(
                f"EXPLAIN (FORMAT JSON) EXECUTE calendar({values})"))  # fmt: skip
            await connection.execute("DEALLOCATE calendar")
            ids = [r[0] for r in await connection.fetch(
                "SELECT id FROM dispatch_assignment ORDER BY starts_on, id LIMIT 50")]  # fmt: skip
            assert len(ids) == 50  # a coordinator reads them all
            plans.append(await connection.fetchval(
                f"EXPLAIN (FORMAT JSON) {floor.CALENDAR_SESSIONS}", ids))  # fmt: skip
    for found in plans:
        nodes = _plan_nodes(json.loads(found)[0]["Plan"])
        indexes = {node.get("Index Name") for node in nodes}
        assert "ix_dispatch_visit_assignment_id" in indexes, found[:2000]
        scanned = {node.get("Relation Name") for node in nodes if node["Node Type"] == "Seq Scan"}
        assert "dispatch_visit" not in scanned, scanned


async def test_calendar_costs_one_statement_on_the_read_pool(
    national_url: str, settings: Settings
) -> None:
    """A coordinator's calendar is compiled, answered with one statement once the connection
    holds the principal, the same bytes every time, and the public sees none of it."""
    token = mint_token(settings, role=Role.dispatch_coordinator, subject="bench-coordinator")
    statements: list[str] = []
    async with _pooled_app(national_url, settings) as (app, database):
        assert database.read_pool is not None
        first = await _post(app, CALENDAR, CALENDAR_VARIABLES, token)
        pool = await database.read_pool.pool()
        async with pool.acquire() as connection:
            connection.add_query_logger(lambda record: statements.append(record.query))
        again = await _post(app, CALENDAR, CALENDAR_VARIABLES, token)
        public = await _post(app, CALENDAR, CALENDAR_VARIABLES, None)
    assert again == first
    assert len(statements) == 3, statements  # the calendar; then the public's settings, its own
    edges = json.loads(first)["data"]["assignments"]["edges"]
    assert len(edges) == 50
    assert all(len(edge["node"]["sessions"]) == 24 for edge in edges)
    assert all(edge["node"]["expert"] is not None for edge in edges)
    assert json.loads(public)["data"]["assignments"]["edges"] == []


# The production read path: `Database.from_settings` gives the compiled path its own pool
# (service.database.ReadPool), whose sessions keep the API role and the last principal.

OWN_DATASETS = (
    "query($code: String!) { municipality(code: $code) { code "
    "datasets(first: 100) { identifier status } } }"
)


async def _code_with_drafts(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        return str(
            (
                await connection.execute(
                    text(
                        "SELECT m.code FROM municipality m "
                        "JOIN dataset_publisher p ON p.municipality_id = m.id "
                        "JOIN dataset d ON d.id = p.dataset_id "
                        "GROUP BY m.code HAVING count(*) FILTER (WHERE d.status = 'DRAFT') > 0 "
                        "AND count(*) FILTER (WHERE d.status = 'PUBLISHED') > 0 "
                        "ORDER BY m.code LIMIT 1"
                    )
                )
            ).scalar_one()
        )


@asynccontextmanager
async def _pooled_app(url: str, settings: Settings) -> AsyncIterator[tuple[Any, Database]]:
    """The app as `dxlink serve` builds it, with a read pool of one connection (so every
    request below shares one database session)."""
    pooled = settings.model_copy(update={"db_read_pool_size": 1})
    database = Database.from_settings(url, pooled)
    try:
        yield create_app(pooled, database=database), database
    finally:
        await database.dispose()


async def _post(app: Any, query: str, variables: dict[str, Any], token: str | None) -> bytes:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    assert response.headers["x-dxlink-executor"] == "compiled", response.text
    assert "errors" not in response.json()
    return response.content


def _staff_token(settings: Settings, code: str = "302015") -> str:
    return mint_token(
        settings, role=Role.municipal_staff, subject="s", scope={"municipality": code}
    )


@pytest.mark.parametrize(
    ("query", "variables"), [(NESTED, {"n": 5}), (NESTED, {"n": 100}), (ONE, {})]
)
async def test_read_pool_answers_each_request_with_one_statement(
    national_url: str, settings: Settings, query: str, variables: dict[str, Any]
) -> None:
    statements: list[str] = []
    async with _pooled_app(national_url, settings) as (app, database):
        assert database.read_pool is not None
        first = await _post(app, query, variables, None)
        pool = await database.read_pool.pool()
        async with pool.acquire() as connection:
            connection.add_query_logger(lambda record: statements.append(record.query))
        again = await _post(app, query, variables, None)
        assert again == first
        assert len(statements) == 1, statements  # the operation alone: the principal is set
        await _post(app, query, variables, _staff_token(settings))
        assert len(statements) == 3, statements  # another principal: its settings, then it


async def test_read_pool_switches_principals_on_one_session(
    national_url: str, national: AsyncEngine, settings: Settings
) -> None:
    """Staff see their municipality's drafts, the public never does, whoever used the
    connection last; and both answers equal the ones from a transaction of their own."""
    code = await _code_with_drafts(national)
    variables = {"code": code}
    staff_token = _staff_token(settings, code)
    async with _pooled_app(national_url, settings) as (app, _):
        answers = [
            await _post(app, OWN_DATASETS, variables, token)
            for token in (None, staff_token, None, staff_token, None)
        ]
    reference_app = create_app(settings, database=Database(national))
    public = await _post(reference_app, OWN_DATASETS, variables, None)
    staff = await _post(reference_app, OWN_DATASETS, variables, staff_token)
    assert answers == [public, staff, public, staff, public]
    statuses = {d["status"] for d in json.loads(staff)["data"]["municipality"]["datasets"]}
    assert statuses == {"PUBLISHED", "DRAFT"}, statuses
    assert {d["status"] for d in json.loads(public)["data"]["municipality"]["datasets"]} == {
        "PUBLISHED"
    }


async def test_read_pool_sessions_are_read_only_and_under_row_level_security(
    national_url: str, settings: Settings
) -> None:
    async with _pooled_app(national_url, settings) as (app, database):
        await _post(app, NESTED, {"n": 5}, None)
        assert database.read_pool is not None
        pool = await database.read_pool.pool()
        async with pool.acquire() as connection:
            assert await connection.fetchval("SELECT current_user") == API_ROLE
            assert not await connection.fetchval(
                "SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await connection.execute("UPDATE dataset SET title = 'x' WHERE id = 1")


# The catalog (issue 11): bench/shapes.py's dataset page and bench/search.py's workloads.


async def _owner_value(url: str, sql: str) -> Any:
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


def _bench_principal(name: str, staff_id: int) -> Principal:
    """A principal of bench/shapes.py PRINCIPALS, as bench/run.py builds it (the municipal
    staff's scope resolved to ``staff_id``, the id of bench/shapes.py WG_STAFF_CODE)."""
    if name == "public":
        return PUBLIC
    if name in PRINCIPAL_SCOPES:
        assert PRINCIPAL_SCOPES[name] == {"municipality": WG_STAFF_CODE}
        return Principal(
            Role(name), subject=BENCH_PRINCIPALS[name], municipality_id=staff_id,
            municipality_code=WG_STAFF_CODE,
        )  # fmt: skip
    return Principal(Role(name), subject=BENCH_PRINCIPALS[name])


@asynccontextmanager
async def _floor_client(url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """bench/floor.py in process, as bench/run.py starts it: the API role, a pool per principal
    of bench/shapes.py PRINCIPALS with that principal's settings."""
    staff_id = await _owner_value(
        url, f"SELECT id FROM municipality WHERE code = '{WG_STAFF_CODE}'"
    )
    settings = {
        name: dict(
            zip(
                PRINCIPAL_SETTINGS,
                principal_values(_bench_principal(name, staff_id), ""),
                strict=True,
            )
        )
        for name in BENCH_PRINCIPALS
    }
    monkeypatch.setenv("DATABASE_URL", url.replace("+asyncpg", ""))
    monkeypatch.setenv("BENCH_PRINCIPALS", json.dumps(settings))
    async with floor.lifespan(floor.app):
        transport = httpx.ASGITransport(app=floor.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
            yield client


# Datasets the page is read for, besides the one the benchmark picks: a joint one (two
# municipal publishers, in code order), a draft (no dataset for the public).
PAGE_DATASETS = {
    "joint": (
        "SELECT d.id FROM dataset d WHERE d.status = 'PUBLISHED' AND (SELECT count(*) "
        "FROM dataset_publisher p WHERE p.dataset_id = d.id AND p.municipality_id IS NOT NULL) "
        "= 2 ORDER BY d.id LIMIT 1"
    ),
    "draft": "SELECT id FROM dataset WHERE status = 'DRAFT' ORDER BY id LIMIT 1",
}


async def test_the_floor_answers_the_dataset_page_with_dxlinks_bytes(
    national_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench/run.py times the floor only when it gives dxlink's bytes; this keeps that true
    for the dataset it picks and for the pages around it: two publishers, a draft the public
    may not read, another type's id."""
    async with _floor_client(national_url, monkeypatch) as floor_client:
        picked = (await floor_client.get("/dataset/pick")).json()["id"]
        ids = {"picked": global_id("Dataset", picked)}
        for name, sql in PAGE_DATASETS.items():
            ids[name] = global_id("Dataset", await _owner_value(national_url, sql))
        ids["a municipality"] = global_id("Municipality", 1)
        floor_answers = {
            name: (await floor_client.get("/dataset", params={"id": value})).content
            for name, value in ids.items()
        }
    async with _pooled_app(national_url, settings) as (app, _):
        for name, value in ids.items():
            ours = await _post(app, DATASET, {"id": value}, None)
            assert ours == floor_answers[name], name
    page = json.loads(floor_answers["picked"])["data"]["dataset"]
    assert len(page["distributions"]) == 2
    assert page["standardDataset"] is not None
    joint = json.loads(floor_answers["joint"])["data"]["dataset"]
    codes = [p["code"] for p in joint["publishers"]]
    assert len(codes) == 2
    assert codes == sorted(codes)
    assert json.loads(floor_answers["draft"])["data"]["dataset"] is None
    assert json.loads(floor_answers["a municipality"])["data"]["dataset"] is None


SEARCH_BODIES = [
    pytest.param(body, id=f"{workload.key}-{'-'.join(map(str, body['variables'].values()))}")
    for workload in WORKLOADS
    for body in workload.bodies()
]


@pytest.mark.parametrize("body", SEARCH_BODIES)
async def test_catalog_search_workloads_are_compiled_and_find_datasets(
    national_url: str, settings: Settings, body: dict[str, Any]
) -> None:
    """Every body bench/search.py times is answered by the compiled path without errors,
    finds datasets (a page of 20 with its facets) and keeps to its filters."""
    async with _pooled_app(national_url, settings) as (app, _):
        answer = json.loads(await _post(app, body["query"], body["variables"], None))
    page = answer["data"]["datasets"]
    nodes = [edge["node"] for edge in page["edges"]]
    assert page["totalCount"] > 0
    assert len(nodes) == min(20, page["totalCount"])
    assert sum(f["count"] for f in page["facets"]["licenses"]) == page["totalCount"]
    variables = body["variables"]
    if "publisher" in variables:
        assert all(
            variables["publisher"] in [p["code"] for p in node["publishers"]] for node in nodes
        )
    if "standardDataset" in variables:
        assert {node["standardDataset"]["key"] for node in nodes} == {variables["standardDataset"]}
    if "license" in variables:
        assert [f["value"] for f in page["facets"]["licenses"]] == [variables["license"]]
    if "theme" in variables:
        themes = {f["value"]: f["count"] for f in page["facets"]["themes"]}
        assert themes[variables["theme"]] == page["totalCount"]


# Issue 12: bench/shapes.py's tier distribution and municipality dashboard, each as its shape's
# principal and as the others of the table, dxlink against the floor's bytes.


def _token_of(settings: Settings, name: str) -> str | None:
    if name == "public":
        return None
    return mint_token(
        settings, role=Role(name), subject=BENCH_PRINCIPALS[name],
        scope=PRINCIPAL_SCOPES.get(name),
    )  # fmt: skip


def test_every_shape_reads_as_a_principal_of_the_table() -> None:
    """bench/run.py mints a token and the floor keeps a pool for each principal of the table
    only: a shape naming another would fail at its first request."""
    assert {shape.principal for shape in SHAPES} <= set(BENCH_PRINCIPALS)
    assert {"tiers", "kpi", "dashboard", "wg-board", "wg-board-staff"} <= {
        shape.key for shape in SHAPES
    }


# The tier shapes' principals (the municipal staff of the table reads the WG board only).
TIER_PRINCIPALS = ["public", "dispatch_coordinator", "prefecture_admin"]


@pytest.mark.parametrize("who", TIER_PRINCIPALS)
async def test_the_floor_answers_the_tier_shapes_with_dxlinks_bytes(
    national_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    """The tier distribution, the KPI and the dashboard, compiled, give the floor's bytes for
    each principal: the public sees every count (no tier of 1,741 municipalities is small),
    the regions' KPI withheld (some region is small) and no tier of a municipality; the
    prefecture's staff see the regions' shares in the regions' order and the municipality's
    history, newest first, the 2024-11 tier overridden with a reason (bench/generate.py)."""
    month = {"snapshot": TIER_SNAPSHOT}
    dashboard = {"code": DASHBOARD_CODE}
    async with _floor_client(national_url, monkeypatch) as floor_client:
        floor_tiers = (await floor_client.get("/tiers", params={**month, "as": who})).content
        floor_kpi = (await floor_client.get("/kpi", params={**month, "as": who})).content
        floor_dashboard = (
            await floor_client.get("/dashboard", params={**dashboard, "as": who})
        ).content
    token = _token_of(settings, who)
    async with _pooled_app(national_url, settings) as (app, _):
        ours_tiers = await _post(app, TIERS, month, token)
        ours_kpi = await _post(app, KPI, month, token)
        ours_dashboard = await _post(app, DASHBOARD, dashboard, token)
    assert ours_tiers == floor_tiers
    assert ours_kpi == floor_kpi
    assert ours_dashboard == floor_dashboard
    regions = json.loads(ours_kpi)["data"]["kpiProgress"]["regions"]
    names = await _owner_value(
        national_url,
        "SELECT array_agg(name ORDER BY prefecture_id, position, id) FROM region",
    )
    assert [r["region"]["name"] for r in regions] == names
    shares = [r["share"] for r in regions]
    if who == "public":
        assert shares == [None] * len(regions)
    else:
        assert all(0 <= share <= 1 for share in shares if share is not None)
    counts = json.loads(ours_tiers)["data"]["tierDistribution"]
    assert [c["tier"]["level"] for c in counts] == [1, 2, 3, 4]
    total = await _owner_value(
        national_url, "SELECT count(*) FROM tier_assignment WHERE snapshot_on = '2024-11-30'"
    )
    assert sum(c["count"] for c in counts) == total
    municipality = json.loads(ours_dashboard)["data"]["municipality"]
    score = municipality["latestScore"]
    if who == "prefecture_admin":
        # bench/generate.py `_assessments`: a submitted 2024-04 response per municipality.
        expected = await _owner_value(
            national_url,
            "SELECT s.total::float8 FROM assessment_score s "
            "JOIN municipality m ON m.id = s.municipality_id WHERE m.code = '132012'",
        )
        assert score["total"] == expected
        assert len(score["sections"]) >= 2
    if score is not None:
        assert score["total"] == pytest.approx(sum(s["score"] for s in score["sections"]))
    if who == "public":
        assert score is None
        assert municipality["tier"] is None
        assert municipality["tierHistory"] == []
        return
    history = municipality["tierHistory"]
    assert [t["snapshot"] for t in history] == ["2024-11", "2023-11"]
    assert municipality["tier"] == {"snapshot": "2024-11", "tier": history[0]["tier"]}
    assert history[0]["overridden"]
    assert history[0]["reason"]
    assert history[0]["computedTier"]["level"] != history[0]["tier"]["level"]
    assert not history[1]["overridden"]


# Issue 13: bench/shapes.py's WG board, as every principal of the table, dxlink against the
# floor's bytes.


@pytest.mark.parametrize("who", list(BENCH_PRINCIPALS))
async def test_the_floor_answers_the_wg_board_with_dxlinks_bytes(
    national_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    """The WG board, compiled, gives the floor's bytes for each principal: a full page of
    active groups by slug (bench/generate.py `_working_groups`: 45 active of 60), each with
    its active members, and the participation coverage over all municipalities and regions in
    the regions' order."""
    variables = {"first": WG_BOARD_FIRST}
    async with _floor_client(national_url, monkeypatch) as floor_client:
        theirs = (await floor_client.get("/wg-board", params={**variables, "as": who})).content
    async with _pooled_app(national_url, settings) as (app, _):
        ours = await _post(app, WG_BOARD, variables, _token_of(settings, who))
    assert ours == theirs
    data = json.loads(ours)["data"]
    groups = [edge["node"] for edge in data["workingGroups"]["edges"]]
    assert len(groups) == WG_BOARD_FIRST
    assert [g["slug"] for g in groups] == sorted(g["slug"] for g in groups)
    assert {g["status"] for g in groups} == {"ACTIVE"}
    assert all(g["memberCount"] == len(g["members"]) >= 1 for g in groups)
    assert all(g["goals"] for g in groups)
    roles = [m["contactRole"] for g in groups for m in g["members"]]
    if who == "public":  # a column the public may not read (auth/policy.py)
        assert roles == [None] * len(roles)
    else:
        assert any(roles)
    coverage = data["participationCoverage"]
    total = await _owner_value(national_url, "SELECT count(*) FROM municipality")
    assert coverage["municipalities"] == total
    assert 0 < coverage["participating"] <= 30  # Wakayama's municipalities only
    names = await _owner_value(
        national_url,
        "SELECT array_agg(name ORDER BY prefecture_id, position, id) FROM region r "
        "WHERE EXISTS (SELECT 1 FROM municipality m WHERE m.region_id = r.id)",
    )
    assert [r["region"]["name"] for r in coverage["regions"]] == names
