"""Queries of the open-data catalog (reference lists so far; datasets come with the catalog)."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.mapping import sql_type_of
from schema.open_data import StandardDataset
from service import reads


@strawberry.type
class OpenDataQuery:
    @strawberry.field(description="The national standard open-dataset list (A-01 ...).")
    async def standard_datasets(self, info: Info) -> list[StandardDataset]:
        return await reads.fetch_all(info.context.db, sql_type_of(StandardDataset))
