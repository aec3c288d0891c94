"""Errors of the store."""

from __future__ import annotations

from entegrator.errors import EntegratorError

__all__ = ["BlobCorruptedError", "NotFoundError", "StoreError"]


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
