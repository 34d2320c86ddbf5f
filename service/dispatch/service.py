"""Rules of the dispatch domain (reads so far; the access policy scopes every select)."""

from __future__ import annotations

from typing import Any

from schema.mapping import SqlType
from service import reads
from service.database import RequestSession
from service.geography.codes import require_valid_code
from service.models import DispatchAssignment, Expert, Municipality


class DispatchService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def experts(self, spec: SqlType) -> list[Any]:
        return await reads.fetch_all(self.db, spec, order_by=[Expert.name, Expert.id])

    async def assignments(self, spec: SqlType, municipality_code: str | None) -> list[Any]:
        where = []
        if municipality_code is not None:
            code = require_valid_code(municipality_code.strip(), "municipalityCode")
            where.append(
                DispatchAssignment.municipality_id.in_(
                    Municipality.__table__.select()
                    .with_only_columns(Municipality.id)
                    .where(Municipality.code == code)
                    .scalar_subquery()
                )
            )
        return await reads.fetch_all(self.db, spec, where)
