"""GİB's registered-user list (kayıtlı kullanıcı listesi): read, write, look up.

GİB publishes two zipped XML files, one of mailbox aliases (PK, posta kutusu:
``newUserPkListxml.zip``) and one of sender units (GB, gönderici birim:
``newUserGbListxml.zip``). Each ``User`` has its ``Identifier`` (VKN/TCKN), ``Title``,
``Type``, ``AccountType``, ``FirstCreationTime`` and ``Documents/Document[@type]/Alias``
entries (``Name``, ``CreationTime``, optional ``DeletionTime``) (``overview.md`` §7).
The root element's name is not documented [unconfirmed]: the reader takes ``User`` elements
under any root, in any namespace; the writer uses ``UserList``.

The published list holds about a million users, so it is read as a stream, from a zip whose
inflated size is capped (zip bombs), with no DTD, entities or network. An entry that breaks
the format (an identifier that is not 10/11 digits, an alias that is not ``urn:…``) is
skipped and counted, never allowed to stop the whole list.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO, Literal
from zoneinfo import ZoneInfo

from lxml import etree

from entegrator.errors import EntegratorError

__all__ = [
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


class UserListError(EntegratorError):
    code = "USER_LIST_INVALID"
    message_tr = "Kayıtlı kullanıcı listesi okunamadı: {detail_tr}"
    message_en = "The registered-user list cannot be read: {detail_en}"
    http_status = 422


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
    skipped: int = 0  # entries of the source that broke the format

    def __len__(self) -> int:
        return len(self.users)

    def add(self, user: User) -> None:
        """Add a user, or merge its aliases into the one already known."""
        known = self.users.get(user.identifier)
        if known is None:
            self.users[user.identifier] = user
            return
        seen = {(a.name, a.kind, a.document) for a in known.aliases}
        extra = tuple(a for a in user.aliases if (a.name, a.kind, a.document) not in seen)
        self.users[user.identifier] = replace(known, aliases=known.aliases + extra)

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
        """A registered e-Fatura (or e-İrsaliye) user: at least one active mailbox."""
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
            with _single_entry(stream) as (inner, size):
                if size > max_inflated:
                    raise UserListError(
                        detail_tr=f"açılmış boyut {size} bayt, sınır {max_inflated}",
                        detail_en=f"inflated size {size} bytes, the limit is {max_inflated}",
                    )
                self._read_xml(_Capped(inner, max_inflated), kind)
        else:
            self._read_xml(stream, kind)

    def _read_xml(self, stream: IO[bytes] | io.RawIOBase, kind: AliasKind) -> None:
        buffered = io.BufferedReader(_Raw(stream), buffer_size=65536)
        head = buffered.peek(65536)[:65536].lstrip(b"\xef\xbb\xbf")
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise UserListError(
                detail_tr="belge tipi bildirimi (DOCTYPE) kabul edilmez",
                detail_en="document type declarations (DOCTYPE) are refused",
            )
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
                user = _user(element, kind)
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
        except _TooLargeError:
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
            if user.first_created is not None:
                etree.SubElement(node, "FirstCreationTime").text = _fmt(user.first_created)
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


def _user(element: etree._Element, kind: AliasKind) -> User | None:
    identifier = _text(element, "Identifier")
    if not _IDENTIFIER.match(identifier):
        return None
    try:
        first = _text(element, "FirstCreationTime")
        aliases: list[Alias] = []
        for documents in _children(element, "Documents"):
            for document in _children(documents, "Document"):
                doc_type = document.get("type") or "Invoice"
                for alias in _children(document, "Alias"):
                    name = _text(alias, "Name")
                    if not _ALIAS.match(name) or len(name) > 250:
                        return None
                    deleted = _text(alias, "DeletionTime")
                    aliases.append(
                        Alias(
                            name=name,
                            kind=kind,
                            document=doc_type,
                            created=_dt(_text(alias, "CreationTime") or first),
                            deleted=_dt(deleted) if deleted else None,
                        )
                    )
        return User(
            identifier=identifier,
            title=_text(element, "Title"),
            type=_text(element, "Type"),
            account_type=_text(element, "AccountType"),
            first_created=_dt(first) if first else None,
            aliases=tuple(aliases),
        )
    except ValueError:  # a date that is not a date
        return None


class _TooLargeError(Exception):
    pass


class _Raw(io.RawIOBase):
    """Any readable stream as a raw stream (for a buffered reader that can peek)."""

    def __init__(self, inner: IO[bytes] | io.RawIOBase) -> None:
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer)) or b""
        buffer[: len(data)] = data
        return len(data)


class _Capped(io.RawIOBase):
    """Reads at most ``limit`` bytes from ``inner``; more is an error (a lying zip header)."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self._inner = inner
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise _TooLargeError
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


class _single_entry:  # noqa: N801 - a context manager used like a function
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._zip: zipfile.ZipFile | None = None
        self._entry: IO[bytes] | None = None

    def __enter__(self) -> tuple[IO[bytes], int]:
        try:
            self._zip = zipfile.ZipFile(self._stream)
            infos = [i for i in self._zip.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise UserListError(
                detail_tr=f"ZIP açılamadı: {exc}", detail_en=f"the ZIP cannot be opened: {exc}"
            ) from None
        if len(infos) != 1:
            raise UserListError(
                detail_tr=f"ZIP tek dosya içermeli, {len(infos)} var",
                detail_en=f"the ZIP must hold one file, it holds {len(infos)}",
            )
        self._entry = self._zip.open(infos[0])
        return self._entry, infos[0].file_size

    def __exit__(self, *exc: object) -> None:
        if self._entry is not None:
            self._entry.close()
        if self._zip is not None:
            self._zip.close()


def merged(lists: Iterable[tuple[bytes, AliasKind]]) -> UserList:
    """One list from the published PK and GB files."""
    out = UserList()
    for data, kind in lists:
        out.extend(data, kind)
    return out
