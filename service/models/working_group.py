"""Working groups under わかやまDX-GOALS: the goals and their indicators, the groups, their
members, advisers (experts or producers), meetings with attendance, outputs, and the chat
webhook's outbox."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    created_at_column,
    str_enum,
    synthetic_column,
    updated_at_column,
    version_column,
)


class WorkingGroupKind(enum.Enum):
    BUSINESS_CREATION = "business_creation"  # prefecture-led, e.g. joint procurement
    SELF_INITIATED = "self_initiated"  # started by municipalities or a regional office


class WorkingGroupStatus(enum.Enum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    CLOSED = "closed"
    DECLINED = "declined"


class MembershipStatus(enum.Enum):
    REQUESTED = "requested"
    ACTIVE = "active"
    LEFT = "left"
    DECLINED = "declined"


class MeetingMode(enum.Enum):
    ON_SITE = "on_site"
    ONLINE = "online"
    HYBRID = "hybrid"


class OutputKind(enum.Enum):
    DOCUMENT = "document"  # a report, material, guideline
    DECISION = "decision"  # a decision of the group, e.g. a joint procurement spec adopted
    PROCUREMENT_SPEC = "procurement_spec"  # a joint procurement specification
    OTHER = "other"


class ProducerKind(enum.Enum):
    GENERAL = "general"  # 総括プロデューサー
    SPECIALIST = "specialist"  # 専門プロデューサー


class DeliveryStatus(enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt


class DxGoal(Base):
    """One of わかやまDX-GOALS, the shared goals of the prefecture and its municipalities."""

    __tablename__ = "dx_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class DxGoalIndicator(Base):
    """An indicator of a goal in a fiscal year: its target and current value."""

    __tablename__ = "dx_goal_indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("dx_goal.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(40))
    fiscal_year: Mapped[int] = mapped_column(SmallInteger)
    target: Mapped[float | None] = mapped_column(Float)
    current: Mapped[float | None] = mapped_column(Float)
    position: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        UniqueConstraint("goal_id", "name", "fiscal_year"),
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year_range"),
    )


class Producer(Base):
    """A producer of the programme (one general, several specialists), assigned to WGs."""

    __tablename__ = "producer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ProducerKind] = mapped_column(str_enum(ProducerKind, "producer_kind", 20))
    specialty: Mapped[str | None] = mapped_column(String(200))
    affiliation: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


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
    theme: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(Text)
    expected_outputs: Mapped[str | None] = mapped_column(Text)
    public_summary: Mapped[str | None] = mapped_column(Text)
    # The lead: a municipality, or the prefecture (lead_prefecture), never both.
    lead_municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    lead_prefecture: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    # The region the group serves; null: prefecture-wide.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"))
    fiscal_year: Mapped[int | None] = mapped_column()
    started_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    # Who proposed a self-initiated group: a municipality or a regional office (its region).
    proposed_by_municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT")
    )
    proposed_by_region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="RESTRICT")
    )
    proposed_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # A Slack-compatible incoming-webhook URL: a secret (the lead's and the prefecture's).
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint(
            "NOT (lead_prefecture AND lead_municipality_id IS NOT NULL)", name="one_lead"
        ),
        CheckConstraint("closed_on IS NULL OR closed_on >= started_on", name="period_ordered"),
    )


class WorkingGroupGoal(Base):
    """A goal a working group serves (one or more per group)."""

    __tablename__ = "working_group_goal"

    working_group_id: Mapped[int] = mapped_column(
        ForeignKey("working_group.id", ondelete="CASCADE"), primary_key=True
    )
    goal_id: Mapped[int] = mapped_column(
        ForeignKey("dx_goal.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    synthetic: Mapped[bool] = synthetic_column()


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
    # The member's contact role (a post, e.g. 情報政策課 主任), not a person's name.
    contact_role: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime] = created_at_column()
    requested_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (UniqueConstraint("working_group_id", "municipality_id"),)


class WorkingGroupAdviser(Base):
    """An adviser of a working group: an expert or a producer the prefecture assigns."""

    __tablename__ = "working_group_adviser"

    id: Mapped[int] = mapped_column(primary_key=True)
    working_group_id: Mapped[int] = mapped_column(
        ForeignKey("working_group.id", ondelete="CASCADE"), index=True
    )
    expert_id: Mapped[int | None] = mapped_column(
        ForeignKey("expert.id", ondelete="RESTRICT"), index=True
    )
    producer_id: Mapped[int | None] = mapped_column(
        ForeignKey("producer.id", ondelete="RESTRICT"), index=True
    )
    note: Mapped[str | None] = mapped_column(String(200))
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("(expert_id IS NULL) <> (producer_id IS NULL)", name="one_person"),
        UniqueConstraint("working_group_id", "expert_id"),
        UniqueConstraint("working_group_id", "producer_id"),
    )


class WorkingGroupMeeting(Base):
    __tablename__ = "working_group_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    working_group_id: Mapped[int] = mapped_column(
        ForeignKey("working_group.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    mode: Mapped[MeetingMode] = mapped_column(str_enum(MeetingMode, "meeting_mode", 20))
    title: Mapped[str | None] = mapped_column(String(200))
    agenda: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class WorkingGroupAttendance(Base):
    """Who of a municipality attended a meeting: how many of its staff."""

    __tablename__ = "working_group_attendance"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("working_group_meeting.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    attendees: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    synthetic: Mapped[bool] = synthetic_column()

    __table_args__ = (CheckConstraint("attendees BETWEEN 0 AND 999", name="attendees_range"),)


class WorkingGroupOutput(Base):
    """A result of a working group: a document or a decision, with its link."""

    __tablename__ = "working_group_output"

    id: Mapped[int] = mapped_column(primary_key=True)
    working_group_id: Mapped[int] = mapped_column(
        ForeignKey("working_group.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[OutputKind] = mapped_column(str_enum(OutputKind, "output_kind", 30))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    published: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    published_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = version_column()
    synthetic: Mapped[bool] = synthetic_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class WebhookDelivery(Base):
    """A chat message to post to a WG's webhook: written in the mutation's transaction (an
    outbox), posted after commit, retried with backoff."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    working_group_id: Mapped[int] = mapped_column(
        ForeignKey("working_group.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status", 20),
        default=DeliveryStatus.PENDING,
        server_default=text("'PENDING'"),
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status = 'PENDING'"),
        ),
    )
