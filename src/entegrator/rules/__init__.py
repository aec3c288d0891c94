"""Validation: GİB's rules (XSD, schematron) and ours (arithmetic, identity), by purpose.

>>> import datetime as dt
>>> from entegrator.rules import ValidationSettings, Validator
>>> clock = lambda: dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
>>> Validator(settings=ValidationSettings(clock=clock)).validate(b"<a/>").valid
False
"""

from entegrator.findings import MAX_FINDINGS, Finding, Purpose, Report, Severity, Source
from entegrator.rules.pack import RulePack, RulePackError
from entegrator.rules.schedule import (
    DocumentValidator,
    PackSchedule,
    PackWarning,
    ScheduledPack,
    ScheduledValidator,
)
from entegrator.rules.validator import Engine, ValidationSettings, Validator, detect_kind

__all__ = [
    "MAX_FINDINGS",
    "DocumentValidator",
    "Engine",
    "Finding",
    "PackSchedule",
    "PackWarning",
    "Purpose",
    "Report",
    "RulePack",
    "RulePackError",
    "ScheduledPack",
    "ScheduledValidator",
    "Severity",
    "Source",
    "ValidationSettings",
    "Validator",
    "detect_kind",
]
