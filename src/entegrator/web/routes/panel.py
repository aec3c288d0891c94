"""``/`` and ``/panel``: the dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from entegrator.web.auth import CurrentUser, OptionalSession
from entegrator.web.i18n import translate
from entegrator.web.render import language, render

__all__ = ["router"]

router = APIRouter()


@router.get("/")
async def home(session: OptionalSession) -> Response:
    live = session is not None and not session.mfa_pending
    return RedirectResponse("/panel" if live else "/giris", status_code=303)


@router.get("/panel", response_class=HTMLResponse)
async def panel(request: Request, user: CurrentUser) -> Response:
    return render(request, "panel.html", title=translate("nav.panel", language(request)))
