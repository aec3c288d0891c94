"""Örnek irsaliyeler: varied, deterministic despatch and receipt drafts for tests and tours.

``generate_despatches(count, seed=…)`` cycles through TEMELIRSALIYE and HKSIRSALIYE, SEVK
and MATBUDAN, drivers with trailers or a carrier or both, partial shipments and the optional
parties; ``generate_receipts`` answers each of them (full, partly rejected, short, oversupply,
late-delivery complaints).
The same seed always gives the same drafts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid
from collections.abc import Iterator
from decimal import Decimal

from entegrator.documents.identifiers import ettn, numbering
from entegrator.documents.irsaliye import LineAnswer, receipt_for
from entegrator.documents.model import (
    DespatchDraft,
    DespatchLine,
    DespatchShipment,
    DocumentReference,
    Driver,
    ItemIdentifier,
    ReceiptDraft,
)
from entegrator.documents.samples import _address, _company, _person, _tckn

__all__ = ["SCENARIOS", "generate_despatches", "generate_receipts"]

SCENARIOS = (
    ("TEMELIRSALIYE", "SEVK"),
    ("TEMELIRSALIYE", "MATBUDAN"),
    ("HKSIRSALIYE", "SEVK"),
    ("HKSIRSALIYE", "MATBUDAN"),
)
_GOODS = [
    ("Masa Üstü Bilgisayar", "C62"),
    ("Çimento", "KGM"),
    ("Akaryakıt", "LTR"),
    ("Kablo", "MTR"),
    ("Domates", "KGM"),
    ("Koli", "C62"),
]
_LETTERS = "ABCDEFGHJKLMNPRSTUVYZ"


def _plate(rng: random.Random) -> str:
    letters = "".join(rng.choice(_LETTERS) for _ in range(rng.randint(1, 3)))
    return f"{rng.randint(1, 81):02d}{letters}{rng.randint(10, 9999)}"


def _ettn(rng: random.Random) -> str:
    return ettn.new(uuid.UUID(int=rng.getrandbits(128), version=4))


def _line(rng: random.Random, n: int, hks: bool) -> DespatchLine:
    name, unit = rng.choice(_GOODS)
    quantity = Decimal(rng.randint(1, 500))
    if unit != "C62" and rng.randint(1, 100) <= 50:
        quantity += Decimal(rng.randint(1, 999)).scaleb(-3)
    partial = rng.randint(1, 100) <= 20
    ids = [ItemIdentifier(scheme_id="KUNYENO", value=str(rng.randint(10**18, 10**19 - 1)))]
    return DespatchLine(
        name=name,
        quantity=quantity,
        unit_code=unit,
        outstanding_quantity=Decimal(rng.randint(1, 100)) if partial else None,
        outstanding_reason="Stokta kalmadı, sonraki sevkiyatta" if partial else None,
        seller_item_id=f"STK{n:04d}" if rng.randint(1, 100) <= 70 else None,
        buyer_item_id=f"ALC{n:04d}" if rng.randint(1, 100) <= 30 else None,
        brand_name="Örnek" if rng.randint(1, 100) <= 20 else None,
        notes=["Kırılacak eşya"] if rng.randint(1, 100) <= 10 else [],
        additional_item_ids=ids if hks else [],
    )


def _despatch(index: int, rng: random.Random, base: dt.date) -> DespatchDraft:
    profile, kind = SCENARIOS[index % len(SCENARIOS)]
    issue = base + dt.timedelta(days=rng.randint(0, 25))
    mode = index // len(SCENARIOS) % 3  # 0 drivers, 1 carrier, 2 both
    drivers = (
        [
            Driver(first_name=p.first_name or "", family_name=p.family_name or "", tckn=_tckn(rng))
            for p in (_person(rng) for _ in range(rng.randint(1, 2)))
        ]
        if mode != 1
        else []
    )
    shipment = DespatchShipment(
        goods_value=Decimal(rng.randint(100, 10**6)) if rng.randint(1, 100) <= 60 else None,
        drivers=drivers,
        plate=_plate(rng) if drivers else None,
        trailer_plates=[_plate(rng) for _ in range(rng.randint(0, 2))] if drivers else [],
        carrier=_company(rng) if mode != 0 else None,
        delivery_address=_address(rng),
        actual_despatch_date=issue,
        actual_despatch_time=dt.time(rng.randint(6, 20), rng.choice((0, 15, 30, 45))),
    )
    many = index % 10 == 5
    return DespatchDraft(
        kind="despatch",
        profile=profile,
        type=kind,
        number=numbering.format_number("IRS", issue.year, index + 1),
        ettn=_ettn(rng),
        issue_date=issue,
        issue_time=dt.time(rng.randint(6, 20), rng.randint(0, 59), rng.randint(0, 59)),
        notes=["Mallar sevk edildi."] if rng.randint(1, 100) <= 50 else [],
        order_reference=(
            DocumentReference(id=f"SIP-{rng.randint(1, 9999)}", issue_date=issue)
            if rng.randint(1, 100) <= 40
            else None
        ),
        paper_document=(
            DocumentReference(id=f"A-{rng.randint(100000, 999999)}", issue_date=issue)
            if kind == "MATBUDAN"
            else None
        ),
        supplier=_company(rng),
        supplier_contact="Depo Sorumlusu" if rng.randint(1, 100) <= 50 else None,
        customer=_company(rng) if rng.randint(1, 100) <= 80 else _person(rng),
        buyer_customer=_company(rng) if index % 5 == 1 else None,
        seller_supplier=_company(rng) if index % 5 == 2 else None,
        originator_customer=_company(rng) if index % 5 == 3 else None,
        shipment=shipment,
        lines=[
            _line(rng, n, profile == "HKSIRSALIYE")
            for n in range(1, (100 if many else rng.randint(1, 6)) + 1)
        ],
    )


def generate_despatches(
    count: int, *, seed: int = 0, today: dt.date | None = None
) -> Iterator[DespatchDraft]:
    """``count`` despatch drafts cycling through :data:`SCENARIOS`, deterministic per seed."""
    base = today or dt.date(2026, 11, 1)
    for i in range(count):
        # Reproducible sample data, not secrets: a seeded PRNG is the point.
        yield _despatch(i, random.Random(f"despatch:{seed}:{i}"), base)  # noqa: S311


def _answer(rng: random.Random, quantity: Decimal, style: int) -> LineAnswer:
    if style == 0 or quantity < 2:
        return LineAnswer()
    part = Decimal(max(1, int(quantity) // 4))
    if style == 1:
        return LineAnswer(rejected=part, reject_reason="Hasarlı teslim edildi")
    if style == 2:
        return LineAnswer(short=part)
    return LineAnswer(oversupply=part)


def generate_receipts(
    count: int, *, seed: int = 0, today: dt.date | None = None
) -> Iterator[tuple[DespatchDraft, ReceiptDraft]]:
    """``count`` (despatch, answer) pairs: full acceptance, rejections, shortages, oversupply."""
    for i, despatch in enumerate(generate_despatches(count, seed=seed, today=today)):
        rng = random.Random(f"receipt:{seed}:{i}")  # noqa: S311
        answers = {
            n: _answer(rng, line.quantity, (i + n) % 4)
            for n, line in enumerate(despatch.lines, start=1)
        }
        if i % 6 == 4:  # goods accepted, but late: GİB's "şikayet içeren yanıt"
            answers = {
                n: dataclasses.replace(a, timing_complaint="Ürünler geç gönderilmiştir.")
                for n, a in answers.items()
            }
        received = despatch.shipment.actual_despatch_date + dt.timedelta(days=rng.randint(0, 3))
        yield (
            despatch,
            receipt_for(
                despatch,
                number=numbering.format_number("IRY", received.year, i + 1),
                ettn=_ettn(rng),
                issue_date=received,
                issue_time=dt.time(rng.randint(8, 18), rng.randint(0, 59)),
                actual_delivery_date=received,
                answers=answers,
                notes=["Teslim alındı."] if rng.randint(1, 100) <= 50 else None,
            ),
        )
