"""Pages from the Jinja2 templates in ``templates/``, with what every page needs.

``render(request, "page.html", title=..., **values)`` gives an HTML response; templates get
``_`` (translate into the page's language), ``lang``, ``user`` (or None), ``csrf_token``
(put ``{{ csrf_field() }}`` in every form), ``path`` (for the nav), and the filters
``money``, ``number``, ``percent``, ``date``, ``datetime`` (Turkish formats).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from entegrator.services.accounts import ActiveSession
from entegrator.web import formatting
from entegrator.web.auth import LANG_COOKIE, WRITE_ROLES
from entegrator.web.i18n import LANGUAGES, translate

__all__ = ["CONTENT_SECURITY_POLICY", "env", "language", "render", "security_headers"]

# Every asset is the portal's own (no CDN); no inline script; forms post to the portal only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)

env = Environment(
    loader=PackageLoader("entegrator.web", "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["money"] = formatting.money
env.filters["number"] = formatting.number
env.filters["percent"] = formatting.percent
env.filters["date"] = formatting.date
env.filters["datetime"] = formatting.datetime


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGUAGES else "tr"


def security_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    csrf_token: str | None = None,
    **values: Any,
) -> HTMLResponse:
    lang = language(request)
    session: ActiveSession | None = getattr(request.state, "portal_session", None)
    if session is not None and session.mfa_pending:
        session = None
    token = csrf_token or (session.csrf_token if session is not None else "")

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)

    def _(key: str, **kw: object) -> str:
        return translate(key, lang, **kw)

    user = session.user if session is not None else None
    context = {
        "request": request,
        "lang": lang,
        "_": _,
        "user": user,
        "can_write": user is not None and user.role in WRITE_ROLES,
        "is_admin": user is not None and user.role == "owner",
        "csrf_token": token,
        "csrf_field": csrf_field,
        "path": request.url.path,
        "billing_banner": getattr(request.state, "billing_banner", None) if user else None,
        "escape": escape,
        **values,
    }
    html = env.get_template(template).render(context)
    return HTMLResponse(
        html, status_code=status_code, headers={**security_headers(), **(headers or {})}
    )
