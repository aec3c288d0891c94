"""The ASGI application built from the environment (``ENTEGRATOR_*``), for process managers.

``entegrator serve --workers N`` uses it; so can any ASGI server::

    uvicorn --factory entegrator.api.asgi:create --workers 4
"""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["create"]


def create() -> FastAPI:
    import sys

    from entegrator.api.app import create_app
    from entegrator.config import Settings
    from entegrator.runtime import Runtime

    sys.setswitchinterval(0.0005)  # as `entegrator serve` does (see there)
    runtime = Runtime.from_settings(Settings())
    runtime.validator  # noqa: B018 - compile the rules before the first request
    return create_app(runtime)
