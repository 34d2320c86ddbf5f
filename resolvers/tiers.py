"""Queries of the tier domain."""

from __future__ import annotations

from datetime import date

import strawberry

from resolvers.context import Info
from schema.mapping import sql_type_of
from schema.tiers import PublishedStatistic, Tier, TierCount, TierDistribution
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

    @strawberry.field(
        description="Municipalities per tier at a snapshot (default: the latest). Exact for "
        "the prefecture's staff; for everyone else, counts are withheld (null) when a "
        "non-empty group is smaller than the threshold."
    )
    async def tier_distribution(
        self, info: Info, snapshot_on: date | None = None
    ) -> TierDistribution:
        context = info.context
        service = TierService(context.db)
        result = await service.distribution(
            snapshot_on,
            exact=context.principal.is_staff,
            threshold=context.settings.aggregate_threshold,
        )
        tiers = {t.level: t for t in await service.tiers(sql_type_of(Tier))}
        return TierDistribution(
            snapshot_on=result.snapshot_on,
            total=result.total,
            suppressed=result.suppressed,
            counts=[TierCount(tier=tiers[level], count=n) for level, n in result.counts.items()],
        )
