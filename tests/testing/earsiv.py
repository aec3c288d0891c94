"""e-Arşiv test helpers: the simulator with GİB's report service, a preparing integrator,
e-Arşiv invoices issued at chosen instants and signed.

GİB's report schema is read in place from ``shared/gib-packages/earsiv-report/`` (skipped with
a reason when absent), never copied.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entegrator.clock import utc_now
from entegrator.documents.model import InvoiceDraft
from entegrator.gib.earsiv import EArsivClient
from entegrator.gibsim.app import EARSIV_SERVICE, create_app
from entegrator.gibsim.service import Simulator
from entegrator.gibsim.transport import InProcessTransport
from entegrator.runtime import Runtime
from entegrator.services.earsiv_reports import EarsivConfig, EarsivReports
from entegrator.services.invoices import InvoiceService
from entegrator.store import repo
from tests.clock import fixed
from tests.testing.platform import DEV_CA, EXAMPLE, TenantHandle

__all__ = [
    "EARSIV_XSD",
    "Earsiv",
    "earsiv_package",
    "issue_earsiv",
    "istanbul",
    "make_earsiv",
]

PACKAGES = Path(__file__).resolve().parents[3] / "shared" / "gib-packages" / "earsiv-report"
EARSIV_XSD = PACKAGES / "EArsiv.xsd"
ISTANBUL = dt.timezone(dt.timedelta(hours=3))  # no daylight saving since 2016


def istanbul(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An Istanbul wall-clock moment, as an aware datetime."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=ISTANBUL)


def earsiv_package() -> Path:
    if not EARSIV_XSD.is_file():
        pytest.skip(f"GİB's e-Arşiv report package not found at {PACKAGES}")
    return PACKAGES


@dataclass
class Earsiv:
    """The simulator, its integrator's token and a report service preparing as it."""

    simulator: Simulator
    token: str
    preparer: TenantHandle

    def reports(
        self, runtime: Runtime, *, at: dt.datetime | None = None, max_entries: int = 5000
    ) -> EarsivReports:
        """The report service; ``at``: its clock (by default the real one: reports are
        signed with seals issued today)."""
        client = EArsivClient(
            f"http://gib.invalid{EARSIV_SERVICE}",
            transport=InProcessTransport(create_app(self.simulator), token=self.token),
        )
        config = EarsivConfig(
            preparer_vkn=self.preparer.vkn,
            view_url="https://fatura.example/e/{ettn}",
            max_entries=max_entries,
        )
        return EarsivReports(
            runtime.db, runtime.seal_keys, config, client=client, clock=fixed(at) if at else utc_now
        )


def make_earsiv(database_url: str, preparer: TenantHandle) -> Iterator[Earsiv]:
    sim = Simulator(database_url, ca=DEV_CA, earsiv_schema=earsiv_package() / "EArsiv.xsd")
    sim.create_schema()
    token = sim.register_integrator(f"I{uuid.uuid4().hex[:8]}", "Entegratör", preparer.vkn, None)
    try:
        yield Earsiv(sim, token, preparer)
    finally:
        sim.dispose()


def issue_earsiv(
    runtime: Runtime, tenant: TenantHandle, at: dt.datetime, **changes: Any
) -> uuid.UUID:
    """Issue an e-Arşiv invoice as if it reached the platform at ``at``, then sign it."""
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = tenant.vkn
    data["profile"] = "EARSIVFATURA"
    data["issue_date"] = at.astimezone(ISTANBUL).date().isoformat()
    data.update(changes)
    with runtime.db.system() as conn:
        _, key = repo.create_api_key(conn, tenant.tenant_id, role="api", name="earsiv")
    service = InvoiceService(runtime.db, runtime.validator, clock=fixed(at))
    result = service.issue(key, draft=InvoiceDraft.model_validate(data))
    runtime.signing.sign_pending(tenant.tenant_id)
    return uuid.UUID(str(result.id))
