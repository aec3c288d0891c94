"""``read_draft``: a draft's every problem at once, an unknown field hiding none of them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from entegrator.documents import DraftError, MalformedJSONError, read_draft
from tests.documents.factory import draft


def _data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(draft().model_dump_json())
    data.update(changes)
    return data


def _problems(data: Any) -> set[tuple[str, str]]:
    with pytest.raises(DraftError) as info:
        read_draft(data)
    return {(p.code, p.where) for p in info.value.problems}


def test_a_draft_that_reads_is_returned_as_the_model() -> None:
    text = draft().model_dump_json()
    assert read_draft(text) == draft()
    assert read_draft(text.encode()) == draft()
    assert read_draft(json.loads(text)) == draft()


def test_an_unknown_field_does_not_hide_an_impossible_combination() -> None:
    data = _data(colour="blue", profile="TICARIFATURA", type="IADE")
    assert _problems(data) >= {("INVALID_FIELD", "colour"), ("INVALID_COMBINATION", "type")}


def test_unknown_fields_in_lines_do_not_hide_the_lines_problems() -> None:
    data = _data()
    data["lines"][0].update(kdv_percent="17", discount="5")
    data["supplier"]["nickname"] = "x"
    problems = _problems(json.dumps(data))
    assert {
        ("INVALID_FIELD", "lines[0].discount"),
        ("INVALID_FIELD", "supplier.nickname"),
        ("KDV_RATE", "lines[0].kdv_percent"),
    } <= problems


def test_other_field_problems_are_reported_without_the_cross_field_checks() -> None:
    data = _data(colour="blue", type="IADE", currency=5)
    assert _problems(data) == {("INVALID_FIELD", "colour"), ("INVALID_FIELD", "currency")}


def test_malformed_json_says_where() -> None:
    with pytest.raises(MalformedJSONError) as info:
        read_draft('{"profile": "TEMELFATURA",\n "type": }')
    assert info.value.code == "MALFORMED_JSON"
    assert info.value.where == "line 2, column 10"
    with pytest.raises(MalformedJSONError) as bad_bytes:
        read_draft(b'{"profile": "\xff"}')
    assert bad_bytes.value.where == "byte 13"


def test_numbers_are_read_as_decimals() -> None:
    data = _data()
    data["lines"][0]["unit_price"] = 0.1
    text = json.dumps(data)
    assert str(read_draft(text).lines[0].unit_price) == "0.1"
