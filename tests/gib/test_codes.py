"""GİB's status and fault code table against the transport document's rules."""

from __future__ import annotations

from entegrator.envelope.errors import EnvelopeError
from entegrator.gib import Action, CodeClass, fault, status
from entegrator.gib.codes import FAULTS, STATUSES


def test_every_code_maps_to_one_lifecycle_status() -> None:
    expected = {
        1000: "sent",
        1100: "processing",
        1200: "processing",
        1210: "processing",
        1220: "processing",
        1300: "delivered",
        1215: "failed_delivery",
        1230: "failed_delivery",
    }
    for code, lifecycle in expected.items():
        assert status(code).lifecycle == lifecycle, code
    for code, entry in STATUSES.items():
        if 1100 < code < 1200:
            assert entry.code_class is CodeClass.ERROR
            assert entry.lifecycle == "rejected_by_gib"
            assert entry.final
        assert entry.text_tr and entry.text_en
    assert [c for c, e in STATUSES.items() if e.code_class is CodeClass.SUCCESS] == [1300]


def test_what_to_do_on_each_kind_of_code() -> None:
    assert status(1163).action is Action.INVESTIGATE  # duplicate: never resend
    assert status(1195).action is Action.RESEND_LATER
    assert status(1150).action is Action.FIX_AND_NEW_ENVELOPE
    assert not status(1000).final and not status(1200).final and not status(1210).final
    assert status(1200).system_response and not status(1300).system_response
    unknown = status(1999)
    assert unknown.code_class is CodeClass.ERROR and unknown.action is Action.INVESTIGATE
    assert "1999" in unknown.text_en


def test_the_envelope_module_speaks_the_same_codes() -> None:
    for code in (1110, 1130, 1131, 1132, 1133, 1142):
        assert code in STATUSES
        error = EnvelopeError(gib_code=code, detail_tr="x", detail_en="x")
        assert error.gib_code is not None
        assert status(error.gib_code).code_class is CodeClass.ERROR


def test_faults() -> None:
    assert set(FAULTS) == set(range(2000, 2008))
    assert {c for c, f in FAULTS.items() if f.transient} == {2002, 2003, 2005}
    assert not fault(2099).transient
