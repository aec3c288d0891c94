"""A tenant's company details and logo (Ayarlar → Şirket bilgileri).

The invoice form fills the supplier from these details; views may print the logo. A logo is
a PNG or JPEG image of at most 512 KiB, recognised by its first bytes (not by what the
browser claims).
"""

from __future__ import annotations

import uuid
from typing import Any

from entegrator.services.errors import RequestError
from entegrator.store import Database, audit, company

__all__ = ["DETAIL_FIELDS", "MAX_LOGO_BYTES", "details", "logo", "save_details", "save_logo"]

MAX_LOGO_BYTES = 512 * 1024
# field → (Turkish label, English label, required)
DETAIL_FIELDS: dict[str, tuple[str, str, bool]] = {
    "tax_office": ("Vergi dairesi", "Tax office", True),
    "street": ("Cadde / sokak", "Street", False),
    "building_number": ("Bina no", "Building number", False),
    "district": ("İlçe", "District", True),
    "city": ("İl", "City", True),
    "postal_zone": ("Posta kodu", "Postal code", False),
    "telephone": ("Telefon", "Telephone", False),
    "email": ("E-posta", "E-mail", False),
    "website": ("Web sitesi", "Website", False),
    "mersis": ("MERSİS no", "MERSIS number", False),
    "person_name": ("Ad soyad (şahıs şirketi)", "Full name (sole trader)", False),
}


def details(db: Database, tenant_id: uuid.UUID) -> dict[str, Any]:
    with db.tenant(tenant_id) as conn:
        return company.get_details(conn, tenant_id)


def save_details(
    db: Database, tenant_id: uuid.UUID, values: dict[str, str], *, actor: str
) -> dict[str, str]:
    """Store the details; returns the problems per field (nothing stored when there is one)."""
    clean = {k: str(values.get(k, "")).strip()[:500] for k in DETAIL_FIELDS}
    problems = {
        k: f"{label} zorunlu"
        for k, (label, _en, required) in DETAIL_FIELDS.items()
        if required and not clean[k]
    }
    if clean["email"] and "@" not in clean["email"]:
        problems["email"] = "Geçerli bir e-posta adresi girin"
    if problems:
        return problems
    with db.tenant(tenant_id) as conn:
        stored = {k: v for k, v in clean.items() if v}
        company.set_details(conn, tenant_id, stored)
        audit.append_audit(conn, tenant_id, actor=actor, action="company.details", data=stored)
    return {}


class LogoError(RequestError):
    code = "LOGO_INVALID"
    message_tr = "Logo PNG veya JPEG olmalı ve {limit} KB'ı geçmemeli"
    message_en = "The logo must be a PNG or JPEG of at most {limit} KB"


def _media_type(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def save_logo(db: Database, tenant_id: uuid.UUID, data: bytes | None, *, actor: str) -> None:
    """Store (or with ``None`` remove) the logo; raises :class:`LogoError`."""
    media = None
    if data is not None:
        media = _media_type(data)
        if media is None or len(data) > MAX_LOGO_BYTES:
            raise LogoError(where="logo", limit=MAX_LOGO_BYTES // 1024)
    with db.tenant(tenant_id) as conn:
        company.set_logo(conn, tenant_id, data, media)
        audit.append_audit(
            conn,
            tenant_id,
            actor=actor,
            action="company.logo",
            data={"bytes": len(data) if data else 0, "type": media},
        )


def logo(db: Database, tenant_id: uuid.UUID) -> tuple[bytes, str] | None:
    with db.tenant(tenant_id) as conn:
        return company.get_logo(conn, tenant_id)
