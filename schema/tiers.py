"""GraphQL types of support tiers (支援分類) and the figures the prefecture published."""

from __future__ import annotations

import strawberry

from schema.mapping import Column, sql_type
from schema.node import Node
from service.models import PublishedStatistic as PublishedStatisticModel
from service.models import SupportTier as SupportTierModel

tier_t = SupportTierModel.__table__
statistic_t = PublishedStatisticModel.__table__


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
    },
)
@strawberry.type(
    description="A figure the prefecture published, anonymised (e.g. municipalities per tier)."
)
class PublishedStatistic(Node):
    survey: str = strawberry.field(description="e.g. `2024-04 assessment`, `tiers 2024-11`.")
    subject: str = strawberry.field(description="Question id, `tier`, `publishers`, ...")
    category: str = strawberry.field(description="Answer option or tier, e.g. `3 協働`.")
    value: int = strawberry.field(description="Number of municipalities.")
    note: str | None
