"""GraphQL types of the open-data catalog (read side): datasets and their distributions."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.context import Info
from schema.mapping import Column, ToMany, ToOne, sql_type
from schema.node import Node
from schema.scalars import BigInt
from service.models import Dataset as DatasetModel
from service.models import DatasetPublisher as PublisherModel
from service.models import Distribution as DistributionModel
from service.models import Municipality as MunicipalityModel
from service.models import StandardDataset as StandardDatasetModel
from service.models.open_data import DatasetStatus as DatasetStatusModel

if TYPE_CHECKING:
    from schema.geography import Municipality

dataset_t = DatasetModel.__table__
distribution_t = DistributionModel.__table__
publisher_t = PublisherModel.__table__
standard_t = StandardDatasetModel.__table__
municipality_t = MunicipalityModel.__table__

DatasetStatus = strawberry.enum(
    DatasetStatusModel, name="DatasetStatus", description="DRAFT, PUBLISHED or UNPUBLISHED."
)


@sql_type(
    standard_t,
    key=standard_t.c.key,
    order_by=(standard_t.c.key,),
    fields={
        "key": Column(standard_t.c.key),
        "name": Column(standard_t.c.name),
        "legacy_number": Column(standard_t.c.legacy_number),
    },
)
@strawberry.type(description="An entry of the national 自治体標準オープンデータセット, e.g. A-03.")
class StandardDataset(Node):
    key: str = strawberry.field(description="e.g. A-03.")
    name: str = strawberry.field(description="e.g. 指定緊急避難場所一覧.")
    legacy_number: str | None = strawberry.field(
        description="Number in the older 推奨データセット."
    )


@sql_type(
    dataset_t,
    key=dataset_t.c.id,
    order_by=(dataset_t.c.id,),
    fields={
        "identifier": Column(dataset_t.c.identifier),
        "title": Column(dataset_t.c.title),
        "description": Column(dataset_t.c.description),
        "keywords": Column(dataset_t.c.keywords),
        "status": Column(dataset_t.c.status),
        "license": Column(dataset_t.c.license),
        "update_frequency": Column(dataset_t.c.update_frequency),
        "issued_on": Column(dataset_t.c.issued_on),
        "modified_on": Column(dataset_t.c.modified_on),
        "standard_dataset": ToOne(
            "StandardDataset", dataset_t.c.standard_dataset_id, standard_t.c.id
        ),
        "distributions": ToMany(
            "Distribution",
            dataset_t.c.id,
            distribution_t.c.dataset_id,
            (distribution_t.c.position, distribution_t.c.id),
        ),
        "publishers": ToMany(
            "Municipality",
            dataset_t.c.id,
            publisher_t.c.dataset_id,
            (municipality_t.c.code,),
            through=(publisher_t, publisher_t.c.municipality_id == municipality_t.c.id),
        ),
    },
)
@strawberry.type(description="An open dataset (DCAT core) published by one or more municipalities.")
class Dataset(Node):
    identifier: str
    title: str
    description: str | None
    keywords: list[str]
    status: DatasetStatus
    license: str = strawberry.field(description="e.g. PDL-1.0 or CC-BY-4.0.")
    update_frequency: str | None
    issued_on: date | None
    modified_on: date | None

    @strawberry.field(description="The national standard dataset it conforms to, if any.")
    async def standard_dataset(self, info: Info) -> StandardDataset | None:
        return await info.context.loaders.load_related(self, "standard_dataset")

    @strawberry.field(description="Files and services of the dataset, in order.")
    async def distributions(self, info: Info) -> list[Distribution]:
        return await info.context.loaders.load_related(self, "distributions")

    @strawberry.field(description="Municipalities publishing it (several for joint datasets).")
    async def publishers(
        self, info: Info
    ) -> list[Annotated[Municipality, strawberry.lazy("schema.geography")]]:
        return await info.context.loaders.load_related(self, "publishers")


@sql_type(
    distribution_t,
    key=distribution_t.c.id,
    order_by=(distribution_t.c.dataset_id, distribution_t.c.position, distribution_t.c.id),
    fields={
        "title": Column(distribution_t.c.title),
        "access_url": Column(distribution_t.c.access_url),
        "media_type": Column(distribution_t.c.media_type),
        "format": Column(distribution_t.c.format),
        "byte_size": Column(distribution_t.c.byte_size),
    },
)
@strawberry.type(description="One distribution (a file or API) of a dataset.")
class Distribution(Node):
    title: str | None
    access_url: str
    media_type: str | None
    format: str | None = strawberry.field(description="e.g. CSV.")
    byte_size: BigInt | None = strawberry.field(
        description="Size in bytes (a 64-bit integer: files can exceed 2 GiB)."
    )
