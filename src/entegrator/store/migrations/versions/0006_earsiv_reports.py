"""e-Arşiv reports (e-Arşiv raporu): the reports sent to GİB, what each carried, cancellations.

``earsiv_reports`` holds each report as signed and zipped, stored before its first sending so
that every retry sends the very same bytes. ``earsiv_report_items`` names, for each e-Arşiv
invoice and each cancellation, the report that carried it: its key (tenant, kind, document)
lets nothing be reported twice. ``earsiv_cancellations`` records the cancellations (iptal) to
report. Documents gain two statuses, ``reported`` and ``cancelled``.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

APP_ROLE = "entegrator_app"

# The lifecycle's statuses as of this revision (a test compares them with DocumentStatus).
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
    "reported",
    "cancelled",
)
PREVIOUS = STATUSES[:-2]

SCHEMA = r"""
CREATE TABLE earsiv_reports (
    tenant_id       uuid NOT NULL REFERENCES tenants,
    report_id       uuid NOT NULL,              -- raporNo, also the file name
    period          date NOT NULL CHECK (extract(day FROM period) = 1),  -- the month
    part            int NOT NULL CHECK (part >= 1),                      -- bolumNo
    part_start      date NOT NULL,
    part_end        date NOT NULL,
    preparer        text NOT NULL CHECK (preparer ~ '^[0-9]{10,11}$'),   -- hazirlayan
    invoices        int NOT NULL DEFAULT 0,
    cancellations   int NOT NULL DEFAULT 0,
    xml             bytea NOT NULL,             -- the signed report
    xml_sha256      bytea NOT NULL,
    zip             bytea NOT NULL,             -- <raporNo>.zip as sent
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'succeeded', 'failed')),
    gib_code        int,
    gib_text        text,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    settled_at      timestamptz,
    PRIMARY KEY (tenant_id, report_id)
);
-- Parts are numbered without gaps per period; a part GİB refused gives its number back.
CREATE UNIQUE INDEX earsiv_reports_part ON earsiv_reports (tenant_id, period, part)
    WHERE status <> 'failed';
CREATE INDEX earsiv_reports_due ON earsiv_reports (tenant_id, next_attempt_at)
    WHERE status IN ('pending', 'sent');

CREATE TABLE earsiv_cancellations (
    tenant_id        uuid NOT NULL REFERENCES tenants,
    document_id      uuid NOT NULL,
    document_created timestamptz NOT NULL,
    number           text NOT NULL,
    cancelled_on     date NOT NULL,             -- iptalTarihi (Istanbul)
    total            text NOT NULL,             -- toplamTutar as reported
    reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    actor            text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, document_id)
);

CREATE TABLE earsiv_report_items (
    tenant_id   uuid NOT NULL REFERENCES tenants,
    kind        text NOT NULL CHECK (kind IN ('fatura', 'iptal')),
    document_id uuid NOT NULL,
    report_id   uuid NOT NULL,
    number      text NOT NULL,
    PRIMARY KEY (tenant_id, kind, document_id),
    FOREIGN KEY (tenant_id, report_id) REFERENCES earsiv_reports
);
CREATE INDEX earsiv_report_items_by_report ON earsiv_report_items (tenant_id, report_id);

-- The e-Arşiv invoices a report may still have to carry: signed and waiting (queued), or
-- cancelled (reported ones never are again). Keeps the scheduled run's scans small.
CREATE INDEX documents_earsiv_open ON documents (tenant_id, created_at)
    WHERE profile = 'EARSIVFATURA' AND direction = 'out' AND status IN ('queued', 'cancelled');
"""


def _check(statuses: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{s}'" for s in statuses)
    op.execute("ALTER TABLE documents DROP CONSTRAINT documents_status_known")
    op.execute(
        f"ALTER TABLE documents ADD CONSTRAINT documents_status_known CHECK (status IN ({listed}))"
    )


def upgrade() -> None:
    op.get_bind().exec_driver_sql(SCHEMA)
    for table in ("earsiv_reports", "earsiv_cancellations", "earsiv_report_items"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_tenant ON {table} "
            "USING (tenant_id = entegrator_current_tenant()) "
            "WITH CHECK (tenant_id = entegrator_current_tenant())"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {APP_ROLE}")
    # Items of a report GİB refused are released for the next report.
    op.execute(f"GRANT DELETE ON earsiv_report_items TO {APP_ROLE}")
    _check(STATUSES)


def downgrade() -> None:
    op.execute("DROP INDEX documents_earsiv_open")
    _check(PREVIOUS)
    op.execute("DROP TABLE earsiv_report_items")
    op.execute("DROP TABLE earsiv_cancellations")
    op.execute("DROP TABLE earsiv_reports")
