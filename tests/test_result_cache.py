"""The result cache of compiled aggregate reads (service/result_cache.py), on a committed
database: the API's own pools and listener (not the suite's rolled-back transaction, whose
writes never commit and so never notify), writes through the API and directly in SQL as the
owner, as another process would.

Every answer is also checked against the resolvers' answer at the same moment
(`X-Dxlink-Executor: resolvers`, which never reaches the cache): a cached answer is only right
if it is what a fresh read gives.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.principal import Role
from auth.tokens import mint_token
from schema.node import encode_global_id
from service.app import create_app
from service.cli import prepare_database
from service.compiled_view import CACHE_HEADER, CompiledReads
from service.compiler.roots import ROOT_TABLES
from service.database import Database, create_engine
from service.live import APPLICATION_NAME
from service.result_cache import public_tables
from service.settings import Settings
from tests import factories as f
from tests.database import scratch_database

TIERS = "{ tierDistribution { snapshotOn total suppressed tier { level name } count } }"
KPI = "{ kpiProgress { snapshot municipalities inTarget share regions { region { name } share } } }"
STATISTICS = "{ publishedStatistics { survey subject category value } }"
OVERRIDE = (
    "mutation($input: OverrideTierInput!) { overrideTier(input: $input) { "
    "assignment { id version tier { level } } userErrors { field code message } } }"
)
WAIT = 10.0  # seconds for a notification to arrive


@dataclass
class Api:
    """One API process's app (this one), on the scratch database."""

    client: httpx.AsyncClient
    app: Any

    @property
    def reads(self) -> CompiledReads:
        return self.app.state.graphql.compiled  # type: ignore[no-any-return]

    async def post(self, query: str, token: str | None, **variables: Any) -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        body = {"query": query, "variables": variables}
        return await self.client.post("/graphql", json=body, headers=headers)

    async def read(
        self, query: str, token: str | None, *, checked: bool = True
    ) -> tuple[str | None, dict[str, Any]]:
        """The compiled answer (with its cache header), checked against the resolvers' unless
        told (while another process's change is on its way: the window of the NOTIFY's
        delivery, in which the old answer is still served)."""
        response = await self.post(query, token)
        assert response.status_code == 200, response.text
        assert response.headers.get("x-dxlink-executor") == "compiled", response.text
        if not checked:
            return response.headers.get(CACHE_HEADER), response.json()
        headers = {"X-Dxlink-Executor": "resolvers"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        fresh = await self.client.post("/graphql", json={"query": query}, headers=headers)
        assert response.content == fresh.content, "a cached answer that a fresh read denies"
        return response.headers.get(CACHE_HEADER), response.json()

    async def listening(self) -> None:
        """Until the listener listens (the first cacheable read starts it)."""
        await self.post(TIERS, None)
        await until(lambda: _true(self.reads.cache.connected), "the listener to connect")


@dataclass
class World:
    owner: AsyncEngine
    settings: Settings
    api: Api
    make_api: Callable[..., Any]

    def token(self, role: Role, **scope: Any) -> str:
        subject = f"{role.value}-cache-test"
        return mint_token(self.settings, role=role, subject=subject, scope=scope)

    async def owner_does(self, sql: str, **params: Any) -> Any:
        """A statement committed by the owner, as another process (the seed loader, a
        migration) would write."""
        async with self.owner.begin() as connection:
            await connection.execute(text("SELECT set_config('dxlink.maintenance', 'on', true)"))
            result = await connection.execute(text(sql), params)
            return result.first() if result.returns_rows else None

    async def latest_assignment(self) -> Any:
        return await self.owner_does(
            "SELECT id, level, version FROM tier_assignment "
            "WHERE snapshot_on = (SELECT max(snapshot_on) FROM tier_assignment) "
            "ORDER BY id LIMIT 1"
        )


async def _true(value: bool) -> bool:
    return value


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
async def world(pg_server: str, settings: Settings) -> AsyncIterator[World]:
    async with scratch_database(pg_server, "cache") as url:
        owner = create_engine(url, settings)
        opened: list[tuple[Database, Any]] = []

        async def make_api(**overrides: Any) -> Api:
            api_settings = settings.model_copy(update=overrides)
            database = Database.from_settings(url, api_settings)
            app = create_app(api_settings, database=database)
            opened.append((database, app))
            transport = httpx.ASGITransport(app=app)
            return Api(httpx.AsyncClient(transport=transport, base_url="http://t"), app)

        try:
            await prepare_database(url, settings, migrate_=True, seed=True)
            # A month's tiers, with small groups (withheld from the public): 2 支援, 22 協働,
            # 6 共創, as tests/auth/test_row_level_security.py counts them.
            async with owner.begin() as connection:
                await connection.execute(
                    text("SELECT set_config('dxlink.maintenance', 'on', true)")
                )
                ids = (
                    await connection.execute(text("SELECT id FROM municipality ORDER BY code"))
                ).scalars()
                levels = [2] * 2 + [3] * 22 + [4] * 6
                for municipality, level in zip(ids, levels, strict=False):
                    await f.create_tier_assignment(
                        connection, municipality_id=municipality, level=level
                    )
            yield World(owner, settings, await make_api(), make_api)
        finally:
            for database, app in opened:
                hub = app.state.graphql.hub
                if hub is not None:
                    await hub.close()
                await database.dispose()
            await owner.dispose()


async def test_the_second_identical_aggregate_read_is_served_from_the_cache(
    world: World,
) -> None:
    api = world.api
    await api.listening()
    admin = world.token(Role.prefecture_admin)
    for query in (TIERS, KPI):
        first_state, first = await api.read(query, admin)
        hits = api.reads.cache.stats["hits"]
        second_state, second = await api.read(query, admin)
        assert second_state == "hit"
        assert second == first
        assert api.reads.cache.stats["hits"] == hits + 1
        assert first_state in ("miss", "hit")  # a test before may have read it already


async def test_a_tier_overridden_through_the_api_changes_the_next_read_at_once(
    world: World,
) -> None:
    api = world.api
    await api.listening()
    admin = world.token(Role.prefecture_admin)
    await api.read(TIERS, admin)
    state, before = await api.read(TIERS, admin)
    assert state == "hit"
    row = await world.latest_assignment()
    new_level = 1 if row.level != 1 else 2
    response = await api.post(
        OVERRIDE,
        admin,
        input={
            "id": encode_global_id("TierAssignment", row.id),
            "tier": new_level,
            "reason": "キャッシュの試験 / cache test",
            "version": row.version,
        },
    )
    assert response.json()["data"]["overrideTier"]["userErrors"] == [], response.text
    # No waiting: the mutation flushed this process's cache before it answered.
    state, after = await api.read(TIERS, admin)
    assert state == "miss"
    counts = {c["tier"]["level"]: c["count"] for c in after["data"]["tierDistribution"]}
    old = {c["tier"]["level"]: c["count"] for c in before["data"]["tierDistribution"]}
    assert counts[new_level] == old[new_level] + 1
    assert counts[row.level] == old[row.level] - 1


async def test_a_row_written_by_another_process_invalidates_once_notified(world: World) -> None:
    api = world.api
    await api.listening()
    admin = world.token(Role.prefecture_admin)
    await api.read(TIERS, admin)
    state, before = await api.read(TIERS, admin)
    assert state == "hit"
    row = await world.latest_assignment()
    new_level = 4 if row.level != 4 else 3
    await world.owner_does(
        "UPDATE tier_assignment SET level = :level WHERE id = :id", level=new_level, id=row.id
    )

    async def changed() -> bool:
        _, body = await api.read(TIERS, admin, checked=False)
        return body != before

    await until(changed, "the change's notification")
    await api.read(TIERS, admin)
    state, _ = await api.read(TIERS, admin)
    assert state == "hit"  # cached again, with the new answer (checked against a fresh read)


async def test_a_rolled_back_write_invalidates_nothing(world: World) -> None:
    api = world.api
    await api.listening()
    admin = world.token(Role.prefecture_admin)
    await api.read(TIERS, admin)
    await api.read(STATISTICS, admin)
    assert (await api.read(STATISTICS, admin))[0] == "hit"
    state, before = await api.read(TIERS, admin)
    assert state == "hit"
    row = await world.latest_assignment()
    async with world.owner.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(text("SELECT set_config('dxlink.maintenance', 'on', true)"))
        await connection.execute(
            text("UPDATE tier_assignment SET level = 1 + level % 4 WHERE id = :id"), {"id": row.id}
        )
        await transaction.rollback()
    # Then a committed change of another table: notifications arrive in commit order, so once
    # the statistics' entry is gone, a notification of the rolled-back write would have come.
    # (A statement-level trigger fires for a statement that changes no row, too.)
    await world.owner_does("UPDATE published_statistic SET survey = survey WHERE false")

    async def statistics_dropped() -> bool:
        state, _ = await api.read(STATISTICS, admin)
        return state == "miss"

    await until(statistics_dropped, "the statistics' notification")
    state, after = await api.read(TIERS, admin)
    assert state == "hit"
    assert after == before


async def test_the_public_and_the_prefecture_have_entries_of_their_own(world: World) -> None:
    api = world.api
    await api.listening()
    admin = world.token(Role.prefecture_admin)
    for token in (None, admin):
        await api.read(TIERS, token)
    public_state, public = await api.read(TIERS, None)
    admin_state, exact = await api.read(TIERS, admin)
    assert (public_state, admin_state) == ("hit", "hit")
    # The seeded distribution has a small group: withheld from the public, not the prefecture.
    assert {c["suppressed"] for c in public["data"]["tierDistribution"]} == {True}
    assert {c["count"] for c in public["data"]["tierDistribution"]} == {None}
    assert {c["suppressed"] for c in exact["data"]["tierDistribution"]} == {False}


async def test_with_the_listener_down_the_cache_is_bypassed(world: World) -> None:
    api = world.api
    await api.listening()
    admin = world.token(Role.prefecture_admin)
    await api.read(TIERS, admin)
    state, before = await api.read(TIERS, admin)
    assert state == "hit"
    await world.owner_does(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = :name",
        name=APPLICATION_NAME,
    )
    await until(lambda: _true(not api.reads.cache.connected), "the listener to be lost")
    connections = api.reads.cache.stats["listener connected"]
    bypassed = api.reads.cache.stats["bypassed"]
    # A change the listener cannot hear of: answered right all the same, uncached.
    row = await world.latest_assignment()
    await world.owner_does(
        "UPDATE tier_assignment SET level = 1 + level % 4 WHERE id = :id", id=row.id
    )
    state, during = await api.read(TIERS, admin)
    if api.reads.cache.stats["listener connected"] == connections:  # back after a second
        assert state is None
        assert api.reads.cache.stats["bypassed"] > bypassed
    assert during != before
    # Back, and flushed on the way: the answer is the new one, cached again.
    await until(lambda: _true(api.reads.cache.connected), "the listener to reconnect")
    assert api.reads.cache.stats["listener connected"] == connections + 1
    await api.read(TIERS, admin)
    state, after = await api.read(TIERS, admin)
    assert (state, after) == ("hit", during)


async def test_size_zero_turns_the_cache_off(world: World) -> None:
    api = await world.make_api(result_cache_size=0)
    admin = world.token(Role.prefecture_admin)
    for _ in range(3):
        state, _ = await api.read(TIERS, admin)
        assert state is None
    assert len(api.reads.cache) == 0
    assert api.reads.cache.stats["hits"] == 0


async def test_the_triggers_cover_every_table_a_cached_answer_reads(world: World) -> None:
    """Every table a cacheable plan may depend on announces its changes (migration
    c6d7e8f9a0b1), and only at commit, once per statement."""
    rows = await world.owner_does(
        "SELECT array_agg(DISTINCT c.relname::text ORDER BY c.relname::text) "
        "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname = 'notify_table_changed'"
    )
    depended = public_tables().union(*ROOT_TABLES.values())
    assert set(rows[0]) == depended
