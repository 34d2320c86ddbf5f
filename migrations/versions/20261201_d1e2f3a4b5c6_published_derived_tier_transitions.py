"""Published figures marked derived; tier transitions and snapshots named by their month.

- ``published_statistic`` gains ``derived``: a figure the report did not print but that follows
  from the ones it did (the 2024-11 関与 count, a blank cell: 30 minus the other tiers). The
  seeds set it from published_results.csv.
- ``dxlink_tier_transitions(from_month, to_month)``: municipalities per pair (tier in the first
  month's snapshot, tier in the second's), every pair of tiers listed (zero included), over
  every municipality whatever the caller may read; a municipality counts when it has an
  assignment in both months (its latest within each month). The service suppresses small
  groups for viewers outside the prefecture's staff, as for ``dxlink_tier_counts``. Definer,
  EXECUTE for the API role only (migration e6f7a8b9c0d1).
- ``dxlink_latest_tier_snapshot_in(month)``: the latest snapshot date within a month (for
  ``tierDistribution(snapshot: "2024-11")``), whatever the caller may read; a definer as
  ``dxlink_latest_tier_snapshot`` is.

Revision ID: d1e2f3a4b5c6
Revises: c0d1e2f3a4b5
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d1e2f3a4b5c6"
down_revision: str | None = "c0d1e2f3a4b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API_ROLE = "dxlink_api"

TRANSITIONS = """
CREATE FUNCTION dxlink_tier_transitions(from_month date, to_month date)
RETURNS TABLE (from_level smallint, to_level smallint, municipalities bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH before AS (
    SELECT DISTINCT ON (municipality_id) municipality_id, level FROM tier_assignment
    WHERE snapshot_on >= from_month AND snapshot_on < (from_month + interval '1 month')::date
    ORDER BY municipality_id, snapshot_on DESC, id DESC
  ), after AS (
    SELECT DISTINCT ON (municipality_id) municipality_id, level FROM tier_assignment
    WHERE snapshot_on >= to_month AND snapshot_on < (to_month + interval '1 month')::date
    ORDER BY municipality_id, snapshot_on DESC, id DESC
  )
  SELECT f.level, t.level, (
    SELECT count(*) FROM before b JOIN after a USING (municipality_id)
    WHERE b.level = f.level AND a.level = t.level)
  FROM support_tier f CROSS JOIN support_tier t
  ORDER BY f.level, t.level
$$
"""

LATEST_IN = """
CREATE FUNCTION dxlink_latest_tier_snapshot_in(month date) RETURNS date
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT max(snapshot_on) FROM tier_assignment
  WHERE snapshot_on >= month AND snapshot_on < (month + interval '1 month')::date
$$
"""

FUNCTIONS = ("dxlink_tier_transitions(date, date)", "dxlink_latest_tier_snapshot_in(date)")


def upgrade() -> None:
    op.add_column(
        "published_statistic",
        sa.Column("derived", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute(TRANSITIONS)
    op.execute(LATEST_IN)
    for function in FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {API_ROLE}")


def downgrade() -> None:
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.drop_column("published_statistic", "derived")
