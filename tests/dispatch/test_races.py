"""Concurrent writers against the real database: the rules hold whoever commits first.

The app runs as `dxlink serve` builds it (the runtime login, its own pool of connections) on a
scratch database, so the mutations below are truly concurrent transactions in PostgreSQL,
committed for real; each round builds fresh rows, and runs its writers at the same moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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
from service.database import Database, create_engine
from service.settings import Settings
from tests import factories as f
from tests.database import scratch_database
from tests.dispatch.conftest import ASSIGN
from tests.dispatch.test_sessions import PLAN

ROUNDS = 30
CODES = ("302015", "302023", "302031", "302040")


@dataclass
class Live:
    owner: AsyncEngine
    client: httpx.AsyncClient
    settings: Settings
    programme: int

    def coordinator(self, name: str) -> str:
        return mint_token(self.settings, role=Role.dispatch_coordinator, subject=name)

    async def mutate(
        self, query: str, input: dict[str, Any], token: str, **headers: str
    ) -> tuple[dict[str, Any], bytes]:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": {"input": input}},
            headers={"Authorization": f"Bearer {token}", **headers},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        (payload,) = body["data"].values()
        return payload, response.content

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.owner.connect() as connection:
            return await connection.scalar(text(sql), params)


@pytest.fixture(scope="module")
async def live(pg_server: str, settings: Settings) -> AsyncIterator[Live]:
    async with scratch_database(pg_server, "races") as url:
        owner = create_engine(url, settings)
        try:
            await prepare_database(url, settings, migrate_=True, seed=True)
            async with owner.begin() as connection:
                programme = await f.create_programme(connection)
            database = Database.from_settings(url, settings)
            app = create_app(settings, database=database)
            transport = httpx.ASGITransport(app=app)
            try:
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                    yield Live(owner, client, settings, programme)
            finally:
                await database.dispose()
        finally:
            await owner.dispose()


async def _expert(live: Live, capacity: int) -> int:
    async with live.owner.begin() as connection:
        return await f.create_expert(connection, themes=["生成AI"], monthly_capacity=capacity)


async def _requests(live: Live, n: int) -> list[int]:
    """Fresh open requests of ``n`` municipalities (the last round's requests are cleared: a
    municipality files one request per theme)."""
    async with live.owner.begin() as connection:
        for table in ("dispatch_visit", "dispatch_assignment", "dispatch_request"):
            await connection.execute(text(f"DELETE FROM {table}"))
        return [
            await f.create_request(
                connection,
                programme_id=live.programme,
                municipality_id=await f.municipality_id(connection, code),
            )
            for code in CODES[:n]
        ]


def _assign_input(request: int, expert: int) -> dict[str, Any]:
    return {
        "requestId": encode_global_id("DispatchRequest", request),
        "expertId": encode_global_id("Expert", expert),
        "startsOn": "2026-12-01",
    }


async def test_two_coordinators_take_an_experts_last_capacity_at_once(live: Live) -> None:
    for round_ in range(ROUNDS):
        # Capacity 4, each assignment aims at the programme's 4 sessions a month: room for one.
        expert = await _expert(live, capacity=4)
        first, second = await _requests(live, 2)
        outcomes = await asyncio.gather(
            live.mutate(ASSIGN, _assign_input(first, expert), live.coordinator("c1")),
            live.mutate(ASSIGN, _assign_input(second, expert), live.coordinator("c2")),
        )
        errors = sorted(tuple(e["code"] for e in payload["userErrors"]) for payload, _ in outcomes)
        assert errors == [(), ("CAPACITY_EXCEEDED",)], f"round {round_}: {errors}"
        stored = await live.scalar(
            "SELECT count(*) FROM dispatch_assignment WHERE expert_id = :e", e=expert
        )
        assert stored == 1, f"round {round_}"


async def test_two_sessions_of_one_expert_at_the_same_time(live: Live) -> None:
    """Planned at once for two municipalities: the expert gets one of them."""
    for round_ in range(ROUNDS):
        expert = await _expert(live, capacity=8)
        assignments = []
        for request in await _requests(live, 2):
            payload, _ = await live.mutate(
                ASSIGN, _assign_input(request, expert), live.coordinator("c1")
            )
            assert payload["userErrors"] == []
            assignments.append(payload["assignment"]["id"])
        day = f"2026-12-{round_ % 28 + 1:02d}"
        outcomes = await asyncio.gather(
            *(
                live.mutate(
                    PLAN,
                    {
                        "assignmentId": assignment,
                        "startsAt": f"{day}T10:00:00+09:00",
                        "endsAt": f"{day}T12:00:00+09:00",
                        "mode": "ON_SITE",
                        "place": "本庁舎",
                    },
                    live.coordinator(f"c{i}"),
                )
                for i, assignment in enumerate(assignments)
            )
        )
        errors = sorted(tuple(e["code"] for e in payload["userErrors"]) for payload, _ in outcomes)
        assert errors == [(), ("OVERLAPPING_SESSION",)], f"round {round_}: {errors}"


async def test_retries_racing_the_first_attempt_write_once(live: Live) -> None:
    """A client retrying while its first attempt still runs: one write, one answer."""
    for round_ in range(ROUNDS):
        expert = await _expert(live, capacity=8)
        (request,) = await _requests(live, 1)
        key = {"Idempotency-Key": f"race-{round_}-{expert}"}
        outcomes = await asyncio.gather(
            *(
                live.mutate(ASSIGN, _assign_input(request, expert), live.coordinator("c1"), **key)
                for _ in range(3)
            )
        )
        bodies = {body for _, body in outcomes}
        assert len(bodies) == 1, f"round {round_}: the answers differ"
        assert outcomes[0][0]["userErrors"] == []
        stored = await live.scalar(
            "SELECT count(*) FROM dispatch_assignment WHERE expert_id = :e", e=expert
        )
        assert stored == 1, f"round {round_}"
