"""Live changes: one LISTEN connection per API process, fanned out to its subscribers.

Triggers (migration a8b9c0d1e2f3) NOTIFY the channel `CHANNEL` with ``{"table", "id", "op"}``
when a transaction that inserted or updated an assignment or a session commits, whichever
process wrote it. `ChangeHub` holds one asyncpg connection for the whole process (the runtime
login: LISTEN needs no privilege, and the connection reads nothing), opened when the first
subscriber comes (or the result cache's first cacheable read: its channel,
service/result_cache.py, rides on the same connection), and hands every notification to the
bounded queue of every subscriber of that table without waiting: a subscriber `QUEUE_SIZE`
notifications behind is ended with `SubscriberTooSlow` instead of being waited for, so a slow
client never delays the others.

What a subscriber may see is not decided here: a notification names a row, and the
subscription re-reads it as its own principal (resolvers/dispatch_live.py).

Notifications sent while the listener is not connected are lost; so that no client silently
misses a change, a lost connection ends every subscription (`LiveChangesInterrupted`): clients
subscribe again and re-read what they show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from service.database import _refuse_privileged_login, libpq_url, server_settings
from service.errors import DxlinkError
from service.settings import Settings

logger = logging.getLogger("dxlink.live")

CHANNEL = "dxlink_changes"  # migrations/versions/20261201_a8b9c0d1e2f3_live_changes.py
QUEUE_SIZE = 256
APPLICATION_NAME = "dxlink-live"  # the listener in pg_stat_activity
_RECONNECT_SECONDS = 1.0
_RECONNECT_MAX_SECONDS = 30.0
# A connection cut off without a FIN (a partition) would never say so: ask it now and then.
_HEARTBEAT_SECONDS = 30.0
OPS = {"INSERT": "CREATED", "UPDATE": "UPDATED"}


@dataclass(frozen=True)
class Change:
    """A committed change of one row: its table, its id, and CREATED or UPDATED."""

    table: str
    id: int
    op: str


class LiveChangesUnavailable(DxlinkError):
    code = "SERVICE_UNAVAILABLE"


class LiveChangesInterrupted(DxlinkError):
    """The listener lost its connection: changes may have been missed."""

    code = "SUBSCRIPTION_INTERRUPTED"


class SubscriberTooSlow(DxlinkError):
    code = "SUBSCRIBER_TOO_SLOW"


class Subscriber:
    """The changes of some tables, in commit order, for one subscription."""

    def __init__(self, tables: Collection[str]) -> None:
        self.tables = frozenset(tables)
        self._queue: asyncio.Queue[Change | None] = asyncio.Queue(QUEUE_SIZE)
        self._ended = False
        self._error: DxlinkError | None = None

    def offer(self, change: Change) -> None:
        """Queue ``change`` without waiting; a full queue ends the subscription."""
        if self._ended:
            return
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            logger.warning("live changes: a subscriber fell %d changes behind", QUEUE_SIZE)
            self.end(
                SubscriberTooSlow(
                    f"The subscription fell {QUEUE_SIZE} changes behind and was ended; "
                    "subscribe again and re-read what you show.",
                    limit=QUEUE_SIZE,
                )
            )

    def end(self, error: DxlinkError | None = None) -> None:
        """End the subscription (with ``error``, or quietly); queued changes are dropped."""
        if self._ended:
            return
        self._ended, self._error = True, error
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def __aiter__(self) -> Subscriber:
        return self

    async def __anext__(self) -> Change:
        change = await self._queue.get()
        if change is None:
            if self._error is not None:
                raise self._error
            raise StopAsyncIteration
        return change


@dataclass(frozen=True)
class Watcher:
    """Another channel on the listener's connection (the result cache's): ``notified`` gets
    each payload, ``listening`` True once the channel is listened to, False when the connection
    is lost (notifications of that time are lost too)."""

    channel: str
    notified: Callable[[str], None]
    listening: Callable[[bool], None]


class ChangeHub:
    """The process's listener and its subscribers (created and closed by the app's lifespan).

    The result cache's channel rides on the same connection (`watch`, `start`): one LISTEN
    connection per process whatever listens."""

    def __init__(self, url: str | None, settings: Settings) -> None:
        # None: a database the tests bind to one rolled-back transaction, which never commits.
        self._dsn = None if url is None else libpq_url(url)
        self._settings = settings
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._closed = False
        self._watchers: list[Watcher] = []

    def watch(self, watcher: Watcher) -> None:
        """Listen to ``watcher.channel`` too, from the next connection on (call `start`)."""
        self._watchers.append(watcher)

    def start(self) -> None:
        """Connect the listener now, if it can and has not been started (an event loop runs)."""
        if self._dsn is None or self._closed or self._task is not None:
            return
        self._task = asyncio.create_task(self._listen(), name="dxlink live changes")

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @asynccontextmanager
    async def subscribe(self, tables: Collection[str]) -> AsyncIterator[Subscriber]:
        """A subscriber of ``tables`` for the block, once the listener is listening."""
        if self._dsn is None or self._closed:
            raise LiveChangesUnavailable("Live changes are not available on this server.")
        subscriber = Subscriber(tables)
        self._subscribers.add(subscriber)
        try:
            self.start()
            try:
                await asyncio.wait_for(
                    self._listening.wait(), timeout=self._settings.db_connect_timeout
                )
            except TimeoutError as exc:
                raise LiveChangesUnavailable(
                    "Live changes are unavailable: the database does not answer."
                ) from exc
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        try:
            note = orjson.loads(payload)
            change = Change(str(note["table"]), int(note["id"]), OPS[note["op"]])
        except (ValueError, KeyError, TypeError):
            logger.error("live changes: unexpected notification %r", payload[:200])
            return
        for subscriber in list(self._subscribers):
            if change.table in subscriber.tables:
                subscriber.offer(change)

    async def _listen(self) -> None:
        """Listen, and listen again after a lost connection, until closed."""
        assert self._dsn is not None
        delay = _RECONNECT_SECONDS
        while not self._closed:
            connection: asyncpg.Connection | None = None
            listened = False
            try:
                connection = await asyncpg.connect(
                    self._dsn,
                    timeout=self._settings.db_connect_timeout,
                    command_timeout=self._settings.db_command_timeout,
                    server_settings={
                        **server_settings(self._settings, self._settings.db_statement_timeout_ms),
                        "application_name": APPLICATION_NAME,
                    },
                )
                await _refuse_privileged_login(connection)
                lost = asyncio.Event()
                connection.add_termination_listener(_setter(lost))
                await connection.add_listener(CHANNEL, self._notified)
                for watcher in self._watchers:
                    await connection.add_listener(watcher.channel, _relay(watcher))
                self._listening.set()
                for watcher in self._watchers:
                    watcher.listening(True)
                listened = True
                delay = _RECONNECT_SECONDS
                logger.info("live changes: listening on %s", CHANNEL)
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), timeout=_HEARTBEAT_SECONDS)
                    except TimeoutError:
                        await connection.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("live changes: the listener failed: %s", exc)
            finally:
                self._listening.clear()
                for watcher in self._watchers:
                    watcher.listening(False)
                if connection is not None:
                    connection.terminate()
            if self._closed:
                break
            if listened:
                logger.warning(
                    "live changes: connection lost; ending %d subscriptions", self.subscribers
                )
                for subscriber in list(self._subscribers):
                    subscriber.end(
                        LiveChangesInterrupted(
                            "The server's connection to the database was interrupted and "
                            "changes may have been missed; subscribe again and re-read what "
                            "you show."
                        )
                    )
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_SECONDS)

    async def close(self) -> None:
        """Stop listening and end every subscription (the app's shutdown)."""
        self._closed = True
        for subscriber in list(self._subscribers):
            subscriber.end()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


def _relay(watcher: Watcher) -> Callable[[Any, int, str, str], None]:
    return lambda connection, pid, channel, payload: watcher.notified(payload)


def _setter(event: asyncio.Event) -> Callable[[Any], None]:
    return lambda _: event.set()
