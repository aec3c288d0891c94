"""Document numbers per series and year: gapless, never given twice (the counter row is the lock).

Invoices, despatch advices and receipt answers (``document``) count apart, even in series of
the same three letters."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, text

__all__ = ["advance_to", "last_number", "next_number", "take_number"]


def next_number(
    conn: Connection, tenant_id: uuid.UUID, prefix: str, year: int, *, document: str = "invoice"
) -> int:
    """The next sequence of a series and year.

    The counter row stays locked until the transaction ends; if it rolls back, so does the
    number. Hence no gaps and no duplicates, however many requests race for it.
    """
    value = conn.execute(
        text(
            "INSERT INTO numbering_series AS s (tenant_id, document, prefix, year, last_value) "
            "VALUES (:t, :k, :p, :y, 1) ON CONFLICT (tenant_id, document, prefix, year) "
            "DO UPDATE SET last_value = s.last_value + 1 RETURNING last_value"
        ),
        {"t": tenant_id, "k": document, "p": prefix, "y": year},
    ).scalar_one()
    return int(value)


def take_number(
    conn: Connection,
    tenant_id: uuid.UUID,
    prefix: str,
    year: int,
    sequence: int,
    *,
    document: str = "invoice",
) -> bool:
    """Take ``sequence`` of a series and year (a number given from outside) if it is the next
    one; False otherwise (a gap, or a number already given). Locks the counter like
    :func:`next_number`, so a racing twin waits and then finds it taken."""
    taken = conn.execute(
        text(
            "INSERT INTO numbering_series AS s (tenant_id, document, prefix, year, last_value) "
            "SELECT :t, :k, :p, :y, :n WHERE :n = 1 OR EXISTS (SELECT 1 FROM numbering_series "
            "WHERE tenant_id = :t AND document = :k AND prefix = :p AND year = :y) "
            "ON CONFLICT (tenant_id, document, prefix, year) "
            "DO UPDATE SET last_value = EXCLUDED.last_value "
            "WHERE s.last_value = EXCLUDED.last_value - 1 RETURNING last_value"
        ),
        {"t": tenant_id, "k": document, "p": prefix, "y": year, "n": sequence},
    ).first()
    return taken is not None


def last_number(
    conn: Connection, tenant_id: uuid.UUID, prefix: str, year: int, *, document: str = "invoice"
) -> int:
    """The last sequence a series gave in a year (0: none yet)."""
    value = conn.execute(
        text(
            "SELECT last_value FROM numbering_series "
            "WHERE tenant_id = :t AND document = :k AND prefix = :p AND year = :y"
        ),
        {"t": tenant_id, "k": document, "p": prefix, "y": year},
    ).scalar()
    return int(value or 0)


def advance_to(
    conn: Connection,
    tenant_id: uuid.UUID,
    prefix: str,
    year: int,
    sequence: int,
    *,
    document: str = "invoice",
) -> int:
    """Move a series' counter up to at least ``sequence`` (a number another installation gave,
    filed here from its archive), never down; the counter's value now. The next number this
    installation gives is then above every imported one of the series and year (counted per
    ``document`` kind, as :func:`next_number` counts)."""
    value = conn.execute(
        text(
            "INSERT INTO numbering_series AS s (tenant_id, document, prefix, year, last_value) "
            "VALUES (:t, :k, :p, :y, :n) ON CONFLICT (tenant_id, document, prefix, year) "
            "DO UPDATE SET last_value = GREATEST(s.last_value, EXCLUDED.last_value) "
            "RETURNING last_value"
        ),
        {"t": tenant_id, "k": document, "p": prefix, "y": year, "n": sequence},
    ).scalar_one()
    return int(value)
