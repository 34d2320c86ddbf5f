"""Live changes: every inserted or updated assignment and session is announced on the channel
``dxlink_changes`` (PostgreSQL NOTIFY), for the subscriptions of every API process.

The payload names the row and nothing of its content, ``{"table": ..., "id": ..., "op":
"INSERT" | "UPDATE"}`` (about 60 bytes, far below NOTIFY's 8000): a listener re-reads the row
as each subscriber, through the policy and row-level security, so a notification never carries
what a subscriber may not read. NOTIFY is sent when the writing transaction commits, and not at
all when it rolls back; one transaction's identical payloads are folded into one.

Revision ID: a8b9c0d1e2f3
Revises: f7a8b9c0d1e2
Create Date: 2026-12-01 14:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a8b9c0d1e2f3"
down_revision: str | None = "f7a8b9c0d1e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "dxlink_changes"  # service/live.py listens on it
TABLES = ("dispatch_assignment", "dispatch_visit")

# Not SECURITY DEFINER: it reads nothing, and pg_notify is everybody's. One call per row.
FUNCTION = f"""
CREATE FUNCTION dxlink_notify_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify(
    '{CHANNEL}',
    json_build_object('table', TG_TABLE_NAME, 'id', NEW.id, 'op', TG_OP)::text
  );
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    # A trigger function is nobody's to call (tests/auth/test_row_level_security.py).
    op.execute("REVOKE EXECUTE ON FUNCTION dxlink_notify_change() FROM PUBLIC")
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER notify_change AFTER INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dxlink_notify_change()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER notify_change ON {table}")
    op.execute("DROP FUNCTION dxlink_notify_change()")
