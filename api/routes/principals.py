"""Principals and API keys (admins), the key requests of the two-person rule, and the audit
log (regulators). A new key is shown once; only its hash is stored (docs/API.md §2)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path
from starlette.responses import JSONResponse, Response

from api.routes.body import json_body, model_body_doc, no_body
from api.routes.deps import DEFAULT_LIMIT, After, Api, CurrentCaller, Limit
from api.routes.schemas import (
    ApiKeyOut,
    AuditPage,
    KeyOut,
    KeyRequestList,
    KeyRequestOut,
    PrincipalIn,
    PrincipalList,
    PrincipalOut,
    problems,
)
from ledger.core.errors import StorageError
from ledger.service.limits import MAX_PRINCIPAL_CHARS

router = APIRouter(tags=["principals"])

Name = Annotated[
    str, Path(min_length=1, max_length=MAX_PRINCIPAL_CHARS, pattern=r"^[A-Za-z0-9._:@-]+$")
]
KeyId = Annotated[str, Path(min_length=16, max_length=16, pattern=r"^[0-9a-f]{16}$")]
RequestId = Annotated[str, Path(min_length=16, max_length=16, pattern=r"^[0-9a-f]{16}$")]


def _created(body: dict[str, Any], location: str) -> JSONResponse:
    return JSONResponse(body, status_code=201, headers={"Location": location})


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
) -> JSONResponse:
    added = api.add_principal(caller, **body.model_dump())
    return _created(added, f"/v1/principals/{quote(added['name'], safe='')}")


@router.get(
    "/principals/{name}",
    operation_id="get_principal",
    response_model=PrincipalOut,
    responses=problems(401, 403, 404),
)
def get_principal(api: Api, caller: CurrentCaller, name: Name) -> dict[str, Any]:
    return api.principal(caller, name)


@router.post(
    "/principals/{name}/keys",
    operation_id="issue_key",
    status_code=201,
    response_model=KeyOut,
    responses={
        **problems(401, 403, 404),
        202: {
            "model": KeyRequestOut,
            "description": "a key for a regulator or an admin: a request a second admin "
            "confirms (POST /v1/key-requests/{request_id}/confirm)",
        },
    },
    dependencies=[Depends(no_body)],
)
def issue_key(api: Api, caller: CurrentCaller, name: Name) -> JSONResponse:
    answer = api.access.issue_key(caller, name)
    if answer.request is not None:
        return JSONResponse(answer.request, status_code=202)
    key = answer.key
    if key is None:
        raise StorageError(f"no key was issued for {name}")
    return _created(key, f"/v1/keys/{key['key_id']}")


@router.get(
    "/keys/{key_id}",
    operation_id="get_key",
    response_model=ApiKeyOut,
    responses=problems(401, 403, 404),
)
def get_key(api: Api, caller: CurrentCaller, key_id: KeyId) -> dict[str, Any]:
    return api.access.key(caller, key_id)


@router.delete(
    "/keys/{key_id}",
    operation_id="revoke_key",
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404),
    dependencies=[Depends(no_body)],
)
def revoke_key(api: Api, caller: CurrentCaller, key_id: KeyId) -> Response:
    api.access.revoke_key(caller, key_id)
    return Response(status_code=204)


@router.get(
    "/key-requests",
    operation_id="list_key_requests",
    response_model=KeyRequestList,
    responses=problems(401, 403),
)
def list_key_requests(api: Api, caller: CurrentCaller) -> dict[str, Any]:
    return {"items": api.access.key_requests(caller)}


@router.post(
    "/key-requests/{request_id}/confirm",
    operation_id="confirm_key_request",
    status_code=201,
    response_model=KeyOut,
    responses=problems(401, 403, 404, 409),
    dependencies=[Depends(no_body)],
)
def confirm_key_request(api: Api, caller: CurrentCaller, request_id: RequestId) -> JSONResponse:
    """The second admin's confirmation: the key is made and shown once, to this admin."""
    key = api.access.confirm_key_request(caller, request_id)
    return _created(key, f"/v1/keys/{key['key_id']}")


@router.delete(
    "/key-requests/{request_id}",
    operation_id="cancel_key_request",
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404, 409),
    dependencies=[Depends(no_body)],
)
def cancel_key_request(api: Api, caller: CurrentCaller, request_id: RequestId) -> Response:
    api.access.cancel_key_request(caller, request_id)
    return Response(status_code=204)


@router.get(
    "/audit",
    operation_id="list_audit_events",
    response_model=AuditPage,
    responses=problems(401, 403),
)
def list_audit_events(
    api: Api, caller: CurrentCaller, after: After = 0, limit: Limit = DEFAULT_LIMIT
) -> dict[str, Any]:
    """Keys issued, requested, confirmed and revoked, sessions ended, privileged reads."""
    items, next_after = api.access.audit(caller, after=after, limit=limit)
    return {"items": items, "next_after": next_after}
