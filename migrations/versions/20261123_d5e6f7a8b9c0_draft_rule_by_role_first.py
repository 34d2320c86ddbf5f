"""The dataset rule decides by the caller's role before looking a draft up.

Only the prefecture (every draft) and municipal staff (their own municipality's drafts) may read
unpublished datasets. The rule used to call the SECURITY DEFINER lookup for every unpublished
row whatever the caller, so anonymous readers paid a function call with its own queries for each
draft they could never see (a third of the benchmark's nested query at N=5). Now every other
role is answered from the role alone. Same answers for every role (tests/auth).

For link rows the rule now trusts their `dataset_published` copy outright, so the copy is
recomputed from the dataset on every write of a link row (it was on a change of `dataset_id`
only): no UPDATE can set it to anything but the dataset's state.

Revision ID: d5e6f7a8b9c0
Revises: c4d5e6f7a8b9
Create Date: 2026-11-23 15:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d5e6f7a8b9c0"
down_revision: str | None = "c4d5e6f7a8b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATASET_RULE = """
CREATE OR REPLACE FUNCTION dxlink_can_read_dataset(target integer, state text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  r text := dxlink_principal_role();
BEGIN
  IF state = 'PUBLISHED' OR r = 'prefecture_admin' THEN
    RETURN true;
  END IF;
  IF r <> 'municipal_staff' THEN
    -- state is NULL when a link row asks; its dataset_published copy was false already.
    RETURN false;
  END IF;
  RETURN dxlink_can_read_draft(target);
END $$
"""

PREVIOUS_DATASET_RULE = """
CREATE OR REPLACE FUNCTION dxlink_can_read_dataset(target integer, state text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF state = 'PUBLISHED' OR dxlink_is_admin() THEN
    RETURN true;
  END IF;
  RETURN dxlink_can_read_draft(target);
END $$
"""


LINKS = ("dataset_publisher", "distribution")


def _copy_trigger(table: str, events: str) -> None:
    op.execute(f"DROP TRIGGER copy_dataset_published ON {table}")
    op.execute(
        f"CREATE TRIGGER copy_dataset_published BEFORE {events} ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION dxlink_copy_dataset_published()"
    )


def upgrade() -> None:
    op.execute(DATASET_RULE)
    for table in LINKS:
        _copy_trigger(table, "INSERT OR UPDATE")


def downgrade() -> None:
    for table in LINKS:
        _copy_trigger(table, "INSERT OR UPDATE OF dataset_id")
    op.execute(PREVIOUS_DATASET_RULE)
