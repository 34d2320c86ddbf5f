"""The result cache's invalidation: every change of a table a cached aggregate read depends on
is announced on the channel ``dxlink_table_changed`` (PostgreSQL NOTIFY) with the table's name,
for the result cache of every API process (service/result_cache.py).

Statement-level AFTER INSERT / UPDATE / DELETE / TRUNCATE triggers: one notification per
statement, folded by PostgreSQL into one per table and transaction (identical payloads), sent
when the writing transaction commits and not at all when it rolls back. The payload is the
table's name and nothing else.

Revision ID: c6d7e8f9a0b1
Revises: a5b6c7d8e9f0
Create Date: 2026-12-01 19:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c6d7e8f9a0b1"
down_revision: str | None = "a5b6c7d8e9f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "dxlink_table_changed"  # service/result_cache.py listens on it
# The aggregates' tables (service/compiler/roots.py ROOT_TABLES) and the public reference data
# (auth/policy.py PUBLIC_TYPES): tests/test_result_cache.py keeps this list equal to them.
TABLES = (
    "tier_assignment",
    "support_tier",
    "prefecture",
    "region",
    "municipality",
    "assessment_framework",
    "assessment_section",
    "assessment_question",
    "assessment_option",
    "assessment_round",
    "assessment_response",
    "assessment_answer",
    "assessment_answer_option",
    "published_statistic",
    "standard_dataset",
    "standard_dataset_column",
    "license",
    "dataset_theme",
)

# Not SECURITY DEFINER: it reads nothing, and pg_notify is everybody's.
FUNCTION = f"""
CREATE FUNCTION dxlink_notify_table_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    # A trigger function is nobody's to call (tests/auth/test_row_level_security.py).
    op.execute("REVOKE EXECUTE ON FUNCTION dxlink_notify_table_changed() FROM PUBLIC")
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER notify_table_changed "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dxlink_notify_table_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER notify_table_changed ON {table}")
    op.execute("DROP FUNCTION dxlink_notify_table_changed()")
