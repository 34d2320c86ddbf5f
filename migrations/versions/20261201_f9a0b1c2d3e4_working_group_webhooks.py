"""The chat webhooks' outbox: ``dxlink_enqueue_webhook`` and row-level security on
``webhook_delivery``.

A mutation queues its chat message by calling ``dxlink_enqueue_webhook(group, event, text)`` in
its own transaction, as the API role (service/working_groups/webhooks.py). The function runs as
the owner (SECURITY DEFINER): it reads the group's webhook URL, which the caller need not be
allowed to read, inserts one ``webhook_delivery`` row with a Slack-compatible payload
(``{"text": ...}``) only when the group has a URL, and notifies ``dxlink_webhook`` with the
row's id. PostgreSQL delivers a notification when its transaction commits, and a rolled-back
mutation leaves neither row nor notification.

The API role gets EXECUTE on the function and nothing on ``webhook_delivery``; the table is under
FORCEd row-level security with no policy for the API role, so it is invisible to it. The sender
runs on the owner's login in maintenance (its ``maintenance`` policy), as seeds do.

Revision ID: f9a0b1c2d3e4
Revises: d7e8f9a0b1c2
Create Date: 2026-12-01 23:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f9a0b1c2d3e4"
down_revision: str | None = "d7e8f9a0b1c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API_ROLE = "dxlink_api"
CHANNEL = "dxlink_webhook"  # service/working_groups/webhooks.py
MAX_TEXT = 4000  # characters of one chat message

MAINTENANCE = (
    "dxlink_setting('maintenance') = 'on' OR "
    "(current_user <> session_user AND NOT pg_has_role(session_user, current_user, 'MEMBER'))"
)

ENQUEUE = f"""
CREATE FUNCTION dxlink_enqueue_webhook(p_group integer, p_event text, p_text text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  delivery integer;
BEGIN
  INSERT INTO webhook_delivery (working_group_id, event, payload)
  SELECT g.id, left(p_event, 40), jsonb_build_object('text', left(p_text, {MAX_TEXT}))
  FROM working_group g
  WHERE g.id = p_group AND nullif(btrim(g.webhook_url), '') IS NOT NULL
  RETURNING id INTO delivery;
  IF delivery IS NOT NULL THEN
    PERFORM pg_notify('{CHANNEL}', delivery::text);
  END IF;
END $$
"""
FUNCTION = "dxlink_enqueue_webhook(integer, text, text)"


def upgrade() -> None:
    op.execute(ENQUEUE)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {FUNCTION} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO {API_ROLE}")
    op.execute(f"REVOKE ALL ON webhook_delivery FROM {API_ROLE}")
    op.execute("ALTER TABLE webhook_delivery ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE webhook_delivery FORCE ROW LEVEL SECURITY")
    # CURRENT_USER: the login that migrates, which created the table and owns it.
    op.execute(
        "CREATE POLICY maintenance ON webhook_delivery FOR ALL TO CURRENT_USER "
        f"USING ({MAINTENANCE}) WITH CHECK ({MAINTENANCE})"
    )


def downgrade() -> None:
    op.execute("DROP POLICY maintenance ON webhook_delivery")
    op.execute("ALTER TABLE webhook_delivery NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE webhook_delivery DISABLE ROW LEVEL SECURITY")
    op.execute(f"DROP FUNCTION {FUNCTION}")
