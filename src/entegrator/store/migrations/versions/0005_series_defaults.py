"""A default series per kind of invoice: e-Fatura, e-Arşiv and e-Arşiv internet sales.

Tenants already had ``default_series`` (e-Fatura) and ``earsiv_series``; internet sales
usually get a numbering series of their own (``earsiv-and-others.md`` §1.2), so tenants
gain ``internet_series``, by default ``INT``.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE tenants ADD COLUMN internet_series text NOT NULL DEFAULT 'INT' "
        "CHECK (internet_series ~ '^[A-Z0-9]{3}$')"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tenants DROP COLUMN internet_series")
