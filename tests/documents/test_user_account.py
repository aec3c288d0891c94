"""ProcessUserAccount / CancelUserAccount: GİB's HR-XML schema (as efatura-kontrol ships it),
GİB's user-account rules (the oracle's schematron), and our checks before sending."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from entegrator.documents.user_account import (
    Account,
    Action,
    Person,
    Service,
    UserAccountError,
    alias_problems,
    build_user_account,
    option_code,
    read_user_account,
)
from entegrator.envelope import EnvelopeType, build, to_xml
from entegrator.signing import sign
from entegrator.signing.certs import TestCA
from tests.clock import now
from tests.oracle import check

INTEGRATOR = "9000000018"
USER = Person("1234567890", "Yeni Mükellef A.Ş.")
CA = TestCA.create("user-account tests", now=now())


def _kontrol_xsd(*parts: str) -> Path:
    import efatura_kontrol

    return Path(os.path.dirname(efatura_kontrol.__file__), "ekler", "xsd", *parts)


@pytest.fixture(scope="module")
def hr_schema() -> etree.XMLSchema:
    """GİB's HR-XML schema (UserAccount.xsd), from efatura-kontrol, read in place."""
    return etree.XMLSchema(etree.parse(str(_kontrol_xsd("HRXML", "UserAccount.xsd"))))


@pytest.fixture(scope="module")
def envelope_schema() -> etree.XMLSchema:
    """GİB's envelope schema: it imports the HR-XML and XML-DSig schemas, so it checks the
    signed message inside a USERENVELOPE strictly."""
    return etree.XMLSchema(etree.parse(str(_kontrol_xsd("zarf", "PackageProxy_1_2.xsd"))))


def _message(
    action: Action = Action.PROCESS, service: Service = Service.EFATURA, **kw: object
) -> bytes:
    accounts = kw.pop(
        "accounts",
        [
            Account("PK", "urn:mail:defaultpk@yeni.example"),
            Account("GB", "urn:mail:defaultgb@yeni.example"),
        ],
    )
    return build_user_account(
        action,
        integrator=INTEGRATOR,
        user=kw.pop("user", USER),  # type: ignore[arg-type]
        service=service,
        accounts=accounts,  # type: ignore[arg-type]
        created=now(),
        **kw,  # type: ignore[arg-type]
    )


def _envelope(message: bytes, service: Service = Service.EFATURA) -> bytes:
    signed = sign(
        message, CA.issue(identity=INTEGRATOR, name="Entegratör", now=now()), signing_time=now()
    )
    return to_xml(
        build(
            [signed],
            sender_alias=service.value,
            receiver_alias="GIB",
            type=EnvelopeType.USERENVELOPE,
            created=now(),
        )
    )


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("service", list(Service))
def test_messages_follow_gibs_schema_and_rules(
    action: Action, service: Service, hr_schema: etree.XMLSchema, envelope_schema: etree.XMLSchema
) -> None:
    message = _message(action, service)
    assert hr_schema.validate(etree.fromstring(message)), hr_schema.error_log
    envelope = _envelope(message, service)
    assert envelope_schema.validate(etree.fromstring(envelope)), envelope_schema.error_log
    verdict = check(envelope, "user.xml")
    assert verdict.valid, verdict.errors
    read = read_user_account(message)
    assert read.action is action and read.integrator == INTEGRATOR
    assert read.user.identifier == USER.identifier
    assert read.option == option_code(service)
    assert [(a.role, a.alias) for a in read.accounts] == [
        ("PK", "urn:mail:defaultpk@yeni.example"),
        ("GB", "urn:mail:defaultgb@yeni.example"),
    ]


def test_option_codes_are_gibs() -> None:
    assert option_code(Service.EFATURA) == "2"
    assert option_code(Service.EFATURA, public=True) == "1"
    assert option_code(Service.EDESPATCH) == "52"
    assert option_code(Service.EDESPATCH, public=True) == "51"


def test_a_person_is_named_by_given_and_family_name(hr_schema: etree.XMLSchema) -> None:
    person = Person("12345678950", "Ayşe Yılmaz", "Ayşe", "Yılmaz")
    message = _message(user=person)
    assert hr_schema.validate(etree.fromstring(message)), hr_schema.error_log
    assert check(_envelope(message), "tckn.xml").valid
    with pytest.raises(UserAccountError) as caught:
        _message(user=Person("12345678950", "Ayşe Yılmaz"))
    assert caught.value.rule == "UserAccountCheck-27"


@pytest.mark.parametrize(
    ("alias", "rule"),
    [
        ("usergb", "UserAccountCheck-32"),
        ("GIB", "UserAccountCheck-32"),
        ("defaultpk", "UserAccountCheck-33"),
        ("urn:mail:boş luk@x.example", "UserAccountCheck-33"),
        ("urn:mail:" + "a" * 245 + "@x.tr", "UserAccountCheck-31"),
        ("", "UserAccountCheck-30"),
    ],
)
def test_bad_aliases_are_refused_with_gibs_rule_before_sending(alias: str, rule: str) -> None:
    assert rule in [p[0] for p in alias_problems(alias)]
    with pytest.raises(UserAccountError) as caught:
        _message(accounts=[Account("PK", alias)])
    assert caught.value.rule == rule
    assert caught.value.to_dict()["code"] == "USER_ACCOUNT_INVALID"
    assert rule in caught.value.text_tr and rule in caught.value.text_en


@pytest.mark.parametrize("alias", ["usergb", "defaultpk"])
def test_gib_refuses_the_same_aliases(alias: str) -> None:
    """The oracle (GİB's schematron) refuses what ``alias_problems`` refuses, by the same
    rule: the message is written by hand, since our builder will not write it."""
    good = _message()
    bad = good.replace(b"urn:mail:defaultpk@yeni.example", alias.encode())
    verdict = check(_envelope(bad), "bad.xml")
    codes = {e.split(" ")[0].removeprefix("sch-") for e in verdict.errors}
    ours = {p[0] for p in alias_problems(alias)}
    assert ours and ours <= codes


def test_missing_work_scope_is_refused_with_gibs_rule() -> None:
    with pytest.raises(UserAccountError) as caught:
        _message(accounts=[Account("PK", None)])
    assert caught.value.rule == "UserAccountCheck-9"
    with pytest.raises(UserAccountError) as caught:
        _message(service=Service.EDESPATCH, accounts=[Account("PK", None)])
    assert caught.value.rule == "UserAccountCheck-10"
    # GİB says the same of a message without role and work scope.
    good = _message()
    root = etree.fromstring(good)
    for account in root.iter("{http://www.hr-xml.org/3}UserAccount"):
        for tag in ("UserRole", "AuthorizedWorkScope"):
            node = account.find(f"{{http://www.hr-xml.org/3}}{tag}")
            assert node is not None
            account.remove(node)
    verdict = check(_envelope(etree.tostring(root)), "noscope.xml")
    codes = {e.split(" ")[0].removeprefix("sch-") for e in verdict.errors}
    assert {"UserAccountCheck-3", "UserAccountCheck-9"} <= codes


def test_one_user_per_message_and_a_valid_identifier() -> None:
    with pytest.raises(UserAccountError) as caught:
        _message(user=Person("12345", "Kısa"))
    assert caught.value.rule == "UserAccountCheck-25"
    with pytest.raises(UserAccountError) as caught:
        _message(
            accounts=[Account("PK", "urn:mail:a@x.example"), Account("PK", "urn:mail:a@x.example")]
        )
    assert caught.value.rule == "UserAccountCheck-1"


def test_reading_refuses_what_is_not_a_user_account_message() -> None:
    with pytest.raises(UserAccountError):
        read_user_account(b"<Invoice/>")
