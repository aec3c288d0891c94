"""Rule packs by effective date, in the core: which pack is in force on a day, the validator
that follows the date, and the warnings about packs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from entegrator.rules import (
    Engine,
    PackSchedule,
    RulePack,
    ScheduledPack,
    ScheduledValidator,
    Validator,
)
from entegrator.rules.xpath import ISTANBUL
from tests.clock import today, validation_settings
from tests.testing.packs import MARK, NEW_CODE, derived_pack

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
# Ten days ahead: the sample invoices are issued today, and a document dated after the
# validator's day is refused for that alone.
EFFECTIVE = today() + dt.timedelta(days=10)


def with_note(xml: bytes, text: str) -> bytes:
    root = etree.fromstring(xml)
    note = etree.Element(f"{{{CBC}}}Note")
    note.text = text
    currency = root.find(f"{{{CBC}}}DocumentCurrencyCode")
    assert currency is not None
    currency.addprevious(note)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="module")
def derived(tmp_path_factory: pytest.TempPathFactory) -> RulePack:
    return RulePack.from_dir(derived_pack(tmp_path_factory.mktemp("packs") / "derived"))


def at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=ISTANBUL)


def test_the_pack_in_force_is_the_latest_effective_one_not_after_the_day(
    derived: RulePack,
) -> None:
    base = RulePack.default()
    later = ScheduledPack(derived, EFFECTIVE, dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    schedule = PackSchedule(base, [later])
    assert schedule.in_force(EFFECTIVE - dt.timedelta(days=1)).pack is base
    assert schedule.in_force(EFFECTIVE) is later
    assert schedule.in_force(EFFECTIVE + dt.timedelta(days=400)) is later
    assert schedule.pending(EFFECTIVE - dt.timedelta(days=1)) == [later]
    assert schedule.pending(EFFECTIVE) == []


def test_of_two_packs_for_the_same_day_the_one_installed_last_is_in_force(
    derived: RulePack, tmp_path: Path
) -> None:
    other = RulePack.from_dir(derived_pack(tmp_path / "other", version="1.43-b"))
    first = ScheduledPack(derived, EFFECTIVE, dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    second = ScheduledPack(other, EFFECTIVE, dt.datetime(2026, 8, 2, tzinfo=dt.UTC))
    for order in ([first, second], [second, first]):
        assert PackSchedule(RulePack.default(), order).in_force(EFFECTIVE) is second


def test_a_future_pack_changes_nothing_until_its_day_then_takes_effect(
    derived: RulePack, bases: dict[str, bytes]
) -> None:
    marked = with_note(bases["satis"], f"{MARK} yeni kural")
    plain = with_note(bases["satis"], "sıradan bir not")
    schedule = PackSchedule(RulePack.default(), [ScheduledPack(derived, EFFECTIVE)])
    moment = {"now": at_noon(EFFECTIVE - dt.timedelta(days=1))}
    settings = validation_settings(clock=lambda: moment["now"], engine=Engine.COMPILED)
    validator = ScheduledValidator(schedule, settings=settings)

    before = validator.validate(marked)
    assert before.valid, before.codes()
    assert before.pack == RulePack.default().identity()

    moment["now"] = at_noon(EFFECTIVE)  # midnight in Türkiye passed: the new rules apply
    after = validator.validate(marked)
    assert not after.valid
    assert NEW_CODE in after.codes()
    assert after.pack is not None
    assert after.pack["fingerprint"] == derived.fingerprint
    assert after.pack["version"] == "1.43-test"
    assert validator.validate(plain).valid  # only the tightened rule differs

    # The day is Türkiye's: 23:30 UTC on the eve is already the effective day there.
    moment["now"] = dt.datetime.combine(EFFECTIVE - dt.timedelta(days=1), dt.time(23, 30), dt.UTC)
    assert validator.pack is derived


def test_one_validator_is_kept_per_pack(derived: RulePack) -> None:
    schedule = PackSchedule(RulePack.default(), [ScheduledPack(derived, EFFECTIVE)])
    validator = ScheduledValidator(schedule, settings=validation_settings())
    assert validator.at(EFFECTIVE) is validator.at(EFFECTIVE + dt.timedelta(days=3))
    assert validator.at(EFFECTIVE) is not validator.at(EFFECTIVE - dt.timedelta(days=1))
    assert isinstance(validator.at(EFFECTIVE), Validator)
    assert validator.at(EFFECTIVE).pack is derived


def test_warnings_name_a_pack_waiting_for_its_day(derived: RulePack) -> None:
    schedule = PackSchedule(RulePack.default(), [ScheduledPack(derived, EFFECTIVE)])
    before = schedule.warnings(EFFECTIVE - dt.timedelta(days=1))
    assert [w.code for w in before] == ["RULES_PACK_PENDING"]
    assert str(EFFECTIVE) in before[0].message_en and str(EFFECTIVE) in before[0].message_tr
    assert derived.fingerprint[:12] in before[0].message_en
    assert schedule.warnings(EFFECTIVE) == []


def test_warnings_name_a_pack_in_force_older_than_the_limit(derived: RulePack) -> None:
    # In force since 14 September; its schematron dates from 27 July: the age counts from then.
    schedule = PackSchedule(RulePack.default(), [ScheduledPack(derived, dt.date(2026, 9, 14))])
    published = derived.published
    assert published == dt.date(2026, 7, 27)
    day = published + dt.timedelta(days=100)
    assert schedule.warnings(day, max_age_days=100) == []
    old = schedule.warnings(day + dt.timedelta(days=1), max_age_days=100)
    assert [w.code for w in old] == ["RULES_PACK_OLD"]
    assert "101 days" in old[0].message_en and "101 gün" in old[0].message_tr
    assert schedule.warnings(day + dt.timedelta(days=1), max_age_days=0) == []


def test_find_takes_a_fingerprint_prefix(derived: RulePack) -> None:
    schedule = PackSchedule(RulePack.default(), [ScheduledPack(derived, EFFECTIVE)])
    found = schedule.find(derived.fingerprint[:12])
    assert found is not None and found.pack is derived
    assert schedule.find(derived.fingerprint[:4]) is None  # too short to be sure
    assert schedule.find("0" * 12) is None
