"""The registered-user list: GİB's zipped XML both ways, lookups, hostile input."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from entegrator.gib import Alias, User, UserList, UserListError
from entegrator.gib.userlist import ISTANBUL, merged

T0 = dt.datetime(2020, 1, 1, tzinfo=ISTANBUL)


def _sample() -> UserList:
    users = UserList()
    users.add(
        User(
            "1234567890",
            "Örnek Yazılım A.Ş.",
            "Özel",
            "Özel",
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
            "Şahıs",
            "Özel",
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


def test_broken_entries_are_skipped_and_counted() -> None:
    xml = b"""<UserList>
<User><Identifier>123</Identifier><Title>short id</Title></User>
<User><Identifier>1234567890</Identifier><Documents><Document type="Invoice"><Alias>
<Name>not-an-alias</Name><CreationTime>2020-01-01T00:00:00</CreationTime></Alias></Document>
</Documents></User>
<User><Identifier>1234567891</Identifier><Documents><Document type="Invoice"><Alias>
<Name>urn:mail:a@b.example</Name><CreationTime>yesterday</CreationTime></Alias></Document>
</Documents></User>
<User><Identifier>1234567892</Identifier><Documents><Document type="Invoice"><Alias>
<Name>urn:mail:ok@b.example</Name><CreationTime>2020-01-01T00:00:00</CreationTime></Alias>
</Document></Documents></User>
</UserList>"""
    users = UserList.parse(xml, "PK")
    assert list(users.users) == ["1234567892"]
    assert users.skipped == 3


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
