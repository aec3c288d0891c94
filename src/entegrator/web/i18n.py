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
    # dashboard
    "panel.month": ("Ay", "Month"),
    "panel.issued": ("Düzenlenen faturalar", "Invoices issued"),
    "panel.received": ("Gelen faturalar", "Invoices received"),
    "panel.kdv": ("KDV", "VAT (KDV)"),
    "panel.kdv_by_rate": ("Bu ay KDV oranlarına göre (TL)", "This month's KDV by rate (TL)"),
    "panel.direction": ("Yön", "Direction"),
    "panel.rate": ("Oran", "Rate"),
    "panel.taxable": ("Matrah", "Taxable amount"),
    "panel.by_status": ("Durumlarına göre belgeler", "Documents by status"),
    "panel.out": ("giden", "outgoing"),
    "panel.in": ("gelen", "incoming"),
    "panel.none": ("Bu ay belge yok.", "No documents this month."),
    "panel.todo": ("Yapılacaklar", "Needs action"),
    "panel.nothing_to_do": ("Bekleyen iş yok.", "Nothing needs action."),
    "panel.to_answer": (
        "Yanıt bekleyen ticari faturalar",
        "Commercial invoices waiting for your answer",
    ),
    "panel.days_left": ("{days} gün kaldı", "{days} days left"),
    "panel.trouble": (
        "Reddedilen ya da hata alan belgeler (son 30 gün)",
        "Refused or failed documents (last 30 days)",
    ),
    "panel.earsiv_overdue": (
        "{count} e-Arşiv faturası raporlama süresini geçti.",
        "{count} e-Arşiv invoices are past their report deadline.",
    ),
    "panel.seal_expires": (
        "Mali mühür {date} tarihinde sona eriyor: yenileyin.",
        "The financial seal expires on {date}: renew it.",
    ),
    "panel.no_seal": (
        "Etkin mali mühür yok: faturalar imzalanamıyor.",
        "No active financial seal: invoices cannot be signed.",
    ),
    "panel.chart": (
        "Son 12 ay: satışlar ve alışlar (TL)",
        "Last 12 months: sales and purchases (TL)",
    ),
    "panel.chart_table": ("Tablo olarak", "As a table"),
    "panel.sales": ("Satışlar", "Sales"),
    "panel.purchases": ("Alışlar", "Purchases"),
    # lists
    "list.filters": ("Süzgeçler", "Filters"),
    "list.issued_from": ("Başlangıç tarihi", "Issued from"),
    "list.issued_to": ("Bitiş tarihi", "Issued to"),
    "list.party": ("VKN/TCKN", "VKN/TCKN"),
    "list.number": ("Fatura no", "Invoice number"),
    "list.status": ("Durum", "Status"),
    "list.profile": ("Senaryo", "Scenario"),
    "list.type": ("Fatura tipi", "Invoice type"),
    "list.min_total": ("En az tutar", "Minimum total"),
    "list.max_total": ("En çok tutar", "Maximum total"),
    "list.sort": ("Sıralama", "Sort"),
    "list.any": ("Tümü", "Any"),
    "list.search": ("Ara", "Search"),
    "list.clear": ("Temizle", "Clear"),
    "list.select": ("Seç", "Select"),
    "list.date": ("Tarih", "Date"),
    "list.buyer": ("Alıcı", "Buyer"),
    "list.seller": ("Satıcı", "Seller"),
    "list.total": ("Ödenecek tutar", "Payable"),
    "list.more": ("Daha fazla", "More"),
    "list.empty": ("Belge bulunamadı.", "No documents found."),
    "list.zip_pdf": ("Seçilenleri PDF olarak indir (zip)", "Download the chosen as PDF (zip)"),
    "list.zip_xml": ("Seçilenleri XML olarak indir (zip)", "Download the chosen as XML (zip)"),
    "list.bad_filter": ("Geçersiz süzgeç değeri: {where}", "Invalid filter value: {where}"),
    "zip.count": ("1 ile {limit} arasında belge seçin.", "Choose between 1 and {limit} documents."),
    "sort.new": ("En yeni önce", "Newest first"),
    "sort.issue_date_desc": ("Tarih (yeniden eskiye)", "Date (newest first)"),
    "sort.issue_date_asc": ("Tarih (eskiden yeniye)", "Date (oldest first)"),
    "sort.payable_desc": ("Tutar (büyükten küçüğe)", "Total (largest first)"),
    "sort.payable_asc": ("Tutar (küçükten büyüğe)", "Total (smallest first)"),
    # one invoice
    "invoice.title": ("Fatura", "Invoice"),
    "invoice.facts": ("Fatura bilgileri", "Invoice details"),
    "invoice.line_total": ("Mal/hizmet toplamı", "Lines total"),
    "invoice.tax_total": ("Hesaplanan vergiler", "Taxes"),
    "invoice.status_code": ("GİB durum kodu", "GİB status code"),
    "invoice.status_detail": ("Açıklama", "Detail"),
    "invoice.pdf": ("PDF indir", "Download PDF"),
    "invoice.xml": ("XML indir", "Download XML"),
    "invoice.view": ("Görüntüle", "View"),
    "invoice.not_signed": ("Fatura henüz imzalanmadı.", "The invoice is not signed yet."),
    "invoice.actions": ("İşlemler", "Actions"),
    "invoice.accept": ("Kabul et", "Accept"),
    "invoice.reject": ("Reddet", "Reject"),
    "invoice.reject_reason": ("Red gerekçesi", "Reason for rejecting"),
    "invoice.cancel": ("Faturayı iptal et", "Cancel the invoice"),
    "invoice.cancel_reason": ("İptal gerekçesi", "Reason for cancelling"),
    "invoice.mail_to": ("E-posta adresi", "E-mail address"),
    "invoice.resend": ("E-postayla yeniden gönder", "Send again by e-mail"),
    "invoice.timeline": ("Olaylar", "Timeline"),
    "invoice.deliveries": ("Alıcıya gönderimler", "Sent to the buyer"),
    "invoice.accepted": (
        "Fatura kabul edildi; yanıt GİB'e gönderiliyor.",
        "Accepted; the answer is on its way to GİB.",
    ),
    "invoice.rejected": (
        "Fatura reddedildi; yanıt GİB'e gönderiliyor.",
        "Rejected; the answer is on its way to GİB.",
    ),
    "invoice.cancelled": (
        "Fatura iptal edildi; iptal bir sonraki e-Arşiv raporuyla GİB'e bildirilecek.",
        "Cancelled; the cancellation goes to GİB in the next e-Arşiv report.",
    ),
    "invoice.mail_queued": ("E-posta gönderim sırasına alındı.", "The e-mail is queued."),
    "invoice.reason_needed": (
        "Gerekçe yazın (en çok 500 karakter).",
        "Write a reason (500 characters at most).",
    ),
    "delivery.queued": ("Sırada", "Queued"),
    "delivery.sent": ("Gönderildi", "Sent"),
    "delivery.failed": ("Gönderilemedi", "Failed"),
    # account and users
    "account.password": ("Parola değiştir", "Change password"),
    "account.current": ("Şimdiki parola", "Current password"),
    "account.new": ("Yeni parola", "New password"),
    "account.again": ("Yeni parola (tekrar)", "New password (again)"),
    "account.rule": ("En az 10 karakter.", "At least 10 characters."),
    "account.change": ("Parolayı değiştir", "Change the password"),
    "account.mismatch": ("Yeni parolalar aynı değil.", "The new passwords differ."),
    "account.wrong_current": ("Şimdiki parola hatalı.", "The current password is wrong."),
    "account.changed": (
        "Parola değişti; diğer oturumlarınız kapatıldı.",
        "Password changed; your other sessions have ended.",
    ),
    "account.totp_is_on": ("İki adımlı doğrulama açık.", "Two-step verification is on."),
    "account.totp_is_off": ("İki adımlı doğrulama kapalı.", "Two-step verification is off."),
    "account.totp_enable": ("İki adımlı doğrulamayı aç", "Turn on two-step verification"),
    "account.totp_disable": ("İki adımlı doğrulamayı kapat", "Turn off two-step verification"),
    "account.totp_scan": (
        "Bu anahtarı doğrulama uygulamanıza ekleyin, sonra uygulamanın gösterdiği kodu girin.",
        "Add this key to your authenticator app, then enter the code it shows.",
    ),
    "account.totp_confirm": ("Onayla ve aç", "Confirm and turn on"),
    "account.totp_on": ("İki adımlı doğrulama açıldı.", "Two-step verification is on."),
    "account.totp_off": ("İki adımlı doğrulama kapatıldı.", "Two-step verification is off."),
    "users.role": ("Rol", "Role"),
    "users.last_login": ("Son giriş", "Last login"),
    "users.state": ("Durum", "State"),
    "users.locked": ("Kilitli", "Locked"),
    "users.totp": ("İki adımlı", "Two-step"),
    "users.reset_password": ("Parolayı sıfırla", "Reset password"),
    "users.new_password_for": ("{email} için yeni parola", "New password for {email}"),
    "users.add": ("Kullanıcı ekle", "Add a user"),
    "users.created": ("Kullanıcı eklendi.", "User added."),
    "users.reset": (
        "Parola sıfırlandı; kilit kalktı ve oturumları kapatıldı.",
        "Password reset; the lock is lifted and the user's sessions have ended.",
    ),
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
