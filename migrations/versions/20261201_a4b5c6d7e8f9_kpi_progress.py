"""KPI progress per region: municipalities in 協働 or 共創 at a snapshot month.

- ``dxlink_kpi_by_region(month)``: for each region (and, with a null region, the whole
  prefecture), the municipalities there, how many have a tier in the month's snapshot (each its
  latest assignment within the month, as ``dxlink_tier_transitions`` takes it) and how many of
  those are in a tier of the KPI (``support_tier.kpi_target``: 協働 or 共創). Counted over every
  municipality whatever the caller may read; the service withholds small groups for viewers
  outside the prefecture's staff, as for ``dxlink_tier_counts``. Definer, EXECUTE for the API
  role only (migration e6f7a8b9c0d1).

Revision ID: a4b5c6d7e8f9
Revises: f3a4b5c6d7e8
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a4b5c6d7e8f9"
down_revision: str | None = "f3a4b5c6d7e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API_ROLE = "dxlink_api"

KPI = """
CREATE FUNCTION dxlink_kpi_by_region(month date)
RETURNS TABLE (region_id integer, municipalities bigint, assessed bigint, in_target bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH latest AS (
    SELECT DISTINCT ON (municipality_id) municipality_id, level FROM tier_assignment
    WHERE snapshot_on >= month AND snapshot_on < (month + interval '1 month')::date
    ORDER BY municipality_id, snapshot_on DESC, id DESC
  ), placed AS (
    SELECT m.id, m.region_id, l.municipality_id IS NOT NULL AS assessed,
           coalesce(t.kpi_target, false) AS in_target
    FROM municipality m
    LEFT JOIN latest l ON l.municipality_id = m.id
    LEFT JOIN support_tier t ON t.level = l.level
  )
  SELECT * FROM (
    SELECT r.id, count(p.id), count(*) FILTER (WHERE p.assessed),
           count(*) FILTER (WHERE p.in_target)
    FROM region r LEFT JOIN placed p ON p.region_id = r.id
    GROUP BY r.id
    UNION ALL
    SELECT NULL::integer, count(*), count(*) FILTER (WHERE assessed),
           count(*) FILTER (WHERE in_target)
    FROM placed
  ) AS counts
$$
"""

FUNCTION = "dxlink_kpi_by_region(date)"


def upgrade() -> None:
    op.execute(KPI)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {FUNCTION} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO {API_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {FUNCTION}")
