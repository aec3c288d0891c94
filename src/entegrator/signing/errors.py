"""Errors of signing: a seal that cannot be used, a document that cannot be signed."""

from __future__ import annotations

from entegrator.errors import EntegratorError

__all__ = ["CertificateError", "KeyFileError", "NotSignableError", "SigningError"]


class SigningError(EntegratorError):
    code = "SIGNING_FAILED"
    message_tr = "İmzalanamadı: {detail_tr}"
    message_en = "Cannot sign: {detail_en}"
    http_status = 422
    exit_code = 2


class KeyFileError(SigningError):
    code = "KEY_FILE_INVALID"
    message_tr = "İmza anahtarı kullanılamıyor: {detail_tr}"
    message_en = "The signing key cannot be used: {detail_en}"


class CertificateError(SigningError):
    """The certificate may not sign this document (expired, other VKN, …)."""

    code = "CERTIFICATE_REFUSED"
    message_tr = "Sertifika bu belgeyi imzalayamaz: {detail_tr}"
    message_en = "The certificate cannot sign this document: {detail_en}"


class NotSignableError(SigningError):
    code = "NOT_SIGNABLE"
    message_tr = "Belge imzalanamaz: {detail_tr}"
    message_en = "The document cannot be signed: {detail_en}"
