"""The independent oracle: efatura-kontrol (GİB's own XSD and schematron), test-only."""

from __future__ import annotations

from dataclasses import dataclass

from efatura_kontrol.kontrol import kontrol_et


@dataclass(frozen=True)
class Verdict:
    valid: bool
    errors: list[str]
    warnings: list[str]


def check(xml: bytes, name: str = "<test>") -> Verdict:
    report = kontrol_et(xml, ad=name)
    errors = [f"{b.kod} [{b.satir}]: {b.mesaj}" for b in report.bulgular if b.seviye == "hata"]
    warnings = [f"{b.kod} [{b.satir}]: {b.mesaj}" for b in report.bulgular if b.seviye == "uyari"]
    return Verdict(report.gecerli, errors, warnings)
