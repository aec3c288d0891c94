"""The e-Arşiv report (e-Arşiv raporu): prepared per taxpayer, signed, sent to GİB, followed.

``earsiv-and-others.md`` §2. Every signed e-Arşiv invoice and every cancellation reaches GİB
in a report, by the end of the day after the invoice reached the platform (Istanbul time). A
report is prepared (:meth:`EarsivReports.prepare`) in one transaction under the tenant's
report lock: the entries not yet carried by any report, the next part number of the period
(``bolumNo``; the period is the month, each report a new part [unconfirmed reading]), the
report built from the stored signed XML, signed by the preparer (``hazirlayan``) and zipped,
stored with the name of every entry it carries. Sending (:meth:`send_pending`) then sends the
stored bytes, again and again if GİB is away, so that nothing is reported twice and nothing
is left out; :meth:`poll` follows ``getBatchStatus`` to success (30), which moves the invoices
to ``reported``, or to a refusal, which frees the entries for the next report.

The preparer (``hazirlayan``) and its seal, in this order: ``earsiv_preparer_vkn`` when set
(the installation's integrator seal if it carries that VKN, else the active seal of the
tenant with that VKN); else the installation's integrator seal (``ENTEGRATOR_INTEGRATOR_SEAL``)
and its VKN; else the taxpayer itself, with its own seal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from entegrator import lifecycle
from entegrator.clock import Clock, utc_now
from entegrator.documents.earsiv_report import (
    Cancellation,
    InvoiceEntry,
    ReportHeader,
    ReportReadError,
    build_report,
    invoice_entry,
    period_of,
    zip_report,
)
from entegrator.errors import EntegratorError
from entegrator.gib.earsiv import EArsivClient, EArsivFaultError
from entegrator.gib.transport import GibUnavailableError
from entegrator.lifecycle import DocumentStatus, backoff
from entegrator.services.seals import SealKeys
from entegrator.signing.certs import SigningKey
from entegrator.store import Database, documents, earsiv, repo, seals, tenants
from entegrator.store.ids import created_at

__all__ = [
    "DUPLICATE_REPORT",
    "ISTANBUL",
    "OVERDUE_EVENT",
    "EarsivConfig",
    "EarsivReports",
    "NoPreparerSealError",
    "istanbul_day",
]

log = logging.getLogger(__name__)

ISTANBUL = ZoneInfo("Europe/Istanbul")
LEASE = dt.timedelta(minutes=5)
# EArsivFault codes [unconfirmed: the simulator's; GİB's own list is not public]: the report
# number is known already (a resend of what GİB has), and the service is busy (try again).
DUPLICATE_REPORT = 102
BUSY = 103
OVERDUE_EVENT = "earsiv.overdue"


def istanbul_day(moment: dt.datetime) -> dt.date:
    """The Istanbul calendar day of an aware moment.

    >>> istanbul_day(dt.datetime(2026, 11, 24, 20, 59, tzinfo=dt.UTC))
    datetime.date(2026, 11, 24)
    >>> istanbul_day(dt.datetime(2026, 11, 24, 21, 1, tzinfo=dt.UTC))
    datetime.date(2026, 11, 25)
    """
    return moment.astimezone(ISTANBUL).date()


class NoPreparerSealError(EntegratorError):
    code = "EARSIV_NO_PREPARER_SEAL"
    message_tr = "e-Arşiv raporunu imzalayacak mühür yok (hazırlayan {preparer})"
    message_en = "No seal to sign the e-Arşiv report with (preparer {preparer})"
    http_status = 409
    exit_code = 2


# (connection, tenant, documents) → the public address where the buyer sees each invoice.
ViewLinks = Callable[[Connection, uuid.UUID, Sequence[uuid.UUID]], dict[uuid.UUID, str]]
# Entries are read this many invoices at a time: a few statements per chunk, whatever the
# size of the day, and never the whole day's signed XML in memory at once.
CHUNK = 500


@dataclass(frozen=True)
class EarsivConfig:
    """What the report service needs of the settings."""

    url: str | None = None  # GİB's EArsivWs; None: prepared, not sent
    token: str | None = None  # the simulator's bearer token
    preparer_vkn: str | None = None  # hazirlayan; None: the taxpayer itself
    view_url: str | None = None  # faturaUrl, with {ettn}
    max_entries: int = 5000
    timeout: float = 60.0


@dataclass(frozen=True)
class Outcome:
    prepared: int
    sent: int
    settled: int


class EarsivReports:
    def __init__(
        self,
        db: Database,
        keys: SealKeys,
        config: EarsivConfig,
        *,
        client: EArsivClient | None = None,
        clock: Clock = utc_now,
        view_links: ViewLinks | None = None,
    ) -> None:
        self.db = db
        self.keys = keys
        self.config = config
        self.clock = clock
        self._client = client
        # faturaUrl: the configured template (``view_url``) when set, else the invoice's own
        # public view page (``/e/<token>``, the page its e-mail links to).
        self._view_links = view_links

    @property
    def configured(self) -> bool:
        return self._client is not None or bool(self.config.url)

    @property
    def client(self) -> EArsivClient:
        if self._client is None:
            if not self.config.url:
                raise GibUnavailableError(detail="ENTEGRATOR_EARSIV_URL is not set")
            self._client = EArsivClient.over_http(
                self.config.url, token=self.config.token, timeout=self.config.timeout
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- preparing -------------------------------------------------------------------------

    def prepare(self, tenant_id: uuid.UUID, *, through: dt.date) -> list[uuid.UUID]:
        """Prepare reports for everything of days up to ``through`` no report carried yet
        (one report per month and per ``max_entries``); the new reports' ids."""
        made: list[uuid.UUID] = []
        while (report_id := self._prepare_one(tenant_id, through)) is not None:
            made.append(report_id)
        return made

    def _prepare_one(self, tenant_id: uuid.UUID, through: dt.date) -> uuid.UUID | None:
        limit = self.config.max_entries
        with self.db.tenant(tenant_id) as conn:
            earsiv.lock_tenant(conn, tenant_id)
            invoices = earsiv.unreported_invoices(conn, tenant_id, through=through, limit=limit)
            cancels = earsiv.unreported_cancellations(conn, tenant_id, through=through, limit=limit)
            if not invoices and not cancels:
                return None
            # The earliest month first: a report covers one period.
            month = min(e.day for e in (*invoices, *cancels)).replace(day=1)
            invoices = [e for e in invoices if e.day.replace(day=1) == month]
            cancels = [e for e in cancels if e.day.replace(day=1) == month]
            entries = self._entries(conn, tenant_id, invoices)
            if not entries and not cancels:
                return None  # only unreadable invoices are left: logged, and overdue
            taxpayer = tenants.get_tenant(conn, tenant_id).vkn
            preparer = self.config.preparer_vkn or self._integrator_vkn() or taxpayer
            seal = self._seal(conn, tenant_id, preparer)
            days = [e.day for e, _ in entries] + [c.day for c in cancels]
            period_start, period_end = period_of(month)
            header = ReportHeader(
                taxpayer=taxpayer,
                preparer=preparer,
                report_no=str(uuid.uuid4()),
                period_start=period_start,
                period_end=period_end,
                part_start=min(days),
                part_end=max(days),
                part_no=earsiv.next_part(conn, tenant_id, month),
            )
            report_id = self._store(conn, tenant_id, header, entries, cancels, seal)
        log.info("e-Arşiv report %s prepared (tenant %s)", report_id, tenant_id)
        return report_id

    def _entries(
        self, conn: Connection, tenant_id: uuid.UUID, invoices: list[earsiv.Unreported]
    ) -> list[tuple[earsiv.Unreported, InvoiceEntry]]:
        out = []
        for start in range(0, len(invoices), CHUNK):
            chunk = invoices[start : start + CHUNK]
            # The query asks for signed ones: every item has its signed XML.
            signed = repo.get_blobs(conn, tenant_id, [i.signed_sha256 or b"" for i in chunk])
            if self.config.view_url or self._view_links is None:
                urls = {i.document_id: self._url(i.ettn or "") for i in chunk}
            else:
                urls = self._view_links(conn, tenant_id, [i.document_id for i in chunk])
            for item in chunk:
                ettn = item.ettn or ""
                try:
                    entry = invoice_entry(
                        signed[item.signed_sha256 or b""],
                        file_name=f"{ettn}.xml",
                        url=urls[item.document_id],
                    )
                except ReportReadError as exc:
                    log.error("e-Arşiv invoice %s cannot be reported: %s", item.number, exc.text_en)
                    continue
                out.append((item, entry))
        return out

    def _url(self, ettn: str) -> str:
        template = self.config.view_url
        return template.replace("{ettn}", ettn) if template else ""

    def _integrator_vkn(self) -> str | None:
        """The VKN of the installation's integrator seal, if one is configured."""
        integrator = self.keys.integrator
        return integrator.identity if integrator is not None else None

    def _seal(self, conn: Connection, tenant_id: uuid.UUID, preparer: str) -> SigningKey:
        if preparer == self._integrator_vkn():
            assert self.keys.integrator is not None  # noqa: S101 - _integrator_vkn said so
            return self.keys.integrator
        if preparer == tenants.get_tenant(conn, tenant_id).vkn:
            seal = self.keys.get(conn, tenant_id, seals.active_seal_id(conn, tenant_id))
        else:
            with self.db.system() as admin:
                owner = tenants.find_tenant(admin, vkn=preparer)
            seal = None
            if owner is not None:
                with self.db.tenant(owner) as other:
                    seal = self.keys.get(other, owner, seals.active_seal_id(other, owner))
        if seal is None:
            raise NoPreparerSealError(preparer=preparer)
        return seal

    def _store(  # noqa: PLR0917 - a report's parts
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        header: ReportHeader,
        entries: list[tuple[earsiv.Unreported, InvoiceEntry]],
        cancels: list[earsiv.Unreported],
        seal: SigningKey,
    ) -> uuid.UUID:
        from entegrator.signing import sign

        unsigned = build_report(
            header,
            [entry for _, entry in entries],
            [Cancellation(c.number, c.day, c.total or "0") for c in cancels],
        )
        signed = sign(unsigned, seal, signing_time=self.clock())
        report_id = uuid.UUID(header.report_no)
        earsiv.insert_report(
            conn,
            tenant_id,
            report_id=report_id,
            period=header.period_start,
            part=header.part_no,
            part_start=header.part_start,
            part_end=header.part_end,
            preparer=header.preparer,
            invoices=len(entries),
            cancellations=len(cancels),
            xml=signed,
            xml_sha256=hashlib.sha256(signed).digest(),
            zip_data=zip_report(header.report_no, signed),
        )
        earsiv.insert_items(
            conn, tenant_id, report_id, "fatura", [(i.document_id, i.number) for i, _ in entries]
        )
        earsiv.insert_items(
            conn, tenant_id, report_id, "iptal", [(c.document_id, c.number) for c in cancels]
        )
        return report_id

    # -- sending and following ----------------------------------------------------------------

    def send_pending(self, tenant_id: uuid.UUID) -> int:
        """Send the tenant's pending reports that are due; how many GİB took."""
        if not self.configured:
            return 0
        sent = 0
        while True:
            with self.db.tenant(tenant_id) as conn:
                due = earsiv.lease_next_due(conn, tenant_id, lease=LEASE)
            if due is None:
                return sent
            status, code, error = self._send(due)
            with self.db.tenant(tenant_id) as conn:
                earsiv.record_attempt(
                    conn,
                    tenant_id,
                    due.report_id,
                    status=status,
                    error=error,
                    gib_code=code,
                    retry_after_seconds=backoff(due.attempts, first=30.0, cap=3600.0),
                )
                if status == "failed":
                    earsiv.release_items(conn, tenant_id, due.report_id)
            sent += status == "sent"
            if status == "pending":
                return sent  # GİB is away: the rest waits for the retry too

    def _send(self, due: earsiv.DueReport) -> tuple[str, int | None, str | None]:
        try:
            self.client.send(f"{due.report_id}.zip", due.zip)
        except EArsivFaultError as exc:
            if exc.fault_code == DUPLICATE_REPORT:  # GİB has it: a resend after a lost answer
                return "sent", None, None
            if exc.fault_code == BUSY:
                return "pending", None, f"{exc.fault_code}: {exc.msg}"
            log.warning("e-Arşiv report %s refused: %s %s", due.report_id, exc.fault_code, exc.msg)
            return "failed", exc.fault_code, exc.msg
        except GibUnavailableError as exc:
            return "pending", None, exc.text_en
        return "sent", None, None

    def poll(self, tenant_id: uuid.UUID) -> int:
        """Ask GİB about every report it has and has not settled; how many were settled."""
        if not self.configured:
            return 0
        with self.db.tenant(tenant_id) as conn:
            waiting = earsiv.reports_to_poll(conn, tenant_id)
        settled = 0
        for report_id in waiting:
            try:
                answer = self.client.status(str(report_id))
            except (GibUnavailableError, EntegratorError) as exc:
                log.warning("status of e-Arşiv report %s: %s", report_id, exc)
                continue
            if answer.pending:
                continue
            with self.db.tenant(tenant_id) as conn:
                settled += self._settle(
                    conn, tenant_id, report_id, answer.code, answer.description, answer.succeeded
                )
        return settled

    def _settle(  # noqa: PLR0917 - GİB's answer about one report
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        report_id: uuid.UUID,
        code: int,
        text: str,
        succeeded: bool,
    ) -> bool:
        status = "succeeded" if succeeded else "failed"
        if not earsiv.settle_report(
            conn, tenant_id, report_id, status=status, gib_code=code, gib_text=text
        ):
            return False
        if not succeeded:
            freed = earsiv.release_items(conn, tenant_id, report_id)
            log.warning(
                "e-Arşiv report %s refused (%s %s): %d entries freed", report_id, code, text, freed
            )
            return True
        for kind, document_id, _number in earsiv.items_of(conn, tenant_id, report_id):
            self._reported(conn, tenant_id, document_id, kind, report_id)
        return True

    def _reported(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        document_id: uuid.UUID,
        kind: str,
        report_id: uuid.UUID,
    ) -> None:
        state = documents.lock_state(conn, tenant_id, document_id, created_at(document_id))
        if state is None:  # pragma: no cover - items name the tenant's documents
            return
        data = {"report": str(report_id), "code": 30}
        if kind == "fatura" and state.status == DocumentStatus.QUEUED:
            lifecycle.move(
                conn,
                tenant_id,
                state,
                DocumentStatus.REPORTED,
                happened=[("earsiv-reported", "reported", data)],
                actor="gib",
                now=self.clock(),
                code="30",
                detail="e-Arşiv raporu GİB'de / in an e-Arşiv report GİB accepted",
            )
            return
        # A cancelled invoice, or a cancellation: an event, the status stays.
        event = "earsiv-reported" if kind == "fatura" else "earsiv-cancellation-reported"
        lifecycle.move(
            conn,
            tenant_id,
            state,
            DocumentStatus(state.status),
            happened=[(event, state.status, data)],
            actor="gib",
            now=self.clock(),
            code=state.status_code,
            notify=False,
        )

    # -- all of it ------------------------------------------------------------------------------

    def report(self, tenant_id: uuid.UUID, *, through: dt.date) -> Outcome:
        """Prepare, send and follow (once) the tenant's reports of days up to ``through``."""
        made = self.prepare(tenant_id, through=through)
        sent = self.send_pending(tenant_id)
        return Outcome(len(made), sent, self.poll(tenant_id))

    def run_due(self) -> int:
        """For every tenant with something to report of days before today (Istanbul), or a
        report to send or follow: prepare, send and follow; how many reports were prepared."""
        through = istanbul_day(self.clock()) - dt.timedelta(days=1)
        with self.db.system() as conn:
            due = earsiv.tenants_due(conn, through=through)
        prepared = 0
        for tenant_id in due:
            try:
                prepared += self.report(tenant_id, through=through).prepared
            except EntegratorError as exc:
                log.error("e-Arşiv report of tenant %s: %s", tenant_id, exc.text_en)
        return prepared

    def warn_overdue(self) -> dict[uuid.UUID, int]:
        """Tell each tenant with overdue e-Arşiv invoices (webhook ``earsiv.overdue``, a
        warning in the log); the counts."""
        late = self.overdue()
        for tenant_id, count in late.items():
            log.warning(
                "tenant %s: %d e-Arşiv invoices past their report deadline", tenant_id, count
            )
            with self.db.tenant(tenant_id) as conn:
                earsiv.notify_tenant(
                    conn,
                    tenant_id,
                    OVERDUE_EVENT,
                    {
                        "event": OVERDUE_EVENT,
                        "at": self.clock().isoformat(),
                        "overdue_invoices": count,
                        "deadline": "the end of the day after the invoice (Europe/Istanbul)",
                    },
                )
        return late

    def overdue(self) -> dict[uuid.UUID, int]:
        """Per tenant, the e-Arşiv invoices past their deadline (the end of the day after the
        invoice, Istanbul time) that no report GİB accepted carries."""
        before = istanbul_day(self.clock()) - dt.timedelta(days=1)
        with self.db.system() as conn:
            return earsiv.overdue_invoices(conn, before=before)
