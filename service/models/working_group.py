"""Working groups under わかやまDX-GOALS and their member municipalities."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, created_at_column, str_enum, updated_at_column


class WorkingGroupKind(enum.Enum):
    BUSINESS_CREATION = "business_creation"  # prefecture-led, e.g. joint procurement
    REGIONAL = "regional"  # started by municipalities or a regional office


class WorkingGroupStatus(enum.Enum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    CLOSED = "closed"
    DECLINED = "declined"


class MembershipStatus(enum.Enum):
    REQUESTED = "requested"
    ACTIVE = "active"
    LEFT = "left"


class WorkingGroup(Base):
    __tablename__ = "working_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[WorkingGroupKind] = mapped_column(
        str_enum(WorkingGroupKind, "working_group_kind", 30)
    )
    status: Mapped[WorkingGroupStatus] = mapped_column(
        str_enum(WorkingGroupStatus, "working_group_status", 20)
    )
    purpose: Mapped[str | None] = mapped_column(Text)
    public_summary: Mapped[str | None] = mapped_column(Text)
    lead_municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"))
    fiscal_year: Mapped[int | None] = mapped_column()
    started_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class WorkingGroupMembership(Base):
    __tablename__ = "working_group_membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    working_group_id: Mapped[int] = mapped_column(
        ForeignKey("working_group.id", ondelete="CASCADE")
    )
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[MembershipStatus] = mapped_column(
        str_enum(MembershipStatus, "membership_status", 20)
    )
    requested_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("working_group_id", "municipality_id"),)
