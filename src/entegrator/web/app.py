"""The portal application: ``create_portal`` builds it, ``mount_portal`` puts it at ``/`` of
the API's application (``entegrator serve``), after the API's own routes.

Adding pages: a module in ``routes/`` with an ``APIRouter`` named ``router``, listed in
``ROUTERS``. Every POST goes through the CSRF guard; pages take ``CurrentUser``, ``Writer``
or ``Admin`` (``auth.py``) and answer with ``render`` (``render.py``).
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from entegrator.errors import EntegratorError
from entegrator.runtime import Runtime
from entegrator.web.auth import (
    CsrfRefusedError,
    ForbiddenPageError,
    LoginRequiredError,
    NotFoundPageError,
    csrf_guard,
)
from entegrator.web.i18n import translate
from entegrator.web.render import language, render, security_headers
from entegrator.web.routes import (
    account,
    despatches,
    imports,
    invoice_form,
    invoices,
    login,
    panel,
    partners,
    reports,
    settings,
)
from entegrator.web.throttle import AddressThrottle

__all__ = ["ROUTERS", "create_portal", "mount_portal"]

ROUTERS = [
    login.router,
    panel.router,
    invoice_form.router,  # /faturalar/yeni before /faturalar/{id}
    invoices.router,
    despatches.router,
    account.router,
    partners.router,
    reports.router,
    settings.router,
    imports.router,
]


def create_portal(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        dependencies=[Depends(csrf_guard)],
    )
    app.state.runtime = runtime
    app.state.login_throttle = AddressThrottle(
        runtime.settings.auth_failure_limit, runtime.settings.auth_failure_window_seconds
    )
    static = files("entegrator.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="portal-static")
    for router in ROUTERS:
        app.include_router(router)
    _register_handlers(app)
    return app


def mount_portal(api: FastAPI, runtime: Runtime) -> FastAPI:
    """The portal at ``/`` of ``api``: paths the API does not answer go to the portal."""
    portal = create_portal(runtime)
    # One set of view workers for both (the API's, which its lifespan warms and closes).
    portal.state.renderer = getattr(api.state, "renderer", None)
    # ``/`` is the portal's (the dashboard, or the login on the way): ahead of the API's own
    # redirect of ``/`` to its documentation (``/docs`` stays).
    api.router.routes.insert(0, Route("/", _to_dashboard, methods=["GET", "HEAD"]))
    api.mount("/", portal, name="portal")
    return portal


async def _to_dashboard(_request: Request) -> Response:
    return RedirectResponse("/panel", status_code=303)


def _page_error(request: Request, status: int, key: str, code: str | None = None) -> Response:
    lang = language(request)
    return render(
        request,
        "error.html",
        title=translate("error.title", lang),
        message=translate(key, lang),
        code=code,
        status_code=status,
    )


def _register_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequiredError)
    async def login_required(request: Request, exc: LoginRequiredError) -> Response:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        from urllib.parse import quote

        location = f"/giris?sonra={quote(target, safe='/')}" + ("&bitti=1" if exc.expired else "")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": location})
        if request.method != "GET":
            location = "/giris" + ("?bitti=1" if exc.expired else "")
        return RedirectResponse(location, status_code=303, headers=security_headers())

    @app.exception_handler(ForbiddenPageError)
    async def forbidden(request: Request, _exc: ForbiddenPageError) -> Response:
        return _page_error(request, 403, "error.forbidden", "FORBIDDEN")

    @app.exception_handler(CsrfRefusedError)
    async def csrf_refused(request: Request, _exc: CsrfRefusedError) -> Response:
        return _page_error(request, 403, "error.csrf", "CSRF_INVALID")

    @app.exception_handler(NotFoundPageError)
    async def not_found(request: Request, _exc: NotFoundPageError) -> Response:
        return _page_error(request, 404, "error.not_found", "NOT_FOUND")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(("/api/", "/gib")):  # the API's own shape
            return JSONResponse(
                {
                    "error": {
                        "code": "NOT_FOUND" if exc.status_code == 404 else "HTTP_ERROR",
                        "message_tr": "Bulunamadı" if exc.status_code == 404 else "Hata",
                        "message_en": "Not found" if exc.status_code == 404 else "Error",
                    }
                },
                status_code=exc.status_code,
            )
        if exc.status_code == 404:
            return _page_error(request, 404, "error.not_found", "NOT_FOUND")
        return _page_error(request, exc.status_code, "error.title", f"HTTP {exc.status_code}")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        lang = language(request)
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors())
        return render(
            request,
            "error.html",
            title=translate("error.title", lang),
            message=("Geçersiz değer: " if lang == "tr" else "Invalid value: ") + where,
            code="INVALID_PARAMETER",
            status_code=422,
        )

    @app.exception_handler(EntegratorError)
    async def entegrator_error(request: Request, exc: EntegratorError) -> Response:
        lang = language(request)
        status = exc.http_status if 400 <= exc.http_status < 600 else 500
        return render(
            request,
            "error.html",
            title=translate("error.title", lang),
            message=exc.text_en if lang == "en" else exc.text_tr,
            code=exc.code,
            status_code=status,
        )
