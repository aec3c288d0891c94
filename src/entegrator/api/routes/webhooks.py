"""Webhooks: ``/api/v1/webhooks`` (the ERP's endpoints and what was sent to them)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from entegrator.api.deps import RuntimeDep, WebhookAdmin
from entegrator.api.errors import WebhookNotFoundError
from entegrator.api.responses import AUTH, BODY, errors
from entegrator.api.schemas import DeliveryList, WebhookCreated, WebhookList

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


class WebhookIn(BaseModel):
    url: Annotated[str, Field(max_length=2000)]
    events: list[str] | None = None


def _webhook_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise WebhookNotFoundError from None


@router.post(
    "",
    status_code=201,
    operation_id="create_webhook",
    summary="Register an ERP endpoint; the answer shows its signing secret once",
    responses=errors(*AUTH, *BODY, 403, 422),
)
def create_webhook(body: WebhookIn, runtime: RuntimeDep, key: WebhookAdmin) -> WebhookCreated:
    return WebhookCreated(**runtime.webhooks.register(key, body.url, body.events))


@router.get(
    "",
    operation_id="list_webhooks",
    summary="The tenant's endpoints",
    responses=errors(*AUTH, 403),
)
def list_webhooks(runtime: RuntimeDep, key: WebhookAdmin) -> WebhookList:
    return WebhookList.model_validate({"items": runtime.webhooks.endpoints_of(key)})


@router.delete(
    "/{webhook_id}",
    status_code=204,
    operation_id="delete_webhook",
    summary="Stop notifying an endpoint",
    responses=errors(*AUTH, 403, 404),
)
def delete_webhook(webhook_id: str, runtime: RuntimeDep, key: WebhookAdmin) -> None:
    if not runtime.webhooks.unregister(key, _webhook_id(webhook_id)):
        raise WebhookNotFoundError


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="list_webhook_deliveries",
    summary="What was sent to an endpoint, newest first, with each one's outcome",
    responses=errors(*AUTH, 403, 404),
)
def list_webhook_deliveries(
    webhook_id: str, runtime: RuntimeDep, key: WebhookAdmin
) -> DeliveryList:
    items = runtime.webhooks.deliveries_of(key, _webhook_id(webhook_id))
    if items is None:
        raise WebhookNotFoundError
    return DeliveryList.model_validate({"items": items})
