"""The OpenAPI document is a contract: explicit operation ids, every answer a route can give
declared (errors with the ``Error`` schema); the documentation pages work offline; ``/`` leads
to them; every request leaves one access-log line."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import httpx
import pytest

from tests.testing.platform import TenantHandle

AUTH = {401, 429, 503}  # behind an API key: no or wrong key, throttled, database away
BODY = {408, 413}  # reads a body: too slow, too large
READ = AUTH | {200, 404}
FILE = READ | {409}  # before the worker signed it (and 503: no view could be rendered)
SEARCH = AUTH | {200, 422}
ANSWER = AUTH | BODY | {200, 403, 404, 409, 422}
PUBLIC = {200, 404, 503}  # no login: the token is the key

# operation id -> (method, path, the statuses it can answer). A new route must be added here.
EXPECTED: dict[str, tuple[str, str, set[int]]] = {
    "issue_invoice": ("post", "/api/v1/invoices", AUTH | BODY | {201, 402, 403, 409, 415, 422}),
    "search_invoices": ("get", "/api/v1/invoices", SEARCH),
    "get_invoice": ("get", "/api/v1/invoices/{document_id}", READ),
    "get_invoice_xml": ("get", "/api/v1/invoices/{document_id}/xml", FILE),
    "get_invoice_html": ("get", "/api/v1/invoices/{document_id}/html", FILE),
    "get_invoice_pdf": ("get", "/api/v1/invoices/{document_id}/pdf", FILE),
    "cancel_invoice": (
        "post",
        "/api/v1/invoices/{document_id}/cancel",
        AUTH | BODY | {200, 403, 404, 409, 422},
    ),
    "list_earsiv_reports": ("get", "/api/v1/earsiv/reports", SEARCH),
    "get_earsiv_report": ("get", "/api/v1/earsiv/reports/{report_id}", READ),
    "get_earsiv_report_xml": ("get", "/api/v1/earsiv/reports/{report_id}/xml", READ),
    "deliver_invoice": (
        "post",
        "/api/v1/invoices/{document_id}/deliveries",
        AUTH | BODY | {202, 403, 404, 409, 422},
    ),
    "list_invoice_deliveries": ("get", "/api/v1/invoices/{document_id}/deliveries", READ),
    "public_invoice_view": ("get", "/e/{token}", PUBLIC),
    "public_invoice_pdf": ("get", "/e/{token}/pdf", PUBLIC),
    "public_invoice_xml": ("get", "/e/{token}/xml", PUBLIC),
    "search_incoming": ("get", "/api/v1/incoming", SEARCH),
    "get_incoming": ("get", "/api/v1/incoming/{document_id}", READ),
    "get_incoming_xml": ("get", "/api/v1/incoming/{document_id}/xml", FILE),
    "get_incoming_html": ("get", "/api/v1/incoming/{document_id}/html", FILE),
    "get_incoming_pdf": ("get", "/api/v1/incoming/{document_id}/pdf", FILE),
    "accept_incoming": ("post", "/api/v1/incoming/{document_id}/accept", ANSWER),
    "reject_incoming": ("post", "/api/v1/incoming/{document_id}/reject", ANSWER),
    "issue_despatch": ("post", "/api/v1/despatches", AUTH | BODY | {201, 402, 403, 409, 415, 422}),
    "search_despatches": ("get", "/api/v1/despatches", SEARCH),
    "get_despatch": ("get", "/api/v1/despatches/{document_id}", READ),
    "get_despatch_xml": ("get", "/api/v1/despatches/{document_id}/xml", FILE),
    "get_despatch_html": ("get", "/api/v1/despatches/{document_id}/html", FILE),
    "get_despatch_pdf": ("get", "/api/v1/despatches/{document_id}/pdf", FILE),
    "get_despatch_receipt": ("get", "/api/v1/despatches/{document_id}/receipt", READ),
    "search_incoming_despatches": ("get", "/api/v1/incoming-despatches", SEARCH),
    "get_incoming_despatch": ("get", "/api/v1/incoming-despatches/{document_id}", READ),
    "get_incoming_despatch_xml": (
        "get",
        "/api/v1/incoming-despatches/{document_id}/xml",
        FILE,
    ),
    "get_incoming_despatch_html": (
        "get",
        "/api/v1/incoming-despatches/{document_id}/html",
        FILE,
    ),
    "get_incoming_despatch_pdf": (
        "get",
        "/api/v1/incoming-despatches/{document_id}/pdf",
        FILE,
    ),
    "answer_incoming_despatch": (
        "post",
        "/api/v1/incoming-despatches/{document_id}/receipt",
        ANSWER,
    ),
    "get_incoming_despatch_receipt": (
        "get",
        "/api/v1/incoming-despatches/{document_id}/receipt",
        READ,
    ),
    "create_webhook": ("post", "/api/v1/webhooks", AUTH | BODY | {201, 403, 422}),
    "create_import": ("post", "/api/v1/imports", AUTH | BODY | {202, 403, 415, 422}),
    "import_archive": ("post", "/api/v1/archive/imports", AUTH | BODY | {200, 403, 422}),
    "list_imports": ("get", "/api/v1/imports", SEARCH),
    "get_import": ("get", "/api/v1/imports/{import_id}", READ | {422}),
    "list_webhooks": ("get", "/api/v1/webhooks", AUTH | {200, 403}),
    "delete_webhook": ("delete", "/api/v1/webhooks/{webhook_id}", AUTH | {204, 403, 404}),
    "list_webhook_deliveries": (
        "get",
        "/api/v1/webhooks/{webhook_id}/deliveries",
        AUTH | {200, 403, 404},
    ),
    "get_series_defaults": ("get", "/api/v1/settings/series", AUTH | {200, 403}),
    "set_series_defaults": ("put", "/api/v1/settings/series", AUTH | BODY | {200, 403, 422}),
    "get_usage": ("get", "/api/v1/usage", AUTH | {200, 422}),
    "list_plans": ("get", "/api/v1/admin/plans", AUTH | {200, 403}),
    "create_plan": ("post", "/api/v1/admin/plans", AUTH | BODY | {201, 403, 409, 422}),
    "assign_plan": ("put", "/api/v1/admin/tenants/{vkn}/plan", AUTH | BODY | {200, 403, 404, 422}),
    "add_credits": (
        "post",
        "/api/v1/admin/tenants/{vkn}/credits",
        AUTH | BODY | {201, 403, 404, 422},
    ),
    "set_billing_details": (
        "put",
        "/api/v1/admin/tenants/{vkn}/billing",
        AUTH | BODY | {204, 403, 404, 422},
    ),
    "get_tenant_usage": ("get", "/api/v1/admin/tenants/{vkn}/usage", AUTH | {200, 403, 404, 422}),
    "list_statements": ("get", "/api/v1/admin/statements", AUTH | {200, 403, 404, 422}),
    "validate_document": ("post", "/api/v1/validate", AUTH | BODY | {200, 422}),
    "get_gib_standing": ("get", "/api/v1/gib", AUTH | {200, 403}),
    "gib_enrol": ("post", "/api/v1/gib/enrol", AUTH | BODY | {202, 403, 409, 422}),
    "gib_add_alias": ("post", "/api/v1/gib/aliases", AUTH | BODY | {202, 403, 409, 422}),
    "gib_close_alias": ("post", "/api/v1/gib/aliases/close", AUTH | BODY | {202, 403, 409, 422}),
    "gib_cancel": ("post", "/api/v1/gib/cancel", AUTH | {202, 403, 409}),
    "healthz": ("get", "/healthz", {200}),
    "readyz": ("get", "/readyz", {200, 503}),
    "get_metrics": ("get", "/metrics", {200, 403}),
    "gib_send_document": ("post", "/gib/EFatura", BODY | {200, 401, 403, 500, 503}),
    "acknowledge_incoming": ("post", "/api/v1/incoming/ack", AUTH | BODY | {200, 403, 422}),
    "list_changes": ("get", "/api/v1/changes", SEARCH),
    "get_gib_user": ("get", "/api/v1/gib-users/{vkn_or_tckn}", SEARCH),
    "lookup_gib_users": ("post", "/api/v1/gib-users", AUTH | BODY | {200, 422}),
    "report_kdv": ("get", "/api/v1/reports/kdv", SEARCH),
    "report_partners": ("get", "/api/v1/reports/partners", SEARCH),
    "report_counts": ("get", "/api/v1/reports/counts", SEARCH),
    "export_documents": ("get", "/api/v1/exports", AUTH | {200, 403, 422}),
}
# Error statuses whose body is not the Error shape: /readyz says why it is not ready in its
# own body; GİB's endpoint answers SOAP faults.
NOT_ERROR_SHAPED = {("readyz", 503): "Ready", ("gib_send_document", 500): None}
ERROR = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def spec(base_url: str) -> dict[str, Any]:
    with httpx.Client(base_url=base_url) as c:
        answer = c.get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_every_route_has_its_explicit_operation_id(spec: dict[str, Any]) -> None:
    found = {op["operationId"]: (method, path) for method, path, op in _operations(spec)}
    assert len(found) == len(_operations(spec)), "operation ids must be unique"
    assert found == {name: (m, p) for name, (m, p, _codes) in EXPECTED.items()}


@pytest.mark.parametrize("operation_id", sorted(EXPECTED))
def test_every_status_a_route_can_answer_is_declared(
    spec: dict[str, Any], operation_id: str
) -> None:
    method, path, codes = EXPECTED[operation_id]
    declared = spec["paths"][path][method]["responses"]
    assert {int(c) for c in declared} == codes
    for code, answer in declared.items():
        if int(code) < 400:
            continue
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        exempt = (operation_id, int(code))
        if exempt in NOT_ERROR_SHAPED:
            name = NOT_ERROR_SHAPED[exempt]
            assert schema.get("$ref") == (f"#/components/schemas/{name}" if name else None)
        else:
            assert schema == {"$ref": ERROR}, f"{operation_id} {code}"


def test_the_error_schema_is_the_error_shape(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert set(schemas["Error"]["properties"]) == {"error", "findings", "truncated"}
    assert schemas["Error"]["required"] == ["error"]
    detail = schemas["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message_tr", "message_en", "where"}
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 shape is never sent


def test_an_undeclared_operation_id_is_refused() -> None:
    from fastapi import APIRouter, FastAPI

    from entegrator.api.app import _explicit_operation_id

    app = FastAPI(generate_unique_id_function=_explicit_operation_id)
    router = APIRouter()

    @router.get("/new")
    def new() -> None: ...

    with pytest.raises(RuntimeError, match="no operation_id"):
        app.include_router(router)
        app.openapi()


_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
_ASSETS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_documentation_pages_load_nothing_from_outside(base_url: str, page: str) -> None:
    with httpx.Client(base_url=base_url) as c:
        html = c.get(page)
        assert html.status_code == 200
        assert "text/html" in html.headers["content-type"]
        assert not re.search(r"https?://", html.text), "an outside URL in the page"
        assert not _EXTERNAL.search(html.text)
        assets = _ASSETS.findall(html.text)
        assert any(a.endswith(".js") for a in assets)
        for asset in assets:
            assert asset.startswith("/docs/static/"), asset
            loaded = c.get(asset)
            assert loaded.status_code == 200, asset
            assert len(loaded.content) > 1000, asset
        assert "openapi.json" in html.text


def test_the_swagger_ui_script_is_the_one_shipped(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as c:
        script = c.get("/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert b"SwaggerUIBundle" in script.content


def test_root_redirects_to_the_docs_without_echoing_the_host(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as c:
        answer = c.get("/", headers={"Host": "evil.example"})
    assert answer.status_code in (307, 308)
    assert answer.headers["location"] == "/docs"


def test_each_request_leaves_one_access_log_line(
    base_url: str, tenant: TenantHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="entegrator.access")
    secret = "QUERY-SECRET-123"
    with tenant.client() as c:
        answer = c.get(f"/api/v1/invoices/0190a1b2-0000-7000-8000-000000000000?x={secret}")
    assert answer.status_code == 404

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "entegrator.access"]

    # The line is written once the answer has gone out: give the server a moment.
    deadline = time.monotonic() + 10
    while not lines() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    assert len(lines()) == 1, lines()
    assert re.fullmatch(r"GET /api/v1/invoices/\{document_id\} 404 \d+\.\dms", lines()[0])
    assert secret not in caplog.text
    assert tenant.token not in caplog.text
    caplog.clear()
    assert httpx.get(f"{base_url}/openapi.json").status_code == 200
    deadline = time.monotonic() + 10
    while not lines() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [line.rsplit(" ", 1)[0] for line in lines()] == ["GET /openapi.json 200"]
