"""Row-level security holds the tables' owner too; the functions serve the API role alone.

The API no longer connects as the owner: it logs in as a login that owns nothing and may only
assume ``dxlink_api`` (``dxlink migrate`` creates it, see service/migrate.py). This revision
closes what the owner could still do by mistake, and what that login could reach without the
API role:

- ``FORCE ROW LEVEL SECURITY`` on every table with policies: a table's owner is held by them
  too (superusers are not: they bypass row-level security whatever the table says). The owner
  gets one policy of its own, ``maintenance``, open in two cases only:
  - the transaction-local setting ``dxlink.maintenance`` is ``on``: migrations
    (migrations/env.py) and the seed loader set it. The API role gains nothing by setting it:
    the policy names the owner.
  - the owner is acting for another login that is not one of its members: that is, inside the
    SECURITY DEFINER functions, which run as the owner on the runtime login's behalf (the
    aggregates count every row, the visibility helpers look rows up, the audit trigger writes
    ``audit_log``, the copy triggers read datasets). A view's caller does not qualify
    (``current_user`` stays the caller there), nor does a login that ``SET ROLE``s to the owner.
  A ``SET dxlink.maintenance = on`` clause on each function would have said it more locally,
  but PostgreSQL 15+ refuses a non-superuser owner such a stored custom setting ("permission
  denied to set parameter") unless a superuser grants SET on it.
- The dataset rule answers "no" to anyone but the API role before it looks a draft up. The
  owner is a member of ``dxlink_api`` (migration b7c1d2e3f4a5 granted it the role), so the read
  policies hold it too; inside ``dxlink_can_read_draft``, which reads ``dataset`` and
  ``dataset_publisher`` as the owner, their policies called the rule, which called the draft
  lookup again, without end. (Guarding every read policy with ``current_user`` instead cost the
  benchmark's nested query 13-15 %: a gating qual on every rescanned subquery.)
- EXECUTE on the functions is revoked from PUBLIC and granted to the API role only (trigger
  functions to nobody), so the bare login (after ``RESET ROLE``) cannot call the definer
  functions either.
- ``dxlink_expert_exists``: whether an expert id exists, and nothing else, for the token scope
  lookup (auth/authenticate.py), which runs before there is a principal that may read experts.

Revision ID: e6f7a8b9c0d1
Revises: d5e6f7a8b9c0
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e6f7a8b9c0d1"
down_revision: str | None = "d5e6f7a8b9c0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API_ROLE = "dxlink_api"

# Every table with row-level security (b7c1d2e3f4a5's POLICIES).
SCOPED = (
    "tier_assignment",
    "assessment_response",
    "assessment_answer",
    "assessment_answer_option",
    "expert",
    "dispatch_request",
    "dispatch_assignment",
    "dispatch_visit",
    "dataset",
    "dataset_publisher",
    "distribution",
    "audit_log",
)

MAINTENANCE = (
    "dxlink_setting('maintenance') = 'on' OR "
    "(current_user <> session_user AND NOT pg_has_role(session_user, current_user, 'MEMBER'))"
)

DEFINERS = (
    "dxlink_expert_assigned_to(integer)",
    "dxlink_in_my_region(integer)",
    "dxlink_can_read_response(integer)",
    "dxlink_can_read_answer(integer)",
    "dxlink_can_read_visit(integer)",
    "dxlink_can_read_expert(integer)",
    "dxlink_can_read_draft(integer)",
    "dxlink_tier_counts(date)",
    "dxlink_answer_counts(text, text)",
    "dxlink_latest_tier_snapshot()",
)

# Trigger functions: PostgreSQL checks EXECUTE when a trigger is created, not when it fires.
TRIGGERS = (
    "dxlink_audit()",
    "dxlink_copy_dataset_published()",
    "dxlink_spread_dataset_published()",
)

INVOKERS = (
    "dxlink_setting(text)",
    "dxlink_principal_role()",
    "dxlink_is_admin()",
    "dxlink_can_read_municipality_data(text, integer)",
    "dxlink_can_read_dispatch(integer, integer)",
    "dxlink_can_read_dataset(integer, text)",
)

DATASET_RULE = """
CREATE OR REPLACE FUNCTION dxlink_can_read_dataset(target integer, state text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  r text := dxlink_principal_role();
BEGIN
  IF state = 'PUBLISHED' OR r = 'prefecture_admin' THEN
    RETURN true;
  END IF;
  IF r <> 'municipal_staff' OR current_user <> 'dxlink_api' THEN
    -- state is NULL when a link row asks; its dataset_published copy was false already. The
    -- owner (inside dxlink_can_read_draft) reads drafts in maintenance, never through here.
    RETURN false;
  END IF;
  RETURN dxlink_can_read_draft(target);
END $$
"""

# d5e6f7a8b9c0's rule.
PREVIOUS_DATASET_RULE = """
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

EXPERT_EXISTS = """
CREATE FUNCTION dxlink_expert_exists(target integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM expert WHERE id = target)
$$
"""


def upgrade() -> None:
    op.execute(DATASET_RULE)
    for table in SCOPED:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        # CURRENT_USER: the login that migrates, which created the tables and owns them.
        op.execute(
            f"CREATE POLICY maintenance ON {table} FOR ALL TO CURRENT_USER "
            f"USING ({MAINTENANCE}) WITH CHECK ({MAINTENANCE})"
        )
    op.execute(EXPERT_EXISTS)
    for function in (*DEFINERS, *INVOKERS, "dxlink_expert_exists(integer)", *TRIGGERS):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        if function not in TRIGGERS:
            op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {API_ROLE}")


def downgrade() -> None:
    for function in (*DEFINERS, *INVOKERS, *TRIGGERS):
        if function not in TRIGGERS:
            op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM {API_ROLE}")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO PUBLIC")
    op.execute("DROP FUNCTION dxlink_expert_exists(integer)")
    for table in SCOPED:
        op.execute(f"DROP POLICY maintenance ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(PREVIOUS_DATASET_RULE)
