"""GİB's user-account messages (HR-XML): enrolling a tax payer and cancelling it.

An integrator makes its customer an e-Fatura (and e-İrsaliye) user with a
``hr:ProcessUserAccount`` and removes it with a ``hr:CancelUserAccount``, each sent to GİB in a
USERENVELOPE and signed by the integrator's seal in ``oa:ApplicationArea/oa:Signature``
(``envelope-and-transport.md`` §10; GİB's "Özel Entegrasyon Kılavuzu" §5.2–5.3).

One message is about one user (``UserAccountCheck-51``) and one service, named by the
envelope's sender alias: ``usergb`` for e-Fatura, ``edespatch`` for e-İrsaliye. Each
``hr:UserAccount`` opens (or closes) one alias: its role (``GB`` gönderici birim, ``PK`` posta
kutusu) in ``hr:UserRole/hr:RoleCode`` and the alias in
``hr:AuthorizedWorkScope/hr:WorkScopeCode``. ``hr:AccountConfiguration/hr:UserOptionCode`` is
GİB's option code, per service and kind of user:

=============  ====  ====  ===========  ===========
service        KAMU  ÖZEL  VUK 507 KAMU VUK 507 ÖZEL
=============  ====  ====  ===========  ===========
e-Fatura        1     2        3            4
e-İrsaliye     51    52       53           54
=============  ====  ====  ===========  ===========

For options 1–2 and 51–52 GİB requires the role and the work scope (``UserAccountCheck-3/4``,
``-9/10``). The aliases are checked before anything is built, with GİB's own rule codes:
``UserAccountCheck-30`` (empty), ``-31`` (over 250 characters), ``-32`` (a reserved name),
``-33`` (not ``urn:<nid>:<rest>``). A builder never produces a message GİB's rules refuse: it
raises :class:`UserAccountError` naming the rule.

Time is an argument (``created``); the module reads no clock.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.errors import EntegratorError

__all__ = [
    "HR",
    "OA",
    "RESERVED_ALIASES",
    "SERVICES",
    "Account",
    "Action",
    "Person",
    "Service",
    "UserAccountError",
    "UserAccountMessage",
    "alias_problems",
    "build_user_account",
    "option_code",
    "read_user_account",
]

HR = "http://www.hr-xml.org/3"
OA = "http://www.openapplications.org/oagis/9"
ISTANBUL = ZoneInfo("Europe/Istanbul")

Role = Literal["PK", "GB"]

# GİB's schematron: ``$ReservedAliases`` (no customer alias may be one of these).
RESERVED_ALIASES = frozenset(
    {
        "usergb",
        "GIB",
        "archive",
        "earchive",
        "archive_earchive",
        "eticket",
        "edespatch",
        "esevoucher",
        "epreceipt",
        "esevoucher_archive",
        "epreceipt_archive",
        "erevenue",
        "echeck",
        "eexchangecert",
        "ebreceipt",
        "einsurancecomm",
        "erreceipt",
    }
)
# GİB's schematron, UserAccountCheck-33: ``urn:<nid>:<nss>`` with RFC 2141's characters.
_ALIAS = re.compile(
    r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:([A-Za-z0-9()+,\-.:=@;$_!*]|%[0-9A-Fa-f]{2})+$"
)
MAX_ALIAS = 250


class Service(StrEnum):
    """The service a message enrols for: the USERENVELOPE's sender alias."""

    EFATURA = "usergb"
    EDESPATCH = "edespatch"

    @property
    def document(self) -> str:
        """The document type of the user list the aliases appear under."""
        return "Invoice" if self is Service.EFATURA else "DespatchAdvice"


SERVICES = tuple(Service)
# (KAMU, ÖZEL, VUK 507 KAMU, VUK 507 ÖZEL) per service (the guide's table).
_OPTIONS: dict[Service, tuple[str, str, str, str]] = {
    Service.EFATURA: ("1", "2", "3", "4"),
    Service.EDESPATCH: ("51", "52", "53", "54"),
}
# Options for which GİB requires UserRole and AuthorizedWorkScope.
_NEEDS_SCOPE = frozenset({"1", "2", "51", "52"})


class Action(StrEnum):
    PROCESS = "ProcessUserAccount"
    CANCEL = "CancelUserAccount"

    @property
    def element_type(self) -> str:
        return self.value.upper()


class UserAccountError(EntegratorError):
    """A user-account request GİB's rules refuse; ``rule`` is GİB's rule id."""

    code = "USER_ACCOUNT_INVALID"
    message_tr = "Kullanıcı işlemi GİB kuralına ({rule}) uymuyor: {detail_tr}"
    message_en = "The user-account request breaks GİB's rule {rule}: {detail_en}"
    http_status = 422
    exit_code = 2

    def __init__(self, *, rule: str, detail_tr: str, detail_en: str, **data: Any) -> None:
        self.rule = rule
        super().__init__(rule=rule, detail_tr=detail_tr, detail_en=detail_en, **data)

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"rule": self.rule}


@dataclass(frozen=True)
class Person:
    """The user: a company (VKN, its trade name) or a person (TCKN, given and family name)."""

    identifier: str
    title: str
    given_name: str | None = None
    family_name: str | None = None


@dataclass(frozen=True)
class Account:
    """One alias of the user: its role and name; ``alias`` None only where GİB allows it."""

    role: Role
    alias: str | None


@dataclass(frozen=True)
class UserAccountMessage:
    """A user-account message as read back (what GİB acts on)."""

    action: Action
    integrator: str  # oa:Sender/oa:LogicalID
    user: Person
    option: str
    accounts: tuple[Account, ...]
    bod_id: str


def option_code(service: Service, *, public: bool = False, vuk507: bool = False) -> str:
    """GİB's ``UserOptionCode`` for a service and a kind of user (KAMU: a public body)."""
    return _OPTIONS[service][(2 if vuk507 else 0) + (0 if public else 1)]


def alias_problems(alias: str | None) -> list[tuple[str, str, str]]:
    """GİB's rules an alias breaks, as (rule, Turkish, English); empty when it is fine."""
    name = (alias or "").strip()
    if not name:
        return [("UserAccountCheck-30", "etiket boş olamaz", "the alias must not be empty")]
    out: list[tuple[str, str, str]] = []
    if len(name) > MAX_ALIAS:
        out.append(
            (
                "UserAccountCheck-31",
                f"etiket en fazla {MAX_ALIAS} karakter olabilir",
                f"the alias may have at most {MAX_ALIAS} characters",
            )
        )
    if name in RESERVED_ALIASES:
        out.append(
            (
                "UserAccountCheck-32",
                f"'{name}' GİB'in yasaklı etiketlerinden",
                f"'{name}' is one of GİB's reserved aliases",
            )
        )
    if not _ALIAS.match(name):
        out.append(
            (
                "UserAccountCheck-33",
                f"'{name[:80]}' urn biçiminde değil (urn:mail:ad@alan)",
                f"'{name[:80]}' is not in the urn form (urn:mail:name@domain)",
            )
        )
    return out


def _check(service: Service, user: Person, option: str, accounts: Sequence[Account]) -> None:
    def fail(rule: str, tr: str, en: str) -> UserAccountError:
        return UserAccountError(rule=rule, detail_tr=tr, detail_en=en)

    if option not in _OPTIONS[service]:
        rule = "UserAccountCheck-34" if service is Service.EFATURA else "UserAccountCheck-39"
        allowed = ",".join(_OPTIONS[service])
        raise fail(
            rule, f"UserOptionCode {allowed} olabilir", f"UserOptionCode is one of {allowed}"
        )
    ident = user.identifier.strip()
    if not re.fullmatch(r"[0-9]{10,11}", ident):
        raise fail(
            "UserAccountCheck-25",
            "UserID 10 haneli VKN ya da 11 haneli TCKN olmalı",
            "UserID must be a 10-digit VKN or an 11-digit TCKN",
        )
    if len(ident) == 10 and not user.title.strip():
        raise fail("UserAccountCheck-26", "VKN için unvan zorunlu", "a VKN needs the trade name")
    if len(ident) == 11 and not (
        (user.given_name or "").strip() and (user.family_name or "").strip()
    ):
        raise fail(
            "UserAccountCheck-27",
            "TCKN için ad ve soyad zorunlu",
            "a TCKN needs the given and family name",
        )
    if not accounts:
        raise fail("UserAccountCheck-1", "hesap yok", "no account in the request")
    needs = option in _NEEDS_SCOPE
    seen: set[tuple[str, str | None]] = set()
    for account in accounts:
        if account.role not in ("PK", "GB"):
            raise fail("UserAccountCheck-29", "RoleCode GB ya da PK olmalı", "RoleCode is GB or PK")
        if account.alias is None:
            if needs:
                rule = "UserAccountCheck-9" if service is Service.EFATURA else "UserAccountCheck-10"
                raise fail(
                    rule,
                    f"{option} seçeneği için etiket (AuthorizedWorkScope) zorunlu",
                    f"option {option} requires the alias (AuthorizedWorkScope)",
                )
            continue
        problems = alias_problems(account.alias)
        if problems:
            rule, tr, en = problems[0]
            raise fail(rule, tr, en)
        if (account.role, account.alias) in seen:
            raise fail(
                "UserAccountCheck-1",
                f"{account.alias} iki kez yazılmış",
                f"{account.alias} is given twice",
            )
        seen.add((account.role, account.alias))


def _sub(parent: etree._Element, ns: str, tag: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        node.text = text
    return node


def build_user_account(
    action: Action,
    *,
    integrator: str,
    user: Person,
    service: Service,
    accounts: Sequence[Account],
    created: dt.datetime,
    public: bool = False,
    bod_id: str | None = None,
) -> bytes:
    """An unsigned ``ProcessUserAccount`` or ``CancelUserAccount`` (its ``oa:Signature`` slot
    empty, for the integrator's seal), made at ``created`` (aware). Raises
    :class:`UserAccountError` with GİB's rule when the request breaks one."""
    option = option_code(service, public=public)
    _check(service, user, option, accounts)
    if not re.fullmatch(r"[0-9]{10,11}", integrator):
        raise UserAccountError(
            rule="OASenderCheck-2",
            detail_tr="entegratör VKN/TCKN'si geçersiz",
            detail_en="the integrator's VKN/TCKN is not valid",
        )
    root = etree.Element(
        f"{{{HR}}}{action.value}", {"releaseID": "3.0"}, nsmap={"hr": HR, "oa": OA}
    )
    area = _sub(root, OA, "ApplicationArea")
    sender = _sub(area, OA, "Sender")
    _sub(sender, OA, "LogicalID", integrator)
    _sub(area, OA, "Receiver")
    when = created.astimezone(ISTANBUL).replace(microsecond=0, tzinfo=None).isoformat()
    _sub(area, OA, "CreationDateTime", when)
    _sub(area, OA, "Signature")
    _sub(area, OA, "BODID", bod_id or str(uuid.uuid4()))
    data = _sub(root, HR, "DataArea")
    _sub(data, OA, "Process" if action is Action.PROCESS else "Cancel")
    for account in accounts:
        node = _sub(data, HR, "UserAccount")
        _sub(node, HR, "UserID", user.identifier.strip())
        name = _sub(node, HR, "PersonName")
        _sub(name, HR, "FormattedName", user.title.strip())
        if len(user.identifier.strip()) == 11:
            _sub(name, OA, "GivenName", (user.given_name or "").strip())
            _sub(name, HR, "FamilyName", (user.family_name or "").strip())
        if account.alias is not None:
            role = _sub(node, HR, "UserRole")
            _sub(role, HR, "RoleCode", account.role)
            _sub(
                role, HR, "RoleName", "Posta Kutusu" if account.role == "PK" else "Gönderici Birim"
            )
            scope = _sub(node, HR, "AuthorizedWorkScope")
            _sub(scope, HR, "WorkScopeCode", account.alias)
            _sub(scope, HR, "WorkScopeName", account.alias)
        config = _sub(node, HR, "AccountConfiguration")
        _sub(config, HR, "UserOptionCode", option)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def read_user_account(xml: bytes) -> UserAccountMessage:
    """The request a user-account message makes (after GİB's schema and schematron passed).
    Raises :class:`UserAccountError` for a message that is not one."""
    root = safe_xml.parse(xml)
    try:
        action = Action(etree.QName(root).localname)
    except ValueError:
        raise UserAccountError(
            rule="ElementType",
            detail_tr="kullanıcı işlemi belgesi değil",
            detail_en="not a user-account message",
        ) from None
    if etree.QName(root).namespace != HR:
        raise UserAccountError(rule="ElementType", detail_tr="HR-XML değil", detail_en="not HR-XML")
    integrator = (
        root.findtext(f"{{{OA}}}ApplicationArea/{{{OA}}}Sender/{{{OA}}}LogicalID") or ""
    ).strip()
    bod_id = (root.findtext(f"{{{OA}}}ApplicationArea/{{{OA}}}BODID") or "").strip()
    accounts: list[Account] = []
    user: Person | None = None
    option = ""
    for node in root.iterfind(f"{{{HR}}}DataArea/{{{HR}}}UserAccount"):
        ident = (node.findtext(f"{{{HR}}}UserID") or "").strip()
        name = node.find(f"{{{HR}}}PersonName")
        title = (name.findtext(f"{{{HR}}}FormattedName") if name is not None else None) or ""
        given = name.findtext(f"{{{OA}}}GivenName") if name is not None else None
        family = name.findtext(f"{{{HR}}}FamilyName") if name is not None else None
        if user is None:
            user = Person(ident, title.strip(), given, family)
        elif user.identifier != ident:
            raise UserAccountError(
                rule="UserAccountCheck-51",
                detail_tr="bir belgede tek kullanıcı",
                detail_en="one user per message",
            )
        option = (
            node.findtext(f"{{{HR}}}AccountConfiguration/{{{HR}}}UserOptionCode") or ""
        ).strip()
        role = (node.findtext(f"{{{HR}}}UserRole/{{{HR}}}RoleCode") or "").strip()
        alias = (node.findtext(f"{{{HR}}}AuthorizedWorkScope/{{{HR}}}WorkScopeCode") or "").strip()
        accounts.append(Account(role if role in ("PK", "GB") else "PK", alias or None))  # type: ignore[arg-type]
    if user is None:
        raise UserAccountError(
            rule="UserAccountCheck-1", detail_tr="hesap yok", detail_en="no account"
        )
    return UserAccountMessage(action, integrator, user, option, tuple(accounts), bod_id)
