"""Idempotency keys of mutations: a retried request gets the first answer, not a second write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, created_at_column


class IdempotencyKey(Base):
    """One key a client sent with a mutation, and the answer it got (kept for 24 hours).

    The row is inserted when the mutation starts, in its transaction: a retry arriving while
    the first is running waits for it on the unique key, then reads its answer.
    """

    __tablename__ = "idempotency_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    # sha256 of the request (document, operation, variables): a key reused for another
    # request is refused, not answered with the wrong result.
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("subject", "key"),)
