"""Enrolment at GİB through USERENVELOPEs, against the simulator: the published list shows the
aliases, an invoice reaches the new mailbox; GİB's rules refuse bad requests with its codes;
cancelling publishes the deletion; a user another integrator serves is refused until that one
cancels."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from entegrator.documents.user_account import UserAccountError
from entegrator.gib.userlist import UserList
from entegrator.services.enrolment import NotEnrolledError
from tests.testing.gibnet import Installation, Network, draft, network, wait_until
from tests.testing.platform import new_vkn


@pytest.fixture(scope="module")
def net(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with network(database_url, tmp_path_factory.mktemp("gibnet")) as n:
        yield n


@pytest.fixture(scope="module")
def one(net: Network) -> Installation:
    return net.installation("one")


@pytest.fixture(scope="module")
def two(net: Network) -> Installation:
    return net.installation("two")


def _listed(net: Network, vkn: str) -> UserList:
    users = UserList()
    for kind, name in (("PK", "newUserPkListxml.zip"), ("GB", "newUserGbListxml.zip")):
        import httpx

        users.extend(httpx.get(f"{net.gib}/EFaturaMerkez/{name}").content, kind)  # type: ignore[arg-type]
    return users


def _enrolled(inst: Installation, vkn: str, **kw: object) -> uuid.UUID:
    tid = inst.tenant(vkn)
    requests = inst.runtime.enrolment.enrol(tid, **kw)  # type: ignore[arg-type]
    done = inst.settle(tid, requests)
    assert [r.status for r in done] == ["listed"] * len(done), done
    return tid


def test_enrol_publishes_the_aliases_and_an_invoice_reaches_the_new_mailbox(
    net: Network, one: Installation
) -> None:
    seller, buyer = new_vkn(), new_vkn()
    seller_id = _enrolled(one, seller)
    tid = one.tenant(buyer)
    requests = one.runtime.enrolment.enrol(
        tid, pk=f"urn:mail:yeni{buyer}@one.example", gb=f"urn:mail:gb{buyer}@one.example"
    )
    assert [r.status for r in requests] == ["queued"]
    # Not sent yet: nothing is active, nothing listed.
    assert {a.state for a in one.runtime.enrolment.aliases(tid)} == {"pending"}
    done = one.settle(tid, requests)
    assert done[0].status == "listed" and done[0].gib_code == 1300
    listed = _listed(net, buyer)
    assert listed.mailboxes(buyer) == [f"urn:mail:yeni{buyer}@one.example"]
    assert listed.sender_units(buyer) == [f"urn:mail:gb{buyer}@one.example"]
    user = listed.lookup(buyer)
    assert user is not None and all(
        a.created is not None and a.deleted is None for a in user.aliases
    )
    states = one.runtime.enrolment.aliases(tid)
    assert {(a.state, a.listed_at is not None) for a in states} == {("active", True)}

    # The seller's invoice goes to the mailbox GİB's list names.
    with one.client(seller) as c:
        r = c.post("/api/v1/invoices", json=draft(seller, buyer, 1))
        assert r.status_code == 201, r.text
        number = r.json()["number"]

    def arrived() -> bool:
        one.pump(seller_id)
        one.jobs()
        with one.client(buyer) as c:
            return bool(c.get("/api/v1/incoming", params={"number": number}).json()["items"])

    wait_until("the invoice to reach the new mailbox", arrived)


def test_despatch_enrolment_opens_the_aliases_for_despatch_advices_too(
    net: Network, one: Installation
) -> None:
    vkn = new_vkn()
    _enrolled(one, vkn, despatch=True)
    listed = _listed(net, vkn)
    assert listed.mailboxes(vkn, "DespatchAdvice") == listed.mailboxes(vkn) != []


def test_bad_aliases_are_refused_before_sending(one: Installation) -> None:
    tid = one.tenant(new_vkn())
    for alias, rule in (("usergb", "UserAccountCheck-32"), ("pk@x.example", "UserAccountCheck-33")):
        with pytest.raises(UserAccountError) as caught:
            one.runtime.enrolment.enrol(tid, pk=alias)
        assert caught.value.rule == rule
    assert one.runtime.enrolment.requests(tid) == []
    assert one.runtime.enrolment.aliases(tid) == []


def test_gib_refuses_a_user_another_integrator_serves_until_it_cancels(
    net: Network, one: Installation, two: Installation
) -> None:
    vkn = new_vkn()
    at_two = _enrolled(two, vkn)
    at_one = one.tenant(vkn)
    refused = one.settle(at_one, one.runtime.enrolment.enrol(at_one))
    assert refused[0].status == "refused" and refused[0].gib_code == 1182
    assert "başka bir özel entegratörde" in (refused[0].gib_detail or "")
    assert one.runtime.enrolment.aliases(at_one) == []  # undone: the names are free again

    # Integrator two cancels: GİB's list shows the deletion times.
    cancelled = two.settle(at_two, two.runtime.enrolment.cancel(at_two))
    assert [r.status for r in cancelled] == ["listed"]
    user = _listed(net, vkn).lookup(vkn)
    assert user is not None and user.aliases
    assert all(a.deleted is not None for a in user.aliases)
    assert {a.state for a in two.runtime.enrolment.aliases(at_two)} == {"closed"}
    with pytest.raises(NotEnrolledError):
        two.runtime.enrolment.cancel(at_two)

    # Now integrator one may take it over.
    taken = one.settle(at_one, one.runtime.enrolment.enrol(at_one))
    assert taken[0].status == "listed"
    listed = _listed(net, vkn)
    assert listed.mailboxes(vkn) == [f"urn:mail:pk{vkn}@one.example"]


def test_an_alias_is_added_and_closed(net: Network, one: Installation) -> None:
    vkn = new_vkn()
    tid = _enrolled(one, vkn)
    extra = f"urn:mail:muhasebe{vkn}@one.example"
    added = one.settle(tid, [one.runtime.enrolment.add_alias(tid, kind="PK", alias=extra)])
    assert added[0].status == "listed"
    assert extra in _listed(net, vkn).mailboxes(vkn)
    closed = one.settle(tid, [one.runtime.enrolment.close_alias(tid, kind="PK", alias=extra)])
    assert closed[0].status == "listed"
    assert extra not in _listed(net, vkn).mailboxes(vkn)
    assert len(_listed(net, vkn).mailboxes(vkn)) == 1


@pytest.mark.parametrize(
    ("claims", "signer", "code"), [("one", "one", 1182), ("other", "user", 1176)]
)
def test_gib_refuses_user_envelopes_not_from_the_registered_integrator(
    net: Network, one: Installation, claims: str, signer: str, code: int
) -> None:
    """At the simulator: an integrator sending in another integrator's name (OASenderCheck:
    1182), or a message signed by a seal that is not the integrator's (OASignatureCheck:
    1176); GİB's list is unchanged."""
    import httpx

    from entegrator.documents.user_account import (
        Account,
        Action,
        Person,
        Service,
        build_user_account,
    )
    from entegrator.envelope import EnvelopeType, build, pack
    from entegrator.gib.soap import SendDocument
    from entegrator.gib.soap import build as soap
    from entegrator.gibsim.app import SERVICE
    from entegrator.signing import sign
    from tests.clock import now
    from tests.gibsim.calls import envelope_status
    from tests.testing.platform import DEV_CA

    other_vkn = new_vkn()
    r = httpx.post(
        f"{net.gib}/admin/integrators",
        json={"integrator_id": f"other-{code}", "name": "Other", "vkn": other_vkn},
    )
    token = r.json()["token"]
    user = new_vkn()
    vkns = {"one": one.vkn, "other": other_vkn, "user": user}
    message = build_user_account(
        Action.PROCESS,
        integrator=vkns[claims],
        user=Person(user, "X A.Ş."),
        service=Service.EFATURA,
        accounts=[Account("PK", f"urn:mail:pk{user}@other.example")],
        created=now(),
    )
    signed = sign(
        message,
        DEV_CA.issue(identity=vkns[signer], name="imzacı", now=now()),
        signing_time=now(),
        check_certificate=False,  # a wrong seal, on purpose
    )
    packed = pack(
        build(
            [signed],
            sender_alias="usergb",
            receiver_alias="GIB",
            type=EnvelopeType.USERENVELOPE,
            created=now(),
        )
    )
    ct, body = soap(SendDocument(packed.name, packed.data, packed.md5))
    assert (
        httpx.post(
            f"{net.gib}{SERVICE}",
            content=body,
            headers={"Content-Type": ct, "Authorization": f"Bearer {token}"},
        ).status_code
        == 200
    )
    envelope_id = packed.name.removesuffix(".zip")
    wait_until("GİB's answer", lambda: envelope_status(net.gib, token, envelope_id) != 1000)
    assert envelope_status(net.gib, token, envelope_id) == code
    assert _listed(net, user).lookup(user) is None


def test_a_buyer_is_moving_only_for_a_while_after_its_last_mailbox_closed() -> None:
    import datetime as dt

    from entegrator.gib.userlist import Alias, User
    from entegrator.services.sending import MOVE_GRACE, _moving_since

    now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    start = now - dt.timedelta(days=400)

    def user(*aliases: Alias) -> User:
        return User("1234567890", "X", aliases=aliases)

    closed = now - dt.timedelta(hours=1)
    pk = Alias("urn:mail:pk@x.example", "PK", "Invoice", start, closed)
    assert _moving_since(user(pk), now) == closed
    old = Alias("urn:mail:pk@x.example", "PK", "Invoice", start, now - MOVE_GRACE * 2)
    assert _moving_since(user(old), now) is None
    active = Alias("urn:mail:yeni@x.example", "PK", "Invoice", now - dt.timedelta(minutes=5))
    assert _moving_since(user(pk, active), now) is None
    gb_only = Alias("urn:mail:gb@x.example", "GB", "Invoice", start, closed)
    assert _moving_since(user(gb_only), now) is None
