"""A test CA, seals for the sample documents' suppliers, and signed documents."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from entegrator.documents import build_invoice, safe_xml
from entegrator.documents.samples import generate
from entegrator.signing import SigningKey, TestCA
from entegrator.signing.xades import issuer_identity
from tests.clock import now


@pytest.fixture(scope="session")
def ca() -> TestCA:
    return TestCA.create("entegrator Test SM", now=now())


@pytest.fixture(scope="session")
def invoices() -> list[bytes]:
    """Invoices of several profiles and types, 1 to 40 lines."""
    out = []
    for draft in generate(40, seed=13):
        if len(draft.lines) <= 40:
            out.append(build_invoice(draft))
    return out[:12]


@pytest.fixture(scope="session")
def seal_for(ca: TestCA) -> Callable[[bytes, str], SigningKey]:
    cache: dict[tuple[str, str], SigningKey] = {}

    def make(xml: bytes, key_type: str = "rsa") -> SigningKey:
        identity = issuer_identity(safe_xml.parse(xml))
        assert identity
        if (identity, key_type) not in cache:
            cache[identity, key_type] = ca.issue(
                identity=identity, name="Test Mükellef A.Ş.", key_type=key_type, now=now()
            )
        return cache[identity, key_type]

    return make
