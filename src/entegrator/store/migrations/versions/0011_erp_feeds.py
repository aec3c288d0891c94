"""Feeds for ERPs: per-consumer acknowledgements of incoming documents, the change feed of
every document event, GİB users' aliases in full, and the cached tax figures of reports.

``inbox_acks``: which consumer (an ERP, named by itself) acknowledged which incoming document.
Each consumer has its own set, so two ERPs polling one tenant each see every document.

``change_feed``: one row per event, written by a statement trigger on ``events`` in the
event's own transaction, numbered by ``change_id`` (a sequence). Numbers are taken in the order
transactions write, not the order they commit; so the trigger takes a per-tenant advisory lock
in shared mode (held until its transaction ends) before it numbers, and a reader takes the same
lock in exclusive mode for the moment it reads: it waits for the tenant's writers in flight, and
every number it can see then belongs to a finished transaction. A later writer waits for the
reader and numbers above everything read. A cursor on ``change_id`` therefore misses nothing and
repeats nothing, whatever order the writers commit in (gaps are rolled-back numbers). Rows are
written by the trigger's owner; the application role may only read them.

``gib_users``: the first registration date, account type and every alias with its document
type, kind (PK/GB) and dates, as GİB lists them.

``report_facts``: the tax figures of a stored XML (a blob never changes, so neither do they),
computed once and reused by every report.

Revision ID: 0011
Revises: 0013
"""

from alembic import op

revision = "0011"
down_revision = "0013"
branch_labels = None
depends_on = None

APP_ROLE = "entegrator_app"

SCHEMA = r"""
CREATE TABLE inbox_acks (
    tenant_id   uuid NOT NULL REFERENCES tenants,
    consumer    text NOT NULL CHECK (consumer ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
    document_id uuid NOT NULL,
    acked_at    timestamptz NOT NULL DEFAULT now(),
    acked_by    text NOT NULL,
    PRIMARY KEY (tenant_id, consumer, document_id)
);

CREATE TABLE change_feed (
    tenant_id   uuid NOT NULL REFERENCES tenants,
    change_id   bigint GENERATED ALWAYS AS IDENTITY,
    document_id uuid NOT NULL,
    seq         int NOT NULL,
    at          timestamptz NOT NULL,
    type        text NOT NULL,
    status      text,
    PRIMARY KEY (tenant_id, change_id)
);

-- The lock of a tenant's feed: (FEED_LOCK, hashtext(tenant)) in the two-key space of advisory
-- locks (other locks of the schema use the one-key space). Writers share it, readers take it
-- alone (store/changes.py). Once per statement, over all the rows it inserted.
CREATE FUNCTION entegrator_feed_events() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    t uuid;
BEGIN
    FOR t IN SELECT DISTINCT tenant_id FROM new_events ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock_shared(1717920100, hashtext(CAST(t AS text)));
    END LOOP;
    INSERT INTO change_feed (tenant_id, document_id, seq, at, type, status)
    SELECT tenant_id, document_id, seq, at, type, status FROM new_events
     ORDER BY at, document_id, seq;
    RETURN NULL;
END $$;

CREATE TRIGGER events_feed AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION entegrator_feed_events();

-- The events stored before the feed existed, in their order.
INSERT INTO change_feed (tenant_id, document_id, seq, at, type, status)
SELECT tenant_id, document_id, seq, at, type, status FROM events ORDER BY at, document_id, seq;

ALTER TABLE gib_users
    ADD COLUMN first_created timestamptz,
    ADD COLUMN account_type  text,
    ADD COLUMN aliases       jsonb NOT NULL DEFAULT '[]';

CREATE TABLE report_facts (
    tenant_id uuid NOT NULL REFERENCES tenants,
    sha256    bytea NOT NULL CHECK (length(sha256) = 32),
    version   int NOT NULL,
    facts     jsonb NOT NULL,
    PRIMARY KEY (tenant_id, sha256, version)
);
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(SCHEMA)
    for table in ("inbox_acks", "change_feed", "report_facts"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_tenant ON {table} "
            "USING (tenant_id = entegrator_current_tenant()) "
            "WITH CHECK (tenant_id = entegrator_current_tenant())"
        )
    op.execute(f"GRANT SELECT, INSERT ON inbox_acks TO {APP_ROLE}")
    op.execute(f"GRANT SELECT ON change_feed TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT ON report_facts TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP TABLE report_facts")
    op.execute(
        "ALTER TABLE gib_users DROP COLUMN aliases, DROP COLUMN account_type, "
        "DROP COLUMN first_created"
    )
    op.execute("DROP TRIGGER events_feed ON events")
    op.execute("DROP FUNCTION entegrator_feed_events()")
    op.execute("DROP TABLE change_feed")
    op.execute("DROP TABLE inbox_acks")
