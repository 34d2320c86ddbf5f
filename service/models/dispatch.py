"""Dispatch of part-time digital experts: experts, programmes, requests, assignments, visits."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    created_at_column,
    str_enum,
    synthetic_column,
    updated_at_column,
    version_column,
)


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


class RequestStatus(enum.Enum):
    OPEN = "open"  # waiting for an expert
    MATCHED = "matched"  # an assignment serves it
    WITHDRAWN = "withdrawn"  # the municipality no longer asks


class Expert(Base):
    __tablename__ = "expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    affiliation: Mapped[str | None] = mapped_column(String(200))
    main_job: Mapped[str | None] = mapped_column(String(200))
    themes: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)
    skills: Mapped[list[str]] = mapped_column(
        ARRAY(String(80)), default=list, server_default=text("'{}'")
    )
    # National adviser registrations, e.g. 地域情報化アドバイザー (総務省).
    adviser_registrations: Mapped[list[str]] = mapped_column(
        ARRAY(String(120)), default=list, server_default=text("'{}'")
    )
    contact: Mapped[str | None] = mapped_column(String(200))
    monthly_capacity: Mapped[int] = mapped_column(SmallInteger, default=4)
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (CheckConstraint("monthly_capacity >= 0", name="capacity_non_negative"),)


class ExpertAvailability(Base):
    """A period in which an expert can take sessions (experts have another main job)."""

    __tablename__ = "expert_availability"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_ordered"),)


class DispatchProgramme(Base):
    __tablename__ = "dispatch_programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200), server_default="デジタル専門人材派遣")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # The theme menu municipalities choose from.
    themes: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)
    # The rules, as data.
    sessions_per_month_target: Mapped[int] = mapped_column(SmallInteger, default=4)
    sessions_per_month_max: Mapped[int] = mapped_column(SmallInteger, default=6, server_default="6")
    first_session_on_site: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=text("true")
    )
    confirmation_required: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=text("true")
    )
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        CheckConstraint(
            "sessions_per_month_max >= sessions_per_month_target", name="maximum_over_target"
        ),
    )


class DispatchRequest(Base):
    """A municipality's request for an expert on one theme of the programme."""

    __tablename__ = "dispatch_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("dispatch_programme.id"))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    theme: Mapped[str] = mapped_column(String(80))
    goals: Mapped[str | None] = mapped_column(Text)
    required_profile: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus, "request_status", 20), server_default="OPEN"
    )
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (UniqueConstraint("programme_id", "municipality_id", "theme"),)


class DispatchAssignment(Base):
    __tablename__ = "dispatch_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_request.id"), index=True)
    # The programme whose rules it follows (its request's; readable where the request is not).
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("dispatch_programme.id"), index=True
    )
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    theme: Mapped[str] = mapped_column(String(80))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[AssignmentStatus] = mapped_column(
        str_enum(AssignmentStatus, "assignment_status", 20)
    )
    ended_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        # One assignment at a time serves a request (the rule's last line of defence).
        Index(
            "uq_dispatch_assignment_open_request",
            "request_id",
            unique=True,
            postgresql_where=text("status IN ('PLANNED', 'ACTIVE')"),
        ),
    )


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
    next_steps: Mapped[str | None] = mapped_column(Text)
    hours: Mapped[float | None] = mapped_column(Numeric(4, 1))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    cancelled_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="time_ordered"),
        CheckConstraint("hours IS NULL OR hours > 0", name="hours_positive"),
    )
