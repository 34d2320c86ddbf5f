"""GraphQL types of the catalog's coverage: published standard datasets per municipality and
publishing municipalities per fiscal year (views: service/models/views.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers.context import Info
from schema.mapping import Column, ToOne, sql_type
from schema.open_data import StandardDataset
from service.models import Municipality as MunicipalityModel
from service.models import StandardDataset as StandardDatasetModel
from service.models.views import catalog_coverage, catalog_publishers_by_year

if TYPE_CHECKING:
    from schema.geography import Municipality

municipality_t = MunicipalityModel.__table__
standard_t = StandardDatasetModel.__table__


@sql_type(
    catalog_coverage,
    key=catalog_coverage.c.municipality_id,
    node=False,
    order_by=(catalog_coverage.c.municipality_id, catalog_coverage.c.standard_dataset_id),
    fields={
        "datasets": Column(catalog_coverage.c.datasets),
        "last_modified_on": Column(catalog_coverage.c.last_modified_on),
        "municipality": ToOne(
            "Municipality", catalog_coverage.c.municipality_id, municipality_t.c.id
        ),
        "standard_dataset": ToOne(
            "StandardDataset", catalog_coverage.c.standard_dataset_id, standard_t.c.id
        ),
    },
)
@strawberry.type(
    description="標準データセットの公開状況 / one cell of the municipality x standard-dataset "
    "matrix: the municipality publishes this many datasets conforming to it (cells without "
    "any are not listed)."
)
class OpenDataCoverageCell:
    sql_row: strawberry.Private[Mapping[str, Any]]
    datasets: int = strawberry.field(description="公開件数 / Published datasets conforming.")
    last_modified_on: date | None = strawberry.field(
        description="最終更新日 / The newest of their modification dates."
    )

    @strawberry.field(description="市町村 / The publishing municipality.")
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")]:
        return await info.context.loaders.load_related(self, "municipality")

    @strawberry.field(description="標準データセット / The standard dataset.")
    async def standard_dataset(self, info: Info) -> StandardDataset:
        return await info.context.loaders.load_related(self, "standard_dataset")


@sql_type(
    catalog_publishers_by_year,
    key=catalog_publishers_by_year.c.fiscal_year,
    node=False,
    order_by=(catalog_publishers_by_year.c.fiscal_year,),
    fields={
        "fiscal_year": Column(catalog_publishers_by_year.c.fiscal_year),
        "municipalities": Column(catalog_publishers_by_year.c.municipalities),
        "new_municipalities": Column(catalog_publishers_by_year.c.new_municipalities),
    },
)
@strawberry.type(
    description="年度別の公開団体数 / municipalities publishing open data by the end of a "
    "fiscal year (April to March): the programme's KPI (8 in FY2023, 13 in FY2024)."
)
class OpenDataPublishersYear:
    sql_row: strawberry.Private[Mapping[str, Any]]
    fiscal_year: int = strawberry.field(description="年度 / Fiscal year, e.g. 2024 (Apr-Mar).")
    municipalities: int = strawberry.field(
        description="公開団体数 / Municipalities with a published dataset issued by its end."
    )
    new_municipalities: int = strawberry.field(
        description="新規 / Of them, those whose first dataset was issued in that year."
    )
