"""Enrolment at GİB: the tenants' aliases follow GİB's user list, and each user-account
request (ProcessUserAccount / CancelUserAccount in a USERENVELOPE) is followed to GİB's answer.

An alias asked for is ``pending`` until GİB's published list shows it, then ``active``; one
being closed is ``closing`` until the list shows its deletion time, then ``closed`` (it stays,
so that envelopes GİB accepted for it before still find their tenant). Aliases made before
this revision are ``active``.

Revision ID: 0013
Revises: 0010
"""

from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None

APP_ROLE = "entegrator_app"

SCHEMA = r"""
ALTER TABLE aliases
    ADD COLUMN state text NOT NULL DEFAULT 'active'
        CHECK (state IN ('pending', 'active', 'closing', 'closed')),
    ADD COLUMN listed_at timestamptz,   -- CreationTime in GİB's list
    ADD COLUMN deleted_at timestamptz;  -- DeletionTime in GİB's list

-- A registered user whose last mailbox closed a short while ago: moving between integrators.
ALTER TABLE gib_users ADD COLUMN moving_since timestamptz;

ALTER TABLE outbound_envelopes DROP CONSTRAINT outbound_envelopes_kind_check;
ALTER TABLE outbound_envelopes ADD CONSTRAINT outbound_envelopes_kind_check
    CHECK (kind IN ('document', 'system', 'response', 'user'));

CREATE TABLE gib_enrolments (
    tenant_id    uuid NOT NULL REFERENCES tenants,
    request_id   uuid NOT NULL DEFAULT gen_random_uuid(),
    action       text NOT NULL CHECK (action IN ('enrol', 'add-alias', 'close-alias', 'cancel')),
    service      text NOT NULL CHECK (service IN ('usergb', 'edespatch')),
    aliases      jsonb NOT NULL DEFAULT '[]',
    envelope_id  text NOT NULL,
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'sent', 'accepted', 'refused', 'listed', 'failed')),
    gib_code     int,
    gib_detail   text,
    requested_by text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, request_id),
    UNIQUE (tenant_id, envelope_id)
);
CREATE INDEX gib_enrolments_open ON gib_enrolments (tenant_id)
    WHERE status IN ('queued', 'sent', 'accepted');
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(SCHEMA)
    op.execute("ALTER TABLE gib_enrolments ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY gib_enrolments_tenant ON gib_enrolments "
        "USING (tenant_id = entegrator_current_tenant()) "
        "WITH CHECK (tenant_id = entegrator_current_tenant())"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON gib_enrolments TO {APP_ROLE}")
    # An alias GİB refused before it was ever listed is removed, so that its name is free.
    op.execute(f"GRANT DELETE ON aliases TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE DELETE ON aliases FROM {APP_ROLE}")
    op.execute("DROP TABLE gib_enrolments")
    op.execute("DELETE FROM outbound_envelopes WHERE kind = 'user'")
    op.execute("ALTER TABLE outbound_envelopes DROP CONSTRAINT outbound_envelopes_kind_check")
    op.execute(
        "ALTER TABLE outbound_envelopes ADD CONSTRAINT outbound_envelopes_kind_check "
        "CHECK (kind IN ('document', 'system', 'response'))"
    )
    op.execute("ALTER TABLE gib_users DROP COLUMN moving_since")
    op.execute(
        "ALTER TABLE aliases DROP COLUMN state, DROP COLUMN listed_at, DROP COLUMN deleted_at"
    )
