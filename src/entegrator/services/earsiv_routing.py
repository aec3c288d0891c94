"""e-Fatura or e-Arşiv Fatura: which one a buyer gets, decided when the invoice is issued.

A buyer GİB lists as an e-Fatura user (at least one active mailbox, PK) must get an e-Fatura
(TEMELFATURA, TICARIFATURA); anyone else an e-Arşiv invoice (EARSIVFATURA). Drafts are routed:
an e-Fatura profile for a buyer GİB does not list becomes EARSIVFATURA, with an INFO finding
``routed-earsiv``. XML an ERP made is never rewritten: a profile that does not fit the buyer is
refused. While the user list was never fetched nothing is decided here. Other profiles (IHRACAT,
KAMU, …) are not routed.
"""

from __future__ import annotations

from typing import Any

from entegrator.documents.codes import ProfileID
from entegrator.documents.model import InvoiceDraft
from entegrator.rules import Finding, Severity, Source
from entegrator.services.errors import RequestError

__all__ = [
    "EARSIV",
    "EFATURA_PROFILES",
    "BuyerNotRegisteredError",
    "BuyerRegisteredError",
    "check_profile",
    "route_draft",
    "routed",
]

EARSIV = "EARSIVFATURA"
EFATURA_PROFILES = frozenset({"TEMELFATURA", "TICARIFATURA"})


class BuyerNotRegisteredError(RequestError):
    """An e-Fatura profile for a buyer GİB does not list: it must be an e-Arşiv invoice."""

    code = "BUYER_NOT_EFATURA_USER"
    message_tr = (
        "Alıcı ({ident}) e-Fatura kullanıcısı değil: e-Arşiv faturası (EARSIVFATURA) düzenlenmeli"
    )
    message_en = (
        "The buyer ({ident}) is not an e-Fatura user: issue an e-Arşiv invoice (EARSIVFATURA)"
    )


class BuyerRegisteredError(RequestError):
    """An e-Arşiv invoice for a registered e-Fatura user, who must get an e-Fatura."""

    code = "BUYER_IS_EFATURA_USER"
    message_tr = (
        "Alıcı ({ident}) e-Fatura kullanıcısı: e-Arşiv değil e-Fatura "
        "(TEMELFATURA/TICARIFATURA) düzenlenmeli"
    )
    message_en = (
        "The buyer ({ident}) is an e-Fatura user: issue an e-Fatura "
        "(TEMELFATURA/TICARIFATURA), not an e-Arşiv invoice"
    )


def routed(profile: str | None) -> bool:
    """Does the routing decide this profile? (e-Fatura's two and e-Arşiv's)"""
    return profile in EFATURA_PROFILES or profile == EARSIV


def _refusal(buyer: str | None, *, registered: bool, where: str) -> RequestError:
    cls = BuyerRegisteredError if registered else BuyerNotRegisteredError
    return cls(where=where, ident=buyer or "-")


def route_draft(draft: InvoiceDraft, registered: bool | None) -> tuple[InvoiceDraft, list[Finding]]:
    """The draft as the buyer must get it (``registered``: is the buyer in GİB's list; None
    when the list was never fetched), with the finding that says so when it changed; raises
    :class:`BuyerRegisteredError` for an e-Arşiv draft to a registered buyer."""
    if not routed(draft.profile) or registered is None:
        return draft, []
    if registered == (draft.profile in EFATURA_PROFILES):
        return draft, []
    buyer = draft.customer.vkn or draft.customer.tckn
    if registered:
        raise _refusal(buyer, registered=True, where="profile")
    update: dict[str, Any] = {"profile": ProfileID.EARSIVFATURA}
    if draft.sending_type is None:
        update["sending_type"] = "ELEKTRONIK"
    finding = Finding(
        code="routed-earsiv",
        severity=Severity.INFO,
        source=Source.DRAFT,
        xpath="profile",
        message_tr=f"Alıcı ({buyer}) e-Fatura kullanıcısı değil: {draft.profile} yerine "
        "e-Arşiv faturası (EARSIVFATURA) düzenlendi",
        message_en=f"The buyer ({buyer}) is not an e-Fatura user: issued as an e-Arşiv "
        f"invoice (EARSIVFATURA) instead of {draft.profile}",
    )
    return draft.model_copy(update=update), [finding]


def check_profile(
    profile: str | None, buyer: str | None, registered: bool | None, *, where: str
) -> None:
    """An XML the ERP made keeps its profile: one that does not fit the buyer is refused."""
    if routed(profile) and registered is not None and registered != (profile in EFATURA_PROFILES):
        raise _refusal(buyer, registered=registered, where=where)
