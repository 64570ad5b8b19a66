"""Authorised queries (docs/API.md §2.1): access requests of bidders and financial
institutions, decided by the regulator or the enterprise; the access log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from api.routes.deps import Api, CurrentCaller, Limit, declared_query_only
from api.routes.registry_payloads import grant_json, log_entry_json
from api.routes.registry_schemas import (
    AccessLogOut,
    AccessRequestIn,
    DecisionIn,
    GrantOut,
    GrantsOut,
)
from api.routes.schemas import problems
from ledger.service.limits import MAX_CURSOR

router = APIRouter(tags=["access"], dependencies=[Depends(declared_query_only)])

RequestId = Annotated[str, Path(min_length=16, max_length=16, pattern=r"^[0-9a-f]{16}$")]


@router.get(
    "/access-requests",
    operation_id="list_access_requests",
    response_model=GrantsOut,
    responses=problems(401, 403),
)
def list_access_requests(api: Api, caller: CurrentCaller) -> dict[str, Any]:
    """A reader's own requests, an enterprise's about itself, every one for a regulator."""
    return {"items": [grant_json(g) for g in api.registry.requests(caller)]}


@router.post(
    "/access-requests",
    operation_id="request_access",
    status_code=201,
    response_model=GrantOut,
    responses=problems(401, 403, 404),
)
def request_access(api: Api, caller: CurrentCaller, body: AccessRequestIn) -> dict[str, Any]:
    return grant_json(
        api.registry.request_access(
            caller, body.enterprise_id, scope=body.scope, purpose=body.purpose, days=body.days
        )
    )


@router.post(
    "/access-requests/{request_id}/decision",
    operation_id="decide_access_request",
    response_model=GrantOut,
    responses=problems(401, 403, 404, 409),
)
def decide_access_request(
    api: Api, caller: CurrentCaller, request_id: RequestId, body: DecisionIn
) -> dict[str, Any]:
    return grant_json(api.registry.decide(caller, request_id, approve=body.approve, note=body.note))


@router.post(
    "/access-requests/{request_id}/end",
    operation_id="end_access_request",
    response_model=GrantOut,
    responses=problems(401, 403, 404, 409),
)
def end_access_request(api: Api, caller: CurrentCaller, request_id: RequestId) -> dict[str, Any]:
    """Revoke a grant (regulator, or the enterprise) or withdraw a request (requester)."""
    return grant_json(api.registry.end(caller, request_id))


@router.get(
    "/access-log",
    operation_id="read_access_log",
    response_model=AccessLogOut,
    responses=problems(401, 403),
)
def read_access_log(
    api: Api,
    caller: CurrentCaller,
    before: Annotated[int | None, Query(ge=1, le=MAX_CURSOR)] = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Reads of non-public views, newest first: all for a regulator, its own data's for an
    enterprise."""
    entries, next_before = api.registry.access_log(caller, before=before, limit=limit)
    return {"items": [log_entry_json(e) for e in entries], "next_before": next_before}
