"""Document statuses are the lifecycle's, and no others: a CHECK constraint on the column.

The list is the lifecycle's ``DocumentStatus`` as of this revision (a test compares them); a
later status needs a migration that widens it.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STATUSES = (
    "draft",
    "validated",
    "signed",
    "queued",
    "sent",
    "processing",
    "delivered",
    "rejected_by_gib",
    "failed_delivery",
    "failed",
    "accepted",
    "rejected",
    "returned",
    "received",
)


def upgrade() -> None:
    listed = ", ".join(f"'{s}'" for s in STATUSES)
    op.execute(
        f"ALTER TABLE documents ADD CONSTRAINT documents_status_known CHECK (status IN ({listed}))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE documents DROP CONSTRAINT documents_status_known")
