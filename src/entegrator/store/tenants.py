"""Tenants (mükellefler): the companies an installation serves, and their default series."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

__all__ = [
    "Tenant",
    "create_tenant",
    "despatch_series",
    "find_tenant",
    "get_tenant",
    "mail_from",
    "set_despatch_series",
    "set_mail_from",
    "set_series_defaults",
]


def create_tenant(
    conn: Connection,
    *,
    vkn: str,
    name: str,
    default_series: str = "EFA",
    earsiv_series: str = "EAR",
    internet_series: str = "INT",
    tenant_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A new tenant (system transaction)."""
    tid = tenant_id or uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO tenants (tenant_id, vkn, name, default_series, earsiv_series, "
            "internet_series) VALUES (:t, :vkn, :name, :ds, :es, :is)"
        ),
        {
            "t": tid,
            "vkn": vkn,
            "name": name,
            "ds": default_series,
            "es": earsiv_series,
            "is": internet_series,
        },
    )
    return tid


@dataclass(frozen=True)
class Tenant:
    """A tenant and its default series: ``default_series`` for e-Fatura, ``earsiv_series``
    for e-Arşiv, ``internet_series`` for e-Arşiv internet sales."""

    tenant_id: uuid.UUID
    vkn: str
    name: str
    default_series: str
    earsiv_series: str
    internet_series: str


def get_tenant(conn: Connection, tenant_id: uuid.UUID) -> Tenant:
    row = conn.execute(
        text(
            "SELECT tenant_id, vkn, name, default_series, earsiv_series, internet_series "
            "FROM tenants WHERE tenant_id = :t"
        ),
        {"t": tenant_id},
    ).one()
    return Tenant(*row)


def set_series_defaults(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    efatura: str | None = None,
    earsiv: str | None = None,
    internet: str | None = None,
) -> Tenant:
    """Change the given default series (None keeps one) and return the tenant."""
    conn.execute(
        text(
            "UPDATE tenants SET default_series = COALESCE(:ds, default_series), "
            "earsiv_series = COALESCE(:es, earsiv_series), "
            "internet_series = COALESCE(:is, internet_series) WHERE tenant_id = :t"
        ),
        {"t": tenant_id, "ds": efatura, "es": earsiv, "is": internet},
    )
    return get_tenant(conn, tenant_id)


def find_tenant(
    conn: Connection, *, vkn: str | None = None, tenant_id: uuid.UUID | None = None
) -> uuid.UUID | None:
    """A tenant by its VKN/TCKN or its id; None when there is none."""
    if vkn is not None:
        found = conn.execute(
            text("SELECT tenant_id FROM tenants WHERE vkn = :v"), {"v": vkn}
        ).scalar()
    else:
        found = conn.execute(
            text("SELECT tenant_id FROM tenants WHERE tenant_id = :t"), {"t": tenant_id}
        ).scalar()
    return uuid.UUID(str(found)) if found is not None else None


def set_mail_from(conn: Connection, tenant_id: uuid.UUID, address: str | None) -> bool:
    """The address the tenant's invoices are e-mailed from (None: the installation's);
    False when there is no such tenant."""
    return bool(
        conn.execute(
            text("UPDATE tenants SET mail_from = :a WHERE tenant_id = :t"),
            {"a": address, "t": tenant_id},
        ).rowcount
    )


def mail_from(conn: Connection, tenant_id: uuid.UUID) -> str | None:
    """The tenant's own sender address, if it set one."""
    found = conn.execute(
        text("SELECT mail_from FROM tenants WHERE tenant_id = :t"), {"t": tenant_id}
    ).scalar()
    return None if found is None else str(found)


def despatch_series(conn: Connection, tenant_id: uuid.UUID) -> tuple[str, str]:
    """The tenant's default series for despatch advices and for receipt answers."""
    row = conn.execute(
        text("SELECT despatch_series, receipt_series FROM tenants WHERE tenant_id = :t"),
        {"t": tenant_id},
    ).one()
    return str(row.despatch_series), str(row.receipt_series)


def set_despatch_series(
    conn: Connection, tenant_id: uuid.UUID, *, despatch: str | None, receipt: str | None
) -> tuple[str, str]:
    """Change the given default series of despatch advices and receipt answers (None keeps
    one) and return both."""
    conn.execute(
        text(
            "UPDATE tenants SET despatch_series = COALESCE(:d, despatch_series), "
            "receipt_series = COALESCE(:r, receipt_series) WHERE tenant_id = :t"
        ),
        {"d": despatch, "r": receipt, "t": tenant_id},
    )
    return despatch_series(conn, tenant_id)
