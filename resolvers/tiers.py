"""Queries of the tier domain."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from resolvers.context import Info
from resolvers.dispatch import node_key
from schema.errors import user_errors
from schema.geography import Region
from schema.mapping import KEY, sql_type_of
from schema.tiers import (
    KpiProgress,
    PublishedStatistic,
    RegionKpi,
    Tier,
    TierAssignment,
    TierCount,
    TierTransition,
)
from schema.tiers_writes import (
    ClassifyTiersInput,
    ClassifyTiersPayload,
    OverrideTierInput,
    OverrideTierPayload,
)
from service import reads
from service.tiers.service import TierService
from service.tiers.writes import TierWriteService
from service.writes import UserErrors


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


@strawberry.type
class TierMutation:
    @strawberry.mutation(
        description="分類の算定 / the prefecture classifies a round's municipalities by score "
        "at a snapshot date (idempotent for the same snapshot; overrides stay)."
    )
    async def classify_tiers(self, info: Info, input: ClassifyTiersInput) -> ClassifyTiersPayload:
        try:
            keys = await TierWriteService(info.context.db).classify(input.round, input.snapshot_on)
        except UserErrors as refused:
            return ClassifyTiersPayload(assignments=[], user_errors=user_errors(refused.errors))
        spec = sql_type_of(TierAssignment)
        rows = await reads.fetch_all(
            info.context.db,
            spec,
            [spec.table.c.id.in_(keys)],
            order_by=[spec.table.c.municipality_id],
        )
        return ClassifyTiersPayload(assignments=rows, user_errors=[])

    @strawberry.mutation(
        description="分類の変更 / the prefecture overrides a tier with a reason (the computed "
        "tier is kept)."
    )
    async def override_tier(self, info: Info, input: OverrideTierInput) -> OverrideTierPayload:
        key = node_key(input.id, "TierAssignment", "input.id")
        try:
            await TierWriteService(info.context.db).override(
                key, input.tier, input.reason, input.version
            )
        except UserErrors as refused:
            return OverrideTierPayload(assignment=None, user_errors=user_errors(refused.errors))
        spec = sql_type_of(TierAssignment)
        row = await reads.fetch_one(info.context.db, spec, [spec.table.c.id == key])
        return OverrideTierPayload(assignment=row, user_errors=[])
