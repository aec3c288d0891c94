"""The words of the e-İrsaliye pages and of the credit banner (Turkish, English).

Added to the portal's table (:mod:`entegrator.web.i18n`) when the pages' modules load.
"""

from __future__ import annotations

from entegrator.web.i18n import MESSAGES

__all__ = ["DESPATCH_MESSAGES"]

DESPATCH_MESSAGES: dict[str, tuple[str, str]] = {
    "nav.despatches_out": ("Giden irsaliyeler", "Outgoing despatches"),
    "nav.despatches_in": ("Gelen irsaliyeler", "Incoming despatches"),
    "despatch.giden": ("Giden irsaliyeler", "Outgoing despatch advices"),
    "despatch.gelen": ("Gelen irsaliyeler", "Incoming despatch advices"),
    "despatch.title": ("İrsaliye", "Despatch advice"),
    "despatch.number": ("İrsaliye no", "Despatch number"),
    "despatch.facts": ("İrsaliye bilgileri", "Despatch details"),
    "despatch.sender": ("Gönderici", "Despatched by"),
    "despatch.receiver": ("Alıcı", "Delivered to"),
    "despatch.empty": ("Bu ölçütlere uyan irsaliye yok.", "No despatch advice matches."),
    "despatch.lines": ("Satırlar", "Lines"),
    "despatch.line_no": ("Sıra", "No"),
    "despatch.item": ("Mal", "Item"),
    "despatch.quantity": ("Gönderilen miktar", "Despatched quantity"),
    "despatch.received": ("Teslim alınan", "Received"),
    "despatch.rejected": ("Reddedilen miktar", "Rejected quantity"),
    "despatch.reason": ("Red gerekçesi", "Reason for rejecting"),
    "despatch.short": ("Eksik miktar", "Short quantity"),
    "despatch.oversupply": ("Fazla miktar", "Oversupplied quantity"),
    "despatch.plate": ("Plaka", "Vehicle plate"),
    "despatch.shipped": ("Fiili sevk tarihi", "Actual despatch date"),
    "despatch.receipt_xml": ("İrsaliye yanıtı (XML)", "Receipt advice (XML)"),
    "despatch.answer": ("İrsaliye yanıtı", "Receipt advice (answer)"),
    "despatch.answer_help": (
        "Her satır tam teslim alınmış sayılır; yalnız farklı olanları doldurun. "
        "Reddedilen miktar için gerekçe zorunludur.",
        "Every line counts as received in full; fill in only those that differ. "
        "A rejected quantity needs a reason.",
    ),
    "despatch.accept_all": ("Tümünü kabul et", "Accept everything"),
    "despatch.send_answer": ("Yanıtı gönder", "Send the answer"),
    "despatch.answered": (
        "İrsaliye yanıtı oluşturuldu, imzalandı ve GİB'e gönderilmek üzere sıraya alındı.",
        "The receipt advice is built, signed and queued to be sent through GİB.",
    ),
    "despatch.days_left": ("Yanıt için {days} gün kaldı", "{days} days left to answer"),
    "despatch.to_answer": (
        "Yanıt bekleyen gelen irsaliyeler (7 gün içinde)",
        "Incoming despatch advices to answer (within 7 days)",
    ),
    "despatch.bad_quantity": (
        "Geçerli bir miktar girin (0 ya da pozitif, en çok 8 ondalık).",
        "Enter a valid quantity (0 or more, at most 8 decimals).",
    ),
    "despatch.bad_reason": (
        "Gerekçe en çok 500 karakter olabilir ve kontrol karakteri içeremez.",
        "The reason may have at most 500 characters and no control characters.",
    ),
    "despatch.reason_needed": (
        "Reddedilen miktar için gerekçe yazın.",
        "Give a reason for the rejected quantity.",
    ),
    "despatch.reason_without_rejected": (
        "Gerekçe yazdınız ama reddedilen miktar girmediniz.",
        "You gave a reason but no rejected quantity.",
    ),
    "despatch.too_much": (
        "Reddedilen ve eksik miktarların toplamı gönderilen miktarı ({quantity} {unit}) aşamaz.",
        "Rejected and short together cannot exceed the despatched quantity ({quantity} {unit}).",
    ),
    "despatch.fix_fields": (
        "Yanıt gönderilmedi: işaretli alanları düzeltin.",
        "The answer was not sent: correct the marked fields.",
    ),
    "despatch.too_many_lines": (
        "Bu irsaliyenin satırı portaldaki form için çok ({limit} üzeri); yanıtı API ile verin.",
        "This despatch has too many lines (over {limit}); answer it through the API.",
    ),
    "despatch.no_lines": ("Satırlar okunamadı.", "The lines could not be read."),
    "billing.banner_label": ("Kontör uyarısı", "Credit warning"),
}

MESSAGES.update(DESPATCH_MESSAGES)
