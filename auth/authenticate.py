"""From an HTTP request to a `Principal`: verify the bearer token, then check its scope exists."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.principal import PUBLIC, SCOPE_CLAIMS, Principal, Role
from auth.tokens import AuthenticationError, TokenVerifier
from service.database import API_ROLE
from service.geography.codes import is_valid_code
from service.models import Municipality, Region

_SCOPE_TTL_SECONDS = 60.0
# The service's login reads nothing by itself: the lookup runs as the API role with no principal
# (the public's view), for this transaction only.
_AS_API_ROLE = text("SELECT set_config('role', :role, true)").bindparams(role=API_ROLE)


class Authenticator:
    def __init__(
        self, verifier: TokenVerifier, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self.verifier = verifier
        self.sessionmaker = sessionmaker
        # Scopes rarely change; a short cache of found scopes spares a query per request.
        self._scopes: dict[tuple[Role, str], tuple[float, dict[str, Any]]] = {}

    async def principal(self, authorization: str | list[str] | None) -> Principal:
        """The caller of a request whose Authorization header (or all its values) is given."""
        principal, _ = await self.authenticate(authorization)
        return principal

    async def authenticate(
        self, authorization: str | list[str] | None
    ) -> tuple[Principal, float | None]:
        """The caller, and when its token expires (seconds since 1970; None for the public):
        a websocket connection outlives its handshake."""
        if isinstance(authorization, list):
            # A client or proxy that sends two may mean either: choosing one is a guess, and a
            # guess that differs from a proxy's is a way past it (RFC 9110 allows one value).
            if len(authorization) > 1:
                raise AuthenticationError("more than one Authorization header")
            authorization = authorization[0] if authorization else None
        if not authorization:
            return PUBLIC, None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
        claims = self.verifier.verify(token.strip())
        role = Role(claims["role"])
        scope: dict[str, Any] = {}
        claim = SCOPE_CLAIMS.get(role)
        if claim is not None:
            found = await self._scope(role, str(claims[claim]))
            if found is None:
                raise AuthenticationError(f"{claim} {claims[claim]!r} does not exist")
            scope = found
        return Principal(role=role, subject=str(claims["sub"]), **scope), float(claims["exp"])

    async def _scope(self, role: Role, value: str) -> dict[str, Any] | None:
        now = time.monotonic()
        cached = self._scopes.get((role, value))
        if cached is not None and now - cached[0] < _SCOPE_TTL_SECONDS:
            return cached[1]
        found = await self._lookup(role, value)
        if found is not None:
            self._scopes[(role, value)] = (now, found)
        return found

    async def _lookup(self, role: Role, value: str) -> dict[str, Any] | None:
        """Resolve the scope claim to ids, as the API role with no principal yet."""
        async with self.sessionmaker() as connection:
            await connection.execute(_AS_API_ROLE)
            if role is Role.municipal_staff:
                if not is_valid_code(value):
                    return None
                row = (
                    await connection.execute(
                        select(Municipality.id).where(Municipality.code == value)
                    )
                ).first()
                return {"municipality_id": row.id, "municipality_code": value} if row else None
            if role is Role.expert:
                if not value.isdigit() or len(value) > 9:
                    return None
                # Experts are not the public's to read: a function answers whether the id
                # exists, and nothing else (migration e6f7a8b9c0d1).
                exists = await connection.scalar(select(func.dxlink_expert_exists(int(value))))
                return {"expert_id": int(value)} if exists else None
            if role is Role.producer:
                if not value.isdigit() or len(value) > 9:
                    return None
                # Producers, like experts, are not the public's to read (migration f0a1b2c3d4e5).
                exists = await connection.scalar(select(func.dxlink_producer_exists(int(value))))
                return {"producer_id": int(value)} if exists else None
            row = (
                await connection.execute(
                    select(Region.id).where(or_(Region.name == value, Region.short_name == value))
                )
            ).first()
            return {"region_id": row.id} if row else None
