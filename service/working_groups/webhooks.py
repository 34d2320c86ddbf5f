"""Chat webhooks of working groups: an outbox written in the mutation's transaction, and a sender
per API process (ARCHITECTURE.md, "Chat webhooks").

`enqueue` runs in the caller's transaction as the API role: ``dxlink_enqueue_webhook``
(migration f9a0b1c2d3e4, SECURITY DEFINER) inserts a ``webhook_delivery`` row with a
Slack-compatible payload (``{"text": ...}``) when the group has a webhook URL, and notifies
`CHANNEL`; PostgreSQL delivers the notification at commit, so a rolled-back mutation sends
nothing. The API role cannot read the outbox.

`WebhookSender` (started and stopped by the app's lifespan) runs on the owner's login, in
maintenance: it LISTENs on `CHANNEL` and sweeps every ``webhook_sweep_seconds`` for missed
notifications and retries, claims due rows with ``FOR UPDATE SKIP LOCKED`` (several processes
never send one row twice at once) under a lease, commits the claim, POSTs the payloads with a
short timeout (no transaction open meanwhile), and marks each row SENT, or reschedules it with
exponential backoff and jitter, or gives up (FAILED) after
``webhook_max_attempts``. A receiver that is down or answers an error is retried; a URL that is
not http(s) is never posted. URLs are secrets: logs name the host only.
"""

from __future__ import annotations

import asyncio
import logging
import random
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.database import libpq_url
from service.settings import Settings

logger = logging.getLogger("dxlink.webhooks")

CHANNEL = "dxlink_webhook"  # migrations/versions/20261201_f9a0b1c2d3e4_working_group_webhooks.py
APPLICATION_NAME = "dxlink-webhooks"  # the sender in pg_stat_activity
_RECONNECT_SECONDS = 1.0
_RECONNECT_MAX_SECONDS = 30.0
_BATCH = 20  # rows claimed per round
_ERROR_CHARS = 500  # of an error kept in last_error

_ENQUEUE = text("SELECT dxlink_enqueue_webhook(:wg, :event, :text)")

# Claimed rows are leased (next_attempt_at moved past the POSTs' timeout) and the claim
# commits before anything is posted: no transaction or lock is held while receivers answer, and
# a process that dies mid-batch leaves its rows to be retried once the lease runs out.
_CLAIM = """
UPDATE webhook_delivery d SET next_attempt_at = now() + make_interval(secs => $2)
FROM working_group g
WHERE g.id = d.working_group_id AND d.id IN (
  SELECT id FROM webhook_delivery
  WHERE status = 'PENDING' AND next_attempt_at <= now()
  ORDER BY next_attempt_at, id
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
RETURNING d.id, d.payload::text AS payload, d.attempts, g.webhook_url
"""
_LEASE_SLACK_SECONDS = 30.0
_SENT = (
    "UPDATE webhook_delivery SET status = 'SENT', attempts = attempts + 1, sent_at = now(), "
    "last_error = NULL WHERE id = $1"
)
_RETRY = (
    "UPDATE webhook_delivery SET attempts = attempts + 1, last_error = $2, "
    "next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1"
)
_FAILED = (
    "UPDATE webhook_delivery SET status = 'FAILED', attempts = attempts + 1, last_error = $2 "
    "WHERE id = $1"
)
_MAINTENANCE = "SELECT set_config('dxlink.maintenance', 'on', true)"


async def enqueue(session: AsyncSession, working_group_id: int, event: str, text: str) -> None:
    """Queue a chat message for the group's webhook in the caller's transaction (nothing when
    the group has no webhook URL); it is sent after the transaction commits, never before."""
    await session.execute(_ENQUEUE, {"wg": working_group_id, "event": event, "text": text})


def host_of(url: str | None) -> str:
    """What a log may say of a webhook URL (a secret): its host."""
    try:
        return urlsplit(url or "").hostname or "?"
    except ValueError:
        return "?"


def postable(url: str | None) -> bool:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def backoff_seconds(attempts: int, settings: Settings) -> float:
    """The wait before the next attempt after ``attempts`` failed ones: base * 2^(attempts-1),
    capped, with up to 20 % jitter either way."""
    base = settings.webhook_backoff_seconds * 2 ** max(attempts - 1, 0)
    wait = min(base, settings.webhook_backoff_max_seconds)
    return max(wait * random.uniform(0.8, 1.2), 0.0)


class WebhookSender:
    """One process's sender: a LISTEN connection that wakes it, a periodic sweep, and the
    owner's connection that claims and updates the outbox."""

    def __init__(self, owner_url: str, settings: Settings) -> None:
        self._dsn = libpq_url(owner_url)
        self._settings = settings
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.sent = 0  # deliveries this process sent (tests, logs)

    def start(self) -> None:
        if self._closed or self._task is not None:
            return
        self._task = asyncio.create_task(self._run(), name="dxlink webhooks")

    async def close(self) -> None:
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self._dsn,
            timeout=self._settings.db_connect_timeout,
            command_timeout=self._settings.db_command_timeout,
            server_settings={"application_name": APPLICATION_NAME},
        )

    async def _run(self) -> None:
        delay = _RECONNECT_SECONDS
        timeout = httpx.Timeout(self._settings.webhook_timeout_seconds)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            while not self._closed:
                connection: asyncpg.Connection | None = None
                try:
                    connection = await self._connect()
                    lost = asyncio.Event()
                    connection.add_termination_listener(_setter(lost))
                    await connection.add_listener(CHANNEL, self._notified)
                    delay = _RECONNECT_SECONDS
                    while not lost.is_set():
                        await self.deliver_due(connection, client)
                        with suppress(TimeoutError):
                            await asyncio.wait_for(
                                self._wake.wait(), timeout=self._settings.webhook_sweep_seconds
                            )
                        self._wake.clear()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    logger.warning("webhooks: the sender failed: %s", exc)
                finally:
                    if connection is not None:
                        connection.terminate()
                if self._closed:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RECONNECT_MAX_SECONDS)

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self._wake.set()

    async def deliver_due(self, connection: asyncpg.Connection, client: httpx.AsyncClient) -> int:
        """Send what is due, a batch at a time (posted concurrently), until nothing is; the
        number sent."""
        sent = 0
        lease = self._settings.webhook_timeout_seconds + _LEASE_SLACK_SECONDS
        while True:
            async with connection.transaction():
                await connection.execute(_MAINTENANCE)
                rows = await connection.fetch(_CLAIM, _BATCH, lease)
            if not rows:
                return sent
            outcomes = await asyncio.gather(*(self._deliver(client, row) for row in rows))
            async with connection.transaction():
                await connection.execute(_MAINTENANCE)
                for statement, args in outcomes:
                    await connection.execute(statement, *args)
            done = sum(statement is _SENT for statement, _ in outcomes)
            self.sent += done
            sent += done
            if len(rows) < _BATCH:
                return sent

    async def _deliver(self, client: httpx.AsyncClient, row: Any) -> tuple[str, tuple[Any, ...]]:
        """POST one row's payload; the statement (and its arguments) that records the outcome."""
        url, attempts, delivery = row["webhook_url"], row["attempts"] + 1, row["id"]
        host = host_of(url)
        if not postable(url):
            logger.warning("webhooks: delivery %d not sent: not an http(s) URL", delivery)
            return _FAILED, (delivery, "not an http(s) URL")
        error: str
        try:
            response = await client.post(
                url,
                content=row["payload"].encode(),
                headers={"Content-Type": "application/json"},
            )
            if 200 <= response.status_code < 300:
                logger.info("webhooks: delivery %d sent to %s", delivery, host)
                return _SENT, (delivery,)
            error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            # The exception's text may hold the URL: keep its kind only.
            error = type(exc).__name__
        if attempts >= self._settings.webhook_max_attempts:
            logger.warning(
                "webhooks: delivery %d to %s failed after %d attempts (%s)",
                delivery,
                host,
                attempts,
                error,
            )
            return _FAILED, (delivery, error[:_ERROR_CHARS])
        wait = backoff_seconds(attempts, self._settings)
        logger.info(
            "webhooks: delivery %d to %s failed (%s); retry in %.1f s", delivery, host, error, wait
        )
        return _RETRY, (delivery, error[:_ERROR_CHARS], wait)


def _setter(event: asyncio.Event) -> Any:
    return lambda _: event.set()
