"""Telling a database outage from a bug, so that clients get 503 and `Retry-After`, not 500.

PostgreSQL stopped, restarting, frozen or out of connections shows up as many exceptions:
refused or reset sockets (`OSError`), the driver's connect and command timeouts, asyncpg's
connection errors and the server's shutdown states, SQLAlchemy's pool timeout, and SQLAlchemy's
wrappers around each. `is_unavailable` recognises them anywhere in an exception's chain; the
API answers them with `SERVICE_UNAVAILABLE` (HTTP 503), and recovers by itself when the
database is back (the pools reconnect, dropping connections the driver saw close).
"""

from __future__ import annotations

import asyncpg
from sqlalchemy import exc as sa_exc
from starlette.responses import JSONResponse

from service.errors import DxlinkError
from service.http_body import error_response

RETRY_AFTER_SECONDS = 5

_SERVER_STATES = (
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.exceptions.AdminShutdownError,  # 57P01
    asyncpg.exceptions.CrashShutdownError,  # 57P02
    asyncpg.exceptions.TooManyConnectionsError,  # 53300
    asyncpg.exceptions.ConnectionDoesNotExistError,  # the connection was lost mid-way
    asyncpg.exceptions.QueryCanceledError,  # 57014: statement_timeout, or a cancel on shutdown
    asyncpg.exceptions.PostgresConnectionError,  # class 08
)


class DatabaseUnavailable(DxlinkError):
    """The database cannot answer now; the client should retry after `retryAfter` seconds."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, reason: str = "the database is unavailable") -> None:
        super().__init__(
            f"Service unavailable: {reason}; retry in {RETRY_AFTER_SECONDS} s.",
            retryAfter=RETRY_AFTER_SECONDS,
        )


def _is_unavailable_one(exc: BaseException) -> bool:
    if isinstance(exc, (DatabaseUnavailable, sa_exc.TimeoutError, *_SERVER_STATES)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    # Connection refused or reset, host unreachable; and the driver's connect/command timeouts.
    return isinstance(exc, OSError | TimeoutError)


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot be reached now."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen or len(seen) > 20:
            continue
        seen.add(id(current))
        if _is_unavailable_one(current):
            return True
        stack += [current.__cause__, current.__context__, getattr(current, "orig", None)]
    return False


def unavailable_response() -> JSONResponse:
    """HTTP 503 for a request the database could not serve."""
    unavailable = DatabaseUnavailable()
    return error_response(
        unavailable.message,
        status=503,
        code=unavailable.code,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        retryAfter=RETRY_AFTER_SECONDS,
    )
