"""Queries of the open-data catalog (reference lists so far; datasets come with the catalog)."""

from __future__ import annotations

from datetime import date

import strawberry

from resolvers.context import Info
from schema.mapping import sql_type_of
from schema.node import decode_global_id
from schema.open_data import (
    Dataset,
    DatasetOrder,
    DatasetSearchConnection,
    DatasetTheme,
    License,
    StandardDataset,
)
from service import reads
from service.open_data.catalog import CatalogArguments, CatalogService


@strawberry.type
class OpenDataQuery:
    @strawberry.field(
        description="自治体標準オープンデータセット / The national standard open-dataset list "
        "(A-01 ...)."
    )
    async def standard_datasets(self, info: Info) -> list[StandardDataset]:
        return await reads.fetch_all(info.context.db, sql_type_of(StandardDataset))

    @strawberry.field(
        description="利用規約 / The licenses datasets may carry (the configured list)."
    )
    async def licenses(self, info: Info) -> list[License]:
        return await reads.fetch_all(info.context.db, sql_type_of(License))

    @strawberry.field(description="分野 / The data themes datasets are classified by.")
    async def dataset_themes(self, info: Info) -> list[DatasetTheme]:
        return await reads.fetch_all(info.context.db, sql_type_of(DatasetTheme))

    @strawberry.field(
        description="データセット検索 / The open-data catalog: datasets the viewer may read "
        "(the public: published ones), searched and filtered, with facet counts. `search` "
        "matches titles, descriptions and keywords in Japanese and English (partial words: "
        "避難所 finds 指定緊急避難場所一覧; full-width and half-width alike, katakana as "
        "hiragana); `publisher` is a municipality's or the prefecture's code, `region` a "
        "regional office's name (海草振興局) or short name (海草), `theme` a data theme code, "
        "`standardDataset` a key such as A-08, `format` e.g. CSV, `license` a license key."
    )
    async def datasets(
        self,
        info: Info,
        search: str | None = None,
        publisher: str | None = None,
        region: str | None = None,
        theme: str | None = None,
        standard_dataset: str | None = None,
        format: str | None = None,
        license: str | None = None,
        modified_since: date | None = None,
        order_by: DatasetOrder | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> DatasetSearchConnection:
        order = order_by or DatasetOrder()
        arguments = CatalogArguments(
            search=search,
            publisher=publisher,
            region=region,
            theme=theme,
            standard_dataset=standard_dataset,
            format=format,
            license=license,
            modified_since=modified_since,
            order_field=order.field.value,
            descending=order.direction.value == "desc",
        )
        service = CatalogService(info.context.db, info.context.settings)
        page, count, facets = await service.search(
            sql_type_of(Dataset), arguments, first=first, after=after
        )
        connection = DatasetSearchConnection.from_page(page, count)
        connection.facet_source = facets
        return connection  # type: ignore[return-value]

    @strawberry.field(
        description="データセット / One dataset by its id; null when there is none the viewer "
        "may read (the public reads published datasets only)."
    )
    async def dataset(self, info: Info, id: strawberry.ID) -> Dataset | None:
        spec, key = decode_global_id(id, "id")
        if spec.name != "Dataset":
            return None
        target = sql_type_of(Dataset)
        return await reads.fetch_one(info.context.db, target, [target.key == key])
