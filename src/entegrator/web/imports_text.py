"""The words of the bulk-import pages (``/iceri-aktar``), Turkish and English.

Added to the portal's table (:mod:`entegrator.web.i18n`) when the pages' module loads.
"""

from __future__ import annotations

from entegrator.web.i18n import MESSAGES

__all__ = ["IMPORT_MESSAGES"]

IMPORT_MESSAGES: dict[str, tuple[str, str]] = {
    "nav.imports": ("Toplu içe aktarma", "Bulk import"),
    "imports.title": ("Toplu içe aktarma", "Bulk import"),
    "imports.upload": ("Dosya yükle", "Upload a file"),
    "imports.file": (
        "Dosya (XLSX, CSV ya da taslak JSON / UBL-TR XML içeren zip)",
        "File (XLSX, CSV, or a zip of draft JSON / UBL-TR XML files)",
    ),
    "imports.policy": ("Politika", "Policy"),
    "imports.policy.valid-only": (
        "Yalnız geçerli belgeleri düzenle, diğerlerini bildir",
        "Issue the valid documents, report the others",
    ),
    "imports.policy.all-or-nothing": (
        "Hepsi ya da hiçbiri: bir belgede sorun varsa hiçbiri düzenlenmez",
        "All or nothing: if any document has a problem, none is issued",
    ),
    "imports.submit": ("Yükle ve içe aktar", "Upload and import"),
    "imports.no_file": ("Bir dosya seçin.", "Choose a file."),
    "imports.too_large": (
        "Dosya {limit} baytı aşıyor.",
        "The file exceeds {limit} bytes.",
    ),
    "imports.template": ("Boş şablon", "Empty template"),
    "imports.template_help": (
        "Her satır bir fatura kalemidir; aynı document_key değerini taşıyan satırlar bir "
        "fatura olur. XLSX şablonunda GİB kod listeleri açılır liste olarak gelir.",
        "One row per invoice line; rows sharing a document_key make one invoice. The XLSX "
        "template carries GİB's code lists as dropdowns.",
    ),
    "imports.template_xlsx": ("Şablonu indir (XLSX)", "Download the template (XLSX)"),
    "imports.template_csv": ("Şablonu indir (CSV)", "Download the template (CSV)"),
    "imports.list": ("İçe aktarmalar", "Imports"),
    "imports.none": ("Henüz içe aktarma yok.", "No imports yet."),
    "imports.viewer": (
        "İçe aktarma yalnız yönetici ve muhasebe rolleriyle yapılabilir.",
        "Only the admin and accountant roles may import.",
    ),
    "imports.created": ("Yüklendi", "Uploaded"),
    "imports.file_name": ("Dosya", "File"),
    "imports.status": ("Durum", "Status"),
    "imports.status.queued": ("Sırada", "Queued"),
    "imports.status.running": ("İşleniyor", "Running"),
    "imports.status.done": ("Tamamlandı", "Done"),
    "imports.status.failed": ("Başarısız", "Failed"),
    "imports.progress": ("İlerleme", "Progress"),
    "imports.progress_text": (
        "{done} / {total} belge işlendi",
        "{done} of {total} documents processed",
    ),
    "imports.progress_unknown": ("Dosya okunuyor…", "Reading the file…"),
    "imports.counts": ("Sayılar", "Counts"),
    "imports.rows": ("Satır", "Rows"),
    "imports.documents": ("Belge", "Documents"),
    "imports.processed": ("İşlenen", "Processed"),
    "imports.issued": ("Düzenlenen", "Issued"),
    "imports.already_issued": ("Daha önce düzenlenmiş", "Issued before"),
    "imports.refused": ("Reddedilen", "Refused"),
    "imports.problems": ("Sorunlar", "Problems"),
    "imports.problems_kept": (
        "İlk {kept} sorun gösteriliyor (toplam {total}).",
        "The first {kept} problems are shown ({total} in all).",
    ),
    "imports.no_problems": ("Sorun yok.", "No problems."),
    "imports.where": ("Yer", "Where"),
    "imports.row": ("Satır", "Row"),
    "imports.column": ("Sütun / hücre", "Column / cell"),
    "imports.entry": ("Dosya / yol", "File / path"),
    "imports.key": ("Belge anahtarı", "Document key"),
    "imports.code": ("Kod", "Code"),
    "imports.message": ("Açıklama", "Message"),
    "imports.issued_documents": ("Düzenlenen belgeler", "Documents issued"),
    "imports.number": ("Fatura no", "Invoice number"),
    "imports.replayed": ("önceki içe aktarmada", "by an earlier import"),
    "imports.documents_shown": (
        "İlk {shown} belge gösteriliyor.",
        "The first {shown} documents are shown.",
    ),
    "imports.back": ("Tüm içe aktarmalar", "All imports"),
}

MESSAGES.update(IMPORT_MESSAGES)
