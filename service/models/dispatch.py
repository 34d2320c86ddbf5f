"""Dispatch of part-time digital experts: experts, programmes, requests, assignments, visits."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, created_at_column, str_enum, updated_at_column


class AssignmentStatus(enum.Enum):
    PLANNED = "planned"
    ACTIVE = "active"
    ENDED = "ended"


class VisitMode(enum.Enum):
    ON_SITE = "on_site"
    ONLINE = "online"


class VisitStatus(enum.Enum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class Expert(Base):
    __tablename__ = "expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    affiliation: Mapped[str | None] = mapped_column(String(200))
    main_job: Mapped[str | None] = mapped_column(String(200))
    themes: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)
    monthly_capacity: Mapped[int] = mapped_column(SmallInteger, default=4)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (CheckConstraint("monthly_capacity >= 0", name="capacity_non_negative"),)


class DispatchProgramme(Base):
    __tablename__ = "dispatch_programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    themes: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)
    sessions_per_month_target: Mapped[int] = mapped_column(SmallInteger, default=4)

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_ordered"),)


class DispatchRequest(Base):
    """A municipality's request for an expert on one theme of the programme."""

    __tablename__ = "dispatch_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("dispatch_programme.id"))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    theme: Mapped[str] = mapped_column(String(80))
    goals: Mapped[str | None] = mapped_column(Text)
    required_profile: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("programme_id", "municipality_id", "theme"),)


class DispatchAssignment(Base):
    __tablename__ = "dispatch_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_request.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    theme: Mapped[str] = mapped_column(String(80))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[AssignmentStatus] = mapped_column(
        str_enum(AssignmentStatus, "assignment_status", 20)
    )
    ended_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_ordered"),)


class DispatchVisit(Base):
    """One session of an expert with a municipality (planned or held), and its report."""

    __tablename__ = "dispatch_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("dispatch_assignment.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mode: Mapped[VisitMode] = mapped_column(str_enum(VisitMode, "visit_mode", 20))
    status: Mapped[VisitStatus] = mapped_column(str_enum(VisitStatus, "visit_status", 20))
    place: Mapped[str | None] = mapped_column(String(200))
    theme: Mapped[str | None] = mapped_column(String(200))
    report: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="time_ordered"),)
