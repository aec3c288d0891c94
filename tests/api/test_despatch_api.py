"""Issuing despatch advices from UBL-TR XML: numbered from the despatch series, the number an
ERP chose must be the series' next, and the draft checks apply to XML too."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from lxml import etree

from entegrator.documents.build import build_despatch
from entegrator.documents.model import DespatchDraft
from entegrator.services.despatches import receipt_outcome
from tests.testing.platform import TenantHandle

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "despatch.json"
XML = {"Content-Type": "application/xml"}
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"


def _xml(tenant: TenantHandle, number: str, **changes: Any) -> bytes:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = tenant.vkn
    data |= {"number": number, "ettn": str(uuid.uuid4()).upper(), **changes}
    return build_despatch(DespatchDraft.model_validate(data))


def test_xml_is_numbered_or_must_carry_the_next_number(make_tenant: Any) -> None:
    tenant = make_tenant()
    with tenant.client() as c:
        ahead = c.post("/api/v1/despatches", content=_xml(tenant, "IRS2026000000005"), headers=XML)
        assert ahead.status_code == 409, ahead.text
        assert ahead.json()["error"]["code"] == "NUMBER_NOT_NEXT"
        first = c.post("/api/v1/despatches", content=_xml(tenant, "IRS2026000000001"), headers=XML)
        assert first.status_code == 201, first.text
        # An ID that is no number yet: the series gives the next one.
        root = etree.fromstring(_xml(tenant, "IRS2026000000009"))
        node = root.find(f"{CBC}ID")
        assert node is not None
        node.text = "TASLAK"
        placeholder = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        second = c.post("/api/v1/despatches", content=placeholder, headers=XML)
        assert second.status_code == 201, second.text
        assert second.json()["number"] == "IRS2026000000002"
        stored = c.get(f"/api/v1/despatches/{second.json()['id']}").json()
        assert (stored["number"], stored["type"], stored["profile"]) == (
            "IRS2026000000002",
            "SEVK",
            "TEMELIRSALIYE",
        )
        # GİB's layers judge XML (a plate with another scheme), and so do the draft checks
        # (a driver's TCKN with wrong check digits, which GİB's schematron lets pass).
        root = etree.fromstring(_xml(tenant, "IRS2026000000003"))
        for plate in root.iter(f"{CBC}LicensePlateID"):
            plate.text = "XX"
        bad = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        refused = c.post("/api/v1/despatches", content=bad, headers=XML)
        assert refused.status_code == 422, refused.text
        root = etree.fromstring(_xml(tenant, "IRS2026000000003"))
        for tckn in root.iter(f"{CBC}NationalityID"):
            tckn.text = "12345678901"
        bad = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        refused = c.post("/api/v1/despatches", content=bad, headers=XML)
        assert refused.status_code == 422, refused.text
        assert "TCKN_FORMAT" in refused.text, refused.text
        # Nothing refused took a number.
        third = c.post("/api/v1/despatches", content=_xml(tenant, "IRS2026000000003"), headers=XML)
        assert third.status_code == 201, third.text


def test_what_an_answer_means_for_its_despatch() -> None:
    from decimal import Decimal

    from entegrator.documents.irsaliye import LineAnswer, receipt_for
    from entegrator.documents.read import read_any_draft

    despatch = read_any_draft(EXAMPLE.read_bytes())
    assert isinstance(despatch, DespatchDraft)
    despatch = despatch.model_copy(update={"ettn": str(uuid.uuid4())})

    def outcome(answers: dict[int, LineAnswer]) -> tuple[str, str]:
        receipt = receipt_for(
            despatch,
            number="IRY2026000000001",
            ettn=str(uuid.uuid4()),
            issue_date=despatch.issue_date,
            actual_delivery_date=despatch.issue_date,
            answers=answers,
        )
        found = receipt_outcome(receipt)
        return found.status.value, found.code

    assert outcome({}) == ("accepted", "received")
    assert outcome({2: LineAnswer(short=Decimal(1))}) == ("accepted", "partly-rejected")
    everything = {
        n: LineAnswer(rejected=line.quantity, reject_reason="Hasarlı")
        for n, line in enumerate(despatch.lines, start=1)
    }
    assert outcome(everything) == ("rejected", "rejected")
    # Oversupply alone is no rejection.
    assert outcome({1: LineAnswer(oversupply=Decimal(3))}) == ("accepted", "received")


def test_an_idempotent_retry_issues_one_despatch(make_tenant: Any) -> None:
    tenant = make_tenant()
    draft: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    draft["supplier"]["vkn"] = tenant.vkn
    key = {"Idempotency-Key": "irs-1"}
    with tenant.client() as c:
        first = c.post("/api/v1/despatches", json=draft, headers=key)
        again = c.post("/api/v1/despatches", json=draft, headers=key)
        assert (first.status_code, again.status_code) == (201, 201), again.text
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"
        other = dict(draft, notes=["Başka bir irsaliye"])
        reused = c.post("/api/v1/despatches", json=other, headers=key)
        assert reused.status_code == 409, reused.text
        assert len(c.get("/api/v1/despatches").json()["items"]) == 1
        assert c.post("/api/v1/despatches", json=draft).json()["number"] == "IRS2026000000002"
