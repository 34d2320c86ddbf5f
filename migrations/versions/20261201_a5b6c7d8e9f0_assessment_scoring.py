"""Scoring: a versioned rubric per framework version, scores computed in SQL, tier writes.

- ``assessment_rubric`` (framework, version, key, title, synthetic) with its section weights
  (``assessment_rubric_section``), option points (``assessment_rubric_option``) and the minimum
  total of each tier (``assessment_rubric_threshold``); ``assessment_round.rubric_id`` names the
  rubric that scores a round, of the round's own framework (a foreign key on both columns).
  Read by the prefecture's and the municipalities' staff (``dxlink_can_read_rubric``).
- Views (security_invoker, so the response's, its answers' and the rubric's row rules apply):
  ``assessment_score_point`` (each chosen option the rubric gives points, in a weighted section),
  ``assessment_section_score`` (weight x points per scored section, with its maximum) and
  ``assessment_score`` (the total, its maximum and the computed tier: the highest level whose
  minimum the total reaches, 1 below every minimum), of submitted responses.
- ``dxlink_round_scores(round)``: every score of a round, whoever asks (classifyTiers writes a
  tier for every municipality; the write policies decide whether it may).
- ``tier_assignment`` gains ``version`` and ``updated_at``; the write rules of
  ``classifyTiers`` and ``overrideTier`` (the prefecture's staff), their write policies, the
  column guard and the grants they need.

Revision ID: a5b6c7d8e9f0
Revises: a4b5c6d7e8f9
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a5b6c7d8e9f0"
down_revision: str | None = "a4b5c6d7e8f9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API_ROLE = "dxlink_api"
MAINTENANCE = (
    "dxlink_setting('maintenance') = 'on' OR "
    "(current_user <> session_user AND NOT pg_has_role(session_user, current_user, 'MEMBER'))"
)
RUBRIC_TABLES = (
    "assessment_rubric",
    "assessment_rubric_section",
    "assessment_rubric_option",
    "assessment_rubric_threshold",
)

# The rules of auth/policy.py at this revision (tests/auth/test_write_rules.py keeps them equal).
RULES = """
    ('TierAssignment', 'tier_assignment', 'classifyTiers', 'insert', 'prefecture_admin', 'all', '{}'),
    ('TierAssignment', 'tier_assignment', 'classifyTiers', 'update', 'prefecture_admin', 'all', '{computed_level,level,round_id,score}'),
    ('TierAssignment', 'tier_assignment', 'overrideTier', 'update', 'prefecture_admin', 'all', '{decided_by,level,overridden,reason}')
"""

FUNCTIONS = [
    """
CREATE FUNCTION dxlink_can_read_rubric() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN dxlink_principal_role() IN ('prefecture_admin', 'municipal_staff');
END $$
""",
    # Every submitted response's score in a round, read as the owner: the classification is of
    # every municipality, whatever the caller may read (the write policies judge the caller).
    """
CREATE FUNCTION dxlink_round_scores(round_key text)
RETURNS TABLE (municipality_id integer, round_id integer, total numeric, computed_level smallint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.municipality_id, s.round_id, s.total, s.computed_level
  FROM assessment_score s JOIN assessment_round rd ON rd.id = s.round_id
  WHERE rd.key = round_key
  ORDER BY s.municipality_id
$$
""",
]
FUNCTION_NAMES = ["dxlink_can_read_rubric()", "dxlink_round_scores(text)"]

VIEWS = {
    "assessment_score_point": """
SELECT r.id AS response_id, r.municipality_id, a.question_id, ao.option_id, q.section_id,
       ro.points, q.position AS question_position, o.position AS option_position
FROM assessment_response r
JOIN assessment_round rd ON rd.id = r.round_id
JOIN assessment_answer a ON a.response_id = r.id
JOIN assessment_answer_option ao ON ao.answer_id = a.id
JOIN assessment_question q ON q.id = a.question_id
JOIN assessment_option o ON o.id = ao.option_id
JOIN assessment_rubric_option ro ON ro.rubric_id = rd.rubric_id AND ro.option_id = ao.option_id
JOIN assessment_rubric_section rs ON rs.rubric_id = rd.rubric_id AND rs.section_id = q.section_id
WHERE r.status = 'SUBMITTED'
""",
    "assessment_section_score": """
SELECT r.id AS response_id, r.municipality_id, s.id AS section_id, s.key, s.label AS title,
       s.position, rs.weight, coalesce(p.points, 0) AS points, m.max_points,
       rs.weight * coalesce(p.points, 0) AS score, rs.weight * m.max_points AS max_score
FROM assessment_response r
JOIN assessment_round rd ON rd.id = r.round_id
JOIN assessment_rubric_section rs ON rs.rubric_id = rd.rubric_id
JOIN assessment_section s ON s.id = rs.section_id
LEFT JOIN LATERAL (
  SELECT sum(x.points) AS points FROM assessment_score_point x
  WHERE x.response_id = r.id AND x.section_id = s.id) p ON true
CROSS JOIN LATERAL (
  -- The most a question can earn: its best option (single choice), or every option with
  -- positive points (multiple choice).
  SELECT coalesce(sum(best), 0) AS max_points FROM (
    SELECT CASE WHEN q.kind = 'MULTIPLE' THEN sum(greatest(ro.points, 0))
                ELSE greatest(max(ro.points), 0) END AS best
    FROM assessment_question q
    JOIN assessment_option o ON o.question_id = q.id
    JOIN assessment_rubric_option ro ON ro.rubric_id = rd.rubric_id AND ro.option_id = o.id
    WHERE q.section_id = s.id
    GROUP BY q.id, q.kind) question_best) m
WHERE r.status = 'SUBMITTED'
""",
    "assessment_score": """
SELECT r.id AS response_id, r.municipality_id, r.round_id, ru.id AS rubric_id, r.submitted_at,
       t.total, t.max_total,
       coalesce((SELECT max(th.level) FROM assessment_rubric_threshold th
                 WHERE th.rubric_id = ru.id AND th.minimum_total <= t.total), 1)::smallint
         AS computed_level
FROM assessment_response r
JOIN assessment_round rd ON rd.id = r.round_id
JOIN assessment_rubric ru ON ru.id = rd.rubric_id
CROSS JOIN LATERAL (
  SELECT coalesce(sum(ss.score), 0) AS total, coalesce(sum(ss.max_score), 0) AS max_total
  FROM assessment_section_score ss WHERE ss.response_id = r.id) t
WHERE r.status = 'SUBMITTED'
""",
}


def upgrade() -> None:
    op.create_table(
        "assessment_rubric",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"], ["assessment_framework.id"],
            name=op.f("fk_assessment_rubric_framework_id_assessment_framework"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_rubric")),
        sa.UniqueConstraint(
            "framework_id", "version", name=op.f("uq_assessment_rubric_framework_id_version")
        ),
        sa.UniqueConstraint("id", "framework_id", name="uq_assessment_rubric_id_framework_id"),
        sa.UniqueConstraint("key", name=op.f("uq_assessment_rubric_key")),
    )  # fmt: skip
    op.create_table(
        "assessment_rubric_section",
        sa.Column("rubric_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.CheckConstraint(
            "weight >= 0", name=op.f("ck_assessment_rubric_section_weight_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["rubric_id"], ["assessment_rubric.id"],
            name=op.f("fk_assessment_rubric_section_rubric_id_assessment_rubric"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"], ["assessment_section.id"],
            name=op.f("fk_assessment_rubric_section_section_id_assessment_section"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "rubric_id", "section_id", name=op.f("pk_assessment_rubric_section")
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_assessment_rubric_section_section_id"),
        "assessment_rubric_section",
        ["section_id"],
    )
    op.create_table(
        "assessment_rubric_option",
        sa.Column("rubric_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["option_id"], ["assessment_option.id"],
            name=op.f("fk_assessment_rubric_option_option_id_assessment_option"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rubric_id"], ["assessment_rubric.id"],
            name=op.f("fk_assessment_rubric_option_rubric_id_assessment_rubric"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rubric_id", "option_id", name=op.f("pk_assessment_rubric_option")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_assessment_rubric_option_option_id"), "assessment_rubric_option", ["option_id"]
    )
    op.create_table(
        "assessment_rubric_threshold",
        sa.Column("rubric_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("minimum_total", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["level"], ["support_tier.level"],
            name=op.f("fk_assessment_rubric_threshold_level_support_tier"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rubric_id"], ["assessment_rubric.id"],
            name=op.f("fk_assessment_rubric_threshold_rubric_id_assessment_rubric"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "rubric_id", "level", name=op.f("pk_assessment_rubric_threshold")
        ),
    )  # fmt: skip
    op.add_column("assessment_round", sa.Column("rubric_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_assessment_round_rubric_id"), "assessment_round", ["rubric_id"])
    op.create_foreign_key(
        op.f("fk_assessment_round_rubric_id_assessment_rubric"),
        "assessment_round",
        "assessment_rubric",
        ["rubric_id", "framework_id"],
        ["id", "framework_id"],
        ondelete="RESTRICT",
    )
    op.add_column(
        "tier_assignment",
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    )
    op.add_column(
        "tier_assignment",
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
    )  # fmt: skip

    rubric_rule, round_scores = FUNCTIONS
    op.execute(rubric_rule)
    for table in RUBRIC_TABLES:
        op.execute(f"GRANT SELECT ON {table} TO {API_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY read ON {table} FOR SELECT TO {API_ROLE} "
            "USING (dxlink_can_read_rubric())"
        )
        op.execute(
            f"CREATE POLICY maintenance ON {table} FOR ALL TO CURRENT_USER "
            f"USING ({MAINTENANCE}) WITH CHECK ({MAINTENANCE})"
        )
        op.execute(
            f"CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dxlink_audit()"
        )
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} WITH (security_invoker = true) AS {body}")
        op.execute(f"GRANT SELECT ON {name} TO {API_ROLE}")
    op.execute(round_scores)  # reads the views (as the owner)
    for function in FUNCTION_NAMES:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {API_ROLE}")

    # The write side of tiers.
    op.execute(f"INSERT INTO dxlink_write_rule VALUES {RULES}")
    op.execute(f"GRANT INSERT, UPDATE ON tier_assignment TO {API_ROLE}")
    for action in ("insert", "update"):
        check = f"dxlink_can_write('TierAssignment', '{action}', municipality_id, NULL)"
        if action == "insert":
            body = f"FOR INSERT TO {API_ROLE} WITH CHECK ({check})"
        else:
            body = f"FOR UPDATE TO {API_ROLE} USING ({check}) WITH CHECK ({check})"
        op.execute(f"CREATE POLICY write_{action} ON tier_assignment {body}")
    op.execute(
        "CREATE TRIGGER guard_update BEFORE UPDATE ON tier_assignment "
        "FOR EACH ROW EXECUTE FUNCTION dxlink_guard_update()"
    )
    op.execute(f"GRANT USAGE ON SEQUENCE tier_assignment_id_seq TO {API_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE USAGE ON SEQUENCE tier_assignment_id_seq FROM {API_ROLE}")
    op.execute("DROP TRIGGER guard_update ON tier_assignment")
    for action in ("insert", "update"):
        op.execute(f"DROP POLICY write_{action} ON tier_assignment")
    op.execute(f"REVOKE INSERT, UPDATE ON tier_assignment FROM {API_ROLE}")
    op.execute("DELETE FROM dxlink_write_rule WHERE tablename = 'tier_assignment'")
    op.execute("DROP FUNCTION dxlink_round_scores(text)")
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW {name}")
    op.drop_column("tier_assignment", "updated_at")
    op.drop_column("tier_assignment", "version")
    op.drop_constraint(
        op.f("fk_assessment_round_rubric_id_assessment_rubric"),
        "assessment_round",
        type_="foreignkey",
    )
    op.drop_index(op.f("ix_assessment_round_rubric_id"), table_name="assessment_round")
    op.drop_column("assessment_round", "rubric_id")
    for table in reversed(RUBRIC_TABLES):
        op.drop_table(table)
    op.execute("DROP FUNCTION dxlink_can_read_rubric()")
