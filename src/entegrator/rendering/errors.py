"""Errors of the views: no view can be rendered within the limits right now."""

from __future__ import annotations

from entegrator.errors import EntegratorError

__all__ = ["ViewBusyError", "ViewUnavailableError"]


class ViewBusyError(EntegratorError):
    code = "VIEW_BUSY"
    message_tr = "Şu anda çok sayıda belge görünümü hazırlanıyor; biraz sonra yeniden deneyin"
    message_en = "Too many document views are being rendered now; retry shortly"
    http_status = 503


class ViewUnavailableError(EntegratorError):
    code = "VIEW_UNAVAILABLE"
    message_tr = "Belge görünümü sınırlar içinde hazırlanamadı ({detail})"
    message_en = "The document view could not be rendered within the limits ({detail})"
    http_status = 503
