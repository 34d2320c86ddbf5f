"""``tier_assignment`` and ``assessment_answer_option`` gain ``synthetic``: the demo's tier
snapshots and the options its answers chose (`dxlink seed --demo`) are flagged as the demo's
responses and answers are.

Revision ID: e2f3a4b5c6d7
Revises: d1e2f3a4b5c6
Create Date: 2026-12-01 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2f3a4b5c6d7"
down_revision: str | None = "d1e2f3a4b5c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TABLES = ("tier_assignment", "assessment_answer_option")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("synthetic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "synthetic")
