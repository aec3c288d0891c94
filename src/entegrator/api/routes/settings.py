"""Tenant settings: ``/api/v1/settings/series`` (the default series per kind of invoice)."""

from __future__ import annotations

from fastapi import APIRouter

from entegrator.api.deps import RuntimeDep, SettingsAdmin
from entegrator.api.responses import AUTH, BODY, errors
from entegrator.api.schemas import SeriesDefaults, SeriesDefaultsIn

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/settings", tags=["settings"])


@router.get(
    "/series",
    operation_id="get_series_defaults",
    summary="The default series (seri) per kind: e-Fatura, e-Arşiv, e-Arşiv internet sale",
    responses=errors(*AUTH, 403),
)
def get_series_defaults(runtime: RuntimeDep, key: SettingsAdmin) -> SeriesDefaults:
    return SeriesDefaults(**runtime.invoices.series_defaults(key.tenant_id).to_dict())


@router.put(
    "/series",
    operation_id="set_series_defaults",
    summary="Change default series; the kinds left out keep theirs",
    responses=errors(*AUTH, *BODY, 403, 422),
)
def set_series_defaults(
    body: SeriesDefaultsIn, runtime: RuntimeDep, key: SettingsAdmin
) -> SeriesDefaults:
    changed = runtime.invoices.set_series_defaults(
        key.tenant_id,
        actor=key.actor,
        efatura=body.efatura,
        earsiv=body.earsiv,
        internet=body.internet,
    )
    return SeriesDefaults(**changed.to_dict())
