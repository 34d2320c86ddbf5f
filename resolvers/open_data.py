"""Queries and mutations of the open-data catalog: thin, they read the input, call the domain
service, and answer with the objects as the caller may read them."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import strawberry

from resolvers.context import Info
from resolvers.dispatch import node_key
from schema.errors import user_errors
from schema.mapping import sql_type_of
from schema.node import decode_global_id
from schema.open_data import (
    Dataset,
    DatasetOrder,
    DatasetSearchConnection,
    DatasetTheme,
    Distribution,
    License,
    StandardDataset,
)
from schema.open_data_writes import (
    AddDistributionInput,
    AddDistributionPayload,
    ApproveJointDatasetInput,
    CreateDatasetInput,
    DatasetPayload,
    PublishDatasetInput,
    UnpublishDatasetInput,
    UpdateDatasetInput,
)
from service import reads
from service.open_data.catalog import CatalogArguments, CatalogService
from service.open_data.datasets import DatasetService
from service.open_data.fields import UNSET, DatasetFields, DistributionFields
from service.open_data.publication import PublicationService
from service.writes import UserErrors


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


async def _dataset(info: Info, write: Callable[[], Awaitable[int]]) -> DatasetPayload:
    """Run a write of a dataset; read it back as the caller may read it."""
    try:
        key = await write()
    except UserErrors as refused:
        return DatasetPayload(dataset=None, user_errors=user_errors(refused.errors))
    spec = sql_type_of(Dataset)
    found = await reads.fetch_one(info.context.db, spec, [spec.table.c.id == key])
    return DatasetPayload(dataset=found, user_errors=[])


def _fields(data: Any) -> DatasetFields:
    """The dataset fields an input sets (an update's input has no identifier)."""
    given = {f.name: getattr(data, f.name, UNSET) for f in dataclasses.fields(DatasetFields)}
    return DatasetFields(**{n: v for n, v in given.items() if v is not strawberry.UNSET})


def _key(value: str, argument: str) -> Any:
    return node_key(value, "Dataset", argument)


@strawberry.type
class OpenDataMutation:
    @strawberry.mutation(
        description="データセットの作成 / create a draft dataset (a municipality's staff, for "
        "their municipality; the prefecture's staff)."
    )
    async def create_dataset(self, info: Info, input: CreateDatasetInput) -> DatasetPayload:
        service = DatasetService(info.context.db)
        return await _dataset(info, lambda: service.create(_fields(input)))

    @strawberry.mutation(description="データセットの更新 / edit a dataset (its publishers).")
    async def update_dataset(self, info: Info, input: UpdateDatasetInput) -> DatasetPayload:
        service = DatasetService(info.context.db)
        key = _key(input.id, "input.id")
        return await _dataset(info, lambda: service.update(key, input.version, _fields(input)))

    @strawberry.mutation(description="配布の追加 / add a distribution to a dataset.")
    async def add_distribution(
        self, info: Info, input: AddDistributionInput
    ) -> AddDistributionPayload:
        service = DatasetService(info.context.db)
        given = DistributionFields(
            access_url=input.access_url,
            title=input.title,
            download_url=input.download_url,
            media_type=input.media_type,
            format=input.format,
            byte_size=input.byte_size,
            checksum=input.checksum,
            checksum_algorithm=input.checksum_algorithm,
            columns=input.columns,
        )
        try:
            distribution_id, dataset_id = await service.add_distribution(
                _key(input.dataset_id, "input.datasetId"), input.version, given
            )
        except UserErrors as refused:
            return AddDistributionPayload(
                distribution=None, dataset=None, user_errors=user_errors(refused.errors)
            )
        db = info.context.db
        distributions, datasets = sql_type_of(Distribution), sql_type_of(Dataset)
        return AddDistributionPayload(
            distribution=await reads.fetch_one(
                db, distributions, [distributions.table.c.id == distribution_id]
            ),
            dataset=await reads.fetch_one(db, datasets, [datasets.table.c.id == dataset_id]),
            user_errors=[],
        )

    @strawberry.mutation(
        description="公開の申請 / a publisher approves the current version and asks for "
        "publication."
    )
    async def publish_dataset(self, info: Info, input: PublishDatasetInput) -> DatasetPayload:
        service = PublicationService(info.context.db)
        key = _key(input.id, "input.id")
        return await _dataset(info, lambda: service.publish(key, input.version))

    @strawberry.mutation(
        description="共同発行の承認 / another publisher approves a joint dataset's current version."
    )
    async def approve_joint_dataset(
        self, info: Info, input: ApproveJointDatasetInput
    ) -> DatasetPayload:
        service = PublicationService(info.context.db)
        key = _key(input.id, "input.id")
        return await _dataset(info, lambda: service.approve(key, input.version))

    @strawberry.mutation(
        description="非公開化 / the prefecture withdraws a dataset from publication, with a reason."
    )
    async def unpublish_dataset(self, info: Info, input: UnpublishDatasetInput) -> DatasetPayload:
        service = PublicationService(info.context.db)
        key = _key(input.id, "input.id")
        return await _dataset(info, lambda: service.unpublish(key, input.version, input.reason))
