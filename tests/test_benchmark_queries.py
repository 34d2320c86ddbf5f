"""The benchmark's queries on national-scale synthetic data: plans and statement counts.

A scratch database gets the migrations, the seeds and bench/generate.py's data (with fewer
datasets than the benchmark, to stay quick); then each benchmark query is planned as the API
role under row-level security, and run through the API at two page sizes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import parse
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.principal import PUBLIC, Principal, Role
from bench.generate import generate
from bench.run import NESTED, ONE
from seeds.loader import load_seeds
from service import migrate
from service.app import create_app
from service.compiler import compile_operation
from service.database import API_ROLE, Database, create_engine
from service.graphql import build_schema
from service.settings import Settings
from tests.database import scratch_database


@pytest.fixture(scope="module")
async def national(pg_server: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    async with scratch_database(pg_server, "national") as url:
        engine = create_engine(url, settings)
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            await load_seeds(connection)
        await generate(url.replace("+asyncpg", ""), datasets=20_000, seed=1)
        try:
            yield engine
        finally:
            await engine.dispose()


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes += _plan_nodes(child)
    return nodes


PRINCIPALS = {
    "public": PUBLIC,
    "municipal_staff": Principal(
        Role.municipal_staff, "s", municipality_id=1, municipality_code="302015"
    ),
}


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("n", [5, 20, 100])
async def test_nested_query_keeps_its_index_plan_under_rls(
    national: AsyncEngine, settings: Settings, who: str, n: int
) -> None:
    principal = PRINCIPALS[who]
    statement = compile_operation(
        build_schema(settings)._schema, parse(NESTED), None, {"n": n}, principal, settings
    )
    sql = str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    async with national.connect() as connection:
        await connection.execute(
            text(
                "SELECT set_config('role', :r, true), set_config('dxlink.role', :role, true), "
                "set_config('dxlink.municipality_id', :m, true)"
            ),
            {
                "r": API_ROLE,
                "role": principal.role.value,
                "m": str(principal.municipality_id or ""),
            },
        )
        plan = (await connection.execute(text("EXPLAIN (FORMAT JSON) " + sql))).scalar_one()
        await connection.rollback()
    nodes = _plan_nodes(plan[0]["Plan"])
    indexes = {node.get("Index Name") for node in nodes}
    assert "ix_dataset_publisher_newest" in indexes, json.dumps(plan)[:2000]
    assert "uq_municipality_code" in indexes
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
