"""Feeds for ERPs: per-consumer acknowledgements of incoming documents, the change feed of
every document event, GİB users' aliases in full, and the cached tax figures of reports.

``inbox_acks``: which consumer (an ERP, named by itself) acknowledged which incoming document.
Each consumer has its own set, so two ERPs polling one tenant each see every document.

``change_feed``: one row per event, written by a statement trigger on ``events`` in the event's
own transaction, with that transaction's id (``txid``, 64 bits: no wraparound). A reader takes rows
only below the oldest transaction still running (``pg_snapshot_xmin``), in ``(txid,
change_id)`` order: a transaction that commits later can only hold rows above every row
already read, so a cursor over that order misses nothing and repeats nothing, whatever order
the writers commit in. Rows are written by the trigger's owner; the application role may only
read them.

``gib_users``: the first registration date, account type and every alias with its document
type, kind (PK/GB) and dates, as GİB lists them.

``report_facts``: the tax figures of a stored XML (a blob never changes, so neither do they),
computed once and reused by every report.

Revision ID: 0011
Revises: 0007
"""

from alembic import op

revision = "0011"
down_revision = "0007"
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
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    document_id uuid NOT NULL,
    seq         int NOT NULL,
    at          timestamptz NOT NULL,
    type        text NOT NULL,
    status      text,
    PRIMARY KEY (tenant_id, txid, change_id)
);

-- Once per statement, over all the rows it inserted (a row trigger costs about twice as much
-- per event).
CREATE FUNCTION entegrator_feed_events() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    INSERT INTO change_feed (tenant_id, document_id, seq, at, type, status)
    SELECT tenant_id, document_id, seq, at, type, status FROM new_events
     ORDER BY at, document_id, seq;
    RETURN NULL;
END $$;

CREATE TRIGGER events_feed AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION entegrator_feed_events();

-- The events stored before the feed existed, in their order (one transaction: one txid).
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
