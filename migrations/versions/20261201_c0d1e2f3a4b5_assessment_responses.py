"""Assessment responses: the write side of responses and answers, and what validation reads.

- ``assessment_question`` gains ``required`` (submission needs an answer; a follow-up's only
  when its condition is met) and ``number_min`` / ``number_max`` (a number answer's bounds).
- ``assessment_follow_up_option``: the options of the question followed up that open a
  follow-up (0-2 when 0-1 is 定義している); a follow-up without rows opens with any answer.
  Public reference data, written by the seeds.
- ``assessment_response`` gains ``reopened_reason`` and ``synthetic``; ``assessment_answer``
  ``synthetic``.
- Writes: the rules of auth/policy.py for ``saveAssessmentAnswers``,
  ``submitAssessmentResponse`` and ``reopenAssessmentResponse`` in ``dxlink_write_rule``,
  enforced by write policies (an answer and its chosen options judged as their response, by
  definer functions that look the response up), the column guard on responses and answers,
  and exactly the grants the rules need.

Revision ID: c0d1e2f3a4b5
Revises: b9c0d1e2f3a4
Create Date: 2026-12-01 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0d1e2f3a4b5"
down_revision: str | None = "b9c0d1e2f3a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


API_ROLE = "dxlink_api"

# The rules of auth/policy.py at this revision (tests/auth/test_write_rules.py keeps them equal).
RULES = """
    ('AssessmentResponse', 'assessment_response', 'saveAssessmentAnswers', 'insert', 'prefecture_admin', 'all', '{}'),
    ('AssessmentResponse', 'assessment_response', 'saveAssessmentAnswers', 'insert', 'municipal_staff', 'own_municipality', '{}'),
    ('AssessmentResponse', 'assessment_response', 'saveAssessmentAnswers', 'update', 'prefecture_admin', 'all', '{}'),
    ('AssessmentResponse', 'assessment_response', 'saveAssessmentAnswers', 'update', 'municipal_staff', 'own_municipality', '{}'),
    ('AssessmentResponse', 'assessment_response', 'submitAssessmentResponse', 'update', 'prefecture_admin', 'all', '{status,submitted_at}'),
    ('AssessmentResponse', 'assessment_response', 'submitAssessmentResponse', 'update', 'municipal_staff', 'own_municipality', '{status,submitted_at}'),
    ('AssessmentResponse', 'assessment_response', 'reopenAssessmentResponse', 'update', 'prefecture_admin', 'all', '{reopened_reason,status}'),
    ('AssessmentAnswer', 'assessment_answer', 'saveAssessmentAnswers', 'insert', 'prefecture_admin', 'all', '{}'),
    ('AssessmentAnswer', 'assessment_answer', 'saveAssessmentAnswers', 'insert', 'municipal_staff', 'own_municipality', '{}'),
    ('AssessmentAnswer', 'assessment_answer', 'saveAssessmentAnswers', 'update', 'prefecture_admin', 'all', '{number_value,text_value}'),
    ('AssessmentAnswer', 'assessment_answer', 'saveAssessmentAnswers', 'update', 'municipal_staff', 'own_municipality', '{number_value,text_value}'),
    ('AssessmentAnswer', 'assessment_answer', 'saveAssessmentAnswers', 'delete', 'prefecture_admin', 'all', '{}'),
    ('AssessmentAnswer', 'assessment_answer', 'saveAssessmentAnswers', 'delete', 'municipal_staff', 'own_municipality', '{}')
"""

FUNCTIONS = [
    # An answer belongs where its response does; the lookup is not the principal's to read
    # (a response inserted by this very statement's transaction is found too).
    """
CREATE FUNCTION dxlink_can_write_response(entity text, action text, response integer)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  owner_municipality integer;
BEGIN
  SELECT r.municipality_id INTO owner_municipality FROM assessment_response r
  WHERE r.id = response;
  RETURN FOUND AND dxlink_can_write(entity, action, owner_municipality, NULL);
END $$
""",
    # A chosen option belongs where its answer does, and is written under the answer's rules.
    """
CREATE FUNCTION dxlink_can_write_answer_option(action text, answer integer)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  answer_response integer;
BEGIN
  SELECT a.response_id INTO answer_response FROM assessment_answer a WHERE a.id = answer;
  RETURN FOUND AND dxlink_can_write_response('AssessmentAnswer', action, answer_response);
END $$
""",
]
FUNCTION_NAMES = [
    "dxlink_can_write_answer_option(text, integer)",
    "dxlink_can_write_response(text, text, integer)",
]

# table -> (actions, the rule of a row)
WRITTEN = {
    "assessment_response": (
        ("insert", "update"),
        "dxlink_can_write('AssessmentResponse', '{action}', municipality_id, NULL)",
    ),
    "assessment_answer": (
        ("insert", "update", "delete"),
        "dxlink_can_write_response('AssessmentAnswer', '{action}', response_id)",
    ),
    "assessment_answer_option": (
        ("insert", "delete"),
        "dxlink_can_write_answer_option('{action}', answer_id)",
    ),
}
SEQUENCES = "assessment_response_id_seq, assessment_answer_id_seq"


def upgrade() -> None:
    # ### commands auto generated by Alembic, reviewed ###
    op.create_table('assessment_follow_up_option',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['option_id'], ['assessment_option.id'], name=op.f('fk_assessment_follow_up_option_option_id_assessment_option'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['assessment_question.id'], name=op.f('fk_assessment_follow_up_option_question_id_assessment_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'option_id', name=op.f('pk_assessment_follow_up_option'))
    )
    op.create_index(op.f('ix_assessment_follow_up_option_option_id'), 'assessment_follow_up_option', ['option_id'], unique=False)
    op.add_column('assessment_question', sa.Column('required', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('assessment_question', sa.Column('number_min', sa.Numeric(), nullable=True))
    op.add_column('assessment_question', sa.Column('number_max', sa.Numeric(), nullable=True))
    op.add_column('assessment_response', sa.Column('reopened_reason', sa.Text(), nullable=True))
    op.add_column('assessment_response', sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('assessment_answer', sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    # ### end Alembic commands ###
    op.execute(f"GRANT SELECT ON assessment_follow_up_option TO {API_ROLE}")
    op.execute(
        "CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON assessment_follow_up_option "
        "FOR EACH ROW EXECUTE FUNCTION dxlink_audit()"
    )
    op.execute(f"INSERT INTO dxlink_write_rule VALUES {RULES}")
    for statement in FUNCTIONS:
        op.execute(statement)
    for function in FUNCTION_NAMES:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {API_ROLE}")
    for table, (actions, rule) in WRITTEN.items():
        op.execute(f"GRANT {', '.join(a.upper() for a in actions)} ON {table} TO {API_ROLE}")
        for action in actions:
            check = rule.format(action=action)
            if action == "insert":
                body = f"FOR INSERT TO {API_ROLE} WITH CHECK ({check})"
            elif action == "update":
                body = f"FOR UPDATE TO {API_ROLE} USING ({check}) WITH CHECK ({check})"
            else:
                body = f"FOR DELETE TO {API_ROLE} USING ({check})"
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
    for function in FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION {function}")
    op.execute(
        "DELETE FROM dxlink_write_rule WHERE tablename IN ('assessment_response', "
        "'assessment_answer')"
    )
    op.execute("DROP TRIGGER audit ON assessment_follow_up_option")
    # ### commands auto generated by Alembic, reviewed ###
    op.drop_column('assessment_answer', 'synthetic')
    op.drop_column('assessment_response', 'synthetic')
    op.drop_column('assessment_response', 'reopened_reason')
    op.drop_column('assessment_question', 'number_max')
    op.drop_column('assessment_question', 'number_min')
    op.drop_column('assessment_question', 'required')
    op.drop_index(op.f('ix_assessment_follow_up_option_option_id'), table_name='assessment_follow_up_option')
    op.drop_table('assessment_follow_up_option')
    # ### end Alembic commands ###
