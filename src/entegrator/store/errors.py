"""Errors of the store."""

from __future__ import annotations

from entegrator.errors import EntegratorError

__all__ = ["BlobCorruptedError", "DatabaseUnavailableError", "NotFoundError", "StoreError"]


class StoreError(EntegratorError):
    code = "STORE_ERROR"
    message_tr = "Veri deposu hatası: {detail}"
    message_en = "Store error: {detail}"
    http_status = 500


class NotFoundError(StoreError):
    code = "NOT_FOUND"
    message_tr = "Bulunamadı: {what} {ident}"
    message_en = "Not found: {what} {ident}"
    http_status = 404


class BlobCorruptedError(StoreError):
    """Stored bytes no longer match their sha256: never served, always reported."""

    code = "BLOB_CORRUPTED"
    message_tr = "Saklanan belge özetiyle uyuşmuyor (sha256 {digest})"
    message_en = "A stored document does not match its digest (sha256 {digest})"
    http_status = 500


class DatabaseUnavailableError(StoreError):
    """PostgreSQL cannot be reached, or is shutting down or starting up
    (``store.db.is_unavailable``): try the same request again shortly (with the same
    ``Idempotency-Key``, in case its commit went through before the connection was lost)."""

    code = "DATABASE_UNAVAILABLE"
    message_tr = "Veritabanına şu anda ulaşılamıyor; biraz sonra yeniden deneyin"
    message_en = "The database cannot be reached right now; try again shortly"
    http_status = 503
