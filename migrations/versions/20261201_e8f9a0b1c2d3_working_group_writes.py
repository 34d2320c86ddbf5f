"""Working groups' writes: the rules of auth/policy.py for proposing, deciding, creating and
editing a group, advisers, memberships, meetings (with attendance) and outputs, in
``dxlink_write_rule``, enforced by write policies, the column guard, the audit trigger and
exactly the grants the rules need.

A group's row is judged on its own columns (its lead municipality, its region): an INSERT's
check cannot look up the row it inserts. Its parts (goals, memberships, advisers, meetings,
attendance, outputs) are judged on their group, looked up by definer functions (a proposer
may not read its group yet), with the new row kinds ``region`` (the group's region is the
principal's), ``wg_lead`` (the principal's municipality leads the group) and ``wg_member``
(it leads the group or is an active member).

Row-level security on these tables (enabled, forced, its SELECT policies) is the access
revision's (f0a1b2c3d4e5): these write policies apply with it.

Revision ID: e8f9a0b1c2d3
Revises: f0a1b2c3d4e5, f9a0b1c2d3e4
Create Date: 2026-12-01 23:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e8f9a0b1c2d3"
# Written on d7e8f9a0b1c2; chained after the reads' grants (b0c1d2e3f4a6) and the access
# revision (f0a1b2c3d4e5, row-level security), merging the webhooks' (f9a0b1c2d3e4), so that
# the branch has one head (the lead re-chains at merge).
down_revision: tuple[str, ...] | None = ("f0a1b2c3d4e5", "f9a0b1c2d3e4")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


API_ROLE = "dxlink_api"

# The rules of auth/policy.py at this revision (tests/auth/test_write_rules.py keeps them equal).
RULES = """
    ('WorkingGroup', 'working_group', 'proposeWorkingGroup', 'insert', 'municipal_staff', 'own_municipality', '{}'),
    ('WorkingGroup', 'working_group', 'proposeWorkingGroup', 'insert', 'regional_office', 'region', '{}'),
    ('WorkingGroup', 'working_group', 'createWorkingGroup', 'insert', 'prefecture_admin', 'all', '{}'),
    ('WorkingGroup', 'working_group', 'decideWorkingGroup', 'update', 'prefecture_admin', 'all', '{decided_at,decided_by,decision_reason,started_on,status}'),
    ('WorkingGroup', 'working_group', 'updateWorkingGroup', 'update', 'prefecture_admin', 'all', '{expected_outputs,public_summary,purpose,theme,webhook_url}'),
    ('WorkingGroup', 'working_group', 'updateWorkingGroup', 'update', 'municipal_staff', 'own_municipality', '{expected_outputs,public_summary,purpose,theme,webhook_url}'),
    ('WorkingGroupMembership', 'working_group_membership', 'proposeWorkingGroup', 'insert', 'municipal_staff', 'own_municipality', '{}'),
    ('WorkingGroupMembership', 'working_group_membership', 'proposeWorkingGroup', 'insert', 'regional_office', 'region', '{}'),
    ('WorkingGroupMembership', 'working_group_membership', 'createWorkingGroup', 'insert', 'prefecture_admin', 'all', '{}'),
    ('WorkingGroupMembership', 'working_group_membership', 'requestMembership', 'insert', 'municipal_staff', 'own_municipality', '{}'),
    ('WorkingGroupMembership', 'working_group_membership', 'decideMembership', 'update', 'prefecture_admin', 'all', '{decided_at,decided_by,status}'),
    ('WorkingGroupMembership', 'working_group_membership', 'decideMembership', 'update', 'municipal_staff', 'wg_lead', '{decided_at,decided_by,status}'),
    ('WorkingGroupMembership', 'working_group_membership', 'acceptMembership', 'update', 'prefecture_admin', 'all', '{decided_at,decided_by,status}'),
    ('WorkingGroupMembership', 'working_group_membership', 'acceptMembership', 'update', 'municipal_staff', 'wg_lead', '{decided_at,decided_by,status}'),
    ('WorkingGroupAdviser', 'working_group_adviser', 'assignWorkingGroupAdviser', 'insert', 'prefecture_admin', 'all', '{}'),
    ('WorkingGroupMeeting', 'working_group_meeting', 'recordMeeting', 'insert', 'prefecture_admin', 'all', '{}'),
    ('WorkingGroupMeeting', 'working_group_meeting', 'recordMeeting', 'insert', 'municipal_staff', 'wg_member', '{}'),
    ('WorkingGroupOutput', 'working_group_output', 'addOutput', 'insert', 'prefecture_admin', 'all', '{}'),
    ('WorkingGroupOutput', 'working_group_output', 'addOutput', 'insert', 'municipal_staff', 'wg_member', '{}')
"""
ROWS_KNOWN = "'all', 'own_municipality', 'own_expert', 'own_dataset'"
WG_ROWS = "'region', 'wg_lead', 'wg_member'"

FUNCTIONS = [
    # A group's row, by its lead and region (the row itself cannot be looked up on insert).
    """
CREATE FUNCTION dxlink_can_write_working_group(action text, lead integer, region integer)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  rule text;
  mine integer := dxlink_setting('municipality_id')::integer;
  my_region integer := dxlink_setting('region_id')::integer;
BEGIN
  SELECT w.rows INTO rule FROM dxlink_write_rule w
  WHERE w.entity = 'WorkingGroup' AND w.operation = dxlink_setting('operation')
    AND w.action = dxlink_can_write_working_group.action AND w.role = dxlink_principal_role();
  RETURN CASE rule
    WHEN 'all' THEN true
    WHEN 'own_municipality' THEN lead = mine
    WHEN 'region' THEN region = my_region AND (lead IS NULL OR EXISTS (
      SELECT 1 FROM municipality m WHERE m.id = lead AND m.region_id = my_region))
    ELSE false
  END;
END $$
""",
    # A part of a group (a membership, an adviser, a meeting, an output), by its group and
    # its municipality (a membership's).
    """
CREATE FUNCTION dxlink_can_write_wg_part(entity text, action text, working_group integer,
                                         municipality integer)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  rule text;
  g record;
  mine integer := dxlink_setting('municipality_id')::integer;
BEGIN
  SELECT w.rows INTO rule FROM dxlink_write_rule w
  WHERE w.entity = dxlink_can_write_wg_part.entity AND w.operation = dxlink_setting('operation')
    AND w.action = dxlink_can_write_wg_part.action AND w.role = dxlink_principal_role();
  SELECT x.lead_municipality_id, x.region_id INTO g FROM working_group x
  WHERE x.id = working_group;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  RETURN CASE rule
    WHEN 'all' THEN true
    WHEN 'own_municipality' THEN municipality = mine
    WHEN 'region' THEN g.region_id = dxlink_setting('region_id')::integer
    WHEN 'wg_lead' THEN g.lead_municipality_id = mine
    WHEN 'wg_member' THEN g.lead_municipality_id = mine OR EXISTS (
      SELECT 1 FROM working_group_membership s
      WHERE s.working_group_id = working_group AND s.municipality_id = mine
        AND s.status = 'ACTIVE')
    ELSE false
  END;
END $$
""",
    # A group's goals are written under the group's rules.
    """
CREATE FUNCTION dxlink_can_write_wg_goal(action text, working_group integer)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  g record;
BEGIN
  SELECT x.lead_municipality_id, x.region_id INTO g FROM working_group x
  WHERE x.id = working_group;
  RETURN FOUND AND dxlink_can_write_working_group(action, g.lead_municipality_id, g.region_id);
END $$
""",
    # A meeting's attendance is written under the meeting's rules.
    """
CREATE FUNCTION dxlink_can_write_wg_attendance(action text, meeting integer)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  meeting_group integer;
BEGIN
  SELECT m.working_group_id INTO meeting_group FROM working_group_meeting m WHERE m.id = meeting;
  RETURN FOUND AND dxlink_can_write_wg_part('WorkingGroupMeeting', action, meeting_group, NULL);
END $$
""",
]
FUNCTION_NAMES = [
    "dxlink_can_write_wg_attendance(text, integer)",
    "dxlink_can_write_wg_goal(text, integer)",
    "dxlink_can_write_wg_part(text, text, integer, integer)",
    "dxlink_can_write_working_group(text, integer, integer)",
]


def _part(entity: str, municipality: str = "NULL") -> str:
    return f"dxlink_can_write_wg_part('{entity}', '{{action}}', working_group_id, {municipality})"


# table -> (actions, the rule of a row)
WRITTEN = {
    "working_group": (
        ("insert", "update"),
        "dxlink_can_write_working_group('{action}', lead_municipality_id, region_id)",
    ),
    "working_group_goal": (("insert",), "dxlink_can_write_wg_goal('{action}', working_group_id)"),
    "working_group_membership": (
        ("insert", "update"),
        _part("WorkingGroupMembership", "municipality_id"),
    ),
    "working_group_adviser": (("insert",), _part("WorkingGroupAdviser")),
    "working_group_meeting": (("insert",), _part("WorkingGroupMeeting")),
    "working_group_attendance": (
        ("insert",),
        "dxlink_can_write_wg_attendance('{action}', meeting_id)",
    ),
    "working_group_output": (("insert",), _part("WorkingGroupOutput")),
}
# Tables of d7e8f9a0b1c2 (working_group and its memberships have been audited since b7c1d2e3f4a5).
NEW_TABLES = [
    "working_group_goal",
    "working_group_adviser",
    "working_group_meeting",
    "working_group_attendance",
    "working_group_output",
]
SEQUENCES = (
    "working_group_id_seq, working_group_membership_id_seq, working_group_adviser_id_seq, "
    "working_group_meeting_id_seq, working_group_output_id_seq"
)


def upgrade() -> None:
    op.execute(
        "ALTER TABLE dxlink_write_rule DROP CONSTRAINT ck_dxlink_write_rule_rows_known, "
        "ADD CONSTRAINT ck_dxlink_write_rule_rows_known "
        f"CHECK (rows IN ({ROWS_KNOWN}, {WG_ROWS}))"
    )
    op.execute(f"INSERT INTO dxlink_write_rule VALUES {RULES}")
    for statement in FUNCTIONS:
        op.execute(statement)
    for function in FUNCTION_NAMES:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {API_ROLE}")
    for table in NEW_TABLES:
        op.execute(
            f"CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dxlink_audit()"
        )
    for table, (actions, rule) in WRITTEN.items():
        op.execute(f"GRANT {', '.join(a.upper() for a in actions)} ON {table} TO {API_ROLE}")
        for action in actions:
            check = rule.format(action=action)
            if action == "insert":
                body = f"FOR INSERT TO {API_ROLE} WITH CHECK ({check})"
            else:
                body = f"FOR UPDATE TO {API_ROLE} USING ({check}) WITH CHECK ({check})"
            op.execute(f"CREATE POLICY write_{action} ON {table} {body}")
        if "update" in actions:
            op.execute(
                f"CREATE TRIGGER guard_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION dxlink_guard_update()"
            )
    op.execute(f"GRANT USAGE ON SEQUENCE {SEQUENCES} TO {API_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE USAGE ON SEQUENCE {SEQUENCES} FROM {API_ROLE}")
    for table, (actions, _) in WRITTEN.items():
        if "update" in actions:
            op.execute(f"DROP TRIGGER guard_update ON {table}")
        for action in actions:
            op.execute(f"DROP POLICY write_{action} ON {table}")
        op.execute(f"REVOKE {', '.join(a.upper() for a in actions)} ON {table} FROM {API_ROLE}")
    for table in NEW_TABLES:
        op.execute(f"DROP TRIGGER audit ON {table}")
    for function in FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION {function}")
    op.execute("DELETE FROM dxlink_write_rule WHERE tablename LIKE 'working\\_group%'")
    op.execute(
        "ALTER TABLE dxlink_write_rule DROP CONSTRAINT ck_dxlink_write_rule_rows_known, "
        "ADD CONSTRAINT ck_dxlink_write_rule_rows_known "
        f"CHECK (rows IN ({ROWS_KNOWN}))"
    )
