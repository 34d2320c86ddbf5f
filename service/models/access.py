"""The write rules of the access policy, as PostgreSQL enforces them (see auth/policy.py)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class WriteRule(Base):
    """One cell of `EntityPolicy.writes`: entity x operation x action x role -> rows, columns.

    Written by the migrations that add operations; tests/auth/test_write_rules.py keeps the
    table equal to auth/policy.py, and the write policies read it (`dxlink_can_write`).
    """

    __tablename__ = "dxlink_write_rule"

    entity: Mapped[str] = mapped_column(Text, primary_key=True)
    tablename: Mapped[str] = mapped_column(Text)
    operation: Mapped[str] = mapped_column(Text, primary_key=True)
    action: Mapped[str] = mapped_column(Text, primary_key=True)
    role: Mapped[str] = mapped_column(Text, primary_key=True)
    rows: Mapped[str] = mapped_column(Text)
    columns: Mapped[list[str]] = mapped_column(ARRAY(Text))

    __table_args__ = (
        CheckConstraint("action IN ('insert', 'update', 'delete')", name="action_known"),
        CheckConstraint(
            "rows IN ('all', 'own_municipality', 'own_expert', 'own_dataset', 'region', "
            "'wg_lead', 'wg_member')",
            name="rows_known",
        ),
    )
