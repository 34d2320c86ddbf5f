"""Health and readiness endpoints, and the request id every response carries."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from service import migrate
from service.app import create_app
from service.database import Database, create_engine
from service.settings import Settings
from tests.database import scratch_database


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "migration": migrate.head_revision(),
    }


async def _get(engine: AsyncEngine, settings: Settings, path: str) -> httpx.Response:
    app = create_app(settings, database=Database(engine))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_readyz_is_503_before_migrations(pg_server: str, settings: Settings) -> None:
    async with scratch_database(pg_server, "unmigrated") as url:
        engine = create_engine(url, settings)
        try:
            response = await _get(engine, settings, "/readyz")
        finally:
            await engine.dispose()
    assert response.status_code == 503
    assert response.json()["migration"] is None
    assert response.json()["head"] == migrate.head_revision()


async def test_readyz_is_503_when_database_unreachable(settings: Settings) -> None:
    engine = create_engine("postgresql://nobody@127.0.0.1:1/none", settings)
    try:
        response = await _get(engine, settings, "/readyz")
    finally:
        await engine.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces"
    assert len(made.headers["x-request-id"]) == 32


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient, ide_assets: None) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
