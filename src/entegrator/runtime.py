"""The process-wide services of the platform, built once from the settings, and the health
of the worker the process runs (read by `/readyz`, kept by the supervisor)."""

from __future__ import annotations

import datetime as dt
import enum
import threading
from dataclasses import dataclass, field
from functools import cached_property

from cryptography import x509

from entegrator.clock import Clock, utc_now
from entegrator.config import Settings
from entegrator.rules import (
    Engine,
    PackSchedule,
    PackWarning,
    RulePack,
    ScheduledValidator,
    Severity,
    ValidationSettings,
)
from entegrator.services.accounts import Accounts
from entegrator.services.answers import AnswerService
from entegrator.services.archive import ArchiveImportService
from entegrator.services.billing import BillingService, Meter
from entegrator.services.deliveries import DeliveryService
from entegrator.services.despatches import DespatchService
from entegrator.services.earsiv_reports import EarsivConfig, EarsivReports
from entegrator.services.enrolment import EnrolmentService
from entegrator.services.exports import ExportService
from entegrator.services.imports import ImportService, Limits
from entegrator.services.inbound import InboundService
from entegrator.services.invoices import InvoiceService
from entegrator.services.reports import ReportService
from entegrator.services.rulepacks import PackStore
from entegrator.services.seals import SealKeys, load_integrator_seal
from entegrator.services.sending import SendingService
from entegrator.services.signing import SigningService
from entegrator.services.trust import development_ca, load_anchors
from entegrator.services.webhooks import WebhookService
from entegrator.signing.certs import SigningKey, TestCA, identity_of
from entegrator.store import Database, resolve_url

__all__ = ["Runtime", "WorkerHealth", "WorkerStatus"]


class WorkerStatus(enum.StrEnum):
    STARTING = "starting"
    """Connecting to the database; no job is taken yet."""
    RUNNING = "running"
    """Taking jobs."""
    STOPPING = "stopping"
    """Finishing its running jobs before it stops (on its own, or because the process stops)."""
    RESTARTING = "restarting"
    """Stopped on its own (the database went away, say); waiting to start again."""
    STOPPED = "stopped"
    """Stopped because the process is stopping."""


@dataclass
class WorkerHealth:
    """Where the worker of this process stands (read by ``/readyz``)."""

    status: WorkerStatus = WorkerStatus.STARTING
    restarts: int = 0
    registration: int | None = None
    """The queue's id of a run that ended without removing its registration (the database was
    away): the next run removes it, so that its unfinished jobs are queued again at once."""


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    # What every service asks the time of (tests and replays give their own).
    clock: Clock = utc_now
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(settings, resolve_url(settings.database_url, settings.data_dir))

    @cached_property
    def db(self) -> Database:
        return Database(self.database_url, pool_size=self.settings.pool_size)

    @cached_property
    def rule_packs(self) -> PackStore:
        """The rule packs installed in the data directory (``entegrator rules install``)."""
        return PackStore(self.settings.rules_dir(), clock=self.clock)

    def rule_schedule(self) -> PackSchedule:
        """The baseline pack and the installed ones, by the day each takes effect."""
        s = self.settings
        baseline = RulePack.load(str(s.rules_pack) if s.rules_pack else None)
        return self.rule_packs.schedule(baseline)

    def validation_settings(self) -> ValidationSettings:
        s = self.settings
        return ValidationSettings(
            clock=self.clock,
            id_checksum=Severity.ERROR if s.id_checksum == "error" else Severity.WARNING,
            engine=Engine(s.schematron_engine),
            cache_dir=s.cache_dir,
            integrators=self.integrators,
        )

    @cached_property
    def validator(self) -> ScheduledValidator:
        """Validates with the rule pack in force on the day (a pack installed for a later
        day takes over on that day, without a restart; installing one needs a restart)."""
        validator = ScheduledValidator(self.rule_schedule(), settings=self.validation_settings())
        validator.warm_up(("invoice",))
        return validator

    def rules_status(self) -> tuple[dict[str, str], list[PackWarning]]:
        """The pack in force today and the warnings about packs (``/readyz``)."""
        validator = self.validator
        today = validator.current_day()
        schedule = validator.schedule
        warnings = schedule.warnings(today, max_age_days=self.settings.rules_max_age_days)
        return schedule.in_force(today).pack.identity(), warnings

    @cached_property
    def integrator_seal(self) -> SigningKey | None:
        """The installation's own seal (``ENTEGRATOR_INTEGRATOR_SEAL``), if configured."""
        path = self.settings.integrator_seal
        if path is None:
            return None
        return load_integrator_seal(path, self.settings.integrator_seal_password_file)

    @cached_property
    def integrators(self) -> frozenset[str]:
        """VKNs of integrators' seals: this installation's own and the configured others."""
        own = identity_of(self.integrator_seal.certificate) if self.integrator_seal else None
        return frozenset(self.settings.integrator_vkns) | ({own} if own else set())

    @cached_property
    def test_ca(self) -> TestCA:
        """The development CA test seals are issued by (shared through its files)."""
        return development_ca(self.settings.test_ca_path())

    @cached_property
    def trust_anchors(self) -> tuple[x509.Certificate, ...]:
        """What signatures on documents delivered to us must chain to; empty: none set."""
        path = self.settings.gib_trust_anchors
        return load_anchors(path) if path is not None else ()

    @cached_property
    def meter(self) -> Meter | None:
        """Usage metering (``ENTEGRATOR_METERING``; None when off)."""
        s = self.settings
        if not s.metering:
            return None
        percents = tuple(int(p) for p in s.billing_warn_percents.split(",") if p.strip())
        return Meter(grace=s.billing_grace_credits, thresholds=percents)

    @cached_property
    def invoices(self) -> InvoiceService:
        return InvoiceService(
            self.db,
            self.validator,
            route=bool(self.settings.gib_user_list_url),
            meter=self.meter,
            clock=self.clock,
        )

    @cached_property
    def billing(self) -> BillingService:
        s = self.settings
        return BillingService(
            self.db,
            self.meter or Meter(enabled=False),
            invoices=self.invoices,
            billing_tenant_vkn=s.billing_tenant,
            series=s.billing_series,
            clock=self.clock,
        )

    @cached_property
    def imports(self) -> ImportService:
        """Bulk imports (XLSX, CSV, zip) issued through ``invoices``."""
        s = self.settings
        limits = Limits(
            max_entries=s.import_max_entries,
            max_uncompressed=s.import_max_uncompressed_bytes,
            max_ratio=s.import_max_ratio,
            max_entry_bytes=self.validator.settings.max_bytes,
            max_rows=s.import_max_rows,
            max_lines=s.max_draft_lines,
        )
        return ImportService(self.db, self.invoices, limits, clock=self.clock)

    @cached_property
    def inbound(self) -> InboundService:
        return InboundService(
            self.db,
            self.validator,
            self.sending,
            trust=self.trust_anchors,
            integrators=self.integrators,
            require_gib_seal=self.settings.gib_system_response_seal,
            meter=self.meter,
            clock=self.clock,
        )

    @cached_property
    def seal_keys(self) -> SealKeys:
        return SealKeys(self.settings.key_bytes(), integrator=self.integrator_seal)

    @cached_property
    def signing(self) -> SigningService:
        return SigningService(
            self.db,
            self.seal_keys,
            wake_sender=bool(self.settings.gib_url),
            deliver_sms=bool(self.settings.sms_url),
            clock=self.clock,
        )

    @cached_property
    def deliveries(self) -> DeliveryService:
        """Invoices to their buyers: the SMTP server configured, else ``.eml`` files."""
        from entegrator.services.mail import EmlFolder, Mailer, SmtpMailer
        from entegrator.services.sms import HttpSmsProvider

        s = self.settings
        mailer: Mailer
        if s.smtp_url is not None:
            mailer = SmtpMailer(
                s.smtp_url.get_secret_value(),
                user=s.smtp_user,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                starttls=s.smtp_starttls,
                ca_file=s.smtp_ca_file,
                timeout=s.smtp_timeout_seconds,
            )
        else:
            mailer = EmlFolder(s.data_dir / "outbox")
        sms = None
        if s.sms_url:
            token = s.sms_token.get_secret_value() if s.sms_token else None
            sms = HttpSmsProvider(s.sms_url, token=token)
        return DeliveryService(
            self.db,
            mailer,
            sms=sms,
            mail_from=s.mail_from,
            public_base_url=s.public_base_url,
            retry_first=s.delivery_retry_seconds,
            retry_cap=s.delivery_retry_cap_seconds,
            max_attempts=s.delivery_max_attempts,
            clock=self.clock,
        )

    @cached_property
    def despatches(self) -> DespatchService:
        """e-İrsaliye: despatch advices and their receipt answers."""
        return DespatchService(
            self.db, self.validator, self.seal_keys, clock=self.clock, meter=self.meter
        )

    @cached_property
    def accounts(self) -> Accounts:
        """The web portal's users and sessions."""
        s = self.settings
        return Accounts(
            self.db,
            s.key_bytes(),
            idle=dt.timedelta(seconds=s.portal_session_idle_seconds),
            lifetime=dt.timedelta(seconds=s.portal_session_max_seconds),
            lockout_failures=s.portal_lockout_failures,
            lockout=dt.timedelta(seconds=s.portal_lockout_seconds),
            clock=self.clock,
        )

    @cached_property
    def answers(self) -> AnswerService:
        return AnswerService(self.db, self.seal_keys, clock=self.clock)

    @cached_property
    def enrolment(self) -> EnrolmentService:
        """The tenants' user-account requests at GİB, signed with the integrator seal."""
        return EnrolmentService(
            self.db,
            self.seal_keys,
            alias_domain=self.settings.gib_alias_domain,
            clock=self.clock,
        )

    @cached_property
    def sending(self) -> SendingService:
        return SendingService(self.db, self.settings, clock=self.clock)

    @cached_property
    def earsiv(self) -> EarsivReports:
        s = self.settings
        config = EarsivConfig(
            url=s.earsiv_url,
            token=s.gib_token.get_secret_value() if s.gib_token else None,
            preparer_vkn=s.earsiv_preparer_vkn,
            view_url=s.earsiv_view_url,
            max_entries=s.earsiv_max_entries,
            timeout=s.gib_timeout_seconds,
        )
        return EarsivReports(
            self.db,
            self.seal_keys,
            config,
            clock=self.clock,
            view_links=self.deliveries.public_urls,
        )

    @cached_property
    def webhooks(self) -> WebhookService:
        s = self.settings
        return WebhookService(
            self.db,
            s.key_bytes(),
            allow_private=s.webhook_allow_private,
            timeout=s.webhook_timeout_seconds,
            per_tenant=s.webhook_tenant_concurrency,
            clock=self.clock,
        )

    @cached_property
    def reports(self) -> ReportService:
        return ReportService(self.db)

    @cached_property
    def exports(self) -> ExportService:
        return ExportService(self.db)

    @cached_property
    def archive(self) -> ArchiveImportService:
        return ArchiveImportService(self.db, clock=self.clock)

    def close(self) -> None:
        if "sending" in self.__dict__:
            self.sending.close()
        if "earsiv" in self.__dict__:
            self.earsiv.close()
        if "db" in self.__dict__:
            self.db.dispose()
