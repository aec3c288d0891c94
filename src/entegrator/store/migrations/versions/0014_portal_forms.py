"""The portal's invoice drafts and each tenant's company details (with its logo).

A draft (taslak) is what a user typed into the invoice form and saved without issuing: the
form's fields as JSON, kept until it is issued or deleted. Company details are what the form
fills the supplier with (address, tax office, contact) and the logo printed on views.

Revision ID: 0014
Revises: 0009 (the portal's users and sessions; 0007 before it)
"""

from alembic import op

revision = "0014"
down_revision = "0009"
branch_labels = None
depends_on = None

APP_ROLE = "entegrator_app"

SCHEMA = r"""
CREATE TABLE invoice_drafts (
    tenant_id   uuid NOT NULL REFERENCES tenants,
    draft_id    uuid NOT NULL,
    title       text NOT NULL CHECK (length(title) <= 500),
    form        jsonb NOT NULL CHECK (jsonb_typeof(form) = 'object'),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, draft_id)
);
CREATE INDEX invoice_drafts_recent ON invoice_drafts (tenant_id, updated_at DESC);

CREATE TABLE company_profiles (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants,
    details     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    logo        bytea CHECK (logo IS NULL OR length(logo) <= 524288),
    logo_type   text CHECK (logo_type IS NULL OR logo_type IN ('image/png', 'image/jpeg')),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(SCHEMA)
    for table in ("invoice_drafts", "company_profiles"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_tenant ON {table} "
            "USING (tenant_id = entegrator_current_tenant()) "
            "WITH CHECK (tenant_id = entegrator_current_tenant())"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP TABLE company_profiles")
    op.execute("DROP TABLE invoice_drafts")
