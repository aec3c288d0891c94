"""Each layer on its own: XML safety, XSD, schematron, arithmetic, identity, findings shape."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from pathlib import Path

import pytest
from lxml import etree

from entegrator.rules import (
    MAX_FINDINGS,
    Engine,
    Report,
    RulePack,
    RulePackError,
    Severity,
    Source,
    Validator,
)
from entegrator.rules.schematron import CompiledSchematron, read_schematron
from tests.clock import fixed, today, validation_settings
from tests.rules.mutations import MUTATIONS, apply

FINDING_KEYS = {"code", "severity", "source", "line", "xpath", "message_tr", "message_en", "hint"}


def _codes(report: Report) -> list[str]:
    return report.codes()


# --- layer 1: XML safety --------------------------------------------------------------------


def test_billion_laughs_is_refused_without_expansion(validator: Validator) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    bomb += b"".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    bomb += b"]><lolz>&lol9;</lolz>"
    report = validator.validate(bomb)
    assert _codes(report) == ["xml-unsafe"]
    assert not report.valid
    assert report.findings[0].message_tr and report.findings[0].message_en


def test_external_entity_is_refused_and_nothing_is_read(
    validator: Validator, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>'.encode()
    report = validator.validate(xxe)
    assert _codes(report) == ["xml-unsafe"]
    assert "TOP-SECRET" not in json.dumps(report.to_dict())


def test_utf16_doctype_is_refused(validator: Validator) -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'
    report = validator.validate(data.encode("utf-16"))
    assert _codes(report) == ["xml-unsafe"]


def test_huge_document_is_refused_before_parsing(tmp_path: Path) -> None:
    small = Validator(settings=validation_settings(max_bytes=1024))
    big = tmp_path / "big.xml"
    big.write_bytes(b"<a>" + b"x" * 4096 + b"</a>")
    assert _codes(small.validate_file(big)) == ["xml-size"]
    assert _codes(small.validate(big.read_bytes())) == ["xml-size"]


def test_compressed_bomb_bytes_are_just_bytes(validator: Validator) -> None:
    # A zip/deflate bomb handed in as a document is not inflated; it is not XML.
    report = validator.validate(zlib.compress(b"<a>" + b"0" * 10_000_000 + b"</a>"))
    assert _codes(report) == ["xml-syntax"]


def test_malformed_xml_gives_the_line(validator: Validator) -> None:
    report = validator.validate(b"<a>\n<b>\n</a>")
    assert _codes(report) == ["xml-syntax"]
    assert report.findings[0].line in (2, 3)


def test_unknown_root(validator: Validator) -> None:
    report = validator.validate(b"<CreditNote xmlns='urn:x'/>")
    assert _codes(report) == ["xml-root"]


def test_unreadable_file(validator: Validator, tmp_path: Path) -> None:
    report = validator.validate_file(tmp_path / "missing.xml")
    assert _codes(report) == ["xml-unreadable"]


# --- layer 2: XSD ---------------------------------------------------------------------------


def test_xsd_layer_reports_order_with_line(bases: dict[str, bytes], validator: Validator) -> None:
    mutation = next(m for m in MUTATIONS if m.name == "elements-out-of-order")
    report = validator.validate(apply(mutation, bases["satis"]))
    xsd = [f for f in report.findings if f.source is Source.XSD]
    assert xsd and all(f.line for f in xsd)
    assert "1160" in (xsd[0].hint_en or "")


def test_corpus_despatch_is_checked_with_its_own_schema(corpus: Path, validator: Validator) -> None:
    report = validator.validate_file(corpus / "irsaliye.xml")
    assert report.kind == "despatch" and report.valid
    broken = (
        (corpus / "irsaliye.xml").read_bytes().replace(b"<cbc:IssueDate>", b"<cbc:IssueDat>", 1)
    )
    broken = broken.replace(b"</cbc:IssueDate>", b"</cbc:IssueDat>", 1)
    assert any(f.source is Source.XSD for f in validator.validate(broken).findings)


# --- layer 3: schematron --------------------------------------------------------------------


def test_schematron_finding_has_gib_text_english_and_place(
    bases: dict[str, bytes], validator: Validator
) -> None:
    mutation = next(m for m in MUTATIONS if m.name == "unit-code-adet")
    report = validator.validate(apply(mutation, bases["satis"]))
    (finding,) = [f for f in report.findings if f.source is Source.SCHEMATRON]
    assert finding.code == "sch-GeneralUnitCodeCheck-1"
    assert "ADET" in finding.message_tr
    assert finding.message_en and "unit" in finding.message_en.lower()
    assert finding.xpath == "/Invoice/cac:InvoiceLine[1]/cbc:InvoicedQuantity/@unitCode" or (
        finding.xpath is not None and finding.xpath.endswith("cbc:InvoicedQuantity/@unitCode")
    )
    assert finding.line is not None


def test_earchive_variant_refuses_efatura_profile(bases: dict[str, bytes]) -> None:
    source = read_schematron(RulePack.default().schematron.read_bytes())
    earchive = CompiledSchematron(source, "earchive")
    efatura = CompiledSchematron(source, "efatura")
    root = etree.fromstring(bases["satis"])
    assert [f.code for f in efatura.run(root, today=today())] == []
    assert "sch-ProfileIDCheck-2" in [f.code for f in earchive.run(root, today=today())]


def test_rules_only_saxon_can_run_are_delegated() -> None:
    source = read_schematron(RulePack.default().schematron.read_bytes())
    compiled = CompiledSchematron(source, "efatura")
    assert compiled.delegated, "GİB's user-account rules use XPath 2.0 path functions"
    assert all("UserAccount" in c for c in compiled.delegated)


def test_engines_agree_on_a_future_date(bases: dict[str, bytes]) -> None:
    mutation = next(m for m in MUTATIONS if m.name == "future-issue-date")
    xml = apply(mutation, bases["satis"])
    compiled = Validator(settings=validation_settings(engine=Engine.COMPILED)).validate(xml)
    saxon = Validator(settings=validation_settings(engine=Engine.SAXON)).validate(xml)
    assert "sch-TimeCheck-1" in compiled.codes() and compiled.codes() == saxon.codes()


# --- layer 4: arithmetic --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", "arith-tax-exclusive"),
        ("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "arith-tax-inclusive"),
        ("cac:LegalMonetaryTotal/cbc:LineExtensionAmount", "arith-line-extension"),
        ("cac:LegalMonetaryTotal/cbc:PayableAmount", "arith-payable"),
        ("cac:InvoiceLine/cac:TaxTotal/cbc:TaxAmount", "arith-tax-total"),
    ],
)
def test_a_cent_off_anywhere_is_an_error(
    path: str, code: str, bases: dict[str, bytes], validator: Validator
) -> None:
    root = etree.fromstring(bases["satis"])
    ns = {
        "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
        "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    }
    node = root.find(path, ns)
    assert node is not None
    from decimal import Decimal

    node.text = str(Decimal(node.text or "0") + Decimal("0.01"))
    report = validator.validate(etree.tostring(root))
    assert code in report.codes()
    finding = next(f for f in report.findings if f.code == code)
    assert finding.severity is Severity.ERROR and finding.source is Source.ARITHMETIC
    assert "hesaplanan" in finding.message_tr and "computed" in finding.message_en


def test_withholding_invoices_add_up(validator: Validator) -> None:
    from entegrator.documents import build_invoice
    from entegrator.documents.samples import generate

    tevkifat = [build_invoice(d) for d in generate(80, seed=3) if d.type == "TEVKIFAT"]
    assert tevkifat
    for xml in tevkifat:
        assert validator.validate(xml).findings == []


# --- layer 5: identity ----------------------------------------------------------------------


def test_checksum_is_a_warning_unless_strict(bases: dict[str, bytes]) -> None:
    mutation = next(m for m in MUTATIONS if m.name == "bad-vkn-checksum")
    xml = apply(mutation, bases["satis"])
    lenient = Validator(settings=validation_settings()).validate(xml)
    strict = Validator(settings=validation_settings(id_checksum=Severity.ERROR)).validate(xml)
    assert lenient.valid and "id-vkn-checksum" in lenient.codes()
    assert not strict.valid and "id-vkn-checksum" in strict.codes()


def test_earchive_placeholder_tckn_is_accepted(corpus: Path, validator: Validator) -> None:
    data = (corpus / "earsiv_fatura.xml").read_bytes()
    root = etree.fromstring(data)
    ns = {
        "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
        "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    }
    ident = root.find("cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID", ns)
    assert ident is not None
    if ident.get("schemeID") != "TCKN":
        pytest.skip("corpus e-Arşiv customer is not a person")
    ident.text = "11111111111"
    assert "id-tckn-checksum" not in validator.validate(etree.tostring(root)).codes()


@pytest.mark.parametrize(
    ("base", "profile", "warned"),
    [("satis", "EARSIVFATURA", False), ("satis", "TEMELFATURA", True)],
)
def test_foreign_buyer_placeholder_vkn_is_accepted_on_earsiv_only(
    bases: dict[str, bytes], validator: Validator, base: str, profile: str, warned: bool
) -> None:
    cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    root = etree.fromstring(bases[base])
    root.find(f"{{{cbc}}}ProfileID").text = profile  # type: ignore[union-attr]
    ident = root.find(
        f"{{{cac}}}AccountingCustomerParty/{{{cac}}}Party/{{{cac}}}PartyIdentification/{{{cbc}}}ID"
    )
    assert ident is not None
    ident.set("schemeID", "VKN")
    ident.text = "2222222222"
    codes = validator.validate(etree.tostring(root)).codes()
    assert ("id-vkn-checksum" in codes) is warned


@pytest.mark.parametrize("engine", [Engine.COMPILED, Engine.SAXON])
def test_pinned_clock_makes_a_date_future(bases: dict[str, bytes], engine: Engine) -> None:
    """Every layer takes "today" from the validator's clock: ours and GİB's (``current-date()``
    in both engines), never from the machine's."""
    yesterday = Validator(
        settings=validation_settings(
            clock=fixed(dt.datetime(2005, 6, 1, 12, tzinfo=dt.UTC)), engine=engine
        )
    )
    codes = yesterday.validate(bases["satis"]).codes()
    assert "id-issue-date-future" in codes
    assert "sch-TimeCheck-1" in codes
    tomorrow = Validator(
        settings=validation_settings(
            clock=fixed(dt.datetime(2099, 1, 1, 12, tzinfo=dt.UTC)), engine=engine
        )
    )
    assert tomorrow.validate(bases["satis"]).valid


def test_the_clock_is_read_in_istanbul(bases: dict[str, bytes]) -> None:
    """21:30 UTC on the issue date's eve is already the issue date in Türkiye (UTC+3)."""
    issue = dt.date.fromisoformat(
        etree.fromstring(bases["satis"]).findtext(
            "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}IssueDate"
        )
        or ""
    )
    eve = dt.datetime.combine(issue - dt.timedelta(days=1), dt.time(21, 30), tzinfo=dt.UTC)
    on_time = Validator(settings=validation_settings(clock=fixed(eve), engine=Engine.COMPILED))
    assert on_time.validate(bases["satis"]).valid


# --- findings and packs ---------------------------------------------------------------------


def test_report_json_shape(bases: dict[str, bytes], validator: Validator) -> None:
    mutation = next(m for m in MUTATIONS if m.name == "ticari-iade")
    data = validator.validate(apply(mutation, bases["ticari"])).to_dict()
    assert set(data) == {
        "path",
        "valid",
        "kind",
        "profile",
        "type",
        "purpose",
        "findings",
        "truncated",
        "ms",
        "pack",
    }
    assert data["purpose"] == "outbound"
    assert data["pack"] == validator.pack.identity()
    assert data["pack"]["fingerprint"] == validator.pack.fingerprint
    assert data["truncated"] == 0
    assert data["valid"] is False and data["profile"] == "TICARIFATURA"
    for finding in data["findings"]:
        assert set(finding) >= FINDING_KEYS
        assert finding["severity"] in ("error", "warning", "info")
        assert finding["source"] in ("xml", "xsd", "schematron", "arithmetic", "identity")
    json.dumps(data)


def test_rules_pack_from_a_folder(tmp_path: Path, bases: dict[str, bytes]) -> None:
    import shutil

    default = RulePack.default()
    copy = tmp_path / "pack"
    shutil.copytree(default.root, copy)
    (copy / "paket.json").write_text('{"sematronGuncelleme": "29991231"}')
    # A newer package that tightens a rule: the copy's schematron is what runs.
    sch = (copy / "sematron/efatura.sch").read_text("utf-8")
    sch = sch.replace("cbc:CopyIndicator = 'false'", "cbc:CopyIndicator = 'never'")
    (copy / "sematron/efatura.sch").write_text(sch, "utf-8")
    pack = RulePack.from_dir(copy)
    assert pack.info()["versions"] == {"sematronGuncelleme": "29991231"}
    assert pack.fingerprint != default.fingerprint
    report = Validator(pack, settings=validation_settings(engine=Engine.COMPILED)).validate(
        bases["satis"]
    )
    assert "sch-CopyIndicatorCheck-1" in report.codes()


def test_incomplete_pack_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sematron").mkdir()
    with pytest.raises(RulePackError) as err:
        RulePack.from_dir(tmp_path)
    assert "efatura.sch" in err.value.text_en


def test_pack_info_counts() -> None:
    info = RulePack.default().info()
    assert info["schematron"]["rules"] > 100 and info["schematron"]["asserts"] > 400
    assert info["versions"]["efatura-kontrol"]


def test_an_assert_that_raises_is_a_finding_and_the_others_still_run(
    bases: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    from entegrator.rules import xpath as xp

    source = read_schematron(RulePack.default().schematron.read_bytes())
    compiled = CompiledSchematron(source, "efatura")
    root = etree.fromstring(bases["satis"])

    def broken(pattern: str) -> object:
        raise RuntimeError(f"regex engine down for {pattern}")

    monkeypatch.setattr(xp, "xsd_regex", broken)
    monkeypatch.setattr(xp, "_REGEXES", {})
    findings = compiled.run(root, today=today())
    evaluation = [f for f in findings if f.code == "sch-evaluation"]
    assert evaluation and all(f.severity is Severity.ERROR for f in evaluation)
    assert any("InvoiceIDCheck" in f.message_tr for f in evaluation)


def test_every_gib_rule_family_has_english_text() -> None:
    from entegrator.rules.gib_catalogue import _gib_catalogue, gib_family

    source = read_schematron(RulePack.default().schematron.read_bytes())
    invoice_like = {"genel", "invoice", "applicationresponse", "despatchadvice", "receiptadvice"}
    families = {
        gib_family(a.id) for r in source.rules if r.pattern in invoice_like for a in r.asserts
    }
    missing = families - set(_gib_catalogue())
    assert missing == set()


def test_translation_cache_replays_and_survives_damage(tmp_path: Path) -> None:
    source = read_schematron(RulePack.default().schematron.read_bytes())
    first = CompiledSchematron(source, "efatura", cache_dir=tmp_path)
    files = list((tmp_path / "rules").glob("*.json"))
    assert len(files) == 1
    second = CompiledSchematron(source, "efatura", cache_dir=tmp_path)
    assert [r.xpath.path if r.xpath else None for r in first.rules] == [
        r.xpath.path if r.xpath else None for r in second.rules
    ]
    assert second._memo.replay == []  # every answer came from the file
    files[0].write_text('[["ok", "1 = 0", {}]]')  # a file made for other rules
    third = CompiledSchematron(source, "efatura", cache_dir=tmp_path)
    assert [r.xpath.path if r.xpath else None for r in third.rules] == [
        r.xpath.path if r.xpath else None for r in first.rules
    ]


def test_translation_cache_is_where_the_caller_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core reads no environment: the cache goes to ``cache_dir``, or nowhere."""
    from_env = tmp_path / "env"
    monkeypatch.setenv("ENTEGRATOR_CACHE_DIR", str(from_env))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    source = read_schematron(RulePack.default().schematron.read_bytes())
    uncached = CompiledSchematron(source, "efatura")
    assert uncached._memo.path is None
    assert not from_env.exists() and not (tmp_path / "home").exists()
    CompiledSchematron(source, "efatura", cache_dir=tmp_path / "given")
    assert len(list((tmp_path / "given" / "rules").glob("*.json"))) == 1
    assert not from_env.exists() and not (tmp_path / "home").exists()


def test_answers_remembered_by_text_are_the_same_answers(bases: dict[str, bytes]) -> None:
    source = read_schematron(RulePack.default().schematron.read_bytes())
    compiled = CompiledSchematron(source, "efatura")
    mutation = next(m for m in MUTATIONS if m.name == "future-issue-date")
    bad = etree.fromstring(apply(mutation, bases["satis"]))
    good = etree.fromstring(bases["satis"])
    first = sorted(f.code for f in compiled.run(bad, today=today()))
    assert "sch-TimeCheck-1" in first and compiled._answers  # remembered by IssueDate text
    assert sorted(f.code for f in compiled.run(good, today=today())) == []
    assert (
        sorted(f.code for f in compiled.run(bad, today=today())) == first
    )  # from memory, same findings
    fresh = CompiledSchematron(source, "efatura")
    assert sorted(f.code for f in fresh.run(bad, today=today())) == first


def test_replayed_translations_know_their_code_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bases: dict[str, bytes]
) -> None:
    """A new process that compiles from the cache must still answer ``ent:in-list`` tests."""
    from entegrator.rules import xpath as xp

    source = read_schematron(RulePack.default().schematron.read_bytes())
    CompiledSchematron(source, "efatura", cache_dir=tmp_path)  # records the translations
    monkeypatch.setattr(xp, "_CODE_LISTS", {})  # as in a fresh process
    replayed = CompiledSchematron(source, "efatura", cache_dir=tmp_path)
    assert replayed._memo.replay == []
    assert xp._CODE_LISTS  # the long lists (units, MIME types) are registered again
    mutation = next(m for m in MUTATIONS if m.name == "unit-code-adet")
    codes = [
        f.code
        for f in replayed.run(etree.fromstring(apply(mutation, bases["satis"])), today=today())
    ]
    assert codes == ["sch-GeneralUnitCodeCheck-1"]


def test_a_report_keeps_its_first_findings_and_counts_the_rest(validator: Validator) -> None:
    attributes = " ".join(f"a{i}='1'" for i in range(3000))
    hostile = (
        f"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2' {attributes}/>"
    )
    report = validator.validate(hostile.encode())
    assert len(report.findings) == MAX_FINDINGS
    assert report.truncated > 0 and report.truncated_errors > 0
    assert report.valid is False
    small = Validator(settings=validation_settings(max_findings=5)).validate(hostile.encode())
    assert len(small.findings) == 5 and small.to_dict()["truncated"] == small.truncated > 0
    # The verdict counts what was left out: a report whose kept findings are warnings only
    # is still invalid when errors were cut.
    small.findings[:] = [f for f in small.findings if f.severity is not Severity.ERROR]
    assert small.valid is False
