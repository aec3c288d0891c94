"""Bulk imports: an uploaded XLSX, CSV or zip, its processing and what it issued.

``imports`` is one upload and where its processing stands (counts, the problems found);
``import_chunks`` holds the uploaded file itself, in pieces, until a worker has read it (the
API and the worker may run on different machines, so the file travels through the
database); ``import_documents`` is what each ERP key of an import became.

Revision ID: 0010
Revises: 0012
"""

from alembic import op

revision = "0010"
down_revision = "0012"
branch_labels = None
depends_on = None

APP_ROLE = "entegrator_app"

SCHEMA = r"""
CREATE TABLE imports (
    tenant_id      uuid NOT NULL REFERENCES tenants,
    import_id      uuid NOT NULL,
    status         text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'done', 'failed')),
    format         text NOT NULL CHECK (format IN ('xlsx', 'csv', 'zip')),
    policy         text NOT NULL CHECK (policy IN ('all-or-nothing', 'valid-only')),
    file_name      text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    file_size      bigint NOT NULL CHECK (file_size >= 0),
    file_sha256    bytea NOT NULL,
    actor          text NOT NULL,
    documents      int NOT NULL DEFAULT 0,
    rows           int NOT NULL DEFAULT 0,
    processed      int NOT NULL DEFAULT 0,
    issued         int NOT NULL DEFAULT 0,
    already_issued int NOT NULL DEFAULT 0,
    refused        int NOT NULL DEFAULT 0,
    problem_count  int NOT NULL DEFAULT 0,
    problems       jsonb NOT NULL DEFAULT '[]',
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    PRIMARY KEY (tenant_id, import_id)
);
CREATE INDEX imports_recent ON imports (tenant_id, created_at DESC);

CREATE TABLE import_chunks (
    tenant_id uuid NOT NULL REFERENCES tenants,
    import_id uuid NOT NULL,
    seq       int NOT NULL CHECK (seq >= 0),
    data      bytea NOT NULL,
    PRIMARY KEY (tenant_id, import_id, seq),
    FOREIGN KEY (tenant_id, import_id) REFERENCES imports ON DELETE CASCADE
);

CREATE TABLE import_documents (
    tenant_id   uuid NOT NULL REFERENCES tenants,
    import_id   uuid NOT NULL,
    erp_key     text NOT NULL CHECK (length(erp_key) BETWEEN 1 AND 200),
    document_id uuid NOT NULL,
    number      text NOT NULL,
    ettn        text NOT NULL,
    replayed    boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, import_id, erp_key),
    FOREIGN KEY (tenant_id, import_id) REFERENCES imports ON DELETE CASCADE
);
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(SCHEMA)
    for table in ("imports", "import_chunks", "import_documents"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_tenant ON {table} "
            "USING (tenant_id = entegrator_current_tenant()) "
            "WITH CHECK (tenant_id = entegrator_current_tenant())"
        )
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON imports TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, DELETE ON import_chunks TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT ON import_documents TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP TABLE import_documents")
    op.execute("DROP TABLE import_chunks")
    op.execute("DROP TABLE imports")
