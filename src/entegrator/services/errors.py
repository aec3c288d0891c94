"""Errors the use cases share."""

from __future__ import annotations

from entegrator.errors import EntegratorError

__all__ = ["RequestError"]


class RequestError(EntegratorError):
    """The request is unusable as it stands (422)."""

    code = "INVALID_REQUEST"
    message_tr = "İstek geçersiz: {detail_tr}"
    message_en = "Invalid request: {detail_en}"
    http_status = 422
