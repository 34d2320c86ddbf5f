"""Concurrent publishers against the real database: the approval rule holds whoever commits
first (the dataset's advisory lock, service/open_data/repository.py).

As in tests/dispatch/test_races.py, the app runs as `dxlink serve` builds it on a scratch
database, so the mutations are concurrent transactions committed for real.
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
from tests.open_data.conftest import KAINAN, KITAYAMA, WAKAYAMA, mutation

ROUNDS = 20


@dataclass
class Live:
    owner: AsyncEngine
    client: httpx.AsyncClient
    settings: Settings

    def staff(self, code: str) -> str:
        return mint_token(
            self.settings, role=Role.municipal_staff, subject=code, scope={"municipality": code}
        )

    async def call(self, name: str, token: str, **values: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": mutation(name, "dataset { id }"), "variables": {"input": values}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return dict(body["data"][name])

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.owner.connect() as connection:
            return await connection.scalar(text(sql), params)


@pytest.fixture(scope="module")
async def live(pg_server: str, settings: Settings) -> AsyncIterator[Live]:
    async with scratch_database(pg_server, "catalog_races") as url:
        owner = create_engine(url, settings)
        try:
            await prepare_database(url, settings, migrate_=True, seed=True)
            database = Database.from_settings(url, settings)
            app = create_app(settings, database=database)
            transport = httpx.ASGITransport(app=app)
            try:
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                    yield Live(owner, client, settings)
            finally:
                await database.dispose()
        finally:
            await owner.dispose()


async def _waiting(live: Live, round_: int, approved: tuple[str, ...] = (WAKAYAMA,)) -> int:
    """A dataset of three municipalities at version 1, waiting for approval; ``approved``
    approved it."""
    async with live.owner.begin() as connection:
        ids = [await f.municipality_id(connection, c) for c in (WAKAYAMA, KAINAN, KITAYAMA)]
        dataset = await f.create_dataset(
            connection,
            identifier=f"race-{round_}",
            status="PENDING_APPROVAL",
            description="共同データセット",
            publishers=ids,
        )
        await f.create_distribution(connection, dataset_id=dataset)
        for code in approved:
            await connection.execute(
                text(
                    "UPDATE dataset_publisher SET approved_version = 1 "
                    "WHERE dataset_id = :d AND municipality_id = :m"
                ),
                {"d": dataset, "m": await f.municipality_id(connection, code)},
            )
    return dataset


async def test_the_last_two_publishers_approve_at_once(live: Live) -> None:
    """Each sees the other's approval, whichever commits first: the dataset is published."""
    for round_ in range(ROUNDS):
        dataset = await _waiting(live, round_)
        outcomes = await asyncio.gather(
            *(
                live.call(
                    "approveJointDataset",
                    live.staff(code),
                    id=encode_global_id("Dataset", dataset),
                    version=1,
                )
                for code in (KAINAN, KITAYAMA)
            )
        )
        assert [o["userErrors"] for o in outcomes] == [[], []], f"round {round_}"
        status = await live.scalar("SELECT status FROM dataset WHERE id = :d", d=dataset)
        assert status == "PUBLISHED", f"round {round_}"


async def test_an_edit_racing_the_last_approval(live: Live) -> None:
    """北山村 approves version 1 as 和歌山市 edits it: either the approval comes first (and the
    edit then asks again) or the edit does (and the approval is stale); never is version 2
    public with 海南市's and 北山村's approvals of version 1 only."""
    for round_ in range(ROUNDS):
        dataset = await _waiting(live, ROUNDS + round_, approved=(WAKAYAMA, KAINAN))
        gid = encode_global_id("Dataset", dataset)
        approval, edit = await asyncio.gather(
            live.call("approveJointDataset", live.staff(KITAYAMA), id=gid, version=1),
            live.call("updateDataset", live.staff(WAKAYAMA), id=gid, version=1, title="改訂"),
        )
        assert edit["userErrors"] == [], f"round {round_}"
        assert [e["code"] for e in approval["userErrors"]] in ([], ["STALE"]), f"round {round_}"
        state = await live.scalar(
            "SELECT status || ' ' || version FROM dataset WHERE id = :d", d=dataset
        )
        assert state == "PENDING_APPROVAL 2", f"round {round_}"
