"""Parsing: the public corpus (golden), and hostile or broken XML."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from entegrator.documents import ParseError, UnsafeXMLError, XMLError, build_invoice, parse_invoice
from entegrator.documents.safe_xml import parse as safe_parse
from tests.documents.factory import draft
from tests.oracle import check


def test_corpus_basic_invoice(corpus: Path) -> None:
    d = parse_invoice((corpus / "temel_fatura.xml").read_bytes())
    assert (d.profile, d.type, d.number) == ("TEMELFATURA", "SATIS", "GIB2026000000001")
    assert d.ettn == "F47AC10B-58CC-4372-A567-0E02B2C3D479"
    assert d.supplier.vkn == "1288331521" and d.supplier.name == "AAA Anonim Şirketi"
    assert d.customer.tckn == "11111111110"
    assert [(i.scheme_id, i.value) for i in d.customer.identifiers] == [
        ("TESISATNO", "1234567"),
        ("SAYACNO", "12345678"),
    ]
    (ln,) = d.lines
    assert (ln.quantity, ln.unit_code, ln.unit_price, ln.kdv_percent) == (
        Decimal(101),
        "KWH",
        Decimal("0.15"),
        Decimal(18),
    )
    assert d.payment_terms is not None and d.payment_terms.note == "BBB Bank Otomatik Ödeme"


def test_corpus_earsiv_rebuilds_valid(corpus: Path) -> None:
    d = parse_invoice((corpus / "earsiv_fatura.xml").read_bytes())
    assert d.profile == "EARSIVFATURA"
    # Rebuilt from the draft (with our own numbering of a 2026 document) it passes GİB's rules.
    xml = build_invoice(d)
    assert check(xml).errors == []
    assert build_invoice(parse_invoice(xml)) == xml


def test_corpus_faulty_invoice_is_parsed_and_then_refused(corpus: Path) -> None:
    d = parse_invoice((corpus / "hatali_fatura.xml").read_bytes())
    assert d.lines[0].unit_code == "ADET"
    from entegrator.documents import DraftError

    with pytest.raises(DraftError) as info:
        build_invoice(d)
    assert "UNIT_CODE" in {p.code for p in info.value.problems}


def test_despatch_advice_is_not_an_invoice(corpus: Path) -> None:
    with pytest.raises(ParseError) as info:
        parse_invoice((corpus / "irsaliye.xml").read_bytes())
    assert "DespatchAdvice" in info.value.text_en


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "' + b"&lol;" * 10 + b'"><!ENTITY lol3 "' + b"&lol2;" * 10 + b'">]>'
    b"<Invoice>&lol3;</Invoice>"
)
XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice>&e;</Invoice>"""
XXE_UTF16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:1/">]><a>&e;</a>'.encode(
    "utf-16"
)


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE, XXE_UTF16])
def test_hostile_xml_is_refused(data: bytes) -> None:
    with pytest.raises(UnsafeXMLError) as info:
        parse_invoice(data)
    assert info.value.code == "UNSAFE_XML"


def test_oversized_xml_is_refused_before_parsing() -> None:
    with pytest.raises(UnsafeXMLError) as info:
        safe_parse(b"<a>" + b" " * 2000 + b"</a>", max_bytes=1000)
    assert "1000" in info.value.text_en


@pytest.mark.parametrize("data", [b"", b"<a>", b"not xml", b"<a></b>"])
def test_malformed_xml_says_where(data: bytes) -> None:
    with pytest.raises(XMLError) as info:
        parse_invoice(data)
    assert info.value.code == "MALFORMED_XML"
    assert "line" in info.value.text_en


def test_invoice_with_bad_number_text_is_a_parse_error() -> None:
    xml = build_invoice(draft())
    broken = xml.replace(b'unitCode="C62">1<', b'unitCode="C62">one<')
    with pytest.raises(ParseError):
        parse_invoice(broken)
