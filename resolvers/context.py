"""The typed per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from auth.principal import PUBLIC, Principal
from resolvers.loaders import Loaders
from service.database import RequestSession
from service.errors import DxlinkError
from service.live import ChangeHub
from service.settings import Settings


@dataclass
class Context:
    request: Request
    response: Response | None
    settings: Settings
    principal: Principal
    db: RequestSession
    request_id: str
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)


Info = StrawberryInfo[Context, None]


@dataclass
class _Event:
    db: RequestSession
    loaders: Loaders


# The event a subscription is delivering. Each operation of a websocket connection runs in a task
# of its own (strawberry's graphql-transport-ws handler), and graphql-core resolves an event's
# selection in that task right after the subscription's generator yields it, before it asks
# for the next one: so the value the generator sets is the one that event's resolvers read.
_event: ContextVar[_Event | None] = ContextVar("dxlink_live_event", default=None)


class TokenExpired(DxlinkError):
    code = "UNAUTHENTICATED"


class LiveContext(Context):
    """The context of one websocket connection, shared by its operations.

    A connection lives for hours and its changes arrive one by one: nothing is read in a
    connection-wide transaction, and no DataLoader caches across events. Each event is read
    in a transaction and with DataLoaders of its own (`event`), as the connection's principal.
    """

    def __init__(
        self,
        websocket: WebSocket,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        hub: ChangeHub,
        connection_id: str,
    ) -> None:
        # Not the dataclass's __init__: `db` and `loaders` are the current event's (below).
        self.request = websocket  # type: ignore[assignment]
        self.response = None
        self.settings = settings
        self.principal = PUBLIC
        self.request_id = connection_id
        self.sessionmaker = sessionmaker
        self.hub = hub
        self.expires_at: float | None = None
        # graphql-transport-ws's connection_init payload (strawberry sets it).
        self.connection_params: dict[str, Any] | None = None

    @property  # type: ignore[override]
    def db(self) -> RequestSession:
        return _current().db

    @property  # type: ignore[override]
    def loaders(self) -> Loaders:
        return _current().loaders

    def check_token(self) -> None:
        """Refuse to deliver anything once the connection's token has expired."""
        if self.expires_at is not None and time.time() >= self.expires_at:
            raise TokenExpired(
                "Unauthenticated: the token has expired; connect again with a fresh one.",
                reason="expired",
            )

    @asynccontextmanager
    async def event(self) -> AsyncIterator[RequestSession]:
        """A transaction and DataLoaders for one event, ended (rolled back: it only reads) when
        the block ends, that is when the subscription is asked for its next event."""
        db = RequestSession(self.sessionmaker, self.principal, self.request_id)
        _event.set(_Event(db, Loaders(db)))
        try:
            yield db
        finally:
            _event.set(None)
            await db.finish(commit=False)


def _current() -> _Event:
    event = _event.get()
    if event is None:
        raise RuntimeError("a websocket operation read outside a subscription event")
    return event
