"""Figures the prefecture published: anonymised answer counts, tier distributions, KPIs."""

from __future__ import annotations

from sqlalchemy import String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class PublishedStatistic(Base):
    """A figure the prefecture published (anonymised counts, tier distributions, KPIs)."""

    __tablename__ = "published_statistic"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(300))
    value: Mapped[int] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column()
    # Not printed in the report but implied by the figures it did print (a blank cell).
    derived: Mapped[bool] = mapped_column(server_default=false(), default=False)

    __table_args__ = (UniqueConstraint("survey", "subject", "category"),)
