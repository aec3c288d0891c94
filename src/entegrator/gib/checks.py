"""Which GİB status code a validation report earns (the order GİB checks in).

Shared by the simulator (as GİB) and by the integrator answering envelopes delivered to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cryptography import x509

from entegrator.envelope.sbdh import Envelope, EnvelopeType
from entegrator.rules import DocumentValidator, Finding, Report, Severity, Source

__all__ = ["envelope_refusal", "refusal", "signature_code"]

_LAYERS = ((Source.XSD, 1160), (Source.SCHEMATRON, 1150), (Source.SIGNATURE, 1177))


def signature_code(findings: Iterable[Finding]) -> int:
    """1161: no VKN/TCKN in the certificate; 1176: a signer who may not sign for the party;
    1177: any other signature error."""
    codes = {f.code for f in findings}
    if "sig-no-identity" in codes:
        return 1161
    if "sig-identity" in codes:
        return 1176
    return 1177


def refusal(report: Report) -> tuple[int, str] | None:
    """(code, first finding) for a report GİB would refuse, None if it passes GİB's checks.

    Only GİB's own layers count (XSD, schematron, signature); entegrator's arithmetic and
    identity rules are advice to the sender, not reasons for GİB to refuse.
    """
    for source, layer_code in _LAYERS:
        errors = [f for f in report.findings if f.source is source and f.severity is Severity.ERROR]
        if errors:
            code = signature_code(errors) if source is Source.SIGNATURE else layer_code
            return code, f"{errors[0].code}: {errors[0].message_tr}"[:500]
    return None


def envelope_refusal(
    validator: DocumentValidator,
    xml: bytes,
    envelope: Envelope,
    *,
    name: str = "<envelope>",
    trust: Sequence[x509.Certificate] = (),
) -> tuple[int, str] | None:
    """GİB's content checks of an opened envelope: XSD and schematron of the envelope and its
    documents, then a verified signature on every document that must be signed (invoices and
    despatches, KABUL/RED answers; system responses need none). With ``trust``, each of those
    signatures must also chain to one of these certificates (1177 otherwise)."""
    from entegrator.signing import verify

    refused = refusal(validator.validate(xml, name=name))
    if refused is not None:
        return refused
    if envelope.type in (EnvelopeType.SENDERENVELOPE, EnvelopeType.POSTBOXENVELOPE):
        for document in envelope.documents:
            found = verify(document, trust=trust)
            problems = [f for f in found if f.severity is Severity.ERROR]
            if problems:
                detail = f"{problems[0].code}: {problems[0].message_tr}"[:500]
                return signature_code(problems), detail
    return None
