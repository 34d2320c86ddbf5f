"""Chat webhooks on a real database and a real HTTP receiver: a message queued in a mutation's
transaction (as the API role) reaches the receiver after commit, never for a rolled-back
transaction; a receiver that fails is retried with backoff; no URL, no message.

The outbox needs transactions that commit, so the module migrates a scratch database of its own
(as tests/dispatch/test_live.py does) instead of the suite's rolled-back one. The receiver is an
asyncio HTTP server on 127.0.0.1 in the test's event loop; each group posts to its own path, so
absence is shown by order: a group's message committed after another's arrives, the other did
not come.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from service.app import create_app
from service.cli import prepare_database
from service.database import API_ROLE, RuntimeLogin, create_engine
from service.settings import Settings
from service.working_groups.webhooks import WebhookSender, backoff_seconds, enqueue, host_of
from tests.database import scratch_database

WAIT = 20.0  # seconds: a message that takes longer is not coming
MAINTENANCE = "SELECT set_config('dxlink.maintenance', 'on', true)"
_slugs = itertools.count(1)


@dataclass
class Receiver:
    """An HTTP server that answers each request with the next of ``statuses`` (200 after)."""

    port: int = 0
    statuses: dict[str, list[int]] = field(default_factory=dict)
    received: asyncio.Queue[tuple[str, int, dict[str, Any]]] = field(default_factory=asyncio.Queue)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = (await reader.readline()).decode()
            method, target, _ = request.split(" ", 2)
            headers: dict[str, str] = {}
            while (line := (await reader.readline()).decode().strip()) != "":
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            path = target.lstrip("/")
            queue = self.statuses.get(path, [])
            status = queue.pop(0) if queue else 200
            # Anything but a JSON POST would not compare equal to what the tests expect.
            kind = (method, headers.get("content-type"))
            payload = json.loads(body) if kind == ("POST", "application/json") else {"bad": kind}
            await self.received.put((path, status, payload))
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()

    async def next(self) -> tuple[str, int, dict[str, Any]]:
        return await asyncio.wait_for(self.received.get(), timeout=WAIT)


@dataclass
class World:
    url: str
    owner: AsyncEngine
    api: async_sessionmaker[AsyncSession]
    settings: Settings


@pytest.fixture(scope="module")
async def world(pg_server: str, settings: Settings) -> AsyncIterator[World]:
    async with scratch_database(pg_server, "hooks") as url:
        await prepare_database(url, settings, migrate_=True, seed=False)
        owner = create_engine(url, settings)
        runtime = create_engine(RuntimeLogin.from_settings(settings).url(url), settings)
        fast = settings.model_copy(
            update={
                "webhook_backoff_seconds": 0.05,
                "webhook_backoff_max_seconds": 0.2,
                "webhook_sweep_seconds": 0.2,
                "webhook_max_attempts": 4,
                "webhook_timeout_seconds": 2.0,
            }
        )
        try:
            yield World(url, owner, async_sessionmaker(runtime, expire_on_commit=False), fast)
        finally:
            await runtime.dispose()
            await owner.dispose()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def sender(world: World) -> AsyncIterator[WebhookSender]:
    sender = WebhookSender(world.url, world.settings)
    sender.start()
    try:
        yield sender
    finally:
        await sender.close()


async def _group(world: World, webhook_url: str | None) -> int:
    async with world.owner.begin() as connection:
        await connection.execute(text(MAINTENANCE))
        return int(
            await connection.scalar(
                text(
                    "INSERT INTO working_group (slug, name, kind, status, lead_prefecture, "
                    "webhook_url) VALUES (:slug, :name, 'BUSINESS_CREATION', 'ACTIVE', true, "
                    ":url) RETURNING id"
                ),
                {"slug": f"hooks-{next(_slugs)}", "name": "通知テストWG", "url": webhook_url},
            )
        )


async def _enqueue(world: World, group: int, message: str, *, commit: bool = True) -> None:
    """A mutation's transaction, as the API role: it queues ``message`` and commits or not."""
    async with world.api() as session:
        await session.execute(text(f"SET LOCAL ROLE {API_ROLE}"))
        await enqueue(session, group, "MEETING_RECORDED", message)
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def _deliveries(world: World, group: int) -> list[Any]:
    async with world.owner.begin() as connection:
        await connection.execute(text(MAINTENANCE))
        rows = await connection.execute(
            text(
                "SELECT status, attempts, payload, event, last_error FROM webhook_delivery "
                "WHERE working_group_id = :g ORDER BY id"
            ),
            {"g": group},
        )
        return list(rows.all())


async def _settled(world: World, group: int, count: int) -> list[Any]:
    """The group's deliveries once ``count`` of them are no longer PENDING."""
    for _ in range(int(WAIT / 0.1)):
        rows = await _deliveries(world, group)
        if sum(r.status != "PENDING" for r in rows) >= count:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"deliveries of group {group} still pending: {rows}")


async def test_a_message_reaches_the_receiver_after_commit(
    world: World, receiver: Receiver, sender: WebhookSender
) -> None:
    group = await _group(world, receiver.url("committed"))
    await _enqueue(world, group, "第3回会合を記録しました")
    assert await receiver.next() == ("committed", 200, {"text": "第3回会合を記録しました"})
    rows = await _settled(world, group, 1)
    assert [(r.status, r.attempts, r.event) for r in rows] == [("SENT", 1, "MEETING_RECORDED")]


async def test_nothing_is_sent_for_a_rolled_back_transaction(
    world: World, receiver: Receiver, sender: WebhookSender
) -> None:
    rolled_back = await _group(world, receiver.url("rolled-back"))
    committed = await _group(world, receiver.url("after"))
    await _enqueue(world, rolled_back, "取り消された会合", commit=False)
    await _enqueue(world, committed, "後から確定した会合")
    # Committed after the rolled-back one: had that been queued, it would have come first.
    assert await receiver.next() == ("after", 200, {"text": "後から確定した会合"})
    assert receiver.received.empty()
    assert await _deliveries(world, rolled_back) == []


async def test_a_failing_receiver_is_retried_with_backoff(
    world: World, receiver: Receiver, sender: WebhookSender
) -> None:
    group = await _group(world, receiver.url("flaky"))
    receiver.statuses["flaky"] = [500, 500]
    await _enqueue(world, group, "成果物を追加しました")
    message = {"text": "成果物を追加しました"}
    assert [await receiver.next() for _ in range(3)] == [
        ("flaky", 500, message),
        ("flaky", 500, message),
        ("flaky", 200, message),
    ]
    rows = await _settled(world, group, 1)
    assert [(r.status, r.attempts, r.last_error) for r in rows] == [("SENT", 3, None)]


async def test_a_receiver_that_never_answers_well_is_given_up(
    world: World, receiver: Receiver, sender: WebhookSender
) -> None:
    group = await _group(world, receiver.url("down"))
    receiver.statuses["down"] = [503] * 10
    await _enqueue(world, group, "参加を承認しました")
    for _ in range(world.settings.webhook_max_attempts):
        assert (await receiver.next())[:2] == ("down", 503)
    rows = await _settled(world, group, 1)
    assert [(r.status, r.attempts, r.last_error) for r in rows] == [
        ("FAILED", world.settings.webhook_max_attempts, "HTTP 503")
    ]


async def test_a_receiver_that_is_down_is_retried(world: World, sender: WebhookSender) -> None:
    """Nothing listens on the port at first (connection refused); then a receiver does."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    group = await _group(world, f"http://127.0.0.1:{port}/later")
    await _enqueue(world, group, "受信側が復旧")
    for _ in range(int(WAIT / 0.05)):
        rows = await _deliveries(world, group)
        if rows[0].attempts >= 1:
            break
        await asyncio.sleep(0.05)
    assert (rows[0].status, rows[0].last_error) == ("PENDING", "ConnectError")
    receiver = Receiver(port=port)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", port)
    try:
        assert await receiver.next() == ("later", 200, {"text": "受信側が復旧"})
    finally:
        server.close()
        await server.wait_closed()
    assert [r.status for r in await _settled(world, group, 1)] == ["SENT"]


async def test_no_url_no_message(world: World, receiver: Receiver, sender: WebhookSender) -> None:
    silent = await _group(world, None)
    blank = await _group(world, "  ")
    await _enqueue(world, silent, "送られない")
    await _enqueue(world, blank, "送られない")
    assert await _deliveries(world, silent) == []
    assert await _deliveries(world, blank) == []


async def test_only_http_urls_are_posted(
    world: World, receiver: Receiver, sender: WebhookSender
) -> None:
    group = await _group(world, "file:///etc/passwd")
    await _enqueue(world, group, "送られない")
    rows = await _settled(world, group, 1)
    assert [(r.status, r.last_error) for r in rows] == [("FAILED", "not an http(s) URL")]


async def test_the_outbox_is_invisible_to_the_api(world: World, receiver: Receiver) -> None:
    group = await _group(world, receiver.url("secret"))
    async with world.api() as session:
        await session.execute(text(f"SET LOCAL ROLE {API_ROLE}"))
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(text("SELECT count(*) FROM webhook_delivery"))
    async with world.api() as session:
        await session.execute(text(f"SET LOCAL ROLE {API_ROLE}"))
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(
                text(
                    "INSERT INTO webhook_delivery (working_group_id, event, payload) "
                    "VALUES (:g, 'X', '{}')"
                ),
                {"g": group},
            )
    # The bare runtime login (no role assumed) cannot queue either.
    async with world.api() as session:
        with pytest.raises(DBAPIError, match="permission denied"):
            await enqueue(session, group, "X", "y")


def test_backoff_doubles_within_its_cap_and_logs_name_the_host_only(settings: Settings) -> None:
    tuned = settings.model_copy(
        update={"webhook_backoff_seconds": 2.0, "webhook_backoff_max_seconds": 60.0}
    )
    waits = [backoff_seconds(n, tuned) for n in range(1, 9)]
    for n, wait in enumerate(waits, start=1):
        expected = min(2.0 * 2 ** (n - 1), 60.0)
        assert expected * 0.8 <= wait <= expected * 1.2
    assert host_of("https://hooks.example.org/services/T000/B000/secret") == "hooks.example.org"


async def test_the_app_s_lifespan_runs_the_sender(world: World, receiver: Receiver) -> None:
    """An app that makes its own database (as `dxlink serve`) sends from startup to shutdown."""
    app = create_app(world.settings, database_url=world.url)
    sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await received.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        await sent.put(message)

    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, received.get, send)
    )
    try:
        assert (await asyncio.wait_for(sent.get(), WAIT))["type"] == "lifespan.startup.complete"
        group = await _group(world, receiver.url("lifespan"))
        await _enqueue(world, group, "アプリの送信")
        assert await receiver.next() == ("lifespan", 200, {"text": "アプリの送信"})
    finally:
        await received.put({"type": "lifespan.shutdown"})
        assert (await asyncio.wait_for(sent.get(), WAIT))["type"] == "lifespan.shutdown.complete"
        await asyncio.wait_for(lifespan, WAIT)


async def test_two_senders_post_each_message_once(world: World, receiver: Receiver) -> None:
    """Two processes' senders on one outbox: SKIP LOCKED and the lease hand each row to one."""
    group = await _group(world, receiver.url("shared"))
    messages = [f"メッセージ {n}" for n in range(30)]
    async with world.api() as session:
        await session.execute(text(f"SET LOCAL ROLE {API_ROLE}"))
        for message in messages:
            await enqueue(session, group, "OUTPUT_ADDED", message)
        await session.commit()
    senders = [WebhookSender(world.url, world.settings) for _ in range(2)]
    for sender in senders:
        sender.start()
    try:
        got = [await receiver.next() for _ in messages]
        rows = await _settled(world, group, len(messages))
    finally:
        for sender in senders:
            await sender.close()
    assert sorted(body["text"] for _, _, body in got) == sorted(messages)
    assert receiver.received.empty()
    assert {(r.status, r.attempts) for r in rows} == {("SENT", 1)}
    assert sum(sender.sent for sender in senders) == len(messages)


async def test_mutations_in_the_suite_s_rolled_back_harness_can_queue(
    connection: AsyncConnection,
) -> None:
    """The suite's one-transaction harness (the mutations' tests): enqueue works there as the
    API role, and the row goes with the test's rollback."""
    await connection.execute(text(MAINTENANCE))
    group = await connection.scalar(
        text(
            "INSERT INTO working_group (slug, name, kind, status, lead_prefecture, webhook_url) "
            "VALUES ('hooks-harness', '通知WG', 'BUSINESS_CREATION', 'ACTIVE', true, "
            "'https://hooks.example.org/x') RETURNING id"
        )
    )
    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
    async with session.begin():
        await session.execute(text(f"SET LOCAL ROLE {API_ROLE}"))
        await enqueue(session, group, "MEETING_RECORDED", "会合")
        await session.execute(text("RESET ROLE"))
    rows = await connection.execute(
        text("SELECT event, payload FROM webhook_delivery WHERE working_group_id = :g"),
        {"g": group},
    )
    assert [tuple(r) for r in rows] == [("MEETING_RECORDED", {"text": "会合"})]
