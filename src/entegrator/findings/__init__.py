"""Findings and where they point: the verdict shape shared by validation and verification.

Below both :mod:`entegrator.rules` (validation) and :mod:`entegrator.signing` (verification), so
neither imports the other for its findings. Pure: no I/O, no clock.

>>> from entegrator.findings import Finding, Report, Severity, Source
>>> report = Report(path="fatura.xml")
>>> report.findings.append(Finding(code="arith-line", severity=Severity.ERROR,
...     source=Source.ARITHMETIC, message_tr="Satır tutarı tutmuyor",
...     message_en="Line amount does not add up"))
>>> report.valid
False
"""

from entegrator.findings.report import MAX_FINDINGS, Finding, Purpose, Report, Severity, Source

__all__ = ["MAX_FINDINGS", "Finding", "Purpose", "Report", "Severity", "Source"]
