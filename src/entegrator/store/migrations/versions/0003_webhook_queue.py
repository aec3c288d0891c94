"""Webhook deliveries in a queue of their own, and a mark on those under way.

``entegrator_notify`` wakes the delivery job in the ``webhooks`` queue (workers run it in slots
of their own, so slow ERPs never hold up the ``documents`` queue), and delivery jobs already
waiting move there. ``leased_until`` marks a notification being delivered, so that a tenant
has only so many under way at once; a worker that dies lets the mark lapse.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TASKS = "('entegrator.deliver_webhooks', 'entegrator.webhooks_due')"

NOTIFY = r"""
CREATE OR REPLACE FUNCTION entegrator_notify(p_event text, p_payload jsonb) RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    n int;
BEGIN
    INSERT INTO webhook_deliveries (tenant_id, webhook_id, event, payload)
    SELECT w.tenant_id, w.webhook_id, p_event, p_payload
      FROM webhooks w
     WHERE w.tenant_id = entegrator_current_tenant() AND w.active
       AND p_event = ANY (w.events);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM entegrator_wake('{queue}', 'entegrator.deliver_webhooks',
                                'webhooks:' || entegrator_current_tenant()::text,
                                jsonb_build_object('tenant_id', entegrator_current_tenant()));
    END IF;
    RETURN n > 0;
END $$;
"""


def upgrade() -> None:
    op.execute("ALTER TABLE webhook_deliveries ADD COLUMN leased_until timestamptz")
    op.execute(
        "CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (tenant_id) "
        "WHERE leased_until IS NOT NULL"
    )
    # As written: no bind-parameter parsing of the function body.
    op.get_bind().exec_driver_sql(NOTIFY.replace("{queue}", "webhooks"))
    op.execute(
        f"UPDATE procrastinate_jobs SET queue_name = 'webhooks' "  # noqa: S608 - constant task names
        f"WHERE task_name IN {TASKS} AND status = 'todo'"
    )


def downgrade() -> None:
    op.execute(
        f"UPDATE procrastinate_jobs SET queue_name = 'documents' "  # noqa: S608 - constant task names
        f"WHERE task_name IN {TASKS} AND status = 'todo'"
    )
    op.get_bind().exec_driver_sql(NOTIFY.replace("{queue}", "documents"))
    op.execute("DROP INDEX webhook_deliveries_leased")
    op.execute("ALTER TABLE webhook_deliveries DROP COLUMN leased_until")
