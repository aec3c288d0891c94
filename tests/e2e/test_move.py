"""Entegratör değişikliği: customer C leaves integrator two (CancelUserAccount) and joins
integrator one (ProcessUserAccount) while A, at integrator one, keeps invoicing it.

Two running installations, each with its own database and API, and the simulator between
them; everything through USERENVELOPEs and GİB's published lists. Every invoice must be filed
exactly once, at one of the two, and none lost: those GİB took while the list named C's old
mailbox go to integrator two, those enveloped to the old mailbox after the cancel are refused
by GİB (1172) and sent again to the new one, those issued between the cancel and the enrolment
wait for the new mailbox. Then C's archive moves too: integrator two exports it, integrator one
imports it, and integrator one holds every invoice C received, each once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.testing.gibnet import Installation, Network, draft, network, wait_until
from tests.testing.platform import new_vkn


@pytest.fixture(scope="module")
def net(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with network(database_url, tmp_path_factory.mktemp("move")) as n:
        yield n


def _enrol(inst: Installation, tenant: uuid.UUID) -> None:
    done = inst.settle(tenant, inst.runtime.enrolment.enrol(tenant))
    assert [r.status for r in done] == ["listed"], done


def _incoming(inst: Installation, vkn: str) -> list[str]:
    numbers: list[str] = []
    with inst.client(vkn) as c:
        cursor = None
        while True:
            params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
            page = c.get("/api/v1/incoming", params=params).json()
            numbers += [i["number"] for i in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                return numbers


def move_under_a_stream(net: Network, count: int) -> dict[str, object]:  # noqa: PLR0915
    """A sends ``count`` invoices to C while C moves from two to one; what arrived where."""
    one, two = net.installation(f"one{count}"), net.installation(f"two{count}")
    a, c = new_vkn(), new_vkn()
    a_id = one.tenant(a)
    c_two = two.tenant(c)
    c_one = one.tenant(c)
    _enrol(one, a_id)
    _enrol(two, c_two)
    one.runtime.sending.refresh_user_list()  # A's installation routes C to integrator two

    issued: list[tuple[str, str]] = []  # (document id, number)
    failures: list[str] = []
    moving, cancelled, moved = threading.Event(), threading.Event(), threading.Event()
    refreshed = threading.Event()

    def issue() -> None:
        """A quarter before the move, a quarter while it happens, the rest after it."""
        with one.client(a) as client:
            for n in range(count):
                if n == count // 4:
                    moving.set()
                    cancelled.wait(120)
                if n == count // 4 + count // 8:
                    refreshed.wait(120)
                if n == count // 2:
                    moved.wait(120)
                r = client.post("/api/v1/invoices", json=draft(a, c, n))
                if r.status_code != 201:
                    failures.append(r.text)
                    continue
                issued.append((r.json()["id"], r.json()["number"]))
                time.sleep(0.05 if count // 4 <= n < count // 2 else 0.01)

    issuer = threading.Thread(target=issue)
    started = time.monotonic()
    issuer.start()
    # The first quarter reaches C at integrator two before it moves.
    deadline = time.monotonic() + 60 + count
    while not moving.is_set() or len(_incoming(two, c)) < count // 4:
        assert time.monotonic() < deadline, "the first invoices never reached integrator two"
        one.jobs()
        one.pump(a_id)
        two.jobs()
    try:
        # C leaves two: GİB closes its aliases (its list shows the deletion time) ...
        done = two.settle(c_two, two.runtime.enrolment.cancel(c_two))
        assert [r.status for r in done] == ["listed"], done
        cancelled.set()
        # ... while A's installation still routes to the old mailbox: GİB refuses (1172) ...
        one.runtime.sending.reroute_refresh_seconds = 3600.0
        wait_until("invoices after the cancel", lambda: len(issued) >= count // 4 + count // 8)
        one.jobs()
        for _ in range(20):
            one.pump(a_id)
            time.sleep(0.05)
        # ... until A's installation reads GİB's list again: C is moving, invoices wait ...
        one.runtime.sending.reroute_refresh_seconds = 0.0
        one.runtime.sending.refresh_user_list()
        refreshed.set()
        wait_until("invoices while C is moving", lambda: len(issued) >= count // 2)
        one.jobs()
        one.pump(a_id)
        two.jobs()
        _enrol(one, c_one)  # ... and C joins one
    finally:
        cancelled.set()
        refreshed.set()
        moved.set()
    while issuer.is_alive():
        one.pump(a_id)
        two.jobs()
        one.jobs()
    issuer.join()
    assert not failures, failures[:3]

    paths: Counter[str] = Counter()

    def settled() -> bool:
        one.pump(a_id)
        two.jobs()
        one.jobs()
        paths.clear()
        with one.client(a) as client:
            for doc, _ in issued:
                found = client.get(f"/api/v1/invoices/{doc}").json()
                if found["status"] not in ("delivered", "accepted", "rejected"):
                    return False
                events = [e["type"] for e in found["events"]]
                rerouted = any(e["data"].get("rerouted") for e in found["events"])
                paths["refused-then-resent" if "rerouting" in events else "direct"] += 1
                if rerouted and "rerouting" not in events:
                    paths["waited-for-mailbox"] += 1
        return True

    wait_until("every invoice to be delivered", settled, timeout=60 + count)
    at_two, at_one = _incoming(two, c), _incoming(one, c)

    # C's archive follows it: integrator two exports it, integrator one files it (twice: the
    # second import files nothing).
    archive = net.folder / f"c-{count}.zip"
    export = two.runtime.exports.export(
        c_two, dt.date(2000, 1, 1), dt.date(2099, 12, 31), archive, max_days=None
    )
    with one.client(c) as client:  # the owner's upload, streamed to disk
        r = client.post(
            "/api/v1/archive/imports",
            content=archive.read_bytes(),
            params={"manifest_sha256": export.manifest_sha256, "source": two.name},
            headers={"Content-Type": "application/zip"},
        )
        assert r.status_code == 200, r.text
        first = r.json()
    again = one.runtime.archive.import_archive(c_one, archive, source=two.name)
    return {
        "issued": [n for _, n in issued],
        "at_two": at_two,
        "at_one": at_one,
        "after_import": _incoming(one, c),
        "imported": [first["imported"], again.imported],
        "skipped": [
            sorted({s["reason"] for s in first["skipped"]}),
            sorted({s.reason for s in again.skipped}),
        ],
        "paths": dict(paths),
        "seconds": time.monotonic() - started,
    }


def _check(result: dict[str, object], count: int) -> None:
    issued, at_two, at_one = result["issued"], result["at_two"], result["at_one"]
    assert isinstance(issued, list) and isinstance(at_two, list) and isinstance(at_one, list)
    assert len(issued) == count
    filed = Counter(at_two + at_one)
    assert sorted(filed) == sorted(issued), "an invoice was lost"
    assert set(filed.values()) == {1}, "an invoice was filed twice"
    # The move happened under the stream: both integrators filed some, and some invoices
    # took the long way (refused at the old mailbox and sent again, or waited for the new).
    assert at_two and at_one
    paths = result["paths"]
    assert isinstance(paths, dict)
    assert paths.get("refused-then-resent", 0) + paths.get("waited-for-mailbox", 0) > 0, paths
    # The archive is complete at the new integrator: every invoice once, none of them twice.
    after = result["after_import"]
    assert isinstance(after, list)
    assert sorted(after) == sorted(issued), "the archive is not complete at integrator one"
    assert result["imported"] == [len(at_two), 0]
    assert result["skipped"] == [[], ["exists"]]
    print(f"move under {count} invoices: {result['seconds']:.1f} s, {paths}")  # noqa: T201


def test_a_customer_moves_between_integrators_under_a_stream_of_invoices(net: Network) -> None:
    _check(move_under_a_stream(net, 40), 40)


@pytest.mark.slow
def test_the_move_under_two_hundred_invoices(net: Network) -> None:
    _check(move_under_a_stream(net, 200), 200)
