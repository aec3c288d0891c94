"""GİB's registered users, from the cached list: ``/api/v1/gib-users``.

Whether a VKN/TCKN is a registered e-Fatura / e-İrsaliye user, its title, first registration
date and every alias with its document type and kind (PK: posta kutusu, where documents are
delivered; GB: gönderici birim, where they are sent from), with how old the cached list is.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from entegrator.api.deps import Principal, RuntimeDep
from entegrator.api.errors import InvalidParameterError
from entegrator.api.responses import AUTH, BODY, errors
from entegrator.api.schemas import Timestamp
from entegrator.errors import EntegratorError
from entegrator.runtime import Runtime
from entegrator.store.gib_users import StoredUser, list_refreshed_at, lookup_users

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/gib-users", tags=["gib-users"])

MAX_LOOKUP = 1000
_IDENTIFIER = re.compile(r"^[0-9]{10,11}$")
_DOCUMENTS = {"Invoice": "invoice", "DespatchAdvice": "despatch"}


class UserListEmptyError(EntegratorError):
    code = "GIB_USER_LIST_EMPTY"
    message_tr = "GİB kayıtlı kullanıcı listesi henüz alınmadı; kimin kayıtlı olduğu bilinmiyor"
    message_en = "GİB's registered-user list has not been fetched yet; nobody can be told"
    http_status = 503


class AliasOut(BaseModel):
    alias: str
    document: Literal["invoice", "despatch"]
    kind: Literal["PK", "GB"] = Field(description="PK: mailbox (receives); GB: sender unit")
    created: Timestamp | None
    deleted: Timestamp | None
    active: bool


class GibUserOut(BaseModel):
    identifier: str = Field(description="VKN or TCKN")
    registered: bool = Field(description="An e-Fatura user now: at least one active invoice PK")
    despatch_registered: bool = Field(description="An e-İrsaliye user now (active despatch PK)")
    title: str | None
    first_registration: Timestamp | None
    account_type: str | None
    aliases: list[AliasOut]


class GibUsersOut(BaseModel):
    users: list[GibUserOut]
    list_refreshed_at: Timestamp = Field(description="When the cached list was fetched")
    list_age_seconds: int


class LookupIn(BaseModel):
    identifiers: Annotated[
        list[Annotated[str, Field(max_length=16)]],
        Field(min_length=1, max_length=MAX_LOOKUP, description="VKN/TCKN (at most 1,000)"),
    ]


def _when(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _user(identifier: str, stored: StoredUser | None, now: dt.datetime) -> GibUserOut:
    if stored is None:
        return GibUserOut(
            identifier=identifier,
            registered=False,
            despatch_registered=False,
            title=None,
            first_registration=None,
            account_type=None,
            aliases=[],
        )
    aliases = []
    for a in stored.user.aliases:
        created, deleted = _when(a.get("created")), _when(a.get("deleted"))
        aliases.append(
            AliasOut(
                alias=str(a.get("name", "")),
                document=_DOCUMENTS.get(str(a.get("document")), "invoice"),
                kind="GB" if a.get("kind") == "GB" else "PK",
                created=created.isoformat() if created else None,
                deleted=deleted.isoformat() if deleted else None,
                active=(created is None or created <= now) and (deleted is None or deleted > now),
            )
        )
    if not stored.user.aliases:  # a list fetched before the aliases were kept in full
        aliases = [
            AliasOut(alias=n, document="invoice", kind=k, created=None, deleted=None, active=True)
            for k, names in (("PK", stored.user.mailboxes), ("GB", stored.user.sender_units))
            for n in names
        ]
    first = stored.user.first_created
    return GibUserOut(
        identifier=identifier,
        registered=any(a.active and a.kind == "PK" and a.document == "invoice" for a in aliases),
        despatch_registered=any(
            a.active and a.kind == "PK" and a.document == "despatch" for a in aliases
        ),
        title=stored.user.title,
        first_registration=first.isoformat() if first else None,
        account_type=stored.user.account_type,
        aliases=aliases,
    )


def _lookup(runtime: Runtime, identifiers: list[str]) -> GibUsersOut:
    for i, identifier in enumerate(identifiers):
        if not _IDENTIFIER.match(identifier):
            where = "vkn_or_tckn" if len(identifiers) == 1 else f"identifiers[{i}]"
            raise InvalidParameterError(where=where, detail=f"{where}: 10 or 11 digits")
    with runtime.db.unscoped() as conn:
        refreshed = list_refreshed_at(conn)
        found = lookup_users(conn, sorted(set(identifiers))) if refreshed else {}
    if refreshed is None:
        raise UserListEmptyError
    now = runtime.clock()
    return GibUsersOut(
        users=[_user(i, found.get(i), now) for i in identifiers],
        list_refreshed_at=refreshed.isoformat(),
        list_age_seconds=max(0, int((now - refreshed).total_seconds())),
    )


_RESPONSES = errors(
    *AUTH, 422, 503, when={503: "The user list was never fetched (GIB_USER_LIST_EMPTY)"}
)


@router.get(
    "/{vkn_or_tckn}",
    operation_id="get_gib_user",
    summary="Is this VKN/TCKN a registered user? Its title, dates and aliases",
    responses=_RESPONSES,
)
def get_gib_user(vkn_or_tckn: str, runtime: RuntimeDep, key: Principal) -> GibUsersOut:
    return _lookup(runtime, [vkn_or_tckn[:16]])


@router.post(
    "",
    operation_id="lookup_gib_users",
    summary="Look up many VKN/TCKN at once (at most 1,000)",
    responses=errors(*AUTH, *BODY, 422, 503),
)
def lookup_gib_users(body: LookupIn, runtime: RuntimeDep, key: Principal) -> GibUsersOut:
    return _lookup(runtime, body.identifiers)
