"""Örnek faturalar: varied, deterministic invoice drafts for tours, tests and benchmarks.

``generate(count, seed=…)`` cycles through every supported profile × type combination of
:data:`SCENARIOS`, in TRY and foreign currency, with 1 to 1000 lines, so that a few hundred
samples exercise every path of the builder. The same seed always gives the same drafts.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from decimal import Decimal

from entegrator.documents.codes import InvoiceTypeCode as T
from entegrator.documents.codes import ProfileID as P
from entegrator.documents.codes import allowed_types, withholding_percents
from entegrator.documents.identifiers import ettn, numbering, tckn, vkn
from entegrator.documents.model import (
    Address,
    AllowanceCharge,
    Carrier,
    Contact,
    Delivery,
    DocumentReference,
    InternetSale,
    InvoiceDraft,
    Line,
    LineDelivery,
    OtherTax,
    Party,
    PartyIdentifier,
    PaymentMeans,
    PaymentTerms,
)
from entegrator.documents.totals import round_amount

__all__ = ["GTB", "SCENARIOS", "generate", "line_count_for"]

_PROFILES = (P.TEMELFATURA, P.TICARIFATURA, P.IHRACAT, P.YOLCUBERABERFATURA, P.EARSIVFATURA, P.KAMU)
_TYPES = (T.SATIS, T.IADE, T.TEVKIFAT, T.ISTISNA, T.OZELMATRAH, T.IHRACKAYITLI)
SCENARIOS: tuple[tuple[P, T], ...] = tuple(
    (p, t) for p in _PROFILES for t in _TYPES if t in allowed_types(p)
)

GTB = Party(
    vkn="1460415308",
    name="Gümrük ve Ticaret Bakanlığı Bilgi İşlem Dairesi Başkanlığı",
    tax_office="Ulus",
    address=Address(district="Çankaya", city="Ankara", country="Türkiye", country_code="TR"),
)
_CITIES = [
    ("Çankaya", "Ankara", "06"),
    ("Kadıköy", "İstanbul", "34"),
    ("Konak", "İzmir", "35"),
    ("Nilüfer", "Bursa", "16"),
    ("Muratpaşa", "Antalya", "07"),
    ("Şahinbey", "Gaziantep", "27"),
]
_COMPANIES = [
    "Örnek Yazılım A.Ş.",
    "Güneş Gıda Ltd. Şti.",
    "Çağlar İnşaat A.Ş.",
    "Işık Tekstil San. Tic. A.Ş.",
    "Öztürk Lojistik Ltd. Şti.",
    "Ağaoğlu Mobilya A.Ş.",
]
_PEOPLE = [
    ("Ayşe", "Yılmaz"),
    ("Mehmet", "Öztürk"),
    ("Zeynep", "Çelik"),
    ("İsmail", "Şahin"),
    ("Gül", "Doğan"),
]
_ITEMS = [
    ("Yazılım lisansı", "C62"),
    ("Danışmanlık hizmeti", "HUR"),
    ("Un", "KGM"),
    ("Zeytinyağı", "LTR"),
    ("Kumaş", "MTR"),
    ("Seramik karo", "MTK"),
    ("Bakım hizmeti", "DAY"),
    ("Elektrik", "KWH"),
    ("Kitap", "C62"),
    ("Çelik profil", "TNE"),
]
_SINGLE_WITHHOLDING = [
    c
    for c in ("602", "603", "604", "606", "607", "612", "613", "614", "615", "624", "625")
    if len(withholding_percents(c)) == 1
]


def _chance(rng: random.Random, percent: int) -> bool:
    return rng.randint(1, 100) <= percent


def line_count_for(index: int, rng: random.Random) -> int:
    """Line counts: mostly small, every 10th 100 lines, every 50th (from the 25th) 1000 lines."""
    if index % 50 == 25:
        return 1000
    if index % 10 == 5:
        return 100
    return rng.choice((1, 1, 2, 3, 5, 10, 10, 20))


def _vkn(rng: random.Random) -> str:
    first = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return first + vkn.calc_check_digit(first)


def _tckn(rng: random.Random) -> str:
    first = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return tckn.validate(first + tckn.calc_check_digits(first))


def _address(rng: random.Random) -> Address:
    district, city, plate = rng.choice(_CITIES)
    return Address(
        street=f"{rng.choice(['Atatürk', 'Cumhuriyet', 'İnönü'])} Cad.",
        building_number=str(rng.randint(1, 200)),
        district=district,
        city=city,
        postal_zone=f"{plate}{rng.randint(100, 999)}",
        country="Türkiye",
        country_code="TR",
    )


def _company(rng: random.Random) -> Party:
    return Party(
        vkn=_vkn(rng),
        name=rng.choice(_COMPANIES),
        tax_office=rng.choice(_CITIES)[0],
        address=_address(rng),
        contact=Contact(telephone="0312 555 12 34", email="fatura@example.com.tr"),
        identifiers=[
            PartyIdentifier(scheme_id="MERSISNO", value=f"0{rng.randint(10**14, 10**15 - 1)}")
        ],
    )


def _person(rng: random.Random) -> Party:
    first, family = rng.choice(_PEOPLE)
    return Party(tckn=_tckn(rng), first_name=first, family_name=family, address=_address(rng))


def _money(rng: random.Random, low: int, high: int, places: int = 2) -> Decimal:
    return Decimal(rng.randint(low * 10**places, high * 10**places)).scaleb(-places)


def _kdv(t: T, rng: random.Random) -> dict[str, object]:
    if t is T.ISTISNA:
        return {"kdv_percent": Decimal(0), "exemption_code": rng.choice(["301", "302"])}
    if t is T.IHRACKAYITLI:
        return {"kdv_percent": Decimal(0), "exemption_code": "701"}
    if t is T.OZELMATRAH:
        return {
            "kdv_percent": Decimal(20),
            "exemption_code": "801",
            "exemption_reason": "Özel matrah - 3065 s. KDV Kanunu 23. madde",
        }
    if _chance(rng, 10):
        return {"kdv_percent": Decimal(0), "exemption_code": "351"}
    return {"kdv_percent": Decimal(rng.choice([1, 10, 20, 20, 20]))}


def _line(p: P, t: T, rng: random.Random, n: int) -> Line:
    name, unit = rng.choice(_ITEMS)
    qty = Decimal(rng.randint(1, 500)).scaleb(-rng.choice([0, 0, 1, 3]))
    price = _money(rng, 1, 5000, rng.choice([2, 2, 4]))
    extra: dict[str, object] = _kdv(t, rng)
    if t is T.OZELMATRAH:
        extra["special_base"] = round_amount(qty * price * Decimal("0.2"))
    if t is T.TEVKIFAT and (n == 0 or _chance(rng, 50)):
        extra["withholding_code"] = rng.choice(_SINGLE_WITHHOLDING)
    acs = []
    if _chance(rng, 30):
        acs.append(
            AllowanceCharge(rate=Decimal(rng.choice(["0.05", "0.1", "0.15"])), reason="İskonto")
        )
    elif _chance(rng, 10):
        acs.append(AllowanceCharge(amount=Decimal("0.50"), reason="Nakliye", charge=True))
    if t in (T.SATIS, T.IADE) and _chance(rng, 10) and extra["kdv_percent"]:
        extra["other_taxes"] = [OtherTax(code="0071", percent=Decimal(rng.choice([5, 10])))]
    if p is P.IHRACAT:
        extra["delivery"] = LineDelivery(gtip=f"{rng.randint(10**11, 10**12 - 1)}")
        extra["origin_country"] = "TR"
    return Line(
        name=name,
        quantity=qty,
        unit_code=unit,
        unit_price=price,
        allowances_charges=acs,
        seller_item_id=f"STK-{rng.randint(1000, 9999)}",
        **extra,
    )


def _profile_fields(p: P, rng: random.Random, issue: dt.date) -> dict[str, object]:
    out: dict[str, object] = {}
    if p is P.IHRACAT:
        out["customer"] = GTB
        out["buyer_customer"] = Party(
            party_type="EXPORT",
            registration_name="Global Trading GmbH",
            address=Address(
                street="Hauptstraße 1",
                district="Mitte",
                city="Berlin",
                country="Almanya",
                country_code="DE",
            ),
        )
        out["delivery"] = Delivery(
            incoterms=rng.choice(["FOB", "CIF", "EXW"]),
            transport_mode="3",
            address=Address(district="Mitte", city="Berlin", country="Almanya", country_code="DE"),
        )
    elif p is P.YOLCUBERABERFATURA:
        out["customer"] = GTB
        out["buyer_customer"] = Party(
            party_type="TAXFREE",
            first_name="John",
            family_name="Smith",
            nationality="GB",
            passport_id="P1234567",
            passport_issue_date=dt.date(2022, 5, 1),
            address=Address(
                district="Westminster", city="London", country="Birleşik Krallık", country_code="GB"
            ),
        )
        out["tax_representative"] = Party(
            name="Tax Free Aracı A.Ş.",
            address=_address(rng),
            identifiers=[
                PartyIdentifier(scheme_id="ARACIKURUMVKN", value="9876543217"),
                PartyIdentifier(
                    scheme_id="ARACIKURUMETIKET", value="urn:mail:taxfreepk@example.com.tr"
                ),
            ],
        )
    elif p is P.KAMU:
        out["customer"] = Party(
            vkn=_vkn(rng), name="T.C. Örnek Valiliği", tax_office="Ulus", address=_address(rng)
        )
        out["payment_means"] = [
            PaymentMeans(
                code="42",
                due_date=issue + dt.timedelta(days=30),
                iban="TR330006100519786457841326",
                bank_name="Örnek Bankası",
            )
        ]
    elif p is P.EARSIVFATURA:
        out |= _earsiv_fields(rng, issue)
    else:
        out["customer"] = _company(rng)
    return out


_CARRIERS = (
    Carrier(
        vkn="9876543217",
        name="Örnek Kargo A.Ş.",
        address=Address(district="Şişli", city="İstanbul"),
    ),
    Carrier(
        tckn="12345678950",
        first_name="Mehmet",
        family_name="Kurye",
        address=Address(district="Çankaya", city="Ankara"),
    ),
)
_PAYMENT_TYPES = (
    "KREDIKARTI/BANKAKARTI",
    "EFT/HAVALE",
    "KAPIDAODEME",
    "ODEMEARACISI",
    "DIGER - Hediye çeki",
)


def _earsiv_fields(rng: random.Random, issue: dt.date) -> dict[str, object]:
    """An e-Arşiv buyer (a consumer most often, sometimes the placeholder), the sending type
    and, for one in three, an internet sale."""
    customer = _person(rng) if _chance(rng, 70) else _company(rng)
    if _chance(rng, 10):
        customer = customer.model_copy(
            update={
                "tckn": "11111111111",
                "vkn": None,
                "first_name": "Nihai",
                "family_name": "Tüketici",
                "name": None,
            }
        )
    out: dict[str, object] = {"sending_type": rng.choice(["ELEKTRONIK", "KAGIT"])}
    if _chance(rng, 35):
        payment_type = rng.choice(_PAYMENT_TYPES)
        out["sending_type"] = "ELEKTRONIK"
        out["internet_sale"] = InternetSale(
            payment_type=payment_type,
            payment_intermediary="Örnek Ödeme Kuruluşu A.Ş."
            if payment_type == "ODEMEARACISI"
            else None,
            payment_date=None if payment_type in ("KAPIDAODEME", "DIGER - Hediye çeki") else issue,
            shipment_date=issue + dt.timedelta(days=1),
            carrier=rng.choice(_CARRIERS),
        )
    if out["sending_type"] == "ELEKTRONIK":
        contact = (
            Contact(email="alici@example.com.tr")
            if _chance(rng, 70)
            else Contact(telephone="0532 555 12 34")
        )
        customer = customer.model_copy(update={"contact": contact})
    out["customer"] = customer
    return out


def _draft(index: int, rng: random.Random, base: dt.date) -> InvoiceDraft:
    p, t = SCENARIOS[index % len(SCENARIOS)]
    issue = base - dt.timedelta(days=rng.randint(0, 60))
    currency = "TRY"
    if p in (P.IHRACAT, P.YOLCUBERABERFATURA) or _chance(rng, 15):
        currency = rng.choice(["USD", "EUR"])
    fields = _profile_fields(p, rng, issue)
    n_lines = line_count_for(index, rng)
    fields["lines"] = [_line(p, t, rng, n) for n in range(n_lines)]
    if t is T.IADE:
        fields["billing_references"] = [
            DocumentReference(
                id=numbering.format_number("ABC", issue.year, rng.randint(1, 999)),
                issue_date=issue - dt.timedelta(days=10),
            )
        ]
    if _chance(rng, 20) and t is not T.TEVKIFAT:
        fields["allowances_charges"] = [
            AllowanceCharge(amount=Decimal("1.00"), reason="Kampanya indirimi")
        ]
    if _chance(rng, 30):
        fields["payment_terms"] = PaymentTerms(
            note="30 gün vadeli", due_date=issue + dt.timedelta(days=30)
        )
    if currency != "TRY":
        fields["exchange_rate"] = _money(rng, 30, 50, 4)
        fields["exchange_rate_date"] = issue
    series = "ARS" if p is P.EARSIVFATURA else "ENT"
    return InvoiceDraft(
        profile=p,
        type=t,
        number=numbering.format_number(series, issue.year, index + 1),
        ettn=ettn.new(uuid.UUID(int=rng.getrandbits(128), version=4)),
        issue_date=issue,
        issue_time=dt.time(rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59)),
        currency=currency,
        notes=["Örnek fatura"] if _chance(rng, 30) else [],
        supplier=_supplier(rng, internet="internet_sale" in fields),
        **fields,
    )


def _supplier(rng: random.Random, *, internet: bool) -> Party:
    supplier = _company(rng)
    if internet:
        supplier = supplier.model_copy(update={"website": "https://magaza.example.com.tr"})
    return supplier


def generate(count: int, *, seed: int = 0, today: dt.date | None = None) -> Iterator[InvoiceDraft]:
    """``count`` drafts cycling through :data:`SCENARIOS`; the same seed gives the same drafts."""
    base = today or dt.date(2026, 11, 1)
    for i in range(count):
        # Reproducible sample data, not secrets: a seeded PRNG is the point.
        yield _draft(i, random.Random(f"{seed}:{i}"), base)  # noqa: S311
