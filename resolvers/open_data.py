"""Queries of the open-data catalog (reference lists so far; datasets come with the catalog)."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.mapping import sql_type_of
from schema.open_data import DatasetTheme, License, StandardDataset
from service import reads


@strawberry.type
class OpenDataQuery:
    @strawberry.field(
        description="自治体標準オープンデータセット / The national standard open-dataset list "
        "(A-01 ...)."
    )
    async def standard_datasets(self, info: Info) -> list[StandardDataset]:
        return await reads.fetch_all(info.context.db, sql_type_of(StandardDataset))

    @strawberry.field(description="利用規約 / The licenses datasets may carry (the configured list).")
    async def licenses(self, info: Info) -> list[License]:
        return await reads.fetch_all(info.context.db, sql_type_of(License))

    @strawberry.field(description="分野 / The data themes datasets are classified by.")
    async def dataset_themes(self, info: Info) -> list[DatasetTheme]:
        return await reads.fetch_all(info.context.db, sql_type_of(DatasetTheme))
