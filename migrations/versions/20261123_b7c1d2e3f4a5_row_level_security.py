"""Row-level security: the API role, its grants, visibility functions, policies, audit trigger.

The API's statements run as ``dxlink_api`` (each request's transaction starts with
``set_config('role', 'dxlink_api', true)`` and the principal's ``dxlink.*`` settings). The role
owns nothing and has no BYPASSRLS, so these policies hold even where a resolver forgets a check.
Every rule sits in a STABLE plpgsql function: the planner cannot inline it, so it keeps its
index plans (an inline ``current_setting(...) = ... OR ...`` policy misled its estimates).
The rules mirror auth/policy.py; tests/auth/ runs every rule with the query-layer filters off.

Revision ID: b7c1d2e3f4a5
Revises: 23e206768df6
Create Date: 2026-11-23 13:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7c1d2e3f4a5"
down_revision: str | None = "23e206768df6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API_ROLE = "dxlink_api"

# table -> USING expression (each a call of one function below)
POLICIES = {
    "tier_assignment": "dxlink_can_read_municipality_data('tier', municipality_id)",
    "assessment_response": "dxlink_can_read_municipality_data('assessment', municipality_id)",
    "assessment_answer": "dxlink_can_read_response(response_id)",
    "assessment_answer_option": "dxlink_can_read_answer(answer_id)",
    "expert": "dxlink_can_read_expert(id)",
    "dispatch_request": "dxlink_can_read_dispatch(NULL, municipality_id)",
    "dispatch_assignment": "dxlink_can_read_dispatch(expert_id, municipality_id)",
    "dispatch_visit": "dxlink_can_read_visit(assignment_id)",
    "dataset": "dxlink_can_read_dataset(id, status)",
    "dataset_publisher": "dxlink_can_read_dataset(dataset_id, NULL)",
    "distribution": "dxlink_can_read_dataset(dataset_id, NULL)",
    "audit_log": "dxlink_is_admin()",
}

FUNCTIONS = r"""
CREATE FUNCTION dxlink_setting(name text) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('dxlink.' || name, true), '') $$;

CREATE FUNCTION dxlink_principal_role() RETURNS text
LANGUAGE sql STABLE AS $$ SELECT coalesce(dxlink_setting('role'), 'public') $$;

CREATE FUNCTION dxlink_is_admin() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN dxlink_principal_role() = 'prefecture_admin';
END $$;

-- Is the calling expert assigned to the municipality now (an active assignment, today inside
-- its period)? SECURITY DEFINER: the lookup itself is not subject to row-level security.
CREATE FUNCTION dxlink_expert_assigned_to(target integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM dispatch_assignment a
    WHERE a.municipality_id = target
      AND a.expert_id = dxlink_setting('expert_id')::integer
      AND a.status = 'ACTIVE'
      AND (now() AT TIME ZONE 'Asia/Tokyo')::date BETWEEN a.starts_on AND a.ends_on);
END $$;

CREATE FUNCTION dxlink_in_my_region(target integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM municipality m
    WHERE m.id = target AND m.region_id = dxlink_setting('region_id')::integer);
END $$;

-- Tiers and assessment answers of a municipality: the municipality itself, the prefecture,
-- coordinators and the region's office (tiers only), experts assigned to it now.
CREATE FUNCTION dxlink_can_read_municipality_data(kind text, target integer) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  r text := dxlink_principal_role();
BEGIN
  CASE r
    WHEN 'prefecture_admin' THEN RETURN true;
    WHEN 'dispatch_coordinator' THEN RETURN kind = 'tier';
    WHEN 'regional_office' THEN RETURN kind = 'tier' AND dxlink_in_my_region(target);
    WHEN 'municipal_staff' THEN RETURN target = dxlink_setting('municipality_id')::integer;
    WHEN 'expert' THEN RETURN dxlink_expert_assigned_to(target);
    ELSE RETURN false;
  END CASE;
END $$;

CREATE FUNCTION dxlink_can_read_response(response integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN dxlink_can_read_municipality_data(
    'assessment', (SELECT municipality_id FROM assessment_response WHERE id = response));
END $$;

CREATE FUNCTION dxlink_can_read_answer(answer integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN dxlink_can_read_response((SELECT response_id FROM assessment_answer WHERE id = answer));
END $$;

-- Requests, assignments (and through them visits): the prefecture and coordinators, the
-- municipality, its region's office, and the assigned expert.
CREATE FUNCTION dxlink_can_read_dispatch(expert integer, target integer) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  r text := dxlink_principal_role();
BEGIN
  CASE r
    WHEN 'prefecture_admin', 'dispatch_coordinator' THEN RETURN true;
    WHEN 'regional_office' THEN RETURN dxlink_in_my_region(target);
    WHEN 'municipal_staff' THEN RETURN target = dxlink_setting('municipality_id')::integer;
    WHEN 'expert' THEN RETURN expert = dxlink_setting('expert_id')::integer;
    ELSE RETURN false;
  END CASE;
END $$;

CREATE FUNCTION dxlink_can_read_visit(assignment integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  a record;
BEGIN
  SELECT expert_id, municipality_id INTO a FROM dispatch_assignment WHERE id = assignment;
  RETURN FOUND AND dxlink_can_read_dispatch(a.expert_id, a.municipality_id);
END $$;

-- An expert's profile: the prefecture and coordinators, the expert, and the municipalities
-- (and their regions' offices) the expert is or was assigned to.
CREATE FUNCTION dxlink_can_read_expert(target integer) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  r text := dxlink_principal_role();
BEGIN
  CASE r
    WHEN 'prefecture_admin', 'dispatch_coordinator' THEN RETURN true;
    WHEN 'expert' THEN RETURN target = dxlink_setting('expert_id')::integer;
    WHEN 'municipal_staff' THEN RETURN EXISTS (
      SELECT 1 FROM dispatch_assignment a WHERE a.expert_id = target
        AND a.municipality_id = dxlink_setting('municipality_id')::integer);
    WHEN 'regional_office' THEN RETURN EXISTS (
      SELECT 1 FROM dispatch_assignment a JOIN municipality m ON m.id = a.municipality_id
      WHERE a.expert_id = target AND m.region_id = dxlink_setting('region_id')::integer);
    ELSE RETURN false;
  END CASE;
END $$;

-- Datasets: published ones for everybody; drafts for the prefecture and their publishers.
CREATE FUNCTION dxlink_can_read_dataset(target integer, state text) RETURNS boolean
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
END $$;

-- Exact counts of municipalities per tier at a snapshot, over all rows whatever the caller may
-- read: the service suppresses small groups for viewers outside the prefecture's staff.
CREATE FUNCTION dxlink_tier_counts(snapshot date) RETURNS TABLE (level smallint, municipalities bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.level, count(a.id)
  FROM support_tier t
  LEFT JOIN tier_assignment a ON a.level = t.level AND a.snapshot_on = snapshot
  GROUP BY t.level ORDER BY t.level
$$;

-- Exact counts of municipalities that chose each option of a question in a round (submitted
-- responses only), whatever the caller may read; suppression as for tiers.
CREATE FUNCTION dxlink_answer_counts(round_key text, question_key text)
RETURNS TABLE (option_id integer, municipalities bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT o.id, (
    SELECT count(DISTINCT r.municipality_id)
    FROM assessment_answer_option ao
    JOIN assessment_answer a ON a.id = ao.answer_id
    JOIN assessment_response r ON r.id = a.response_id
    WHERE ao.option_id = o.id AND r.round_id = rd.id AND r.status = 'SUBMITTED')
  FROM assessment_round rd
  JOIN assessment_question q ON q.framework_id = rd.framework_id
  JOIN assessment_option o ON o.question_id = q.id
  WHERE rd.key = round_key AND q.key = question_key
  ORDER BY o.position
$$;

CREATE FUNCTION dxlink_latest_tier_snapshot() RETURNS date
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT max(snapshot_on) FROM tier_assignment
$$;

-- Every change made under a principal (that is, through the API) is written to the audit log
-- in the same transaction. Seeds and migrations run as the owner without a principal.
CREATE FUNCTION dxlink_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  before_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
  after_row jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
  row_key jsonb := coalesce(after_row, before_row);
BEGIN
  IF dxlink_setting('role') IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO audit_log (actor_subject, actor_role, action, entity, entity_key, before, after,
                         request_id)
  VALUES (dxlink_setting('subject'), dxlink_principal_role(), lower(TG_OP), TG_TABLE_NAME,
          coalesce(row_key ->> 'id', row_key::text), before_row, after_row,
          dxlink_setting('request_id'));
  RETURN NULL;
END $$;
"""

FUNCTION_NAMES = [
    "dxlink_audit()",
    "dxlink_latest_tier_snapshot()",
    "dxlink_tier_counts(date)",
    "dxlink_answer_counts(text, text)",
    "dxlink_can_read_dataset(integer, text)",
    "dxlink_can_read_expert(integer)",
    "dxlink_can_read_visit(integer)",
    "dxlink_can_read_dispatch(integer, integer)",
    "dxlink_can_read_answer(integer)",
    "dxlink_can_read_response(integer)",
    "dxlink_can_read_municipality_data(text, integer)",
    "dxlink_in_my_region(integer)",
    "dxlink_expert_assigned_to(integer)",
    "dxlink_is_admin()",
    "dxlink_principal_role()",
    "dxlink_setting(text)",
]

AUDITED = [
    "prefecture", "region", "municipality", "assessment_framework", "assessment_section",
    "assessment_question", "assessment_option", "assessment_round", "assessment_response",
    "assessment_answer", "assessment_answer_option", "support_tier", "tier_assignment",
    "published_statistic", "working_group", "working_group_membership", "expert",
    "dispatch_programme", "dispatch_request", "dispatch_assignment", "dispatch_visit",
    "standard_dataset", "dataset", "dataset_publisher", "distribution",
]


def upgrade() -> None:
    op.execute(f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{API_ROLE}') THEN
            CREATE ROLE {API_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
          END IF;
        END $$;
    """)
    # The login the service connects with switches to the API role per transaction.
    op.execute(f"GRANT {API_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {API_ROLE}")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {API_ROLE}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {API_ROLE}")
    for statement in FUNCTIONS.split("\n\n"):
        if statement.strip():
            op.execute(statement)
    for table, rule in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY read ON {table} FOR SELECT TO {API_ROLE} USING ({rule})")
    for table in AUDITED:
        op.execute(
            f"CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dxlink_audit()"
        )


def downgrade() -> None:
    for table in AUDITED:
        op.execute(f"DROP TRIGGER audit ON {table}")
    for table in POLICIES:
        op.execute(f"DROP POLICY read ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for function in FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION {function}")
    op.execute(f"REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM {API_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {API_ROLE}")
    # The role is cluster-wide and may serve other databases: it stays.
