"""Errors raised by the API layer itself (authentication, roles, bodies, paging)."""

from __future__ import annotations

from entegrator.errors import EntegratorError
from entegrator.services.errors import DocumentNotFoundError, NotSignedYetError

__all__ = [
    "DocumentNotFoundError",
    "EmptyBodyError",
    "ForbiddenError",
    "InvalidAdminKeyError",
    "InvalidAmountError",
    "InvalidApiKeyError",
    "InvalidCursorError",
    "InvalidParameterError",
    "NotSignedYetError",
    "OperatorClosedError",
    "UnauthenticatedError",
    "UnsupportedMediaTypeError",
]


class UnauthenticatedError(EntegratorError):
    code = "UNAUTHENTICATED"
    message_tr = "API anahtarı gerekli (Authorization: Bearer …)"
    message_en = "An API key is required (Authorization: Bearer …)"
    http_status = 401


class InvalidApiKeyError(EntegratorError):
    code = "INVALID_API_KEY"
    message_tr = "API anahtarı geçersiz"
    message_en = "The API key is not valid"
    http_status = 401


class ForbiddenError(EntegratorError):
    code = "FORBIDDEN"
    message_tr = "'{role}' rolü bu işlemi yapamaz"
    message_en = "The '{role}' role may not do this"
    http_status = 403


class UnsupportedMediaTypeError(EntegratorError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    message_tr = "Gövde application/json (taslak) ya da application/xml (UBL-TR) olmalı"
    message_en = "The body must be application/json (draft) or application/xml (UBL-TR)"
    http_status = 415


class EmptyBodyError(EntegratorError):
    code = "EMPTY_BODY"
    message_tr = "İstek gövdesi boş"
    message_en = "The request body is empty"
    http_status = 422


class InvalidCursorError(EntegratorError):
    code = "INVALID_CURSOR"
    message_tr = "Sayfa imleci geçersiz"
    message_en = "The page cursor is invalid"
    http_status = 422


class InvalidAmountError(EntegratorError):
    code = "INVALID_AMOUNT"
    message_tr = "Tutar sayı olmalı"
    message_en = "The amount must be a number"
    http_status = 422


class InvalidParameterError(EntegratorError):
    code = "INVALID_PARAMETER"
    message_tr = "İstek geçersiz: {detail}"
    message_en = "Invalid request: {detail}"
    http_status = 422


class WebhookNotFoundError(EntegratorError):
    code = "WEBHOOK_NOT_FOUND"
    message_tr = "Webhook bulunamadı"
    message_en = "Webhook not found"
    http_status = 404


class GibCallerUnknownError(EntegratorError):
    code = "GIB_CALLER_UNKNOWN"
    message_tr = (
        "GİB uç noktası: arayan tanınmadı (geçerli bir belirteç ya da istemci sertifikası yok)"
    )
    message_en = "GİB endpoint: unknown caller (no valid token or client certificate)"
    http_status = 401


class GibEndpointClosedError(EntegratorError):
    code = "GIB_ENDPOINT_CLOSED"
    message_tr = "GİB uç noktası kapalı: {detail_tr}"
    message_en = "The GİB endpoint is closed: {detail_en}"
    http_status = 403


class TooManyLinesError(EntegratorError):
    code = "TOO_MANY_LINES"
    message_tr = "Taslakta {lines} satır var; en çok {limit} satır kabul edilir"
    message_en = "The draft has {lines} lines; at most {limit} are accepted"
    http_status = 422


class TooManyAttemptsError(EntegratorError):
    code = "TOO_MANY_ATTEMPTS"
    message_tr = "Çok fazla başarısız kimlik doğrulama; {retry_after} saniye sonra yeniden deneyin"
    message_en = "Too many failed authentications; try again in {retry_after} seconds"
    http_status = 429


class MetricsClosedError(EntegratorError):
    code = "METRICS_CLOSED"
    message_tr = "Ölçümler bu adresten açık değil (ENTEGRATOR_METRICS_TOKEN)"
    message_en = "Metrics are not open here (ENTEGRATOR_METRICS_TOKEN)"
    http_status = 403


class OperatorClosedError(EntegratorError):
    code = "OPERATOR_API_CLOSED"
    message_tr = "İşletmeci API'si kapalı: ENTEGRATOR_ADMIN_KEY ayarlanmamış"
    message_en = "The operator API is closed: ENTEGRATOR_ADMIN_KEY is not set"
    http_status = 403


class InvalidAdminKeyError(EntegratorError):
    code = "INVALID_ADMIN_KEY"
    message_tr = "İşletmeci anahtarı geçersiz (Authorization: Bearer <ENTEGRATOR_ADMIN_KEY>)"
    message_en = "Invalid operator key (Authorization: Bearer <ENTEGRATOR_ADMIN_KEY>)"
    http_status = 401
