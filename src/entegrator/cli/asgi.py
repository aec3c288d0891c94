"""The whole web application (the API and the portal at ``/``) built from the environment
(``ENTEGRATOR_*``), for process managers. ``entegrator serve --workers N`` uses it::

    uvicorn --factory entegrator.cli.asgi:create --workers 4

(``entegrator.api.asgi:create`` is the API alone.)
"""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["create"]


def create() -> FastAPI:
    import sys

    from entegrator.api.app import create_app
    from entegrator.config import Settings
    from entegrator.runtime import Runtime
    from entegrator.web.app import mount_portal

    sys.setswitchinterval(0.0005)  # as `entegrator serve` does (see there)
    runtime = Runtime.from_settings(Settings())
    runtime.validator  # noqa: B018 - compile the rules before the first request
    app = create_app(runtime)
    mount_portal(app, runtime)
    return app
