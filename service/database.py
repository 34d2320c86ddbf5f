"""Database access: one engine per process, one session (and transaction) per GraphQL request.

Requests read through SQLAlchemy Core selects built from the type-to-table declaration
(`schema.mapping`); the ORM is kept for writes. DataLoaders of one request may run their batch
functions concurrently, but a connection runs one statement at a time, so `RequestSession`
serialises the request's statements.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import Executable, Row, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.settings import Settings, kept_secret

T = TypeVar("T")


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


def libpq_url(url: str) -> str:
    """``url`` as asyncpg's own connect() takes it (libpq spelling, ``sslmode``)."""
    parsed = make_url(url).set(drivername="postgresql")
    query = dict(parsed.query)
    if "ssl" in query and "sslmode" not in query:
        query["sslmode"] = query.pop("ssl")
    return parsed.set(query=query).render_as_string(hide_password=False)


def create_engine(
    url: str, settings: Settings, *, statement_timeout_ms: int | None = None
) -> AsyncEngine:
    """The process's engine; migrations and seeds pass ``statement_timeout_ms=0`` (no limit:
    they wait for each other's locks and may build large indexes)."""
    if statement_timeout_ms is None:
        statement_timeout_ms = settings.db_statement_timeout_ms
    # Migrations and seeds (no statement timeout) may wait on each other's locks: no command
    # timeout either.
    command_timeout = settings.db_command_timeout if statement_timeout_ms else None
    engine = create_async_engine(
        async_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        # No pre-ping (three round trips a request: BEGIN, a ping, ROLLBACK): `_drop_closed`
        # replaces a connection the driver knows is closed, for free, and a connection that
        # fails in use is a 503 (service/availability.py), after which the pool reconnects.
        pool_pre_ping=False,
        connect_args={
            "server_settings": server_settings(settings, statement_timeout_ms),
            # Bounds on waiting for a server that does not answer (stopped, frozen, cut off):
            # without them a request waits as long as its client does.
            "timeout": settings.db_connect_timeout,
            "command_timeout": command_timeout,
        },
    )
    event.listen(engine.sync_engine, "checkout", _drop_closed)
    return engine


def _drop_closed(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """Replace a pooled connection whose socket asyncpg saw close (the server restarted or
    ended it): the pool then checks out another one, without a round trip."""
    if dbapi_connection.driver_connection.is_closed():
        raise sa_exc.DisconnectionError("the connection was closed")


def server_settings(settings: Settings, statement_timeout_ms: int) -> dict[str, str]:
    """The session settings of every connection the service opens."""
    return {
        "application_name": "dxlink",
        "timezone": "UTC",
        "statement_timeout": str(statement_timeout_ms),
        "random_page_cost": str(settings.db_random_page_cost),
        # A request that stalls mid-transaction must not hold its locks for long.
        "idle_in_transaction_session_timeout": "60000",
    }


class Database:
    """Owns the engine, the session factory and the compiled path's read pool; created and
    disposed by the app's lifespan.

    Without a read pool (a test's database bound to one rolled-back transaction), compiled
    statements run in a `RequestSession` like everything else.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        read_pool: ReadPool | None = None,
        listen_url: str | None = None,
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker or async_sessionmaker(engine, expire_on_commit=False)
        self.read_pool = read_pool
        # Where the live changes' listener connects (service/live.py); None: no live changes
        # (a test's database, bound to one transaction that never commits).
        self.listen_url = listen_url

    @classmethod
    def from_settings(cls, url: str, settings: Settings) -> Database:
        """The service's database. ``url`` is the owner's (DATABASE_URL, or the embedded
        server's superuser), which migrates and seeds; both pools log in as the runtime login
        instead, and refuse to work should that login turn out privileged."""
        runtime = RuntimeLogin.from_settings(settings).url(url)
        engine = create_engine(runtime, settings)
        event.listen(engine.sync_engine, "connect", _refuse_privileged_dbapi_login)
        return cls(engine, read_pool=ReadPool(runtime, settings), listen_url=runtime)

    async def read_json(
        self, principal: Any, request_id: str, sql: str, args: Sequence[Any]
    ) -> str | None:
        """Run a compiled read statement (one text column: the response body) as principal."""
        if self.read_pool is not None:
            return await self.read_pool.read(principal, sql, args)
        db = RequestSession(self.sessionmaker, principal, request_id)
        try:
            text_ = await db.driver_scalar(sql, args)
        except BaseException:
            await db.finish(commit=False)
            raise
        await db.finish(commit=False)  # read only: nothing to commit
        return _body(text_)

    async def dispose(self) -> None:
        try:
            if self.read_pool is not None:
                await self.read_pool.close()
        finally:
            await self.engine.dispose()


@dataclass(frozen=True)
class RuntimeLogin:
    """The login of the API's connections (DXLINK_DB_RUNTIME_USER): no superuser, no
    BYPASSRLS, owns nothing, and has no rights but to assume `API_ROLE`, so that after a
    ``RESET ROLE`` it reads nothing. `dxlink migrate` creates it (service/migrate.py)."""

    user: str
    password: str = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RuntimeLogin:
        """DXLINK_DB_RUNTIME_PASSWORD, or a random password kept in the data directory."""
        if settings.db_runtime_password is not None:
            password = settings.db_runtime_password.get_secret_value()
        else:
            password = kept_secret(settings, "db-runtime-password")
        return cls(settings.db_runtime_user, password)

    def url(self, owner_url: str) -> str:
        """``owner_url`` with this login in place of the owner's (host, database, TLS kept)."""
        parsed = make_url(owner_url)
        # libpq also takes the login from the query string; the owner's must not win there.
        query = {k: v for k, v in parsed.query.items() if k not in ("user", "password")}
        return parsed.set(username=self.user, password=self.password, query=query).render_as_string(
            hide_password=False
        )


class PrivilegedLoginError(RuntimeError):
    """The runtime login could bypass row-level security: the service will not use it."""


# Superusers and BYPASSRLS roles ignore row-level security, and so (without FORCE) does a
# table's owner: none of them may serve requests.
_PRIVILEGED_LOGIN = """
SELECT r.rolsuper OR r.rolbypassrls OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid)
FROM pg_roles r WHERE r.rolname = session_user
"""


async def _refuse_privileged_login(connection: asyncpg.Connection) -> None:
    if await connection.fetchval(_PRIVILEGED_LOGIN) is not False:
        user = await connection.fetchval("SELECT session_user")
        raise PrivilegedLoginError(
            f"refusing to serve as {user}: a superuser, a role with BYPASSRLS or a table owner "
            "would bypass row-level security; DXLINK_DB_RUNTIME_USER must name a login that "
            "owns nothing (`dxlink migrate` creates one)"
        )


def _refuse_privileged_dbapi_login(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.run_async(_refuse_privileged_login)


_RETRY_AFTER_SECONDS = 5.0

API_ROLE = "dxlink_api"  # owns nothing, has no BYPASSRLS; created by the migrations

# What the row-level-security policies read of the principal (migration b7c1d2e3f4a5).
PRINCIPAL_SETTINGS = (
    "dxlink.role",
    "dxlink.municipality_id",
    "dxlink.expert_id",
    "dxlink.producer_id",
    "dxlink.region_id",
    "dxlink.subject",
    "dxlink.request_id",
)


def principal_values(principal: Any, request_id: str) -> tuple[str, ...]:
    """The values of `PRINCIPAL_SETTINGS` for ``principal``."""
    return (
        principal.role.value,
        _text(principal.municipality_id),
        _text(principal.expert_id),
        _text(principal.producer_id),
        _text(principal.region_id),
        principal.subject or "",
        request_id,
    )


def _set_principal(placeholders: list[str], *, local: bool) -> str:
    flag = "true" if local else "false"
    return ", ".join(
        f"set_config('{name}', {placeholder}, {flag})"
        for name, placeholder in zip(PRINCIPAL_SETTINGS, placeholders, strict=True)
    )


_BIND_NAMES = [f"s{i}" for i in range(len(PRINCIPAL_SETTINGS))]
# The first statement of every request's transaction: assume the API role and publish the
# principal to the row-level-security policies (`set_config(..., true)` lasts one transaction).
_SET_PRINCIPAL = text(
    "SELECT set_config('role', :api_role, true), "
    + _set_principal([":" + name for name in _BIND_NAMES], local=True)
)
# The same settings for a read pool session (`ReadPool`), kept until changed; asyncpg's $n.
SESSION_PRINCIPAL = "SELECT " + _set_principal(
    [f"${i + 1}" for i in range(len(PRINCIPAL_SETTINGS))], local=False
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
        self._savepoints = 0

    async def orm(self) -> AsyncSession:
        """The request's ORM session (for writes), its transaction scoped to the principal."""
        if self._finished:
            # A resolver still running after the response was settled (graphql-core lets
            # siblings of a failed non-null field finish): it must not open a new transaction.
            raise RuntimeError("the request's transaction has already ended")
        if self._session is None:
            session = self._sessionmaker()
            self._session = session
            values = principal_values(self.principal, self.request_id)
            await session.execute(
                _SET_PRINCIPAL,
                {
                    "api_role": API_ROLE,
                    **dict(zip(_BIND_NAMES, values, strict=True)),
                },
            )
        return self._session

    async def all(self, statement: Executable) -> Sequence[Row[Any]]:
        async def run(session: AsyncSession) -> Sequence[Row[Any]]:
            return (await session.execute(statement)).all()

        return await self._run(run)

    async def scalar(self, statement: Executable) -> Any:
        async def run(session: AsyncSession) -> Any:
            return await session.scalar(statement)

        return await self._run(run)

    async def driver_scalar(self, sql: str, args: Sequence[Any]) -> Any:
        """The first column of the first row of SQL already in the driver's dialect."""

        async def run(session: AsyncSession) -> Any:
            connection = await session.connection()
            return (await connection.exec_driver_sql(sql, tuple(args))).scalar()

        return await self._run(run)

    async def rowcount(self, statement: Executable) -> int:
        """The number of rows a write statement (without RETURNING) changed."""

        async def run(session: AsyncSession) -> int:
            result = await session.execute(statement)
            return int(result.rowcount)  # type: ignore[attr-defined]

        return await self._run(run)

    @asynccontextmanager
    async def savepoint(self, operation: str | None = None) -> AsyncIterator[None]:
        """A block whose statements are undone (and only they) when it raises: one mutation
        of an operation that may hold several. ``operation`` sets ``dxlink.operation`` for the
        block (the write policies' operation, service/writes.py) in the same round trip.

        The savepoint is SQL sent on the driver's connection (the simple protocol takes
        several statements at once): SQLAlchemy's ``begin_nested`` costs a round trip for
        ``SAVEPOINT`` and another for the setting, and Python on each."""
        name = f"dxlink_write_{self._savepoints}"
        self._savepoints += 1
        setting = ""
        if operation is not None:
            if not operation.isidentifier():
                raise ValueError(f"not an operation name: {operation!r}")
            setting = f"; SELECT set_config('dxlink.operation', '{operation}', true)"
        await self._run_driver(f"SAVEPOINT {name}{setting}")
        try:
            yield
        except BaseException:
            await self._run_driver(f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")
            raise
        await self._run_driver(f"RELEASE SAVEPOINT {name}")

    async def _run_driver(self, sql: str) -> None:
        """Run ``sql`` (no parameters, maybe several statements) on the asyncpg connection of
        the request's transaction."""

        async def run(session: AsyncSession) -> None:
            connection = await session.connection()
            raw = await connection.get_raw_connection()
            await raw.driver_connection.execute(sql)  # type: ignore[union-attr]

        await self._run(run)

    async def _run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` on the session, alone, and to its end even if the caller is cancelled.

        graphql-core cancels the siblings of a field whose error nulls their parent. A
        statement cancelled half-way leaves the session unusable (`PendingRollbackError` for
        every later statement of the request), so the statement runs in a task of its own
        that the caller only awaits; `finish` takes the same lock, so it waits for a statement
        still running before it ends the transaction.
        """

        async def locked() -> T:
            async with self._lock:
                return await work(await self.orm())

        task = asyncio.ensure_future(locked())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # Nobody awaits the task any more: collect its outcome so it is not logged as
            # "never retrieved" (an error there belongs to a request already answered).
            task.add_done_callback(_collect)
            raise

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


def _collect(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _body(value: Any) -> str | None:
    """A compiled statement's result: the response body, or NULL when a value the statement
    checks in the database fails (the resolvers then word the error)."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"a compiled statement returned {type(value).__name__}")
    return value


class ReadConnection(asyncpg.Connection):
    """A read pool connection; it remembers whose settings its session holds."""

    __slots__ = ("principal",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.principal: Any = None

    async def read_as(self, principal: Any, sql: str, args: Sequence[Any]) -> str | None:
        try:
            if self.principal != principal:
                self.principal = None
                # Reads write nothing: no request id for the audit trigger.
                await self.fetchval(SESSION_PRINCIPAL, *principal_values(principal, ""))
                self.principal = principal
            return _body(await self.fetchval(sql, *args))
        except BaseException:
            # Whatever failed, the session's settings are no longer known: never reuse it.
            self.principal = None
            self.terminate()
            raise


class ReadPoolUnavailable(RuntimeError):
    """The read pool could not hand out a connection (connect failure, or all busy)."""


class ReadPool:
    """The compiled read path's connections: one round trip per request.

    Its connections are read only (``default_transaction_read_only``) and assume the API role
    for their whole session (``SET ROLE dxlink_api`` when opened), so row-level security
    applies to every statement. The principal's settings live in the session too, and are
    rewritten only when a request's principal differs from the connection's last one: a
    request then costs one statement in its own implicit transaction, instead of BEGIN, the
    principal, the statement and COMMIT. A connection whose settings may not match what it
    remembers (any error) is closed, never reused.
    """

    def __init__(self, url: str, settings: Settings) -> None:
        self._dsn = libpq_url(url)
        self._settings = settings
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._closed = False
        self._failed_at: float | None = None

    async def _connection_opened(self, connection: asyncpg.Connection) -> None:
        await _refuse_privileged_login(connection)
        await connection.execute(f"SET ROLE {API_ROLE}")

    async def _released(self, connection: asyncpg.Connection) -> None:
        """Nothing to reset: the role and the principal's settings stay with the session."""

    async def pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._closed:
                raise RuntimeError("the read pool is closed")
            if self._pool is None:
                failed = self._failed_at
                if failed is not None and time.monotonic() - failed < _RETRY_AFTER_SECONDS:
                    # Requests go to the resolvers meanwhile, without queueing behind retries.
                    raise RuntimeError("the read pool could not connect; retrying shortly")
                try:
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=1,
                        max_size=self._settings.db_read_pool_size,
                        timeout=self._settings.db_connect_timeout,
                        command_timeout=self._settings.db_command_timeout,
                        connection_class=ReadConnection,
                        init=self._connection_opened,
                        reset=self._released,
                        server_settings={
                            **server_settings(
                                self._settings, self._settings.db_statement_timeout_ms
                            ),
                            "default_transaction_read_only": "on",
                            # The compiled statements are built per operation already; a
                            # generic plan spares planning on every request.
                            "plan_cache_mode": "force_generic_plan",
                        },
                    )
                except Exception:
                    self._failed_at = time.monotonic()
                    raise
                self._failed_at = None
        return self._pool

    async def read(self, principal: Any, sql: str, args: Sequence[Any]) -> str | None:
        """The body of a compiled statement; `ReadPoolUnavailable` when no connection could be
        had (the resolvers' pool may still work), any other error from the statement itself."""
        try:
            pool = await self.pool()
            connection = await pool.acquire(timeout=self._settings.db_pool_timeout)
        except Exception as exc:
            raise ReadPoolUnavailable(f"no read pool connection: {exc}") from exc
        try:
            return await connection.read_as(principal, sql, args)  # type: ignore[no-any-return]
        finally:
            await pool.release(connection)

    async def close(self) -> None:
        async with self._opening:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
