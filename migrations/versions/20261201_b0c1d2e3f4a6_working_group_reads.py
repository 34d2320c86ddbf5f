"""Working groups' reads: the API role may select the goals, groups and everything shown of
them (not the webhook outbox). Row-level security of these tables comes with their access rules
(auth/policy.py); until then the query layer's policy alone scopes them.

Revision ID: b0c1d2e3f4a6
Revises: d7e8f9a0b1c2
Create Date: 2026-12-01 23:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b0c1d2e3f4a6"
down_revision: str | None = "d7e8f9a0b1c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API_ROLE = "dxlink_api"
READ = (
    "dx_goal",
    "dx_goal_indicator",
    "producer",
    "working_group",
    "working_group_goal",
    "working_group_membership",
    "working_group_adviser",
    "working_group_meeting",
    "working_group_attendance",
    "working_group_output",
)


def upgrade() -> None:
    op.execute(f"GRANT SELECT ON {', '.join(READ)} TO {API_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE SELECT ON {', '.join(READ)} FROM {API_ROLE}")
