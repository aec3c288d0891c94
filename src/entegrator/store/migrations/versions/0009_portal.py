"""The web portal: passwords, lock-out and two-factor secrets of users; their sessions; the
KDV per rate of each invoice (the dashboard's and the reports' figures).

A user logs in with an e-mail and a password (an argon2 hash is stored, never the password).
``failed_logins`` counts the failures since the last success; ``locked_until`` refuses every
attempt until then. ``totp_secret`` is the TOTP key, encrypted with the installation's key.

A session is found by its cookie before its tenant is known: the table stores the SHA-256 of
the cookie's token, and ``entegrator_portal_session`` (SECURITY DEFINER) is the one way to a
session without naming a tenant, as ``entegrator_api_key`` is for API keys. The login looks
users up by e-mail the same way (``entegrator_portal_login``).

Revision ID: 0009
Revises: 0007
"""

from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

APP_ROLE = "entegrator_app"

SCHEMA = r"""
ALTER TABLE users
    ADD COLUMN password_hash       text,
    ADD COLUMN password_changed_at timestamptz,
    ADD COLUMN failed_logins       int NOT NULL DEFAULT 0,
    ADD COLUMN locked_until        timestamptz,
    ADD COLUMN last_login_at       timestamptz,
    ADD COLUMN totp_secret         bytea,
    ADD COLUMN disabled            boolean NOT NULL DEFAULT false;
CREATE INDEX users_by_email ON users (lower(email));

CREATE TABLE portal_sessions (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    tenant_id    uuid NOT NULL REFERENCES tenants,
    user_id      uuid NOT NULL,
    csrf_token   text NOT NULL CHECK (length(csrf_token) >= 32),
    mfa_pending  boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    address      text,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users ON DELETE CASCADE
);
CREATE INDEX portal_sessions_by_user ON portal_sessions (tenant_id, user_id);

-- KDV per rate of each invoice ({"20": ["1000.00", "200.00"]}: rate -> [taxable, tax]),
-- from its document-level TaxTotal, for the dashboard and the reports (NULL: not known, for
-- the rows stored before this column, or no KDV).
ALTER TABLE documents ADD COLUMN kdv jsonb;

-- The portal's lists: a tenant's outgoing or incoming documents, newest first.
CREATE INDEX documents_by_direction ON documents (tenant_id, direction, created_at, document_id);
-- ... and sorted by date or by total (the expressions of store.search.ORDERS).
CREATE INDEX documents_by_direction_date ON documents
    (tenant_id, direction, (COALESCE(issue_date, DATE '0001-01-01')), created_at, document_id);
CREATE INDEX documents_by_direction_total ON documents
    (tenant_id, direction, (COALESCE(payable, -1)), created_at, document_id);

-- Login: the users with this e-mail, in every tenant (the password tells which one it is).
CREATE FUNCTION entegrator_portal_login(p_email text)
    RETURNS TABLE (tenant_id uuid, user_id uuid, password_hash text, role text,
                   locked_until timestamptz, disabled boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT u.tenant_id, u.user_id, u.password_hash, u.role, u.locked_until, u.disabled
      FROM users u WHERE lower(u.email) = lower(p_email)
     ORDER BY u.created_at, u.tenant_id
$$;

-- A session by the hash of its cookie's token, before its tenant is known.
CREATE FUNCTION entegrator_portal_session(p_hash bytea)
    RETURNS TABLE (tenant_id uuid, user_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT s.tenant_id, s.user_id FROM portal_sessions s WHERE s.token_hash = p_hash
$$;
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(SCHEMA)
    op.execute("ALTER TABLE portal_sessions ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY portal_sessions_tenant ON portal_sessions "
        "USING (tenant_id = entegrator_current_tenant()) "
        "WITH CHECK (tenant_id = entegrator_current_tenant())"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON portal_sessions TO {APP_ROLE}")
    op.execute(f"GRANT EXECUTE ON FUNCTION entegrator_portal_login(text) TO {APP_ROLE}")
    op.execute(f"GRANT EXECUTE ON FUNCTION entegrator_portal_session(bytea) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION entegrator_portal_session(bytea)")
    op.execute("DROP FUNCTION entegrator_portal_login(text)")
    op.execute("DROP TABLE portal_sessions")
    op.execute("DROP INDEX documents_by_direction_total")
    op.execute("DROP INDEX documents_by_direction_date")
    op.execute("DROP INDEX documents_by_direction")
    op.execute("ALTER TABLE documents DROP COLUMN kdv")
    for column in (
        "password_hash",
        "password_changed_at",
        "failed_logins",
        "locked_until",
        "last_login_at",
        "totp_secret",
        "disabled",
    ):
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")
