"""Findings: what validation says about a document, the same shape for CLI, API and portal.

A finding is a value, not an exception. A document is valid when none of its findings is an
error; warnings and infos are shown but do not stop sending.

>>> f = Finding(code="arith-line", severity=Severity.ERROR, source=Source.ARITHMETIC,
...             message_tr="Satır tutarı tutmuyor", message_en="Line amount does not add up")
>>> f.to_dict()["severity"]
'error'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["MAX_FINDINGS", "Finding", "Purpose", "Report", "Severity", "Source"]

# Findings a report keeps (and every API answer or CLI output shows); the rest are counted.
MAX_FINDINGS = 1000


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Source(StrEnum):
    XML = "xml"
    XSD = "xsd"
    SCHEMATRON = "schematron"
    ARITHMETIC = "arithmetic"
    IDENTITY = "identity"
    SIGNATURE = "signature"
    DRAFT = "draft"  # the draft (JSON) could not be built; checked before any XML exists


class Purpose(StrEnum):
    """Why a document is validated: which layers may refuse it (``docs/validation.md``)."""

    OUTBOUND = "outbound"
    """What we build and send: every layer decides, amount conventions are errors."""
    UPLOAD = "upload"
    """XML an ERP hands us to send: GİB's layers and real amount mismatches decide; known
    amount conventions and our identity opinions are warnings."""
    INBOUND = "inbound"
    """What GİB delivered to us: only what GİB itself refuses is refused; every finding of
    our own layers (arithmetic, identity, the signer's identity) is a warning."""


_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (or remark) about one place of a document."""

    code: str
    severity: Severity
    source: Source
    message_tr: str
    message_en: str
    line: int | None = None
    xpath: str | None = None
    hint: str | None = None
    hint_en: str | None = None

    def sort_key(self) -> tuple[int, int, str]:
        return (_ORDER[self.severity], self.line or 0, self.code)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.value,
            "source": self.source.value,
            "line": self.line,
            "xpath": self.xpath,
            "message_tr": self.message_tr,
            "message_en": self.message_en,
            "hint": self.hint,
        }
        if self.hint_en is not None:
            out["hint_en"] = self.hint_en
        return out


@dataclass(slots=True)
class Report:
    """The verdict on one document."""

    path: str
    kind: str | None = None
    profile: str | None = None
    type: str | None = None
    purpose: Purpose = Purpose.OUTBOUND
    findings: list[Finding] = field(default_factory=list)
    ms: float = 0.0
    # Findings left out by :meth:`cap` (a hostile document can earn millions), and how many
    # of them were errors: the verdict counts them all.
    truncated: int = 0
    truncated_errors: int = 0
    # The rule pack that produced the verdict: {"name", "version", "fingerprint"}; None when
    # no pack was involved (a report built by hand).
    pack: dict[str, str] | None = None

    @property
    def valid(self) -> bool:
        return self.truncated_errors == 0 and not any(
            f.severity is Severity.ERROR for f in self.findings
        )

    def cap(self, limit: int = MAX_FINDINGS) -> None:
        """Keep the first ``limit`` findings (in their order), counting the rest."""
        if len(self.findings) <= limit:
            return
        rest = self.findings[limit:]
        self.truncated += len(rest)
        self.truncated_errors += sum(1 for f in rest if f.severity is Severity.ERROR)
        del self.findings[limit:]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def codes(self, *sources: Source) -> list[str]:
        """Sorted finding codes, optionally of some sources only (tests compare these)."""
        return sorted(f.code for f in self.findings if not sources or f.source in sources)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "valid": self.valid,
            "kind": self.kind,
            "profile": self.profile,
            "type": self.type,
            "purpose": self.purpose.value,
            "findings": [f.to_dict() for f in self.findings],
            "truncated": self.truncated,
            "ms": round(self.ms, 3),
            "pack": dict(self.pack) if self.pack is not None else None,
        }
