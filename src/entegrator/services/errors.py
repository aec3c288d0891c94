"""Errors the use cases share."""

from __future__ import annotations

from entegrator.errors import EntegratorError

__all__ = ["DocumentNotFoundError", "NotSignedYetError", "RequestError"]


class RequestError(EntegratorError):
    """The request is unusable as it stands (422)."""

    code = "INVALID_REQUEST"
    message_tr = "İstek geçersiz: {detail_tr}"
    message_en = "Invalid request: {detail_en}"
    http_status = 422


class NotSignedYetError(EntegratorError):
    code = "NOT_SIGNED_YET"
    message_tr = "Belge henüz imzalanmadı (durum: {status})"
    message_en = "The document is not signed yet (status: {status})"
    http_status = 409


class DocumentNotFoundError(EntegratorError):
    """Also the answer for another tenant's document: its existence is not revealed."""

    code = "DOCUMENT_NOT_FOUND"
    message_tr = "Belge bulunamadı"
    message_en = "Document not found"
    http_status = 404
