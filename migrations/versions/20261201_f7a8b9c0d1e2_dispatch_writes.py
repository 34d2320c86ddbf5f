"""Dispatch writes: profiles, programme rules, requests, sessions and reports; versions, demo
flags, idempotency keys; and the write side of row-level security.

Who may write what is declared in auth/policy.py (`EntityPolicy.writes`: operation -> actions,
row rule by role, the columns an update may change). This revision copies those rules into the
table ``dxlink_write_rule`` (tests/auth/test_write_rules.py keeps the two equal) and enforces
them for the API role:

- the service names the running operation (the mutation) in the transaction-local setting
  ``dxlink.operation``;
- ``FOR INSERT / UPDATE / DELETE`` policies call ``dxlink_can_write(entity, action, municipality,
  expert)``, which looks the rule up for the principal's role and judges the row's scope
  (``all``, the principal's own municipality, or its own expert profile);
- a BEFORE UPDATE trigger refuses an update that changes a column the operation may not change
  (``version`` and ``updated_at`` always change).

Without a principal (migrations and seeds, as the owner) none of this applies.

Revision ID: f7a8b9c0d1e2
Revises: e6f7a8b9c0d1
Create Date: 2026-12-01 10:32:03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f7a8b9c0d1e2"
down_revision: str | None = "e6f7a8b9c0d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


API_ROLE = "dxlink_api"

# The rules of auth/policy.py at this revision: entity, table, operation, action, role, rows,
# and for updates the columns the operation may change.
RULES = """
    ('Expert', 'expert', 'createExpert', 'insert', 'prefecture_admin', 'all', '{}'),
    ('Expert', 'expert', 'createExpert', 'insert', 'dispatch_coordinator', 'all', '{}'),
    ('Expert', 'expert', 'updateExpert', 'update', 'prefecture_admin', 'all', '{adviser_registrations,affiliation,contact,main_job,monthly_capacity,name,skills,themes}'),
    ('Expert', 'expert', 'updateExpert', 'update', 'dispatch_coordinator', 'all', '{adviser_registrations,affiliation,contact,main_job,monthly_capacity,name,skills,themes}'),
    ('ExpertAvailability', 'expert_availability', 'createExpert', 'insert', 'prefecture_admin', 'all', '{}'),
    ('ExpertAvailability', 'expert_availability', 'createExpert', 'insert', 'dispatch_coordinator', 'all', '{}'),
    ('ExpertAvailability', 'expert_availability', 'updateExpert', 'delete', 'prefecture_admin', 'all', '{}'),
    ('ExpertAvailability', 'expert_availability', 'updateExpert', 'delete', 'dispatch_coordinator', 'all', '{}'),
    ('ExpertAvailability', 'expert_availability', 'updateExpert', 'insert', 'prefecture_admin', 'all', '{}'),
    ('ExpertAvailability', 'expert_availability', 'updateExpert', 'insert', 'dispatch_coordinator', 'all', '{}'),
    ('DispatchProgramme', 'dispatch_programme', 'createDispatchProgramme', 'insert', 'prefecture_admin', 'all', '{}'),
    ('DispatchProgramme', 'dispatch_programme', 'createDispatchProgramme', 'insert', 'dispatch_coordinator', 'all', '{}'),
    ('DispatchProgramme', 'dispatch_programme', 'updateDispatchProgramme', 'update', 'prefecture_admin', 'all', '{confirmation_required,ends_on,first_session_on_site,name,sessions_per_month_max,sessions_per_month_target,starts_on,themes}'),
    ('DispatchProgramme', 'dispatch_programme', 'updateDispatchProgramme', 'update', 'dispatch_coordinator', 'all', '{confirmation_required,ends_on,first_session_on_site,name,sessions_per_month_max,sessions_per_month_target,starts_on,themes}'),
    ('DispatchRequest', 'dispatch_request', 'fileDispatchRequest', 'insert', 'prefecture_admin', 'all', '{}'),
    ('DispatchRequest', 'dispatch_request', 'fileDispatchRequest', 'insert', 'dispatch_coordinator', 'all', '{}'),
    ('DispatchRequest', 'dispatch_request', 'fileDispatchRequest', 'insert', 'municipal_staff', 'own_municipality', '{}'),
    ('DispatchRequest', 'dispatch_request', 'withdrawDispatchRequest', 'update', 'prefecture_admin', 'all', '{status}'),
    ('DispatchRequest', 'dispatch_request', 'withdrawDispatchRequest', 'update', 'dispatch_coordinator', 'all', '{status}'),
    ('DispatchRequest', 'dispatch_request', 'withdrawDispatchRequest', 'update', 'municipal_staff', 'own_municipality', '{status}'),
    ('DispatchRequest', 'dispatch_request', 'assignExpert', 'update', 'prefecture_admin', 'all', '{status}'),
    ('DispatchRequest', 'dispatch_request', 'assignExpert', 'update', 'dispatch_coordinator', 'all', '{status}'),
    ('DispatchRequest', 'dispatch_request', 'endAssignment', 'update', 'prefecture_admin', 'all', '{status}'),
    ('DispatchRequest', 'dispatch_request', 'endAssignment', 'update', 'dispatch_coordinator', 'all', '{status}'),
    ('DispatchAssignment', 'dispatch_assignment', 'assignExpert', 'insert', 'prefecture_admin', 'all', '{}'),
    ('DispatchAssignment', 'dispatch_assignment', 'assignExpert', 'insert', 'dispatch_coordinator', 'all', '{}'),
    ('DispatchAssignment', 'dispatch_assignment', 'reassignExpert', 'insert', 'prefecture_admin', 'all', '{}'),
    ('DispatchAssignment', 'dispatch_assignment', 'reassignExpert', 'insert', 'dispatch_coordinator', 'all', '{}'),
    ('DispatchAssignment', 'dispatch_assignment', 'reassignExpert', 'update', 'prefecture_admin', 'all', '{ended_reason,ends_on,status}'),
    ('DispatchAssignment', 'dispatch_assignment', 'reassignExpert', 'update', 'dispatch_coordinator', 'all', '{ended_reason,ends_on,status}'),
    ('DispatchAssignment', 'dispatch_assignment', 'endAssignment', 'update', 'prefecture_admin', 'all', '{ended_reason,ends_on,status}'),
    ('DispatchAssignment', 'dispatch_assignment', 'endAssignment', 'update', 'dispatch_coordinator', 'all', '{ended_reason,ends_on,status}'),
    ('DispatchVisit', 'dispatch_visit', 'planSession', 'insert', 'prefecture_admin', 'all', '{}'),
    ('DispatchVisit', 'dispatch_visit', 'planSession', 'insert', 'dispatch_coordinator', 'all', '{}'),
    ('DispatchVisit', 'dispatch_visit', 'planSession', 'insert', 'expert', 'own_expert', '{}'),
    ('DispatchVisit', 'dispatch_visit', 'recordSessionReport', 'update', 'prefecture_admin', 'all', '{hours,next_steps,report,reported_at,status}'),
    ('DispatchVisit', 'dispatch_visit', 'recordSessionReport', 'update', 'expert', 'own_expert', '{hours,next_steps,report,reported_at,status}'),
    ('DispatchVisit', 'dispatch_visit', 'confirmSessionReport', 'update', 'prefecture_admin', 'all', '{confirmed_at,confirmed_by}'),
    ('DispatchVisit', 'dispatch_visit', 'confirmSessionReport', 'update', 'municipal_staff', 'own_municipality', '{confirmed_at,confirmed_by}'),
    ('DispatchVisit', 'dispatch_visit', 'cancelSession', 'update', 'prefecture_admin', 'all', '{cancelled_reason,status}'),
    ('DispatchVisit', 'dispatch_visit', 'cancelSession', 'update', 'dispatch_coordinator', 'all', '{cancelled_reason,status}'),
    ('DispatchVisit', 'dispatch_visit', 'cancelSession', 'update', 'municipal_staff', 'own_municipality', '{cancelled_reason,status}'),
    ('DispatchVisit', 'dispatch_visit', 'cancelSession', 'update', 'expert', 'own_expert', '{cancelled_reason,status}'),
    ('DispatchVisit', 'dispatch_visit', 'endAssignment', 'update', 'prefecture_admin', 'all', '{cancelled_reason,status}'),
    ('DispatchVisit', 'dispatch_visit', 'endAssignment', 'update', 'dispatch_coordinator', 'all', '{cancelled_reason,status}'),
    ('DispatchVisit', 'dispatch_visit', 'reassignExpert', 'update', 'prefecture_admin', 'all', '{cancelled_reason,status}'),
    ('DispatchVisit', 'dispatch_visit', 'reassignExpert', 'update', 'dispatch_coordinator', 'all', '{cancelled_reason,status}')
"""

# Where a row belongs (municipality, expert), per table, as SQL over the row.
SCOPES = {
    "expert": ("NULL", "id"),
    "expert_availability": ("NULL", "expert_id"),
    "dispatch_programme": ("NULL", "NULL"),
    "dispatch_request": ("municipality_id", "NULL"),
    "dispatch_assignment": ("municipality_id", "expert_id"),
}
ENTITIES = {
    "expert": "Expert",
    "expert_availability": "ExpertAvailability",
    "dispatch_programme": "DispatchProgramme",
    "dispatch_request": "DispatchRequest",
    "dispatch_assignment": "DispatchAssignment",
    "dispatch_visit": "DispatchVisit",
}
ACTIONS = {
    "expert": ("insert", "update"),
    "expert_availability": ("insert", "delete"),
    "dispatch_programme": ("insert", "update"),
    "dispatch_request": ("insert", "update"),
    "dispatch_assignment": ("insert", "update"),
    "dispatch_visit": ("insert", "update"),
}
SEQUENCES = [f"{table}_id_seq" for table in ACTIONS] + ["idempotency_key_id_seq"]

FUNCTIONS = [
    """
CREATE FUNCTION dxlink_can_write(entity text, action text, municipality integer, expert integer)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
  rule text;
BEGIN
  SELECT w.rows INTO rule FROM dxlink_write_rule w
  WHERE w.entity = dxlink_can_write.entity AND w.operation = dxlink_setting('operation')
    AND w.action = dxlink_can_write.action AND w.role = dxlink_principal_role();
  RETURN CASE rule
    WHEN 'all' THEN true
    WHEN 'own_municipality' THEN municipality = dxlink_setting('municipality_id')::integer
    WHEN 'own_expert' THEN expert = dxlink_setting('expert_id')::integer
    ELSE false
  END;
END $$
""",
    # A session belongs where its assignment does; the lookup is not the principal's to read.
    """
CREATE FUNCTION dxlink_can_write_visit(action text, assignment integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  a record;
BEGIN
  SELECT expert_id, municipality_id INTO a FROM dispatch_assignment WHERE id = assignment;
  RETURN FOUND AND dxlink_can_write('DispatchVisit', action, a.municipality_id, a.expert_id);
END $$
""",
    """
CREATE FUNCTION dxlink_guard_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  allowed text[];
  changed text[];
BEGIN
  -- Only the API role is guarded: the owner (migrations, seeds, `dxlink` commands) and the
  -- test harness's own statements run under another role. The runtime login holds no table
  -- privilege of its own, so an update reaches here as the API role or as the owner.
  IF current_setting('role') IS DISTINCT FROM 'dxlink_api' THEN
    RETURN NEW;
  END IF;
  SELECT w.columns INTO allowed FROM dxlink_write_rule w
  WHERE w.tablename = TG_TABLE_NAME AND w.operation = dxlink_setting('operation')
    AND w.action = 'update' AND w.role = dxlink_principal_role();
  SELECT coalesce(array_agg(n.key), '{}') INTO changed
  FROM jsonb_each(to_jsonb(NEW)) n
  WHERE n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
  IF allowed IS NULL OR NOT changed <@ (allowed || ARRAY['version', 'updated_at']) THEN
    RAISE EXCEPTION 'operation % may not change % of %', dxlink_setting('operation'),
      array_to_string(changed, ', '), TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$
""",
]
FUNCTION_NAMES = [
    "dxlink_guard_update()",
    "dxlink_can_write_visit(text, integer)",
    "dxlink_can_write(text, text, integer, integer)",
]
MAINTENANCE = (
    "dxlink_setting('maintenance') = 'on' OR "
    "(current_user <> session_user AND NOT pg_has_role(session_user, current_user, 'MEMBER'))"
)


def _rule(table: str, action: str) -> str:
    if table == "dispatch_visit":
        return f"dxlink_can_write_visit('{action}', assignment_id)"
    municipality, expert = SCOPES[table]
    return f"dxlink_can_write('{ENTITIES[table]}', '{action}', {municipality}, {expert})"


def upgrade() -> None:
    # ### commands auto generated by Alembic, reviewed ###
    op.create_table('idempotency_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_key')),
    sa.UniqueConstraint('subject', 'key', name=op.f('uq_idempotency_key_subject_key'))
    )
    op.create_table('expert_availability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_expert_availability_period_ordered')),
    sa.ForeignKeyConstraint(['expert_id'], ['expert.id'], name=op.f('fk_expert_availability_expert_id_expert'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_availability'))
    )
    op.create_index(op.f('ix_expert_availability_expert_id'), 'expert_availability', ['expert_id'], unique=False)
    op.add_column('dispatch_assignment', sa.Column('programme_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_dispatch_assignment_programme_id'), 'dispatch_assignment', ['programme_id'], unique=False)
    op.create_foreign_key(op.f('fk_dispatch_assignment_programme_id_dispatch_programme'), 'dispatch_assignment', 'dispatch_programme', ['programme_id'], ['id'])
    op.add_column('dispatch_assignment', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('dispatch_assignment', sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_index('uq_dispatch_assignment_open_request', 'dispatch_assignment', ['request_id'], unique=True, postgresql_where=sa.text("status IN ('PLANNED', 'ACTIVE')"))
    op.add_column('dispatch_programme', sa.Column('name', sa.String(length=200), server_default='デジタル専門人材派遣', nullable=False))
    op.add_column('dispatch_programme', sa.Column('sessions_per_month_max', sa.SmallInteger(), server_default='6', nullable=False))
    op.add_column('dispatch_programme', sa.Column('first_session_on_site', sa.Boolean(), server_default=sa.text('true'), nullable=False))
    op.add_column('dispatch_programme', sa.Column('confirmation_required', sa.Boolean(), server_default=sa.text('true'), nullable=False))
    op.add_column('dispatch_programme', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('dispatch_programme', sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('dispatch_programme', sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False))
    op.add_column('dispatch_request', sa.Column('status', sa.Enum('OPEN', 'MATCHED', 'WITHDRAWN', name='request_status', native_enum=False, create_constraint=True, length=20), server_default='OPEN', nullable=False))
    op.add_column('dispatch_request', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('dispatch_request', sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('dispatch_request', sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False))
    op.add_column('dispatch_visit', sa.Column('next_steps', sa.Text(), nullable=True))
    op.add_column('dispatch_visit', sa.Column('hours', sa.Numeric(precision=4, scale=1), nullable=True))
    op.add_column('dispatch_visit', sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('dispatch_visit', sa.Column('confirmed_by', sa.String(length=200), nullable=True))
    op.add_column('dispatch_visit', sa.Column('cancelled_reason', sa.Text(), nullable=True))
    op.add_column('dispatch_visit', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('dispatch_visit', sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('expert', sa.Column('skills', postgresql.ARRAY(sa.String(length=80)), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('expert', sa.Column('adviser_registrations', postgresql.ARRAY(sa.String(length=120)), server_default=sa.text("'{}'"), nullable=False))
    op.add_column('expert', sa.Column('contact', sa.String(length=200), nullable=True))
    op.add_column('expert', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('expert', sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_check_constraint(
        op.f("ck_dispatch_programme_maximum_over_target"),
        "dispatch_programme",
        "sessions_per_month_max >= sessions_per_month_target",
    )
    op.create_check_constraint(
        op.f("ck_dispatch_visit_hours_positive"), "dispatch_visit", "hours IS NULL OR hours > 0"
    )
    # ### end Alembic commands ###
    _write_side()


# Sessions counted by month (Japan's months), per assignment, expert, municipality and
# programme. security_invoker: each viewer counts the rows row-level security lets it read.
VIEWS = {
    "dispatch_assignment_month": """
SELECT a.id AS assignment_id, a.expert_id, a.municipality_id, a.programme_id,
       m.month::date AS month,
       count(v.id) FILTER (WHERE v.status = 'PLANNED') AS planned,
       count(v.id) FILTER (WHERE v.status = 'HELD') AS held,
       count(v.id) FILTER (WHERE v.status <> 'CANCELLED' AND v.mode = 'ON_SITE') AS on_site,
       coalesce(p.sessions_per_month_target, 4) AS target,
       coalesce(p.sessions_per_month_max, 6) AS maximum
FROM dispatch_assignment a
CROSS JOIN LATERAL generate_series(date_trunc('month', a.starts_on::timestamp),
                                   date_trunc('month', a.ends_on::timestamp),
                                   interval '1 month') AS m(month)
LEFT JOIN dispatch_programme p ON p.id = a.programme_id
LEFT JOIN dispatch_visit v ON v.assignment_id = a.id
  AND date_trunc('month', v.starts_at AT TIME ZONE 'Asia/Tokyo') = m.month
GROUP BY a.id, m.month, p.id
""",
    "dispatch_expert_month": """
SELECT expert_id, month, sum(planned)::integer AS planned, sum(held)::integer AS held,
       sum(on_site)::integer AS on_site, sum(target)::integer AS target,
       count(*)::integer AS assignments
FROM dispatch_assignment_month GROUP BY expert_id, month
""",
    "dispatch_municipality_month": """
SELECT municipality_id, month, sum(planned)::integer AS planned, sum(held)::integer AS held,
       sum(on_site)::integer AS on_site, sum(target)::integer AS target,
       count(*)::integer AS assignments
FROM dispatch_assignment_month GROUP BY municipality_id, month
""",
    "dispatch_programme_progress": """
SELECT p.id AS programme_id,
       (SELECT count(*) FROM dispatch_request r WHERE r.programme_id = p.id)::integer
         AS requests,
       (SELECT count(*) FROM dispatch_request r WHERE r.programme_id = p.id
          AND r.status = 'MATCHED')::integer AS matched,
       (SELECT count(*) FROM dispatch_request r WHERE r.programme_id = p.id
          AND r.status = 'OPEN')::integer AS open,
       (SELECT count(*) FROM dispatch_visit v JOIN dispatch_assignment a ON a.id = v.assignment_id
          WHERE a.programme_id = p.id AND v.status = 'PLANNED')::integer AS sessions_planned,
       (SELECT count(*) FROM dispatch_visit v JOIN dispatch_assignment a ON a.id = v.assignment_id
          WHERE a.programme_id = p.id AND v.status = 'HELD')::integer AS sessions_held,
       (SELECT count(*) FROM dispatch_visit v JOIN dispatch_assignment a ON a.id = v.assignment_id
          WHERE a.programme_id = p.id AND v.status = 'HELD' AND v.mode = 'ON_SITE')::integer
         AS sessions_held_on_site
FROM dispatch_programme p
""",
}


def _write_side() -> None:
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} WITH (security_invoker = true) AS {body}")
        op.execute(f"GRANT SELECT ON {name} TO {API_ROLE}")
    op.create_table(
        "dxlink_write_rule",
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("tablename", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.Column("columns", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.CheckConstraint(
            "action IN ('insert', 'update', 'delete')",
            name=op.f("ck_dxlink_write_rule_action_known"),
        ),
        sa.CheckConstraint(
            "rows IN ('all', 'own_municipality', 'own_expert')",
            name=op.f("ck_dxlink_write_rule_rows_known"),
        ),
        sa.PrimaryKeyConstraint(
            "entity", "operation", "action", "role", name=op.f("pk_dxlink_write_rule")
        ),
    )
    op.execute(f"INSERT INTO dxlink_write_rule VALUES {RULES}")
    op.execute(f"GRANT SELECT ON dxlink_write_rule TO {API_ROLE}")
    for statement in FUNCTIONS:
        op.execute(statement)
    op.execute(f"REVOKE EXECUTE ON FUNCTION dxlink_guard_update() FROM PUBLIC")
    for function in FUNCTION_NAMES[1:]:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {API_ROLE}")
    # New tables: read rules, and held like the others (FORCE, maintenance for the owner).
    op.execute(f"GRANT SELECT ON expert_availability, idempotency_key TO {API_ROLE}")
    reads = {
        "expert_availability": "dxlink_can_read_expert(expert_id)",
        "dispatch_programme": "true",
        "idempotency_key": "subject = dxlink_setting('subject')",
    }
    for table, rule in reads.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY read ON {table} FOR SELECT TO {API_ROLE} USING ({rule})")
        op.execute(
            f"CREATE POLICY maintenance ON {table} FOR ALL TO CURRENT_USER "
            f"USING ({MAINTENANCE}) WITH CHECK ({MAINTENANCE})"
        )
    # A client's own idempotency keys: made when its mutation starts, its answer kept.
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON idempotency_key TO {API_ROLE}")
    own = "subject = dxlink_setting('subject')"
    op.execute(f"CREATE POLICY own ON idempotency_key FOR ALL TO {API_ROLE} USING ({own}) WITH CHECK ({own})")
    # The write side of dispatch.
    for table, actions in ACTIONS.items():
        op.execute(f"GRANT {', '.join(a.upper() for a in actions)} ON {table} TO {API_ROLE}")
        for action in actions:
            rule = _rule(table, action)
            if action == "insert":
                body = f"FOR INSERT TO {API_ROLE} WITH CHECK ({rule})"
            elif action == "update":
                body = f"FOR UPDATE TO {API_ROLE} USING ({rule}) WITH CHECK ({rule})"
            else:
                body = f"FOR DELETE TO {API_ROLE} USING ({rule})"
            op.execute(f"CREATE POLICY write_{action} ON {table} {body}")
        if "update" in actions:
            op.execute(
                f"CREATE TRIGGER guard_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION dxlink_guard_update()"
            )
    op.execute(f"GRANT USAGE ON SEQUENCE {', '.join(SEQUENCES)} TO {API_ROLE}")
    op.execute(
        "CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON expert_availability "
        "FOR EACH ROW EXECUTE FUNCTION dxlink_audit()"
    )


def _drop_write_side() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW {name}")
    op.execute("DROP TRIGGER audit ON expert_availability")
    op.execute(f"REVOKE USAGE ON SEQUENCE {', '.join(SEQUENCES)} FROM {API_ROLE}")
    for table, actions in ACTIONS.items():
        if "update" in actions:
            op.execute(f"DROP TRIGGER guard_update ON {table}")
        for action in actions:
            op.execute(f"DROP POLICY write_{action} ON {table}")
        op.execute(f"REVOKE {', '.join(a.upper() for a in actions)} ON {table} FROM {API_ROLE}")
    op.execute("DROP POLICY own ON idempotency_key")
    for table in ("expert_availability", "dispatch_programme", "idempotency_key"):
        op.execute(f"DROP POLICY read ON {table}")
        op.execute(f"DROP POLICY maintenance ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for function in FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION {function}")
    op.drop_table("dxlink_write_rule")


def downgrade() -> None:
    _drop_write_side()
    op.drop_constraint(op.f("ck_dispatch_visit_hours_positive"), "dispatch_visit", type_="check")
    op.drop_constraint(
        op.f("ck_dispatch_programme_maximum_over_target"), "dispatch_programme", type_="check"
    )
    # ### commands auto generated by Alembic, reviewed ###
    op.drop_column('expert', 'synthetic')
    op.drop_column('expert', 'version')
    op.drop_column('expert', 'contact')
    op.drop_column('expert', 'adviser_registrations')
    op.drop_column('expert', 'skills')
    op.drop_column('dispatch_visit', 'synthetic')
    op.drop_column('dispatch_visit', 'version')
    op.drop_column('dispatch_visit', 'cancelled_reason')
    op.drop_column('dispatch_visit', 'confirmed_by')
    op.drop_column('dispatch_visit', 'reported_at')
    op.drop_column('dispatch_visit', 'hours')
    op.drop_column('dispatch_visit', 'next_steps')
    op.drop_column('dispatch_request', 'updated_at')
    op.drop_column('dispatch_request', 'synthetic')
    op.drop_column('dispatch_request', 'version')
    op.drop_column('dispatch_request', 'status')
    op.drop_column('dispatch_programme', 'updated_at')
    op.drop_column('dispatch_programme', 'synthetic')
    op.drop_column('dispatch_programme', 'version')
    op.drop_column('dispatch_programme', 'confirmation_required')
    op.drop_column('dispatch_programme', 'first_session_on_site')
    op.drop_column('dispatch_programme', 'sessions_per_month_max')
    op.drop_column('dispatch_programme', 'name')
    op.drop_index('uq_dispatch_assignment_open_request', table_name='dispatch_assignment', postgresql_where=sa.text("status IN ('PLANNED', 'ACTIVE')"))
    op.drop_column('dispatch_assignment', 'synthetic')
    op.drop_column('dispatch_assignment', 'version')
    op.drop_constraint(op.f('fk_dispatch_assignment_programme_id_dispatch_programme'), 'dispatch_assignment', type_='foreignkey')
    op.drop_index(op.f('ix_dispatch_assignment_programme_id'), table_name='dispatch_assignment')
    op.drop_column('dispatch_assignment', 'programme_id')
    op.drop_index(op.f('ix_expert_availability_expert_id'), table_name='expert_availability')
    op.drop_table('expert_availability')
    op.drop_table('idempotency_key')
    # ### end Alembic commands ###
