"""Varsayılan seriler: each tenant's default numbering series per kind of invoice.

An invoice takes its number from the series the request names (``?series=``) or, when it
names none, from the tenant's default for its kind: ``efatura`` (every e-Fatura profile),
``earsiv`` (EARSIVFATURA) or ``internet`` (an EARSIVFATURA internet sale). GİB's numbering
is per series and year (``ubl-tr.md`` §3); separate series per kind are the practice
(``earsiv-and-others.md`` §1.2).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Literal

from entegrator.documents.identifiers import numbering
from entegrator.errors import EntegratorError
from entegrator.services.errors import RequestError
from entegrator.store import Database, repo, tenants
from entegrator.store.tenants import Tenant

__all__ = [
    "KINDS",
    "SeriesDefaults",
    "SeriesKind",
    "default_series",
    "get_series_defaults",
    "series_kind",
    "set_series_defaults",
]

SeriesKind = Literal["efatura", "earsiv", "internet"]
KINDS: tuple[SeriesKind, ...] = ("efatura", "earsiv", "internet")


@dataclass(frozen=True)
class SeriesDefaults:
    """A tenant's default series per kind."""

    efatura: str
    earsiv: str
    internet: str

    @classmethod
    def of(cls, tenant: Tenant) -> SeriesDefaults:
        return cls(tenant.default_series, tenant.earsiv_series, tenant.internet_series)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def series_kind(profile: str | None, *, internet: bool) -> SeriesKind:
    """The kind of an invoice by its ProfileID and whether it is an internet sale."""
    if profile == "EARSIVFATURA":
        return "internet" if internet else "earsiv"
    return "efatura"


def default_series(tenant: Tenant, kind: SeriesKind) -> str:
    """The tenant's default series for ``kind``."""
    return getattr(SeriesDefaults.of(tenant), kind)  # type: ignore[no-any-return]


def get_series_defaults(db: Database, tenant_id: uuid.UUID) -> SeriesDefaults:
    with db.tenant(tenant_id) as conn:
        return SeriesDefaults.of(tenants.get_tenant(conn, tenant_id))


def _checked(kind: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return numbering.validate_series(value)
    except EntegratorError as exc:
        raise RequestError(
            where=kind, detail_tr=f"{kind}: {exc.text_tr}", detail_en=f"{kind}: {exc.text_en}"
        ) from None


def set_series_defaults(
    db: Database,
    tenant_id: uuid.UUID,
    *,
    actor: str,
    efatura: str | None = None,
    earsiv: str | None = None,
    internet: str | None = None,
) -> SeriesDefaults:
    """Change the given defaults (None keeps one), audit the change, return all three.

    Raises :class:`RequestError` when a series is not 3 characters of A-Z and 0-9 (nothing
    is changed then).
    """
    values: dict[str, str | None] = {
        k: _checked(k, v) for k, v in zip(KINDS, (efatura, earsiv, internet), strict=True)
    }
    with db.tenant(tenant_id) as conn:
        tenant = tenants.set_series_defaults(
            conn,
            tenant_id,
            efatura=values["efatura"],
            earsiv=values["earsiv"],
            internet=values["internet"],
        )
        changed = {k: v for k, v in values.items() if v is not None}
        repo.append_audit(conn, tenant_id, actor=actor, action="series.defaults", data=changed)
    return SeriesDefaults.of(tenant)
