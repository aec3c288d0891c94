"""Small draft factory for tests: a valid TEMELFATURA/SATIS that tests modify."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from entegrator.documents import Address, InvoiceDraft, Line, Party

SUPPLIER = Party(
    vkn="9876543217",
    name="Örnek Yazılım A.Ş.",
    tax_office="Çankaya",
    address=Address(district="Çankaya", city="Ankara", postal_zone="06420"),
)
CUSTOMER = Party(
    tckn="12345678950",
    first_name="Ayşe",
    family_name="Yılmaz",
    address=Address(district="Kadıköy", city="İstanbul"),
)


def line(**kw: Any) -> Line:
    base: dict[str, Any] = {
        "name": "Hizmet",
        "quantity": Decimal(1),
        "unit_price": Decimal(100),
        "kdv_percent": Decimal(20),
    }
    return Line(**(base | kw))


def draft(**kw: Any) -> InvoiceDraft:
    base: dict[str, Any] = {
        "profile": "TEMELFATURA",
        "type": "SATIS",
        "number": "ABC2026000000001",
        "ettn": "3F2C9A6E-8B1D-4C57-9E2A-6D0B7F41C8A5",
        "issue_date": dt.date(2026, 11, 2),
        "issue_time": dt.time(10, 0),
        "supplier": SUPPLIER,
        "customer": CUSTOMER,
        "lines": [line()],
    }
    return InvoiceDraft(**(base | kw))
