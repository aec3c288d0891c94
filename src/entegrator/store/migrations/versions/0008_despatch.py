"""e-İrsaliye: despatch aliases in GİB's user list, despatch and receipt number series.

GİB's user list gives each user's aliases per document type (Invoice, DespatchAdvice):
``gib_users`` gains the despatch mailboxes (PK) and sender units (GB) beside the invoice ones.
Despatch advices and their receipt answers are numbered in series of their own, counted
apart from invoices even under the same three letters: ``numbering_series`` gains the
document kind in its key, and tenants gain a default series for each (``IRS``, ``IRY``).

Revision ID: 0008
Revises: 0011
"""

from alembic import op

revision = "0008"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE gib_users ADD COLUMN despatch_mailboxes text[] NOT NULL DEFAULT '{}', "
        "ADD COLUMN despatch_sender_units text[] NOT NULL DEFAULT '{}'"
    )
    op.execute(
        "ALTER TABLE numbering_series ADD COLUMN document text NOT NULL DEFAULT 'invoice' "
        "CHECK (document IN ('invoice', 'despatch', 'receipt'))"
    )
    op.execute("ALTER TABLE numbering_series DROP CONSTRAINT numbering_series_pkey")
    op.execute(
        "ALTER TABLE numbering_series ADD CONSTRAINT numbering_series_pkey "
        "PRIMARY KEY (tenant_id, document, prefix, year)"
    )
    op.execute(
        "ALTER TABLE tenants "
        "ADD COLUMN despatch_series text NOT NULL DEFAULT 'IRS' "
        "CHECK (despatch_series ~ '^[A-Z0-9]{3}$'), "
        "ADD COLUMN receipt_series text NOT NULL DEFAULT 'IRY' "
        "CHECK (receipt_series ~ '^[A-Z0-9]{3}$')"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tenants DROP COLUMN despatch_series, DROP COLUMN receipt_series")
    op.execute("DELETE FROM numbering_series WHERE document <> 'invoice'")
    op.execute("ALTER TABLE numbering_series DROP CONSTRAINT numbering_series_pkey")
    op.execute("ALTER TABLE numbering_series DROP COLUMN document")
    op.execute(
        "ALTER TABLE numbering_series ADD CONSTRAINT numbering_series_pkey "
        "PRIMARY KEY (tenant_id, prefix, year)"
    )
    op.execute(
        "ALTER TABLE gib_users DROP COLUMN despatch_mailboxes, DROP COLUMN despatch_sender_units"
    )
