"""The GİB simulator's state and rules: integrators, the user list, envelope intake.

It stands in for GİB only, in tests and demos. Its tables live in their own PostgreSQL schema
(``gibsim``), created when it starts; it is not a system of record.

Envelope intake follows GİB's order (``envelope-and-transport.md`` §5–6). Synchronously, in
the ``sendDocument`` call: the file name must be ``<uuid>.zip`` (fault 2006), the MD5 must
match (2000), the envelope id must be new (2001); the envelope is then stored with status
1000. Afterwards (``process``): zip and envelope (1110–1142, 1140), GİB's XSD (1160) and
schematron (1150) on the envelope and every document, the signatures (1177; a signer whose
certificate names nobody: 1161; a seal neither the issuer's nor the sending integrator's, whose
VKN GİB has on file from the integrator's registration: 1176), the sender's GB alias served by
the sending integrator (1171), the receiver's PK alias (1181 unknown, 1172 not the receiver's
or not active), and documents already registered (1163). An envelope that passes is processed
(1200).

A USERENVELOPE (an integrator enrolling or cancelling a customer) passes the same schema and
schematron (GİB's ``UserAccountCheck`` rules among them), then: each message signed by a seal
whose VKN is the sending integrator's own, as registered (``OASignatureCheck``; 1176/1177), its
``oa:LogicalID`` that integrator (``OASenderCheck``); a user whose aliases another integrator
still serves is refused until that one cancels (1182), a cancel that closes nothing too (1183).
A change is published in the user lists at once, with its creation or deletion time, and the
envelope settles at 1300.
e-İrsaliye travels the same way, on the users' despatch aliases (document type
DespatchAdvice), never their invoice ones: a DespatchAdvice in a SENDERENVELOPE, its receipt
answer (ReceiptAdvice) in a POSTBOXENVELOPE. GİB's own despatch mailbox
(``urn:mail:irsaliyepk@gib.gov.tr``, VKN 3900892152) takes despatches to receivers who are
no e-İrsaliye users, the real receiver named in the envelope. A receipt answer is refused
once its despatch was answered (1163) and after the 7 days GİB gives to answer (1150, the
code GİB's business-rule refusals carry; GİB's exact code for this case is not documented).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from sqlalchemy import Connection, Engine, create_engine, text

from entegrator.documents.authorities import (
    GIB_ALIAS,
    GIB_DESPATCH_ALIAS,
    GIB_DESPATCH_VKN,
    GIB_TITLE,
    GIB_VKN,
    GTB_TITLE,
    GTB_VKN,
)
from entegrator.documents.authorities import GTB_ALIASES as _GTB_ALIASES
from entegrator.documents.user_account import Action, UserAccountMessage, read_user_account
from entegrator.envelope.errors import EnvelopeError
from entegrator.envelope.sbdh import Envelope, EnvelopeType
from entegrator.envelope.zipping import unpack
from entegrator.errors import EntegratorError
from entegrator.findings import Severity
from entegrator.gib.checks import Checker, envelope_refusal, signature_code
from entegrator.gib.codes import status
from entegrator.gib.userlist import Alias, User, UserList
from entegrator.gibsim.earsiv import SCHEMA as EARSIV_SCHEMA
from entegrator.gibsim.earsiv import EarsivIntake
from entegrator.lifecycle.backoff import backoff
from entegrator.rules import ValidationSettings, Validator
from entegrator.signing import sign, verify
from entegrator.signing.certs import SigningKey, TestCA
from entegrator.store.db import sqlalchemy_url

__all__ = ["GIB_ALIAS", "GIB_VKN", "Faults", "Intake", "Simulator", "SimulatorFault"]

DELIVERY_THREADS = 4
GTB_INTEGRATOR = "GTB"  # the Ministry of Trade, built into the simulator as an integrator
GTB_ALIASES = tuple(sorted(set(_GTB_ALIASES.values())))
GIB_DESPATCH_INTEGRATOR = "GIB-IRSALIYE"  # GİB's own despatch mailbox, inside its network
DESPATCH_ADVICE = "DespatchAdvice"
RECEIPT_WINDOW = dt.timedelta(days=7)
RECEIPT_LATE = 1150  # GİB's code for a late receipt answer is not documented [unconfirmed]
RECEIPT_TWICE = 1163
_UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
_DESPATCH_TAGS = (
    f"{{{_UBL}DespatchAdvice-2}}DespatchAdvice",
    f"{{{_UBL}ReceiptAdvice-2}}ReceiptAdvice",
)
_RECEIPT_TAG = _DESPATCH_TAGS[1]
_FILE_NAME = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\.zip$"
)

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS gibsim;
CREATE TABLE IF NOT EXISTS gibsim.integrators (
    integrator_id text PRIMARY KEY,
    name          text NOT NULL,
    vkn           text NOT NULL,
    endpoint      text,
    token_hash    bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS gibsim.users (
    identifier    text PRIMARY KEY,
    title         text NOT NULL,
    type          text NOT NULL DEFAULT '',
    account_type  text NOT NULL DEFAULT '',
    first_created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS gibsim.aliases (
    name          text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('PK', 'GB')),
    document      text NOT NULL DEFAULT 'Invoice',
    identifier    text NOT NULL REFERENCES gibsim.users,
    integrator_id text NOT NULL REFERENCES gibsim.integrators,
    created       timestamptz NOT NULL DEFAULT now(),
    deleted       timestamptz,
    PRIMARY KEY (name, kind, document)
);
CREATE TABLE IF NOT EXISTS gibsim.envelopes (
    envelope_id   text PRIMARY KEY,
    integrator_id text NOT NULL REFERENCES gibsim.integrators,
    file_name     text NOT NULL,
    md5           text NOT NULL,
    data          bytea NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    status        int NOT NULL,
    description   text NOT NULL,
    envelope_type text,
    sender_vkn    text,
    receiver_vkn  text,
    receiver_alias text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE gibsim.integrators ADD COLUMN IF NOT EXISTS delivery_token text;
ALTER TABLE gibsim.envelopes ADD COLUMN IF NOT EXISTS attempts int NOT NULL DEFAULT 0;
ALTER TABLE gibsim.envelopes ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz;
ALTER TABLE gibsim.envelopes ADD COLUMN IF NOT EXISTS receiver_integrator text;
CREATE TABLE IF NOT EXISTS gibsim.documents (
    ettn          text PRIMARY KEY,
    number        text,
    sender_vkn    text,
    envelope_id   text NOT NULL REFERENCES gibsim.envelopes
);
ALTER TABLE gibsim.documents ADD COLUMN IF NOT EXISTS registered_at timestamptz
    NOT NULL DEFAULT now();
ALTER TABLE gibsim.documents ADD COLUMN IF NOT EXISTS answered_by text;
CREATE TABLE IF NOT EXISTS gibsim.faults (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    outage        boolean NOT NULL DEFAULT false,
    latency_ms    int NOT NULL DEFAULT 0
);
ALTER TABLE gibsim.faults ADD COLUMN IF NOT EXISTS drop_deliveries int NOT NULL DEFAULT 0;
ALTER TABLE gibsim.faults ADD COLUMN IF NOT EXISTS delivery_timeout_ms int NOT NULL DEFAULT 0;
-- Type and AccountType as GİB's user-list schema spells them (older rows: free text).
UPDATE gibsim.users SET type = CASE WHEN type = 'Kamu' THEN 'KAMU' ELSE 'OZEL' END
    WHERE type NOT IN ('OZEL', 'KAMU');
UPDATE gibsim.users SET account_type = CASE WHEN type = 'KAMU' THEN 'ENTEGRASYON'
    ELSE 'OZELENTEGRASYON' END
    WHERE account_type NOT IN ('GIBPORTAL', 'ENTEGRASYON', 'OZELENTEGRASYON');
"""


class SimulatorFault(Exception):  # noqa: N818 - it is GİB's own word: a SOAP fault
    """A ``sendDocument`` fault (2000–2007) with GİB's code."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg


@dataclass(frozen=True)
class Faults:
    outage: bool = False
    latency_ms: int = 0
    drop_deliveries: int = 0
    delivery_timeout_ms: int = 0


@dataclass(frozen=True)
class Intake:
    envelope_id: str
    md5: str
    status: int


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Simulator:
    """GİB's state in one PostgreSQL schema."""

    def __init__(
        self,
        database_url: str,
        validator: Validator | None = None,
        *,
        max_attempts: int = 10,
        retry_seconds: float = 30.0,
        ca: TestCA | None = None,
        earsiv_schema: Path | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """``earsiv_schema``: GİB's ``EArsiv.xsd`` (the schemas it imports beside it) that
        e-Arşiv reports are checked against; None: their schema is not checked. ``clock``:
        GİB's time for the receipt-answer window (a test moves it on)."""
        self.clock = clock or functools.partial(dt.datetime.now, dt.UTC)
        self.engine: Engine = create_engine(sqlalchemy_url(database_url), pool_size=8)
        self._validator = validator
        # GİB's seal (VKN 3900383669) on the system responses it sends, issued by ``ca`` (the
        # development CA the integrators trust); signatures it receives must chain to ``ca``.
        self.seal: SigningKey | None = (
            ca.issue(identity=GIB_VKN, name=GIB_TITLE, now=dt.datetime.now(dt.UTC))
            if ca is not None
            else None
        )
        self.trust: tuple[x509.Certificate, ...] = (ca.certificate,) if ca is not None else ()
        self.max_attempts = max_attempts  # deliveries tried before 1215
        self._pool = ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="gibsim-deliver")
        self._http = httpx.Client(timeout=30)
        self.retry_seconds = retry_seconds  # first pause; doubles, at most an hour
        self.earsiv = EarsivIntake(self.engine, trust=self.trust, schema_path=earsiv_schema)

    @property
    def validator(self) -> Validator:
        if self._validator is None:
            self._validator = Validator(
                settings=ValidationSettings(clock=functools.partial(dt.datetime.now, dt.UTC))
            )
        return self._validator

    def create_schema(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(7310643)"))
            conn.exec_driver_sql(SCHEMA)
            conn.exec_driver_sql(EARSIV_SCHEMA)
        # The Ministry of Trade receives export and tax-free invoices inside GİB's network.
        if self.integrator_of_alias(GTB_ALIASES[0]) is None:
            self.register_integrator(GTB_INTEGRATOR, GTB_TITLE, GTB_VKN, None)
            self.register_user(
                User(
                    GTB_VKN,
                    GTB_TITLE,
                    "KAMU",
                    "ENTEGRASYON",
                    dt.datetime(2010, 3, 1, tzinfo=dt.UTC),
                    tuple(
                        Alias(a, "PK", "Invoice", dt.datetime(2010, 3, 1, tzinfo=dt.UTC))
                        for a in GTB_ALIASES
                    ),
                ),
                GTB_INTEGRATOR,
            )
        # GİB's despatch mailbox takes despatches to receivers who use no e-İrsaliye.
        if self.integrator_of_alias(GIB_DESPATCH_ALIAS) is None:
            self.register_integrator(GIB_DESPATCH_INTEGRATOR, GIB_TITLE, GIB_DESPATCH_VKN, None)
            self.register_user(
                User(
                    GIB_DESPATCH_VKN,
                    GIB_TITLE,
                    "KAMU",
                    "ENTEGRASYON",
                    dt.datetime(2012, 1, 1, tzinfo=dt.UTC),
                    (
                        Alias(
                            GIB_DESPATCH_ALIAS,
                            "PK",
                            DESPATCH_ADVICE,
                            dt.datetime(2012, 1, 1, tzinfo=dt.UTC),
                        ),
                    ),
                ),
                GIB_DESPATCH_INTEGRATOR,
            )

    def integrator_of_alias(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                text("SELECT integrator_id FROM gibsim.aliases WHERE name = :n LIMIT 1"),
                {"n": name},
            ).scalar()
        return None if found is None else str(found)

    def dispose(self) -> None:
        self._pool.shutdown()
        self._http.close()
        self.engine.dispose()

    # -- integrators and users ---------------------------------------------------------------

    def register_integrator(
        self,
        integrator_id: str,
        name: str,
        vkn: str,
        endpoint: str | None,
        delivery_token: str | None = None,
    ) -> str:
        """Register (or re-register) an integrator; its new API token. Envelopes for its
        aliases are delivered to ``endpoint`` (its ``sendDocument`` service), presenting
        ``delivery_token``. ``vkn`` is the integrator's own, the one its mali mühür carries:
        documents it sends may be signed with that seal on their issuers' behalf."""
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO gibsim.integrators (integrator_id, name, vkn, endpoint, "
                    "token_hash, delivery_token) VALUES (:i, :n, :v, :e, :h, :d) "
                    "ON CONFLICT (integrator_id) DO UPDATE SET name = :n, vkn = :v, "
                    "endpoint = :e, token_hash = :h, delivery_token = :d"
                ),
                {
                    "i": integrator_id,
                    "n": name,
                    "v": vkn,
                    "e": endpoint,
                    "h": _hash(token),
                    "d": delivery_token,
                },
            )
        return token

    def integrator_of(self, token: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                text("SELECT integrator_id FROM gibsim.integrators WHERE token_hash = :h"),
                {"h": _hash(token)},
            ).scalar()
        return None if found is None else str(found)

    def register_user(self, user: User, integrator_id: str) -> None:
        """Add a user with its aliases (served by ``integrator_id``), or add aliases to it."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO gibsim.users (identifier, title, type, account_type, "
                    "first_created) VALUES (:i, :t, :ty, :a, coalesce(:f, now())) "
                    "ON CONFLICT (identifier) DO UPDATE SET title = :t"
                ),
                {
                    "i": user.identifier,
                    "t": user.title,
                    "ty": user.type,
                    "a": user.account_type,
                    "f": user.first_created,
                },
            )
            for alias in user.aliases:
                conn.execute(
                    text(
                        "INSERT INTO gibsim.aliases (name, kind, document, identifier, "
                        "integrator_id, created, deleted) VALUES (:n, :k, :d, :i, :g, :c, :x) "
                        "ON CONFLICT (name, kind, document) DO UPDATE SET identifier = :i, "
                        "integrator_id = :g, created = :c, deleted = :x"
                    ),
                    {
                        "n": alias.name,
                        "k": alias.kind,
                        "d": alias.document,
                        "i": user.identifier,
                        "g": integrator_id,
                        "c": alias.created,
                        "x": alias.deleted,
                    },
                )

    def remove_alias(self, name: str, kind: str, document: str = "Invoice") -> bool:
        """Close an alias now (it stays in the list with its DeletionTime)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                text(
                    "UPDATE gibsim.aliases SET deleted = now() WHERE name = :n AND kind = :k "
                    "AND document = :d AND deleted IS NULL"
                ),
                {"n": name, "k": kind, "d": document},
            ).rowcount
        return bool(done)

    def user_list(self) -> UserList:
        out = UserList()
        with self.engine.connect() as conn:
            users = {
                r.identifier: r
                for r in conn.execute(text("SELECT * FROM gibsim.users ORDER BY identifier"))
            }
            aliases: dict[str, list[Alias]] = {}
            for a in conn.execute(text("SELECT * FROM gibsim.aliases ORDER BY name")):
                aliases.setdefault(a.identifier, []).append(
                    Alias(a.name, a.kind, a.document, a.created, a.deleted)
                )
        for ident, u in users.items():
            out.add(
                User(
                    ident,
                    u.title,
                    u.type,
                    u.account_type,
                    u.first_created,
                    tuple(aliases.get(ident, ())),
                )
            )
        return out

    # -- faults for tests --------------------------------------------------------------------

    def set_faults(
        self,
        *,
        outage: bool = False,
        latency_ms: int = 0,
        drop_deliveries: int = 0,
        delivery_timeout_ms: int = 0,
    ) -> None:
        """``outage``: the service answers 503; ``latency_ms``: it answers that much later;
        ``drop_deliveries``: the next N deliveries reach the receiver but their answers are
        lost (GİB retries them); ``delivery_timeout_ms``: how long GİB waits for a receiver
        (0: 30 s), so that a slow receiver counts as not reached."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO gibsim.faults (singleton, outage, latency_ms, drop_deliveries, "
                    "delivery_timeout_ms) VALUES (true, :o, :l, :d, :t) "
                    "ON CONFLICT (singleton) DO UPDATE SET outage = :o, latency_ms = :l, "
                    "drop_deliveries = :d, delivery_timeout_ms = :t"
                ),
                {"o": outage, "l": latency_ms, "d": drop_deliveries, "t": delivery_timeout_ms},
            )

    def faults(self) -> Faults:
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT outage, latency_ms, drop_deliveries, delivery_timeout_ms "
                    "FROM gibsim.faults"
                )
            ).first()
        return Faults(*row) if row else Faults()

    def _take_drop(self) -> bool:
        """Whether this delivery's answer is to be lost (one of ``drop_deliveries``)."""
        with self.engine.begin() as conn:
            return (
                conn.execute(
                    text(
                        "UPDATE gibsim.faults SET drop_deliveries = drop_deliveries - 1 "
                        "WHERE drop_deliveries > 0 RETURNING 1"
                    )
                ).first()
                is not None
            )

    # -- envelopes ---------------------------------------------------------------------------

    def receive(self, integrator_id: str, file_name: str, data: bytes, md5: str) -> Intake:
        """``sendDocument``: the synchronous checks, then the envelope is queued (1000)."""
        if not _FILE_NAME.match(file_name):
            raise SimulatorFault(2006, "Zarf adı GUID olmalı")
        computed = hashlib.md5(data, usedforsecurity=False).hexdigest()  # GİB's transport hash
        if computed.lower() != md5.strip().lower():
            raise SimulatorFault(2000, "Özet değerleri farklı")
        envelope_id = file_name.removesuffix(".zip").upper()
        code = 1000
        with self.engine.begin() as conn:
            inserted = conn.execute(
                text(
                    "INSERT INTO gibsim.envelopes (envelope_id, integrator_id, file_name, md5, "
                    "data, status, description) VALUES (:e, :i, :f, :m, :d, :s, :t) "
                    "ON CONFLICT (envelope_id) DO NOTHING RETURNING envelope_id"
                ),
                {
                    "e": envelope_id,
                    "i": integrator_id,
                    "f": file_name,
                    "m": computed,
                    "d": data,
                    "s": code,
                    "t": status(code).text_tr,
                },
            ).first()
        if inserted is None:
            raise SimulatorFault(2001, "Zarf zaten mevcut")
        return Intake(envelope_id, computed, code)

    def status_of(self, envelope_id: str) -> tuple[int, str, str] | None:
        """(status, description, sender VKN) of an envelope, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT e.status, e.description, coalesce(e.sender_vkn, i.vkn) AS vkn "
                    "FROM gibsim.envelopes e JOIN gibsim.integrators i USING (integrator_id) "
                    "WHERE envelope_id = :e"
                ),
                {"e": envelope_id.upper()},
            ).first()
        return None if row is None else (int(row.status), str(row.description), str(row.vkn))

    def process(self, envelope_id: str) -> int:
        """GİB's asynchronous checks of a queued envelope; its new status."""
        with self.engine.begin() as conn:
            row = conn.execute(
                text(
                    "SELECT integrator_id, file_name, data, status FROM gibsim.envelopes "
                    "WHERE envelope_id = :e FOR UPDATE"
                ),
                {"e": envelope_id},
            ).first()
            if row is None or row.status != 1000:
                return int(row.status) if row is not None else 0
            code, detail, envelope = self._check(
                conn, row.integrator_id, bytes(row.data), row.file_name
            )
            receiver_integrator = None
            if code == 1200 and envelope is not None:
                # Only integrators with an endpoint receive; the others' envelopes stay at 1200.
                receiver_integrator = conn.execute(
                    text(
                        "SELECT a.integrator_id FROM gibsim.aliases a JOIN gibsim.integrators i "
                        "USING (integrator_id) WHERE a.name = :n AND i.endpoint IS NOT NULL "
                        "LIMIT 1"
                    ),
                    {"n": envelope.receiver.alias},
                ).scalar()
            conn.execute(
                text(
                    "UPDATE gibsim.envelopes SET status = :s, description = :t, "
                    "envelope_type = :ty, sender_vkn = :sv, receiver_vkn = :rv, "
                    "receiver_alias = :ra, receiver_integrator = :ri, "
                    "next_attempt_at = CASE WHEN CAST(:ri AS text) IS NULL THEN NULL "
                    "ELSE now() END, updated_at = now() WHERE envelope_id = :e"
                ),
                {
                    "s": code,
                    "t": detail or status(code).text_tr,
                    "ty": envelope.type.value if envelope else None,
                    "sv": envelope.sender.identity if envelope else None,
                    "rv": envelope.receiver.identity if envelope else None,
                    "ra": envelope.receiver.alias if envelope else None,
                    "ri": receiver_integrator,
                    "e": envelope_id,
                },
            )
            # The answer to a USERENVELOPE is asked for (getApplicationResponse): it was sent
            # from a service alias (usergb), which no integrator's endpoint receives at.
            if envelope is not None and envelope.type not in (
                EnvelopeType.SYSTEMENVELOPE,
                EnvelopeType.USERENVELOPE,
            ):
                self._answer_sender(conn, row.integrator_id, envelope, code, detail)
                inside = {
                    **dict.fromkeys(GTB_ALIASES, GTB_VKN),
                    GIB_DESPATCH_ALIAS: GIB_DESPATCH_VKN,
                }
                if code == 1200 and envelope.receiver.alias in inside:
                    # Customs, or GİB's despatch mailbox, takes it at once: its system
                    # response (1200) settles it (1300).
                    self._answer_sender(
                        conn,
                        row.integrator_id,
                        envelope,
                        1200,
                        None,
                        sender=inside[envelope.receiver.alias],
                    )
                    conn.execute(
                        text(
                            "UPDATE gibsim.envelopes SET status = 1300, description = :t, "
                            "updated_at = now() WHERE envelope_id = :e"
                        ),
                        {"t": status(1300).text_tr, "e": envelope_id},
                    )
                    code = 1300
        return code

    def process_stuck(self, *, older_than: float = 5.0) -> int:
        """Process envelopes left queued (1000) by a restart; how many."""
        with self.engine.connect() as conn:
            stuck = (
                conn.execute(
                    text(
                        "SELECT envelope_id FROM gibsim.envelopes WHERE status = 1000 "
                        "AND received_at < now() - make_interval(secs => :s) LIMIT 100"
                    ),
                    {"s": older_than},
                )
                .scalars()
                .all()
            )
        for envelope_id in stuck:
            self.process(envelope_id)
        return len(stuck)

    def _answer_sender(
        self,
        conn: Connection,
        integrator_id: str,
        answered: Envelope,
        code: int,
        detail: str | None,
        *,
        sender: str = GIB_VKN,
    ) -> None:
        """GİB's own system response (S_APR) to the sender of an envelope it processed: from
        ``GIB`` to the sender's alias, delivered to the sending integrator's endpoint (or, with
        ``sender``, the response of a receiver inside GİB's network: customs)."""
        from entegrator.documents.response import ResponseParty, build_system_response
        from entegrator.envelope.sbdh import build as build_envelope
        from entegrator.envelope.zipping import pack

        endpoint = conn.execute(
            text("SELECT endpoint FROM gibsim.integrators WHERE integrator_id = :i"),
            {"i": integrator_id},
        ).scalar()
        if not endpoint:
            return  # an integrator without an endpoint polls
        xml = build_system_response(
            envelope_id=answered.id.upper(),
            envelope_type=answered.type.value,
            code=code,
            description=detail or status(code).text_tr,
            sender=ResponseParty(sender, GTB_TITLE if sender == GTB_VKN else GIB_TITLE),
            receiver=ResponseParty(answered.sender.identity, answered.sender.title or "-"),
            envelope_date=answered.created.date(),
            issued=dt.datetime.now(dt.UTC),
        )
        if sender == GIB_VKN and self.seal is not None:
            xml = sign(xml, self.seal, signing_time=dt.datetime.now(dt.UTC))
        packed = pack(
            build_envelope(
                [xml],
                sender_alias=GIB_ALIAS if sender == GIB_VKN else answered.receiver.alias,
                receiver_alias=answered.sender.alias,
                type=EnvelopeType.SYSTEMENVELOPE,
                created=dt.datetime.now(dt.UTC),
            )
        )
        conn.execute(
            text(
                "INSERT INTO gibsim.envelopes (envelope_id, integrator_id, file_name, md5, data, "
                "status, description, envelope_type, sender_vkn, receiver_vkn, receiver_alias, "
                "receiver_integrator, next_attempt_at) VALUES (:e, :i, :f, :m, :d, 1200, :t, "
                "'SYSTEMENVELOPE', :sv, :rv, :ra, :i, now())"
            ),
            {
                "e": packed.name.removesuffix(".zip").upper(),
                "i": integrator_id,
                "f": packed.name,
                "m": packed.md5,
                "d": packed.data,
                "t": status(1200).text_tr,
                "sv": sender,
                "rv": answered.sender.identity,
                "ra": answered.sender.alias,
            },
        )

    # -- delivery ------------------------------------------------------------------------------

    def deliver_due(self, *, limit: int = 20) -> int:
        """Deliver processed envelopes whose turn has come; how many were tried.

        Each is leased first (its next attempt moved on), delivered outside any transaction,
        then recorded: delivered → 1220 (the receiver's system response is awaited), failed →
        1210 and tried again later, with the pause doubling, until ``max_attempts`` → 1215.
        """
        from entegrator.gib.soap import DocumentResponse, GibFaultError, SendDocument, build
        from entegrator.gib.soap import parse_response as parse_soap

        with self.engine.begin() as conn:
            due = conn.execute(
                text(
                    "WITH d AS MATERIALIZED (SELECT envelope_id FROM gibsim.envelopes "
                    "WHERE status IN (1200, 1210) AND next_attempt_at <= now() "
                    "ORDER BY next_attempt_at LIMIT :l FOR UPDATE SKIP LOCKED) "
                    "UPDATE gibsim.envelopes e SET next_attempt_at = now() + interval '5 minutes' "
                    "FROM d, gibsim.integrators i "
                    "WHERE e.envelope_id = d.envelope_id "
                    "AND i.integrator_id = e.receiver_integrator "
                    "RETURNING e.envelope_id, e.file_name, e.data, e.md5, e.attempts, "
                    "e.envelope_type, "
                    "i.endpoint, i.delivery_token"
                ),
                {"l": limit},
            ).all()

        timeout = self.faults().delivery_timeout_ms / 1000 or 30.0

        def attempt(row: Any) -> None:
            delivered = False
            if row.endpoint:
                content_type, body = build(SendDocument(row.file_name, bytes(row.data), row.md5))
                headers = {"Content-Type": content_type}
                if row.delivery_token:
                    headers["Authorization"] = f"Bearer {row.delivery_token}"
                try:
                    reply = self._http.post(
                        row.endpoint, content=body, headers=headers, timeout=timeout
                    )
                    answer = parse_soap(reply.headers.get("content-type", ""), reply.content)
                    delivered = (
                        isinstance(answer, DocumentResponse)
                        and answer.hash.lower() == row.md5.lower()
                        and not self._take_drop()  # delivered, but the answer is lost
                    )
                except (httpx.HTTPError, GibFaultError, EntegratorError):
                    delivered = False
            attempts = row.attempts + 1
            if delivered:
                # A system response answers nothing back: delivered is done.
                code = 1300 if row.envelope_type == "SYSTEMENVELOPE" else 1220
                when = None
            elif attempts >= self.max_attempts:
                code, when = 1215, None
            else:
                pause = backoff(attempts, first=self.retry_seconds, cap=3600.0)
                code, when = 1210, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=pause)
            with self.engine.begin() as conn:
                conn.execute(
                    text(  # a system response may have settled it meanwhile: keep that
                        "UPDATE gibsim.envelopes SET status = :s, description = :t, "
                        "attempts = :a, next_attempt_at = :n, updated_at = now() "
                        "WHERE envelope_id = :e AND status IN (1200, 1210)"
                    ),
                    {
                        "s": code,
                        "t": status(code).text_tr,
                        "a": attempts,
                        "n": when,
                        "e": row.envelope_id,
                    },
                )

        # Several receivers (or one receiver's several threads) are served at once, as GİB does.
        list(self._pool.map(attempt, due))
        return len(due)

    def _check(
        self, conn: Connection, integrator_id: str, data: bytes, file_name: str
    ) -> tuple[int, str | None, Envelope | None]:
        envelope_id = file_name.removesuffix(".zip").upper()
        try:
            envelope, xml = unpack(data, name=file_name)
        except EnvelopeError as exc:
            return exc.gib_code or 1140, exc.text_tr, None
        seal_vkn = conn.execute(
            text("SELECT vkn FROM gibsim.integrators WHERE integrator_id = :i"),
            {"i": integrator_id},
        ).scalar()
        refused = envelope_refusal(
            self.validator,
            xml,
            envelope,
            checker=Checker.GIB,
            name=f"{envelope_id}.xml",
            trust=self.trust,
            integrators=(str(seal_vkn),) if seal_vkn else (),
        ).refused
        if refused is not None:
            return refused[0], refused[1], envelope
        if envelope.type is EnvelopeType.SYSTEMENVELOPE:
            return self._check_system(conn, integrator_id, envelope), None, envelope
        if envelope.type is EnvelopeType.USERENVELOPE:
            code, detail = self._check_user(conn, integrator_id, str(seal_vkn or ""), envelope)
            return code, detail, envelope
        if envelope.type in (EnvelopeType.SENDERENVELOPE, EnvelopeType.POSTBOXENVELOPE):
            wrong_alias = self._check_aliases(conn, integrator_id, envelope)
            if wrong_alias is not None:
                return wrong_alias, None, envelope
            refused = self._check_receipts(conn, envelope, envelope_id)
            if refused is not None:
                return refused[0], refused[1], envelope
            for document in envelope.documents:
                ettn, number = _ids(document)
                if not ettn:
                    continue
                taken = conn.execute(
                    text(
                        "INSERT INTO gibsim.documents (ettn, number, sender_vkn, envelope_id, "
                        "registered_at) VALUES (:u, :n, :s, :e, :at) "
                        "ON CONFLICT (ettn) DO NOTHING RETURNING ettn"
                    ),
                    {
                        "u": ettn,
                        "n": number,
                        "s": envelope.sender.identity,
                        "e": envelope_id,
                        "at": self.clock(),
                    },
                ).first()
                if taken is None:
                    return 1163, None, envelope
        return 1200, None, envelope

    def _check_user(
        self, conn: Connection, integrator_id: str, integrator_vkn: str, envelope: Envelope
    ) -> tuple[int, str | None]:
        """A USERENVELOPE (GİB's schema and schematron passed): each message signed by the
        sending integrator's seal, whose VKN GİB has on file, then applied to the user list.
        Success settles it (1300); a refusal is 1182 (adding) or 1183 (removing) with the
        reason, and changes nothing."""
        document = "DespatchAdvice" if envelope.sender.alias == "edespatch" else "Invoice"
        if envelope.sender.identity != integrator_vkn:
            refused = 1183 if envelope.groups[0].element_type == "CANCELUSERACCOUNT" else 1182
            return refused, (
                f"OASenderCheck: zarfı gönderen ({envelope.sender.identity}) kayıtlı "
                f"entegratör değil / the sender is not the registered integrator"
            )
        now = dt.datetime.now(dt.UTC)
        for xml in envelope.documents:
            try:
                message = read_user_account(xml)
            except EntegratorError as exc:
                return 1182, exc.text_tr[:500]
            refused = 1182 if message.action is Action.PROCESS else 1183
            problems = [f for f in verify(xml, trust=self.trust) if f.severity is Severity.ERROR]
            if problems:
                return signature_code(problems), (
                    f"OASignatureCheck: {problems[0].code}: {problems[0].message_tr}"
                )[:500]
            if message.integrator != integrator_vkn:
                return refused, "OASenderCheck-3: oa:LogicalID gönderen entegratör değil"
            if message.action is Action.PROCESS:
                detail = self._enrol(conn, integrator_id, message, document, now)
            else:
                detail = self._cancel(conn, integrator_id, message, document, now)
            if detail is not None:
                return refused, detail
        return 1300, None

    def _enrol(
        self,
        conn: Connection,
        integrator_id: str,
        message: UserAccountMessage,
        document: str,
        now: dt.datetime,
    ) -> str | None:
        user = message.user
        other = conn.execute(
            text(
                "SELECT integrator_id FROM gibsim.aliases WHERE identifier = :u "
                "AND document = :d AND integrator_id <> :g AND deleted IS NULL LIMIT 1"
            ),
            {"u": user.identifier, "d": document, "g": integrator_id},
        ).scalar()
        if other is not None:
            return (
                f"{user.identifier} başka bir özel entegratörde kayıtlı; önce o entegratör "
                f"kullanıcıyı iptal etmeli / {user.identifier} is served by another integrator, "
                f"which must cancel it first"
            )
        for account in message.accounts:
            if account.alias is None:
                continue
            taken = conn.execute(
                text(
                    "SELECT identifier, integrator_id FROM gibsim.aliases WHERE name = :n "
                    "AND kind = :k AND document = :d AND deleted IS NULL"
                ),
                {"n": account.alias, "k": account.role, "d": document},
            ).first()
            if taken is not None and (
                taken.identifier != user.identifier or taken.integrator_id != integrator_id
            ):
                return f"{account.alias} başka bir kullanıcının / belongs to another user"
        public = message.option in ("1", "51")
        conn.execute(
            text(
                "INSERT INTO gibsim.users (identifier, title, type, account_type, first_created) "
                "VALUES (:i, :t, :ty, :a, :f) ON CONFLICT (identifier) DO UPDATE SET title = :t"
            ),
            {
                "i": user.identifier,
                "t": user.title or user.identifier,
                "ty": "KAMU" if public else "OZEL",
                "a": "OZELENTEGRASYON",
                "f": now,
            },
        )
        for account in message.accounts:
            if account.alias is None:
                continue
            conn.execute(
                text(
                    "INSERT INTO gibsim.aliases (name, kind, document, identifier, "
                    "integrator_id, created, deleted) VALUES (:n, :k, :d, :i, :g, :c, NULL) "
                    "ON CONFLICT (name, kind, document) DO UPDATE SET identifier = :i, "
                    "integrator_id = :g, deleted = NULL, created = CASE WHEN "
                    "gibsim.aliases.deleted IS NULL THEN gibsim.aliases.created ELSE :c END"
                ),
                {
                    "n": account.alias,
                    "k": account.role,
                    "d": document,
                    "i": user.identifier,
                    "g": integrator_id,
                    "c": now,
                },
            )
        return None

    def _cancel(
        self,
        conn: Connection,
        integrator_id: str,
        message: UserAccountMessage,
        document: str,
        now: dt.datetime,
    ) -> str | None:
        user = message.user
        closed = 0
        for account in message.accounts:
            closed += conn.execute(
                text(
                    "UPDATE gibsim.aliases SET deleted = :t WHERE identifier = :u "
                    "AND integrator_id = :g AND document = :d AND deleted IS NULL "
                    "AND (CAST(:n AS text) IS NULL OR (name = :n AND kind = :k))"
                ),
                {
                    "t": now,
                    "u": user.identifier,
                    "g": integrator_id,
                    "d": document,
                    "n": account.alias,
                    "k": account.role,
                },
            ).rowcount
        if not closed:
            return (
                f"{user.identifier} için bu entegratörün açık etiketi yok / no open alias of "
                f"this integrator for {user.identifier}"
            )
        return None

    def _check_system(self, conn: Connection, integrator_id: str, envelope: Envelope) -> int:
        """A receiver's system response: from one of the calling integrator's aliases to a
        known alias. It settles the envelope it answers: 1300 when that was processed (1200),
        1230 otherwise."""
        from entegrator.documents.response import read_response

        sender = conn.execute(
            text("SELECT integrator_id FROM gibsim.aliases WHERE name = :n LIMIT 1"),
            {"n": envelope.sender.alias},
        ).scalar()
        if sender != integrator_id:
            return 1171
        known = conn.execute(
            text("SELECT 1 FROM gibsim.aliases WHERE name = :n LIMIT 1"),
            {"n": envelope.receiver.alias},
        ).scalar()
        if known is None:
            return 1181
        for document in envelope.documents:
            facts = read_response(document)
            if not facts.system or facts.status_code is None:
                continue
            settled = 1300 if facts.status_code == 1200 else 1230
            conn.execute(
                text(
                    "UPDATE gibsim.envelopes SET status = :s, description = :t, "
                    "updated_at = now() WHERE envelope_id = :e AND status IN (1200, 1210, 1220)"
                ),
                {"s": settled, "t": status(settled).text_tr, "e": facts.reference.upper()},
            )
        return 1200

    def _check_receipts(
        self, conn: Connection, envelope: Envelope, envelope_id: str
    ) -> tuple[int, str] | None:
        """A receipt answer (ReceiptAdvice) answers its despatch once, within 7 days of the
        despatch's registration at GİB; (code, description) of a refusal, or None."""
        if envelope.type is not EnvelopeType.POSTBOXENVELOPE:
            return None
        from entegrator.documents import safe_xml
        from entegrator.documents.ns import CAC, CBC

        for document in envelope.documents:
            root = safe_xml.parse(document)
            if root.tag != _RECEIPT_TAG:
                continue
            despatch = (root.findtext(f"{CAC}DespatchDocumentReference/{CBC}ID") or "").strip()
            row = conn.execute(
                text(
                    "SELECT registered_at, answered_by FROM gibsim.documents "
                    "WHERE ettn = :u FOR UPDATE"
                ),
                {"u": despatch.upper()},
            ).first()
            if row is None:
                continue  # a despatch GİB did not carry (another network): not checked
            if row.answered_by is not None:
                return RECEIPT_TWICE, "İrsaliye daha önce yanıtlanmış (irsaliye yanıtı mükerrer)"
            if self.clock() - row.registered_at > RECEIPT_WINDOW:
                return (
                    RECEIPT_LATE,
                    "İrsaliye yanıtı 7 günlük yanıt süresi geçtikten sonra gönderilemez",
                )
            conn.execute(
                text("UPDATE gibsim.documents SET answered_by = :e WHERE ettn = :u"),
                {"e": envelope_id, "u": despatch.upper()},
            )
        return None

    def _check_aliases(
        self, conn: Connection, integrator_id: str, envelope: Envelope
    ) -> int | None:
        now = dt.datetime.now(dt.UTC)
        sender_kind, receiver_kind = (
            ("GB", "PK") if envelope.type is EnvelopeType.SENDERENVELOPE else ("PK", "GB")
        )
        # e-İrsaliye documents travel between despatch aliases, invoices between invoice ones.
        document = (
            DESPATCH_ADVICE
            if any(safe_root_tag(d) in _DESPATCH_TAGS for d in envelope.documents)
            else "Invoice"
        )
        sender = conn.execute(
            text(
                "SELECT identifier, integrator_id FROM gibsim.aliases WHERE name = :n "
                "AND kind = :k AND document = :d "
                "AND created <= :t AND (deleted IS NULL OR deleted > :t)"
            ),
            {"n": envelope.sender.alias, "k": sender_kind, "d": document, "t": now},
        ).first()
        if (
            sender is None
            or sender.identifier != envelope.sender.identity
            or sender.integrator_id != integrator_id
        ):
            return 1171
        receiver = conn.execute(
            text(
                "SELECT identifier, created, deleted FROM gibsim.aliases WHERE name = :n "
                "AND kind = :k AND document = :d"
            ),
            {"n": envelope.receiver.alias, "k": receiver_kind, "d": document},
        ).first()
        if receiver is None:
            return 1181
        active = receiver.created <= now and (receiver.deleted is None or receiver.deleted > now)
        # GİB's despatch mailbox takes any receiver's despatch (the receiver stays in the XML).
        mine = (
            receiver.identifier == envelope.receiver.identity
            or envelope.receiver.alias == GIB_DESPATCH_ALIAS
        )
        if not mine or not active:
            return 1172
        return None


def safe_root_tag(document: bytes) -> str:
    """The root element's tag of a document ('' when it does not parse)."""
    from entegrator.documents import safe_xml
    from entegrator.documents.errors import XMLError

    try:
        tag = safe_xml.parse(document).tag
    except XMLError:
        return ""
    return tag if isinstance(tag, str) else ""


def _ids(document: bytes) -> tuple[str | None, str | None]:
    from entegrator.documents import safe_xml
    from entegrator.documents.ns import CBC

    root = safe_xml.parse(document)
    ettn = root.findtext(f"{CBC}UUID")
    number = root.findtext(f"{CBC}ID")
    return (ettn.strip().upper() if ettn else None), (number.strip() if number else None)


def new_envelope_id() -> str:
    return str(uuid.uuid4()).upper()
