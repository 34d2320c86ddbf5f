"""Queries of the tier domain."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from resolvers.context import Info
from schema.mapping import sql_type_of
from schema.tiers import PublishedStatistic, Tier, TierCount, TierDistribution, TierTransition
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
        self,
        info: Info,
        snapshot_on: date | None = None,
        snapshot: Annotated[
            str | None,
            strawberry.argument(
                description="時点 / The snapshot by its month in Japan's calendar, e.g. "
                '"2024-11" (the latest snapshot within it), instead of snapshotOn.'
            ),
        ] = None,
    ) -> TierDistribution:
        context = info.context
        service = TierService(context.db)
        result = await service.distribution(
            snapshot_on,
            exact=context.principal.is_staff,
            threshold=context.settings.aggregate_threshold,
            month=snapshot,
        )
        tiers = {t.level: t for t in await service.tiers(sql_type_of(Tier))}
        return TierDistribution(
            snapshot_on=result.snapshot_on,
            total=result.total,
            suppressed=result.suppressed,
            counts=[TierCount(tier=tiers[level], count=n) for level, n in result.counts.items()],
        )

    @strawberry.field(
        description="分類の遷移 / Municipalities per pair of tiers between two snapshots, each "
        'named by its month in Japan\'s calendar (e.g. from: "2023-11", to: "2024-11"): every '
        "pair of tiers, a municipality counted when it has a snapshot in both months. Exact for "
        "the prefecture's staff; for everyone else, every count is withheld (null) when a "
        "non-empty pair is smaller than the threshold."
    )
    async def tier_transitions(
        self,
        info: Info,
        from_: Annotated[str, strawberry.argument(name="from")],
        to: str,
    ) -> list[TierTransition]:
        context = info.context
        service = TierService(context.db)
        result = await service.transitions(
            from_,
            to,
            exact=context.principal.is_staff,
            threshold=context.settings.aggregate_threshold,
        )
        tiers = {t.level: t for t in await service.tiers(sql_type_of(Tier))}
        return [
            TierTransition(from_=tiers[before], to=tiers[after], count=n)
            for (before, after), n in result.counts.items()
        ]
