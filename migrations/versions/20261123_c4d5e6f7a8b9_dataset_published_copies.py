"""Dataset state copied onto its links: for row-level security and for "newest datasets".

`dataset_publisher` and `distribution` are visible exactly where their dataset is. Their policy
used to look the dataset up for every row (a SECURITY DEFINER call per row: two thirds of the
benchmark's nested query). Now each link row carries `dataset_published`, kept by triggers, and
the policies test that column first; the rule's function runs only for unpublished datasets. Publisher rows also carry
the dataset's `modified_on`, indexed with the municipality, so a municipality's newest datasets
are one index range.

Revision ID: c4d5e6f7a8b9
Revises: b7c1d2e3f4a5
Create Date: 2026-11-23 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d5e6f7a8b9"
down_revision: str | None = "b7c1d2e3f4a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINKS = ("dataset_publisher", "distribution")

# The dataset rule itself: the common case (a published dataset, or the prefecture) is decided
# without the cost of a SECURITY DEFINER call; only drafts look up their publishers.
DATASET_RULE = """
CREATE OR REPLACE FUNCTION dxlink_can_read_dataset(target integer, state text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF state = 'PUBLISHED' OR dxlink_is_admin() THEN
    RETURN true;
  END IF;
  RETURN dxlink_can_read_draft(target);
END $$
"""

DRAFT_RULE = """
CREATE FUNCTION dxlink_can_read_draft(target integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF (SELECT status FROM dataset WHERE id = target) = 'PUBLISHED' THEN
    RETURN true;
  END IF;
  RETURN dxlink_principal_role() = 'municipal_staff' AND EXISTS (
    SELECT 1 FROM dataset_publisher p WHERE p.dataset_id = target
      AND p.municipality_id = dxlink_setting('municipality_id')::integer);
END $$
"""

PREVIOUS_DATASET_RULE = """
CREATE OR REPLACE FUNCTION dxlink_can_read_dataset(target integer, state text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF state IS NULL THEN
    SELECT status INTO state FROM dataset WHERE id = target;
  END IF;
  IF state = 'PUBLISHED' OR dxlink_is_admin() THEN
    RETURN true;
  END IF;
  RETURN dxlink_principal_role() = 'municipal_staff' AND EXISTS (
    SELECT 1 FROM dataset_publisher p WHERE p.dataset_id = target
      AND p.municipality_id = dxlink_setting('municipality_id')::integer);
END $$
"""

FUNCTIONS = [
    DRAFT_RULE,
    DATASET_RULE,
    # New links copy their dataset's state.
    """
CREATE FUNCTION dxlink_copy_dataset_published() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  NEW.dataset_published := EXISTS (
    SELECT 1 FROM dataset WHERE id = NEW.dataset_id AND status = 'PUBLISHED');
  IF TG_TABLE_NAME = 'dataset_publisher' THEN
    NEW.dataset_modified_on := (SELECT modified_on FROM dataset WHERE id = NEW.dataset_id);
  END IF;
  RETURN NEW;
END $$
""",
    # A dataset whose state changes passes it on to its links.
    """
CREATE FUNCTION dxlink_spread_dataset_published() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  published boolean := NEW.status = 'PUBLISHED';
BEGIN
  UPDATE dataset_publisher SET dataset_published = published, dataset_modified_on = NEW.modified_on
  WHERE dataset_id = NEW.id AND (dataset_published IS DISTINCT FROM published
                                 OR dataset_modified_on IS DISTINCT FROM NEW.modified_on);
  UPDATE distribution SET dataset_published = published
  WHERE dataset_id = NEW.id AND dataset_published IS DISTINCT FROM published;
  RETURN NULL;
END $$
""",
]


def upgrade() -> None:
    for table in LINKS:
        op.add_column(
            table,
            sa.Column(
                "dataset_published", sa.Boolean(), server_default=sa.false(), nullable=False
            ),
        )
        op.execute(
            f"UPDATE {table} l SET dataset_published = true FROM dataset d "
            "WHERE d.id = l.dataset_id AND d.status = 'PUBLISHED'"
        )
    op.add_column("dataset_publisher", sa.Column("dataset_modified_on", sa.Date(), nullable=True))
    op.execute(
        "UPDATE dataset_publisher l SET dataset_modified_on = d.modified_on FROM dataset d "
        "WHERE d.id = l.dataset_id"
    )
    op.create_index(
        "ix_dataset_publisher_newest",
        "dataset_publisher",
        ["municipality_id", sa.text("dataset_modified_on DESC NULLS LAST"), "dataset_id"],
    )
    for statement in FUNCTIONS:
        op.execute(statement)
    for table in LINKS:
        op.execute(
            f"CREATE TRIGGER copy_dataset_published BEFORE INSERT OR UPDATE OF dataset_id "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION dxlink_copy_dataset_published()"
        )
        # The published test is a plain column, so that the planner estimates it from the
        # column's statistics (most links are published) and keeps its index plans; the
        # function runs only for the links of unpublished datasets. (A policy that is nothing
        # but an opaque function gets a fixed one-in-three guess, and at national scale the
        # planner then sorted every municipality's datasets instead of reading ten by index.)
        op.execute(
            f"ALTER POLICY read ON {table} "
            "USING (dataset_published OR dxlink_can_read_dataset(dataset_id, NULL))"
        )
    op.execute(
        "ALTER POLICY read ON dataset USING (status = 'PUBLISHED' OR dxlink_can_read_dataset(id, status))"
    )
    op.execute(
        "CREATE TRIGGER spread_dataset_published AFTER INSERT OR UPDATE OF status, modified_on "
        "ON dataset "
        "FOR EACH ROW EXECUTE FUNCTION dxlink_spread_dataset_published()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER spread_dataset_published ON dataset")
    op.drop_index("ix_dataset_publisher_newest", table_name="dataset_publisher")
    op.drop_column("dataset_publisher", "dataset_modified_on")
    for table in LINKS:
        op.execute(f"ALTER POLICY read ON {table} USING (dxlink_can_read_dataset(dataset_id, NULL))")
        op.execute(f"DROP TRIGGER copy_dataset_published ON {table}")
        op.drop_column(table, "dataset_published")
    op.execute("DROP FUNCTION dxlink_spread_dataset_published()")
    op.execute("DROP FUNCTION dxlink_copy_dataset_published()")
    op.execute("ALTER POLICY read ON dataset USING (dxlink_can_read_dataset(id, status))")
    op.execute(PREVIOUS_DATASET_RULE)
    op.execute("DROP FUNCTION dxlink_can_read_draft(integer)")
