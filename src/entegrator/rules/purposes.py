"""Validation by purpose (amaç): who wrote the document decides which layers may refuse it.

The same figures mean different things depending on where the document comes from
(``docs/validation.md`` "Purposes"):

* ``outbound``: what we build and send. Every layer decides; an amount convention is an error,
  because we write the plain formulas of ``shared/docs/gib/ubl-tr.md`` §8.
* ``upload``: XML an ERP hands us to send. GİB's layers (XSD, schematron, the signature's
  cryptography) decide, and so does a real amount mismatch (beyond the arithmetic layer's
  tolerance: a kuruş on a computed product, none on a sum of written figures). A known amount
  convention, our identity opinions and our e-İrsaliye checks (``advice-*``) are warnings.
* ``inbound``: what GİB delivered. Refused only for what GİB itself refuses; every finding of
  our own layers (arithmetic, identity, ``sig-identity``) is kept as a warning.

>>> from entegrator.findings import Finding, Purpose, Severity, Source
>>> f = Finding(code="id-ettn", severity=Severity.ERROR, source=Source.IDENTITY,
...             message_tr="x", message_en="x")
>>> [g.severity.value for g in apply([f], Purpose.OUTBOUND)]
['error']
>>> [g.severity.value for g in apply([f], Purpose.INBOUND)]
['warning']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from entegrator.findings import Finding, Purpose, Severity, Source

__all__ = ["Purpose", "apply", "convention_severity"]

# The e-İrsaliye checks of ``rules.advice`` (line count, units, negative quantities, a
# rejection's reason, a line answered twice): GİB's rules check none of them, and none is an
# amount, so an uploaded despatch or answer is not refused for them.
_ADVICE_PREFIX = "advice-"

# The signature layer's one opinion of ours: whether the signer may sign for the supplier.
# GİB's own 1176 covers the cases it knows; the rest is ours to advise on.
_OUR_SIGNATURE_CODES = frozenset({"sig-identity"})


def convention_severity(purpose: Purpose) -> Severity:
    """How a recognised amount convention is reported: an error only for what we send."""
    return Severity.ERROR if purpose is Purpose.OUTBOUND else Severity.WARNING


def _ours(finding: Finding, purpose: Purpose) -> bool:
    """Whether ``finding`` is one of our own opinions that ``purpose`` keeps as a warning."""
    if purpose is Purpose.OUTBOUND:
        return False
    if finding.source is Source.SIGNATURE:
        return finding.code in _OUR_SIGNATURE_CODES
    if finding.source is Source.IDENTITY:
        return True
    if finding.source is not Source.ARITHMETIC:
        return False
    # Upload keeps real amount mismatches as errors; inbound keeps nothing of ours.
    return purpose is Purpose.INBOUND or finding.code.startswith(_ADVICE_PREFIX)


def apply(findings: Iterable[Finding], purpose: Purpose) -> list[Finding]:
    """The findings with our own layers' errors turned into warnings where ``purpose`` says."""
    return [
        dataclasses.replace(f, severity=Severity.WARNING)
        if f.severity is Severity.ERROR and _ours(f, purpose)
        else f
        for f in findings
    ]
