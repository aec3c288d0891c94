"""Calls on the GİB simulator's document service, shared by the tests that talk to it."""

from __future__ import annotations

import httpx

from entegrator.documents.response import read_response
from entegrator.gib.soap import GetAppResp, GetAppRespResponse, build, parse_response
from entegrator.gibsim.app import SERVICE


def envelope_status(gib: str, token: str, envelope_id: str) -> int:
    """The four-digit status GİB answers for an envelope (``getApplicationResponse``)."""
    ct, body = build(GetAppResp(envelope_id))
    r = httpx.post(
        f"{gib}{SERVICE}",
        content=body,
        headers={"Content-Type": ct, "Authorization": f"Bearer {token}"},
    )
    answer = parse_response(r.headers["content-type"], r.content)
    assert isinstance(answer, GetAppRespResponse)
    code = read_response(answer.application_response.encode()).status_code
    assert code is not None
    return code
