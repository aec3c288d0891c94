"""The company logo set in the portal's settings is printed on the views of what the company
issued: the API's HTML and PDF, the portal's, the buyer's public page and the e-mailed PDF."""

from __future__ import annotations

import io
from collections.abc import Callable

import segno

from entegrator.api.routes._documents import issuer_logo
from entegrator.runtime import Runtime
from entegrator.services import company
from tests.testing.platform import TenantHandle


def _png() -> bytes:
    out = io.BytesIO()
    segno.make("logo").save(out, kind="png", scale=4)
    return out.getvalue()


def test_the_issuers_logo_is_printed_on_its_views(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    tenant = make_tenant()
    with tenant.client() as c:
        issued = tenant.issue(c)
        run_jobs()
        before = c.get(f"/api/v1/invoices/{issued['id']}/html")
        assert before.status_code == 200 and "firma-logo" not in before.text
        company.save_logo(runtime.db, tenant.tenant_id, _png(), actor="test")
        html = c.get(f"/api/v1/invoices/{issued['id']}/html")
        pdf = c.get(f"/api/v1/invoices/{issued['id']}/pdf")
    assert html.status_code == 200 and 'class="firma-logo"' in html.text
    assert 'src="data:image/png;base64,' in html.text
    # The view's own limits still hold: the logo is inline, nothing is fetched.
    assert "img-src data:" in html.headers["Content-Security-Policy"]
    assert pdf.status_code == 200 and b"/Subtype /Image" in pdf.content


def test_a_received_document_shows_no_logo_of_the_receiver(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime
) -> None:
    tenant = make_tenant(seal=False)
    company.save_logo(runtime.db, tenant.tenant_id, _png(), actor="test")
    assert issuer_logo(runtime, tenant.tenant_id, "out") is not None
    assert issuer_logo(runtime, tenant.tenant_id, "in") is None
