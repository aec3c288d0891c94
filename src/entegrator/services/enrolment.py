"""Enrolling a tenant at GİB, changing its aliases, and cancelling it (kullanıcı işlemleri).

The integrator makes its customer an e-Fatura (and, with ``despatch``, e-İrsaliye) user by
sending GİB a ``ProcessUserAccount`` in a USERENVELOPE, signed with the installation's
integrator seal (``ENTEGRATOR_INTEGRATOR_SEAL``); it removes aliases, or the whole user when
the customer leaves, with a ``CancelUserAccount`` (``envelope-and-transport.md`` §10).

A request is stored with its envelope in the tenant's transaction, then sent and followed like
any envelope (``SendingService``: retried while GİB is unreachable, its status asked for):

* ``queued`` → ``sent`` (GİB took the envelope, 1000) → ``accepted`` (1300) or ``refused``
  (1150/1160/1176/1177/1182/1183, with GİB's reason) → ``listed`` (GİB's published list shows
  the change);
* the aliases asked for are ``pending`` and become ``active`` only when GİB's list shows them
  (when the list is refreshed): only then are documents sent from them, and only then do other
  integrators route to them. Aliases being closed are ``closing`` until the list shows their
  deletion time, then ``closed``. A refused request undoes its alias changes.

Aliases are checked before anything is sent, with GİB's rule codes (``UserAccountCheck-30…33``:
empty, too long, reserved, not ``urn:…``): a request GİB's rules refuse never leaves.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from entegrator.clock import Clock, utc_now
from entegrator.documents.authorities import GIB_ALIAS
from entegrator.documents.user_account import (
    Account,
    Action,
    Person,
    Service,
    UserAccountError,
    build_user_account,
)
from entegrator.envelope.sbdh import EnvelopeType
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.errors import EntegratorError
from entegrator.gib.codes import status as status_info
from entegrator.gib.userlist import UserList
from entegrator.services.seals import SealKeys
from entegrator.services.sending import wake_sender
from entegrator.signing import sign
from entegrator.store import Database, audit, enrolments, outbound, tenants

__all__ = [
    "AliasState",
    "EnrolmentService",
    "IntegratorSealMissingError",
    "NotEnrolledError",
    "Request",
    "record_answer",
    "sync_aliases",
]

log = logging.getLogger(__name__)


class IntegratorSealMissingError(EntegratorError):
    code = "INTEGRATOR_SEAL_MISSING"
    message_tr = (
        "Kullanıcı işlemleri entegratör mührüyle imzalanır: ENTEGRATOR_INTEGRATOR_SEAL ayarlı değil"
    )
    message_en = (
        "User-account requests are signed with the integrator seal: "
        "ENTEGRATOR_INTEGRATOR_SEAL is not set"
    )
    http_status = 409
    exit_code = 2


class NotEnrolledError(EntegratorError):
    code = "GIB_NOT_ENROLLED"
    message_tr = "Hesabın GİB'de kapatılacak açık etiketi yok ({service})"
    message_en = "The tenant has no open alias at GİB to close ({service})"
    http_status = 409
    exit_code = 2


@dataclass(frozen=True)
class Request:
    """A user-account request as stored (what the CLI and the API show)."""

    request_id: uuid.UUID
    action: str
    service: str
    aliases: list[dict[str, Any]]
    envelope_id: str
    status: str
    gib_code: int | None
    gib_detail: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.request_id),
            "action": self.action,
            "service": self.service,
            "aliases": self.aliases,
            "envelope_id": self.envelope_id,
            "status": self.status,
            "gib_code": self.gib_code,
            "gib_detail": self.gib_detail,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class AliasState:
    alias: str
    kind: str
    document: str
    state: str
    listed_at: dt.datetime | None
    deleted_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "kind": self.kind,
            "document": self.document,
            "state": self.state,
            "listed_at": self.listed_at.isoformat() if self.listed_at else None,
            "deleted_at": self.deleted_at.isoformat() if self.deleted_at else None,
        }


def _request(row: enrolments.Enrolment) -> Request:
    return Request(
        row.request_id,
        row.action,
        row.service,
        row.aliases,
        row.envelope_id,
        row.status,
        row.gib_code,
        row.gib_detail,
        row.created_at,
        row.updated_at,
    )


class EnrolmentService:
    def __init__(
        self,
        db: Database,
        keys: SealKeys,
        *,
        alias_domain: str = "entegrator.local",
        clock: Clock = utc_now,
    ) -> None:
        self.db = db
        self.keys = keys
        self.alias_domain = alias_domain
        self.clock = clock

    def default_aliases(self, vkn: str) -> tuple[str, str]:
        """(PK, GB) names for a tenant that names none: unique per VKN, under the domain."""
        return (
            f"urn:mail:pk{vkn}@{self.alias_domain}",
            f"urn:mail:gb{vkn}@{self.alias_domain}",
        )

    # -- requests ----------------------------------------------------------------------------

    def enrol(
        self,
        tenant_id: uuid.UUID,
        *,
        despatch: bool = False,
        pk: str | None = None,
        gb: str | None = None,
        public: bool = False,
        actor: str = "cli",
    ) -> list[Request]:
        """Make the tenant an e-Fatura user (and an e-İrsaliye user with ``despatch``): one
        request per service, each opening a PK and a GB alias."""
        with self.db.tenant(tenant_id) as conn:
            vkn = tenants.get_tenant(conn, tenant_id).vkn
        default_pk, default_gb = self.default_aliases(vkn)
        accounts = [Account("PK", pk or default_pk), Account("GB", gb or default_gb)]
        services = [Service.EFATURA] + ([Service.EDESPATCH] if despatch else [])
        return [
            self._request(
                tenant_id, "enrol", Action.PROCESS, service, accounts, public=public, actor=actor
            )
            for service in services
        ]

    def add_alias(
        self,
        tenant_id: uuid.UUID,
        *,
        kind: str,
        alias: str,
        despatch: bool = False,
        public: bool = False,
        actor: str = "cli",
    ) -> Request:
        service = Service.EDESPATCH if despatch else Service.EFATURA
        return self._request(
            tenant_id,
            "add-alias",
            Action.PROCESS,
            service,
            [Account(_role(kind), alias)],
            public=public,
            actor=actor,
        )

    def close_alias(
        self,
        tenant_id: uuid.UUID,
        *,
        kind: str,
        alias: str,
        despatch: bool = False,
        public: bool = False,
        actor: str = "cli",
    ) -> Request:
        service = Service.EDESPATCH if despatch else Service.EFATURA
        return self._request(
            tenant_id,
            "close-alias",
            Action.CANCEL,
            service,
            [Account(_role(kind), alias)],
            public=public,
            actor=actor,
        )

    def cancel(
        self, tenant_id: uuid.UUID, *, public: bool = False, actor: str = "cli"
    ) -> list[Request]:
        """The tenant leaves: every open alias closed, e-İrsaliye first (GİB's order for
        aliases that serve both)."""
        out = []
        with self.db.tenant(tenant_id) as conn:
            rows = enrolments.aliases_of(conn, tenant_id)
        for service in (Service.EDESPATCH, Service.EFATURA):
            accounts = [
                Account(_role(r.kind), r.alias)
                for r in rows
                if r.document == service.document and r.state in ("active", "pending")
            ]
            if accounts:
                out.append(
                    self._request(
                        tenant_id,
                        "cancel",
                        Action.CANCEL,
                        service,
                        accounts,
                        public=public,
                        actor=actor,
                    )
                )
        if not out:
            raise NotEnrolledError(service="usergb/edespatch")
        return out

    def _request(
        self,
        tenant_id: uuid.UUID,
        action_name: str,
        action: Action,
        service: Service,
        accounts: Sequence[Account],
        *,
        public: bool,
        actor: str,
    ) -> Request:
        seal = self.keys.integrator
        with self.db.tenant(tenant_id) as conn:
            tenant = tenants.get_tenant(conn, tenant_id)
            # The rules first: a bad alias is refused before the seal is even looked for.
            message = build_user_account(
                action,
                integrator=(seal.identity if seal is not None else None) or "0000000000",
                user=Person(tenant.vkn, tenant.name),
                service=service,
                accounts=accounts,
                created=self.clock(),
                public=public,
            )
            if seal is None:
                raise IntegratorSealMissingError()
            if action is Action.CANCEL:
                open_ = {
                    (r.alias, r.kind)
                    for r in enrolments.aliases_of(conn, tenant_id, document=service.document)
                    if r.state in ("active", "pending")
                }
                missing = [a.alias for a in accounts if (a.alias, a.role) not in open_]
                if missing:
                    raise NotEnrolledError(
                        service=f"{service.value}: {', '.join(map(str, missing))}"
                    )
            signed = sign(message, seal, signing_time=self.clock())
            packed = pack(
                build_envelope(
                    [signed],
                    sender_alias=service.value,
                    receiver_alias=GIB_ALIAS,
                    type=EnvelopeType.USERENVELOPE,
                    created=self.clock(),
                )
            )
            envelope_id = packed.name.removesuffix(".zip")
            for account in accounts:
                assert account.alias is not None  # noqa: S101 - the builder required it
                if action is Action.PROCESS:
                    if not enrolments.add_pending_alias(
                        conn,
                        tenant_id,
                        vkn_tckn=tenant.vkn,
                        alias=account.alias,
                        kind=account.role,
                        document=service.document,
                    ):
                        log.info("alias %s is open already; asked for again", account.alias)
                else:
                    enrolments.set_alias_state(
                        conn,
                        tenant_id,
                        alias=account.alias,
                        kind=account.role,
                        document=service.document,
                        state="closing",
                    )
            outbound.insert_envelope(
                conn,
                tenant_id,
                envelope_id=envelope_id,
                kind="user",
                file_name=packed.name,
                md5=packed.md5,
                data=packed.data,
                receiver_alias=GIB_ALIAS,
            )
            enrolments.insert_request(
                conn,
                tenant_id,
                action=action_name,
                service=service.value,
                aliases=[{"kind": a.role, "alias": a.alias} for a in accounts],
                envelope_id=envelope_id,
                requested_by=actor,
            )
            audit.append_audit(
                conn,
                tenant_id,
                actor=actor,
                action=f"gib.{action_name}",
                target=envelope_id,
                data={"service": service.value, "aliases": [a.alias for a in accounts]},
            )
            wake_sender(conn, tenant_id)
            found = enrolments.find_by_envelope(conn, tenant_id, envelope_id)
        assert found is not None  # noqa: S101 - inserted above
        return _request(found)

    # -- reading -----------------------------------------------------------------------------

    def requests(self, tenant_id: uuid.UUID, *, limit: int = 50) -> list[Request]:
        with self.db.tenant(tenant_id) as conn:
            return [_request(r) for r in enrolments.list_requests(conn, tenant_id, limit=limit)]

    def aliases(self, tenant_id: uuid.UUID) -> list[AliasState]:
        with self.db.tenant(tenant_id) as conn:
            return [
                AliasState(r.alias, r.kind, r.document, r.state, r.listed_at, r.deleted_at)
                for r in enrolments.aliases_of(conn, tenant_id)
            ]


def _role(kind: str) -> Any:
    role = kind.strip().upper()
    if role not in ("PK", "GB"):
        raise UserAccountError(
            rule="UserAccountCheck-29",
            detail_tr="RoleCode GB ya da PK olmalı",
            detail_en="RoleCode is GB or PK",
        )
    return role


def record_answer(
    conn: Connection, tenant_id: uuid.UUID, envelope_id: str, code: int, detail: str | None
) -> None:
    """GİB's answer to a user-account envelope (in the caller's transaction): 1300 accepted
    (the aliases wait for the list); an error refused, its alias changes undone."""
    request = enrolments.find_by_envelope(conn, tenant_id, envelope_id)
    if request is None:
        return
    info = status_info(code)
    if code == 1300:
        enrolments.set_request(
            conn,
            tenant_id,
            envelope_id,
            status="accepted",
            gib_code=code,
            gib_detail=detail or info.text_tr,
            only_from=("queued", "sent"),
        )
        return
    if not info.final:
        enrolments.set_request(
            conn, tenant_id, envelope_id, status="sent", gib_code=code, only_from=("queued",)
        )
        return
    enrolments.set_request(
        conn,
        tenant_id,
        envelope_id,
        status="refused",
        gib_code=code,
        gib_detail=detail or info.text_tr,
    )
    document = Service(request.service).document
    for entry in request.aliases:
        if request.action in ("enrol", "add-alias"):
            enrolments.set_alias_state(
                conn,
                tenant_id,
                alias=entry["alias"],
                kind=entry["kind"],
                document=document,
                state=None,
                only_from=("pending",),
            )
        else:
            enrolments.set_alias_state(
                conn,
                tenant_id,
                alias=entry["alias"],
                kind=entry["kind"],
                document=document,
                state="active",
                only_from=("closing",),
            )


def sync_aliases(conn: Connection, users: UserList, *, now: dt.datetime) -> int:
    """What GİB's freshly fetched list says of the aliases waiting for it (system
    connection): ``pending`` → ``active`` once listed and active; ``closing`` → ``closed``
    once listed with a deletion time in the past; a request whose aliases all settled is
    ``listed``. How many aliases changed."""
    changed = 0
    for row in enrolments.unsettled_aliases(conn):
        user = users.lookup(row.vkn_tckn)
        listed = None
        if user is not None:
            listed = next(
                (
                    a
                    for a in user.aliases
                    if a.name == row.alias and a.kind == row.kind and a.document == row.document
                ),
                None,
            )
        if listed is None:
            continue
        if row.state == "pending" and listed.active(now):
            enrolments.mark_listed(
                conn, row, state="active", listed_at=listed.created, deleted_at=None
            )
            changed += 1
        elif row.state == "closing" and not listed.active(now) and listed.deleted is not None:
            enrolments.mark_listed(
                conn, row, state="closed", listed_at=listed.created, deleted_at=listed.deleted
            )
            changed += 1
    enrolments.mark_requests_listed(conn)
    return changed
