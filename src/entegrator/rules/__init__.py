"""Validation: GİB's rules (XSD, schematron) and ours (arithmetic, identity), by purpose.

>>> import datetime as dt
>>> from entegrator.rules import ValidationSettings, Validator
>>> clock = lambda: dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
>>> Validator(settings=ValidationSettings(clock=clock)).validate(b"<a/>").valid
False
"""

from entegrator.findings import MAX_FINDINGS, Finding, Purpose, Report, Severity, Source
from entegrator.rules.pack import RulePack, RulePackError
from entegrator.rules.validator import Engine, ValidationSettings, Validator, detect_kind

__all__ = [
    "MAX_FINDINGS",
    "Engine",
    "Finding",
    "Purpose",
    "Report",
    "RulePack",
    "RulePackError",
    "Severity",
    "Source",
    "ValidationSettings",
    "Validator",
    "detect_kind",
]
