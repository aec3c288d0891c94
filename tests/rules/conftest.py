"""Fixtures for the validation tests: warm validators and the base invoices of the mutations."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from entegrator.documents import build_invoice
from entegrator.documents.samples import generate
from entegrator.rules import Engine, Validator
from tests.clock import today, validation_settings


@pytest.fixture(scope="session")
def validator() -> Validator:
    v = Validator(settings=validation_settings(engine=Engine.COMPILED))
    v.warm_up()
    return v


@pytest.fixture(scope="session")
def saxon_validator() -> Validator:
    return Validator(settings=validation_settings(engine=Engine.SAXON))


def _samples() -> Iterator[bytes]:
    for draft in generate(300, seed=5, today=today()):
        if len(draft.lines) > 20:
            continue
        yield build_invoice(draft)


@pytest.fixture(scope="session")
def bases() -> dict[str, bytes]:
    """One valid invoice per situation the mutations need."""
    wanted: dict[str, Callable[[str | None, str | None, bytes], bool]] = {
        "satis": lambda p, t, x: p == "TEMELFATURA" and t == "SATIS" and b">TRY<" in x,
        "ticari": lambda p, t, x: p == "TICARIFATURA" and t == "SATIS",
        "usd": lambda p, t, x: b"PricingExchangeRate" in x and p == "TEMELFATURA",
        "ihracat": lambda p, t, x: p == "IHRACAT",
        "istisna": lambda p, t, x: t == "ISTISNA" and p == "TEMELFATURA",
    }
    found: dict[str, bytes] = {}
    from lxml import etree

    for xml in _samples():
        root = etree.fromstring(xml)
        ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
        profile = root.findtext("cbc:ProfileID", namespaces=ns)
        type_ = root.findtext("cbc:InvoiceTypeCode", namespaces=ns)
        for name, test in wanted.items():
            if name not in found and test(profile, type_, xml):
                found[name] = xml
    assert set(found) == set(wanted), f"no sample for {set(wanted) - set(found)}"
    return found
