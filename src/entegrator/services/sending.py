"""Sending signed invoices to GİB and following them to their final status.

For each document in ``queued`` (signed, waiting): the buyer is looked up in GİB's user list
(refreshed into ``gib_users``); a registered buyer gets an envelope (SENDERENVELOPE from the
tenant's GB alias to the buyer's PK alias), stored with its id *before* the first attempt so
that every retry sends the very same envelope and GİB's duplicate check keeps it to one.
Invoices are routed when they are issued (``InvoiceService``): e-Arşiv invoices are never
enveloped and wait with ``status_code`` ``earsiv-report`` for the e-Arşiv report; an e-Fatura
whose buyer has left GİB's list since waits with ``not-registered``.

Sending follows GİB's answers: accepted → ``sent`` (1000); GİB unreachable or a transient
fault (2002, 2003, 2005) → tried again with the pause doubling; fault 2001 (the envelope is
already there) → ``sent``; any other fault → ``failed``. ``poll`` then asks GİB for the status
of what was sent and moves the document along the lifecycle (``gib.codes``): processing,
delivered (1300), rejected_by_gib (11xx), failed_delivery (1215/1230), with an event each time.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from entegrator import lifecycle
from entegrator.clock import Clock, utc_now
from entegrator.config import Settings
from entegrator.documents.authorities import GIB_DESPATCH_ALIAS
from entegrator.documents.response import ResponseParty, build_system_response
from entegrator.envelope.sbdh import Envelope, EnvelopeType
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.errors import EntegratorError
from entegrator.gib.client import GibClient, GibUnavailableError
from entegrator.gib.codes import fault as fault_info
from entegrator.gib.codes import status as status_info
from entegrator.gib.soap import GibFaultError
from entegrator.gib.userlist import User
from entegrator.lifecycle import DocumentKind, DocumentStatus, backoff
from entegrator.store import Database, aliases, documents, gib_users, outbound, repo
from entegrator.store.ids import created_at

__all__ = ["GTB_ALIASES", "GTB_VKN", "SEND_TASK", "SendingService", "wake_sender"]

log = logging.getLogger(__name__)

_LOGGED_WARNINGS = 20  # of a user list's oddities, logged one by one; the rest are counted

SEND_TASK = "entegrator.send_pending"
# Export and tax-free invoices go to the Ministry of Trade (GTB, VKN 1460415308) at fixed
# aliases, whatever the user list says [rule].
GTB_VKN = "1460415308"
GTB_ALIASES = {
    "IHRACAT": "urn:mail:ihracatpk@gtb.gov.tr",
    "OZELFATURA": "urn:mail:ihracatpk@gtb.gov.tr",
    "YOLCUBERABERFATURA": "urn:mail:yolcuberaberpk@gtb.gov.tr",
}
LEASE = dt.timedelta(minutes=5)
# GİB's answers meaning the receiver's alias is not (or no longer) its mailbox: 1181 unknown
# alias, 1172 not the receiver's or not active. GİB registered nothing: the invoice is sent
# again to the mailbox the list names now.
REROUTE_CODES = frozenset({1172, 1181})
# At most one fetch of GİB's whole list per this, for rerouting (the list is large; a move is
# rare and may wait a few minutes).
REROUTE_REFRESH_SECONDS = 300.0
# A registered user whose last mailbox closed this recently is taken to be moving between
# integrators: invoices to it stay e-Fatura and wait for its new mailbox.
MOVE_GRACE = dt.timedelta(days=3)
DESPATCH_ADVICE = "DespatchAdvice"  # the user list's document type of e-İrsaliye aliases


def wake_sender(conn: Connection, tenant_id: uuid.UUID) -> bool:
    return repo.wake(conn, SEND_TASK, tenant_id, lock=f"send:{tenant_id}")


@dataclass(frozen=True)
class Attempt:
    envelope_id: str
    document_id: uuid.UUID | None  # None for a system response
    outcome: str  # sent, retry, failed


class SendingService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        client: GibClient | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """``client``: how GİB is reached (by default over HTTP, from the settings; a test or
        a tool may hand in one over the simulator's in-process transport)."""
        self.db = db
        self.settings = settings
        self.clock = clock
        self._client: GibClient | None = client
        self._refreshed = float("-inf")  # when GİB's list was last fetched (monotonic)
        self.reroute_refresh_seconds = REROUTE_REFRESH_SECONDS

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.gib_url)

    @property
    def client(self) -> GibClient:
        if self._client is None:
            s = self.settings
            if not s.gib_url:
                raise GibUnavailableError(detail="ENTEGRATOR_GIB_URL is not set")
            self._client = GibClient.over_http(
                s.gib_url,
                token=s.gib_token.get_secret_value() if s.gib_token else None,
                cert=s.gib_client_cert,
                key=s.gib_client_key,
                timeout=s.gib_timeout_seconds,
            )
        return self._client

    # -- the user list ---------------------------------------------------------------------

    def refresh_user_list(self) -> int:
        """Fetch GİB's lists and replace the cached copy (one transaction); how many users."""
        base = self.settings.gib_user_list_url
        if not base:
            raise GibUnavailableError(detail="ENTEGRATOR_GIB_USER_LIST_URL is not set")
        users = self.client.user_list(base)
        now = self.clock()
        rows = [
            gib_users.GibUser(
                identifier=u.identifier,
                title=u.title,
                mailboxes=users.mailboxes(u.identifier, at=now),
                sender_units=users.sender_units(u.identifier, at=now),
                moving_since=_moving_since(u, now),
                despatch_mailboxes=users.mailboxes(u.identifier, DESPATCH_ADVICE, at=now),
                despatch_sender_units=users.sender_units(u.identifier, DESPATCH_ADVICE, at=now),
                first_created=u.first_created,
                account_type=u.account_type or None,
                aliases=[
                    {
                        "name": a.name,
                        "kind": a.kind,
                        "document": a.document,
                        "created": a.created.isoformat(),
                        "deleted": a.deleted.isoformat() if a.deleted else None,
                    }
                    for a in u.aliases
                ],
            )
            for u in users.users.values()
        ]
        from entegrator.services.enrolment import sync_aliases

        with self.db.system() as conn:
            gib_users.replace_users(conn, rows)
            # The tenants' own aliases asked for or closed: active or closed as GİB lists them.
            sync_aliases(conn, users, now=now)
        self._refreshed = time.monotonic()
        # GİB's list has entries of older forms (bare aliases, missing dates): kept and routed,
        # but an operator should know they are there.
        for warning in users.warnings[:_LOGGED_WARNINGS]:
            log.warning("user list: %s (%s)", warning.message_en, warning.xpath or "-")
        if users.warning_count:
            log.warning(
                "user list: %d users read, %d entries of an unusual form (kept), %d skipped",
                len(rows),
                users.warning_count,
                users.skipped,
            )
        return len(rows)

    # -- sending -----------------------------------------------------------------------------

    def queue_system_response(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        *,
        answered: Envelope,
        code: int,
        description: str,
    ) -> str:
        """Queue the S_APR answering an envelope delivered to us (in the caller's transaction):
        from the alias it came to, back to the sender's alias, through GİB."""
        xml = build_system_response(
            envelope_id=answered.id.upper(),
            envelope_type=answered.type.value,
            code=code,
            description=description,
            sender=ResponseParty(answered.receiver.identity, answered.receiver.title or "-"),
            receiver=ResponseParty(answered.sender.identity, answered.sender.title or "-"),
            envelope_date=answered.created.date(),
            issued=self.clock(),
        )
        packed = pack(
            build_envelope(
                [xml],
                sender_alias=answered.receiver.alias,
                receiver_alias=answered.sender.alias,
                type=EnvelopeType.SYSTEMENVELOPE,
                created=self.clock(),
            )
        )
        envelope_id = packed.name.removesuffix(".zip")
        outbound.insert_envelope(
            conn,
            tenant_id,
            envelope_id=envelope_id,
            kind="system",
            file_name=packed.name,
            md5=packed.md5,
            data=packed.data,
            receiver_alias=answered.sender.alias,
        )
        wake_sender(conn, tenant_id)
        return envelope_id

    def send_pending(self, tenant_id: uuid.UUID) -> int:
        """Envelope every waiting document, then send what is due; how many were sent."""
        if not self.configured:
            return 0
        while self._envelope_next(tenant_id):
            pass
        self.reroute(tenant_id)
        sent = 0
        while (attempt := self._send_next(tenant_id)) is not None:
            sent += attempt.outcome == "sent"
        return sent

    def _envelope_next(self, tenant_id: uuid.UUID) -> bool:
        with self.db.tenant(tenant_id) as conn:
            doc = documents.lock_next_queued(conn, tenant_id)
            if doc is None:
                return False
            state = doc.state
            if doc.profile == "EARSIVFATURA":
                # Not enveloped: an e-Arşiv invoice reaches GİB in the e-Arşiv report.
                documents.set_status_code(
                    conn,
                    tenant_id,
                    state.document_id,
                    state.created_at,
                    code="earsiv-report",
                    detail="e-Arşiv faturası: e-Arşiv raporunu bekliyor / e-Arşiv invoice: "
                    "waits for the e-Arşiv report",
                )
                return True
            if state.kind == DocumentKind.DESPATCH:
                return self._envelope_despatch(conn, tenant_id, doc)
            gb = aliases.first_alias(conn, tenant_id, kind="GB", document="Invoice")
            pk = GTB_ALIASES.get(doc.profile or "") or (
                gib_users.first_mailbox(conn, doc.receiver_id)
                if doc.receiver_id is not None
                else None
            )
            if (
                gb is not None
                and pk is None
                and doc.receiver_id is not None
                and gib_users.is_moving(conn, doc.receiver_id)
            ):
                # Between two integrators: enveloped when GİB lists its new mailbox.
                documents.set_status_code(
                    conn,
                    tenant_id,
                    state.document_id,
                    state.created_at,
                    code="awaiting-mailbox",
                    detail="Alıcı entegratör değiştiriyor: yeni posta kutusu bekleniyor / "
                    "the buyer is moving to another integrator: waiting for its new mailbox",
                )
                return True
            if gb is None or pk is None:
                code = "no-sender-alias" if gb is None else "not-registered"
                detail = (
                    "Hesabın GB etiketi yok / the tenant has no GB alias"
                    if gb is None
                    else "Alıcı e-Fatura kullanıcısı değil (e-Arşiv gerekir) / the buyer is "
                    "not an e-Fatura user (needs e-Arşiv)"
                )
                documents.set_status_code(
                    conn, tenant_id, state.document_id, state.created_at, code=code, detail=detail
                )
                return True
            self._queue_envelope(conn, tenant_id, doc, sender=gb, receiver=pk)
            return True

    def _envelope_despatch(
        self, conn: Connection, tenant_id: uuid.UUID, doc: documents.QueuedDocument
    ) -> bool:
        """A despatch advice: from the tenant's despatch GB alias to the receiver's despatch PK
        alias (the user list's DespatchAdvice aliases, never its invoice ones), or to GİB's
        despatch mailbox when the receiver is no e-İrsaliye user, the real receiver staying in
        the XML and the envelope."""
        state = doc.state
        gb = aliases.first_alias(conn, tenant_id, kind="GB", document=DESPATCH_ADVICE)
        listed = gib_users.is_registered(conn, doc.receiver_id or "")
        if gb is None or listed is None:
            documents.set_status_code(
                conn,
                tenant_id,
                state.document_id,
                state.created_at,
                code="no-sender-alias" if gb is None else "no-user-list",
                detail=(
                    "Hesabın e-İrsaliye GB etiketi yok / the tenant has no e-İrsaliye GB alias"
                    if gb is None
                    else "GİB kullanıcı listesi alınmadı / GİB's user list was never fetched"
                ),
            )
            return True
        pk = (
            gib_users.first_despatch_mailbox(conn, doc.receiver_id)
            if doc.receiver_id is not None
            else None
        ) or GIB_DESPATCH_ALIAS
        self._queue_envelope(conn, tenant_id, doc, sender=gb, receiver=pk)
        return True

    def _queue_envelope(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        doc: documents.QueuedDocument,
        *,
        sender: str,
        receiver: str,
    ) -> None:
        """Pack the signed document in a SENDERENVELOPE from ``sender`` to ``receiver``, queue
        it for GİB and mark the document ``enveloped`` (invoices and despatches alike)."""
        state = doc.state
        if doc.signed_sha256 is None:  # pragma: no cover - a queued document is signed
            raise LookupError(f"document {state.document_id} has no signed XML")
        signed = repo.get_blob(conn, tenant_id, doc.signed_sha256)
        packed = pack(
            build_envelope(
                [signed], sender_alias=sender, receiver_alias=receiver, created=self.clock()
            )
        )
        envelope_id = packed.name.removesuffix(".zip")
        outbound.insert_envelope(
            conn,
            tenant_id,
            envelope_id=envelope_id,
            kind="document",
            file_name=packed.name,
            md5=packed.md5,
            data=packed.data,
            receiver_alias=receiver,
            document_id=state.document_id,
            document_created=state.created_at,
        )
        self._transition(
            conn,
            tenant_id,
            state,
            "enveloped",
            "queued",
            {"envelope": envelope_id, "to": receiver},
            status_code="enveloped",
        )

    def _send_next(self, tenant_id: uuid.UUID) -> Attempt | None:
        with self.db.tenant(tenant_id) as conn:
            row = outbound.lease_next_due(conn, tenant_id, lease=LEASE)
        if row is None:
            return None
        outcome: str = "sent"
        code: int | None = 1000
        detail: str | None = None
        try:
            answer = self.client.send(row.file_name, row.data, row.md5)
            if answer.hash and answer.hash.lower() != row.md5.lower():
                outcome, code, detail = "retry", None, f"GİB computed MD5 {answer.hash}"
        except GibFaultError as exc:
            if exc.fault_code == 2001:  # GİB has it already: this is a resend
                outcome = "sent"
            elif fault_info(exc.fault_code).transient:
                outcome, code, detail = "retry", None, f"{exc.fault_code}: {exc.msg}"
            else:
                outcome, code, detail = "failed", exc.fault_code, exc.msg
        except GibUnavailableError as exc:
            outcome, code, detail = "retry", None, exc.text_en
        pause = backoff(row.attempts, first=5.0, cap=3600.0)
        state = {"sent": "sent", "retry": "pending", "failed": "failed"}[outcome]
        if row.kind not in ("document", "user") and state == "sent":
            state = "final"  # system responses and answers are not followed further
        with self.db.tenant(tenant_id) as conn:
            outbound.record_attempt(
                conn,
                tenant_id,
                row.envelope_id,
                status=state,
                gib_code=code,
                error=detail,
                retry_after_seconds=pause,
            )
            if outcome != "retry" and row.kind == "user":
                from entegrator.services.enrolment import record_answer

                if outcome == "sent":
                    record_answer(conn, tenant_id, row.envelope_id, 1000, None)
                else:
                    record_answer(conn, tenant_id, row.envelope_id, code or 1195, detail)
            if outcome != "retry" and row.kind == "document":
                doc = self._lock_document(conn, tenant_id, row.document_id)
                if outcome == "sent" and doc.status != "queued":
                    pass  # a resend GİB knew already (2001): the document moved on before
                elif outcome == "sent":
                    self._transition(
                        conn,
                        tenant_id,
                        doc,
                        "sent",
                        "sent",
                        {"envelope": row.envelope_id, "code": 1000},
                        status_code="1000",
                    )
                else:
                    self._transition(
                        conn,
                        tenant_id,
                        doc,
                        "failed",
                        "failed",
                        {"envelope": row.envelope_id, "fault": code, "message": detail},
                        status_code=str(code),
                        status_detail=detail,
                    )
        return Attempt(row.envelope_id, row.document_id, outcome)

    def wake_due(self) -> int:
        """Wake a sender for every tenant with an envelope whose retry is due, or a signed
        document not enveloped for a minute (a wake-up lost with a crash); how many."""
        if not self.configured:
            return 0
        with self.db.system() as conn:
            tenants = outbound.tenants_with_due_work(conn)
            return sum(wake_sender(conn, t) for t in tenants)

    def reroute(self, tenant_id: uuid.UUID) -> int:
        """Envelope again the invoices whose buyer moved: GİB refused their envelope because
        the alias is no longer the buyer's mailbox (1172/1181), or the buyer had no mailbox
        when they were enveloped (``awaiting-mailbox``, between one integrator's cancel and
        the other's enrolment). Each goes to the mailbox GİB's list names now; one still
        without a new mailbox waits for the next pass. GİB's list is fetched again first (at
        most every ``reroute_refresh_seconds``). How many were enveloped."""
        with self.db.tenant(tenant_id) as conn:
            waiting = outbound.documents_to_reroute(conn, tenant_id)
        if not waiting:
            return 0
        if (
            self.settings.gib_user_list_url
            and time.monotonic() - self._refreshed >= self.reroute_refresh_seconds
        ):
            try:
                self.refresh_user_list()
            except (GibUnavailableError, EntegratorError) as exc:
                log.warning("refreshing GİB's list for rerouting: %s", exc)
        done = 0
        for item in waiting:
            with self.db.tenant(tenant_id) as conn:
                doc = documents.lock_state(conn, tenant_id, item.document_id, item.created_at)
                pk = gib_users.first_mailbox(conn, item.receiver_id)
                if (
                    doc is not None
                    and pk is None
                    and item.failed_alias is None
                    and not gib_users.is_moving(conn, item.receiver_id)
                ):
                    # It never came back within MOVE_GRACE: no longer a registered user.
                    documents.set_status_code(
                        conn,
                        tenant_id,
                        item.document_id,
                        item.created_at,
                        code="not-registered",
                        detail="Alıcı artık e-Fatura kullanıcısı değil (e-Arşiv gerekir) / the "
                        "buyer is no longer an e-Fatura user (needs e-Arşiv)",
                    )
                    continue
                if doc is None or pk is None or pk == item.failed_alias:
                    continue
                if not outbound.still_to_reroute(conn, tenant_id, item.document_id):
                    continue  # another sender took it meanwhile
                gb = aliases.first_alias(conn, tenant_id, kind="GB", document="Invoice")
                if gb is None:
                    continue
                signed = repo.get_blob(conn, tenant_id, item.signed_sha256)
                packed = pack(
                    build_envelope(
                        [signed], sender_alias=gb, receiver_alias=pk, created=self.clock()
                    )
                )
                envelope_id = packed.name.removesuffix(".zip")
                outbound.insert_envelope(
                    conn,
                    tenant_id,
                    envelope_id=envelope_id,
                    kind="document",
                    file_name=packed.name,
                    md5=packed.md5,
                    data=packed.data,
                    receiver_alias=pk,
                    document_id=item.document_id,
                    document_created=item.created_at,
                )
                self._transition(
                    conn,
                    tenant_id,
                    doc,
                    "enveloped",
                    doc.status,
                    {"envelope": envelope_id, "to": pk, "rerouted": True},
                    status_code="enveloped" if doc.status == "queued" else doc.status_code,
                )
                done += 1
        return done

    # -- following ---------------------------------------------------------------------------

    def poll(self, tenant_id: uuid.UUID) -> int:
        """Ask GİB about every envelope still under way; how many changed."""
        if not self.configured:
            return 0
        with self.db.tenant(tenant_id) as conn:
            waiting = outbound.envelopes_to_poll(conn, tenant_id)
        changed = 0
        for envelope in waiting:
            try:
                facts = self.client.status(envelope.envelope_id)
            except (GibUnavailableError, GibFaultError, EntegratorError) as exc:
                log.warning("status of %s: %s", envelope.envelope_id, exc)
                continue
            code = facts.status_code
            if code is None or code == envelope.gib_code:
                continue
            with self.db.tenant(tenant_id) as conn:
                changed += self.settle(
                    conn, tenant_id, envelope.envelope_id, code, facts.description
                )
        return changed

    def settle(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        envelope_id: str,
        code: int,
        description: str | None,
    ) -> bool:
        """Record a status GİB reported for one of our envelopes (by ``poll`` or in a system
        response pushed to us), in the caller's transaction; False when it changes nothing.

        A status never moves the envelope back: GİB's 1200 arriving after the receiver's
        answer (1300), or a repeated report, is ignored."""
        row = outbound.lock_standing(conn, tenant_id, envelope_id)
        if row is None:
            log.warning("a status %s for an envelope we did not send: %s", code, envelope_id)
            return False
        info = status_info(code)
        if row.kind == "response" and code != row.gib_code and info.lifecycle == "rejected_by_gib":
            # GİB refused an answer we sent (a receipt after the 7 days, a second answer):
            # the document keeps its status, and says so.
            outbound.set_gib_status(
                conn, tenant_id, row.envelope_id, gib_code=code, status=row.status
            )
            self._answer_refused(conn, tenant_id, row, code, description)
            return True
        if row.status in ("final", "failed") or code == row.gib_code:
            return False
        if row.gib_code is not None and _rank(code) < _rank(row.gib_code):
            return False
        if row.kind == "document" and code in REROUTE_CODES:
            # The receiver's alias is no longer its mailbox (it moved to another integrator):
            # GİB registered nothing, so the invoice goes again, to the alias GİB's list names
            # now (``reroute``); this envelope is done.
            outbound.set_gib_status(
                conn, tenant_id, row.envelope_id, gib_code=code, status="failed"
            )
            doc = self._lock_document(conn, tenant_id, row.document_id)
            self._transition(
                conn,
                tenant_id,
                doc,
                "rerouting",
                doc.status,
                {"envelope": row.envelope_id, "code": code, "description": description},
            )
            wake_sender(conn, tenant_id)
            return True
        outbound.set_gib_status(
            conn,
            tenant_id,
            row.envelope_id,
            gib_code=code,
            # Whatever GİB reports, it has the envelope: no more sending.
            status="final" if info.final else "sent",
        )
        if row.kind == "user":
            from entegrator.services.enrolment import record_answer

            record_answer(conn, tenant_id, row.envelope_id, code, description)
            return True
        if row.kind != "document":
            return True
        doc = self._lock_document(conn, tenant_id, row.document_id)
        self._transition(
            conn,
            tenant_id,
            doc,
            "gib-status",
            info.lifecycle,
            {"envelope": row.envelope_id, "code": code, "description": description},
            status_code=str(code),
            status_detail=description,
        )
        return True

    def _answer_refused(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        row: outbound.EnvelopeStanding,
        code: int,
        description: str | None,
    ) -> None:
        doc = self._lock_document(conn, tenant_id, row.document_id)
        lifecycle.move(
            conn,
            tenant_id,
            doc,
            DocumentStatus(doc.status),  # staying: the answer stands on our side
            happened=[
                (
                    "answer-refused",
                    doc.status,
                    {"envelope": row.envelope_id, "code": code, "description": description},
                )
            ],
            actor="gib",
            now=self.clock(),
            code="answer-refused",
            detail=f"GİB {code}: {description or status_info(code).text_tr}",
        )

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _lock_document(
        conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID | None
    ) -> documents.DocumentState:
        state = (
            documents.lock_state(conn, tenant_id, document_id, created_at(document_id))
            if document_id is not None
            else None
        )
        if state is None:  # pragma: no cover - an envelope always names a document of its tenant
            raise LookupError(f"no document {document_id}")
        return state

    def _transition(  # noqa: PLR0917 - one event and the document's new state
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        doc: documents.DocumentState,
        event: str,
        status: str,
        data: dict[str, Any],
        *,
        status_code: str | None = None,
        status_detail: str | None = None,
    ) -> None:
        target = DocumentStatus(status)
        if not lifecycle.can_move(doc, target):
            # A status GİB reports after the buyer already answered (a late 1300): the
            # envelope keeps the code, the document keeps its answer.
            log.info("document %s stays %s (GİB said %s)", doc.document_id, doc.status, status)
            return
        lifecycle.move(
            conn,
            tenant_id,
            doc,
            target,
            happened=[(event, status, data)],
            actor="gib",
            now=self.clock(),
            code=status_code,
            detail=status_detail,
            # The ERP hears of what GİB says, not of our packing.
            notify=event != "enveloped",
        )


def _rank(code: int) -> int:
    """How far along an envelope is: queued, under way, at the end."""
    info = status_info(code)
    return 2 if info.final else 0 if code == 1000 else 1


def _moving_since(user: User, now: dt.datetime) -> dt.datetime | None:
    """When a user without an active invoice mailbox closed its last one, if that was within
    ``MOVE_GRACE``: it is moving between integrators (None otherwise)."""
    mailboxes = [a for a in user.aliases if a.kind == "PK" and a.document == "Invoice"]
    if not mailboxes or any(a.active(now) for a in mailboxes):
        return None
    closed = max((a.deleted for a in mailboxes if a.deleted is not None), default=None)
    return closed if closed is not None and now - closed <= MOVE_GRACE else None
