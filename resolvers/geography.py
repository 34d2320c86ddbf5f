"""Queries of the geography domain."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.geography import (
    Municipality,
    MunicipalityKind,
    MunicipalityOrder,
    Prefecture,
    Region,
)
from schema.mapping import sql_type_of
from schema.pagination import Connection, OrderDirection
from service.geography.service import GeographyService


def _service(info: Info) -> GeographyService:
    return GeographyService(info.context.db, info.context.settings)


@strawberry.type
class GeographyQuery:
    @strawberry.field(
        description=(
            "Municipalities, filtered and paginated (Relay cursor connection). `region` is a "
            "regional office's name (海草振興局) or short name (海草); `search` matches name, "
            "kana (hiragana or katakana), romaji, or a code prefix."
        )
    )
    async def municipalities(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        region: str | None = None,
        kind: MunicipalityKind | None = None,  # type: ignore[valid-type]
        search: str | None = None,
        order_by: MunicipalityOrder | None = None,
    ) -> Connection[Municipality]:
        order = order_by or MunicipalityOrder()
        page, count_total = await _service(info).municipality_page(
            sql_type_of(Municipality),
            first=first,
            after=after,
            region=region,
            kind=kind,
            search=search,
            order_field=order.field.value,
            descending=order.direction is OrderDirection.DESC,
        )
        return Connection.from_page(page, count_total)

    @strawberry.field(
        description="One municipality by its 6-digit code; null when no municipality has it."
    )
    async def municipality(self, info: Info, code: str) -> Municipality | None:
        return await _service(info).by_code(sql_type_of(Municipality), code)

    @strawberry.field(description="Regional offices (振興局), in each prefecture's order.")
    async def regions(self, info: Info) -> list[Region]:
        return await _service(info).all(sql_type_of(Region))

    @strawberry.field(description="Prefectures held by the platform.")
    async def prefectures(self, info: Info) -> list[Prefecture]:
        return await _service(info).all(sql_type_of(Prefecture))

    @strawberry.field(description="One prefecture by its 6-digit code (300004 for 和歌山県).")
    async def prefecture(self, info: Info, code: str) -> Prefecture | None:
        return await _service(info).by_code(sql_type_of(Prefecture), code)
