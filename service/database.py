"""Database access: one engine per process, one session (and transaction) per GraphQL request.

Requests read through SQLAlchemy Core selects built from the type-to-table declaration
(`schema.mapping`); the ORM is kept for writes. DataLoaders of one request may run their batch
functions concurrently, but a connection runs one statement at a time, so `RequestSession`
serialises the request's statements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Executable, Row, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.settings import Settings


def async_url(url: str) -> str:
    """Turn a libpq-style ``postgresql://`` URL into the asyncpg driver URL SQLAlchemy needs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername != "postgresql+asyncpg":
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got driver {parsed.drivername!r}")
    query = dict(parsed.query)
    # asyncpg spells libpq's sslmode as ssl.
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    return parsed.set(query=query).render_as_string(hide_password=False)


def create_engine(
    url: str, settings: Settings, *, statement_timeout_ms: int | None = None
) -> AsyncEngine:
    """The process's engine; migrations and seeds pass ``statement_timeout_ms=0`` (no limit:
    they wait for each other's locks and may build large indexes)."""
    if statement_timeout_ms is None:
        statement_timeout_ms = settings.db_statement_timeout_ms
    connect_args: dict[str, Any] = {
        "server_settings": {
            "application_name": "dxlink",
            "timezone": "UTC",
            "statement_timeout": str(statement_timeout_ms),
            "random_page_cost": str(settings.db_random_page_cost),
            # A request that stalls mid-transaction must not hold its locks for long.
            "idle_in_transaction_session_timeout": "60000",
        }
    }
    return create_async_engine(
        async_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


class Database:
    """Owns the engine and the session factory; created and disposed by the app's lifespan."""

    def __init__(
        self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession] | None = None
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker or async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, url: str, settings: Settings) -> Database:
        return cls(create_engine(url, settings))

    async def dispose(self) -> None:
        await self.engine.dispose()


API_ROLE = "dxlink_api"  # owns nothing, has no BYPASSRLS; created by the migrations

# The first statement of every request's transaction: assume the API role and publish the
# principal to the row-level-security policies (`set_config(..., true)` lasts one transaction).
_SET_PRINCIPAL = text(
    "SELECT set_config('role', :api_role, true), set_config('dxlink.role', :role, true), "
    "set_config('dxlink.municipality_id', :municipality_id, true), "
    "set_config('dxlink.expert_id', :expert_id, true), "
    "set_config('dxlink.region_id', :region_id, true), "
    "set_config('dxlink.subject', :subject, true), "
    "set_config('dxlink.request_id', :request_id, true)"
)


class RequestSession:
    """The session of one GraphQL request, shared by its resolvers and DataLoaders.

    Statements run one at a time (a connection cannot interleave them). The transaction is
    opened on the first statement, which sets the principal for row-level security, and is
    ended exactly once, by `finish`.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        principal: Any,
        request_id: str = "",
    ) -> None:
        self._sessionmaker = sessionmaker
        self.principal = principal
        self.request_id = request_id
        self._session: AsyncSession | None = None
        self._finished = False
        self._lock = asyncio.Lock()

    async def orm(self) -> AsyncSession:
        """The request's ORM session (for writes), its transaction scoped to the principal."""
        if self._finished:
            # A resolver still running after the response was settled (graphql-core lets
            # siblings of a failed non-null field finish): it must not open a new transaction.
            raise RuntimeError("the request's transaction has already ended")
        if self._session is None:
            session = self._sessionmaker()
            self._session = session
            p = self.principal
            await session.execute(
                _SET_PRINCIPAL,
                {
                    "api_role": API_ROLE,
                    "role": p.role.value,
                    "municipality_id": _text(p.municipality_id),
                    "expert_id": _text(p.expert_id),
                    "region_id": _text(p.region_id),
                    "subject": p.subject or "",
                    "request_id": self.request_id,
                },
            )
        return self._session

    async def all(self, statement: Executable) -> Sequence[Row[Any]]:
        async with self._lock:
            session = await self.orm()
            result = await session.execute(statement)
            return result.all()

    async def scalar(self, statement: Executable) -> Any:
        async with self._lock:
            session = await self.orm()
            return await session.scalar(statement)

    async def finish(self, *, commit: bool) -> None:
        """End the transaction, once; a failed commit raises (the caller reports it)."""
        async with self._lock:
            self._finished = True
            if self._session is None:
                return
            session, self._session = self._session, None
            try:
                if commit:
                    await session.commit()
                else:
                    await session.rollback()
            finally:
                await session.close()


def _text(value: int | None) -> str:
    return "" if value is None else str(value)
