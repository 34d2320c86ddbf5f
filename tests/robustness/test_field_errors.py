"""A field's error stays that field's error, whatever runs beside it (issue 8, point 1).

graphql-core cancels the sibling resolvers of a field whose error nulls their common parent.
Those siblings may be waiting on a DataLoader future that other resolvers share, or be in the
middle of a statement on the request's session: cancelling them must not cancel the shared
work, break the session, or let a `CancelledError` escape as a plain-text 500.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from auth.principal import PUBLIC
from service.database import RequestSession
from service.models import Municipality
from tests.conftest import GraphQL
from tests.factories import create_dataset, municipality_id

# The example of the issue: `datasets(first: -1)` fails while both `prefecture` fields wait on
# one DataLoader future for the same key.
SHARED_FUTURE = (
    "{ municipalities(first: 1) { edges { node { prefecture { code } datasets(first: -1) "
    "{ title } } } nodes { prefecture { kana } } } }"
)

# A nullable parent: the failing branch becomes null, the other root field is answered.
NULLABLE_PARENT = (
    '{ bad: municipality(code: "302015") { name prefecture { code } datasets(first: -1) '
    '{ title } region { name } } good: municipality(code: "302015") { name prefecture '
    "{ kana } region { name municipalities { code } } } }"
)


@pytest.mark.parametrize("attempt", range(12))
async def test_an_argument_error_beside_shared_loads_is_that_fields_error(
    gql: GraphQL, attempt: int
) -> None:
    body = await gql(SHARED_FUTURE)
    assert body["data"] is None  # every parent up to the root is non-null
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}
    assert error["path"] == ["municipalities", "edges", 0, "node", "datasets"]


@pytest.mark.parametrize("attempt", range(12))
async def test_siblings_of_a_failed_nullable_field_are_answered(gql: GraphQL, attempt: int) -> None:
    body = await gql(NULLABLE_PARENT)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["bad", "datasets"]
    assert body["data"]["bad"] is None
    good = body["data"]["good"]
    assert good["name"] == "和歌山市"
    assert good["prefecture"] == {"kana": "わかやまけん"}
    assert good["region"]["name"] == "海草振興局"
    assert {"code": "302015"} in good["region"]["municipalities"]


async def test_the_request_after_a_cancelled_sibling_reads_normally(
    gql: GraphQL, connection: object
) -> None:
    """The session a cancelled statement ran on is not reused half-broken."""
    await create_dataset(connection, publishers=[await municipality_id(connection, "302015")])
    for _ in range(5):
        await gql(SHARED_FUTURE)
        body = await gql('{ municipality(code: "302015") { datasets { title } } }')
        assert body == {"data": {"municipality": {"datasets": [{"title": "AED設置箇所一覧"}]}}}


async def test_a_statement_whose_caller_is_cancelled_runs_to_its_end(
    connection: AsyncConnection,
) -> None:
    """The class behind the example: a resolver cancelled in the middle of its own statement
    (no DataLoader) leaves the request's session usable for the resolvers still running."""
    sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    db = RequestSession(sessionmaker, PUBLIC)
    slow = asyncio.ensure_future(db.scalar(text("SELECT pg_sleep(0.3) IS NULL")))
    await asyncio.sleep(0.05)  # the statement is on the wire now
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert await db.scalar(select(func.count()).select_from(Municipality)) == 30
    await db.finish(commit=False)
    await connection.execute(text("RESET ROLE"))
