"""Operations: ``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Response

from entegrator.api import metrics
from entegrator.api.deps import RuntimeDep, WorkerDep
from entegrator.api.handlers import RETRY_AFTER_SECONDS
from entegrator.api.responses import errors
from entegrator.api.schemas import Health, Ready, ReadyWarning, RulePackRef
from entegrator.runtime import Runtime, WorkerStatus

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])


# On the event loop, not in the request threads: it answers while they are all busy.
@router.get("/healthz", operation_id="healthz", summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="The database answers and is migrated, and the worker (if any) is running",
    response_model_exclude_unset=True,
    responses={503: {"model": Ready, "description": "Not ready: the body says why"}},
)
def readyz(response: Response, runtime: RuntimeDep, worker: WorkerDep) -> Ready:
    # Read once: the worker may change state meanwhile, and the answer must agree with itself.
    working = None if worker is None else worker.status
    state = "absent" if working is None else str(working)
    try:
        revision = runtime.db.revision()
    except Exception as exc:  # any failure means: not ready
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return Ready(status="unavailable", detail=type(exc).__name__, worker=state)
    head = runtime.db.head()
    if revision != head:
        status = "migrating"
    elif working is not None and working is not WorkerStatus.RUNNING:
        status = "unavailable"  # nothing would sign what this process accepts
    else:
        status = "ready"
    response.status_code = 200 if status == "ready" else 503
    pack, warnings = runtime.rules_status()
    ready = Ready(
        status=status, revision=revision, head=head, worker=state, rules_pack=RulePackRef(**pack)
    )
    found = [ReadyWarning(**w.to_dict()) for w in warnings]
    if status == "ready":
        found.extend(_earsiv_warnings(runtime))
    if found:  # absent when there is nothing to say
        ready.warnings = found
    return ready


def _earsiv_warnings(runtime: Runtime) -> list[ReadyWarning]:
    """Overdue e-Arşiv invoices: a warning (and the gauge), never a reason to be unready."""
    try:
        late = sum(runtime.earsiv.overdue().values())
    except Exception:  # a warning that cannot be computed is no warning
        log.exception("counting overdue e-Arşiv invoices failed")
        return []
    metrics.EARSIV_OVERDUE.set(late)
    if not late:
        return []
    return [
        ReadyWarning(
            code="EARSIV_OVERDUE",
            message_tr=f"{late} e-Arşiv faturası rapor süresini geçti",
            message_en=f"{late} e-Arşiv invoices are past their report deadline",
        )
    ]


@router.get(
    "/metrics",
    operation_id="get_metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}},
        **errors(403, when={403: "Metrics are not open here (METRICS_CLOSED)"}),
    },
)
def get_metrics(
    runtime: RuntimeDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    metrics.check_access(runtime.settings, authorization)
    data, media_type = metrics.render()
    return Response(data, media_type=media_type)
