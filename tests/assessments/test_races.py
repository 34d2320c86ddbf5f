"""Concurrent writes of one municipality's response against the real database: the response
is created once and its version decides (the municipality's advisory lock,
service/assessments/repository.py).

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
from service.app import create_app
from service.cli import prepare_database
from service.database import Database, create_engine
from service.settings import Settings
from tests import factories as f
from tests.database import scratch_database

ROUNDS = 20
WAKAYAMA = "302015"


@dataclass
class Live:
    owner: AsyncEngine
    client: httpx.AsyncClient
    settings: Settings

    @property
    def staff(self) -> str:
        return mint_token(
            self.settings,
            role=Role.municipal_staff,
            subject="staff",
            scope={"municipality": WAKAYAMA},
        )

    async def call(self, name: str, **values: Any) -> list[str]:
        """Run mutation ``name``; the codes of its user errors."""
        input_type = name[0].upper() + name[1:] + "Input"
        document = (
            f"mutation($input: {input_type}!) {{ {name}(input: $input) "
            "{ response { version } userErrors { code } } }"
        )
        response = await self.client.post(
            "/graphql",
            json={"query": document, "variables": {"input": values}},
            headers={"Authorization": f"Bearer {self.staff}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return [e["code"] for e in body["data"][name]["userErrors"]]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.owner.connect() as connection:
            return await connection.scalar(text(sql), params)

    async def open_round(self, key: str) -> None:
        async with self.owner.begin() as connection:
            await f.create_open_round(connection, key)


@pytest.fixture(scope="module")
async def live(pg_server: str, settings: Settings) -> AsyncIterator[Live]:
    async with scratch_database(pg_server, "response_races") as url:
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


def complete() -> list[dict[str, Any]]:
    return [{"question": key, "options": labels} for key, labels in f.COMPLETE.items()]


async def test_two_first_saves_at_once_create_one_response(live: Live) -> None:
    """The second sees the first's response and, naming no version, is told it is stale."""
    for round_ in range(ROUNDS):
        key = f"race-{round_}"
        await live.open_round(key)
        outcomes = await asyncio.gather(
            live.call("saveAssessmentAnswers", round=key, answers=complete()),
            live.call(
                "saveAssessmentAnswers", round=key, answers=[{"question": "7-3", "number": 1}]
            ),
        )
        assert sorted(outcomes) == [[], ["STALE"]], f"round {round_}"
        responses = await live.scalar(
            "SELECT count(*) FROM assessment_response r JOIN assessment_round d "
            "ON d.id = r.round_id WHERE d.key = :k",
            k=key,
        )
        assert responses == 1, f"round {round_}"


async def test_a_save_racing_the_submission(live: Live) -> None:
    """Both name version 1: whichever comes second is refused (a late submission is stale, a
    late save finds the response submitted), so a submitted response never changes behind
    the submission."""
    for round_ in range(ROUNDS):
        key = f"race-submit-{round_}"
        await live.open_round(key)
        assert await live.call("saveAssessmentAnswers", round=key, answers=complete()) == []
        save, submit = await asyncio.gather(
            live.call(
                "saveAssessmentAnswers",
                round=key,
                version=1,
                answers=[{"question": "7-3", "number": 2}],
            ),
            live.call("submitAssessmentResponse", round=key, version=1),
        )
        assert (save, submit) in (([], ["STALE"]), (["RESPONSE_SUBMITTED"], [])), f"round {round_}"
        state = await live.scalar(
            "SELECT r.status || ' ' || r.version FROM assessment_response r "
            "JOIN assessment_round d ON d.id = r.round_id WHERE d.key = :k",
            k=key,
        )
        assert state == ("SUBMITTED 2" if save else "DRAFT 2"), f"round {round_}"
