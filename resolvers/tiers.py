"""Queries of the tier domain."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from resolvers.context import Info
from schema.geography import Region
from schema.mapping import KEY, sql_type_of
from schema.tiers import KpiProgress, PublishedStatistic, RegionKpi, Tier, TierCount, TierTransition
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
        description="分類の分布 / Municipalities per tier at a snapshot (default: the latest), "
        "one entry per tier from 1 関与 to 4 共創. Exact for the prefecture's staff; for everyone "
        "else, the counts are withheld (null) when a non-empty tier is smaller than the "
        "threshold."
    )
    async def tier_distribution(
        self,
        info: Info,
        snapshot_on: Annotated[
            date | None,
            strawberry.argument(description="時点の日付 / The snapshot's exact date."),
        ] = None,
        snapshot: Annotated[
            str | None,
            strawberry.argument(
                description="時点 / The snapshot by its month in Japan's calendar, e.g. "
                '"2024-11" (the latest snapshot within it), instead of snapshotOn.'
            ),
        ] = None,
    ) -> list[TierCount]:
        context = info.context
        service = TierService(context.db)
        result = await service.distribution(
            snapshot_on,
            exact=context.principal.is_staff,
            threshold=context.settings.aggregate_threshold,
            month=snapshot,
        )
        tiers = {t.level: t for t in await service.tiers(sql_type_of(Tier))}
        return [
            TierCount(
                tier=tiers[level],
                count=n,
                snapshot_on=result.snapshot_on,
                total=result.total,
                suppressed=result.suppressed,
            )
            for level, n in result.counts.items()
        ]

    @strawberry.field(
        description="KPIの進捗 / Progress towards the KPI (every municipality in 協働 or 共創) "
        "at a snapshot month, prefecture-wide and per region. Exact for the prefecture's staff; "
        "for everyone else, figures are withheld where a group is smaller than the threshold."
    )
    async def kpi_progress(
        self,
        info: Info,
        snapshot: Annotated[
            str | None,
            strawberry.argument(
                description='時点 / The month in Japan\'s calendar, e.g. "2024-11" (default: the '
                "latest snapshot's month)."
            ),
        ] = None,
    ) -> KpiProgress:
        context = info.context
        result = await TierService(context.db).kpi(
            snapshot,
            exact=context.principal.is_staff,
            threshold=context.settings.aggregate_threshold,
        )
        found = await TierService(context.db).regions(sql_type_of(Region))
        regions = {r.sql_row[KEY]: r for r in found}
        o = result.overall
        return KpiProgress(
            snapshot=result.month,
            municipalities=o.municipalities,
            assessed=o.assessed,
            in_target=o.in_target,
            share=o.share,
            suppressed=o.suppressed,
            regions=[
                RegionKpi(
                    region=regions[region_id],
                    municipalities=f.municipalities,
                    assessed=f.assessed,
                    in_target=f.in_target,
                    share=f.share,
                    suppressed=f.suppressed,
                )
                for region_id, f in result.regions
            ],
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
