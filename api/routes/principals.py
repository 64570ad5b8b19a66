"""Principals and API keys (admins). A new key is shown once; only its hash is stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from api.routes.body import json_body, model_body_doc, no_body
from api.routes.deps import Api, CurrentCaller
from api.routes.schemas import KeyOut, PrincipalIn, PrincipalList, PrincipalOut, problems
from ledger.service.limits import MAX_PRINCIPAL_CHARS

router = APIRouter(tags=["principals"])

Name = Annotated[
    str, Path(min_length=1, max_length=MAX_PRINCIPAL_CHARS, pattern=r"^[A-Za-z0-9._:@-]+$")
]
KeyId = Annotated[str, Path(min_length=16, max_length=16, pattern=r"^[0-9a-f]{16}$")]


@router.get(
    "/principals",
    operation_id="list_principals",
    response_model=PrincipalList,
    responses=problems(401, 403),
)
def list_principals(api: Api, caller: CurrentCaller) -> dict[str, Any]:
    return {"items": api.principals(caller)}


@router.post(
    "/principals",
    operation_id="add_principal",
    status_code=201,
    response_model=PrincipalOut,
    responses=problems(401, 403, 409, 415),
    openapi_extra=model_body_doc(PrincipalIn, "the new principal"),
)
def add_principal(
    api: Api,
    caller: CurrentCaller,
    body: Annotated[PrincipalIn, Depends(json_body(PrincipalIn))],
) -> dict[str, Any]:
    return api.add_principal(caller, **body.model_dump())


@router.post(
    "/principals/{name}/keys",
    operation_id="issue_key",
    status_code=201,
    response_model=KeyOut,
    responses=problems(401, 403, 404),
    dependencies=[Depends(no_body)],
)
def issue_key(api: Api, caller: CurrentCaller, name: Name) -> KeyOut:
    issued = api.issue_key(caller, name)
    return KeyOut(key_id=issued.key_id, principal=issued.principal, api_key=issued.token)


@router.delete(
    "/keys/{key_id}",
    operation_id="revoke_key",
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404),
    dependencies=[Depends(no_body)],
)
def revoke_key(api: Api, caller: CurrentCaller, key_id: KeyId) -> Response:
    api.revoke_key(caller, key_id)
    return Response(status_code=204)
