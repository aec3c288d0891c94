"""Pricing and metering: usage written with the event it bills, credits, warnings, statements."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from entegrator.documents.rounding import round_amount
from entegrator.runtime import Runtime
from entegrator.services.billing import BillingService, CreditsExhaustedError, Meter
from entegrator.services.mail import EmlFolder
from entegrator.store import billing as store
from tests.clock import today
from tests.testing.platform import TenantHandle


def plan_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def usage_rows(runtime: Runtime, tenant: TenantHandle) -> list[tuple[str, str, uuid.UUID | None]]:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        rows = conn.execute(
            text("SELECT kind, event_key, document_id FROM usage_records ORDER BY at")
        ).all()
    return [(r.kind, r.event_key, r.document_id) for r in rows]


def ledger_of(runtime: Runtime, tenant: TenantHandle) -> list[store.LedgerEntry]:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        return store.ledger(conn, tenant.tenant_id)


def prepaid(runtime: Runtime, tenant: TenantHandle, credits: int) -> None:
    name = plan_name("kontor")
    runtime.billing.create_plan(name=name, prepaid=True)
    runtime.billing.assign(tenant.vkn, name, effective_from=today(), actor="test")
    runtime.billing.add_credits(tenant.vkn, credits, price=Decimal(100), actor="test")


def test_each_issued_invoice_is_billed_once_by_its_kind(
    tenant: TenantHandle, runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    with tenant.client() as c:
        efatura = tenant.issue(c)
        earsiv = tenant.issue(c, profile="EARSIVFATURA")
        replay = c.post("/api/v1/invoices", json=tenant.draft(), headers={"Idempotency-Key": "one"})
        again = c.post("/api/v1/invoices", json=tenant.draft(), headers={"Idempotency-Key": "one"})
        assert again.json()["id"] == replay.json()["id"]
    run_jobs()  # signing and queueing bill nothing more
    rows = usage_rows(runtime, tenant)
    assert [(k, d) for k, _, d in rows] == [
        ("efatura", uuid.UUID(efatura["id"])),
        ("earsiv", uuid.UUID(earsiv["id"])),
        ("efatura", uuid.UUID(replay.json()["id"])),
    ]
    assert all(key == str(d) for _, key, d in rows)


def test_a_rolled_back_issue_bills_nothing(tenant: TenantHandle, runtime: Runtime) -> None:
    prepaid(runtime, tenant, 5)
    with tenant.client() as c:
        tenant.issue(c)
        # The number is taken after the credit is spent; a number out of turn rolls both back.
        refused = c.post("/api/v1/invoices", json=tenant.draft(number="EFA2026000000099"))
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "NUMBER_NOT_NEXT"
    assert len(usage_rows(runtime, tenant)) == 1
    entries = ledger_of(runtime, tenant)
    assert [(e.reason, e.delta, e.balance_after) for e in entries] == [
        ("topup", 5, 5),
        ("usage", -1, 4),
    ]
    with runtime.db.tenant(tenant.tenant_id) as conn:
        assert conn.execute(text("SELECT count(*) FROM documents")).scalar_one() == 1


def test_the_same_event_charged_twice_is_billed_once(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    prepaid(runtime, tenant, 3)
    meter = runtime.meter
    assert meter is not None
    doc = uuid.uuid4()
    for _ in range(3):  # a job that ran again after a crash, a retried request…
        with runtime.db.tenant(tenant.tenant_id) as conn:
            meter.charge(
                conn,
                tenant.tenant_id,
                "despatch",
                event_key=str(doc),
                document_id=doc,
                at=runtime.clock(),
            )
    assert usage_rows(runtime, tenant) == [("despatch", str(doc), doc)]
    assert runtime.billing.balance(tenant.tenant_id) == 2
    with runtime.db.tenant(tenant.tenant_id) as conn:
        assert store.ledger_sum(conn, tenant.tenant_id) == 2


def test_without_credits_issuing_is_refused_and_stores_nothing(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    prepaid(runtime, tenant, 1)
    with tenant.client() as c:
        tenant.issue(c)
        refused = c.post("/api/v1/invoices", json=tenant.draft())
        assert refused.status_code == 402, refused.text
        error = refused.json()["error"]
        assert error["code"] == "CREDITS_EXHAUSTED"
        assert "bakiye: 0" in error["message_tr"] and "balance: 0" in error["message_en"]
        assert "credits" in error["message_en"] and "kontör" in error["message_tr"]
        assert c.get("/api/v1/invoices").json()["items"][0]["number"] == "EFA2026000000001"
    with runtime.db.tenant(tenant.tenant_id) as conn:
        assert conn.execute(text("SELECT count(*) FROM documents")).scalar_one() == 1
        # The series lost no number: the next one issued after a top-up is 2.
    runtime.billing.add_credits(tenant.vkn, 1, actor="test")
    with tenant.client() as c:
        assert tenant.issue(c)["number"] == "EFA2026000000002"
    with runtime.db.tenant(tenant.tenant_id) as conn:  # the operator's changes are audited
        actions = (
            conn.execute(
                text("SELECT action FROM audit_log WHERE action LIKE 'billing.%' ORDER BY at")
            )
            .scalars()
            .all()
        )
    assert actions == ["billing.plan.assign", "billing.credits.add", "billing.credits.add"]


def test_a_grace_lets_a_prepaid_tenant_go_below_zero(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    prepaid(runtime, tenant, 1)
    meter = Meter(grace=2)
    now = runtime.clock()
    results = []
    for _ in range(4):
        doc = uuid.uuid4()
        try:
            with runtime.db.tenant(tenant.tenant_id) as conn:
                meter.charge(
                    conn, tenant.tenant_id, "efatura", event_key=str(doc), document_id=doc, at=now
                )
            results.append("ok")
        except CreditsExhaustedError as exc:
            results.append(f"refused at {exc.balance}")
    assert results == ["ok", "ok", "ok", "refused at -2"]
    # Receiving is never refused: the balance goes further down.
    doc = uuid.uuid4()
    with runtime.db.tenant(tenant.tenant_id) as conn:
        meter.charge(
            conn, tenant.tenant_id, "incoming", event_key=str(doc), document_id=doc, at=now
        )
    assert runtime.billing.balance(tenant.tenant_id) == -3


def test_warnings_at_thresholds_webhook_mail_and_banner(
    tenant: TenantHandle, runtime: Runtime, tmp_path: Path
) -> None:
    prepaid(runtime, tenant, 10)
    runtime.billing.set_contacts(tenant.vkn, ["muhasebe@example.com.tr"])
    admin = f"yonetici@{tenant.vkn}.example"
    for email, role in ((admin, "admin"), (f"goren@{tenant.vkn}.example", "viewer")):
        runtime.accounts.create_user(tenant.tenant_id, email=email, role=role, password=None)
    with runtime.db.system() as conn:  # an endpoint for the low-credit event
        conn.execute(
            text(
                "INSERT INTO webhooks (tenant_id, webhook_id, url, events, secret_nonce, "
                "secret_ciphertext) VALUES (:t, :w, 'https://erp.example/h', "
                "ARRAY['billing.credits_low'], '\\x00', '\\x00')"
            ),
            {"t": tenant.tenant_id, "w": uuid.uuid4()},
        )
    assert runtime.billing.banner(tenant.tenant_id) is None
    with tenant.client() as c:
        for _ in range(8):
            tenant.issue(c)
        banner = runtime.billing.banner(tenant.tenant_id)
        assert banner is not None and banner["level"] == "low" and banner["balance"] == 2
        tenant.issue(c)
        tenant.issue(c)
    with runtime.db.tenant(tenant.tenant_id) as conn:
        warned = conn.execute(
            text("SELECT threshold, balance FROM billing_warnings ORDER BY threshold DESC")
        ).all()
        hooks = (
            conn.execute(
                text("SELECT payload FROM webhook_deliveries WHERE event = 'billing.credits_low'")
            )
            .scalars()
            .all()
        )
    assert [tuple(w) for w in warned] == [(20, 2), (5, 0)]
    assert [(h["threshold_percent"], h["balance"]) for h in hooks] == [(20, 2), (5, 0)]
    assert runtime.billing.banner(tenant.tenant_id)["level"] == "exhausted"  # type: ignore[index]
    outbox = EmlFolder(tmp_path)
    runtime.billing.mail_warnings(outbox, "fatura@entegrator.example")
    mails = [p.read_text() for p in tmp_path.glob("*.eml")]
    mine = [m for m in mails if "muhasebe@example.com.tr" in m]
    assert len(mine) == 2
    # The tenant's admins are told too, in the same messages; its viewers are not.
    assert all(admin in m for m in mine)
    assert not any(f"goren@{tenant.vkn}.example" in m for m in mails)
    assert runtime.billing.mail_warnings(outbox, "x@y.z") == 0  # each mailed once
    # A top-up starts the warnings afresh.
    runtime.billing.add_credits(tenant.vkn, 5, actor="test")
    assert runtime.billing.banner(tenant.tenant_id) is None


def test_expired_credits_are_written_off_first_bought_first_spent(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    import datetime as dt

    prepaid(runtime, tenant, 3)  # never expires
    runtime.billing.add_credits(tenant.vkn, 4, expires_on=today() - dt.timedelta(days=1), actor="t")
    with tenant.client() as c:
        tenant.issue(c)
        tenant.issue(c)
    with runtime.db.system() as conn:
        assert tenant.vkn in store.tenants_with_expired_packages(conn, today())
    # The two credits spent came from the package that expires first: 2 of its 4 are left.
    assert runtime.billing.expire_all() >= 2  # this tenant's (and any other test's)
    assert runtime.billing.expire_credits(tenant.vkn) == 0
    with runtime.db.system() as conn:
        assert tenant.vkn not in store.tenants_with_expired_packages(conn, today())
    assert runtime.billing.balance(tenant.tenant_id) == 3
    assert [(e.reason, e.delta) for e in ledger_of(runtime, tenant)][-1] == ("expiry", -2)


def _issued(runtime: Runtime, integrator: TenantHandle) -> list[Any]:
    with runtime.db.tenant(integrator.tenant_id) as conn:
        return list(
            conn.execute(
                text("SELECT document_id, number, profile, receiver_id FROM documents")
            ).all()
        )


def test_the_monthly_run_bills_three_plans_and_invoices_once(  # noqa: PLR0915
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    run_jobs: Callable[[], None],
) -> None:
    import datetime as dt

    from entegrator.store import gib_users

    day = today()
    period = f"{day.year:04d}-{day.month:02d}"
    first = day.replace(day=1)
    integrator = make_tenant(series="ENT")
    subscriber, prepaid_t, per_user = make_tenant(), make_tenant(), make_tenant()
    unbilled = make_tenant()  # no billing party: a statement, no invoice, the run goes on
    with runtime.db.system() as conn:  # two of them joined before the month
        for t in (subscriber, prepaid_t):
            conn.execute(
                text("UPDATE tenants SET created_at = :c WHERE tenant_id = :t"),
                {"c": dt.datetime(2025, 1, 1, tzinfo=dt.UTC), "t": t.tenant_id},
            )
    billing = BillingService(
        runtime.db,
        runtime.meter or Meter(),
        invoices=runtime.invoices,
        billing_tenant_vkn=integrator.vkn,
        series="ENT",
        clock=runtime.clock,
    )
    sub = billing.create_plan(
        name=plan_name("abone"),
        monthly_fee=Decimal("300"),
        included={"efatura": 2},
        unit_prices={"efatura": Decimal("1.50"), "earsiv": Decimal("1.00")},
    )
    pre = billing.create_plan(name=plan_name("kontor"), prepaid=True)
    usr = billing.create_plan(
        name=plan_name("kullanici"),
        monthly_fee=Decimal("50"),
        included={"users": 1},
        unit_prices={"users": Decimal("25"), "earsiv": Decimal("2")},
    )
    for t, p in ((subscriber, sub), (prepaid_t, pre), (per_user, usr), (unbilled, sub)):
        billing.assign(t.vkn, p.name, effective_from=first, actor="test")
    billing.add_credits(prepaid_t.vkn, 5, price=Decimal("100"), actor="test")
    for t in (integrator, subscriber, prepaid_t, per_user):
        billing.set_party(t.vkn, t.draft()["customer"] | {"vkn": t.vkn, "name": f"Test {t.vkn}"})
    for n, role in enumerate(("admin", "muhasebe", "viewer")):  # one included, two beyond
        runtime.accounts.create_user(
            per_user.tenant_id, email=f"kisi{n}@{per_user.vkn}.example", role=role, password=None
        )
    per_user.key(runtime, "accountant")  # a key is no person: not billed
    with subscriber.client() as c:
        for _ in range(3):
            subscriber.issue(c)
        subscriber.issue(c, profile="EARSIVFATURA")
    with prepaid_t.client() as c:
        prepaid_t.issue(c)
        prepaid_t.issue(c)
    with per_user.client() as c:
        per_user.issue(c, profile="EARSIVFATURA")
    with runtime.db.admin.connect() as conn, conn.begin():  # the subscriber is e-Fatura registered
        gib_users.replace_users(
            conn, [gib_users.GibUser(subscriber.vkn, "Abone", ["urn:mail:pk@abone.example"], [])]
        )
    try:
        results = {r.vkn: r for r in billing.run(period)}
        again = {r.vkn: r for r in billing.run(period)}
    finally:
        with runtime.db.admin.connect() as conn, conn.begin():
            gib_users.replace_users(conn, [])

    # An independent recomputation from the usage records.
    month_days = (
        first.replace(month=first.month % 12 + 1, year=first.year + first.month // 12) - first
    ).days
    days_left = month_days - day.day + 1

    def used(t: TenantHandle, kind: str) -> int:
        return sum(1 for k, _, _ in usage_rows(runtime, t) if k == kind)

    expected = {
        subscriber.vkn: Decimal(300)
        + max(0, used(subscriber, "efatura") - 2) * Decimal("1.50")
        + used(subscriber, "earsiv") * Decimal("1.00"),
        prepaid_t.vkn: Decimal(100),
        per_user.vkn: round_amount(Decimal(50) * days_left / month_days)
        + round_amount(2 * Decimal(25) * days_left / month_days)
        + used(per_user, "earsiv") * Decimal(2),
    }
    assert {v: results[v].total for v in expected} == expected
    assert expected[subscriber.vkn] == Decimal("302.50")
    assert all(results[v].created and results[v].invoice_issued for v in expected)
    assert results[unbilled.vkn].invoice_number is None
    assert "party" in (results[unbilled.vkn].note or "")
    statements = {s["vkn"]: s for s in billing.statements(period=period)}
    st = statements[prepaid_t.vkn]
    assert (st["credits_bought"], st["credits_used"]) == (5, 2)
    assert sum(Decimal(line["amount"]) for line in statements[subscriber.vkn]["lines"]) == Decimal(
        "302.50"
    )
    # A second run changes nothing and issues nothing.
    assert all(not again[v].created and not again[v].invoice_issued for v in expected)
    assert {v: again[v].invoice_number for v in expected} == {
        v: results[v].invoice_number for v in expected
    }
    # The run bills every tenant of the installation with a plan and details; tenants of
    # other tests may be among them, so this test counts its own customers' invoices.
    issued = [r for r in _issued(runtime, integrator) if r.receiver_id in expected]
    assert len(issued) == 3
    profiles = {r.receiver_id: r.profile for r in issued}
    assert profiles == {
        subscriber.vkn: "TEMELFATURA",
        prepaid_t.vkn: "EARSIVFATURA",
        per_user.vkn: "EARSIVFATURA",
    }
    assert all(r.number.startswith("ENT") for r in issued)
    # Signed with the integrator's seal; they pass GİB's rules and the signature verifies.
    run_jobs()
    from entegrator.rules import Purpose, Severity
    from entegrator.signing import verify
    from tests.testing.platform import DEV_CA

    validator = runtime.validator.for_purpose(Purpose.INBOUND)
    with integrator.client() as c:
        for r in issued:
            detail = c.get(f"/api/v1/invoices/{r.document_id}").json()
            assert detail["status"] in ("queued", "signed"), detail
            xml = c.get(f"/api/v1/invoices/{r.document_id}/xml").content
            report = validator.validate(xml, name="billing")
            assert report.valid, [
                f.to_dict() for f in report.findings if f.severity.value == "error"
            ]
            problems = [
                f.to_dict()
                for f in verify(xml, trust=[DEV_CA.certificate])
                if f.severity is Severity.ERROR
            ]
            assert problems == []


def test_gib_redelivering_an_incoming_invoice_bills_it_once(
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    base_url: str,
    run_jobs: Callable[[], None],
) -> None:
    from entegrator.envelope.sbdh import build as build_envelope
    from entegrator.envelope.zipping import pack
    from entegrator.gib.soap import SendDocument
    from tests.clock import now
    from tests.services.test_inbound import _envelope, _gib_call, _pk

    buyer = make_tenant()
    prepaid(runtime, buyer, 1)
    pk = _pk(runtime, buyer)
    packed, xml, supplier = _envelope(buyer.vkn, pk)
    for _ in range(2):  # GİB retries when it missed our answer
        _gib_call(base_url, SendDocument(packed.name, packed.data, packed.md5))
    # The same invoice in another envelope (a sender's retry): filed once, billed once.
    other = pack(
        build_envelope(
            [xml],
            sender_alias=f"urn:mail:gb{supplier}@other.example",
            receiver_alias=pk,
            created=now(),
        )
    )
    _gib_call(base_url, SendDocument(other.name, other.data, other.md5))
    run_jobs()
    run_jobs()
    rows = usage_rows(runtime, buyer)
    assert [k for k, _, _ in rows] == ["incoming"]
    with runtime.db.tenant(buyer.tenant_id) as conn:
        incoming = conn.execute(text("SELECT document_id FROM documents")).scalars().all()
    assert [d for _, _, d in rows] == incoming
    # Billed with a credit; a second one would take the balance below zero, never refused.
    assert runtime.billing.balance(buyer.tenant_id) == 0
