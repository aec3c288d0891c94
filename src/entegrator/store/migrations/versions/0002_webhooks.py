"""Webhooks: a tenant's ERP endpoints and the outbox of signed notifications to them.

A notification is written in the same transaction as the change it reports
(``entegrator_notify``), one row per subscribed endpoint, so that none is lost and none is
sent for a change that was rolled back; a worker delivers them and retries.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APP_ROLE = "entegrator_app"

SCHEMA = r"""
CREATE TABLE webhooks (
    tenant_id         uuid NOT NULL REFERENCES tenants,
    webhook_id        uuid NOT NULL,
    url               text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    events            text[] NOT NULL,
    secret_nonce      bytea NOT NULL,
    secret_ciphertext bytea NOT NULL,
    active            boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, webhook_id)
);

CREATE TABLE webhook_deliveries (
    tenant_id       uuid NOT NULL,
    delivery_id     uuid NOT NULL DEFAULT gen_random_uuid(),
    webhook_id      uuid NOT NULL,
    event           text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     int,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    PRIMARY KEY (tenant_id, delivery_id),
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries (tenant_id, webhook_id, created_at);

-- One notification per active endpoint that subscribed to the event, and a delivery job
-- woken for the tenant, in the caller's transaction (under its tenant). True when any.
CREATE FUNCTION entegrator_notify(p_event text, p_payload jsonb) RETURNS boolean
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
        PERFORM entegrator_wake('documents', 'entegrator.deliver_webhooks',
                                'webhooks:' || entegrator_current_tenant()::text,
                                jsonb_build_object('tenant_id', entegrator_current_tenant()));
    END IF;
    RETURN n > 0;
END $$;
"""


def upgrade() -> None:
    # As written: no bind-parameter parsing of the function body.
    op.get_bind().exec_driver_sql(SCHEMA)
    for table in ("webhooks", "webhook_deliveries"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_tenant ON {table} "
            "USING (tenant_id = entegrator_current_tenant()) "
            "WITH CHECK (tenant_id = entegrator_current_tenant())"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION entegrator_notify(text, jsonb)")
    op.execute("DROP TABLE webhook_deliveries")
    op.execute("DROP TABLE webhooks")
