"""Enrolment at GİB: ``/api/v1/gib/…`` (the tenant's owner only).

The same requests as ``entegrator gib enrol / cancel / alias-add / alias-close``: each is
stored with its USERENVELOPE (signed with the integrator seal) and answered 202 at once; the
worker sends it and follows GİB's answer, and the aliases become active when GİB's published
list shows them. ``GET /api/v1/gib`` says where the aliases and the requests stand.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from entegrator.api.deps import Owner, RuntimeDep
from entegrator.api.responses import AUTH, BODY, errors
from entegrator.documents.model._base import xml_safe

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/gib", tags=["gib"])

AliasName = Annotated[str, Field(min_length=1, max_length=250), AfterValidator(xml_safe)]


class EnrolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    despatch: bool = False  # also an e-İrsaliye user
    alias_pk: AliasName | None = None
    alias_gb: AliasName | None = None
    public: bool = False  # a public body: GİB's KAMU option codes


class AliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alias: AliasName
    kind: Literal["PK", "GB"] = "PK"
    despatch: bool = False


class AliasRef(BaseModel):
    kind: str
    alias: str


class GibRequest(BaseModel):
    """A user-account request at GİB: queued, sent, accepted, refused, listed or failed."""

    id: str
    action: str
    service: str
    aliases: list[AliasRef]
    envelope_id: str
    status: str
    gib_code: int | None
    gib_detail: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class GibAlias(BaseModel):
    alias: str
    kind: str
    document: str
    state: str  # pending, active, closing, closed
    listed_at: dt.datetime | None
    deleted_at: dt.datetime | None


class GibStanding(BaseModel):
    aliases: list[GibAlias]
    requests: list[GibRequest]


def _requests(items: list[Any]) -> list[GibRequest]:
    return [GibRequest(**r.to_dict()) for r in items]


_ERRORS = errors(
    *AUTH,
    *BODY,
    403,
    409,
    422,
    when={
        409: "No integrator seal to sign with (INTEGRATOR_SEAL_MISSING), or nothing open to "
        "close (GIB_NOT_ENROLLED)",
        422: "GİB's rules refuse the request (USER_ACCOUNT_INVALID, with GİB's rule id)",
    },
)


@router.get(
    "",
    operation_id="get_gib_standing",
    summary="The tenant's aliases at GİB and its user-account requests",
    responses=errors(*AUTH, 403),
)
async def standing(runtime: RuntimeDep, key: Owner) -> GibStanding:
    aliases = await run_in_threadpool(runtime.enrolment.aliases, key.tenant_id)
    requests = await run_in_threadpool(runtime.enrolment.requests, key.tenant_id)
    return GibStanding(
        aliases=[GibAlias(**a.to_dict()) for a in aliases], requests=_requests(requests)
    )


@router.post(
    "/enrol",
    operation_id="gib_enrol",
    summary="Make the tenant an e-Fatura (and e-İrsaliye) user at GİB",
    status_code=202,
    responses=_ERRORS,
)
async def enrol(body: EnrolIn, runtime: RuntimeDep, key: Owner) -> list[GibRequest]:
    found = await run_in_threadpool(
        lambda: runtime.enrolment.enrol(
            key.tenant_id,
            despatch=body.despatch,
            pk=body.alias_pk,
            gb=body.alias_gb,
            public=body.public,
            actor=key.actor,
        )
    )
    return _requests(found)


@router.post(
    "/aliases",
    operation_id="gib_add_alias",
    summary="Open one more alias at GİB",
    status_code=202,
    responses=_ERRORS,
)
async def add_alias(body: AliasIn, runtime: RuntimeDep, key: Owner) -> GibRequest:
    found = await run_in_threadpool(
        lambda: runtime.enrolment.add_alias(
            key.tenant_id,
            kind=body.kind,
            alias=body.alias,
            despatch=body.despatch,
            actor=key.actor,
        )
    )
    return _requests([found])[0]


@router.post(
    "/aliases/close",
    operation_id="gib_close_alias",
    summary="Close one alias at GİB",
    status_code=202,
    responses=_ERRORS,
)
async def close_alias(body: AliasIn, runtime: RuntimeDep, key: Owner) -> GibRequest:
    found = await run_in_threadpool(
        lambda: runtime.enrolment.close_alias(
            key.tenant_id,
            kind=body.kind,
            alias=body.alias,
            despatch=body.despatch,
            actor=key.actor,
        )
    )
    return _requests([found])[0]


@router.post(
    "/cancel",
    operation_id="gib_cancel",
    summary="The tenant leaves this integrator: every open alias closed at GİB",
    status_code=202,
    responses=errors(*AUTH, 403, 409),
)
async def cancel(runtime: RuntimeDep, key: Owner) -> list[GibRequest]:
    found = await run_in_threadpool(
        lambda: runtime.enrolment.cancel(key.tenant_id, actor=key.actor)
    )
    return _requests(found)
