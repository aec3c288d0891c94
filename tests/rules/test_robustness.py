"""Bad input never crashes: random and damaged bytes give findings or GİB's error codes."""

from __future__ import annotations

import io
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entegrator.envelope import EnvelopeError, unpack
from entegrator.rules import Report, Validator
from tests.clock import validation_settings

VALIDATOR = Validator(settings=validation_settings())
SAMPLE = (
    b'<?xml version="1.0" encoding="UTF-8"?><Invoice xmlns="urn:oasis:names:specification:ubl:'
    b'schema:xsd:Invoice-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:'
    b'CommonBasicComponents-2"><cbc:UBLVersionID>2.1</cbc:UBLVersionID><cbc:ID>ABC2026000000001'
    b"</cbc:ID><cbc:IssueDate>2026-11-20</cbc:IssueDate></Invoice>"
)


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_report(data: bytes) -> None:
    report = VALIDATOR.validate(data)
    assert isinstance(report, Report)
    assert not report.valid


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.integers(0, len(SAMPLE) - 1), st.binary(min_size=1, max_size=8))
def test_damaged_documents_give_a_report(at: int, noise: bytes) -> None:
    data = SAMPLE[:at] + noise + SAMPLE[at + len(noise) :]
    report = VALIDATOR.validate(data)
    assert isinstance(report, Report)
    for finding in report.findings:
        assert finding.code and finding.message_tr and finding.message_en


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.binary(max_size=3000))
def test_random_zips_raise_only_envelope_errors(data: bytes) -> None:
    try:
        unpack(data)
    except EnvelopeError as exc:
        assert exc.gib_code in (1110, 1130, 1131, 1132, 1133, 1142, 1150)


# Names the zip writer itself accepts (it cannot write a NUL or an empty name).
_NAMES = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.binary(max_size=500), _NAMES)
def test_zips_with_random_content_raise_only_envelope_errors(content: bytes, name: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    try:
        unpack(buffer.getvalue())
    except EnvelopeError as exc:
        assert exc.gib_code is not None
