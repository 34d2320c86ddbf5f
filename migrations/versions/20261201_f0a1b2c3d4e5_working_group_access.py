"""Working groups' access: who reads what of the groups, held by row-level security.

The rules of auth/policy.py (``Rows.WG_*``, ``Rows.OWN_PRODUCER``), one STABLE function per
rule as in b7c1d2e3f4a5:

- ``dxlink_can_read_wg(kind, working_group, published, municipality)``, the read policies' one
  rule (plpgsql, invoker): the prefecture reads everything; anyone but the API role (the owner
  inside a definer function, which reads in maintenance) nothing, before any lookup, so the
  lookups below do not recurse through these policies (as dxlink_can_read_dataset, e6f7a8b9c0d1);
  then by ``kind``: ``visible`` (a group's own rows), ``published`` (outputs), ``membership``,
  ``participant`` (meetings, attendance) and ``adviser``.
- SECURITY DEFINER lookups: ``dxlink_wg_visible`` (active or closed, a proposal the principal's
  municipality or regional office made, or taken part in), ``dxlink_wg_participant`` (an active
  member or the lead municipality's staff, or the advising expert or producer), ``dxlink_wg_led``
  and ``dxlink_meeting_working_group`` (an attendance row's group).
- ``dxlink_can_read_producer``: the prefecture, the coordinators and the producer itself
  (``dxlink.producer_id``, the producer principal's setting); ``dxlink_producer_exists`` for the
  token scope lookup (auth/authenticate.py), as ``dxlink_expert_exists``.
- ``dxlink_webhook_url_visible(lead)``: whether a group's webhook URL is shown (the prefecture,
  the lead municipality's staff), as auth/policy.py ``webhook_url_visible``.
- ``dxlink_can_write_wg(entity, action, working_group)``: the write rules' judge for rows of a
  working group (``wg_member``: the principal's municipality is an active member or the lead;
  ``wg_lead``: it is the lead), for the write policies of the working groups' mutations (they
  and their ``dxlink_write_rule`` rows come with those mutations, not here).
- The result cache's NOTIFY triggers (c6d7e8f9a0b1) on the goals and their indicators, public
  reference data (auth/policy.py PUBLIC_TYPES).

Revision ID: f0a1b2c3d4e5
Revises: b0c1d2e3f4a6
Create Date: 2026-12-01 23:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f0a1b2c3d4e5"
down_revision: str | None = "b0c1d2e3f4a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API_ROLE = "dxlink_api"

MAINTENANCE = (
    "dxlink_setting('maintenance') = 'on' OR "
    "(current_user <> session_user AND NOT pg_has_role(session_user, current_user, 'MEMBER'))"
)

# Tables the API role reads: b0c1d2e3f4a6 (the reads) granted them already, and its downgrade
# revokes them; granting again changes nothing, and keeps this revision whole should it be
# re-chained before that one. Not the webhook outbox.
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

# table -> USING expression. A plain column first where most rows are public (the planner
# estimates it from statistics; the function runs for the rest), as for datasets.
POLICIES = {
    "producer": "dxlink_can_read_producer(id)",
    "working_group": (
        "status IN ('ACTIVE', 'CLOSED') OR dxlink_can_read_wg('visible', id, NULL, NULL)"
    ),
    "working_group_goal": "dxlink_can_read_wg('visible', working_group_id, NULL, NULL)",
    "working_group_membership": (
        "dxlink_can_read_wg('membership', working_group_id, status = 'ACTIVE', municipality_id)"
    ),
    "working_group_adviser": "dxlink_can_read_wg('adviser', working_group_id, NULL, NULL)",
    "working_group_meeting": "dxlink_can_read_wg('participant', working_group_id, NULL, NULL)",
    "working_group_attendance": (
        "dxlink_can_read_wg('participant', dxlink_meeting_working_group(meeting_id), NULL, NULL)"
    ),
    "working_group_output": (
        "dxlink_can_read_wg('published', working_group_id, published, NULL)"
    ),
}

# Tables a cached answer may read in full (c6d7e8f9a0b1's list; tests/test_result_cache.py).
NOTIFIED = ("dx_goal", "dx_goal_indicator")

FUNCTIONS = [
    # Does the principal take part in the group? Definer: memberships and advisers are not the
    # principal's to read in full.
    """
CREATE FUNCTION dxlink_wg_participant(wg integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  CASE dxlink_principal_role()
    WHEN 'municipal_staff' THEN
      RETURN EXISTS (
        SELECT 1 FROM working_group g
        WHERE g.id = wg AND g.lead_municipality_id = dxlink_setting('municipality_id')::integer)
      OR EXISTS (
        SELECT 1 FROM working_group_membership m
        WHERE m.working_group_id = wg AND m.status = 'ACTIVE'
          AND m.municipality_id = dxlink_setting('municipality_id')::integer);
    WHEN 'expert' THEN
      RETURN EXISTS (
        SELECT 1 FROM working_group_adviser a
        WHERE a.working_group_id = wg AND a.expert_id = dxlink_setting('expert_id')::integer);
    WHEN 'producer' THEN
      RETURN EXISTS (
        SELECT 1 FROM working_group_adviser a
        WHERE a.working_group_id = wg AND a.producer_id = dxlink_setting('producer_id')::integer);
    ELSE
      RETURN false;
  END CASE;
END $$
""",
    """
CREATE FUNCTION dxlink_wg_led(wg integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN dxlink_principal_role() = 'municipal_staff' AND EXISTS (
    SELECT 1 FROM working_group g
    WHERE g.id = wg AND g.lead_municipality_id = dxlink_setting('municipality_id')::integer);
END $$
""",
    # Does the principal see the group: public (active or closed), its own proposal, or one it
    # takes part in?
    """
CREATE FUNCTION dxlink_wg_visible(wg integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r text := dxlink_principal_role();
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM working_group g
    WHERE g.id = wg AND (
      g.status IN ('ACTIVE', 'CLOSED')
      OR (r = 'municipal_staff'
          AND g.proposed_by_municipality_id = dxlink_setting('municipality_id')::integer)
      OR (r = 'regional_office'
          AND g.proposed_by_region_id = dxlink_setting('region_id')::integer)))
  OR dxlink_wg_participant(wg);
END $$
""",
    """
CREATE FUNCTION dxlink_meeting_working_group(meeting integer) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT working_group_id FROM working_group_meeting WHERE id = meeting
$$
""",
    # The read policies' rule for the working groups' tables.
    """
CREATE FUNCTION dxlink_can_read_wg(kind text, wg integer, published boolean,
                                   municipality integer)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
  r text := dxlink_principal_role();
BEGIN
  IF r = 'prefecture_admin' THEN
    RETURN true;
  END IF;
  IF current_user <> 'dxlink_api' THEN
    -- The owner, inside a definer lookup, reads in maintenance, never through here.
    RETURN false;
  END IF;
  CASE kind
    WHEN 'visible' THEN
      RETURN dxlink_wg_visible(wg);
    WHEN 'published' THEN
      RETURN (published AND dxlink_wg_visible(wg)) OR dxlink_wg_participant(wg);
    WHEN 'membership' THEN
      RETURN (published AND dxlink_wg_visible(wg))
        OR (r = 'municipal_staff'
            AND (municipality = dxlink_setting('municipality_id')::integer OR dxlink_wg_led(wg)));
    WHEN 'participant' THEN
      RETURN dxlink_wg_participant(wg);
    WHEN 'adviser' THEN
      RETURN r = 'dispatch_coordinator' OR dxlink_wg_participant(wg);
    ELSE
      RETURN false;
  END CASE;
END $$
""",
    """
CREATE FUNCTION dxlink_can_read_producer(target integer) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  CASE dxlink_principal_role()
    WHEN 'prefecture_admin', 'dispatch_coordinator' THEN RETURN true;
    WHEN 'producer' THEN RETURN target = dxlink_setting('producer_id')::integer;
    ELSE RETURN false;
  END CASE;
END $$
""",
    """
CREATE FUNCTION dxlink_producer_exists(target integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM producer WHERE id = target)
$$
""",
    # Whether a group's webhook URL (a secret) is shown: to the prefecture and the staff of its
    # lead municipality (auth/policy.py webhook_url_visible, for declarations in SQL:
    # ``CASE WHEN dxlink_webhook_url_visible(lead_municipality_id) THEN webhook_url END``).
    """
CREATE FUNCTION dxlink_webhook_url_visible(lead integer) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  CASE dxlink_principal_role()
    WHEN 'prefecture_admin' THEN RETURN true;
    WHEN 'municipal_staff' THEN RETURN lead = dxlink_setting('municipality_id')::integer;
    ELSE RETURN false;
  END CASE;
END $$
""",
    # The write rules' judge for a row of a working group (its write policies call it with the
    # row's working_group_id).
    """
CREATE FUNCTION dxlink_can_write_wg(entity text, action text, wg integer)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  rule text;
  mine integer := dxlink_setting('municipality_id')::integer;
BEGIN
  SELECT w.rows INTO rule FROM dxlink_write_rule w
  WHERE w.entity = dxlink_can_write_wg.entity AND w.operation = dxlink_setting('operation')
    AND w.action = dxlink_can_write_wg.action AND w.role = dxlink_principal_role();
  RETURN CASE rule
    WHEN 'all' THEN true
    WHEN 'wg_lead' THEN
      EXISTS (SELECT 1 FROM working_group g WHERE g.id = wg AND g.lead_municipality_id = mine)
    WHEN 'wg_member' THEN
      EXISTS (SELECT 1 FROM working_group g WHERE g.id = wg AND g.lead_municipality_id = mine)
      OR EXISTS (SELECT 1 FROM working_group_membership m
                 WHERE m.working_group_id = wg AND m.municipality_id = mine
                   AND m.status = 'ACTIVE')
    ELSE false
  END;
END $$
""",
]

FUNCTION_NAMES = (
    "dxlink_wg_participant(integer)",
    "dxlink_wg_led(integer)",
    "dxlink_wg_visible(integer)",
    "dxlink_meeting_working_group(integer)",
    "dxlink_can_read_wg(text, integer, boolean, integer)",
    "dxlink_can_read_producer(integer)",
    "dxlink_producer_exists(integer)",
    "dxlink_webhook_url_visible(integer)",
    "dxlink_can_write_wg(text, text, integer)",
)

# The write rules' rows, with those dxlink_can_write_wg judges. The working groups' writes
# revision (e8f9a0b1c2d3, branch wg-writes) sets the same list, 'region' included, in whichever
# order the two are chained; the downgrade leaves it (a superset refuses nothing it needs).
ROWS_KNOWN = (
    "'all', 'own_municipality', 'own_expert', 'own_dataset', 'region', 'wg_lead', 'wg_member'"
)


def upgrade() -> None:
    op.execute(f"GRANT SELECT ON {', '.join(READ)} TO {API_ROLE}")
    for statement in FUNCTIONS:
        op.execute(statement)
    for function in FUNCTION_NAMES:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {API_ROLE}")
    for table, rule in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY read ON {table} FOR SELECT TO {API_ROLE} USING ({rule})")
        # CURRENT_USER: the login that migrates, which created the tables and owns them.
        op.execute(
            f"CREATE POLICY maintenance ON {table} FOR ALL TO CURRENT_USER "
            f"USING ({MAINTENANCE}) WITH CHECK ({MAINTENANCE})"
        )
    # The write rules of working groups' rows (their rows come with the mutations).
    op.execute(
        "ALTER TABLE dxlink_write_rule DROP CONSTRAINT ck_dxlink_write_rule_rows_known, "
        "ADD CONSTRAINT ck_dxlink_write_rule_rows_known "
        f"CHECK (rows IN ({ROWS_KNOWN}))"
    )
    for table in NOTIFIED:
        op.execute(
            f"CREATE TRIGGER notify_table_changed "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dxlink_notify_table_changed()"
        )


def downgrade() -> None:
    for table in NOTIFIED:
        op.execute(f"DROP TRIGGER notify_table_changed ON {table}")
    for table in POLICIES:
        op.execute(f"DROP POLICY maintenance ON {table}")
        op.execute(f"DROP POLICY read ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for function in reversed(FUNCTION_NAMES):
        op.execute(f"DROP FUNCTION {function}")
    # The grants stay: they are b0c1d2e3f4a6's.
