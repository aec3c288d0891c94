"""The public view of a delivered invoice: ``/e/<token>``, no login.

The token (256 random bits, sent to the buyer by e-mail or SMS) is the only key: a token that
shows nothing answers 404 like an unknown one. The page is the invoice view with links to
its PDF and its signed XML (the legal original); none of the three is cached or indexed, and
the token never leaves in a Referer.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from entegrator.api.deps import RendererDep, RuntimeDep
from entegrator.api.responses import errors
from entegrator.rendering import CONTENT_SECURITY_POLICY
from entegrator.runtime import Runtime
from entegrator.services.errors import DocumentNotFoundError
from entegrator.store.documents import DocumentRow

__all__ = ["router"]

router = APIRouter(prefix="/e", tags=["public view"])

_PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}
# The invoice view's policy, with its download links allowed to download.
_PAGE_POLICY = CONTENT_SECURITY_POLICY.replace("sandbox;", "sandbox allow-downloads;")
_RESPONSES = errors(
    404,
    503,
    when={
        404: "No invoice behind this link (DOCUMENT_NOT_FOUND)",
        503: "The database is away, or the view could not be rendered in time "
        "(DATABASE_UNAVAILABLE, VIEW_BUSY, VIEW_UNAVAILABLE); see Retry-After",
    },
)


def _document(runtime: Runtime, token: str) -> tuple[DocumentRow, bytes]:
    found = runtime.deliveries.public_document(token)
    if found is None:
        raise DocumentNotFoundError
    return found


def _cancelled(doc: DocumentRow) -> bool:
    return doc.status == "cancelled"


def _name(doc: DocumentRow) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", doc.number or str(doc.ettn))


def _with_downloads(html: str, token: str) -> str:
    bar = (
        '<nav class="e-indir" style="font-family:sans-serif;padding:2mm;margin-bottom:2mm;'
        'border-bottom:1px solid #999">'
        f'<a href="{token}/pdf">PDF indir</a> · '
        f'<a href="{token}/xml" download>XML indir (faturanın yasal aslı, imzalı)</a>'
        "</nav><style>@media print { nav.e-indir { display: none } }</style>"
    )
    match = re.search(r"<body[^>]*>", html, flags=re.IGNORECASE)
    if match is None:
        return bar + html
    return html[: match.end()] + bar + html[match.end() :]


@router.get(
    "/{token}",
    operation_id="public_invoice_view",
    summary="The invoice a buyer was sent a link to (HTML, no login)",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}, **_RESPONSES},
)
async def public_invoice_view(token: str, runtime: RuntimeDep, renderer: RendererDep) -> Response:
    doc, xml = await run_in_threadpool(_document, runtime, token)
    logo = await run_in_threadpool(runtime.deliveries.public_logo, token)
    view = await renderer.html(xml, cancelled=_cancelled(doc), logo=logo)
    return Response(
        _with_downloads(view.html, token),
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": _PAGE_POLICY, **_PRIVATE},
    )


@router.get(
    "/{token}/pdf",
    operation_id="public_invoice_pdf",
    summary="The invoice a buyer was sent a link to, as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **_RESPONSES},
)
async def public_invoice_pdf(token: str, runtime: RuntimeDep, renderer: RendererDep) -> Response:
    doc, xml = await run_in_threadpool(_document, runtime, token)
    logo = await run_in_threadpool(runtime.deliveries.public_logo, token)
    view = await renderer.pdf(xml, cancelled=_cancelled(doc), logo=logo)
    return Response(
        view.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{_name(doc)}.pdf"', **_PRIVATE},
    )


@router.get(
    "/{token}/xml",
    operation_id="public_invoice_xml",
    summary="The signed UBL-TR XML (the legal original) a buyer was sent a link to",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **_RESPONSES},
)
def public_invoice_xml(token: str, runtime: RuntimeDep) -> Response:
    doc, xml = _document(runtime, token)
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{_name(doc)}.xml"', **_PRIVATE},
    )
