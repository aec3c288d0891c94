"""Rule packs by effective date: which of GİB's packs is in force on a day.

GİB republishes its rules (a new code list, a tightened schematron) and says from which day
they apply. An installation keeps every pack it was given side by side, each with the date it
takes effect; the *baseline* (the pack shipped in ``efatura-kontrol``, or the folder named by
``ENTEGRATOR_RULES_PACK``) is in force before any of them. On each day the pack in force is the
one with the latest effective date not after that day (of two with the same date, the one
installed last).

:class:`ScheduledValidator` validates like :class:`~entegrator.rules.Validator`, with the pack
in force on the day its clock says (in Türkiye): a document issued on 14 September is checked
with the rules of 14 September, without a restart. One validator is kept per pack.

>>> import datetime as dt
>>> base = RulePack.default()
>>> schedule = PackSchedule(base, [])
>>> schedule.in_force(dt.date(2026, 9, 14)).pack is base
True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lxml import etree

from entegrator.findings import Purpose, Report
from entegrator.rules.pack import KINDS, RulePack
from entegrator.rules.validator import ValidationSettings, Validator
from entegrator.rules.xpath import ISTANBUL

__all__ = [
    "DocumentValidator",
    "PackSchedule",
    "PackWarning",
    "ScheduledPack",
    "ScheduledValidator",
]


class DocumentValidator(Protocol):
    """What services need of a validator: :class:`Validator` (one pack) and
    :class:`ScheduledValidator` (the pack in force today) both are one."""

    @property
    def settings(self) -> ValidationSettings: ...

    @property
    def pack(self) -> RulePack: ...

    def validate(self, data: bytes, *, name: str = ...) -> Report: ...

    def validate_parsed(
        self, data: bytes, *, name: str = ...
    ) -> tuple[Report, etree._Element | None]: ...

    def for_purpose(self, purpose: Purpose) -> DocumentValidator: ...


@dataclass(frozen=True)
class ScheduledPack:
    """A pack and the day it takes effect (None: the baseline, in force since always)."""

    pack: RulePack
    effective: dt.date | None = None
    installed_at: dt.datetime | None = None

    @property
    def baseline(self) -> bool:
        return self.effective is None

    def _order(self) -> tuple[dt.date, dt.datetime]:
        return (
            self.effective or dt.date.min,
            self.installed_at or dt.datetime.min.replace(tzinfo=dt.UTC),
        )


@dataclass(frozen=True)
class PackWarning:
    """Something an operator should look at (``/readyz``, ``entegrator rules info``)."""

    code: str
    message_tr: str
    message_en: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message_tr": self.message_tr, "message_en": self.message_en}


class PackSchedule:
    """The baseline and the installed packs, ordered by the day each takes effect."""

    def __init__(self, baseline: RulePack, installed: Sequence[ScheduledPack]) -> None:
        self.baseline = ScheduledPack(baseline)
        self.installed = sorted(installed, key=ScheduledPack._order)

    @property
    def entries(self) -> list[ScheduledPack]:
        return [self.baseline, *self.installed]

    def in_force(self, day: dt.date) -> ScheduledPack:
        """The pack in force on ``day``."""
        found = self.baseline
        for entry in self.installed:
            if entry.effective is not None and entry.effective <= day:
                found = entry
        return found

    def pending(self, day: dt.date) -> list[ScheduledPack]:
        """Installed packs that take effect after ``day``, soonest first."""
        return [e for e in self.installed if e.effective is not None and e.effective > day]

    def find(self, fingerprint: str) -> ScheduledPack | None:
        """The entry whose fingerprint starts with ``fingerprint`` (at least 8 characters)."""
        if len(fingerprint) < 8:
            return None
        hits = [e for e in self.entries if e.pack.fingerprint.startswith(fingerprint.lower())]
        return hits[-1] if hits else None

    def warnings(self, day: dt.date, *, max_age_days: int | None = None) -> list[PackWarning]:
        """A newer pack installed but not yet in force; the pack in force older than
        ``max_age_days`` (counted from its schematron's date, else its effective date)."""
        out: list[PackWarning] = []
        current = self.in_force(day)
        for entry in self.pending(day):
            pack = entry.pack
            out.append(
                PackWarning(
                    "RULES_PACK_PENDING",
                    f"{pack.name} {pack.version} ({pack.fingerprint[:12]}) kurulu; "
                    f"{entry.effective} tarihinde yürürlüğe girecek",
                    f"{pack.name} {pack.version} ({pack.fingerprint[:12]}) is installed and "
                    f"takes effect on {entry.effective}",
                )
            )
        dated = current.pack.published or current.effective
        if max_age_days is not None and max_age_days > 0 and dated is not None:
            age = (day - dated).days
            if age > max_age_days:
                pack = current.pack
                out.append(
                    PackWarning(
                        "RULES_PACK_OLD",
                        f"Yürürlükteki kural paketi {pack.name} {pack.version} {age} günlük "
                        f"({dated}); sınır {max_age_days} gün. GİB'in yeni paketini kurun.",
                        f"The rule pack in force, {pack.name} {pack.version}, is {age} days "
                        f"old ({dated}); the limit is {max_age_days} days. Install GİB's "
                        "newer package.",
                    )
                )
        return out


class ScheduledValidator:
    """Validates with the pack in force on today's date in Türkiye (by the settings' clock);
    the same interface as :class:`Validator`, safe across threads."""

    def __init__(self, schedule: PackSchedule, *, settings: ValidationSettings) -> None:
        self.schedule = schedule
        self.settings = settings
        self._validators: dict[str, Validator] = {}
        self._purposes: dict[Purpose, ScheduledValidator] = {}
        self._lock = threading.Lock()

    def for_purpose(self, purpose: Purpose) -> ScheduledValidator:
        """The same schedule and settings for another purpose (the compiled rules of each
        pack are shared between purposes)."""
        if purpose is self.settings.purpose:
            return self
        with self._lock:
            found = self._purposes.get(purpose)
            if found is None:
                settings = dataclasses.replace(self.settings, purpose=purpose)
                found = self._purposes[purpose] = ScheduledValidator(
                    self.schedule, settings=settings
                )
            return found

    def current_day(self) -> dt.date:
        return self.settings.clock().astimezone(ISTANBUL).date()

    def for_pack(self, pack: RulePack) -> Validator:
        """The (cached) validator of one pack."""
        key = pack.fingerprint + "\0" + str(pack.root)
        with self._lock:
            found = self._validators.get(key)
            if found is None:
                found = self._validators[key] = Validator(pack, settings=self.settings)
            return found

    def at(self, day: dt.date) -> Validator:
        """The validator of the pack in force on ``day``."""
        return self.for_pack(self.schedule.in_force(day).pack)

    def current(self) -> Validator:
        return self.at(self.current_day())

    @property
    def pack(self) -> RulePack:
        return self.schedule.in_force(self.current_day()).pack

    def warm_up(self, kinds: tuple[str, ...] = tuple(KINDS)) -> None:
        """Compile the rules of the pack in force now and of every pack still to come."""
        today = self.current_day()
        self.at(today).warm_up(kinds)
        for entry in self.schedule.pending(today):
            self.for_pack(entry.pack).warm_up(kinds)

    def validate(self, data: bytes, *, name: str = "<bytes>") -> Report:
        return self.current().validate(data, name=name)

    def validate_parsed(
        self, data: bytes, *, name: str = "<bytes>"
    ) -> tuple[Report, etree._Element | None]:
        return self.current().validate_parsed(data, name=name)

    def validate_file(self, path: str | Path) -> Report:
        return self.current().validate_file(path)
