"""Idempotent mutations: a retried request gets the first answer and writes nothing again.

A client sends `Idempotency-Key: <key>` with a mutation (the convention of Stripe's and the
IETF draft's HTTP header). The key is claimed in the mutation's own transaction, before it
runs: `INSERT ... ON CONFLICT DO NOTHING` on (subject, key). A retry arriving while the first
runs waits for it on the unique key; once it committed, the retry finds the stored answer and
is answered with it, byte for byte (`Idempotent-Replayed: true`). When the first failed, its
transaction took the claim with it and the retry runs afresh. A key reused for another request
(another document or variables) is refused (422). Keys last 24 hours.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from service.database import RequestSession
from service.http_body import BadRequest
from service.models import IdempotencyKey

HEADER = "idempotency-key"
_KEY = re.compile(r"[A-Za-z0-9._:-]{1,200}")
LIFETIME_HOURS = 24

table = IdempotencyKey.__table__


def request_hash(payload: dict[str, Any]) -> str:
    """What makes two requests the same: document, operation name and variables."""
    canonical = orjson.dumps(
        [payload.get("query"), payload.get("operationName"), payload.get("variables") or {}],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


def checked_key(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise BadRequest(
            "The Idempotency-Key header must be 1 to 200 characters of letters, digits and `._:-`.",
            field="Idempotency-Key",
        )
    return value


@dataclass
class Claim:
    """A key this request holds: its answer is stored before the transaction commits."""

    id: int


@dataclass
class Replay:
    """The stored answer of the request that held the key first."""

    body: bytes


async def claim(db: RequestSession, key: str, digest: str) -> Claim | Replay:
    subject = db.principal.subject
    expired = func.now() - func.make_interval(0, 0, 0, 0, LIFETIME_HOURS)
    await db.rowcount(
        delete(table).where(
            table.c.subject == subject, table.c.key == key, table.c.created_at < expired
        )
    )
    rows = await db.all(
        insert(table)
        .values(subject=subject, key=key, request_hash=digest)
        .on_conflict_do_nothing(index_elements=["subject", "key"])
        .returning(table.c.id)
    )
    if rows:
        return Claim(int(rows[0][0]))
    found = (
        await db.all(
            select(table.c.request_hash, table.c.response).where(
                table.c.subject == subject, table.c.key == key
            )
        )
    )[0]
    if found.request_hash != digest:
        raise BadRequest(
            "The Idempotency-Key was used for another request; use a new key.",
            status=422,
            code="IDEMPOTENCY_KEY_REUSED",
        )
    return Replay(found.response.encode())


async def keep(db: RequestSession, held: Claim, body: bytes) -> None:
    """Store the answer, in the transaction that is about to commit."""
    await db.rowcount(update(table).where(table.c.id == held.id).values(response=body.decode()))
