"""The XPath translator: exact mappings, refusals, the extension functions."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from entegrator.rules import xpath
from entegrator.rules.xpath import UnsupportedXPathError, translate, xsd_regex
from tests.clock import today

EXT = xpath.extension_functions()


def _eval(
    expr: str,
    doc: bytes = b"<a><b>2024-01-31</b><c> 12:30:00 </c></a>",
    *,
    on: dt.date | None = None,
) -> object:
    root = etree.fromstring(doc)
    compiled = etree.XPath(translate(expr), namespaces={"ent": xpath.EXTENSION_NS}, extensions=EXT)
    with xpath.current_date(on or today()):
        return compiled(root)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("b castable as xs:date", False),  # a path operand is refused below; '.' form here
        ("(b) castable as xs:date", True),
        ("normalize-space(c) castable as xs:time", True),
        ("matches(b, '^\\d{4}-\\d{2}-\\d{2}$')", True),
        ("exists(b)", True),
        ("exists(zz)", False),
        ("xs:date('2005-01-01+04:00') le xs:date(b)", True),
        ("xs:date(b) le xs:date(current-date())", True),
    ],
)
def test_translated_expressions(expr: str, expected: bool) -> None:
    if expr.startswith("b castable"):
        with pytest.raises(UnsupportedXPathError):
            translate(expr)
        return
    assert _eval(expr) is expected


def test_dates_compare_as_instants() -> None:
    assert _eval("xs:date('2004-12-31') le xs:date('2005-01-01+04:00')") is True
    assert _eval("xs:date('2005-01-01+04:00') le xs:date('2004-12-31')") is False


def test_tomorrow_is_after_current_date() -> None:
    tomorrow = (today() + dt.timedelta(days=2)).isoformat()
    assert _eval(f"xs:date('{tomorrow}') le xs:date(current-date())") is False


def test_current_date_is_the_callers() -> None:
    expr = "xs:date(b) le xs:date(current-date())"  # b is 2024-01-31
    assert _eval(expr, on=dt.date(2024, 1, 31)) is True
    assert _eval(expr, on=dt.date(2024, 1, 30)) is False
    compiled = etree.XPath(translate(expr), namespaces={"ent": xpath.EXTENSION_NS}, extensions=EXT)
    with pytest.raises(RuntimeError):  # no date given: no answer, never the machine's
        compiled(etree.fromstring(b"<a><b>2024-01-31</b></a>"))


@pytest.mark.parametrize(
    "expr",
    ["tokenize(a, ',')", "for $x in a return $x", "a/normalize-space(b)", "$unknown = 1"],
)
def test_unsupported_xpath_is_refused(expr: str) -> None:
    with pytest.raises(UnsupportedXPathError):
        etree.XPath(translate(expr), extensions=EXT)


def test_regex_dollar_is_end_of_string_only() -> None:
    assert xsd_regex("^ABC$").search("ABC\n") is None
    assert xsd_regex("^ABC$").search("ABC") is not None
    with pytest.raises(UnsupportedXPathError):
        xsd_regex(r"\p{L}+")


def test_code_list_rewrite_keeps_substring_semantics() -> None:
    codes = "'," + ",".join(f"C{i:04d}" for i in range(1000)) + ",'"
    expr = translate("contains($L, concat(',', ., ','))", variables={"L": codes})
    assert expr.startswith("ent:in-list(")
    x = etree.XPath(expr, namespaces={"ent": xpath.EXTENSION_NS}, extensions=EXT)
    for text, expected in [("C0001", True), ("C9999", False), ("C0001,C0002", True), ("", False)]:
        root = etree.Element("v")
        root.text = text
        assert x(root) is expected, text
