"""One transaction per request: committed when the operation succeeds, else rolled back."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from auth.principal import PUBLIC
from service.database import RequestSession
from tests.conftest import GraphQL, data_of, error_of


async def test_a_failed_commit_is_a_clean_graphql_error(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_finish(self: RequestSession, *, commit: bool) -> None:
        raise RuntimeError("could not serialize access due to concurrent update")

    monkeypatch.setattr(RequestSession, "finish", failing_finish)
    # The resolvers' transaction (the compiled path on a read pool has none to commit).
    body = await gql(
        "{ tiers { level } }", **{"X-Request-ID": "req-7", "X-Dxlink-Executor": "resolvers"}
    )
    error = error_of(body)
    assert body["data"] is None
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-7"}
    assert "nothing was written" in error["message"]
    assert "serialize" not in error["message"]


async def test_requests_commit_or_roll_back_by_their_errors(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    original = RequestSession.finish

    async def recording_finish(self: RequestSession, *, commit: bool) -> None:
        seen.append(commit)
        await original(self, commit=commit)

    monkeypatch.setattr(RequestSession, "finish", recording_finish)
    resolvers = {"X-Dxlink-Executor": "resolvers"}
    data_of(await gql("{ tiers { level } }", **resolvers))
    error_of(await gql('{ municipality(code: "1") { name } }', **resolvers))
    assert seen == [True, False]


async def test_no_statement_after_the_transaction_ended(connection: AsyncConnection) -> None:
    db = RequestSession(
        async_sessionmaker(bind=connection, join_transaction_mode="create_savepoint"), PUBLIC
    )
    assert await db.scalar(select(text("1"))) == 1
    await db.finish(commit=False)
    with pytest.raises(RuntimeError, match="already ended"):
        await db.scalar(select(text("1")))
