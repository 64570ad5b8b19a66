"""Revocation requests (regulators; producers for their own records, docs/API.md §3.5):
stored pending; the anchorer sends AnchorRegistry ``revoke`` through its outbox and the
record's status shows ``revoked`` once the registry holds it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.routes.body import json_body, model_body_doc
from api.routes.deps import Api, CurrentCaller
from api.routes.payloads import status_json
from api.routes.schemas import RevocationIn, StatusOut, problems

router = APIRouter(tags=["revocations"])


@router.post(
    "/revocations",
    operation_id="request_revocation",
    status_code=202,
    response_model=StatusOut,
    responses=problems(401, 403, 404, 409, 415),
    openapi_extra=model_body_doc(RevocationIn, "the record and the reason of the revocation"),
)
def request_revocation(
    api: Api,
    caller: CurrentCaller,
    body: Annotated[RevocationIn, Depends(json_body(RevocationIn))],
) -> dict[str, Any]:
    return status_json(
        api.request_revocation(caller, body.record_id, body.reason_code, body.reason_digest)
    )
