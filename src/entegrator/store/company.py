"""A tenant's company details (address, tax office, contact) and its logo, as the portal
keeps them: the invoice form fills the supplier from them and views may print the logo.

Every function runs in the caller's transaction and never commits.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Connection, text

__all__ = ["get_details", "get_logo", "set_details", "set_logo"]


def get_details(conn: Connection, tenant_id: uuid.UUID) -> dict[str, Any]:
    value = conn.execute(
        text("SELECT details FROM company_profiles WHERE tenant_id = :t"), {"t": tenant_id}
    ).scalar()
    return dict(value) if value else {}


def set_details(conn: Connection, tenant_id: uuid.UUID, details: dict[str, Any]) -> None:
    conn.execute(
        text(
            "INSERT INTO company_profiles (tenant_id, details) VALUES (:t, CAST(:d AS jsonb)) "
            "ON CONFLICT (tenant_id) DO UPDATE SET details = EXCLUDED.details, updated_at = now()"
        ),
        {"t": tenant_id, "d": json.dumps(details)},
    )


def get_logo(conn: Connection, tenant_id: uuid.UUID) -> tuple[bytes, str] | None:
    row = conn.execute(
        text("SELECT logo, logo_type FROM company_profiles WHERE tenant_id = :t"),
        {"t": tenant_id},
    ).first()
    if row is None or row.logo is None:
        return None
    return bytes(row.logo), str(row.logo_type)


def set_logo(
    conn: Connection, tenant_id: uuid.UUID, logo: bytes | None, media_type: str | None
) -> None:
    conn.execute(
        text(
            "INSERT INTO company_profiles (tenant_id, logo, logo_type) VALUES (:t, :l, :m) "
            "ON CONFLICT (tenant_id) DO UPDATE SET logo = EXCLUDED.logo, "
            "logo_type = EXCLUDED.logo_type, updated_at = now()"
        ),
        {"t": tenant_id, "l": logo, "m": media_type},
    )
