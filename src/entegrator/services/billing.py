"""Pricing and metering: what an integrator sells, what each tenant used, and its monthly bill.

* **Metering** (:class:`Meter`): every billable event writes a usage record in the
  transaction of the event itself (an invoice issued: ``InvoiceService``; one received:
  ``InboundService``), under a unique key per event, so a retry or a crash never bills twice
  and a rolled-back event bills nothing. A prepaid tenant (its plan says so) spends one credit
  per document: the account row is locked, the balance read from the newest ledger entry, and
  issuing is refused with :class:`CreditsExhaustedError` (402) when no credit (beyond the
  grace) is left. Receiving is never refused: the balance may go negative.
* **Warnings**: when the balance falls through a threshold (percent of the balance right after
  the last top-up), a ``billing.credits_low`` webhook is queued in the same transaction and a
  warning row is kept; :meth:`BillingService.mail_warnings` e-mails it to the tenant's billing
  contacts, :meth:`BillingService.banner` gives the portal its banner.
* **Statements** (:meth:`BillingService.run`): a month per tenant, prorated by day, written
  once; and the integrator's own invoice for it, issued through :class:`InvoiceService` as the
  integrator's tenant under an idempotency key, so a second run issues nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Connection

from entegrator.clock import Clock, utc_now
from entegrator.documents.rounding import round_amount, round_quantity
from entegrator.errors import EntegratorError
from entegrator.services.errors import RequestError
from entegrator.store import Database, audit, gib_users, keys, tenants, users
from entegrator.store import billing as store

__all__ = [
    "CREDITED",
    "ISSUED",
    "KINDS",
    "BillingService",
    "CreditsExhaustedError",
    "Meter",
    "PlanNotFoundError",
    "TenantNotFoundError",
    "month_bounds",
]

log = logging.getLogger(__name__)

KINDS = ("efatura", "earsiv", "despatch", "incoming", "users", "storage_gb")
# Kinds counted one per document, which prepaid tenants pay with credits.
CREDITED = ("efatura", "earsiv", "despatch", "incoming")
# Kinds the tenant issues (refused without credits); ``incoming`` is never refused.
ISSUED = ("efatura", "earsiv", "despatch")
# Kinds measured once a month, at the statement.
GAUGES = ("users", "storage_gb")
TZ = ZoneInfo("Europe/Istanbul")
CENT = Decimal("0.01")
GB = Decimal(1024**3)
_PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
BUY_MORE_TR = "kontör yüklemek için entegratörünüze başvurun"
BUY_MORE_EN = "ask your integrator to add credits"


class CreditsExhaustedError(EntegratorError):
    """A prepaid tenant has no credits left: nothing was stored."""

    code = "CREDITS_EXHAUSTED"
    message_tr = (
        "Kontör bakiyeniz yetersiz (bakiye: {balance}); belge kesilmedi, hiçbir şey "
        "kaydedilmedi. Devam etmek için {buy_tr} (GET /api/v1/usage bakiyeyi gösterir)."
    )
    message_en = (
        "No credits left (balance: {balance}); the document was not issued and nothing was "
        "stored. To go on, {buy_en} (GET /api/v1/usage shows the balance)."
    )
    http_status = 402

    def __init__(self, balance: int = 0, **data: Any) -> None:
        data |= {"buy_tr": BUY_MORE_TR, "buy_en": BUY_MORE_EN}
        super().__init__(balance=balance, **data)
        self.balance = balance

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"balance": self.balance}


class PlanNotFoundError(EntegratorError):
    code = "PLAN_NOT_FOUND"
    message_tr = "Plan bulunamadı: {name}"
    message_en = "No such plan: {name}"
    http_status = 404


class PlanExistsError(EntegratorError):
    code = "PLAN_EXISTS"
    message_tr = "Bu adla bir plan zaten var: {name}"
    message_en = "A plan of this name exists already: {name}"
    http_status = 409


class TenantNotFoundError(EntegratorError):
    code = "TENANT_NOT_FOUND"
    message_tr = "Mükellef bulunamadı: {vkn}"
    message_en = "No such tenant: {vkn}"
    http_status = 404


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``YYYY-MM``; :class:`RequestError` otherwise."""
    match = _PERIOD.match(period or "")
    if match is None:
        raise RequestError(
            where="period",
            detail_tr=f"dönem YYYY-AA biçiminde olmalı: {period!r}",
            detail_en=f"the period must be YYYY-MM: {period!r}",
        )
    year, month = int(match[1]), int(match[2])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _start_of(day: dt.date) -> dt.datetime:
    """The instant ``day`` begins in Türkiye."""
    return dt.datetime.combine(day, dt.time(), TZ)


def _money(value: Decimal) -> Decimal:
    return round_amount(value)


def check_kind(kind: str, where: str) -> str:
    if kind not in KINDS:
        raise RequestError(
            where=where,
            detail_tr=f"bilinmeyen tür {kind!r}; türler: {', '.join(KINDS)}",
            detail_en=f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}",
        )
    return kind


# -- metering --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meter:
    """Records usage in the caller's transaction; see the module's docstring."""

    enabled: bool = True
    grace: int = 0  # credits a prepaid tenant may go below zero when issuing
    thresholds: tuple[int, ...] = (20, 5)  # percent of the balance after the last top-up

    def charge(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        kind: str,
        *,
        event_key: str,
        document_id: uuid.UUID | None,
        at: dt.datetime,
    ) -> None:
        """Bill one ``kind`` event (``event_key`` unique per tenant and kind) in ``conn``'s
        transaction. Issued kinds of a prepaid tenant without credits raise
        :class:`CreditsExhaustedError` before anything is written."""
        if not self.enabled:
            return
        plan = store.plan_on(conn, tenant_id, at.astimezone(TZ).date())
        if plan is None or not plan.prepaid or kind not in CREDITED:
            store.record_usage(
                conn,
                tenant_id,
                kind=kind,
                event_key=event_key,
                document_id=document_id,
                quantity=Decimal(1),
                at=at,
            )
            return
        account = store.lock_account(conn, tenant_id)  # credits are spent one at a time
        if account is None:
            store.ensure_account(conn, tenant_id)
            account = store.lock_account(conn, tenant_id)
            assert account is not None  # noqa: S101 - just created
        seq, balance = store.last_entry(conn, tenant_id)
        if kind in ISSUED and balance - 1 < -self.grace:
            raise CreditsExhaustedError(balance)
        if not store.record_usage(
            conn,
            tenant_id,
            kind=kind,
            event_key=event_key,
            document_id=document_id,
            quantity=Decimal(1),
            at=at,
        ):
            return  # billed before: the same event again
        after = balance - 1
        store.append_entry(
            conn,
            tenant_id,
            seq=seq + 1,
            at=at,
            delta=-1,
            balance_after=after,
            reason="usage",
            kind=kind,
            ref=f"{kind}:{event_key}",
        )
        self._warn(conn, tenant_id, account, balance, after)

    def _warn(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        account: store.Account,
        before: int,
        after: int,
    ) -> None:
        reference = account.warn_reference
        if reference <= 0:
            return
        for threshold in sorted(self.thresholds, reverse=True):
            limit = Decimal(reference) * threshold / 100
            if before > limit >= after and store.insert_warning(
                conn,
                tenant_id,
                warn_seq=account.warn_seq,
                threshold=threshold,
                balance=after,
                reference=reference,
            ):
                store.notify(
                    conn,
                    "billing.credits_low",
                    {
                        "event": "billing.credits_low",
                        "threshold_percent": threshold,
                        "balance": after,
                        "reference": reference,
                    },
                )


# -- the operator's and the tenants' use cases ---------------------------------------------------


@dataclass(frozen=True)
class StatementResult:
    vkn: str
    period: str
    total: Decimal
    created: bool
    invoice_number: str | None = None
    invoice_issued: bool = False
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "vkn": self.vkn,
            "period": self.period,
            "total": str(self.total),
            "created": self.created,
            "invoice_number": self.invoice_number,
            "invoice_issued": self.invoice_issued,
            "note": self.note,
        }


@dataclass
class BillingService:
    db: Database
    meter: Meter
    invoices: Any = None  # InvoiceService: issues the integrator's invoices
    billing_tenant_vkn: str | None = None  # the integrator as a tenant of this installation
    series: str = "ENT"  # the series of the integrator's invoices
    clock: Clock = utc_now
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- plans -----------------------------------------------------------------------------

    def create_plan(
        self,
        *,
        name: str,
        monthly_fee: Decimal = Decimal(0),
        kdv_rate: Decimal = Decimal(20),
        prepaid: bool = False,
        included: dict[str, int] | None = None,
        unit_prices: dict[str, Decimal] | None = None,
    ) -> store.Plan:
        if not _NAME.match(name):
            raise RequestError(
                where="name",
                detail_tr="plan adı 1-64 harf, rakam, '.', '_' veya '-' olmalı",
                detail_en="a plan name is 1-64 letters, digits, '.', '_' or '-'",
            )
        included = included or {}
        unit_prices = unit_prices or {}
        for kind, n in included.items():
            check_kind(kind, "included")
            if n < 0:
                raise RequestError(
                    where="included", detail_tr="negatif miktar", detail_en="negative quantity"
                )
        for kind, price in unit_prices.items():
            check_kind(kind, "unit_prices")
            if price < 0:
                raise RequestError(
                    where="unit_prices", detail_tr="negatif fiyat", detail_en="negative price"
                )
        if monthly_fee < 0 or not (0 <= kdv_rate <= 100):
            raise RequestError(
                where="monthly_fee",
                detail_tr="ücret negatif olamaz, KDV oranı 0-100 arası olmalı",
                detail_en="the fee cannot be negative and the KDV rate is 0-100",
            )
        with self.db.system() as conn:
            plan = store.create_plan(
                conn,
                name=name,
                monthly_fee=_money(monthly_fee),
                kdv_rate=kdv_rate,
                prepaid=prepaid,
                included=included,
                unit_prices={k: _money(v) for k, v in unit_prices.items()},
            )
        if plan is None:
            raise PlanExistsError(name=name)
        return plan

    def plans(self) -> list[store.Plan]:
        with self.db.system() as conn:
            return store.list_plans(conn)

    def _tenant(self, conn: Connection, vkn: str) -> uuid.UUID:
        tid = tenants.find_tenant(conn, vkn=vkn)
        if tid is None:
            raise TenantNotFoundError(vkn=vkn)
        return tid

    def assign(
        self, vkn: str, plan_name: str, *, effective_from: dt.date | None, actor: str
    ) -> dict[str, Any]:
        day = effective_from or self.clock().astimezone(TZ).date()
        with self.db.system() as conn:
            tid = self._tenant(conn, vkn)
            plan = store.plan_by_name(conn, plan_name)
            if plan is None:
                raise PlanNotFoundError(name=plan_name)
            store.assign_plan(conn, tid, plan.plan_id, day, actor)
            audit.append_audit(
                conn,
                tid,
                actor=actor,
                action="billing.plan.assign",
                target=plan.name,
                data={"effective_from": day.isoformat()},
            )
            history = store.assignments(conn, tid)
        return {
            "vkn": vkn,
            "assignments": [
                {"effective_from": a.effective_from.isoformat(), "plan": a.plan.name}
                for a in history
            ],
        }

    def set_contacts(self, vkn: str, emails: Sequence[str]) -> None:
        for e in emails:
            if not re.match(r"^[^\s@<>,]+@[^\s@<>,]+$", e):
                raise RequestError(
                    where="emails",
                    detail_tr=f"geçersiz adres: {e}",
                    detail_en=f"invalid address: {e}",
                )
        with self.db.system() as conn:
            store.set_contacts(conn, self._tenant(conn, vkn), list(emails))

    def set_party(self, vkn: str, party: dict[str, Any]) -> None:
        """The tenant's details on the integrator's invoices (a draft's ``customer``)."""
        from entegrator.documents.model.party import Party

        try:
            Party.model_validate(party)
        except ValidationError as exc:
            raise RequestError(
                where="party",
                detail_tr=f"taraf bilgisi geçersiz: {exc.errors()[0]['msg']}",
                detail_en=f"invalid party: {exc.errors()[0]['msg']}",
            ) from None
        if party.get("vkn", party.get("tckn")) != vkn:
            raise RequestError(
                where="party.vkn",
                detail_tr="taraf bilgisinin VKN/TCKN'si mükellefinkiyle aynı olmalı",
                detail_en="the party's VKN/TCKN must be the tenant's",
            )
        with self.db.system() as conn:
            store.set_party(conn, self._tenant(conn, vkn), party)

    # -- credits ---------------------------------------------------------------------------

    def add_credits(
        self,
        vkn: str,
        credits: int,
        *,
        price: Decimal = Decimal(0),
        kdv_rate: Decimal = Decimal(20),
        expires_on: dt.date | None = None,
        actor: str,
    ) -> dict[str, Any]:
        """A package of ``credits`` bought: one ledger entry; the warnings start afresh."""
        if credits <= 0 or price < 0:
            raise RequestError(
                where="credits",
                detail_tr="kontör sayısı pozitif, fiyat negatif olmamalı",
                detail_en="credits must be positive and the price not negative",
            )
        now = self.clock()
        with self.db.system() as conn:
            tid = self._tenant(conn, vkn)
            package_id = store.add_package(
                conn,
                tid,
                credits=credits,
                price=_money(price),
                kdv_rate=kdv_rate,
                expires_on=expires_on,
                bought_at=now,
                actor=actor,
            )
            store.lock_account(conn, tid)
            seq, balance = store.last_entry(conn, tid)
            store.append_entry(
                conn,
                tid,
                seq=seq + 1,
                at=now,
                delta=credits,
                balance_after=balance + credits,
                reason="topup",
                kind=None,
                ref=str(package_id),
            )
            store.set_warn_reference(conn, tid, balance + credits, seq + 1)
            audit.append_audit(
                conn,
                tid,
                actor=actor,
                action="billing.credits.add",
                target=str(package_id),
                data={"credits": credits, "price": str(price), "balance": balance + credits},
            )
        return {
            "vkn": vkn,
            "package_id": str(package_id),
            "credits": credits,
            "balance": balance + credits,
        }

    def expire_credits(self, vkn: str, *, today: dt.date | None = None) -> int:
        """Write off what is left of packages whose expiry date has passed (first bought,
        first spent); the credits written off."""
        day = today or self.clock().astimezone(TZ).date()
        now = self.clock()
        written = 0
        with self.db.system() as conn:
            tid = self._tenant(conn, vkn)
            store.lock_account(conn, tid)
            entries = store.ledger(conn, tid)
            expired = {e.ref for e in entries if e.reason == "expiry"}
            spent = -sum(e.delta for e in entries if e.delta < 0)
            seq, balance = store.last_entry(conn, tid)
            # Credits are spent from the package that expires first (then the oldest).
            order = sorted(
                store.packages(conn, tid), key=lambda p: (p.expires_on or dt.date.max, p.bought_at)
            )
            for p in order:
                absorbed = min(p.credits, max(spent, 0))
                spent -= absorbed
                left = p.credits - absorbed
                if p.expires_on is None or p.expires_on >= day or str(p.package_id) in expired:
                    continue
                if left > 0:
                    seq, balance = seq + 1, balance - left
                    store.append_entry(
                        conn,
                        tid,
                        seq=seq,
                        at=now,
                        delta=-left,
                        balance_after=balance,
                        reason="expiry",
                        kind=None,
                        ref=str(p.package_id),
                    )
                    written += left
        return written

    def expire_all(self) -> int:
        """:meth:`expire_credits` for every tenant with a package past its last day (the
        worker runs it every hour); the credits written off."""
        today = self.clock().astimezone(TZ).date()
        with self.db.system() as conn:
            due = store.tenants_with_expired_packages(conn, today)
        return sum(self.expire_credits(vkn, today=today) for vkn in due)

    # -- reading ---------------------------------------------------------------------------

    def usage(self, tenant_id: uuid.UUID, *, period: str | None = None) -> dict[str, Any]:
        """What ``GET /api/v1/usage`` answers: the balance, the month's usage per kind, the plan."""
        now = self.clock()
        today = now.astimezone(TZ).date()
        if period is None:
            period = f"{today.year:04d}-{today.month:02d}"
        first, last = month_bounds(period)
        with self.db.tenant(tenant_id) as conn:
            plan = store.plan_on(conn, tenant_id, min(today, last))
            _, balance = store.last_entry(conn, tenant_id)
            totals = store.usage_totals(
                conn, tenant_id, _start_of(first), _start_of(last + dt.timedelta(days=1))
            )
        if first <= today <= last:
            # The month is open: people and storage as they stand now (closing it keeps them).
            with self.db.system() as conn:
                users, size = store.measure(conn, tenant_id)
            totals |= {"users": Decimal(users), "storage_gb": _gb(size)}
        return {
            "period": period,
            "balance": balance,
            "plan": plan.to_dict() if plan is not None else None,
            "usage": {k: _plain(totals.get(k, Decimal(0))) for k in KINDS},
            "banner": self.banner(tenant_id),
        }

    def balance(self, tenant_id: uuid.UUID) -> int:
        with self.db.tenant(tenant_id) as conn:
            return store.last_entry(conn, tenant_id)[1]

    def banner(self, tenant_id: uuid.UUID) -> dict[str, Any] | None:
        """The portal's banner when the credits run low (None: nothing to say)."""
        with self.db.tenant(tenant_id) as conn:
            _, balance = store.last_entry(conn, tenant_id)
            plan = store.plan_on(conn, tenant_id, self.clock().astimezone(TZ).date())
            account = store.account(conn, tenant_id)
            warning = store.latest_warning(conn, tenant_id, account.warn_seq) if account else None
        if plan is None or not plan.prepaid:
            return None
        if balance <= 0:
            level = "exhausted"
        elif warning is not None:
            level = "low"
        else:
            return None
        return {
            "level": level,
            "balance": balance,
            "message_tr": f"Kontör bakiyeniz {balance}; {BUY_MORE_TR}.",
            "message_en": f"Your credit balance is {balance}; {BUY_MORE_EN}.",
        }

    def statements(
        self, *, vkn: str | None = None, period: str | None = None
    ) -> list[dict[str, Any]]:
        with self.db.system() as conn:
            tid = self._tenant(conn, vkn) if vkn else None
            rows = store.statements(conn, tenant_id=tid, period=period)
        return [
            r.content
            | {
                "invoice_id": str(r.invoice_id) if r.invoice_id else None,
                "invoice_number": r.invoice_number,
            }
            for r in rows
        ]

    def tenant_usage(self, vkn: str, *, period: str | None = None) -> dict[str, Any]:
        with self.db.system() as conn:
            tid = self._tenant(conn, vkn)
        return self.usage(tid, period=period) | {"vkn": vkn}

    # -- warnings by e-mail ----------------------------------------------------------------

    def mail_warnings(self, mailer: Any, mail_from: str) -> int:
        """E-mail every warning not mailed yet to its tenant's billing contacts and its admins
        (portal users of the owner role, not disabled); the count.

        Each warning is claimed, sent and marked in a transaction of its own: a mail server
        that is away stops the round (``MailError``, logged) and leaves the rest for the next.
        A tenant without either has its warnings marked (the webhook and the banner still
        tell)."""
        from entegrator.services.mail import MailError

        sent = 0
        for _ in range(100):
            with self.db.system() as conn:
                found = store.unmailed_warnings(conn, limit=1)
                if not found:
                    break
                w = found[0]
                _, contacts = store.account_party(conn, w.tenant_id)
                admins = [
                    u.email
                    for u in users.list_users(conn, w.tenant_id)
                    if u.role == "owner" and not u.disabled
                ]
                # The operator's billing contacts, then the tenant's admins, each once.
                emails = list(dict.fromkeys([*contacts, *admins]))
                if emails:
                    try:
                        mailer.send(_warning_mail(w, emails, mail_from))
                    except MailError as exc:
                        log.warning("low-credit warning not mailed: %s", exc.answer)
                        break
                    sent += 1
                store.mark_mailed(conn, w, self.clock())
        return sent

    # -- the month's statements and invoices -----------------------------------------------

    def compute(self, conn: Connection, t: store.BilledTenant, period: str) -> dict[str, Any]:
        """A tenant's statement for ``period`` from its plans, usage and packages."""
        first, last = month_bounds(period)
        month_days = (last - first).days + 1
        history = store.assignments(conn, t.tenant_id)
        segments: list[tuple[dt.date, dt.date, store.Plan]] = []
        for i, a in enumerate(history):
            until = (
                history[i + 1].effective_from - dt.timedelta(days=1)
                if i + 1 < len(history)
                else last
            )
            start = max(a.effective_from, first, t.created_on)
            end = min(until, last)
            if start <= end:
                segments.append((start, end, a.plan))
        users, size = store.measure(conn, t.tenant_id)
        gauges = {"users": Decimal(users), "storage_gb": _gb(size)}
        period_end = _start_of(last + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)
        for kind, quantity in gauges.items():
            store.record_usage(
                conn,
                t.tenant_id,
                kind=kind,
                event_key=f"month:{period}",
                document_id=None,
                quantity=quantity,
                at=period_end,
            )
        lines: list[dict[str, Any]] = []
        usage_lines: list[dict[str, Any]] = []
        for start, end, plan in segments:
            days = (end - start).days + 1
            factor = Decimal(days) / Decimal(month_days)
            fee = _money(plan.monthly_fee * factor)
            if fee > 0:
                lines.append(
                    _line(
                        f"Aylık abonelik {plan.name} ({start.isoformat()} – {end.isoformat()}, "
                        f"{days}/{month_days} gün)",
                        "fee",
                        Decimal(1),
                        fee,
                        plan.kdv_rate,
                    )
                )
            used = store.usage_totals(
                conn, t.tenant_id, _start_of(start), _start_of(end + dt.timedelta(days=1))
            )
            for kind in KINDS:
                if kind in GAUGES:
                    quantity = gauges[kind]
                    included = Decimal(plan.included.get(kind, 0))
                else:
                    quantity = used.get(kind, Decimal(0))
                    included = round_quantity(Decimal(plan.included.get(kind, 0)) * factor)
                credited = plan.prepaid and kind in CREDITED
                overage = Decimal(0) if credited else max(Decimal(0), quantity - included)
                price = plan.unit_prices.get(kind, Decimal(0))
                amount = _money(overage * price * (factor if kind in GAUGES else 1))
                usage_lines.append(
                    {
                        "plan": plan.name,
                        "from": start.isoformat(),
                        "to": end.isoformat(),
                        "kind": kind,
                        "used": _plain(quantity),
                        "included": _plain(included),
                        "overage": _plain(overage),
                        "unit_price": str(price),
                        "amount": str(amount),
                        "paid_with_credits": credited,
                    }
                )
                if amount > 0:
                    lines.append(
                        _line(
                            f"{_KIND_TR[kind]}: {_plain(overage)} aşım ({plan.name}, "
                            f"{start.isoformat()} – {end.isoformat()})",
                            kind,
                            overage if kind not in GAUGES else Decimal(1),
                            price if kind not in GAUGES else amount,
                            plan.kdv_rate,
                        )
                    )
        bought = store.packages(
            conn, t.tenant_id, _start_of(first), _start_of(last + dt.timedelta(days=1))
        )
        for p in bought:
            lines.append(
                _line(
                    f"Kontör paketi: {p.credits} kontör", "credits", Decimal(1), p.price, p.kdv_rate
                )
            )
        used_credits = store.credits_used(
            conn, t.tenant_id, _start_of(first), _start_of(last + dt.timedelta(days=1))
        )
        lines = [line for line in lines if Decimal(line["amount"]) > 0]
        total = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
        return {
            "vkn": t.vkn,
            "name": t.name,
            "period": period,
            "usage": usage_lines,
            "fee": str(
                sum((Decimal(x["amount"]) for x in lines if x["kind"] == "fee"), Decimal(0))
            ),
            "overage": str(
                sum((Decimal(x["amount"]) for x in lines if x["kind"] in KINDS), Decimal(0))
            ),
            "credits_bought": sum(p.credits for p in bought),
            "credits_bought_amount": str(sum((p.price for p in bought), Decimal(0))),
            "credits_used": used_credits,
            "lines": lines,
            "total": str(_money(total)),
        }

    def run(self, period: str) -> list[StatementResult]:
        """Close ``period``: a statement per tenant with a plan (written once), and the
        integrator's invoice for each (issued once)."""
        _, last = month_bounds(period)
        with self.db.system() as conn:
            billed = store.billed_tenants(conn, last)
        results = []
        for t in billed:
            with self.db.system() as conn:
                created = False
                if store.statement(conn, t.tenant_id, period) is None:
                    content = self.compute(conn, t, period)
                    created = store.insert_statement(
                        conn, t.tenant_id, period, content, Decimal(content["total"])
                    )
            results.append(self._invoice(t, period, created))
        return results

    def _invoice(self, t: store.BilledTenant, period: str, created: bool) -> StatementResult:
        with self.db.system() as conn:
            st = store.statement(conn, t.tenant_id, period)
            assert st is not None  # noqa: S101 - written just before
            party, _ = store.account_party(conn, t.tenant_id)
            integrator = (
                tenants.find_tenant(conn, vkn=self.billing_tenant_vkn)
                if self.billing_tenant_vkn
                else None
            )
            registered = gib_users.is_registered(conn, t.vkn)
        base = StatementResult(t.vkn, period, st.total, created)
        if st.invoice_number is not None:
            return replace(base, invoice_number=st.invoice_number)
        if st.total <= 0:
            return replace(base, note="nothing to invoice")
        if integrator is None or self.invoices is None:
            return replace(base, note="ENTEGRATOR_BILLING_TENANT is not set: no invoice")
        if integrator == t.tenant_id:
            return replace(base, note="the integrator itself: no invoice")
        if party is None:
            return replace(base, note="no billing party set (entegrator billing party)")
        with self.db.system() as conn:
            supplier, _ = store.account_party(conn, integrator)
        if supplier is None:
            return replace(base, note="the integrator has no billing party set")
        draft = self._draft(st, supplier, party, efatura=registered is True)
        from entegrator.documents.model import InvoiceDraft

        key = keys.ApiKey(integrator, uuid.UUID(int=0), "api", "billing")
        try:
            parsed = InvoiceDraft.model_validate(draft)
        except ValidationError as exc:
            return replace(
                base, note=f"no invoice: the draft is not valid: {exc.errors()[0]['msg']}"
            )
        try:
            result = self.invoices.issue(
                key,
                draft=parsed,
                series=self.series,
                idempotency_key=f"billing:{period}:{t.vkn}",
            )
        except EntegratorError as exc:  # this customer's invoice only; the others go on
            log.warning("billing %s %s: no invoice: %s", period, t.vkn, exc.text_en)
            return replace(base, note=f"no invoice: {exc.code}: {exc.text_en}")
        with self.db.system() as conn:
            store.set_statement_invoice(conn, t.tenant_id, period, result.id, result.number)
        return replace(base, invoice_number=result.number, invoice_issued=not result.replayed)

    def _draft(
        self,
        st: store.Statement,
        supplier: dict[str, Any],
        customer: dict[str, Any],
        *,
        efatura: bool,
    ) -> dict[str, Any]:
        first, last = month_bounds(st.period)
        today = self.clock().astimezone(TZ).date()
        lines = [
            {
                "name": line["description"][:200],
                "quantity": line["quantity"],
                "unit_code": "C62",
                "unit_price": line["unit_price"],
                "kdv_percent": line["kdv_rate"],
            }
            for line in st.content["lines"]
        ]
        draft: dict[str, Any] = {
            "profile": "TEMELFATURA" if efatura else "EARSIVFATURA",
            "type": "SATIS",
            "issue_date": today.isoformat(),
            "supplier": supplier,
            "customer": customer,
            "lines": lines,
            "notes": [f"Dönem / period {st.period} ({first.isoformat()} – {last.isoformat()})"],
        }
        return draft


def _warning_mail(w: store.LowCredits, emails: list[str], mail_from: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = ", ".join(emails)
    msg["Subject"] = f"Kontör uyarısı / Low credits: {w.balance}"
    # One message per warning, the same on a retry.
    msg["Message-ID"] = f"<credits-{w.tenant_id}-{w.warn_seq}-{w.threshold}@entegrator>"
    msg.set_content(
        f"Kontör bakiyeniz son yüklemenin %{w.threshold} seviyesinin altına düştü: "
        f"{w.balance} / {w.reference}. Devam etmek için {BUY_MORE_TR}.\n\n"
        f"Your credit balance fell below {w.threshold} % of the last top-up: "
        f"{w.balance} of {w.reference}. To go on, {BUY_MORE_EN}.\n"
    )
    return msg


_KIND_TR = {
    "efatura": "e-Fatura",
    "earsiv": "e-Arşiv fatura",
    "despatch": "e-İrsaliye",
    "incoming": "gelen belge",
    "users": "kullanıcı",
    "storage_gb": "arşiv alanı (GB)",
}


def _gb(size: int) -> Decimal:
    return round_quantity(Decimal(size) / GB, 3)


def _plain(value: Decimal) -> str:
    """A quantity without trailing zeros (``3``, ``0.25``)."""
    text_ = format(value.normalize(), "f")
    return text_


def _line(
    description: str, kind: str, quantity: Decimal, unit_price: Decimal, kdv: Decimal
) -> dict[str, Any]:
    return {
        "description": description,
        "kind": kind,
        "quantity": _plain(quantity),
        "unit_price": str(unit_price),
        "amount": str(_money(quantity * unit_price)),
        "kdv_rate": _plain(kdv),
    }
