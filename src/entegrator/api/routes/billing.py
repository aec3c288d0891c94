"""Pricing and metering over HTTP (docs/billing.md).

* ``GET /api/v1/usage``: a tenant's balance, this month's usage per kind and its plan (any
  key of the tenant).
* ``/api/v1/admin/…``: the installation's operator, with ``ENTEGRATOR_ADMIN_KEY`` as the
  bearer token (never a tenant's key; closed when no key is configured): plans, plan
  assignments, credit top-ups, billing details, usage per tenant and the statements.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from entegrator.api.deps import Operator, Principal, RuntimeDep
from entegrator.api.responses import AUTH, BODY, errors

__all__ = ["admin", "router"]

router = APIRouter(prefix="/api/v1/usage", tags=["billing"])
admin = APIRouter(prefix="/api/v1/admin", tags=["operator"])

_MONEY = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
_RATE = r"^[0-9]{1,3}(\.[0-9]{1,2})?$"
_PERIOD = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
VKN = Annotated[str, Path(pattern=r"^[0-9]{10,11}$", description="The tenant's VKN/TCKN")]
PERIOD = Annotated[str | None, Query(pattern=_PERIOD, description="YYYY-MM; default: this month")]
KIND = r"^(efatura|earsiv|despatch|incoming|users|storage_gb)$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanIn(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    monthly_fee: str = Field(default="0", pattern=_MONEY, description="TRY, without KDV")
    kdv_rate: str = Field(default="20", pattern=_RATE, description="percent")
    prepaid: bool = False
    included: dict[Annotated[str, Field(pattern=KIND)], Annotated[int, Field(ge=0)]] = {}
    unit_prices: dict[
        Annotated[str, Field(pattern=KIND)], Annotated[str, Field(pattern=_MONEY)]
    ] = {}


class AssignIn(Strict):
    plan: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    effective_from: dt.date | None = Field(default=None, description="Default: today")


class CreditsIn(Strict):
    credits: int = Field(gt=0, le=1_000_000_000)
    price: str = Field(default="0", pattern=_MONEY, description="TRY, without KDV")
    kdv_rate: str = Field(default="20", pattern=_RATE)
    expires_on: dt.date | None = None


class BillingPartyIn(Strict):
    party: dict[str, Any] = Field(description="The tenant as an invoice party (a draft's customer)")
    emails: list[Annotated[str, Field(max_length=320)]] = Field(default=[], max_length=20)


@router.get(
    "",
    operation_id="get_usage",
    summary="The credit balance, this month's usage per kind and the plan",
    responses=errors(*AUTH, 422),
)
def get_usage(runtime: RuntimeDep, key: Principal, period: PERIOD = None) -> dict[str, Any]:
    return runtime.billing.usage(key.tenant_id, period=period)


@admin.get("/plans", operation_id="list_plans", summary="The plans", responses=errors(*AUTH, 403))
def list_plans(runtime: RuntimeDep, _: Operator) -> list[dict[str, Any]]:
    return [p.to_dict() for p in runtime.billing.plans()]


@admin.post(
    "/plans",
    status_code=201,
    operation_id="create_plan",
    summary="Define a plan",
    responses=errors(*AUTH, *BODY, 403, 409, 422),
)
def create_plan(body: PlanIn, runtime: RuntimeDep, _: Operator) -> dict[str, Any]:
    plan = runtime.billing.create_plan(
        name=body.name,
        monthly_fee=Decimal(body.monthly_fee),
        kdv_rate=Decimal(body.kdv_rate),
        prepaid=body.prepaid,
        included=dict(body.included),
        unit_prices={k: Decimal(v) for k, v in body.unit_prices.items()},
    )
    return plan.to_dict()


@admin.put(
    "/tenants/{vkn}/plan",
    operation_id="assign_plan",
    summary="Put a tenant on a plan from a day on; the plan history",
    responses=errors(*AUTH, *BODY, 403, 404, 422),
)
def assign_plan(vkn: VKN, body: AssignIn, runtime: RuntimeDep, _: Operator) -> dict[str, Any]:
    return runtime.billing.assign(
        vkn, body.plan, effective_from=body.effective_from, actor="operator"
    )


@admin.post(
    "/tenants/{vkn}/credits",
    status_code=201,
    operation_id="add_credits",
    summary="A credit package bought by a tenant",
    responses=errors(*AUTH, *BODY, 403, 404, 422),
)
def add_credits(vkn: VKN, body: CreditsIn, runtime: RuntimeDep, _: Operator) -> dict[str, Any]:
    return runtime.billing.add_credits(
        vkn,
        body.credits,
        price=Decimal(body.price),
        kdv_rate=Decimal(body.kdv_rate),
        expires_on=body.expires_on,
        actor="operator",
    )


@admin.put(
    "/tenants/{vkn}/billing",
    status_code=204,
    operation_id="set_billing_details",
    summary="A tenant's details on the integrator's invoices and its billing contacts",
    responses=errors(*AUTH, *BODY, 403, 404, 422),
)
def set_billing_details(vkn: VKN, body: BillingPartyIn, runtime: RuntimeDep, _: Operator) -> None:
    runtime.billing.set_party(vkn, body.party)
    runtime.billing.set_contacts(vkn, body.emails)


@admin.get(
    "/tenants/{vkn}/usage",
    operation_id="get_tenant_usage",
    summary="A tenant's balance, usage per kind in a month and its plan",
    responses=errors(*AUTH, 403, 404, 422),
)
def get_tenant_usage(
    vkn: VKN, runtime: RuntimeDep, _: Operator, period: PERIOD = None
) -> dict[str, Any]:
    return runtime.billing.tenant_usage(vkn, period=period)


@admin.get(
    "/statements",
    operation_id="list_statements",
    summary="Monthly statements (entegrator billing run), by period and tenant",
    responses=errors(*AUTH, 403, 404, 422),
)
def list_statements(
    runtime: RuntimeDep,
    _: Operator,
    period: PERIOD = None,
    vkn: Annotated[str | None, Query(pattern=r"^[0-9]{10,11}$")] = None,
) -> list[dict[str, Any]]:
    return runtime.billing.statements(vkn=vkn, period=period)
