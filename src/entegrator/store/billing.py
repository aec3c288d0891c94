"""Billing: plans, plan assignments, accounts, credit packages, the credit ledger, usage records,
low-credit warnings and monthly statements (migration 0012).

The credit balance is the sum of the ledger. Each entry carries the balance after it, written
under the lock of the tenant's account row (:func:`lock_account`), so the newest entry gives
the balance in one row and :func:`ledger_sum` can always check it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "Account",
    "Assignment",
    "BilledTenant",
    "LedgerEntry",
    "LowCredits",
    "Package",
    "Plan",
    "Statement",
    "account",
    "account_party",
    "add_package",
    "append_entry",
    "assign_plan",
    "assignments",
    "billed_tenants",
    "create_plan",
    "credits_used",
    "ensure_account",
    "insert_statement",
    "insert_warning",
    "last_entry",
    "latest_warning",
    "ledger",
    "ledger_sum",
    "list_plans",
    "lock_account",
    "mark_mailed",
    "measure",
    "notify",
    "packages",
    "plan_by_name",
    "plan_on",
    "record_usage",
    "set_contacts",
    "set_party",
    "set_statement_invoice",
    "set_warn_reference",
    "statement",
    "statements",
    "tenants_with_expired_packages",
    "unmailed_warnings",
    "usage_totals",
]


@dataclass(frozen=True)
class Plan:
    plan_id: uuid.UUID
    name: str
    monthly_fee: Decimal
    kdv_rate: Decimal
    prepaid: bool
    included: dict[str, int] = field(default_factory=dict)
    unit_prices: dict[str, Decimal] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "monthly_fee": str(self.monthly_fee),
            "kdv_rate": str(self.kdv_rate),
            "prepaid": self.prepaid,
            "included": dict(self.included),
            "unit_prices": {k: str(v) for k, v in self.unit_prices.items()},
        }


def _plan(row: Any) -> Plan:
    return Plan(
        plan_id=row.plan_id,
        name=row.name,
        monthly_fee=Decimal(row.monthly_fee),
        kdv_rate=Decimal(row.kdv_rate),
        prepaid=bool(row.prepaid),
        included={k: int(v) for k, v in (row.included or {}).items()},
        unit_prices={k: Decimal(str(v)) for k, v in (row.unit_prices or {}).items()},
    )


def create_plan(
    conn: Connection,
    *,
    name: str,
    monthly_fee: Decimal,
    kdv_rate: Decimal,
    prepaid: bool,
    included: dict[str, int],
    unit_prices: dict[str, Decimal],
) -> Plan | None:
    """A new plan (system transaction); None when the name is taken."""
    row = conn.execute(
        text(
            "INSERT INTO billing_plans (name, monthly_fee, kdv_rate, prepaid, included, "
            "unit_prices) VALUES (:n, :f, :k, :p, CAST(:i AS jsonb), CAST(:u AS jsonb)) "
            "ON CONFLICT (name) DO NOTHING RETURNING plan_id, name, monthly_fee, kdv_rate, "
            "prepaid, included, unit_prices"
        ),
        {
            "n": name,
            "f": monthly_fee,
            "k": kdv_rate,
            "p": prepaid,
            "i": json.dumps(included),
            "u": json.dumps({k: str(v) for k, v in unit_prices.items()}),
        },
    ).first()
    return _plan(row) if row is not None else None


def list_plans(conn: Connection) -> list[Plan]:
    rows = conn.execute(
        text(
            "SELECT plan_id, name, monthly_fee, kdv_rate, prepaid, included, unit_prices "
            "FROM billing_plans ORDER BY name"
        )
    ).all()
    return [_plan(r) for r in rows]


def plan_by_name(conn: Connection, name: str) -> Plan | None:
    row = conn.execute(
        text(
            "SELECT plan_id, name, monthly_fee, kdv_rate, prepaid, included, unit_prices "
            "FROM billing_plans WHERE name = :n"
        ),
        {"n": name},
    ).first()
    return _plan(row) if row is not None else None


_PLAN_ON = text(
    "SELECT p.plan_id, p.name, p.monthly_fee, p.kdv_rate, p.prepaid, p.included, p.unit_prices "
    "FROM plan_assignments a JOIN billing_plans p ON p.plan_id = a.plan_id "
    "WHERE a.tenant_id = :t AND a.effective_from <= :d ORDER BY a.effective_from DESC LIMIT 1"
)


def plan_on(conn: Connection, tenant_id: uuid.UUID, day: dt.date) -> Plan | None:
    """The tenant's plan on ``day`` (None: no plan yet)."""
    row = conn.execute(_PLAN_ON, {"t": tenant_id, "d": day}).first()
    return _plan(row) if row is not None else None


@dataclass(frozen=True)
class Assignment:
    effective_from: dt.date
    plan: Plan


def assign_plan(
    conn: Connection, tenant_id: uuid.UUID, plan_id: uuid.UUID, effective_from: dt.date, actor: str
) -> None:
    """The tenant's plan from ``effective_from`` on (replaces one set for the same day)."""
    ensure_account(conn, tenant_id)
    conn.execute(
        text(
            "INSERT INTO plan_assignments (tenant_id, effective_from, plan_id, assigned_by) "
            "VALUES (:t, :f, :p, :a) ON CONFLICT (tenant_id, effective_from) "
            "DO UPDATE SET plan_id = EXCLUDED.plan_id, assigned_by = EXCLUDED.assigned_by, "
            "assigned_at = now()"
        ),
        {"t": tenant_id, "f": effective_from, "p": plan_id, "a": actor},
    )


def assignments(conn: Connection, tenant_id: uuid.UUID) -> list[Assignment]:
    """The tenant's plan history, oldest first."""
    rows = conn.execute(
        text(
            "SELECT a.effective_from, p.plan_id, p.name, p.monthly_fee, p.kdv_rate, p.prepaid, "
            "p.included, p.unit_prices FROM plan_assignments a "
            "JOIN billing_plans p ON p.plan_id = a.plan_id "
            "WHERE a.tenant_id = :t ORDER BY a.effective_from"
        ),
        {"t": tenant_id},
    ).all()
    return [Assignment(r.effective_from, _plan(r)) for r in rows]


@dataclass(frozen=True)
class BilledTenant:
    tenant_id: uuid.UUID
    vkn: str
    name: str
    created_on: dt.date


def billed_tenants(conn: Connection, until: dt.date) -> list[BilledTenant]:
    """Tenants with a plan in force on or before ``until`` (system transaction)."""
    rows = conn.execute(
        text(
            "SELECT t.tenant_id, t.vkn, t.name, "
            "(t.created_at AT TIME ZONE 'Europe/Istanbul')::date AS created_on FROM tenants t "
            "WHERE EXISTS (SELECT 1 FROM plan_assignments a WHERE a.tenant_id = t.tenant_id "
            "AND a.effective_from <= :u) ORDER BY t.vkn"
        ),
        {"u": until},
    ).all()
    return [BilledTenant(r.tenant_id, r.vkn, r.name, r.created_on) for r in rows]


# -- the account row: the lock of the credits ----------------------------------------------------


@dataclass(frozen=True)
class Account:
    warn_reference: int
    warn_seq: int


def ensure_account(conn: Connection, tenant_id: uuid.UUID) -> None:
    conn.execute(
        text("INSERT INTO billing_accounts (tenant_id) VALUES (:t) ON CONFLICT DO NOTHING"),
        {"t": tenant_id},
    )


_LOCK = text(
    "SELECT warn_reference, warn_seq FROM billing_accounts WHERE tenant_id = :t FOR UPDATE"
)


def lock_account(conn: Connection, tenant_id: uuid.UUID) -> Account | None:
    """Lock the tenant's account row until the transaction ends (None: no account)."""
    row = conn.execute(_LOCK, {"t": tenant_id}).first()
    return Account(int(row.warn_reference), int(row.warn_seq)) if row is not None else None


def account(conn: Connection, tenant_id: uuid.UUID) -> Account | None:
    """The tenant's account, without locking it."""
    row = conn.execute(
        text("SELECT warn_reference, warn_seq FROM billing_accounts WHERE tenant_id = :t"),
        {"t": tenant_id},
    ).first()
    return Account(int(row.warn_reference), int(row.warn_seq)) if row is not None else None


def set_warn_reference(conn: Connection, tenant_id: uuid.UUID, reference: int, seq: int) -> None:
    conn.execute(
        text("UPDATE billing_accounts SET warn_reference = :r, warn_seq = :s WHERE tenant_id = :t"),
        {"t": tenant_id, "r": reference, "s": seq},
    )


def set_contacts(conn: Connection, tenant_id: uuid.UUID, emails: list[str]) -> None:
    ensure_account(conn, tenant_id)
    conn.execute(
        text("UPDATE billing_accounts SET contact_emails = :e WHERE tenant_id = :t"),
        {"t": tenant_id, "e": emails},
    )


def set_party(conn: Connection, tenant_id: uuid.UUID, party: dict[str, Any]) -> None:
    ensure_account(conn, tenant_id)
    conn.execute(
        text("UPDATE billing_accounts SET party = CAST(:p AS jsonb) WHERE tenant_id = :t"),
        {"t": tenant_id, "p": json.dumps(party)},
    )


def account_party(
    conn: Connection, tenant_id: uuid.UUID
) -> tuple[dict[str, Any] | None, list[str]]:
    """The tenant's party for the integrator's invoices and its billing contacts."""
    row = conn.execute(
        text("SELECT party, contact_emails FROM billing_accounts WHERE tenant_id = :t"),
        {"t": tenant_id},
    ).first()
    if row is None:
        return None, []
    return row.party, list(row.contact_emails or [])


# -- the ledger ----------------------------------------------------------------------------------


_LAST = text(
    "SELECT seq, balance_after FROM credit_ledger WHERE tenant_id = :t ORDER BY seq DESC LIMIT 1"
)


def last_entry(conn: Connection, tenant_id: uuid.UUID) -> tuple[int, int]:
    """(seq, balance) of the newest ledger entry; (0, 0) when there is none."""
    row = conn.execute(_LAST, {"t": tenant_id}).first()
    return (int(row.seq), int(row.balance_after)) if row is not None else (0, 0)


_APPEND = text(
    "INSERT INTO credit_ledger (tenant_id, seq, at, delta, balance_after, reason, kind, ref) "
    "VALUES (:t, :s, :at, :d, :b, :r, :k, :ref) ON CONFLICT (tenant_id, reason, ref) DO NOTHING"
)


def append_entry(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    seq: int,
    at: dt.datetime,
    delta: int,
    balance_after: int,
    reason: str,
    kind: str | None,
    ref: str,
) -> bool:
    """Append an entry (the account row must be locked); False when ``ref`` is there already."""
    result = conn.execute(
        _APPEND,
        {
            "t": tenant_id,
            "s": seq,
            "at": at,
            "d": delta,
            "b": balance_after,
            "r": reason,
            "k": kind,
            "ref": ref,
        },
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: dt.datetime
    delta: int
    balance_after: int
    reason: str
    kind: str | None
    ref: str


def ledger(conn: Connection, tenant_id: uuid.UUID) -> list[LedgerEntry]:
    rows = conn.execute(
        text(
            "SELECT seq, at, delta, balance_after, reason, kind, ref FROM credit_ledger "
            "WHERE tenant_id = :t ORDER BY seq"
        ),
        {"t": tenant_id},
    ).all()
    return [LedgerEntry(*r) for r in rows]


def ledger_sum(conn: Connection, tenant_id: uuid.UUID) -> int:
    value = conn.execute(
        text("SELECT COALESCE(sum(delta), 0) FROM credit_ledger WHERE tenant_id = :t"),
        {"t": tenant_id},
    ).scalar_one()
    return int(value)


def credits_used(
    conn: Connection, tenant_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> int:
    """Credits spent by usage in [start, end)."""
    value = conn.execute(
        text(
            "SELECT COALESCE(-sum(delta), 0) FROM credit_ledger WHERE tenant_id = :t "
            "AND reason = 'usage' AND at >= :s AND at < :e"
        ),
        {"t": tenant_id, "s": start, "e": end},
    ).scalar_one()
    return int(value)


# -- packages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    package_id: uuid.UUID
    credits: int
    price: Decimal
    kdv_rate: Decimal
    expires_on: dt.date | None
    bought_at: dt.datetime


def add_package(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    credits: int,
    price: Decimal,
    kdv_rate: Decimal,
    expires_on: dt.date | None,
    bought_at: dt.datetime,
    actor: str,
) -> uuid.UUID:
    ensure_account(conn, tenant_id)
    value = conn.execute(
        text(
            "INSERT INTO credit_packages (tenant_id, credits, price, kdv_rate, expires_on, "
            "bought_at, added_by) VALUES (:t, :c, :p, :k, :x, :at, :a) RETURNING package_id"
        ),
        {
            "t": tenant_id,
            "c": credits,
            "p": price,
            "k": kdv_rate,
            "x": expires_on,
            "at": bought_at,
            "a": actor,
        },
    ).scalar_one()
    return uuid.UUID(str(value))


def packages(
    conn: Connection,
    tenant_id: uuid.UUID,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[Package]:
    """The tenant's packages (bought in [start, end) when given), oldest first."""
    rows = conn.execute(
        text(
            "SELECT package_id, credits, price, kdv_rate, expires_on, bought_at "
            "FROM credit_packages WHERE tenant_id = :t "
            "AND (CAST(:s AS timestamptz) IS NULL OR bought_at >= :s) "
            "AND (CAST(:e AS timestamptz) IS NULL OR bought_at < :e) ORDER BY bought_at"
        ),
        {"t": tenant_id, "s": start, "e": end},
    ).all()
    return [
        Package(
            r.package_id,
            int(r.credits),
            Decimal(r.price),
            Decimal(r.kdv_rate),
            r.expires_on,
            r.bought_at,
        )
        for r in rows
    ]


def tenants_with_expired_packages(conn: Connection, today: dt.date) -> list[str]:
    """VKNs of tenants with a package past its last day and not yet written off (system
    transaction)."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT t.vkn FROM credit_packages p JOIN tenants t USING (tenant_id) "
            "WHERE p.expires_on < :d AND NOT EXISTS (SELECT 1 FROM credit_ledger l "
            "WHERE l.tenant_id = p.tenant_id AND l.reason = 'expiry' "
            "AND l.ref = p.package_id::text) ORDER BY t.vkn"
        ),
        {"d": today},
    ).scalars()
    return [str(v) for v in rows]


# -- usage ---------------------------------------------------------------------------------------


_RECORD = text(
    "INSERT INTO usage_records (tenant_id, kind, event_key, document_id, quantity, at) "
    "VALUES (:t, :k, :e, :d, :q, :at) ON CONFLICT (tenant_id, kind, event_key) DO NOTHING"
)


def record_usage(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    kind: str,
    event_key: str,
    document_id: uuid.UUID | None,
    quantity: Decimal,
    at: dt.datetime,
) -> bool:
    """Record one billable event; False when the same event was recorded before."""
    result = conn.execute(
        _RECORD,
        {"t": tenant_id, "k": kind, "e": event_key, "d": document_id, "q": quantity, "at": at},
    )
    return bool(result.rowcount)


def usage_totals(
    conn: Connection, tenant_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> dict[str, Decimal]:
    """Quantity per kind recorded in [start, end)."""
    rows = conn.execute(
        text(
            "SELECT kind, sum(quantity) FROM usage_records WHERE tenant_id = :t "
            "AND at >= :s AND at < :e GROUP BY kind"
        ),
        {"t": tenant_id, "s": start, "e": end},
    ).all()
    return {str(k): Decimal(q) for k, q in rows}


def measure(conn: Connection, tenant_id: uuid.UUID) -> tuple[int, int]:
    """(active users, bytes stored) of a tenant now: users are the people who may log in to
    the portal (not disabled, any role but ``api``), storage the size of its blobs. API keys
    are not people: an ERP's key costs nothing by itself."""
    users = conn.execute(
        text("SELECT count(*) FROM users WHERE tenant_id = :t AND NOT disabled AND role <> 'api'"),
        {"t": tenant_id},
    ).scalar_one()
    size = conn.execute(
        text("SELECT COALESCE(sum(size), 0) FROM blobs WHERE tenant_id = :t"), {"t": tenant_id}
    ).scalar_one()
    return int(users), int(size)


# -- warnings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LowCredits:
    tenant_id: uuid.UUID
    warn_seq: int
    threshold: int
    balance: int
    reference: int
    created_at: dt.datetime


def insert_warning(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    warn_seq: int,
    threshold: int,
    balance: int,
    reference: int,
) -> bool:
    result = conn.execute(
        text(
            "INSERT INTO billing_warnings (tenant_id, warn_seq, threshold, balance, reference) "
            "VALUES (:t, :s, :th, :b, :r) ON CONFLICT DO NOTHING"
        ),
        {"t": tenant_id, "s": warn_seq, "th": threshold, "b": balance, "r": reference},
    )
    return bool(result.rowcount)


def latest_warning(conn: Connection, tenant_id: uuid.UUID, warn_seq: int) -> LowCredits | None:
    """The lowest threshold crossed since the top-up ``warn_seq``."""
    row = conn.execute(
        text(
            "SELECT tenant_id, warn_seq, threshold, balance, reference, created_at "
            "FROM billing_warnings WHERE tenant_id = :t AND warn_seq = :s "
            "ORDER BY threshold LIMIT 1"
        ),
        {"t": tenant_id, "s": warn_seq},
    ).first()
    return LowCredits(*row) if row is not None else None


def unmailed_warnings(conn: Connection, limit: int = 100) -> list[LowCredits]:
    """Warnings not mailed yet, oldest first, locked (system transaction)."""
    rows = conn.execute(
        text(
            "SELECT tenant_id, warn_seq, threshold, balance, reference, created_at "
            "FROM billing_warnings WHERE mailed_at IS NULL ORDER BY created_at LIMIT :n "
            "FOR UPDATE SKIP LOCKED"
        ),
        {"n": limit},
    ).all()
    return [LowCredits(*r) for r in rows]


def mark_mailed(conn: Connection, w: LowCredits, at: dt.datetime) -> None:
    conn.execute(
        text(
            "UPDATE billing_warnings SET mailed_at = :at WHERE tenant_id = :t AND warn_seq = :s "
            "AND threshold = :th"
        ),
        {"at": at, "t": w.tenant_id, "s": w.warn_seq, "th": w.threshold},
    )


# -- statements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    tenant_id: uuid.UUID
    period: str
    content: dict[str, Any]
    total: Decimal
    invoice_id: uuid.UUID | None
    invoice_number: str | None


_STATEMENT = (
    "SELECT tenant_id, period, content, total, invoice_id, invoice_number FROM billing_statements"
)


def _statement(row: Any) -> Statement:
    return Statement(
        row.tenant_id,
        row.period,
        row.content,
        Decimal(row.total),
        row.invoice_id,
        row.invoice_number,
    )


def insert_statement(
    conn: Connection, tenant_id: uuid.UUID, period: str, content: dict[str, Any], total: Decimal
) -> bool:
    """Store a month's statement; False when it was closed before (it is never rewritten)."""
    result = conn.execute(
        text(
            "INSERT INTO billing_statements (tenant_id, period, content, total) "
            "VALUES (:t, :p, CAST(:c AS jsonb), :tot) ON CONFLICT DO NOTHING"
        ),
        {"t": tenant_id, "p": period, "c": json.dumps(content), "tot": total},
    )
    return bool(result.rowcount)


def statement(conn: Connection, tenant_id: uuid.UUID, period: str) -> Statement | None:
    row = conn.execute(
        text(_STATEMENT + " WHERE tenant_id = :t AND period = :p FOR UPDATE"),
        {"t": tenant_id, "p": period},
    ).first()
    return _statement(row) if row is not None else None


def statements(
    conn: Connection, *, tenant_id: uuid.UUID | None = None, period: str | None = None
) -> list[Statement]:
    rows = conn.execute(
        text(
            _STATEMENT + " WHERE (CAST(:t AS uuid) IS NULL OR tenant_id = :t) "
            "AND (CAST(:p AS text) IS NULL OR period = :p) ORDER BY period, tenant_id"
        ),
        {"t": tenant_id, "p": period},
    ).all()
    return [_statement(r) for r in rows]


def set_statement_invoice(
    conn: Connection, tenant_id: uuid.UUID, period: str, invoice_id: uuid.UUID, number: str
) -> None:
    conn.execute(
        text(
            "UPDATE billing_statements SET invoice_id = :i, invoice_number = :n "
            "WHERE tenant_id = :t AND period = :p"
        ),
        {"t": tenant_id, "p": period, "i": invoice_id, "n": number},
    )


def notify(conn: Connection, event: str, payload: dict[str, Any]) -> bool:
    """Queue ``event`` for the tenant's webhook endpoints (``entegrator_notify``), in the
    caller's tenant transaction."""
    value = conn.execute(
        text("SELECT entegrator_notify(CAST(:e AS text), CAST(:p AS jsonb))"),
        {"e": event, "p": json.dumps(payload)},
    ).scalar()
    return bool(value)
