"""Queries of the tier domain."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from schema.mapping import sql_type_of
from schema.tiers import PublishedStatistic, Tier
from service.tiers.service import TierService


@strawberry.type
class TierQuery:
    @strawberry.field(description="The four support tiers, from 1 関与 to 4 共創.")
    async def tiers(self, info: Info) -> list[Tier]:
        return await TierService(info.context.db).tiers(sql_type_of(Tier))

    @strawberry.field(
        description="Figures the prefecture published (anonymised), optionally of one survey "
        "(e.g. `tiers 2024-11`) and subject (e.g. a question id such as `3-4`, or `tier`)."
    )
    async def published_statistics(
        self, info: Info, survey: str | None = None, subject: str | None = None
    ) -> list[PublishedStatistic]:
        return await TierService(info.context.db).published_statistics(
            sql_type_of(PublishedStatistic), survey, subject
        )
