"""Pricing and metering: plans, plan assignments, credit packages, the credit ledger, usage
records, low-credit warnings and monthly statements.

A usage record is written in the transaction of the event it bills (an invoice issued, one
received), under a unique key per event, so that a retry or a crash never bills twice and a
rolled-back event bills nothing. The credit balance is the sum of the ledger: every entry
carries the balance after it (``balance_after``), taken under the lock of the tenant's
account row, so reading the balance costs one row and the sum can always be checked.

Revision ID: 0012
Revises: 0007
"""

from alembic import op

revision = "0012"
down_revision = "0007"
branch_labels = None
depends_on = None

APP_ROLE = "entegrator_app"

SCHEMA = r"""
-- Plans are the installation's (no tenant): the operator defines them.
CREATE TABLE billing_plans (
    plan_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
    monthly_fee numeric(18, 2) NOT NULL DEFAULT 0 CHECK (monthly_fee >= 0),
    kdv_rate    numeric(5, 2) NOT NULL DEFAULT 20 CHECK (kdv_rate >= 0 AND kdv_rate <= 100),
    prepaid     boolean NOT NULL DEFAULT false,
    included    jsonb NOT NULL DEFAULT '{}'::jsonb,
    unit_prices jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One plan at a time per tenant: the one with the latest effective_from on or before a day.
CREATE TABLE plan_assignments (
    tenant_id      uuid NOT NULL REFERENCES tenants,
    effective_from date NOT NULL,
    plan_id        uuid NOT NULL REFERENCES billing_plans,
    assigned_by    text NOT NULL,
    assigned_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, effective_from)
);

-- The row the issuing transaction locks: credits are checked and spent one at a time per
-- tenant. ``warn_reference`` is the balance right after the last top-up (what the warning
-- thresholds are percentages of), ``warn_seq`` that top-up's ledger entry.
CREATE TABLE billing_accounts (
    tenant_id      uuid PRIMARY KEY REFERENCES tenants,
    contact_emails text[] NOT NULL DEFAULT '{}',
    -- The tenant as a party of the integrator's invoice (name, tax office, address…).
    party          jsonb,
    warn_reference bigint NOT NULL DEFAULT 0,
    warn_seq       bigint NOT NULL DEFAULT 0
);

CREATE TABLE credit_packages (
    tenant_id  uuid NOT NULL REFERENCES tenants,
    package_id uuid NOT NULL DEFAULT gen_random_uuid(),
    credits    bigint NOT NULL CHECK (credits > 0),
    price      numeric(18, 2) NOT NULL DEFAULT 0 CHECK (price >= 0),
    kdv_rate   numeric(5, 2) NOT NULL DEFAULT 20 CHECK (kdv_rate >= 0 AND kdv_rate <= 100),
    expires_on date,
    bought_at  timestamptz NOT NULL,
    added_by   text NOT NULL,
    PRIMARY KEY (tenant_id, package_id)
);

-- Append-only. delta > 0: a top-up; < 0: credits spent (usage) or expired.
CREATE TABLE credit_ledger (
    tenant_id     uuid NOT NULL REFERENCES tenants,
    seq           bigint NOT NULL CHECK (seq > 0),
    at            timestamptz NOT NULL,
    delta         bigint NOT NULL CHECK (delta <> 0),
    balance_after bigint NOT NULL,
    reason        text NOT NULL CHECK (reason IN ('topup', 'usage', 'expiry')),
    kind          text,
    ref           text NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, reason, ref)
);

-- One row per billable event; the unique key makes a second write of the same event a no-op.
CREATE TABLE usage_records (
    tenant_id   uuid NOT NULL REFERENCES tenants,
    kind        text NOT NULL
                CHECK (kind IN ('efatura', 'earsiv', 'despatch', 'incoming', 'users',
                                'storage_gb')),
    event_key   text NOT NULL CHECK (length(event_key) BETWEEN 1 AND 200),
    document_id uuid,
    quantity    numeric(18, 3) NOT NULL DEFAULT 1 CHECK (quantity >= 0),
    at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, kind, event_key)
);
CREATE INDEX usage_records_by_time ON usage_records (tenant_id, at);

-- A low-credit warning, once per threshold per top-up; mailed to the account's contacts.
CREATE TABLE billing_warnings (
    tenant_id  uuid NOT NULL REFERENCES tenants,
    warn_seq   bigint NOT NULL,
    threshold  int NOT NULL CHECK (threshold BETWEEN 0 AND 100),
    balance    bigint NOT NULL,
    reference  bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    mailed_at  timestamptz,
    PRIMARY KEY (tenant_id, warn_seq, threshold)
);
CREATE INDEX billing_warnings_unmailed ON billing_warnings (created_at) WHERE mailed_at IS NULL;

-- A closed month per tenant: written once, never recomputed; the integrator's invoice for it.
CREATE TABLE billing_statements (
    tenant_id   uuid NOT NULL REFERENCES tenants,
    period      text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    content     jsonb NOT NULL,
    total       numeric(18, 2) NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    invoice_id  uuid,
    invoice_number text,
    PRIMARY KEY (tenant_id, period)
);
"""

TENANT_TABLES = {
    "plan_assignments": "SELECT",
    "billing_accounts": "SELECT, INSERT, UPDATE",
    "credit_packages": "SELECT",
    "credit_ledger": "SELECT, INSERT",
    "usage_records": "SELECT, INSERT",
    "billing_warnings": "SELECT, INSERT",
    "billing_statements": "SELECT",
}


def upgrade() -> None:
    op.get_bind().exec_driver_sql(SCHEMA)
    for table, rights in TENANT_TABLES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_tenant ON {table} "
            "USING (tenant_id = entegrator_current_tenant()) "
            "WITH CHECK (tenant_id = entegrator_current_tenant())"
        )
        op.execute(f"GRANT {rights} ON {table} TO {APP_ROLE}")
    op.execute(f"GRANT SELECT ON billing_plans TO {APP_ROLE}")


def downgrade() -> None:
    for table in (
        "billing_statements",
        "billing_warnings",
        "usage_records",
        "credit_ledger",
        "credit_packages",
        "billing_accounts",
        "plan_assignments",
        "billing_plans",
    ):
        op.execute(f"DROP TABLE {table}")
