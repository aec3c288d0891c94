"""Incoming despatch advices for the portal's e-İrsaliye tests: delivered to a tenant through
the inbound service, as GİB's delivery would be."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from entegrator.documents.build import build_despatch
from entegrator.documents.model import DespatchDraft
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.runtime import Runtime
from entegrator.signing import sign
from entegrator.store import aliases
from entegrator.store.search import DocumentFilters, search_documents
from tests.clock import now
from tests.testing.platform import DEV_CA, TenantHandle, new_vkn

__all__ = ["DESPATCH_EXAMPLE", "receive_despatch"]

DESPATCH_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "despatch.json"


def _despatch_pk(runtime: Runtime, tenant: TenantHandle) -> str:
    with runtime.db.system() as conn:
        known = aliases.first_alias(conn, tenant.tenant_id, kind="PK", document="DespatchAdvice")
        if known is not None:
            return known
        pk = f"urn:mail:irsaliyepk{tenant.vkn}@entegrator.example"
        aliases.add_alias(
            conn,
            tenant.tenant_id,
            vkn_tckn=tenant.vkn,
            alias=pk,
            kind="PK",
            document="DespatchAdvice",
        )
        return pk


def receive_despatch(runtime: Runtime, tenant: TenantHandle, **changes: Any) -> str:
    """An incoming despatch advice (3 lines, as ``examples/api/despatch.json``) delivered to
    ``tenant``; its document id."""
    pk = _despatch_pk(runtime, tenant)
    supplier = new_vkn()
    data: dict[str, Any] = json.loads(DESPATCH_EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = supplier
    data["customer"]["vkn"] = tenant.vkn
    number = f"IRS2026{uuid.uuid4().int % 10**9:09d}"
    data |= {"number": number, "ettn": str(uuid.uuid4()).upper(), **changes}
    xml = build_despatch(DespatchDraft.model_validate(data))
    xml = sign(
        xml, DEV_CA.issue(identity=supplier, name="Gönderici", now=now()), signing_time=now()
    )
    packed = pack(
        build_envelope(
            [xml],
            sender_alias=f"urn:mail:irsaliyegb{supplier}@other.example",
            receiver_alias=pk,
            created=now(),
        )
    )
    received = runtime.inbound.receive(packed.name, packed.data, packed.md5)
    assert runtime.inbound.process_next(received.tenant_id)
    with runtime.db.tenant(tenant.tenant_id) as conn:
        found = search_documents(
            conn,
            tenant.tenant_id,
            direction="in",
            filters=DocumentFilters(number=number),
            limit=1,
            kind="despatch",
        )
    assert found, number
    return str(found[0].document_id)
