"""The simulator's HTTP face: GİB's document service (SOAP), the published lists, an admin API.

Integrators authenticate with the token the admin API gave them (``Authorization: Bearer``);
the real GİB identifies them by their client certificate instead.
"""

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import BackgroundTasks, FastAPI, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from entegrator.documents.authorities import GIB_TITLE, GIB_VKN
from entegrator.documents.response import ResponseParty, build_system_response
from entegrator.gib import earsiv as earsiv_soap
from entegrator.gib.soap import (
    DocumentResponse,
    GetAppResp,
    GetAppRespResponse,
    SendDocument,
    SoapError,
    build,
    build_fault,
    parse_request,
    version_of,
)
from entegrator.gib.userlist import Alias, User
from entegrator.gibsim.earsiv import EarsivFault
from entegrator.gibsim.service import Simulator, SimulatorFault

__all__ = ["create_app"]

log = logging.getLogger(__name__)

SERVICE = "/EFaturaMerkez/services/EFatura"
EARSIV_SERVICE = "/earsiv/services/EArsivWsPort"
RECEIVED = "Döküman GIB tarafından alındı."
DELIVERY_BATCH = 20  # envelopes leased per round of deliveries


class IntegratorIn(BaseModel):
    integrator_id: str = Field(min_length=1, max_length=100)
    name: str
    vkn: str = Field(pattern=r"^[0-9]{10}$")  # its own VKN, the one its mali mühür carries
    endpoint: str | None = None  # its sendDocument service: where envelopes for it go
    delivery_token: str | None = None  # presented there as Authorization: Bearer


class AliasIn(BaseModel):
    name: str = Field(pattern=r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S{1,200}$")
    kind: str = Field(pattern="^(PK|GB)$")
    document: str = Field(default="Invoice", pattern="^(Invoice|DespatchAdvice)$")


class UserIn(BaseModel):
    identifier: str = Field(pattern=r"^[0-9]{10,11}$")
    title: str
    type: str = Field(default="OZEL", pattern="^(OZEL|KAMU)$")  # as GİB's list spells them
    account_type: str = Field(
        default="OZELENTEGRASYON", pattern="^(GIBPORTAL|ENTEGRASYON|OZELENTEGRASYON)$"
    )
    integrator_id: str
    aliases: list[AliasIn]


class FaultsIn(BaseModel):
    outage: bool = False
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    drop_deliveries: int = Field(default=0, ge=0, le=1000)
    delivery_timeout_ms: int = Field(default=0, ge=0, le=600_000)


def create_app(  # noqa: PLR0915 - the routes of one service
    sim: Simulator, *, admin_token: str | None = None, delivery_interval: float = 0.2
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()

        async def deliver_until_stopped() -> None:
            while not stop.is_set():
                busy = False
                try:
                    await run_in_threadpool(sim.process_stuck)
                    tried = await run_in_threadpool(sim.deliver_due, limit=DELIVERY_BATCH)
                    busy = tried >= DELIVERY_BATCH
                except Exception:  # the loop must outlive a lost connection
                    log.exception("delivery failed")
                if busy:
                    continue  # more are due: no pause
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delivery_interval)

        task = asyncio.create_task(deliver_until_stopped())
        try:
            yield
        finally:
            # Let a delivery under way finish: its thread holds a database connection.
            stop.set()
            await task

    app = FastAPI(
        title="GİB simulator",
        description="A stand-in for GİB, for tests and demos.",
        lifespan=lifespan,
    )

    def admin(token: str | None) -> None:
        if admin_token and token != f"Bearer {admin_token}":
            raise HTTPException(401, "admin token required")

    @app.post(SERVICE, response_class=Response)
    async def service(
        request: Request,
        background: BackgroundTasks,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        content_type = request.headers.get("content-type", "")
        version = version_of(content_type)
        faults = await run_in_threadpool(sim.faults)
        if faults.outage:
            return Response("GİB is unavailable (simulated outage)", status_code=503)
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        token = (authorization or "").removeprefix("Bearer ").strip()
        integrator = await run_in_threadpool(sim.integrator_of, token) if token else None
        if integrator is None:
            return Response("unknown integrator", status_code=401)
        body = await request.body()
        try:  # an action is checked when named, as GİB's WSDL names one; none is taken
            message = parse_request(
                content_type, body, soap_action=request.headers.get("soapaction")
            )
        except SoapError as exc:
            ct, xml = build_fault(2005, exc.text_tr, version=version, sender=True)
            return Response(xml, status_code=500, media_type=ct)
        if isinstance(message, SendDocument):
            try:
                intake = await run_in_threadpool(
                    sim.receive, integrator, message.file_name, message.data, message.hash
                )
            except SimulatorFault as fault:
                ct, xml = build_fault(fault.code, fault.msg, version=version)
                return Response(xml, status_code=500, media_type=ct)
            background.add_task(run_in_threadpool, sim.process, intake.envelope_id)
            ct, xml = build(DocumentResponse(RECEIVED, intake.md5), version=version)
            return Response(xml, media_type=ct)
        if not isinstance(message, GetAppResp):  # parse_request knows three operations
            raise TypeError(f"unexpected request {type(message).__name__}")
        found = await run_in_threadpool(sim.status_of, message.instance_identifier)
        if found is None:
            ct, xml = build_fault(2004, "Zarf bulunamadı", version=version)
            return Response(xml, status_code=500, media_type=ct)
        code, description, sender_vkn = found
        answer = build_system_response(
            envelope_id=message.instance_identifier.upper(),
            envelope_type="SENDERENVELOPE",
            code=code,
            description=description,
            sender=ResponseParty(GIB_VKN, GIB_TITLE),
            receiver=ResponseParty(sender_vkn, sender_vkn),
            envelope_date=dt.datetime.now(ZoneInfo("Europe/Istanbul")).date(),
            issued=dt.datetime.now(dt.UTC),
        )
        ct, xml = build(GetAppRespResponse(answer.decode()), version=version)
        return Response(xml, media_type=ct)

    @app.post(EARSIV_SERVICE, response_class=Response)
    async def earsiv_service(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        faults = await run_in_threadpool(sim.faults)
        if faults.outage:
            return Response("GİB is unavailable (simulated outage)", status_code=503)
        token = (authorization or "").removeprefix("Bearer ").strip()
        integrator = await run_in_threadpool(sim.integrator_of, token) if token else None
        if integrator is None:
            return Response("unknown integrator", status_code=401)
        body = await request.body()
        try:
            message = earsiv_soap.parse_request(request.headers.get("content-type", ""), body)
        except SoapError as exc:
            ct, xml = earsiv_soap.build_fault(1, exc.text_tr)
            return Response(xml, status_code=500, media_type=ct)
        try:
            if isinstance(message, earsiv_soap.SendDocumentFile):
                answer = await run_in_threadpool(
                    sim.earsiv.receive, integrator, message.file_name, message.data
                )
                ct, xml = earsiv_soap.build_send_response(answer)
                return Response(xml, media_type=ct)
            found = await run_in_threadpool(sim.earsiv.status, message.package_id)
            if found is None:
                raise EarsivFault(104, "Paket bulunamadı")
        except EarsivFault as fault:
            ct, xml = earsiv_soap.build_fault(fault.code, fault.message)
            return Response(xml, status_code=500, media_type=ct)
        code, description, vkn = found
        ct, xml = earsiv_soap.build_status_response(
            earsiv_soap.BatchStatus(code, description, message.package_id, vkn)
        )
        return Response(xml, media_type=ct)

    @app.get("/EFaturaMerkez/newUserPkListxml.zip")
    def pk_list() -> Response:
        return Response(sim.user_list().to_zip("PK"), media_type="application/zip")

    @app.get("/EFaturaMerkez/newUserGbListxml.zip")
    def gb_list() -> Response:
        return Response(sim.user_list().to_zip("GB"), media_type="application/zip")

    @app.get("/users/{identifier}")
    def lookup(identifier: str) -> dict[str, Any]:
        user = sim.user_list().lookup(identifier)
        if user is None:
            raise HTTPException(404, "not a registered user")
        return {
            "identifier": user.identifier,
            "title": user.title,
            "aliases": [
                {
                    "name": a.name,
                    "kind": a.kind,
                    "document": a.document,
                    "created": a.created.isoformat(),
                    "deleted": a.deleted.isoformat() if a.deleted else None,
                    "active": a.active(),
                }
                for a in user.aliases
            ],
        }

    @app.post("/admin/integrators")
    def add_integrator(
        body: IntegratorIn, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, str]:
        admin(authorization)
        token = sim.register_integrator(
            body.integrator_id, body.name, body.vkn, body.endpoint, body.delivery_token
        )
        return {"integrator_id": body.integrator_id, "token": token}

    @app.post("/admin/users")
    def add_user(
        body: UserIn, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        admin(authorization)
        now = dt.datetime.now(dt.UTC)
        user = User(
            body.identifier,
            body.title,
            body.type,
            body.account_type,
            now,
            tuple(Alias(a.name, a.kind, a.document, now) for a in body.aliases),  # type: ignore[arg-type]
        )
        try:
            sim.register_user(user, body.integrator_id)
        except Exception as exc:  # unknown integrator (foreign key), alias of another user
            raise HTTPException(422, f"cannot register: {type(exc).__name__}") from None
        return JSONResponse({"identifier": body.identifier}, status_code=201)

    @app.delete("/admin/aliases")
    def remove_alias(
        name: str,
        kind: str,
        document: str = "Invoice",
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, bool]:
        admin(authorization)
        return {"removed": sim.remove_alias(name, kind, document)}

    @app.put("/admin/faults")
    def faults(body: FaultsIn, authorization: Annotated[str | None, Header()] = None) -> FaultsIn:
        admin(authorization)
        sim.set_faults(**body.model_dump())
        return body

    @app.get("/admin/faults")
    def current_faults(authorization: Annotated[str | None, Header()] = None) -> FaultsIn:
        admin(authorization)
        return FaultsIn(**dataclasses.asdict(sim.faults()))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
