"""Rules of the tier domain (reference reads so far)."""

from __future__ import annotations

from typing import Any

from schema.mapping import SqlType
from service import reads
from service.database import RequestSession
from service.models import PublishedStatistic


class TierService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def tiers(self, spec: SqlType) -> list[Any]:
        return await reads.fetch_all(self.db, spec)

    async def published_statistics(
        self, spec: SqlType, survey: str | None, subject: str | None
    ) -> list[Any]:
        table = PublishedStatistic.__table__
        where = []
        if survey is not None:
            where.append(table.c.survey == survey)
        if subject is not None:
            where.append(table.c.subject == subject)
        return await reads.fetch_all(self.db, spec, where)
