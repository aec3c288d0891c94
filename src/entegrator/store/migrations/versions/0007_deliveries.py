"""Delivery of e-Arşiv invoices to their buyers: the sender address of each tenant, the
messages queued per document (e-mail, SMS) and the unguessable links of the public view.

A delivery row is written in the transaction that signs the invoice (or that a user asks for
a resend in), so that none is lost; a worker leases it, sends it once, and records the
server's answer or retries with back-off.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

APP_ROLE = "entegrator_app"

SCHEMA = r"""
ALTER TABLE tenants ADD COLUMN mail_from text
    CHECK (mail_from IS NULL
           OR (length(mail_from) BETWEEN 3 AND 320 AND position('@' in mail_from) > 1));

CREATE TABLE deliveries (
    tenant_id       uuid NOT NULL REFERENCES tenants,
    delivery_id     uuid NOT NULL DEFAULT gen_random_uuid(),
    document_id     uuid NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'sms')),
    address         text NOT NULL CHECK (length(address) BETWEEN 1 AND 320),
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sent', 'failed')),
    requested_by    text NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    PRIMARY KEY (tenant_id, delivery_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'queued';
CREATE INDEX deliveries_by_document ON deliveries (tenant_id, document_id, created_at);

-- The public view of a document (/e/<token>): looked up by its token alone, without login.
CREATE TABLE view_links (
    token       text PRIMARY KEY CHECK (token ~ '^[A-Za-z0-9_-]{43}$'),
    tenant_id   uuid NOT NULL REFERENCES tenants,
    document_id uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, document_id)
);
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(SCHEMA)
    for table in ("deliveries", "view_links"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_tenant ON {table} "
            "USING (tenant_id = entegrator_current_tenant()) "
            "WITH CHECK (tenant_id = entegrator_current_tenant())"
        )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON deliveries TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT ON view_links TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP TABLE view_links")
    op.execute("DROP TABLE deliveries")
    op.execute("ALTER TABLE tenants DROP COLUMN mail_from")
