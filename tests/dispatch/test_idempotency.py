"""Retried mutations write once: the `Idempotency-Key` header (service/idempotency.py)."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import GraphQL
from tests.dispatch.conftest import WAKAYAMA, Dispatch, assign
from tests.dispatch.test_sessions import PLAN


def plan_body(assignment: str, day: str = "2026-12-08", place: str = "本庁舎 会議室") -> bytes:
    variables = {
        "input": {
            "assignmentId": assignment,
            "startsAt": f"{day}T10:00:00+09:00",
            "endsAt": f"{day}T12:00:00+09:00",
            "mode": "ON_SITE",
            "place": place,
        }
    }
    return orjson.dumps({"query": PLAN, "variables": variables})


async def post(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    body: bytes,
    token: str,
    key: str | bytes | None,
) -> httpx.Response:
    headers: dict[str, str | bytes] = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
    }
    if key is not None:
        headers["Idempotency-Key"] = key
    response = await client.post("/graphql", content=body, headers=headers)
    await connection.execute(text("RESET ROLE"))
    return response


async def sessions(connection: AsyncConnection) -> int:
    return int(await connection.scalar(text("SELECT count(*) FROM dispatch_visit")))


async def an_assignment(gql: GraphQL, dispatch: Dispatch) -> str:
    payload = await assign(gql, dispatch, WAKAYAMA, "生成AI専門家", startsOn="2026-12-01")
    assert payload["userErrors"] == []
    return str(payload["assignment"]["id"])


async def test_the_same_request_twice_writes_once_and_answers_the_same(
    gql: GraphQL, client: httpx.AsyncClient, connection: AsyncConnection, dispatch: Dispatch
) -> None:
    assignment = await an_assignment(gql, dispatch)
    token = dispatch.coordinator
    first = await post(client, connection, plan_body(assignment), token, "plan-0001")
    again = await post(client, connection, plan_body(assignment), token, "plan-0001")
    assert first.status_code == again.status_code == 200
    assert first.json()["data"]["planSession"]["userErrors"] == []
    assert again.content == first.content
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert await sessions(connection) == 1
    # Without a key, a retry is a new request: here the expert's second session at that time.
    third = await post(client, connection, plan_body(assignment), token, None)
    assert [e["code"] for e in third.json()["data"]["planSession"]["userErrors"]] == [
        "OVERLAPPING_SESSION"
    ]


async def test_a_client_that_lost_the_response_retries_and_gets_it(
    gql: GraphQL, client: httpx.AsyncClient, connection: AsyncConnection, app: Any,
    dispatch: Dispatch,
) -> None:  # fmt: skip
    assignment = await an_assignment(gql, dispatch)
    body = plan_body(assignment)
    headers = [
        (b"authorization", f"Bearer {dispatch.coordinator}".encode()),
        (b"content-type", b"application/json"),
        (b"idempotency-key", b"lost-0001"),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        # The connection broke on the way back: the client never sees the answer.
        raise OSError("connection reset by peer")

    with contextlib.suppress(OSError):
        await app(scope, receive, send)
    await connection.execute(text("RESET ROLE"))
    assert await sessions(connection) == 1, "the first attempt was written"

    retry = await post(client, connection, body, dispatch.coordinator, "lost-0001")
    assert retry.headers["idempotent-replayed"] == "true"
    session = retry.json()["data"]["planSession"]
    assert session["userErrors"] == []
    assert session["session"]["status"] == "PLANNED"
    assert await sessions(connection) == 1


async def test_a_key_names_one_request(
    gql: GraphQL, client: httpx.AsyncClient, connection: AsyncConnection, dispatch: Dispatch
) -> None:
    assignment = await an_assignment(gql, dispatch)
    token = dispatch.coordinator
    await post(client, connection, plan_body(assignment), token, "plan-0002")
    other = await post(client, connection, plan_body(assignment, "2026-12-09"), token, "plan-0002")
    assert other.status_code == 422
    assert other.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await sessions(connection) == 1


async def test_keys_are_the_callers_own(
    gql: GraphQL, client: httpx.AsyncClient, connection: AsyncConnection, dispatch: Dispatch
) -> None:
    """Another principal's key of the same name neither replays nor blocks."""
    assignment = await an_assignment(gql, dispatch)
    coordinator = await post(
        client, connection, plan_body(assignment), dispatch.coordinator, "shared-key"
    )
    expert = dispatch.expert("生成AI専門家")
    mine = await post(client, connection, plan_body(assignment, "2026-12-10"), expert, "shared-key")
    assert "idempotent-replayed" not in mine.headers
    assert mine.json()["data"]["planSession"]["userErrors"] == []
    assert mine.content != coordinator.content
    assert await sessions(connection) == 2


async def test_refused_and_failed_requests(
    gql: GraphQL, client: httpx.AsyncClient, connection: AsyncConnection, dispatch: Dispatch
) -> None:
    """A refusal (userErrors) is an answer and is replayed; a request that failed (a GraphQL
    error, nothing written) keeps no answer, and its retry runs afresh."""
    assignment = await an_assignment(gql, dispatch)
    staff = dispatch.staff(WAKAYAMA)
    refusal = await post(client, connection, plan_body(assignment), staff, "staff-0001")
    assert [e["code"] for e in refusal.json()["data"]["planSession"]["userErrors"]] == ["FORBIDDEN"]
    replay = await post(client, connection, plan_body(assignment), staff, "staff-0001")
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.content == refusal.content

    malformed = orjson.dumps(
        {"query": PLAN, "variables": {"input": {"assignmentId": assignment, "startsAt": "soon"}}}
    )
    token = dispatch.coordinator
    failed = await post(client, connection, malformed, token, "coord-0001")
    assert failed.json()["errors"]
    retried = await post(client, connection, malformed, token, "coord-0001")
    assert "idempotent-replayed" not in retried.headers
    assert await sessions(connection) == 0


async def test_a_key_lasts_a_day(
    gql: GraphQL, client: httpx.AsyncClient, connection: AsyncConnection, dispatch: Dispatch
) -> None:
    assignment = await an_assignment(gql, dispatch)
    token = dispatch.coordinator
    await post(client, connection, plan_body(assignment), token, "plan-0003")
    await connection.execute(
        text("UPDATE idempotency_key SET created_at = created_at - interval '25 hours'")
    )
    late = await post(client, connection, plan_body(assignment, "2026-12-11"), token, "plan-0003")
    assert "idempotent-replayed" not in late.headers
    assert late.json()["data"]["planSession"]["userErrors"] == []
    assert await sessions(connection) == 2


async def test_a_malformed_key_is_refused_naming_the_header(
    gql: GraphQL, client: httpx.AsyncClient, connection: AsyncConnection, dispatch: Dispatch
) -> None:
    assignment = await an_assignment(gql, dispatch)
    for key in ("", "x" * 201, "spaces are not allowed", "鍵".encode()):
        response = await post(client, connection, plan_body(assignment), dispatch.coordinator, key)
        assert response.status_code == 400, key
        assert "Idempotency-Key" in response.json()["errors"][0]["message"]
    assert await sessions(connection) == 0
