"""Statuses, scenarios and events in GİB's words (Turkish) and in English, with the badge
colour each status gets on the portal."""

from __future__ import annotations

from entegrator.gib import codes

__all__ = [
    "PROFILES",
    "STATUSES",
    "TYPES",
    "event_label",
    "explain_gib_code",
    "status_badge",
    "status_label",
]

# status -> (Turkish, English, badge class)
STATUSES: dict[str, tuple[str, str, str]] = {
    "draft": ("Taslak", "Draft", "muted"),
    "validated": ("İmza bekliyor", "Waiting for its seal", "info"),
    "signed": ("İmzalandı", "Signed", "info"),
    "queued": ("Gönderilmeyi bekliyor", "Waiting to be sent", "info"),
    "sent": ("GİB'e gönderildi", "Sent to GİB", "info"),
    "processing": ("GİB'de işleniyor", "Being processed by GİB", "info"),
    "delivered": ("Alıcıya ulaştı", "Delivered to the buyer", "ok"),
    "rejected_by_gib": ("GİB tarafından reddedildi", "Refused by GİB", "bad"),
    "failed_delivery": ("Alıcıya iletilemedi", "Could not be delivered", "bad"),
    "failed": ("Hata", "Failed", "bad"),
    "accepted": ("Kabul edildi", "Accepted", "ok"),
    "rejected": ("Reddedildi", "Rejected", "bad"),
    "returned": ("İade edildi", "Returned", "warn"),
    "reported": ("Raporlandı", "Reported to GİB", "ok"),
    "cancelled": ("İptal edildi", "Cancelled", "muted"),
    "received": ("Alındı", "Received", "info"),
}
# The few that read differently in a context.
_EARSIV_QUEUED = ("Raporlanmayı bekliyor", "Waiting for the e-Arşiv report", "info")
_WAITING_ANSWER = ("Yanıt bekliyor", "Waiting for your answer", "warn")
_NO_ANSWER = ("Kabul edildi (süre doldu)", "Accepted (no answer in 8 days)", "ok")

PROFILES = {
    "TEMELFATURA": ("Temel fatura", "Basic invoice"),
    "TICARIFATURA": ("Ticari fatura", "Commercial invoice"),
    "EARSIVFATURA": ("e-Arşiv fatura", "e-Arşiv invoice"),
    "IHRACAT": ("İhracat", "Export"),
    "YOLCUBERABERFATURA": ("Yolcu beraber", "Tax-free (traveller)"),
    "KAMU": ("Kamu", "Public sector"),
    "HKS": ("HKS", "HKS"),
    "ENERJI": ("Enerji", "Energy"),
    "ILAC_TIBBICIHAZ": ("İlaç ve tıbbi cihaz", "Medicine and devices"),
    "IDIS": ("İDİS", "IDIS"),
    "TEMELIRSALIYE": ("Temel irsaliye", "Basic despatch"),
}
TYPES = {
    "SATIS": ("Satış", "Sale"),
    "IADE": ("İade", "Return"),
    "TEVKIFAT": ("Tevkifat", "Withholding"),
    "ISTISNA": ("İstisna", "Exemption"),
    "OZELMATRAH": ("Özel matrah", "Special base"),
    "IHRACKAYITLI": ("İhraç kayıtlı", "Export-registered"),
    "SGK": ("SGK", "SGK"),
    "KOMISYONCU": ("Komisyoncu", "Commission agent"),
    "KONAKLAMAVERGISI": ("Konaklama vergisi", "Accommodation tax"),
}

_EVENTS = {
    "received": ("Alındı", "Received"),
    "numbered": ("Numara verildi, doğrulandı", "Numbered and validated"),
    "validated": ("Doğrulandı", "Validated"),
    "signed": ("Mali mühürle imzalandı", "Signed with the financial seal"),
    "queued": ("Gönderim sırasına alındı", "Queued to be sent"),
    "enveloped": ("Zarflandı", "Put in an envelope"),
    "sent": ("GİB'e gönderildi", "Sent to GİB"),
    "gib-status": ("GİB durum bildirdi", "GİB reported a status"),
    "failed": ("Hata", "Failed"),
    "answered": ("Yanıtlandı", "Answered"),
    "no-answer": ("8 gün içinde yanıt gelmedi", "No answer within 8 days"),
    "returned": ("İade edildi", "Returned"),
    "cancelled": ("İptal edildi", "Cancelled"),
    "earsiv-reported": ("e-Arşiv raporuyla bildirildi", "Reported in the e-Arşiv report"),
    "delivery-queued": ("Alıcıya gönderim sıraya alındı", "Delivery to the buyer queued"),
    "delivery-sent": ("Alıcıya gönderildi", "Sent to the buyer"),
    "delivery-failed": ("Alıcıya gönderilemedi", "Delivery to the buyer failed"),
}


def _pick(pair: tuple[str, ...], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def _entry(status: str, profile: str | None, direction: str, code: str | None) -> tuple[str, ...]:
    if status == "queued" and profile == "EARSIVFATURA":
        return _EARSIV_QUEUED
    if status == "received" and direction == "in" and profile == "TICARIFATURA":
        return _WAITING_ANSWER
    if status == "accepted" and code == "no-answer":
        return _NO_ANSWER
    return STATUSES.get(status, (status, status, "muted"))


def status_label(
    status: str,
    lang: str,
    *,
    profile: str | None = None,
    direction: str = "out",
    code: str | None = None,
) -> str:
    return _pick(_entry(status, profile, direction, code)[:2], lang)


def status_badge(
    status: str, *, profile: str | None = None, direction: str = "out", code: str | None = None
) -> str:
    return _entry(status, profile, direction, code)[2]


def event_label(kind: str, lang: str) -> str:
    pair = _EVENTS.get(kind)
    return kind if pair is None else _pick(pair, lang)


def explain_gib_code(value: object, lang: str) -> str | None:
    """GİB's words for a status code (1000, 1300, 1163…), or None when it is not one."""
    try:
        code = int(str(value))
    except ValueError:
        return None
    if not 1000 <= code <= 1999:
        return None
    found = codes.status(code)
    return f"{code}: {found.text_en if lang == 'en' else found.text_tr}"
