"""Queries of the dispatch domain (read side)."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.dispatch import DispatchAssignment, Expert
from schema.mapping import sql_type_of
from service.dispatch.service import DispatchService


@strawberry.type
class DispatchQuery:
    @strawberry.field(description="Experts whose profile the viewer may see, by name.")
    async def experts(self, info: Info) -> list[Expert]:
        return await DispatchService(info.context.db).experts(sql_type_of(Expert))

    @strawberry.field(
        description="Expert assignments the viewer may see, optionally of one municipality."
    )
    async def dispatch_assignments(
        self, info: Info, municipality_code: str | None = None
    ) -> list[DispatchAssignment]:
        return await DispatchService(info.context.db).assignments(
            sql_type_of(DispatchAssignment), municipality_code
        )
