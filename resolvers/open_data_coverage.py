"""Queries of the catalog's coverage for the prefecture: the municipality x standard-dataset
matrix, publishing municipalities per fiscal year, datasets overdue for an update."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.mapping import sql_type_of
from schema.open_data import Dataset
from schema.open_data_coverage import OpenDataCoverageCell, OpenDataPublishersYear
from schema.pagination import Connection
from service import reads
from service.open_data import coverage
from service.open_data.coverage_reads import CoverageArguments, CoverageService


@strawberry.type
class OpenDataCoverageQuery:
    @strawberry.field(
        description="標準データセットの公開状況 / The municipality x standard-dataset matrix "
        "of a prefecture (default 300004 和歌山県): the cells where a municipality publishes "
        "datasets conforming to a standard dataset, by municipality and standard dataset."
    )
    async def open_data_coverage(
        self, info: Info, prefecture: str = "300004"
    ) -> list[OpenDataCoverageCell]:
        service = CoverageService(info.context.db)
        return await service.coverage(
            sql_type_of(OpenDataCoverageCell), CoverageArguments(prefecture)
        )

    @strawberry.field(
        description="年度別の公開団体数 / Municipalities publishing open data per fiscal year "
        "in a prefecture (default 和歌山県), oldest first up to the current fiscal year."
    )
    async def open_data_publishers_by_year(
        self, info: Info, prefecture: str = "300004"
    ) -> list[OpenDataPublishersYear]:
        service = CoverageService(info.context.db)
        return await service.publishers_by_year(
            sql_type_of(OpenDataPublishersYear), CoverageArguments(prefecture)
        )

    @strawberry.field(
        description="更新遅れのデータセット / Published datasets of a prefecture's publishers "
        "(default 和歌山県) not updated within their declared frequency, longest overdue first."
    )
    async def overdue_datasets(
        self,
        info: Info,
        prefecture: str = "300004",
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Dataset]:
        arguments = CoverageArguments(prefecture)
        page, count = await reads.paginate(
            info.context.db,
            sql_type_of(Dataset),
            where=coverage.overdue_conditions(arguments.checked_prefecture()),
            ordering=coverage.OVERDUE_FIRST,
            first=first,
            after=after,
            default=info.context.settings.default_page_size,
            maximum=info.context.settings.max_page_size,
        )
        return Connection.from_page(page, count)
