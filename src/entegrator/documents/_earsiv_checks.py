"""e-Arşiv fatura kontrolleri: what an EARSIVFATURA draft must carry beyond GİB's schematron.

GİB's schematron checks little of an e-Arşiv invoice; the rest is in the e-Arşiv guide and
the report (``earsiv-and-others.md`` §1.2, §2.2). For what we send we take the stricter
reading: the issue time is always filled; an electronically delivered invoice names where it
goes (the buyer's e-mail or a phone for SMS); an internet sale carries everything the report's
``internetSatisBilgi`` needs and is delivered electronically.
"""

from __future__ import annotations

from entegrator.documents.codes import ProfileID
from entegrator.documents.errors import Problem
from entegrator.documents.model import Carrier, InvoiceDraft

__all__ = ["check_earsiv"]

# Payment types whose payment date may be left out (GİB's report schematron).
_NO_DATE_NEEDED = ("KAPIDAODEME", "DIGER")


def check_earsiv(draft: InvoiceDraft) -> list[Problem]:
    """Every e-Arşiv reason this (normalised) draft cannot be built; empty when it can."""
    out: list[Problem] = []
    sale = draft.internet_sale
    if draft.profile is not ProfileID.EARSIVFATURA:
        if sale is not None:
            out.append(
                Problem(
                    "INTERNET_SALE_PROFILE",
                    "internet_sale",
                    "İnternet satış bilgileri yalnız e-Arşiv faturasında (EARSIVFATURA) olur",
                    "internet_sale is only for e-Arşiv invoices (EARSIVFATURA)",
                )
            )
        return out
    if draft.issue_time is None:
        out.append(
            Problem(
                "EARSIV_ISSUE_TIME",
                "issue_time",
                "e-Arşiv faturasında düzenleme saati (issue_time) zorunlu",
                "an e-Arşiv invoice needs its issue time (issue_time)",
            )
        )
    contact = draft.customer.contact
    if draft.sending_type == "ELEKTRONIK" and not (
        contact and (contact.email or contact.telephone)
    ):
        out.append(
            Problem(
                "EARSIV_RECIPIENT_CONTACT",
                "customer.contact",
                "Elektronik gönderimde alıcının e-posta adresi (customer.contact.email) ya da "
                "SMS için telefonu (customer.contact.telephone) zorunlu; kâğıt teslim için "
                "sending_type KAGIT yazın",
                "electronic delivery needs the buyer's e-mail (customer.contact.email) or a "
                "phone for SMS (customer.contact.telephone); for paper write sending_type KAGIT",
            )
        )
    if sale is not None:
        out += _check_internet_sale(draft)
    return out


def _check_internet_sale(draft: InvoiceDraft) -> list[Problem]:
    sale = draft.internet_sale
    assert sale is not None  # noqa: S101 - the caller checked
    out: list[Problem] = []
    if draft.sending_type != "ELEKTRONIK":
        out.append(
            Problem(
                "INTERNET_SALE_PAPER",
                "sending_type",
                "İnternet satışı faturası elektronik gönderilmeli (sending_type ELEKTRONIK)",
                "an internet-sale invoice must be delivered electronically "
                "(sending_type ELEKTRONIK)",
            )
        )
    if not draft.supplier.website or len(draft.supplier.website) < 2:
        out.append(
            Problem(
                "INTERNET_SALE_WEBSITE",
                "supplier.website",
                "İnternet satışında satışın yapıldığı web adresi (supplier.website) zorunlu",
                "an internet sale needs the web address it was made on (supplier.website)",
            )
        )
    kind = sale.payment_type.split(" ", 1)[0]
    if sale.payment_date is None and kind not in _NO_DATE_NEEDED:
        out.append(
            Problem(
                "INTERNET_SALE_PAYMENT_DATE",
                "internet_sale.payment_date",
                f"Ödeme şekli {sale.payment_type} iken ödeme tarihi zorunlu "
                "(yalnız KAPIDAODEME ve DIGER'de yazılmayabilir)",
                f"payment_date is required with payment type {sale.payment_type} "
                "(only KAPIDAODEME and DIGER may leave it out)",
            )
        )
    out += _check_carrier(sale.carrier, "internet_sale.carrier")
    return out


def _check_carrier(c: Carrier, where: str) -> list[Problem]:
    company = c.vkn is not None and c.tckn is None
    person = c.tckn is not None and c.vkn is None
    ok_company = company and _digits(c.vkn, 10) and c.name is not None and len(c.name) >= 2
    full_name = f"{c.first_name or ''} {c.family_name or ''}".strip()
    ok_person = (
        person
        and _digits(c.tckn, 11)
        and bool(c.first_name and c.family_name)
        and len(full_name) >= 2
    )
    if ok_company or ok_person:
        return []
    return [
        Problem(
            "INTERNET_SALE_CARRIER",
            where,
            "Taşıyıcı ya şirket (10 haneli vkn ve unvan: name) ya da kişi (11 haneli tckn, "
            "first_name ve family_name) olmalı",
            "the carrier is either a company (a 10-digit vkn and its title in name) or a "
            "person (an 11-digit tckn, first_name and family_name)",
        )
    ]


def _digits(value: str | None, length: int) -> bool:
    return value is not None and len(value) == length and value.isascii() and value.isdigit()
