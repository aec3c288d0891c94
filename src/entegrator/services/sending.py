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
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from entegrator import lifecycle
from entegrator.config import Settings
from entegrator.documents.response import ResponseParty, build_system_response
from entegrator.envelope.sbdh import Envelope, EnvelopeType
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.errors import EntegratorError
from entegrator.gib.client import GibClient, GibUnavailableError
from entegrator.gib.codes import fault as fault_info
from entegrator.gib.codes import status as status_info
from entegrator.gib.soap import GibFaultError
from entegrator.lifecycle import DocumentStatus, backoff
from entegrator.store import Database, documents, repo
from entegrator.store.ids import created_at

__all__ = ["GTB_ALIASES", "GTB_VKN", "SEND_TASK", "SendingService", "wake_sender"]

log = logging.getLogger(__name__)

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


def wake_sender(conn: Connection, tenant_id: uuid.UUID) -> bool:
    return repo.wake(conn, SEND_TASK, tenant_id, lock=f"send:{tenant_id}")


@dataclass(frozen=True)
class Attempt:
    envelope_id: str
    document_id: uuid.UUID
    outcome: str  # sent, retry, failed


class SendingService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._client: GibClient | None = None

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
        rows = [
            {
                "i": u.identifier,
                "t": u.title,
                "pk": users.mailboxes(u.identifier),
                "gb": users.sender_units(u.identifier),
            }
            for u in users.users.values()
        ]
        with self.db.system() as conn:
            conn.execute(text("DELETE FROM gib_users"))
            if rows:
                conn.execute(
                    text(
                        "INSERT INTO gib_users (identifier, title, mailboxes, sender_units) "
                        "VALUES (:i, :t, :pk, :gb)"
                    ),
                    rows,
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
            issued=dt.datetime.now(dt.UTC),
        )
        packed = pack(
            build_envelope(
                [xml],
                sender_alias=answered.receiver.alias,
                receiver_alias=answered.sender.alias,
                type=EnvelopeType.SYSTEMENVELOPE,
                created=dt.datetime.now(dt.UTC),
            )
        )
        envelope_id = packed.name.removesuffix(".zip")
        conn.execute(
            text(
                "INSERT INTO outbound_envelopes (tenant_id, envelope_id, kind, file_name, md5, "
                "data, receiver_alias) VALUES (:t, :e, 'system', :f, :m, :d, :r)"
            ),
            {
                "t": tenant_id,
                "e": envelope_id,
                "f": packed.name,
                "m": packed.md5,
                "d": packed.data,
                "r": answered.sender.alias,
            },
        )
        wake_sender(conn, tenant_id)
        return envelope_id

    def send_pending(self, tenant_id: uuid.UUID) -> int:
        """Envelope every waiting document, then send what is due; how many were sent."""
        if not self.configured:
            return 0
        while self._envelope_next(tenant_id):
            pass
        sent = 0
        while (attempt := self._send_next(tenant_id)) is not None:
            sent += attempt.outcome == "sent"
        return sent

    def _envelope_next(self, tenant_id: uuid.UUID) -> bool:
        with self.db.tenant(tenant_id) as conn:
            doc = conn.execute(
                text(
                    "SELECT document_id, created_at, direction, kind, status, status_code, "
                    "profile, receiver_id, signed_sha256, event_count, head_hash "
                    "FROM documents WHERE tenant_id = :t "
                    "AND direction = 'out' "
                    "AND status = 'queued' AND status_code IS NULL ORDER BY created_at LIMIT 1 "
                    "FOR UPDATE SKIP LOCKED"
                ),
                {"t": tenant_id},
            ).first()
            if doc is None:
                return False
            if doc.profile == "EARSIVFATURA":
                # Not enveloped: an e-Arşiv invoice reaches GİB in the e-Arşiv report.
                conn.execute(
                    text(
                        "UPDATE documents SET status_code = 'earsiv-report', status_detail = :d "
                        "WHERE tenant_id = :t AND created_at = :ca AND document_id = :id"
                    ),
                    {
                        "d": "e-Arşiv faturası: e-Arşiv raporunu bekliyor / e-Arşiv invoice: "
                        "waits for the e-Arşiv report",
                        "t": tenant_id,
                        "ca": doc.created_at,
                        "id": doc.document_id,
                    },
                )
                return True
            gb = conn.execute(
                text(
                    "SELECT alias FROM aliases WHERE tenant_id = :t AND kind = 'GB' "
                    "AND document = 'Invoice' ORDER BY created_at LIMIT 1"
                ),
                {"t": tenant_id},
            ).scalar()
            pk = (
                GTB_ALIASES.get(doc.profile)
                or conn.execute(
                    text("SELECT mailboxes[1] FROM gib_users WHERE identifier = :i"),
                    {"i": doc.receiver_id},
                ).scalar()
            )
            if gb is None or pk is None:
                code = "no-sender-alias" if gb is None else "not-registered"
                detail = (
                    "Hesabın GB etiketi yok / the tenant has no GB alias"
                    if gb is None
                    else "Alıcı e-Fatura kullanıcısı değil (e-Arşiv gerekir) / the buyer is "
                    "not an e-Fatura user (needs e-Arşiv)"
                )
                conn.execute(
                    text(
                        "UPDATE documents SET status_code = :c, status_detail = :d "
                        "WHERE tenant_id = :t AND created_at = :ca AND document_id = :id"
                    ),
                    {
                        "c": code,
                        "d": detail,
                        "t": tenant_id,
                        "ca": doc.created_at,
                        "id": doc.document_id,
                    },
                )
                return True
            signed = repo.get_blob(conn, tenant_id, bytes(doc.signed_sha256))
            packed = pack(
                build_envelope(
                    [signed], sender_alias=gb, receiver_alias=pk, created=dt.datetime.now(dt.UTC)
                )
            )
            envelope_id = packed.name.removesuffix(".zip")
            conn.execute(
                text(
                    "INSERT INTO outbound_envelopes (tenant_id, envelope_id, document_id, "
                    "document_created, file_name, md5, data, receiver_alias) "
                    "VALUES (:t, :e, :d, :c, :f, :m, :data, :r)"
                ),
                {
                    "t": tenant_id,
                    "e": envelope_id,
                    "d": doc.document_id,
                    "c": doc.created_at,
                    "f": packed.name,
                    "m": packed.md5,
                    "data": packed.data,
                    "r": pk,
                },
            )
            state = documents.DocumentState(
                doc.document_id,
                doc.created_at,
                doc.direction,
                doc.kind,
                doc.status,
                doc.status_code,
                doc.event_count,
                bytes(doc.head_hash),
            )
            self._transition(
                conn,
                tenant_id,
                state,
                "enveloped",
                "queued",
                {"envelope": envelope_id, "to": pk},
                status_code="enveloped",
            )
            return True

    def _send_next(self, tenant_id: uuid.UUID) -> Attempt | None:
        with self.db.tenant(tenant_id) as conn:
            row = conn.execute(
                # MATERIALIZED: picked once. A subquery with LIMIT and SKIP LOCKED may be
                # evaluated again per row of the join and lease more than one envelope.
                text(
                    "WITH d AS MATERIALIZED (SELECT envelope_id FROM outbound_envelopes "
                    "WHERE tenant_id = :t AND status = 'pending' AND next_attempt_at <= now() "
                    "ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
                    "UPDATE outbound_envelopes o SET next_attempt_at = now() + :lease, "
                    "attempts = o.attempts + 1 FROM d "
                    "WHERE o.tenant_id = :t AND o.envelope_id = d.envelope_id "
                    "RETURNING o.envelope_id, o.kind, o.document_id, o.file_name, "
                    "o.md5, o.data, o.attempts"
                ),
                {"t": tenant_id, "lease": LEASE},
            ).first()
        if row is None:
            return None
        outcome: str = "sent"
        code: int | None = 1000
        detail: str | None = None
        try:
            answer = self.client.send(row.file_name, bytes(row.data), row.md5)
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
        if row.kind != "document" and state == "sent":
            state = "final"  # system responses and answers are not followed further
        with self.db.tenant(tenant_id) as conn:
            conn.execute(
                text(
                    # A status pushed to us while we waited for this answer (``settle``)
                    # stays: it is newer than what this answer says.
                    "UPDATE outbound_envelopes SET status = CASE WHEN gib_code IS NULL "
                    "THEN :s ELSE status END, gib_code = coalesce(gib_code, :c), "
                    "last_error = :e, next_attempt_at = now() + make_interval(secs => :p) "
                    "WHERE tenant_id = :t AND envelope_id = :id"
                ),
                {
                    "s": state,
                    "c": code,
                    "e": detail,
                    "p": pause,
                    "t": tenant_id,
                    "id": row.envelope_id,
                },
            )
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
            tenants = (
                conn.execute(
                    text(
                        "SELECT tenant_id FROM outbound_envelopes WHERE status = 'pending' "
                        "AND next_attempt_at <= now() UNION SELECT tenant_id FROM documents "
                        "WHERE direction = 'out' AND status = 'queued' AND status_code IS NULL "
                        "AND updated_at < now() - interval '1 minute'"
                    )
                )
                .scalars()
                .all()
            )
            return sum(wake_sender(conn, t) for t in tenants)

    # -- following ---------------------------------------------------------------------------

    def poll(self, tenant_id: uuid.UUID) -> int:
        """Ask GİB about every envelope still under way; how many changed."""
        if not self.configured:
            return 0
        with self.db.tenant(tenant_id) as conn:
            waiting = conn.execute(
                text(
                    "SELECT envelope_id, document_id, gib_code FROM outbound_envelopes "
                    "WHERE tenant_id = :t AND status = 'sent' AND kind = 'document'"
                ),
                {"t": tenant_id},
            ).all()
        changed = 0
        for envelope_id, _document_id, known in waiting:
            try:
                facts = self.client.status(envelope_id)
            except (GibUnavailableError, GibFaultError, EntegratorError) as exc:
                log.warning("status of %s: %s", envelope_id, exc)
                continue
            code = facts.status_code
            if code is None or code == known:
                continue
            with self.db.tenant(tenant_id) as conn:
                changed += self.settle(conn, tenant_id, envelope_id, code, facts.description)
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
        row = conn.execute(
            text(
                "SELECT envelope_id, kind, document_id, gib_code, status FROM "
                "outbound_envelopes WHERE tenant_id = :t AND envelope_id = ANY(:e) FOR UPDATE"
            ),
            # Envelope ids are GUIDs; GİB and receivers quote them in either case.
            {"t": tenant_id, "e": [envelope_id, envelope_id.lower(), envelope_id.upper()]},
        ).first()
        if row is None:
            log.warning("a status %s for an envelope we did not send: %s", code, envelope_id)
            return False
        info = status_info(code)
        if row.status == "final" or code == row.gib_code:
            return False
        if row.gib_code is not None and _rank(code) < _rank(row.gib_code):
            return False
        conn.execute(
            text(
                "UPDATE outbound_envelopes SET gib_code = :c, status = :s "
                "WHERE tenant_id = :t AND envelope_id = :e"
            ),
            {
                "c": code,
                # Whatever GİB reports, it has the envelope: no more sending.
                "s": "final" if info.final else "sent",
                "t": tenant_id,
                "e": row.envelope_id,
            },
        )
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

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _lock_document(
        conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID
    ) -> documents.DocumentState:
        state = documents.lock_state(conn, tenant_id, document_id, created_at(document_id))
        if state is None:  # pragma: no cover - an envelope always names a document of its tenant
            raise LookupError(f"no document {document_id}")
        return state

    @staticmethod
    def _transition(  # noqa: PLR0917 - one event and the document's new state
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
            now=dt.datetime.now(dt.UTC),
            code=status_code,
            detail=status_detail,
            # The ERP hears of what GİB says, not of our packing.
            notify=event != "enveloped",
        )


def _rank(code: int) -> int:
    """How far along an envelope is: queued, under way, at the end."""
    info = status_info(code)
    return 2 if info.final else 0 if code == 1000 else 1
