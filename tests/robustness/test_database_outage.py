"""A database outage is a 503 with `Retry-After`, bounded in time, and the API recovers by
itself (issue 8, point 4).

The test runs its own embedded PostgreSQL, so that it can stop it and freeze it (SIGSTOP on
the postmaster and every backend, as a hung host would look) without touching the suite's.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psutil
import pytest

from auth.principal import Role
from auth.tokens import mint_token
from service.app import create_app
from service.cli import prepare_database
from service.database import Database
from service.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pgserver
    from pgserver._commands import pg_ctl

COMPILED = '{ municipality(code: "302015") { name } }'  # answered by the compiled path
RESOLVED = "{ viewer { role } tiers { level } }"  # answered by the resolvers


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pgdata = tmp_path_factory.mktemp("outage") / "pgdata"
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    server.psql("CREATE DATABASE outage;")
    yield server
    _resume(server)
    server.cleanup()


def _processes(server: Any) -> list[psutil.Process]:
    postmaster = psutil.Process(server.get_postmaster_info().pid)
    return [postmaster, *postmaster.children(recursive=True)]


def _resume(server: Any) -> None:
    for process in _processes(server) if server.get_pid() else []:
        process.resume()


@pytest.fixture(scope="module")
def outage_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"db_connect_timeout": 1.0, "db_command_timeout": 1.5, "db_pool_timeout": 1.0}
    )


@pytest.fixture
async def api(server: Any, outage_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    url = server.get_uri("outage")
    await prepare_database(url, outage_settings, migrate_=True, seed=True)
    database = Database.from_settings(url, outage_settings)
    app = create_app(outage_settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as c:
        yield c
    await database.dispose()


async def _answers(api: httpx.AsyncClient, token: str) -> list[httpx.Response]:
    auth = {"Authorization": f"Bearer {token}"}
    return [
        await api.post("/graphql", json={"query": COMPILED}),
        await api.post("/graphql", json={"query": RESOLVED}),
        await api.post("/graphql", json={"query": RESOLVED}, headers=auth),  # scope lookup
        await api.get("/readyz"),
    ]


def _assert_unavailable(responses: list[httpx.Response]) -> None:
    for response in responses[:3]:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert error["extensions"]["retryAfter"] == 5
        assert "Traceback" not in error["message"]
    assert responses[3].status_code == 503


async def _assert_recovered(api: httpx.AsyncClient, token: str) -> None:
    for _ in range(50):  # a few tries: pools notice the server is back on their next use
        responses = await _answers(api, token)
        if all(r.status_code == 200 for r in responses):
            break
        await asyncio.sleep(0.2)
    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    assert responses[0].json()["data"]["municipality"]["name"] == "和歌山市"
    assert responses[2].json()["data"]["viewer"]["role"] == "municipal_staff"
    # (The viewer's municipality is in the token; the answer names it.)


async def test_a_stopped_database_is_503_and_the_api_recovers(
    api: httpx.AsyncClient, server: Any, outage_settings: Settings
) -> None:
    await _assert_recovered(api, _staff_token(outage_settings, "302015"))  # both pools warm
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
    try:
        # A municipality not looked up before: the token's scope needs the database.
        _assert_unavailable(await _answers(api, _staff_token(outage_settings, "302023")))
        # Again, now that the read pool backs off.
        _assert_unavailable(await _answers(api, _staff_token(outage_settings, "302031")))
    finally:
        server.ensure_postgres_running()
    await _assert_recovered(api, _staff_token(outage_settings, "302023"))


async def test_a_frozen_database_is_503_within_the_timeouts(
    api: httpx.AsyncClient, server: Any, outage_settings: Settings
) -> None:
    await _assert_recovered(api, _staff_token(outage_settings, "302015"))
    for process in _processes(server):
        process.suspend()
    try:
        token = _staff_token(outage_settings, "302040")
        responses = await asyncio.wait_for(_answers(api, token), timeout=60)
        _assert_unavailable(responses)
    finally:
        _resume(server)
    await _assert_recovered(api, _staff_token(outage_settings, "302040"))


def _staff_token(settings: Settings, code: str) -> str:
    return mint_token(
        settings, role=Role.municipal_staff, subject=f"staff-{code}", scope={"municipality": code}
    )
