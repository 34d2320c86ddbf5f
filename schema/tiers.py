"""GraphQL types of support tiers (支援分類) and the figures the prefecture published."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import func

from resolvers.context import Info
from schema.mapping import Column, ToOne, sql_type
from schema.node import Node
from schema.scalars import float_column
from service.models import AssessmentRound as RoundModel
from service.models import Municipality as MunicipalityModel
from service.models import PublishedStatistic as PublishedStatisticModel
from service.models import SupportTier as SupportTierModel
from service.models import TierAssignment as TierAssignmentModel

if TYPE_CHECKING:
    from schema.assessments import AssessmentRound
    from schema.geography import Municipality, Region

tier_t = SupportTierModel.__table__
statistic_t = PublishedStatisticModel.__table__
assignment_t = TierAssignmentModel.__table__
municipality_t = MunicipalityModel.__table__
round_t = RoundModel.__table__


@sql_type(
    tier_t,
    key=tier_t.c.level,
    order_by=(tier_t.c.level,),
    fields={
        "level": Column(tier_t.c.level),
        "name": Column(tier_t.c.name),
        "label": Column(tier_t.c.label_en),
        "description": Column(tier_t.c.description),
        "kpi_target": Column(tier_t.c.kpi_target),
    },
)
@strawberry.type(
    description="A support tier: 1 関与, 2 支援, 3 協働, 4 共創 (higher needs less support)."
)
class Tier(Node):
    level: int = strawberry.field(description="1 (most support) to 4.")
    name: str = strawberry.field(description="Japanese name, e.g. 協働.")
    label: str = strawberry.field(description="English label, e.g. collaboration.")
    description: str
    kpi_target: bool = strawberry.field(
        description="True for the tiers of the KPI (every municipality in 協働 or 共創)."
    )


@sql_type(
    statistic_t,
    key=statistic_t.c.id,
    order_by=(statistic_t.c.position,),
    fields={
        "survey": Column(statistic_t.c.survey),
        "subject": Column(statistic_t.c.subject),
        "category": Column(statistic_t.c.category),
        "value": Column(statistic_t.c.value),
        "note": Column(statistic_t.c.note),
        "derived": Column(statistic_t.c.derived),
    },
)
@strawberry.type(
    description="公表値 / A figure the prefecture published, anonymised (e.g. municipalities per "
    "tier): a public fact, shown exactly to everyone, never withheld as counts computed from "
    "records are."
)
class PublishedStatistic(Node):
    survey: str = strawberry.field(description="e.g. `2024-04 assessment`, `tiers 2024-11`.")
    subject: str = strawberry.field(description="Question id, `tier`, `publishers`, ...")
    category: str = strawberry.field(description="Answer option or tier, e.g. `3 協働`.")
    value: int = strawberry.field(description="Number of municipalities.")
    note: str | None
    derived: bool = strawberry.field(
        description="導出値 / True when the report left the cell blank and the figure follows "
        "from the others it published (e.g. the 2024-11 関与 count: 30 minus the other tiers); "
        "the note says how."
    )


@sql_type(
    assignment_t,
    key=assignment_t.c.id,
    order_by=(assignment_t.c.snapshot_on.desc(), assignment_t.c.id),
    fields={
        "snapshot_on": Column(assignment_t.c.snapshot_on),
        # The month as tierDistribution(snapshot:) takes it; snapshot_on is already a date of
        # Japan's calendar, so its month needs no time zone.
        "snapshot": Column(func.to_char(assignment_t.c.snapshot_on, "YYYY-MM")),
        "score": Column(float_column(assignment_t.c.score)),
        "overridden": Column(assignment_t.c.overridden),
        "reason": Column(assignment_t.c.reason),
        "decided_by": Column(assignment_t.c.decided_by),
        "synthetic": Column(assignment_t.c.synthetic),
        "version": Column(assignment_t.c.version),
        "tier": ToOne("Tier", assignment_t.c.level, tier_t.c.level),
        "computed_tier": ToOne("Tier", assignment_t.c.computed_level, tier_t.c.level),
        "municipality": ToOne("Municipality", assignment_t.c.municipality_id, municipality_t.c.id),
        "round": ToOne("AssessmentRound", assignment_t.c.round_id, round_t.c.id),
    },
)
@strawberry.type(description="A municipality's support tier at one snapshot.")
class TierAssignment(Node):
    snapshot_on: date = strawberry.field(description="Date of the snapshot, e.g. 2024-11-30.")
    snapshot: str = strawberry.field(
        description="時点 / The snapshot's month in Japan's calendar, e.g. `2024-11`, as "
        "tierDistribution(snapshot:) and tierTransitions take it."
    )
    score: float | None = strawberry.field(description="Total assessment score, if computed.")
    overridden: bool = strawberry.field(description="True when the prefecture overrode it.")
    reason: str | None = strawberry.field(description="Why the tier was overridden.")
    decided_by: str | None
    synthetic: bool = strawberry.field(
        description="デモデータ / True for demo data (dxlink seed --demo): an invented tier."
    )
    version: int = strawberry.field(
        description="版 / Increases with every change; overrideTier names it (optimistic lock)."
    )

    @strawberry.field(
        description="最終分類 / The tier the municipality is in (after any override)."
    )
    async def tier(self, info: Info) -> Tier:
        return await info.context.loaders.load_related(self, "tier")

    @strawberry.field(description="The tier the score gave, before any override.")
    async def computed_tier(self, info: Info) -> Tier | None:
        return await info.context.loaders.load_related(self, "computed_tier")

    @strawberry.field
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("schema.geography")]:
        return await info.context.loaders.load_related(self, "municipality")

    @strawberry.field(
        description="調査回 / The assessment round whose score classified it (classifyTiers); "
        "null for a tier set otherwise."
    )
    async def round(
        self, info: Info
    ) -> Annotated[AssessmentRound, strawberry.lazy("schema.assessments")] | None:
        return await info.context.loaders.load_related(self, "round")


@strawberry.type(
    description="分類別の団体数 / Municipalities in one tier at a snapshot. For viewers outside "
    "the prefecture's staff, the counts of a snapshot are shown only when every non-empty tier "
    "holds at least the threshold (3 by default), so no municipality can be singled out."
)
class TierCount:
    tier: Tier = strawberry.field(description="分類 / The tier.")
    count: int | None = strawberry.field(
        description="団体数 / Municipalities; null when withheld: a non-empty tier of the snapshot "
        "holds fewer than the threshold."
    )
    snapshot_on: date | None = strawberry.field(
        description="時点 / The date of the snapshot counted; null when there is none."
    )
    total: int = strawberry.field(
        description="合計 / Municipalities with a tier at the snapshot, all tiers together (the "
        "same on every entry; shown even when the counts are withheld)."
    )
    suppressed: bool = strawberry.field(
        description="秘匿 / True when the snapshot's counts are withheld (see count)."
    )


@strawberry.type(
    description="地域別のKPI / The KPI in one region (振興局): its municipalities, how many have a "
    "tier at the snapshot, and how many of them are in 協働 or 共創."
)
class RegionKpi:
    region: Annotated[Region, strawberry.lazy("schema.geography")] = strawberry.field(
        description="地域 / The region."
    )
    municipalities: int = strawberry.field(description="団体数 / Municipalities in the region.")
    assessed: int | None = strawberry.field(
        description="分類済み / Municipalities with a tier at the snapshot; null when withheld."
    )
    in_target: int | None = strawberry.field(
        description="目標達成 / Municipalities in 協働 or 共創; null when withheld."
    )
    share: float | None = strawberry.field(
        description="達成率 / inTarget divided by municipalities (0 to 1); null when withheld."
    )
    suppressed: bool = strawberry.field(
        description="秘匿 / True when the regions' figures are withheld: outside the "
        "prefecture's staff, when in some region the municipalities in, or outside, the KPI's "
        "tiers are fewer than the threshold (3 by default) but not none."
    )


@strawberry.type(
    description="KPIの進捗 / Progress towards the KPI, every municipality in 協働 or 共創, at a "
    "snapshot month: prefecture-wide and per region."
)
class KpiProgress:
    snapshot: str | None = strawberry.field(
        description="時点 / The month counted (YYYY-MM), each municipality by its latest tier in "
        "it; null when there is no snapshot."
    )
    municipalities: int = strawberry.field(description="団体数 / Municipalities in all.")
    assessed: int | None = strawberry.field(
        description="分類済み / Municipalities with a tier at the snapshot; null when withheld."
    )
    in_target: int | None = strawberry.field(
        description="目標達成 / Municipalities in 協働 or 共創; null when withheld."
    )
    share: float | None = strawberry.field(
        description="達成率 / inTarget divided by municipalities (0 to 1; the KPI is 1); null "
        "when withheld."
    )
    suppressed: bool = strawberry.field(
        description="秘匿 / True when the prefecture-wide figures are withheld: outside the "
        "prefecture's staff, when the municipalities in, or outside, the KPI's tiers are fewer "
        "than the threshold but not none."
    )
    regions: list[RegionKpi] = strawberry.field(
        description="地域別 / Per region, in the regions' order."
    )


@strawberry.type(
    description="遷移 / Municipalities in one tier at the first snapshot and in another (or the "
    "same) at the second."
)
class TierTransition:
    from_: Tier = strawberry.field(
        name="from", description="移行前の分類 / The tier at the first snapshot."
    )
    to: Tier = strawberry.field(description="移行後の分類 / The tier at the second snapshot.")
    count: int | None = strawberry.field(
        description="団体数 / Municipalities; null when withheld: outside the prefecture's staff, "
        "when a non-empty pair holds fewer than the threshold (3 by default)."
    )
