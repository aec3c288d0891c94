"""The e-Fatura / e-Arşiv decision on its own: the buyer's registration decides the profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entegrator.documents.model import InvoiceDraft
from entegrator.services.earsiv_routing import (
    BuyerNotRegisteredError,
    BuyerRegisteredError,
    check_profile,
    route_draft,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "invoice.json"


def _draft(profile: str) -> InvoiceDraft:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["profile"] = profile
    return InvoiceDraft.model_validate(data)


def test_an_efatura_draft_for_an_unregistered_buyer_becomes_earsiv() -> None:
    routed, findings = route_draft(_draft("TEMELFATURA"), registered=False)
    assert routed.profile == "EARSIVFATURA" and routed.sending_type == "ELEKTRONIK"
    assert [f.code for f in findings] == ["routed-earsiv"]


@pytest.mark.parametrize(
    ("profile", "registered"),
    [("TEMELFATURA", True), ("TICARIFATURA", None), ("EARSIVFATURA", False), ("IHRACAT", False)],
)
def test_drafts_that_fit_or_cannot_be_decided_stay(profile: str, registered: bool | None) -> None:
    draft = _draft(profile) if profile != "IHRACAT" else _draft("TEMELFATURA")
    draft = draft.model_copy(update={"profile": profile})
    assert route_draft(draft, registered) == (draft, [])


def test_an_earsiv_draft_for_a_registered_buyer_is_refused() -> None:
    with pytest.raises(BuyerRegisteredError) as refused:
        route_draft(_draft("EARSIVFATURA"), registered=True)
    assert refused.value.where == "profile"


def test_xml_keeps_its_profile_or_is_refused() -> None:
    check_profile("TEMELFATURA", "1234567890", True, where="ProfileID")
    check_profile("TEMELFATURA", "1234567890", None, where="ProfileID")  # list never fetched
    check_profile("KAMU", "1234567890", False, where="ProfileID")  # not routed
    with pytest.raises(BuyerNotRegisteredError):
        check_profile("TICARIFATURA", "1234567890", False, where="ProfileID")
    with pytest.raises(BuyerRegisteredError):
        check_profile("EARSIVFATURA", "1234567890", True, where="ProfileID")
