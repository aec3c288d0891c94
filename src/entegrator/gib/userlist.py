"""GİB's registered-user list (kayıtlı kullanıcı listesi): read, write, look up.

GİB publishes two zipped XML files, one of mailbox aliases (PK, posta kutusu:
``newUserPkListxml.zip``) and one of sender units (GB, gönderici birim:
``newUserGbListxml.zip``). Each ``User`` has its ``Identifier`` (VKN/TCKN), ``Title``,
``Type``, ``AccountType``, ``FirstCreationTime`` and ``Documents/Document[@type]/Alias``
entries (``Name``, ``CreationTime``, optional ``DeletionTime``) (``overview.md`` §7).
The root element's name is not documented [unconfirmed]: the reader takes ``User`` elements
under any root, in any namespace; the writer uses ``UserList``.

The published list holds about a million users, so it is read as a stream, from a zip whose
inflated size is capped (zip bombs), with no DTD, entities or network.

Every user GİB lists is read, with every alias, active and deleted, with its dates: the list is
GİB's word on who is a registered user, and a user left out would be routed to e-Arşiv, which
is illegal for a registered buyer. What looks odd is reported as a warning (code, Turkish and
English message, where) and read as listed, never a reason to drop the user:

* an alias not in the ``urn:<nid>:<name>`` form, such as the bare ``defaultpk`` of the first
  users (2011–2013 in GİB's 2020 test list, which still lists a public body with it alone);
* an ``Alias`` without ``Name`` (the schema allows it): there is nothing to route to;
* a date that is not a date: an unreadable ``CreationTime`` is taken as the user's
  ``FirstCreationTime`` (or as always), an unreadable ``DeletionTime`` as not deleted, since
  routing a registered buyer to e-Arşiv is worse than GİB refusing an envelope (1172/1181).

Only a ``User`` whose ``Identifier`` is not a VKN/TCKN (10/11 digits) is left out (nothing
could be routed to it); it is counted in ``skipped`` and reported too.

Routing asks for the aliases active at a time (``DeletionTime`` in the past: inactive, per
``overview.md`` §7): a user whose aliases are all deleted stays in the list and is a registered
user for the periods its aliases were active, and not after.

Times without a zone are Turkish time.

>>> users = UserList()
>>> users.add(User("1234567890", "Örnek A.Ş.", aliases=(
...     Alias("urn:mail:defaultpk@ornek.example", "PK", "Invoice", _dt("2020-01-01T00:00:00")),)))
>>> users.mailboxes("1234567890")
['urn:mail:defaultpk@ornek.example']
>>> users.is_registered("9999999999")
False
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO, Literal
from zoneinfo import ZoneInfo

from lxml import etree

from entegrator.errors import EntegratorError
from entegrator.findings import Finding, Severity, Source
from entegrator.gib._streams import Capped, Raw, TooLargeError, single_entry

__all__ = [
    "MAX_WARNINGS",
    "Alias",
    "User",
    "UserList",
    "UserListError",
    "merged",
]

ISTANBUL = ZoneInfo("Europe/Istanbul")
AliasKind = Literal["PK", "GB"]
DOCUMENT_TYPES = ("Invoice", "DespatchAdvice")
DEFAULT_MAX_INFLATED = 4 * 1024**3  # the real list inflates to a few hundred MB
_IDENTIFIER = re.compile(r"^[0-9]{10,11}$")
_ALIAS = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S{1,200}$")
MAX_ALIAS = 250
MAX_WARNINGS = 1000  # warnings a list keeps; the rest are counted in ``warning_count``
ALWAYS = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)  # a creation time GİB's list does not give


class UserListError(EntegratorError):
    code = "USER_LIST_INVALID"
    message_tr = "Kayıtlı kullanıcı listesi okunamadı: {detail_tr}"
    message_en = "The registered-user list cannot be read: {detail_en}"
    http_status = 422


def _zip_error(tr: str, en: str) -> UserListError:
    return UserListError(detail_tr=tr, detail_en=en)


def _dt(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=ISTANBUL)


@dataclass(frozen=True)
class Alias:
    name: str
    kind: AliasKind
    document: str  # Invoice | DespatchAdvice
    created: dt.datetime
    deleted: dt.datetime | None = None

    def active(self, at: dt.datetime | None = None) -> bool:
        when = at or dt.datetime.now(dt.UTC)
        return self.created <= when and (self.deleted is None or self.deleted > when)


@dataclass(frozen=True)
class User:
    identifier: str
    title: str
    type: str = ""
    account_type: str = ""
    first_created: dt.datetime | None = None
    aliases: tuple[Alias, ...] = ()


@dataclass
class UserList:
    """Users by VKN/TCKN; the PK and the GB list merge into one."""

    users: dict[str, User] = field(default_factory=dict)
    skipped: int = 0  # users left out: no VKN/TCKN to route to (each one also warned about)
    warnings: list[Finding] = field(default_factory=list)  # the first MAX_WARNINGS
    warning_count: int = 0  # all of them

    def __len__(self) -> int:
        return len(self.users)

    def add(self, user: User) -> None:
        """Add a user, or merge its aliases into the one already known (an alias GİB lists
        twice with other dates is kept twice: each is a period of its own)."""
        known = self.users.get(user.identifier)
        if known is None:
            self.users[user.identifier] = user
            return
        seen = {_key(a) for a in known.aliases}
        extra = tuple(a for a in user.aliases if _key(a) not in seen)
        self.users[user.identifier] = replace(known, aliases=known.aliases + extra)

    def warn(self, warning: Finding) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(warning)

    def lookup(self, identifier: str) -> User | None:
        return self.users.get(identifier)

    def _aliases(
        self, identifier: str, kind: AliasKind, document: str, at: dt.datetime | None
    ) -> list[str]:
        user = self.users.get(identifier)
        if user is None:
            return []
        return [
            a.name
            for a in user.aliases
            if a.kind == kind and a.document == document and a.active(at)
        ]

    def mailboxes(
        self, identifier: str, document: str = "Invoice", at: dt.datetime | None = None
    ) -> list[str]:
        """Active PK aliases: where documents to this user are delivered."""
        return self._aliases(identifier, "PK", document, at)

    def sender_units(
        self, identifier: str, document: str = "Invoice", at: dt.datetime | None = None
    ) -> list[str]:
        """Active GB aliases: the user's sending identities, where replies go."""
        return self._aliases(identifier, "GB", document, at)

    def is_registered(
        self, identifier: str, document: str = "Invoice", at: dt.datetime | None = None
    ) -> bool:
        """A registered e-Fatura (or e-İrsaliye) user at ``at`` (now unless told): at least one
        mailbox active then. A user whose aliases are all deleted was registered while they
        were active, and is not after."""
        return bool(self.mailboxes(identifier, document, at))

    # -- GİB's format ------------------------------------------------------------------------

    @classmethod
    def parse(
        cls,
        data: bytes | IO[bytes],
        kind: AliasKind,
        *,
        max_inflated: int = DEFAULT_MAX_INFLATED,
    ) -> UserList:
        """Read one published list (``kind`` PK or GB), zipped or plain XML."""
        out = cls()
        out.extend(data, kind, max_inflated=max_inflated)
        return out

    def extend(
        self,
        data: bytes | IO[bytes],
        kind: AliasKind,
        *,
        max_inflated: int = DEFAULT_MAX_INFLATED,
    ) -> None:
        """Merge a published list into this one."""
        stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
        head = stream.read(4)
        stream.seek(0)
        if head.startswith(b"PK\x03\x04"):
            with single_entry(stream, _zip_error) as (inner, size):
                if size > max_inflated:
                    raise UserListError(
                        detail_tr=f"açılmış boyut {size} bayt, sınır {max_inflated}",
                        detail_en=f"inflated size {size} bytes, the limit is {max_inflated}",
                    )
                self._read_xml(Capped(inner, max_inflated), kind)
        else:
            self._read_xml(stream, kind)

    def _read_xml(self, stream: IO[bytes] | io.RawIOBase, kind: AliasKind) -> None:
        buffered = io.BufferedReader(Raw(stream), buffer_size=65536)
        head = buffered.peek(65536)[:65536].lstrip(b"\xef\xbb\xbf")
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise UserListError(
                detail_tr="belge tipi bildirimi (DOCTYPE) kabul edilmez",
                detail_en="document type declarations (DOCTYPE) are refused",
            )
        count = 0
        try:
            for _, element in etree.iterparse(
                buffered,
                events=("end",),
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=False,
            ):
                if etree.QName(element).localname != "User":
                    continue
                count += 1
                user = _user(element, kind, f"/UserList/User[{count}]", self.warn)
                if user is None:
                    self.skipped += 1
                else:
                    self.add(user)
                element.clear(keep_tail=False)
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]  # free what was read
        except etree.XMLSyntaxError as exc:
            raise UserListError(
                detail_tr=f"XML bozuk: {exc.msg}", detail_en=f"malformed XML: {exc.msg}"
            ) from None
        except TooLargeError:
            raise UserListError(
                detail_tr="açılmış içerik sınırı aştı", detail_en="inflated content over the limit"
            ) from None

    def to_xml(self, kind: AliasKind) -> bytes:
        """The list as GİB publishes it, with the aliases of ``kind``."""
        root = etree.Element("UserList")
        for user in sorted(self.users.values(), key=lambda u: u.identifier):
            aliases = [a for a in user.aliases if a.kind == kind]
            if not aliases:
                continue
            node = etree.SubElement(root, "User")
            etree.SubElement(node, "Identifier").text = user.identifier
            etree.SubElement(node, "Title").text = user.title
            etree.SubElement(node, "Type").text = user.type
            first = user.first_created or min(a.created for a in user.aliases)
            etree.SubElement(node, "FirstCreationTime").text = _fmt(first)
            if user.account_type:
                etree.SubElement(node, "AccountType").text = user.account_type
            documents = etree.SubElement(node, "Documents")
            for document in DOCUMENT_TYPES:
                mine = [a for a in aliases if a.document == document]
                if not mine:
                    continue
                doc = etree.SubElement(documents, "Document", type=document)
                for alias in mine:
                    a = etree.SubElement(doc, "Alias")
                    etree.SubElement(a, "Name").text = alias.name
                    etree.SubElement(a, "CreationTime").text = _fmt(alias.created)
                    if alias.deleted is not None:
                        etree.SubElement(a, "DeletionTime").text = _fmt(alias.deleted)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def to_zip(self, kind: AliasKind) -> bytes:
        out = io.BytesIO()
        name = f"newUser{kind.capitalize()}List.xml"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(name, self.to_xml(kind))
        return out.getvalue()


def _fmt(value: dt.datetime) -> str:
    return value.astimezone(ISTANBUL).replace(tzinfo=None).isoformat(timespec="seconds")


def _text(element: etree._Element, name: str) -> str:
    for child in element:
        if etree.QName(child).localname == name:
            return (child.text or "").strip()
    return ""


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    for child in element:
        if etree.QName(child).localname == name:
            yield child


Warn = Callable[[Finding], None]


def _key(alias: Alias) -> tuple[object, ...]:
    return (alias.name, alias.kind, alias.document, alias.created, alias.deleted)


@dataclass(frozen=True)
class _Entry:
    """The ``User`` being read: who it is and where warnings about it go."""

    identifier: str
    warn: Warn

    def report(self, code: str, tr: str, en: str, where: str, node: etree._Element) -> None:
        line = node.sourceline
        self.warn(
            Finding(
                code=code,
                severity=Severity.WARNING,
                source=Source.XML,
                message_tr=tr,
                message_en=en,
                xpath=where,
                line=line if isinstance(line, int) else None,
            )
        )


def _user(element: etree._Element, kind: AliasKind, where: str, warn: Warn) -> User | None:
    """One ``User`` with all its aliases; None (warned about) when it has no VKN/TCKN."""
    identifier = _text(element, "Identifier")
    entry = _Entry(identifier, warn)
    if not _IDENTIFIER.match(identifier):
        entry.report(
            "userlist-identifier",
            f"Kullanıcının kimliği VKN/TCKN değil ({identifier[:20]!r}): kullanıcı okunmadı, "
            "ona yönlendirilecek bir numara yok",
            f"The user's identifier is not a VKN/TCKN ({identifier[:20]!r}): the user is left "
            "out, there is no number to route to",
            f"{where}/Identifier",
            element,
        )
        return None
    first_text = _text(element, "FirstCreationTime")
    first = _time(entry, first_text, None, f"{where}/FirstCreationTime", element)
    aliases: list[Alias] = []
    for d, document in enumerate(_children_of(element, "Documents", "Document"), 1):
        doc_type = document.get("type") or "Invoice"
        for a, alias in enumerate(_children(document, "Alias"), 1):
            here = f"{where}/Documents/Document[{d}]/Alias[{a}]"
            aliases.extend(_aliases(entry, alias, (kind, doc_type), first, here))
    return User(
        identifier=identifier,
        title=_text(element, "Title"),
        type=_text(element, "Type"),
        account_type=_text(element, "AccountType"),
        first_created=first,
        aliases=tuple(aliases),
    )


def _children_of(element: etree._Element, outer: str, inner: str) -> Iterator[etree._Element]:
    for parent in _children(element, outer):
        yield from _children(parent, inner)


def _aliases(
    entry: _Entry,
    alias: etree._Element,
    of: tuple[AliasKind, str],
    first: dt.datetime | None,
    where: str,
) -> Iterator[Alias]:
    """The aliases of one ``Alias`` element: one per ``Name`` (the schema allows several)."""
    kind, document = of
    names = [(c, (c.text or "").strip()) for c in _children(alias, "Name")]
    if not any(name for _, name in names):
        entry.report(
            "userlist-alias-unnamed",
            f"{entry.identifier} kullanıcısının bir etiketinin adı yok: etiket okunmadı",
            f"An alias of user {entry.identifier} has no name: the alias is not read",
            f"{where}/Name",
            alias,
        )
        return
    fallback = first or ALWAYS
    created = (
        _time(entry, _text(alias, "CreationTime"), fallback, f"{where}/CreationTime", alias)
        or fallback
    )
    deleted_text = _text(alias, "DeletionTime")
    deleted = (
        _time(entry, deleted_text, None, f"{where}/DeletionTime", alias) if deleted_text else None
    )
    for n, (node, name) in enumerate(names, 1):
        if not name:
            continue
        if not _ALIAS.match(name) or len(name) > MAX_ALIAS:
            entry.report(
                "userlist-alias-form",
                f"{entry.identifier} kullanıcısının etiketi GİB'in urn:<nid>:<ad> biçiminde "
                f"(en çok {MAX_ALIAS} karakter) değil: {name[:80]!r}; kullanıcı ve etiket "
                "listelendiği gibi okundu",
                f"An alias of user {entry.identifier} is not in GİB's urn:<nid>:<name> form "
                f"(at most {MAX_ALIAS} characters): {name[:80]!r}; the user and the alias are "
                "read as listed",
                f"{where}/Name[{n}]",
                node,
            )
        yield Alias(name=name, kind=kind, document=document, created=created, deleted=deleted)


def _time(
    entry: _Entry,
    text: str,
    fallback: dt.datetime | None,
    where: str,
    node: etree._Element,
) -> dt.datetime | None:
    """A time of the list; an unreadable one is ``fallback`` (warned about)."""
    if not text and fallback is None:
        return None
    try:
        return _dt(text)
    except ValueError:
        pass
    shown = repr(text[:40]) if text else "''"
    if where.endswith("FirstCreationTime"):
        taken_tr, taken_en = "yok sayıldı", "ignored"
    elif fallback is None:
        taken_tr, taken_en = "silinmemiş sayıldı", "read as not deleted"
    else:
        taken_tr, taken_en = f"{_fmt(fallback)} sayıldı", f"read as {_fmt(fallback)}"
    entry.report(
        "userlist-date",
        f"{entry.identifier} kullanıcısının bir zamanı okunamadı ({shown}): {taken_tr}",
        f"A time of user {entry.identifier} cannot be read ({shown}): {taken_en}",
        where,
        node,
    )
    return fallback


def merged(lists: Iterable[tuple[bytes, AliasKind]]) -> UserList:
    """One list from the published PK and GB files."""
    out = UserList()
    for data, kind in lists:
        out.extend(data, kind)
    return out
