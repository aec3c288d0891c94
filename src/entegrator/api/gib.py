"""``/gib/EFatura``: GİB's ``sendDocument`` and ``getApplicationResponse`` as GİB calls them on us.

The endpoint fails closed. A call is let in only when

* trust anchors are configured (``ENTEGRATOR_GIB_TRUST_ANCHORS``): the signatures on what is
  delivered must chain to them, and without them nothing could be checked; and
* the caller is GİB: it arrived on the mutual-TLS listener (its client certificate chains to
  ``ENTEGRATOR_GIB_INBOUND_CLIENT_CA``), or it presents ``ENTEGRATOR_GIB_INBOUND_TOKEN``
  (compared in constant time), or the installation runs the explicitly open mode
  (``ENTEGRATOR_GIB_INBOUND_OPEN``, for a simulator on loopback).

The caller is checked before the body is read, and the SOAP message is parsed off the event loop.
The message is read as GİB's WSDL describes it; an action (SOAP 1.2 Content-Type ``action``, SOAP
1.1 ``SOAPAction``) that names another operation than the body is a SOAP fault, none is taken.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
from typing import Annotated

import uvicorn
from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from entegrator.api.errors import GibCallerUnknownError, GibEndpointClosedError
from entegrator.api.middleware import BodyLimit
from entegrator.api.responses import BODY, errors
from entegrator.config import Settings
from entegrator.errors import EntegratorError
from entegrator.runtime import Runtime

__all__ = ["GIB_PATH", "check_caller", "create_gib_app", "gib_router", "tls_server"]

GIB_PATH = "/gib/EFatura"


def check_caller(settings: Settings, authorization: str | None, *, via_tls: bool) -> None:
    """Raise unless the installation takes GİB calls and this caller is GİB."""
    if settings.gib_trust_anchors is None:
        raise GibEndpointClosedError(
            detail_tr="güvenilen sertifikalar tanımlı değil (ENTEGRATOR_GIB_TRUST_ANCHORS)",
            detail_en="no trust anchors are configured (ENTEGRATOR_GIB_TRUST_ANCHORS)",
        )
    if via_tls or settings.gib_inbound_open:
        return
    token = settings.gib_inbound_token
    if token is None or not token.get_secret_value():
        raise GibEndpointClosedError(
            detail_tr="arayan doğrulanamaz: ENTEGRATOR_GIB_INBOUND_TOKEN ya da karşılıklı TLS "
            "tanımlı değil",
            detail_en="callers cannot be authenticated: neither ENTEGRATOR_GIB_INBOUND_TOKEN "
            "nor mutual TLS is configured",
        )
    expected = f"Bearer {token.get_secret_value()}".encode()
    if not hmac.compare_digest((authorization or "").encode(), expected):
        raise GibCallerUnknownError


def _refused(exc: EntegratorError) -> JSONResponse:
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)


def gib_router(runtime: Runtime, *, via_tls: bool) -> APIRouter:
    """The GİB endpoint; ``via_tls``: served on the listener whose TLS checked the caller."""
    router = APIRouter()

    @router.post(
        GIB_PATH,
        tags=["gib"],
        summary="GİB's sendDocument, as GİB calls it on us",
        operation_id="gib_send_document",
        responses={
            200: {"content": {"application/soap+xml": {}, "text/xml": {}}},
            500: {
                "description": "A SOAP fault with GİB's code",
                "content": {"application/soap+xml": {}, "text/xml": {}},
            },
            **errors(
                *BODY,
                401,
                403,
                503,
                when={
                    401: "The caller is not GİB (GIB_CALLER_UNKNOWN)",
                    403: "The endpoint is closed here (GIB_ENDPOINT_CLOSED)",
                    503: "The database is away (DATABASE_UNAVAILABLE); see Retry-After",
                },
            ),
        },
    )
    async def gib_inbound(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        from entegrator.documents.authorities import GIB_VKN
        from entegrator.documents.response import ResponseParty, build_system_response
        from entegrator.gib import soap
        from entegrator.services.inbound import RECEIVED, InboundFault

        try:
            check_caller(runtime.settings, authorization, via_tls=via_tls)
        except EntegratorError as exc:
            return _refused(exc)
        content_type = request.headers.get("content-type", "")
        version = soap.version_of(content_type)
        body = await request.body()
        action = request.headers.get("soapaction")  # SOAP 1.1; 1.2 names it in the type
        try:  # a named action must match the body's operation; a missing one is taken
            message = await run_in_threadpool(
                functools.partial(soap.parse_request, soap_action=action), content_type, body
            )
        except soap.SoapError as exc:
            ct, xml = soap.build_fault(2005, exc.text_tr, version=version, sender=True)
            return Response(xml, status_code=500, media_type=ct)
        if isinstance(message, soap.GetAppResp):
            found = await run_in_threadpool(runtime.inbound.status_of, message.instance_identifier)
            if found is None:
                ct, xml = soap.build_fault(2004, "Zarf bulunamadı", version=version)
                return Response(xml, status_code=500, media_type=ct)
            _tenant, code, detail = found
            gib = ResponseParty(GIB_VKN, "Gelir İdaresi Başkanlığı")
            answer = build_system_response(
                envelope_id=message.instance_identifier.upper(),
                envelope_type="SENDERENVELOPE",
                code=code,
                description=detail or str(code),
                sender=gib,
                receiver=gib,
                envelope_date=dt.datetime.now(dt.UTC).date(),
                issued=dt.datetime.now(dt.UTC),
            )
            ct, xml = soap.build(soap.GetAppRespResponse(answer.decode()), version=version)
            return Response(xml, media_type=ct)
        try:
            received = await run_in_threadpool(
                runtime.inbound.receive, message.file_name, message.data, message.hash
            )
        except InboundFault as fault:
            ct, xml = soap.build_fault(fault.code, fault.msg, version=version)
            return Response(xml, status_code=500, media_type=ct)
        ct, xml = soap.build(soap.DocumentResponse(RECEIVED, received.md5), version=version)
        return Response(xml, media_type=ct)

    return router


def create_gib_app(runtime: Runtime) -> FastAPI:
    """The app of the mutual-TLS listener: the GİB endpoint and nothing else."""
    app = FastAPI(title="entegrator GİB endpoint", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit, limit=runtime.settings.max_body_bytes)
    app.include_router(gib_router(runtime, via_tls=True))
    return app


def tls_server(runtime: Runtime, host: str) -> uvicorn.Server | None:
    """The mutual-TLS listener for GİB when ``ENTEGRATOR_GIB_INBOUND_TLS_PORT`` is set: TLS
    with this server's certificate, and a client certificate that chains to
    ``ENTEGRATOR_GIB_INBOUND_CLIENT_CA`` required of every caller (refused in the handshake)."""
    import ssl

    s = runtime.settings
    if s.gib_inbound_tls_port is None:
        return None
    missing = [
        name
        for name, value in (
            ("ENTEGRATOR_GIB_INBOUND_TLS_CERT", s.gib_inbound_tls_cert),
            ("ENTEGRATOR_GIB_INBOUND_TLS_KEY", s.gib_inbound_tls_key),
            ("ENTEGRATOR_GIB_INBOUND_CLIENT_CA", s.gib_inbound_client_ca),
        )
        if value is None
    ]
    if missing:
        raise GibEndpointClosedError(
            detail_tr=f"karşılıklı TLS için eksik ayar: {', '.join(missing)}",
            detail_en=f"mutual TLS needs: {', '.join(missing)}",
        )
    config = uvicorn.Config(
        create_gib_app(runtime),
        host=host,
        port=s.gib_inbound_tls_port,
        ssl_certfile=str(s.gib_inbound_tls_cert),
        ssl_keyfile=str(s.gib_inbound_tls_key),
        ssl_ca_certs=str(s.gib_inbound_client_ca),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        log_level="info",
        access_log=False,
        lifespan="off",
    )
    return uvicorn.Server(config)
