"""The registered-user list: GİB's zipped XML both ways, lookups, hostile input."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from entegrator.gib import Alias, User, UserList, UserListError
from entegrator.gib.userlist import ISTANBUL, merged

T0 = dt.datetime(2020, 1, 1, tzinfo=ISTANBUL)


def _sample() -> UserList:
    users = UserList()
    users.add(
        User(
            "1234567890",
            "Örnek Yazılım A.Ş.",
            "OZEL",
            "OZELENTEGRASYON",
            T0,
            (
                Alias("urn:mail:defaultpk@ornek.example", "PK", "Invoice", T0),
                Alias("urn:mail:eskipk@ornek.example", "PK", "Invoice", T0, T0.replace(year=2021)),
                Alias("urn:mail:irsaliyepk@ornek.example", "PK", "DespatchAdvice", T0),
                Alias("urn:mail:defaultgb@ornek.example", "GB", "Invoice", T0),
            ),
        )
    )
    users.add(
        User(
            "12345678950",
            "Ayşe Yılmaz",
            "OZEL",
            "GIBPORTAL",
            T0,
            (Alias("urn:mail:ayse@baska.example", "PK", "Invoice", T0.replace(year=2030)),),
        )
    )
    return users


def test_lookups_see_only_active_aliases_of_the_document_type() -> None:
    users = _sample()
    assert users.mailboxes("1234567890") == ["urn:mail:defaultpk@ornek.example"]
    assert users.mailboxes("1234567890", "DespatchAdvice") == ["urn:mail:irsaliyepk@ornek.example"]
    assert users.sender_units("1234567890") == ["urn:mail:defaultgb@ornek.example"]
    at_2020 = dt.datetime(2020, 6, 1, tzinfo=dt.UTC)
    assert users.mailboxes("1234567890", at=at_2020) == [
        "urn:mail:defaultpk@ornek.example",
        "urn:mail:eskipk@ornek.example",
    ]
    assert users.is_registered("1234567890")
    assert not users.is_registered("12345678950")  # registered from 2030 on
    assert users.is_registered("12345678950", at=dt.datetime(2031, 1, 1, tzinfo=dt.UTC))
    assert not users.is_registered("9999999999")
    assert users.lookup("1234567890").title == "Örnek Yazılım A.Ş."  # type: ignore[union-attr]


def test_the_published_pk_and_gb_files_round_trip() -> None:
    users = _sample()
    pk, gb = users.to_zip("PK"), users.to_zip("GB")
    with zipfile.ZipFile(io.BytesIO(pk)) as z:
        assert z.namelist() == ["newUserPkList.xml"]
        assert b"<DeletionTime>2021-01-01T00:00:00</DeletionTime>" in z.read("newUserPkList.xml")
    back = merged([(pk, "PK"), (gb, "GB")])
    assert back.users == users.users
    assert back.skipped == 0
    only_pk = UserList.parse(pk, "PK")
    assert only_pk.sender_units("1234567890") == []
    plain = UserList.parse(users.to_xml("PK"), "PK")
    assert plain.mailboxes("1234567890") == users.mailboxes("1234567890")


def test_foreign_namespaces_and_unknown_roots_are_read() -> None:
    xml = b"""<?xml version="1.0"?>
<l:Liste xmlns:l="urn:x"><l:User><l:Identifier>1234567890</l:Identifier><l:Title>A</l:Title>
<l:FirstCreationTime>2019-05-05T10:00:00</l:FirstCreationTime><l:Documents>
<l:Document type="Invoice"><l:Alias><l:Name>urn:mail:pk@a.example</l:Name>
<l:CreationTime>2019-05-05T10:00:00.123</l:CreationTime></l:Alias></l:Document></l:Documents>
</l:User></l:Liste>"""
    users = UserList.parse(xml, "PK")
    assert users.mailboxes("1234567890") == ["urn:mail:pk@a.example"]


def test_only_users_without_a_vkn_tckn_are_left_out_and_each_oddity_is_reported() -> None:
    xml = b"""<UserList>
<User><Identifier>123</Identifier><Title>short id</Title></User>
<User><Identifier>1234567890</Identifier><Documents><Document type="Invoice"><Alias>
<Name>not-an-alias</Name><CreationTime>2020-01-01T00:00:00</CreationTime></Alias></Document>
</Documents></User>
<User><Identifier>1234567891</Identifier><Documents><Document type="Invoice"><Alias>
<Name>urn:mail:a@b.example</Name><CreationTime>yesterday</CreationTime>
<DeletionTime>soon</DeletionTime></Alias><Alias><CreationTime>2020-01-01T00:00:00</CreationTime>
</Alias></Document></Documents></User>
<User><Identifier>1234567892</Identifier><Documents><Document type="Invoice"><Alias>
<Name>urn:mail:ok@b.example</Name><CreationTime>2020-01-01T00:00:00</CreationTime></Alias>
</Document></Documents></User>
</UserList>"""
    users = UserList.parse(xml, "PK")
    assert sorted(users.users) == ["1234567890", "1234567891", "1234567892"]
    assert users.skipped == 1
    assert users.mailboxes("1234567890") == ["not-an-alias"]
    # An unreadable deletion time is not a deletion: the buyer stays registered.
    assert users.mailboxes("1234567891") == ["urn:mail:a@b.example"]
    assert [(w.code, w.xpath) for w in users.warnings] == [
        ("userlist-identifier", "/UserList/User[1]/Identifier"),
        ("userlist-alias-form", "/UserList/User[2]/Documents/Document[1]/Alias[1]/Name[1]"),
        ("userlist-date", "/UserList/User[3]/Documents/Document[1]/Alias[1]/CreationTime"),
        ("userlist-date", "/UserList/User[3]/Documents/Document[1]/Alias[1]/DeletionTime"),
        ("userlist-alias-unnamed", "/UserList/User[3]/Documents/Document[1]/Alias[2]/Name"),
    ]
    assert users.warning_count == 5
    for warning in users.warnings:
        assert warning.severity == "warning" and warning.line
        assert (
            warning.message_tr and warning.message_en and warning.message_tr != warning.message_en
        )


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def test_hostile_input_is_refused() -> None:
    good = _sample().to_xml("PK")
    with pytest.raises(UserListError, match="one file"):
        UserList.parse(_zip({"a.xml": good, "b.xml": good}), "PK")
    bomb = _zip({"a.xml": b"<UserList>" + b" " * 5_000_000 + b"</UserList>"})
    assert len(bomb) < 20_000
    with pytest.raises(UserListError, match="limit"):
        UserList.parse(bomb, "PK", max_inflated=1_000_000)
    with pytest.raises(UserListError, match="DOCTYPE"):
        UserList.parse(
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><UserList>&e;</UserList>',
            "PK",
        )
    with pytest.raises(UserListError, match="malformed"):
        UserList.parse(b"<UserList><User>", "PK")
    with pytest.raises(UserListError, match="cannot be opened"):
        UserList.parse(b"PK\x03\x04" + b"\x00" * 50, "PK")


# -- GİB's own list ------------------------------------------------------------------------------


def _excerpt(packages: Path) -> bytes:
    return (packages / "userlist" / "newUserPkList-excerpt.xml").read_bytes()


def _listed(packages: Path) -> dict[str, list[tuple[str, str, str, str | None]]]:
    """The users and aliases of GİB's excerpt, read here with plain lxml XPath: per identifier,
    (document type, name, CreationTime, DeletionTime) of every Alias/Name, in order."""
    root: Any = etree.fromstring(_excerpt(packages))
    out: dict[str, list[tuple[str, str, str, str | None]]] = {}
    for user in root.xpath("/UserList/User"):
        out[user.findtext("Identifier")] = [
            (
                name.xpath("string(../../@type)"),
                name.text,
                name.xpath("string(../CreationTime)"),
                name.xpath("string(../DeletionTime)") or None,
            )
            for name in user.xpath("Documents/Document/Alias/Name")
        ]
    return out


def _as_listed(alias: Alias) -> tuple[str, str, str, str | None]:
    def fmt(value: dt.datetime) -> str:
        return value.astimezone(ISTANBUL).replace(tzinfo=None).isoformat(timespec="seconds")

    return (
        alias.document,
        alias.name,
        fmt(alias.created),
        fmt(alias.deleted) if alias.deleted is not None else None,
    )


def test_every_user_gib_lists_is_read_with_every_alias(gib_packages: Path) -> None:
    listed = _listed(gib_packages)
    root: Any = etree.fromstring(_excerpt(gib_packages))
    assert len(listed) == len(root.xpath("//User")) == 14
    users = UserList.parse(_excerpt(gib_packages), "PK")
    assert len(users) == 14 and users.skipped == 0
    assert sorted(users.users) == sorted(listed)
    for identifier, aliases in listed.items():
        got = users.users[identifier]
        assert [_as_listed(a) for a in got.aliases] == aliases, identifier
        assert {a.kind for a in got.aliases} == {"PK"}
    read = sum(len(u.aliases) for u in users.users.values())
    assert read == len(root.xpath("//Alias/Name")) == 36
    active = sum(len(users.mailboxes(i, d)) for i in listed for d in ("Invoice", "DespatchAdvice"))
    assert active == len(root.xpath("//Alias[not(DeletionTime)]/Name")) == 21


def test_the_bare_aliases_of_the_first_users_are_reported_not_dropped(gib_packages: Path) -> None:
    users = UserList.parse(_excerpt(gib_packages), "PK")
    root: Any = etree.fromstring(_excerpt(gib_packages))
    bare = [n for n in root.xpath("//Alias/Name") if not n.text.startswith("urn:")]
    assert len(bare) == 2
    assert [w.code for w in users.warnings] == ["userlist-alias-form"] * 2
    for warning, name in zip(users.warnings, bare, strict=True):
        assert root.xpath(warning.xpath) == [name]
        assert warning.line == name.sourceline
        identifier = name.xpath("string(ancestor::User/Identifier)")
        assert identifier in warning.message_tr and identifier in warning.message_en
    # Muhasebat Genel Müdürlüğü: a public body whose only alias is the bare one, active.
    assert users.lookup("6110368859").type == "KAMU"  # type: ignore[union-attr]
    assert users.mailboxes("6110368859") == ["defaultpk"]
    assert users.is_registered("6110368859")


def _moments(packages: Path) -> list[dt.datetime]:
    """Every time the excerpt names, a second either side, and the list's own date."""
    root: Any = etree.fromstring(_excerpt(packages))
    out = [dt.datetime(2020, 2, 25, tzinfo=ISTANBUL), dt.datetime.now(dt.UTC)]
    for text in root.xpath("//CreationTime/text() | //DeletionTime/text()"):
        t = dt.datetime.fromisoformat(text).replace(tzinfo=ISTANBUL)
        out += [t - dt.timedelta(seconds=1), t, t + dt.timedelta(seconds=1)]
    return out


def test_users_are_routed_by_the_aliases_active_at_the_time(gib_packages: Path) -> None:
    users = UserList.parse(_excerpt(gib_packages), "PK")
    listed = _listed(gib_packages)
    checked = 0
    for at in _moments(gib_packages):
        naive = at.astimezone(ISTANBUL).replace(tzinfo=None).isoformat(timespec="seconds")
        for identifier, aliases in listed.items():
            for document in ("Invoice", "DespatchAdvice"):
                active = [
                    name
                    for doc, name, created, deleted in aliases
                    if doc == document and created <= naive and (deleted is None or deleted > naive)
                ]
                assert users.mailboxes(identifier, document, at) == active, (identifier, at)
                assert users.is_registered(identifier, document, at) == bool(active)
                checked += 1
    assert checked > 2000
    # Koç: its bare alias was its only one in 2013, then replaced; the list keeps all three.
    in_2013 = dt.datetime(2013, 6, 1, tzinfo=ISTANBUL)
    assert users.mailboxes("5950075610", at=in_2013) == ["defaultpk"]
    in_2017 = dt.datetime(2017, 1, 1, tzinfo=ISTANBUL)
    assert not users.is_registered("5950075610", at=in_2017)  # between two aliases
    assert users.is_registered("5950075610")


def test_a_user_whose_aliases_are_all_deleted_was_registered_while_they_were_active() -> None:
    users = UserList.parse(
        b"""<UserList><User><Identifier>1234567890</Identifier><Title>Ayr\xc4\xb1lan</Title>
<Type>OZEL</Type><FirstCreationTime>2015-01-01T00:00:00</FirstCreationTime><Documents>
<Document type="Invoice"><Alias><Name>urn:mail:defaultpk@ayrilan.example</Name>
<CreationTime>2015-01-01T00:00:00</CreationTime><DeletionTime>2019-01-01T00:00:00</DeletionTime>
</Alias></Document></Documents></User></UserList>""",
        "PK",
    )
    assert users.lookup("1234567890") is not None  # still listed
    assert users.is_registered("1234567890", at=dt.datetime(2018, 1, 1, tzinfo=ISTANBUL))
    assert not users.is_registered("1234567890", at=dt.datetime(2019, 1, 1, tzinfo=ISTANBUL))
    assert not users.is_registered("1234567890")  # today: e-Arşiv


def test_gibs_schema_validates_what_is_read_and_written(gib_packages: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(gib_packages / "userlist" / "NewUserList.xsd")))
    excerpt = _excerpt(gib_packages)
    schema.assertValid(etree.fromstring(excerpt))
    users = UserList.parse(excerpt, "PK")
    written = users.to_xml("PK")
    schema.assertValid(etree.fromstring(written))
    schema.assertValid(etree.fromstring(_sample().to_xml("PK")))
    schema.assertValid(etree.fromstring(_sample().to_xml("GB")))
    again = UserList.parse(written, "PK")
    assert again.users == users.users
    assert again.warning_count == users.warning_count == 2


def test_an_alias_listed_twice_keeps_both_periods() -> None:
    users = UserList()
    first = Alias("urn:mail:pk@a.example", "PK", "Invoice", T0, T0.replace(year=2021))
    second = Alias("urn:mail:pk@a.example", "PK", "Invoice", T0.replace(year=2022))
    users.add(User("1234567890", "A", aliases=(first,)))
    users.add(User("1234567890", "A", aliases=(second, first)))
    assert users.users["1234567890"].aliases == (first, second)
