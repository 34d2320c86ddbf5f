"""``assessment_round.rechecks_round_id``: a re-check round (``2024-11``) names the round it
re-checks (``2024-04``); a municipality's response there starts as a copy of its submission to
that round.

Revision ID: f3a4b5c6d7e8
Revises: e2f3a4b5c6d7
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3a4b5c6d7e8"
down_revision: str | None = "e2f3a4b5c6d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "assessment_round",
        sa.Column(
            "rechecks_round_id",
            sa.Integer(),
            sa.ForeignKey(
                "assessment_round.id",
                name=op.f("fk_assessment_round_rechecks_round_id_assessment_round"),
                ondelete="RESTRICT",
            ),
            nullable=True,
        ),
    )
    op.create_check_constraint(
        op.f("ck_assessment_round_rechecks_another_round"),
        "assessment_round",
        "rechecks_round_id <> id",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_assessment_round_rechecks_another_round"), "assessment_round", type_="check"
    )
    op.drop_column("assessment_round", "rechecks_round_id")
