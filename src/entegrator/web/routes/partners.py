"""``/cariler``: everyone the tenant traded with, their e-Fatura status, totals and documents."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from entegrator.runtime import Runtime
from entegrator.store import parties
from entegrator.store.documents import DocumentRow
from entegrator.web import forms_text as _texts  # noqa: F401 - registers the pages' words
from entegrator.web import labels
from entegrator.web.auth import CurrentUser, NotFoundPageError, RuntimeDep
from entegrator.web.i18n import translate
from entegrator.web.render import language, render

__all__ = ["router"]

router = APIRouter()


def _list(runtime: Runtime, user: CurrentUser, query: str | None) -> list[parties.Partner]:
    with runtime.db.tenant(user.tenant_id) as conn:
        return parties.partners(conn, user.tenant_id, query=query)


@router.get("/cariler", response_class=HTMLResponse)
async def partner_list(
    request: Request, runtime: RuntimeDep, user: CurrentUser, q: str | None = None
) -> Response:
    query = (q or "").strip()[:200] or None
    found = await run_in_threadpool(_list, runtime, user, query)
    return render(
        request,
        "forms/partners.html",
        title=translate("partners.title", language(request)),
        partners=found,
        q=query or "",
    )


def _one(
    runtime: Runtime, user: CurrentUser, identifier: str
) -> tuple[parties.Partner, list[DocumentRow]]:
    with runtime.db.tenant(user.tenant_id) as conn:
        partner = parties.partner(conn, user.tenant_id, identifier)
        if partner is None:
            raise NotFoundPageError
        return partner, parties.documents_with(conn, user.tenant_id, identifier)


@router.get("/cariler/{identifier}", response_class=HTMLResponse)
async def partner_page(
    request: Request, identifier: str, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    if not re.fullmatch(r"[0-9]{10,11}", identifier):
        raise NotFoundPageError
    partner, docs = await run_in_threadpool(_one, runtime, user, identifier)
    return render(
        request,
        "forms/partner.html",
        title=partner.name or identifier,
        partner=partner,
        docs=docs,
        labels=labels,
    )
