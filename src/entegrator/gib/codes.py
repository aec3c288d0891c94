"""GİB's envelope status codes (zarf durum kodları) and ``sendDocument`` fault codes.

One table for everything that reads or writes them: the sender following its envelopes, the
receiver answering with a system response, the simulator. Each code carries what it means
(Turkish and English), its class, what an integrator should do and the document status it
maps to (``shared/docs/gib/envelope-and-transport.md`` §5–6).

The Turkish texts are entegrator's wording of each code's meaning; GİB's literal
``Description`` strings are not published in one place [unconfirmed], so a receiver must read
the code, never the text.

>>> status(1300).lifecycle
'delivered'
>>> status(1163).action
<Action.INVESTIGATE: 'investigate'>
>>> status(1210).final
False
>>> fault(2001).transient
False
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "FAULTS",
    "STATUSES",
    "Action",
    "CodeClass",
    "Fault",
    "Status",
    "fault",
    "status",
]


class CodeClass(StrEnum):
    PENDING = "pending"  # wait: GİB or the receiver is still working
    ERROR = "error"  # refused by GİB (11xx): nothing registered
    INTERMEDIATE = "intermediate"  # 1200: processed, delivery follows
    FINAL_ERROR = "final-error"  # delivery failed for good (1215, 1230)
    SUCCESS = "success"  # 1300


class Action(StrEnum):
    """What the sending integrator does on this code [practice]."""

    WAIT = "wait"
    FIX_AND_NEW_ENVELOPE = "fix-and-new-envelope"  # the content or packaging is wrong
    RESEND_LATER = "resend-later"  # GİB-internal trouble: the same content, later
    INVESTIGATE = "investigate"  # do not resend (duplicate, delivery given up)
    DONE = "done"


@dataclass(frozen=True)
class Status:
    code: int
    text_tr: str
    text_en: str
    code_class: CodeClass
    action: Action
    lifecycle: str  # the outgoing document's status: sent, processing, delivered, …

    @property
    def final(self) -> bool:
        """No later code will follow for this envelope."""
        return self.code_class in (CodeClass.ERROR, CodeClass.FINAL_ERROR, CodeClass.SUCCESS)

    @property
    def system_response(self) -> bool:
        """May appear in a SYSTEMENVELOPE (AppResponseCodeType: up to 1200) [rule]."""
        return self.code <= 1200


_P, _E, _I, _F, _OK = (
    CodeClass.PENDING,
    CodeClass.ERROR,
    CodeClass.INTERMEDIATE,
    CodeClass.FINAL_ERROR,
    CodeClass.SUCCESS,
)
_FIX, _LATER = Action.FIX_AND_NEW_ENVELOPE, Action.RESEND_LATER
_REJ = "rejected_by_gib"

STATUSES: dict[int, Status] = {
    s.code: s
    for s in (
        Status(1000, "Zarf kuyruğa eklendi", "Envelope queued", _P, Action.WAIT, "sent"),
        Status(1100, "Zarf işleniyor", "Envelope being processed", _P, Action.WAIT, "processing"),
        Status(1110, "Dosya ZIP değil", "The file is not a ZIP", _E, _FIX, _REJ),
        Status(
            1111, "Zarf kimliğinin uzunluğu geçersiz", "Envelope id length invalid", _E, _FIX, _REJ
        ),
        Status(
            1120,
            "Zarf arşivden kopyalanamadı",
            "Envelope could not be copied from the archive",
            _E,
            _LATER,
            _REJ,
        ),
        Status(1130, "ZIP açılamadı", "The ZIP could not be opened", _E, _FIX, _REJ),
        Status(
            1131, "ZIP tek bir dosya içermeli", "The ZIP must hold exactly one file", _E, _FIX, _REJ
        ),
        Status(1132, "İçerik XML dosyası değil", "The content is not an XML file", _E, _FIX, _REJ),
        Status(
            1133,
            "Zarf kimliği ile XML dosyasının adı farklı",
            "The envelope id and the XML file name differ",
            _E,
            _FIX,
            _REJ,
        ),
        Status(1140, "Belge ayrıştırılamadı", "The document could not be parsed", _E, _FIX, _REJ),
        Status(1141, "Zarf kimliği yok", "The envelope id is missing", _E, _FIX, _REJ),
        Status(
            1142,
            "Zarf kimliği ile ZIP dosyasının adı farklı",
            "The envelope id and the ZIP file name differ",
            _E,
            _FIX,
            _REJ,
        ),
        Status(1143, "Sürüm geçersiz", "Invalid version", _E, _FIX, _REJ),
        Status(1150, "Şematron kontrolü başarısız", "The schematron check failed", _E, _FIX, _REJ),
        Status(
            1160,
            "XML şema (XSD) kontrolü başarısız",
            "The XML schema (XSD) check failed",
            _E,
            _FIX,
            _REJ,
        ),
        Status(
            1161,
            "İmzacının VKN/TCKN'si sertifikadan okunamadı",
            "The signer's VKN/TCKN could not be read from the certificate",
            _E,
            _FIX,
            _REJ,
        ),
        Status(1162, "İmza saklanamadı", "The signature could not be stored", _E, _LATER, _REJ),
        Status(
            1163,
            "Zarf sistemde kayıtlı bir fatura içeriyor (numara/ETTN mükerrer)",
            "The envelope holds an invoice already registered (duplicate number/ETTN)",
            _E,
            Action.INVESTIGATE,
            _REJ,
        ),
        Status(
            1170, "Yetki kontrol edilemedi", "Authorisation could not be checked", _E, _LATER, _REJ
        ),
        Status(
            1171,
            "Gönderici birim (GB) yetkisi yok",
            "No sender-unit (GB) authorisation for this alias",
            _E,
            _FIX,
            _REJ,
        ),
        Status(
            1172,
            "Posta kutusu (PK) yetkisi yok",
            "No mailbox (PK) authorisation: the receiver alias is not valid",
            _E,
            _FIX,
            _REJ,
        ),
        Status(
            1175,
            "İmza yetkisi kontrol edilemedi",
            "Signature authority could not be checked",
            _E,
            _LATER,
            _REJ,
        ),
        Status(
            1176,
            "İmzacı yetkili değil",
            "The signer is not authorised for this party",
            _E,
            _FIX,
            _REJ,
        ),
        Status(1177, "İmza geçersiz", "Invalid signature", _E, _FIX, _REJ),
        Status(
            1180, "Adres kontrol edilemedi", "The address could not be checked", _E, _LATER, _REJ
        ),
        Status(1181, "Adres (etiket) bulunamadı", "Address (alias) not found", _E, _FIX, _REJ),
        Status(1182, "Kullanıcı eklenemedi", "The user could not be added", _E, _FIX, _REJ),
        Status(1183, "Kullanıcı kaldırılamadı", "The user could not be removed", _E, _FIX, _REJ),
        Status(
            1190,
            "Sistem yanıtı hazırlanamadı",
            "The system response could not be prepared",
            _E,
            _LATER,
            _REJ,
        ),
        Status(1195, "Sistem hatası", "System error", _E, _LATER, _REJ),
        Status(
            1200,
            "Zarf başarıyla işlendi",
            "Envelope processed successfully",
            _I,
            Action.WAIT,
            "processing",
        ),
        Status(
            1210,
            "Alıcının adresine iletilemedi; GİB yeniden deniyor",
            "Could not be delivered to the receiver; GİB keeps retrying",
            _P,
            Action.WAIT,
            "processing",
        ),
        Status(
            1215,
            "İletim başarısız; GİB denemeyi bıraktı",
            "Delivery failed; GİB stopped retrying",
            _F,
            Action.INVESTIGATE,
            "failed_delivery",
        ),
        Status(
            1220,
            "Alıcıdan henüz sistem yanıtı gelmedi",
            "No system response from the receiver yet",
            _P,
            Action.WAIT,
            "processing",
        ),
        Status(
            1230,
            "Alıcı başarısız sistem yanıtı gönderdi",
            "The receiver sent a failing system response",
            _F,
            _FIX,
            "failed_delivery",
        ),
        Status(
            1300,
            "Başarıyla tamamlandı: iletildi ve alındı",
            "Completed: delivered and acknowledged",
            _OK,
            Action.DONE,
            "delivered",
        ),
    )
}


def status(code: int) -> Status:
    """The entry for ``code``; an unknown code is a GİB-side error to investigate."""
    known = STATUSES.get(code)
    if known is not None:
        return known
    return Status(
        code,
        f"Bilinmeyen durum kodu {code}",
        f"Unknown status code {code}",
        CodeClass.ERROR,
        Action.INVESTIGATE,
        _REJ,
    )


@dataclass(frozen=True)
class Fault:
    """A SOAP fault of ``sendDocument`` (EFaturaFaultType) [practice]."""

    code: int
    text_tr: str
    text_en: str
    transient: bool  # retry the same request later


FAULTS: dict[int, Fault] = {
    f.code: f
    for f in (
        Fault(2000, "Özet değerleri farklı (MD5)", "Digest values differ (MD5 mismatch)", False),
        Fault(2001, "Zarf kimliği zaten var", "The envelope id already exists", False),
        Fault(2002, "Zarf arşivlenemedi", "The envelope could not be archived", True),
        Fault(2003, "Zarf kuyruğa eklenemedi", "The envelope could not be queued", True),
        Fault(2004, "Zarf kimliği bulunamadı", "Envelope id not found", False),
        Fault(2005, "Sistem hatası", "System error", True),
        Fault(
            2006,
            "Zarf (dosya) adı geçersiz: GUID olmalı",
            "Invalid envelope (file) name: must be a GUID",
            False,
        ),
        Fault(
            2007,
            "Paket gönderme/sorgulama yetkisi geçici olarak kaldırıldı",
            "Package send/query permission temporarily withdrawn",
            False,
        ),
    )
}


def fault(code: int) -> Fault:
    known = FAULTS.get(code)
    return known or Fault(code, f"Bilinmeyen hata {code}", f"Unknown fault {code}", False)
