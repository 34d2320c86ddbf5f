"""What the interchange endpoints (DCAT-AP JSON-LD, the CKAN Action API) share with /graphql:
the bearer token's principal, one `RequestSession` per request, outages as 503.

A request is authenticated exactly as /graphql authenticates it (the same `Authenticator`,
hence the same header, checks and scope cache): no token is the public, a refused token is
answered 401 before anything is read. The request's reads then run in one `RequestSession`
as that principal (row-level security as `dxlink_api`), which is rolled back at the end:
these endpoints only read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from auth.authenticate import Authenticator
from auth.principal import Principal
from auth.tokens import AuthenticationError
from service.availability import is_unavailable
from service.database import Database, RequestSession
from service.logging import current_request_id

logger = logging.getLogger("dxlink.interchange")

Work = Callable[[RequestSession, Principal], Awaitable[Response]]


@dataclass(frozen=True)
class Refusals:
    """How an endpoint words the refusals that come before its work."""

    unauthenticated: Callable[[str], Response]
    unavailable: Callable[[], Response]


def base_url(request: Request) -> str:
    """The API's base URL as the client reached it (uvicorn honours X-Forwarded-* from trusted
    proxies): the documents' IRIs and links start with it."""
    return str(request.base_url).rstrip("/")


def storable(value: str) -> bool:
    """Whether PostgreSQL can hold ``value`` as text: no NUL, no lone surrogate (JSON allows
    both; the GraphQL path refuses them too, service/input_guard.py)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Reader:
    """Runs an endpoint's reads as the request's principal."""

    def __init__(
        self, database: Callable[[], Database], authenticator: Callable[[], Authenticator]
    ) -> None:
        # Getters: the app's lifespan makes the database (and so the authenticator) at startup.
        self._database = database
        self._authenticator = authenticator

    async def run(self, request: Request, refusals: Refusals, work: Work) -> Response:
        try:
            principal = await self._authenticator().principal(
                request.headers.getlist("authorization")
            )
        except AuthenticationError as exc:
            return refusals.unauthenticated(exc.reason)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.warning("database unavailable for the token's scope: %s", exc)
            return refusals.unavailable()
        db = RequestSession(self._database().sessionmaker, principal, current_request_id())
        try:
            return await work(db, principal)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.warning("database unavailable: %s", exc)
            return refusals.unavailable()
        finally:
            await _end(db)


async def _end(db: RequestSession) -> None:
    """Roll the request's transaction back (these endpoints only read)."""
    try:
        await db.finish(commit=False)
    except Exception as exc:
        # A connection lost mid-request has no transaction left to end.
        if not is_unavailable(exc):
            raise
