"""GİB's schematron rules in English: our gloss and fix hints per rule family (kural ailesi).

GİB writes its schematron messages in Turkish only; ``data/gib_rules.json`` adds an English text
and Turkish/English fix hints, keyed by rule family (``InvoiceIDCheck`` for
``InvoiceIDCheck-1``). Both schematron engines turn a failed assert into a finding here.

>>> gib_family("InvoiceIDCheck-1")
'InvoiceIDCheck'
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from entegrator.findings import Finding, Severity, Source

__all__ = ["gib_family", "gib_rule_finding"]


@cache
def _gib_catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("entegrator.rules").joinpath("data/gib_rules.json").read_text("utf-8")
    data: dict[str, dict[str, str]] = json.loads(text)["rules"]
    return data


def gib_family(rule: str) -> str:
    """``InvoiceIDCheck-1`` → ``InvoiceIDCheck`` (GİB numbers the asserts of a rule family)."""
    head, sep, tail = rule.rpartition("-")
    return head if sep and tail.isdigit() else rule


def gib_rule_finding(
    *,
    rule: str,
    severity: Severity,
    line: int | None,
    xpath: str | None,
    gib_message: str,
) -> Finding:
    """A failed GİB schematron assert: GİB's Turkish text, our English and fix hints."""
    entry = _gib_catalogue().get(gib_family(rule), {})
    english = entry.get("en") or f"GİB rule {rule} failed; GİB's message is in Turkish."
    return Finding(
        code=f"sch-{rule}",
        severity=severity,
        source=Source.SCHEMATRON,
        message_tr=gib_message,
        message_en=english,
        line=line,
        xpath=xpath,
        hint=entry.get("hint_tr"),
        hint_en=entry.get("hint_en"),
    )
