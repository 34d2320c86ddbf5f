"""Rules of the assessment domain (reads of the framework so far)."""

from __future__ import annotations

from typing import Any

from schema.mapping import SqlType
from service import reads
from service.database import RequestSession
from service.errors import InvalidArgument


class AssessmentService:
    def __init__(self, db: RequestSession) -> None:
        self.db = db

    async def framework(self, spec: SqlType, version: str | None) -> Any | None:
        """The framework of ``version``, or the newest one when no version is given."""
        if version is None:
            frameworks = await reads.fetch_all(self.db, spec, order_by=[spec.key.desc()])
            return frameworks[0] if frameworks else None
        if not version.strip() or len(version) > 20:
            raise InvalidArgument("version", "must be a framework version such as 2024")
        return await reads.fetch_one(self.db, spec, [spec.key == version.strip()])

    async def frameworks(self, spec: SqlType) -> list[Any]:
        return await reads.fetch_all(self.db, spec)
