"""One settings object for the platform, read from ``ENTEGRATOR_*`` environment variables.

The pure core (documents, rules, signing, envelope) never reads it; the service layers do.
"""

from __future__ import annotations

import base64
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["DEFAULT_CACHE_DIR", "Settings", "settings"]

DEFAULT_CACHE_DIR = Path("~/.cache/entegrator")


class Settings(BaseSettings):
    """Every knob of the service; see ``docs/configuration.md``."""

    model_config = SettingsConfigDict(env_prefix="ENTEGRATOR_", extra="ignore")

    # Where the embedded PostgreSQL, the generated secret key and the demo key live.
    data_dir: Path = Path(".entegrator")
    # Any PostgreSQL server (postgresql://user@host:port/db); empty: the embedded one.
    database_url: str | None = None
    # 32 bytes, base64: encrypts the tenants' signing keys at rest. Empty: generated once
    # into ``data_dir/secret.key`` (mode 0600), which is fine for one machine only.
    secret_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Largest request body the API reads (bytes); larger ones get 413 before they are read.
    max_body_bytes: int = 10 * 1024 * 1024
    # Seconds a request body may take to arrive (408 after): slow uploads hold no one up.
    body_timeout_seconds: float = 60.0
    # Failed API-key authentications allowed per client address and per key prefix within
    # the window (429 with Retry-After above; 0: no limit).
    auth_failure_limit: int = 20
    # Seconds an API process trusts a key it found valid before asking the database again
    # (a revoked key is refused at most this much later; 0: ask every time).
    api_key_cache_seconds: float = 1.0
    auth_failure_window_seconds: float = 60.0
    # The web portal (docs/portal.md): a session ends this long after its last request, or
    # this long after its login, whichever comes first; this many failed logins in a row lock
    # a user for ``portal_lockout_seconds``. Session cookies are Secure unless the portal is
    # reached over plain HTTP on loopback ("auto"); "always" or "never" say otherwise.
    portal_session_idle_seconds: float = Field(default=30 * 60, gt=0)
    portal_session_max_seconds: float = Field(default=12 * 3600, gt=0)
    portal_lockout_failures: int = Field(default=5, ge=1)
    portal_lockout_seconds: float = Field(default=15 * 60, ge=0)
    portal_secure_cookie: Literal["auto", "always", "never"] = "auto"
    # /metrics: a token to present as Bearer; without one it is open when the API listens on
    # loopback only, closed elsewhere, unless this says otherwise (true/false).
    metrics_token: SecretStr | None = None
    metrics_public: bool | None = None
    # Bulk imports (POST /api/v1/imports): the largest upload (bytes; 413 above), and the
    # limits of a zip (or XLSX) — entries, total uncompressed bytes, and the compression
    # ratio of an entry over 1 MiB — past which it is refused as a zip bomb; rows per file.
    import_max_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    import_upload_seconds: float = Field(default=600.0, gt=0)  # time an upload may take
    import_max_entries: int = Field(default=100_000, ge=1)
    import_max_uncompressed_bytes: int = Field(default=2 * 1024**3, ge=1024)
    import_max_ratio: int = Field(default=200, ge=2)
    import_max_rows: int = Field(default=1_000_000, ge=1)
    # An archive from another integrator (POST /api/v1/archive/imports): the largest upload.
    archive_import_max_bytes: int = Field(default=4 * 1024**3, ge=1024)
    # Most lines an invoice draft (JSON) may have: 422 above.
    max_draft_lines: int = 10_000
    # One line per request on the ``entegrator.access`` log.
    access_log: bool = True
    # Threads per API process doing request work (they share one GIL).
    api_threads: int = 4
    # Document views (HTML, PDF) render in worker processes, never on the API threads: the
    # wall-clock seconds one HTML or PDF render may take, each worker's address space, how
    # many render at once per API process, and how long a request waits for a free worker.
    # A document's own stylesheet over a limit is replaced by entegrator's view.
    view_html_seconds: float = Field(default=10.0, gt=0)
    view_pdf_seconds: float = Field(default=30.0, gt=0)
    view_memory_mb: int = Field(default=512, ge=256)
    view_concurrency: int = Field(default=2, ge=1)
    view_queue_seconds: float = Field(default=10.0, gt=0)
    # Connections per process.
    pool_size: int = 10
    # Worker: jobs run at once per process, and how long a silent worker is presumed dead.
    worker_concurrency: int = 4
    heartbeat_seconds: float = 5.0
    stalled_after_seconds: float = 30.0
    # Months of partitions created ahead of time (a default partition catches the rest).
    partitions_ahead: int = 3
    # Who may call our /gib endpoint (docs/security.md). Nothing configured: nobody.
    # A token GİB (or the simulator) presents as ``Authorization: Bearer <token>``.
    gib_inbound_token: SecretStr | None = None
    # Mutual TLS: a second listener serving only /gib, for callers whose client certificate
    # chains to ``gib_inbound_client_ca`` (the production set-up for GİB).
    gib_inbound_tls_port: int | None = None
    gib_inbound_tls_cert: Path | None = None  # this server's certificate (PEM) ...
    gib_inbound_tls_key: Path | None = None  # ... and its key
    gib_inbound_client_ca: Path | None = None  # the CA(s) GİB's client certificate chains to
    # Anyone may call /gib (a simulator on loopback, never production).
    gib_inbound_open: bool = False
    # Certificates (PEM: a file, or a folder of them) that signatures on documents delivered
    # to us must chain to: Kamu SM's roots in production. None configured: /gib takes nothing.
    gib_trust_anchors: Path | None = None
    # GİB's own system responses (S_APR) pushed to us must carry GİB's seal (else they are
    # set aside and the status is learnt by asking GİB).
    gib_system_response_seal: bool = True
    # The installation's own seal, the integrator's mali mühür (PKCS#12), and a file holding its
    # password: it signs for the tenants without a seal of their own (docs/signing.md).
    integrator_seal: Path | None = None
    integrator_seal_password_file: Path | None = None
    # VKNs of other integrators' seals (comma separated): a document signed with one on its
    # issuer's behalf is a warning (sig-integrator); the installation's own seal counts too.
    integrator_vkns: Annotated[tuple[str, ...], NoDecode] = ()
    # The development CA that test seals are issued by (``tenant create --test-seal``, the
    # demo, the simulator's GİB seal): a PEM certificate with its key beside it (``.key``).
    # Empty: ``data_dir/test-ca.crt``, made on first use.
    test_ca: Path | None = None
    # GİB's document service (EFaturaMerkez sendDocument / getApplicationResponse) and where
    # its registered-user lists are published; empty: nothing is sent.
    gib_url: str | None = None
    gib_user_list_url: str | None = None  # the folder holding newUser{Pk,Gb}Listxml.zip
    gib_token: SecretStr | None = None  # the simulator's integrator token
    gib_client_cert: Path | None = None  # the real GİB: a client certificate (PEM) ...
    gib_client_key: Path | None = None  # ... and its key
    gib_timeout_seconds: float = 60.0
    # The domain of the aliases ``gib enrol`` opens when none are named:
    # urn:mail:pk<VKN>@<domain> and urn:mail:gb<VKN>@<domain>.
    gib_alias_domain: str = Field(
        default="entegrator.local", pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,200}[A-Za-z0-9])?$"
    )
    # GİB's e-Arşiv report service (EArsivWs: sendDocumentFile / getBatchStatus); empty: the
    # reports are prepared and stored but not sent. The simulator's token is ``gib_token``.
    earsiv_url: str | None = None
    # The report's preparer (hazirlayan): the integrator's VKN. Its seal signs every report:
    # the active seal of the tenant of this installation with that VKN. Empty: each taxpayer
    # prepares its own report, signed with its own seal.
    earsiv_preparer_vkn: str | None = Field(default=None, pattern=r"^[0-9]{10,11}$")
    # Where a buyer sees an e-Arşiv invoice (the report's faturaUrl): ``{ettn}`` is replaced.
    earsiv_view_url: str | None = None
    # Entries per report at most; more make further parts.
    earsiv_max_entries: int = Field(default=5000, ge=1, le=100_000)
    # The simulator: GİB's e-Arşiv report schema (EArsiv.xsd, with the schemas it imports
    # beside it) that reports are checked against; empty: the schema is not checked.
    gibsim_earsiv_xsd: Path | None = None
    # Webhooks to ERPs on loopback or private networks (refused by default).
    webhook_allow_private: bool = False
    # One delivery, all of it (connecting, sending, the answer), at most this long; under the
    # two-minute lease a delivery holds.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Deliveries at once per worker process (the ``webhooks`` queue, apart from ``documents``),
    # and per tenant across the installation.
    webhook_concurrency: int = Field(default=4, ge=1)
    webhook_tenant_concurrency: int = Field(default=2, ge=1)
    # Delivery of e-Arşiv invoices to their buyers (docs/earsiv.md, "Delivery to the buyer").
    # An SMTP server: smtp://[user:password@]host[:587] (STARTTLS) or smtps://host[:465] (TLS
    # from the start); user and password percent-encoded in the URL, or in the two settings
    # below (which win). Empty: every message is written as an .eml file to data_dir/outbox.
    smtp_url: SecretStr | None = None
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    # smtp:// must switch to TLS (STARTTLS); false only for a relay on loopback.
    smtp_starttls: bool = True
    # CA certificates (PEM) the SMTP server's certificate must chain to; empty: the system's.
    smtp_ca_file: Path | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    # The sender of the tenants that set no address of their own.
    mail_from: str = Field(default="e-fatura@localhost", pattern=r"^[^\s@<>]+@[^\s@<>]+$")
    # Where buyers open the public view of their invoice (/e/<token>): the address of the API
    # as the Internet sees it.
    public_base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s]+$")
    # A failed delivery is tried again after this many seconds, doubling up to the cap, at
    # most this many times in all.
    delivery_retry_seconds: float = Field(default=60.0, gt=0)
    delivery_retry_cap_seconds: float = Field(default=3600.0, gt=0)
    delivery_max_attempts: int = Field(default=12, ge=1)
    # An SMS provider reached over HTTP (a POST of JSON with a bearer token); empty: no SMS.
    sms_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    sms_token: SecretStr | None = None
    # Pricing and metering (docs/billing.md). ``off``: no usage is recorded and no credit
    # checked (issuing never answers 402).
    metering: bool = True
    # Credits a prepaid tenant may issue beyond a zero balance.
    billing_grace_credits: int = Field(default=0, ge=0)
    # Low-credit warnings, in percent of the balance right after the last top-up.
    billing_warn_percents: str = Field(
        default="20,5", pattern=r"^\s*[0-9]{1,3}(\s*,\s*[0-9]{1,3})*\s*$"
    )
    # The integrator as a tenant of this installation (its VKN): it issues the monthly
    # invoices to the other tenants (``entegrator billing run``); empty: statements only.
    billing_tenant: str | None = Field(default=None, pattern=r"^[0-9]{10,11}$")
    # The series of those invoices.
    billing_series: str = Field(default="ENT", pattern=r"^[A-Z0-9]{3}$")
    # The operator's key for /api/v1/admin (installation level, not a tenant's key); empty:
    # the operator API is closed.
    admin_key: SecretStr | None = None
    # Validation, as for `entegrator validate` (docs/validation.md).
    id_checksum: str = Field(default="warning", pattern="^(warning|error)$")
    rules_pack: Path | None = None
    # Warn (/readyz, `entegrator rules info`) when the rule pack in force is older than this
    # many days, counted from its schematron's date (0: never). GİB republishes a few times a year.
    rules_max_age_days: int = Field(default=365, ge=0)
    schematron_engine: str = Field(default="auto", pattern="^(auto|compiled|saxon)$")
    # Translated rule packs, kept between processes (safe to delete).
    cache_dir: Path = DEFAULT_CACHE_DIR

    @field_validator("rules_pack", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        # ``ENTEGRATOR_RULES_PACK=`` means the default pack, as for `entegrator validate`.
        return None if value == "" else value

    @field_validator("cache_dir", "rules_pack")
    @classmethod
    def _expand_home(cls, value: Path | None) -> Path | None:
        # The core uses paths as given; ``~`` in a setting is expanded here, at the edge.
        return value.expanduser() if value is not None else None

    @field_validator("integrator_vkns", mode="before")
    @classmethod
    def _vkn_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value

    @field_validator("integrator_vkns")
    @classmethod
    def _vkns_valid(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        wrong = [v for v in value if not (v.isdigit() and len(v) == 10)]
        if wrong:
            raise ValueError(f"not a 10-digit VKN: {', '.join(wrong)}")
        return value

    def rules_dir(self) -> Path:
        """Where installed rule packs live (``entegrator rules install``)."""
        return self.data_dir / "rules"

    def test_ca_path(self) -> Path:
        return self.test_ca if self.test_ca is not None else self.data_dir / "test-ca.crt"

    def key_bytes(self) -> bytes:
        """The 32-byte data-encryption key (from the setting, or the generated key file)."""
        if self.secret_key is not None:
            raw = base64.b64decode(self.secret_key.get_secret_value())
            if len(raw) != 32:
                raise ValueError("ENTEGRATOR_SECRET_KEY must be 32 bytes, base64-encoded")
            return raw
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
            try:  # the first process to link wins; the others read its key
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        raw = base64.b64decode(path.read_text().strip())
        if len(raw) != 32:
            raise ValueError(f"{path} must hold 32 bytes, base64-encoded")
        return raw


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings()
