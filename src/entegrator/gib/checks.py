"""Which GİB status code a validation report earns (the order GİB checks in).

Shared by the simulator (as GİB) and by the integrator answering envelopes delivered to it
(:class:`Checker` says which). They differ in one point, who may sign (``signing.md`` §1, §5):
GİB accepts the issuer's seal or the sending integrator's own seal and refuses any other with
1176; a receiving integrator accepts any valid seal, since GİB checked the signer before it
delivered, and keeps a seal other than the issuer's as a warning with the document.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509

from entegrator.envelope.sbdh import Envelope, EnvelopeType
from entegrator.rules import DocumentValidator, Finding, Report, Severity, Source

__all__ = [
    "SIGNER_CODES",
    "Checker",
    "EnvelopeCheck",
    "envelope_refusal",
    "refusal",
    "signature_code",
]

# Findings about who signed, decided by ``envelope_refusal`` itself (they depend on who checks).
SIGNER_CODES = frozenset({"sig-identity", "sig-integrator"})


class Checker(enum.StrEnum):
    """Who checks a delivered envelope."""

    GIB = "gib"
    """GİB (the simulator): a signer other than the issuer or the sending integrator's
    registered seal is refused (1176)."""
    RECEIVER = "receiver"
    """The receiving integrator: GİB checked the signer; any other valid seal is a warning."""


@dataclass(frozen=True)
class EnvelopeCheck:
    """The outcome of :func:`envelope_refusal`."""

    refused: tuple[int, str] | None  # (GİB code, first finding); None: accepted
    # The signature warnings of each document, in the envelope's order (a seal other than the
    # issuer's, for a receiver), to keep with the filed documents.
    warnings: tuple[tuple[Finding, ...], ...] = ()


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


def refusal(report: Report, *, skip: Collection[str] = ()) -> tuple[int, str] | None:
    """(code, first finding) for a report GİB would refuse, None if it passes GİB's checks.

    Only GİB's own layers count (XSD, schematron, signature); entegrator's arithmetic and
    identity rules are advice to the sender, not reasons for GİB to refuse. Findings with a
    code in ``skip`` are left to the caller.
    """
    for source, layer_code in _LAYERS:
        errors = [
            f
            for f in report.findings
            if f.source is source and f.severity is Severity.ERROR and f.code not in skip
        ]
        if errors:
            code = signature_code(errors) if source is Source.SIGNATURE else layer_code
            return code, f"{errors[0].code}: {errors[0].message_tr}"[:500]
    return None


def envelope_refusal(
    validator: DocumentValidator,
    xml: bytes,
    envelope: Envelope,
    *,
    checker: Checker,
    name: str = "<envelope>",
    trust: Sequence[x509.Certificate] = (),
    integrators: Collection[str] = (),
) -> EnvelopeCheck:
    """GİB's content checks of an opened envelope: XSD and schematron of the envelope and its
    documents, then a verified signature on every document that must be signed (invoices and
    despatches, KABUL/RED answers; system responses need none). With ``trust``, each of those
    signatures must also chain to one of these certificates (1177 otherwise).

    Who signed depends on ``checker``: for :attr:`Checker.GIB` the issuer or a seal whose VKN
    is in ``integrators`` (the sending integrator's, as GİB has it on file; a warning), anyone
    else 1176; for :attr:`Checker.RECEIVER` any valid seal, one other than the issuer's kept
    as a warning (``sig-integrator`` for a VKN in ``integrators``, else ``sig-identity``).
    """
    from entegrator.signing import verify

    refused = refusal(validator.validate(xml, name=name), skip=SIGNER_CODES)
    if refused is not None:
        return EnvelopeCheck(refused)
    if envelope.type not in (EnvelopeType.SENDERENVELOPE, EnvelopeType.POSTBOXENVELOPE):
        return EnvelopeCheck(None)
    warnings: list[tuple[Finding, ...]] = []
    for document in envelope.documents:
        found = verify(
            document,
            trust=trust,
            integrators=integrators,
            any_signer=checker is Checker.RECEIVER,
        )
        problems = [f for f in found if f.severity is Severity.ERROR]
        if problems:
            detail = f"{problems[0].code}: {problems[0].message_tr}"[:500]
            return EnvelopeCheck((signature_code(problems), detail))
        warnings.append(tuple(f for f in found if f.severity is Severity.WARNING))
    return EnvelopeCheck(None, tuple(warnings))
