from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entegrator.documents.errors import IdentifierError
from entegrator.documents.identifiers import ettn, numbering, tckn, vkn

# Values from shared/docs/gib/checks.md, computed there by hand and checked by script.
VALID_VKN = ["9876543217", "5555555553", "3900383669", "1460415308", "3900892152"]
INVALID_VKN = ["9876543210", "1288331521", "123456789", "12345678901", "98765432a7"]
VALID_TCKN = ["12345678950", "98765432150", "10000000146", "11111111110"]
INVALID_TCKN = ["12345678901", "11111111111", "01111111110", "1234567895"]


@pytest.mark.parametrize("value", VALID_VKN)
def test_vkn_valid(value: str) -> None:
    assert vkn.is_valid(value)
    assert vkn.validate(value) == value


@pytest.mark.parametrize("value", INVALID_VKN)
def test_vkn_invalid(value: str) -> None:
    assert not vkn.is_valid(value)
    with pytest.raises(IdentifierError) as info:
        vkn.validate(value)
    assert info.value.code == "INVALID_IDENTIFIER"
    assert value in info.value.text_tr


def test_vkn_length_only_mode_accepts_gib_sample() -> None:
    assert vkn.validate("1288331521", checksum=False) == "1288331521"
    with pytest.raises(IdentifierError):
        vkn.validate("128833152", checksum=False)


@pytest.mark.parametrize("value", VALID_TCKN)
def test_tckn_valid(value: str) -> None:
    assert tckn.is_valid(value)


@pytest.mark.parametrize("value", INVALID_TCKN)
def test_tckn_invalid(value: str) -> None:
    assert not tckn.is_valid(value)


def test_tckn_placeholder_only_when_allowed() -> None:
    assert tckn.validate(tckn.PLACEHOLDER, allow_placeholder=True) == tckn.PLACEHOLDER
    with pytest.raises(IdentifierError):
        tckn.validate(tckn.PLACEHOLDER)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_vkn_check_digit_makes_any_prefix_valid(prefix: str) -> None:
    full = prefix + vkn.calc_check_digit(prefix)
    assert vkn.is_valid(full)
    wrong = prefix + str((int(full[-1]) + 1) % 10)
    assert not vkn.is_valid(wrong)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.sampled_from("123456789"))
def test_tckn_check_digits_make_any_prefix_valid(rest: str, first: str) -> None:
    prefix = first + rest
    assert tckn.is_valid(prefix + tckn.calc_check_digits(prefix))


def test_ettn() -> None:
    new = ettn.new()
    assert ettn.is_valid(new) and new == new.upper()
    assert ettn.validate(new.lower()) == new
    assert not ettn.is_valid("F47AC10B58CC4372A5670E02B2C3D479")


def test_numbering() -> None:
    assert numbering.format_number("GIB", 2026, 1) == "GIB2026000000001"
    assert numbering.split("GIB2026000000123") == ("GIB", 2026, 123)
    for bad in ("GİB2026000000001", "ab12026000000001", "ABC202600000001", "ABC1926000000001"):
        assert not numbering.is_valid(bad), bad
    with pytest.raises(IdentifierError):
        numbering.format_number("ABÇ", 2026, 1)
    with pytest.raises(IdentifierError):
        numbering.format_number("ABC", 2026, 0)
    with pytest.raises(IdentifierError):
        numbering.format_number("ABC", 2026, 1_000_000_000)
