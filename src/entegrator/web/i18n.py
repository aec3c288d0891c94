"""The portal's two languages: Turkish (first, the default) and English.

Templates call ``_("key")``; a key missing from the table is shown as itself, so a page never
breaks for want of a translation. Add keys here (both languages) for new pages.
"""

from __future__ import annotations

__all__ = ["LANGUAGES", "MESSAGES", "translate"]

LANGUAGES = ("tr", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # nav and frame
    "app.name": ("entegrator", "entegrator"),
    "nav.panel": ("Panel", "Dashboard"),
    "nav.outgoing": ("Giden faturalar", "Outgoing invoices"),
    "nav.incoming": ("Gelen faturalar", "Incoming invoices"),
    "nav.new_invoice": ("Yeni fatura", "New invoice"),
    "nav.partners": ("Cariler", "Partners"),
    "nav.reports": ("Raporlar", "Reports"),
    "nav.settings": ("Ayarlar", "Settings"),
    "nav.users": ("Kullanıcılar", "Users"),
    "nav.account": ("Hesabım", "My account"),
    "nav.logout": ("Çıkış", "Log out"),
    "nav.skip": ("İçeriğe geç", "Skip to content"),
    "nav.menu": ("Menü", "Menu"),
    "lang.switch": ("English", "Türkçe"),
    "lang.other": ("en", "tr"),
    # login
    "login.title": ("Giriş", "Log in"),
    "login.email": ("E-posta", "E-mail"),
    "login.password": ("Parola", "Password"),
    "login.submit": ("Giriş yap", "Log in"),
    "login.invalid": ("E-posta ya da parola hatalı.", "Wrong e-mail or password."),
    "login.locked": (
        "Çok sayıda hatalı deneme: hesap {until} saatine kadar kilitli.",
        "Too many failed attempts: the account is locked until {until}.",
    ),
    "login.throttled": (
        "Çok sayıda hatalı deneme; biraz sonra yeniden deneyin.",
        "Too many failed attempts; try again shortly.",
    ),
    "login.expired": (
        "Oturumunuz sona erdi; yeniden giriş yapın.",
        "Your session has ended; please log in again.",
    ),
    "login.totp_title": ("İki adımlı doğrulama", "Two-step verification"),
    "login.totp_code": ("Doğrulama kodu", "Verification code"),
    "login.totp_help": (
        "Doğrulama uygulamanızdaki 6 haneli kodu girin.",
        "Enter the 6-digit code from your authenticator app.",
    ),
    "login.totp_submit": ("Doğrula", "Verify"),
    "login.totp_wrong": ("Kod hatalı.", "Wrong code."),
    # errors
    "error.title": ("Hata", "Error"),
    "error.not_found": ("Sayfa ya da belge bulunamadı.", "Page or document not found."),
    "error.forbidden": (
        "Bu işlem için yetkiniz yok.",
        "You are not allowed to do this.",
    ),
    "error.csrf": (
        "Form süresi doldu ya da geçersiz (CSRF). Sayfayı yenileyip yeniden deneyin.",
        "The form has expired or is invalid (CSRF). Reload the page and try again.",
    ),
    "error.back": ("Panele dön", "Back to the dashboard"),
    # roles
    "role.owner": ("Yönetici", "Admin"),
    "role.accountant": ("Muhasebe", "Accountant"),
    "role.viewer": ("İzleyici", "Viewer"),
    "role.api": ("API", "API"),
}


def translate(key: str, lang: str, **values: object) -> str:
    pair = MESSAGES.get(key)
    text = key if pair is None else pair[1 if lang == "en" else 0]
    return text.format(**values) if values else text
