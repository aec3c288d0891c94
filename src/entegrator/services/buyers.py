"""Who a buyer is, before an invoice is issued to it: e-Fatura user or not, and its title.

The portal's invoice form asks as soon as a VKN/TCKN is typed: GİB's registered-user list
(:mod:`entegrator.store.gib_users`) says whether the buyer gets an e-Fatura (TEMELFATURA or
TICARIFATURA) or an e-Arşiv invoice (EARSIVFATURA), the same decision
:mod:`entegrator.services.earsiv_routing` takes at issue time; the title comes from the list or
from the tenant's earlier documents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from entegrator.documents.identifiers import tckn, vkn
from entegrator.services.earsiv_routing import EARSIV
from entegrator.store import Database, gib_users, parties

__all__ = ["BuyerInfo", "lookup_buyer"]


@dataclass(frozen=True)
class BuyerInfo:
    identifier: str
    valid: bool  # a VKN (10 digits) or TCKN (11) with a right check digit
    registered: bool | None  # None: GİB's list was never fetched
    title: str | None
    mailboxes: tuple[str, ...]
    known_partner: bool

    @property
    def kind(self) -> str | None:
        """``efatura``, ``earsiv`` or None (cannot be told)."""
        if self.registered is None:
            return None
        return "efatura" if self.registered else "earsiv"

    def profile_for(self, chosen: str) -> str:
        """The profile an invoice to this buyer is issued with, given the one chosen."""
        if self.registered is None or chosen not in ("TEMELFATURA", "TICARIFATURA", EARSIV):
            return chosen
        if self.registered:
            return chosen if chosen != EARSIV else "TEMELFATURA"
        return EARSIV

    @property
    def message_tr(self) -> str:
        if not self.valid:
            return "Geçerli bir VKN (10 hane) veya TCKN (11 hane) girin"
        if self.registered is None:
            return "GİB kayıtlı kullanıcı listesi henüz alınmadı: e-Fatura/e-Arşiv bilinmiyor"
        if self.registered:
            return "e-Fatura kullanıcısı: e-Fatura düzenlenecek"
        return "e-Fatura kullanıcısı değil: e-Arşiv faturası düzenlenecek"

    @property
    def message_en(self) -> str:
        if not self.valid:
            return "Enter a valid VKN (10 digits) or TCKN (11 digits)"
        if self.registered is None:
            return "GİB's registered-user list was never fetched: e-Fatura/e-Arşiv unknown"
        if self.registered:
            return "An e-Fatura user: an e-Fatura will be issued"
        return "Not an e-Fatura user: an e-Arşiv invoice will be issued"


def _valid(identifier: str) -> bool:
    if len(identifier) == 10:
        return vkn.is_valid(identifier)
    if len(identifier) == 11:
        return tckn.is_valid(identifier)
    return False


def lookup_buyer(db: Database, tenant_id: uuid.UUID, identifier: str) -> BuyerInfo:
    ident = identifier.strip()
    if not _valid(ident):
        return BuyerInfo(ident, False, None, None, (), known_partner=False)
    with db.tenant(tenant_id) as conn:
        user = gib_users.lookup(conn, ident)
        fetched = user is not None or gib_users.list_fetched(conn)
        partner = parties.partner(conn, tenant_id, ident)
    registered = None if not fetched else bool(user and user.mailboxes)
    title = (user.title if user else None) or (partner.name if partner else None)
    return BuyerInfo(
        ident,
        True,
        registered,
        title or None,
        tuple(user.mailboxes) if user else (),
        known_partner=partner is not None,
    )
