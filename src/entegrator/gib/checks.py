"""Which GİB status code a validation report earns (the order GİB checks in).

Shared by the simulator (as GİB) and by the integrator answering envelopes delivered to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from entegrator.rules import Finding, Report, Severity, Source

__all__ = ["refusal", "signature_code"]

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
