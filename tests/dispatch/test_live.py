"""Live changes across processes: a real `dxlink serve` holds the subscriptions (over
graphql-transport-ws), the changes are committed by another process's app, and each subscriber
receives what its principal may read, and nothing else.

Absence is shown by order: a subscriber's events come in commit order, so when it receives its
own change committed after another municipality's (or expert's), the other one was skipped, not
late; a coordinator's subscription receives both, which shows the other one was announced.

Before a test changes anything, `Client.until_live` touches a row the subscriber may read until
its change arrives: the subscription is then registered with the server's listener (the
protocol has no acknowledgement of a subscription). Those probe events are skipped later.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin, Subprotocol

from auth.principal import Role
from auth.tokens import mint_token
from schema.node import decode_global_id, encode_global_id
from service.app import create_app
from service.cli import prepare_database
from service.database import Database, RuntimeLogin, create_engine
from service.live import APPLICATION_NAME, QUEUE_SIZE, ChangeHub, SubscriberTooSlow
from service.settings import Settings
from tests import factories as f
from tests.database import scratch_database
from tests.dispatch.conftest import ASSIGN, KAINAN, WAKAYAMA
from tests.dispatch.test_sessions import PLAN

ASSIGNMENTS = """
subscription($municipality: String) {
  assignmentChanged(municipality: $municipality) {
    op assignment { id status municipality { code } expert { name } }
  }
}
"""
SESSIONS = """
subscription { sessionChanged { op session { id status assignment { id municipality { code } } } } }
"""
WAIT = 20.0  # seconds: an event that takes longer is not coming


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A `dxlink serve` process on the scratch database."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def _serve(url: str, settings: Settings, folder: Path) -> Server:
    port, log = _free_port(), folder / f"serve-{len(list(folder.iterdir()))}.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    assert settings.jwt_secret is not None
    assert settings.db_runtime_password is not None
    env.update(
        DATABASE_URL=url,
        DXLINK_DATA_DIR=str(folder / "data"),
        DXLINK_JWT_ALGORITHMS=settings.jwt_algorithms,
        DXLINK_JWT_SECRET=settings.jwt_secret.get_secret_value(),
        DXLINK_DB_RUNTIME_PASSWORD=settings.db_runtime_password.get_secret_value(),
        DXLINK_AUTO_SEED="false",
        DXLINK_GRAPHIQL="false",
    )
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return Server(process, port, log)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError("dxlink serve did not become ready:\n" + log.read_text())


@dataclass
class World:
    url: str
    owner: AsyncEngine
    client: httpx.AsyncClient  # the writers' process: this one, with its own app and pools
    settings: Settings
    server: Server
    folder: Path
    programme: int
    ids: dict[str, int] = field(default_factory=dict)

    def token(self, role: Role, ttl: int = 3600, **scope: Any) -> str:
        subject = f"{role.value}-{'-'.join(map(str, scope.values())) or 'x'}"
        return mint_token(self.settings, role=role, subject=subject, scope=scope, ttl_seconds=ttl)

    @property
    def coordinator(self) -> str:
        return self.token(Role.dispatch_coordinator)

    async def mutate(self, query: str, input: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": {"input": input}},
            headers={"Authorization": f"Bearer {self.coordinator}"},
        )
        body = response.json()
        assert "errors" not in body, body
        (payload,) = body["data"].values()
        assert payload["userErrors"] == [], payload
        return payload  # type: ignore[no-any-return]

    async def owner_does(self, sql: str, **params: Any) -> Any:
        async with self.owner.begin() as connection:
            await connection.execute(text("SELECT set_config('dxlink.maintenance', 'on', true)"))
            result = await connection.execute(text(sql), params)
            return result.scalar() if result.returns_rows else None

    async def touch(self, table: str, row: int) -> None:
        """An update that changes nothing but fires the row's triggers."""
        await self.owner_does(f"UPDATE {table} SET version = version WHERE id = :id", id=row)

    async def listeners(self) -> int:
        return int(
            await self.owner_does(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = :name",
                name=APPLICATION_NAME,
            )
        )


@pytest.fixture(scope="module")
async def world(pg_server: str, settings: Settings) -> AsyncIterator[World]:
    folder = Path(tempfile.mkdtemp(prefix="dxlink-test-live-"))
    async with scratch_database(pg_server, "live") as url:
        owner = create_engine(url, settings)
        server: Server | None = None
        try:
            await prepare_database(url, settings, migrate_=True, seed=True)
            async with owner.begin() as connection:
                programme = await f.create_programme(connection)
            server = await asyncio.to_thread(_serve, url, settings, folder)
            database = Database.from_settings(url, settings)
            app = create_app(settings, database=database)
            transport = httpx.ASGITransport(app=app)
            try:
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                    yield World(url, owner, client, settings, server, folder, programme)
            finally:
                await database.dispose()
        finally:
            if server is not None:
                server.stop()
            await owner.dispose()
            shutil.rmtree(folder, ignore_errors=True)


class Client:
    """One graphql-transport-ws connection to the server."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def connect(cls, port: int, token: str | None) -> Client:
        ws = await connect(
            f"ws://127.0.0.1:{port}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]
        )
        payload = {} if token is None else {"Authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert ack == {"type": "connection_ack"}, ack
        return cls(ws)

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None, id: str = "1"):  # type: ignore[no-untyped-def]
        message = {"query": query, "variables": variables or {}}
        await self.ws.send(json.dumps({"id": id, "type": "subscribe", "payload": message}))

    async def message(self, timeout: float = WAIT) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))  # type: ignore[no-any-return]

    async def event(self, skip: set[str] = frozenset(), timeout: float = WAIT) -> dict[str, Any]:  # type: ignore[assignment]
        """The next event's ``(id, data)``, skipping changes of the probed rows."""
        while True:
            message = await self.message(timeout)
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            (change,) = message["payload"]["data"].values()
            node = change.get("assignment") or change.get("session")
            if node["id"] not in skip:
                return {"id": message["id"], **change}

    async def until_live(self, world: World, probes: list[tuple[str, int]], ids: set[str]) -> None:
        """Touch the ``probes`` rows until each subscription of ``ids`` received a change."""
        waiting = set(ids)
        for _ in range(100):
            for table, row in probes:
                await world.touch(table, row)
            try:
                while waiting:
                    message = await self.message(timeout=0.3)
                    assert message["type"] == "next", message
                    waiting.discard(message["id"])
            except TimeoutError:
                continue
            return
        raise AssertionError(f"subscriptions {waiting} never received a change")

    async def close(self) -> None:
        await self.ws.close()


async def _expert(world: World, name: str) -> int:
    async with world.owner.begin() as connection:
        return await f.create_expert(
            connection, name=name, themes=["生成AI", "DX推進計画"], monthly_capacity=8
        )


async def _request(world: World, code: str, theme: str) -> int:
    async with world.owner.begin() as connection:
        return await f.create_request(
            connection,
            programme_id=world.programme,
            municipality_id=await f.municipality_id(connection, code),
            theme=theme,
        )


async def _assignment(world: World, code: str, expert: int) -> int:
    async with world.owner.begin() as connection:
        return await f.create_assignment(
            connection,
            expert_id=expert,
            municipality_id=await f.municipality_id(connection, code),
            programme_id=world.programme,
            starts_on=date(2026, 12, 1),
            ends_on=date(2027, 2, 28),
        )


def _gid(type_name: str, key: int) -> str:
    return encode_global_id(type_name, key)


async def test_a_municipality_receives_its_own_assignments_only(world: World) -> None:
    probes = [
        ("dispatch_assignment", await _assignment(world, code, await _expert(world, "見本")))
        for code in (WAKAYAMA, KAINAN)
    ]
    skip = {_gid("DispatchAssignment", row) for _, row in probes}
    token = world.token(Role.municipal_staff, municipality=WAKAYAMA)
    staff = await Client.connect(world.server.port, token)
    coordinator = await Client.connect(world.server.port, world.coordinator)
    try:
        await staff.subscribe(ASSIGNMENTS)
        await coordinator.subscribe(ASSIGNMENTS, id="all")
        await coordinator.subscribe(ASSIGNMENTS, {"municipality": KAINAN}, id="kainan")
        await staff.until_live(world, probes, {"1"})
        await coordinator.until_live(world, probes, {"all", "kainan"})

        async def assign(code: str, expert: str) -> str:
            payload = await world.mutate(
                ASSIGN,
                {
                    "requestId": _gid("DispatchRequest", await _request(world, code, "生成AI")),
                    "expertId": _gid("Expert", await _expert(world, expert)),
                    "startsOn": "2026-12-01",
                },
            )
            return str(payload["assignment"]["id"])

        other = await assign(KAINAN, "他市 担当")
        own = await assign(WAKAYAMA, "自市 担当")

        # The staff's first event after the probes is its own assignment: Kainan's, committed
        # before it, was not sent.
        event = await staff.event(skip)
        assert (event["op"], event["assignment"]["id"]) == ("CREATED", own)
        assert event["assignment"]["municipality"]["code"] == WAKAYAMA
        assert event["assignment"]["expert"]["name"] == "自市 担当"
        # The coordinator's unfiltered subscription received both, in commit order; the one
        # filtered to Kainan received Kainan's only.
        seen = [await coordinator.event(skip) for _ in range(3)]
        by_subscription = {
            id: [(e["op"], e["assignment"]["id"]) for e in seen if e["id"] == id]
            for id in ("all", "kainan")
        }
        assert by_subscription == {
            "all": [("CREATED", other), ("CREATED", own)],
            "kainan": [("CREATED", other)],
        }
    finally:
        await staff.close()
        await coordinator.close()


async def test_an_expert_receives_the_sessions_of_its_own_assignments_only(world: World) -> None:
    mine, theirs = await _expert(world, "本人 専門家"), await _expert(world, "別の 専門家")
    my_assignment = await _assignment(world, WAKAYAMA, mine)
    their_assignment = await _assignment(world, WAKAYAMA, theirs)
    async with world.owner.begin() as connection:
        probes = [("dispatch_visit", await f.create_visit(connection, assignment_id=my_assignment))]
    skip = {_gid("DispatchVisit", probes[0][1])}
    expert = await Client.connect(world.server.port, world.token(Role.expert, expert=str(mine)))
    coordinator = await Client.connect(world.server.port, world.coordinator)
    try:
        await expert.subscribe(SESSIONS)
        await coordinator.subscribe(SESSIONS)
        await expert.until_live(world, probes, {"1"})
        await coordinator.until_live(world, probes, {"1"})

        async def plan(assignment: int) -> str:
            payload = await world.mutate(
                PLAN,
                {
                    "assignmentId": _gid("DispatchAssignment", assignment),
                    "startsAt": "2027-01-12T10:00:00+09:00",
                    "endsAt": "2027-01-12T12:00:00+09:00",
                    "mode": "ON_SITE",
                    "place": "本庁舎",
                },
            )
            return str(payload["session"]["id"])

        other = await plan(their_assignment)
        own = await plan(my_assignment)
        event = await expert.event(skip)
        assert (event["op"], event["session"]["id"]) == ("CREATED", own)
        assert event["session"]["assignment"]["id"] == _gid("DispatchAssignment", my_assignment)
        seen = [await coordinator.event(skip) for _ in range(2)]
        assert [(e["op"], e["session"]["id"]) for e in seen] == [
            ("CREATED", other),
            ("CREATED", own),
        ]

        # Updates too: the other expert's session cancelled, then the expert's own.
        for session in (other, own):
            _, key = decode_global_id(session)
            await world.owner_does(
                "UPDATE dispatch_visit SET status = 'CANCELLED', cancelled_reason = '台風', "
                "version = version + 1 WHERE id = :id",
                id=key,
            )
        event = await expert.event(skip)
        assert (event["op"], event["session"]["id"], event["session"]["status"]) == (
            "UPDATED",
            own,
            "CANCELLED",
        )
    finally:
        await expert.close()
        await coordinator.close()


async def test_a_refused_token_closes_the_connection_with_4403(world: World) -> None:
    for payload in (
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": world.coordinator},  # no scheme
        {"Authorization": 42},
        {"Authorization": f"Bearer {world.token(Role.municipal_staff, municipality='302031')}x"},
    ):
        async with connect(
            f"ws://127.0.0.1:{world.server.port}/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), WAIT)
            assert ws.close_code == 4403, payload


async def test_the_legacy_protocol_is_not_offered(world: World) -> None:
    async with connect(
        f"ws://127.0.0.1:{world.server.port}/graphql", subprotocols=[Subprotocol("graphql-ws")]
    ) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), WAIT)
        assert ws.close_code == 4406


async def test_a_page_of_another_origin_cannot_open_a_connection(world: World) -> None:
    """A browser sends its page's origin: a page elsewhere cannot ride the user's session."""
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"ws://127.0.0.1:{world.server.port}/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
            origin=Origin("https://attacker.example"),
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_a_websocket_serves_subscriptions_only_and_http_no_subscriptions(
    world: World,
) -> None:
    client = await Client.connect(world.server.port, world.coordinator)
    try:
        await client.subscribe("{ viewer { role } }")
        message = await client.message()
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    finally:
        await client.close()
    response = httpx.post(
        f"http://127.0.0.1:{world.server.port}/graphql",
        json={"query": ASSIGNMENTS},
        headers={"Authorization": f"Bearer {world.coordinator}"},
        timeout=WAIT,
    )
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in error["message"]


async def test_a_malformed_municipality_ends_the_subscription_with_its_error(
    world: World,
) -> None:
    client = await Client.connect(world.server.port, world.coordinator)
    try:
        await client.subscribe(ASSIGNMENTS, {"municipality": "302016"})  # wrong check digit
        message = await client.message()
        assert message["type"] == "next", message
        (error,) = message["payload"]["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["argument"] == "municipality"
        assert await client.message() == {"id": "1", "type": "complete"}
    finally:
        await client.close()


async def test_nothing_is_sent_once_the_token_has_expired(world: World) -> None:
    probes = [
        ("dispatch_assignment", await _assignment(world, WAKAYAMA, await _expert(world, "期")))
    ]
    ttl = 3
    client = await Client.connect(world.server.port, world.token(Role.dispatch_coordinator, ttl))
    started = time.time()
    try:
        await client.subscribe(ASSIGNMENTS)
        await client.until_live(world, probes, {"1"})
        await asyncio.sleep(max(0.0, started + ttl + 0.5 - time.time()))
        await world.touch(*probes[0])
        message = await client.message()
        while message["type"] == "next" and "errors" not in message["payload"]:
            message = await client.message()  # probes touched before the expiry
        assert message["type"] == "next", message
        assert message["payload"]["data"] is None
        (error,) = message["payload"]["errors"]
        assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "expired"}
        assert await client.message() == {"id": "1", "type": "complete"}
    finally:
        await client.close()


async def test_a_slow_subscriber_is_ended_and_the_others_get_every_change(
    world: World,
) -> None:
    """Two subscribers of this process's own hub on the same database: one reads, one never
    does; the changes come in batches the reader keeps up with."""
    hub = ChangeHub(RuntimeLogin.from_settings(world.settings).url(world.url), world.settings)
    assignment = await _assignment(world, WAKAYAMA, await _expert(world, "大量"))
    batches, size = 6, 50
    assert batches * size > QUEUE_SIZE
    received: list[int] = []
    try:
        async with (
            hub.subscribe({"dispatch_visit"}) as reader,
            hub.subscribe({"dispatch_visit"}) as sleeper,
        ):
            for _ in range(batches):
                async with world.owner.begin() as connection:
                    for _ in range(size):
                        await f.create_visit(connection, assignment_id=assignment)
                for _ in range(size):
                    change = await asyncio.wait_for(anext(reader), WAIT)
                    received.append(change.id)
            with pytest.raises(SubscriberTooSlow) as refused:
                await asyncio.wait_for(anext(sleeper), WAIT)
            assert refused.value.extensions == {"code": "SUBSCRIBER_TOO_SLOW", "limit": QUEUE_SIZE}
    finally:
        await hub.close()
    assert len(set(received)) == batches * size


async def test_one_listener_per_process_closed_when_the_server_stops(world: World) -> None:
    before = await world.listeners()
    server = await asyncio.to_thread(_serve, world.url, world.settings, world.folder)
    clients: list[Client] = []
    try:
        assert await world.listeners() == before  # none until somebody subscribes
        probes = [
            ("dispatch_assignment", await _assignment(world, KAINAN, await _expert(world, "停")))
        ]
        for token in (
            world.coordinator,
            world.token(Role.municipal_staff, municipality=KAINAN),
            world.token(Role.prefecture_admin),
        ):
            client = await Client.connect(server.port, token)
            await client.subscribe(ASSIGNMENTS)
            await client.subscribe(SESSIONS, id="2")
            await client.until_live(world, probes, {"1"})
            clients.append(client)
        assert await world.listeners() == before + 1
        returncode = await asyncio.to_thread(server.stop)
        assert returncode == -signal.SIGTERM, server.log.read_text()
        for client in clients:
            with pytest.raises(ConnectionClosed):
                await _drain(client)
        assert await world.listeners() == before
    finally:
        server.stop()
        for client in clients:
            await client.close()


async def _drain(client: Client) -> None:
    """Read until the connection closes (what the probes left is of no interest)."""
    while True:
        await client.message()
