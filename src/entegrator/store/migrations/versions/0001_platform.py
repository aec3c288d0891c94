"""The platform's first schema: tenants, keys, parties, series, documents, blobs, events, audit.

Every table carries ``tenant_id``; row-level security limits the application role
(``entegrator_app``) to the tenant named by the transaction setting ``entegrator.tenant_id``.
Documents, events and the audit log are partitioned by month (UTC), with a default partition
so that no row is ever refused for want of one. Blobs, events and the audit log are
append-only (triggers refuse UPDATE, DELETE and TRUNCATE, whoever asks).

Revision ID: 0001
Revises:
"""

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APP_ROLE = "entegrator_app"

TENANT_TABLES = (
    "tenants",
    "users",
    "api_keys",
    "seals",
    "parties",
    "aliases",
    "numbering_series",
    "documents",
    "document_keys",
    "blobs",
    "events",
    "audit_log",
    "idempotency_keys",
    "inbound_envelopes",
    "outbound_envelopes",
)
APPEND_ONLY = ("blobs", "events", "audit_log")
PARTITIONED = ("documents", "events", "audit_log")

SCHEMA = r"""
CREATE FUNCTION entegrator_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('entegrator.tenant_id', true), '')::uuid $$;

CREATE TABLE tenants (
    tenant_id      uuid PRIMARY KEY,
    vkn            text NOT NULL UNIQUE CHECK (vkn ~ '^[0-9]{10,11}$'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    default_series text NOT NULL DEFAULT 'EFA' CHECK (default_series ~ '^[A-Z0-9]{3}$'),
    earsiv_series  text NOT NULL DEFAULT 'EAR' CHECK (earsiv_series ~ '^[A-Z0-9]{3}$'),
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    tenant_id  uuid NOT NULL REFERENCES tenants,
    user_id    uuid NOT NULL,
    email      text NOT NULL,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('owner', 'accountant', 'viewer', 'api')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id),
    UNIQUE (tenant_id, email)
);

CREATE TABLE api_keys (
    tenant_id   uuid NOT NULL REFERENCES tenants,
    key_id      uuid NOT NULL,
    prefix      text NOT NULL UNIQUE,
    secret_hash bytea NOT NULL,
    role        text NOT NULL CHECK (role IN ('owner', 'accountant', 'viewer', 'api')),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    PRIMARY KEY (tenant_id, key_id)
);

CREATE TABLE seals (
    tenant_id      uuid NOT NULL REFERENCES tenants,
    seal_id        uuid NOT NULL,
    certificate    bytea NOT NULL,
    chain          bytea[] NOT NULL DEFAULT '{}',
    key_nonce      bytea NOT NULL,
    key_ciphertext bytea NOT NULL,
    subject        text NOT NULL,
    identity       text,
    not_after      timestamptz NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, seal_id)
);
CREATE UNIQUE INDEX seals_one_active ON seals (tenant_id) WHERE active;

CREATE TABLE parties (
    tenant_id  uuid NOT NULL REFERENCES tenants,
    vkn_tckn   text NOT NULL CHECK (vkn_tckn ~ '^[0-9]{10,11}$'),
    name       text NOT NULL,
    tax_office text,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, vkn_tckn)
);

-- The tenants' own GİB aliases (etiket): PK receives documents, GB sends them and receives
-- replies. An alias belongs to one tenant of the installation.
CREATE TABLE aliases (
    tenant_id  uuid NOT NULL REFERENCES tenants,
    vkn_tckn   text NOT NULL,
    alias      text NOT NULL CHECK (alias ~ '^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$'
                                    AND length(alias) <= 250),
    kind       text NOT NULL CHECK (kind IN ('PK', 'GB')),
    document   text NOT NULL DEFAULT 'Invoice' CHECK (document IN ('Invoice', 'DespatchAdvice')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, alias, kind, document)
);
CREATE UNIQUE INDEX aliases_once ON aliases (alias, kind, document);

-- Envelopes we send to GİB: created (with their id) before the first attempt, so that every
-- retry sends the same envelope and GİB's duplicate check (2001) keeps it to one.
CREATE TABLE outbound_envelopes (
    tenant_id       uuid NOT NULL REFERENCES tenants,
    envelope_id     text NOT NULL,
    kind            text NOT NULL DEFAULT 'document'
                    CHECK (kind IN ('document', 'system', 'response')),
    document_id     uuid,  -- the invoice it carries (kind document)
    document_created timestamptz,
    file_name       text NOT NULL,
    md5             text NOT NULL,
    data            bytea NOT NULL,
    receiver_alias  text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'final', 'failed')),
    gib_code        int,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, envelope_id)
);
CREATE UNIQUE INDEX outbound_envelopes_one_per_document
    ON outbound_envelopes (tenant_id, document_id) WHERE status <> 'failed' AND kind = 'document';

-- GİB's registered-user list, as last fetched: reference data shared by every tenant (the
-- one table without tenant_id; it holds nothing of any tenant).
CREATE TABLE gib_users (
    identifier   text PRIMARY KEY,
    title        text NOT NULL,
    mailboxes    text[] NOT NULL DEFAULT '{}',
    sender_units text[] NOT NULL DEFAULT '{}',
    refreshed_at timestamptz NOT NULL DEFAULT now()
);

-- Envelopes GİB delivered to us, stored as received before they are acknowledged; processing
-- replays from here.
CREATE TABLE inbound_envelopes (
    tenant_id     uuid NOT NULL REFERENCES tenants,
    envelope_id   text NOT NULL,
    file_name     text NOT NULL,
    md5           text NOT NULL,
    data          bytea NOT NULL,
    envelope_type text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    status        text NOT NULL DEFAULT 'received'
                  CHECK (status IN ('received', 'processed', 'refused')),
    code          int,
    detail        text,
    processed_at  timestamptz,
    PRIMARY KEY (tenant_id, envelope_id)
);
CREATE INDEX inbound_envelopes_waiting ON inbound_envelopes (tenant_id, received_at)
    WHERE status = 'received';

CREATE TABLE numbering_series (
    tenant_id  uuid NOT NULL REFERENCES tenants,
    prefix     text NOT NULL CHECK (prefix ~ '^[A-Z0-9]{3}$'),
    year       int NOT NULL CHECK (year BETWEEN 2000 AND 2099),
    last_value bigint NOT NULL DEFAULT 0 CHECK (last_value BETWEEN 0 AND 999999999),
    PRIMARY KEY (tenant_id, prefix, year)
);

CREATE TABLE documents (
    tenant_id       uuid NOT NULL,
    document_id     uuid NOT NULL,
    created_at      timestamptz NOT NULL,
    direction       text NOT NULL CHECK (direction IN ('out', 'in')),
    kind            text NOT NULL,
    profile         text,
    type            text,
    number          text,
    series          text,
    ettn            uuid NOT NULL,
    issue_date      date,
    sender_id       text,
    sender_name     text,
    receiver_id     text,
    receiver_name   text,
    currency        text,
    line_extension  numeric(20, 2),
    tax_exclusive   numeric(20, 2),
    tax_total       numeric(20, 2),
    payable         numeric(20, 2),
    status          text NOT NULL,
    status_code     text,
    status_detail   text,
    gib_alias       text,  -- the other side's alias: the buyer's PK, the seller's GB
    xml_sha256      bytea NOT NULL,
    signed_sha256   bytea,
    event_count     int NOT NULL,
    head_hash       bytea NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, created_at, document_id)
) PARTITION BY RANGE (created_at);
CREATE INDEX documents_by_id ON documents (tenant_id, document_id);
CREATE INDEX documents_by_issue_date ON documents (tenant_id, issue_date);
CREATE INDEX documents_by_receiver ON documents (tenant_id, receiver_id);
CREATE INDEX documents_by_sender ON documents (tenant_id, sender_id);
CREATE INDEX documents_by_status ON documents (tenant_id, status, created_at);
CREATE INDEX documents_by_number ON documents (tenant_id, number);

-- Uniqueness across partitions: one row per (tenant, direction, ETTN) and per number.
CREATE TABLE document_keys (
    tenant_id   uuid NOT NULL REFERENCES tenants,
    direction   text NOT NULL,
    ettn        uuid NOT NULL,
    sender_id   text NOT NULL,
    number      text NOT NULL,
    document_id uuid NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, direction, ettn),
    UNIQUE (tenant_id, direction, sender_id, number)
);

CREATE TABLE blobs (
    tenant_id  uuid NOT NULL REFERENCES tenants,
    sha256     bytea NOT NULL CHECK (length(sha256) = 32),
    size       int NOT NULL,
    data       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sha256)
);

CREATE TABLE events (
    tenant_id   uuid NOT NULL,
    document_id uuid NOT NULL,
    seq         int NOT NULL,
    at          timestamptz NOT NULL,
    type        text NOT NULL,
    status      text,
    actor       text,
    data        jsonb NOT NULL DEFAULT '{}',
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL,
    PRIMARY KEY (tenant_id, document_id, seq, at)
) PARTITION BY RANGE (at);

CREATE TABLE audit_log (
    tenant_id uuid NOT NULL,
    audit_id  bigserial,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,
    action    text NOT NULL,
    target    text,
    data      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, at, audit_id)
) PARTITION BY RANGE (at);

CREATE TABLE idempotency_keys (
    tenant_id      uuid NOT NULL REFERENCES tenants,
    key            text NOT NULL,
    request_sha256 bytea NOT NULL,
    status_code    int NOT NULL,
    response       jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

CREATE FUNCTION entegrator_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'entegrator: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- Monthly partitions (UTC) from last month to ``months_ahead`` months ahead; safe to call
-- from many processes at once.
CREATE FUNCTION entegrator_ensure_partitions(months_ahead int) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    tbl text;
    first_day timestamp;
    part text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['documents', 'events', 'audit_log'] LOOP
        FOR i IN -1..months_ahead LOOP
            first_day := date_trunc('month', (now() AT TIME ZONE 'UTC'))
                         + make_interval(months => i);
            part := format('%s_%s', tbl, to_char(first_day, 'YYYY_MM'));
            CONTINUE WHEN to_regclass(part) IS NOT NULL;
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                    part, tbl,
                    first_day AT TIME ZONE 'UTC',
                    (first_day + interval '1 month') AT TIME ZONE 'UTC');
            EXCEPTION
                WHEN duplicate_table THEN NULL;  -- another process made it first
                WHEN check_violation THEN        -- rows for that month sit in the default
                    RAISE WARNING 'partition % not created: rows in the default partition', part;
            END;
        END LOOP;
    END LOOP;
END $$;

-- An envelope from GİB names an alias before a tenant is known: whose alias is it?
CREATE FUNCTION entegrator_alias_tenant(p_alias text, p_kind text)
    RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT a.tenant_id FROM aliases a WHERE a.alias = p_alias AND a.kind = p_kind LIMIT 1
$$;

-- The API key lookup happens before a tenant is known; this is the one way to it.
CREATE FUNCTION entegrator_api_key(p_prefix text)
    RETURNS TABLE (tenant_id uuid, key_id uuid, secret_hash bytea, role text, revoked boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT k.tenant_id, k.key_id, k.secret_hash, k.role, k.revoked_at IS NOT NULL
      FROM api_keys k WHERE k.prefix = p_prefix
$$;
"""


def _sql(statement: str) -> None:
    """Run SQL as written (no bind-parameter parsing: ``%`` and ``:`` stay literal)."""
    cursor = op.get_bind().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def upgrade() -> None:
    _sql(SCHEMA)
    for table in PARTITIONED:
        _sql(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    _sql("SELECT entegrator_ensure_partitions(3)")
    # XML compresses about 2:1 either way; LZ4 costs less CPU than PostgreSQL's default (pglz)
    # on every stored document. Servers built without LZ4 keep the default.
    _sql(
        """
        DO $$ BEGIN
            ALTER TABLE blobs ALTER COLUMN data SET COMPRESSION lz4;
        EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;
        END $$;
        """
    )
    for table in APPEND_ONLY:
        _sql(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION entegrator_append_only()"
        )
        _sql(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION entegrator_append_only()"
        )

    # The application role: no login, no bypass; the service switches to it (SET ROLE).
    _sql(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
            END IF;
            BEGIN
                EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
            EXCEPTION WHEN others THEN NULL;  -- already a member, or a superuser
            END;
        END $$;
        """  # noqa: S608 - constant names
    )
    # Rights on the parent tables only: a partition read directly would escape the policy.
    for table in TENANT_TABLES:
        _sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        _sql(
            f"CREATE POLICY {table}_tenant ON {table} "
            "USING (tenant_id = entegrator_current_tenant()) "
            "WITH CHECK (tenant_id = entegrator_current_tenant())"
        )
        rights = "SELECT, INSERT" if table in APPEND_ONLY else "SELECT, INSERT, UPDATE"
        _sql(f"GRANT {rights} ON {table} TO {APP_ROLE}")
    _sql(f"GRANT USAGE ON SEQUENCE audit_log_audit_id_seq TO {APP_ROLE}")

    _sql(f"GRANT SELECT ON gib_users TO {APP_ROLE}")

    # Jobs: procrastinate's own schema, in the same database and transaction; the service
    # defers jobs inside its own transactions, so the application role may use it.
    _sql(SchemaManager.get_schema())
    # Wake a worker for a tenant's pending documents: at most one waiting job per lock, and a
    # concurrent twin is not an error. The documents themselves are the durable to-do list.
    _sql(
        """
        CREATE FUNCTION entegrator_wake(p_queue text, p_task text, p_lock text, p_args jsonb)
            RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM procrastinate_jobs
                        WHERE queueing_lock = p_lock AND status = 'todo') THEN
                RETURN false;
            END IF;
            BEGIN
                PERFORM procrastinate_defer_jobs_v1(ARRAY[ROW(p_queue, p_task, 0, NULL, p_lock,
                    p_args, NULL)::procrastinate_job_to_defer_v1]);
                RETURN true;
            EXCEPTION WHEN unique_violation THEN
                RETURN false;  -- another transaction queued it first
            END;
        END $$;
        """
    )
    _sql(
        f"""
        DO $$ DECLARE t text; BEGIN
            FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = current_schema() AND c.relname LIKE 'procrastinate%'
                        AND c.relkind IN ('r', 'p') LOOP
                EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO {APP_ROLE}', t);
            END LOOP;
            FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = current_schema() AND c.relname LIKE 'procrastinate%'
                        AND c.relkind = 'S' LOOP
                EXECUTE format('GRANT USAGE ON SEQUENCE %I TO {APP_ROLE}', t);
            END LOOP;
        END $$;
        """  # noqa: S608 - constant names
    )
