"""Support tiers (支援分類) and each municipality's tier over time."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    created_at_column,
    synthetic_column,
    updated_at_column,
    version_column,
)


class SupportTier(Base):
    """1 関与, 2 支援, 3 協働, 4 共創; the KPI is every municipality in 協働 or 共創."""

    __tablename__ = "support_tier"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    label_en: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    kpi_target: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 4", name="level_range"),)


class TierAssignment(Base):
    """A municipality's tier at one snapshot: computed from the score, possibly overridden."""

    __tablename__ = "tier_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id", ondelete="RESTRICT"))
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment_round.id", ondelete="RESTRICT"), index=True
    )
    snapshot_on: Mapped[date] = mapped_column(Date)
    score: Mapped[float | None] = mapped_column(Numeric(6, 2))
    computed_level: Mapped[int | None] = mapped_column(ForeignKey("support_tier.level"))
    level: Mapped[int] = mapped_column(ForeignKey("support_tier.level"))
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    synthetic: Mapped[bool] = synthetic_column()
    # Optimistic concurrency of overrideTier / classifyTiers (ARCHITECTURE.md, "Writes").
    version: Mapped[int] = version_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        UniqueConstraint("municipality_id", "snapshot_on"),
        CheckConstraint("NOT overridden OR reason IS NOT NULL", name="override_has_reason"),
    )
