"""The REST API (FastAPI): ``/api/v1`` for ERPs and integrations, health and metrics.

``create_app`` builds the application from the runtime: middleware (the body limit, metrics
and the access log), the one place errors become answers (``handlers.py``), the routers, one
per resource (``routes/``), and the documentation pages served from local files
(``routes/docs.py``). Every error leaves as ``{"error": {code, message_tr, message_en,
where?}, "findings"?: [...]}`` with a 4xx/5xx status; nothing is stored for a request that
fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from entegrator import __version__
from entegrator.api import metrics
from entegrator.api.deps import KeyCache
from entegrator.api.gib import gib_router
from entegrator.api.handlers import register_handlers
from entegrator.api.middleware import BodyLimit
from entegrator.api.responses import only_declared_errors
from entegrator.api.routes import (
    archive,
    billing,
    changes,
    despatches,
    earsiv,
    enrolment,
    gib_users,
    imports,
    incoming,
    invoices,
    operations,
    public,
    reports,
    validate,
    webhooks,
)
from entegrator.api.routes import settings as settings_routes
from entegrator.api.routes.docs import mount_docs
from entegrator.api.throttle import FailureThrottle
from entegrator.rendering.sandbox import Renderer, RenderLimits
from entegrator.runtime import Runtime, WorkerHealth

__all__ = ["create_app"]


def create_app(runtime: Runtime, *, worker: WorkerHealth | None = None) -> FastAPI:
    """The API on ``runtime``; ``worker`` is the health of the worker this process runs
    beside it (``serve --with-worker``), which ``/readyz`` then reports."""
    settings = runtime.settings
    # Views run in limited worker processes; a request awaits its render without a thread.
    renderer = Renderer(
        RenderLimits(
            html_seconds=settings.view_html_seconds,
            pdf_seconds=settings.view_pdf_seconds,
            memory_mb=settings.view_memory_mb,
            concurrency=settings.view_concurrency,
            queue_seconds=settings.view_queue_seconds,
        )
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Requests do their CPU work (parsing, validating) in threads that share one GIL: a
        # few threads and a queue on the event loop beat many threads thrashing it.
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        warm = asyncio.create_task(renderer.warm())
        try:
            yield
        finally:
            warm.cancel()
            await renderer.aclose()

    app = FastAPI(
        lifespan=lifespan,
        # No trailing-slash redirects: they would echo the Host header back in Location.
        redirect_slashes=False,
        title="entegrator",
        version=__version__,
        description="Turkish e-document integrator: e-Fatura, e-Arşiv and e-İrsaliye through GİB.",
        docs_url=None,  # served from local files (routes/docs.py)
        redoc_url=None,
        generate_unique_id_function=_explicit_operation_id,
    )
    app.state.runtime = runtime
    app.state.renderer = renderer
    app.state.worker = worker
    app.state.throttle = FailureThrottle(
        settings.auth_failure_limit, settings.auth_failure_window_seconds
    )
    app.state.key_cache = KeyCache(runtime.settings.api_key_cache_seconds)

    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        timeout=settings.body_timeout_seconds,
        # A bulk import's upload is streamed to disk: larger, and given more time (the API's,
        # and the portal's upload form at /iceri-aktar).
        paths=dict.fromkeys(
            (imports.PREFIX, "/iceri-aktar"),
            (
                settings.import_max_bytes,
                max(settings.body_timeout_seconds, settings.import_upload_seconds),
            ),
        )
        | {
            archive.PREFIX: (
                settings.archive_import_max_bytes,
                max(settings.body_timeout_seconds, settings.import_upload_seconds),
            ),
        },
    )
    app.add_middleware(metrics.Middleware)
    register_handlers(app)

    for module in (
        invoices,
        imports,
        archive,
        incoming,
        despatches,
        earsiv,
        webhooks,
        settings_routes,
        enrolment,
        validate,
        operations,
        public,
        billing,
        changes,
        gib_users,
        reports,
    ):
        app.include_router(module.router)
    app.include_router(billing.admin)
    app.include_router(despatches.incoming_router)
    app.include_router(gib_router(runtime, via_tls=False))
    mount_docs(app)
    _document_declared_errors_only(app)
    return app


def _document_declared_errors_only(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = only_declared_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _explicit_operation_id(route: APIRoute) -> str:
    """Every documented route names its operation id: clients generated from the OpenAPI
    document keep their method names when a function is renamed."""
    if route.include_in_schema:
        raise RuntimeError(f"{route.path} {sorted(route.methods or ())}: no operation_id")
    return route.name
