"""The API's own documentation pages, served with no request leaving the installation.

Swagger UI (``/docs``) and ReDoc (``/redoc``) load their scripts and styles from
``/docs/static`` (the files the ``fastapi-offline`` package ships), so they work offline and
behind a strict firewall; Swagger UI's online validator is off (it would send the API
description out). ``/`` leads to ``/docs`` with a relative ``Location`` that never echoes the
request's ``Host`` header.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "mount_docs"]

DOCS = "/docs"
STATIC = "/docs/static"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def mount_docs(app: FastAPI) -> None:
    """Add ``/``, ``/docs``, ``/redoc`` and their assets to ``app`` (built with
    ``docs_url=None, redoc_url=None``)."""
    assets = files("fastapi_offline") / "static"
    app.mount(STATIC, StaticFiles(directory=str(assets)), name="docs-static")
    app.include_router(_router(app.title, app.openapi_url or "/openapi.json"))


def _router(title: str, openapi_url: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", operation_id="root")
    async def root() -> RedirectResponse:
        return RedirectResponse(DOCS, status_code=307)

    @router.get(DOCS, operation_id="swagger_ui")
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @router.get(OAUTH2_REDIRECT, operation_id="swagger_ui_oauth2_redirect")
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get("/redoc", operation_id="redoc")
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC}/favicon.png",
            with_google_fonts=False,
        )

    return router
