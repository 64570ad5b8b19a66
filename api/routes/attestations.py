"""Attestations of verification bodies: read them (anyone who sees the record), file one
(auditors; it counts once TrustRegistry holds it)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.responses import JSONResponse

from api.routes.body import json_body, model_body_doc
from api.routes.deps import OPTIONAL_AUTH, Api, CurrentCaller, RecordId
from api.routes.payloads import attestation_json
from api.routes.schemas import AttestationIn, AttestationsOut, problems

router = APIRouter(tags=["attestations"])


@router.get(
    "/record/attestations",
    operation_id="list_attestations",
    openapi_extra=OPTIONAL_AUTH,
    response_model=AttestationsOut,
    responses=problems(401, 404),
)
def list_attestations(api: Api, caller: CurrentCaller, id: RecordId) -> dict[str, Any]:
    return {"record_id": id, "items": [attestation_json(a) for a in api.attestations(caller, id)]}


@router.post(
    "/attestations",
    operation_id="file_attestation",
    status_code=201,
    response_model=AttestationsOut,
    responses=problems(401, 403, 404, 409, 415),
    openapi_extra=model_body_doc(AttestationIn, "the attestation an auditor filed on-chain"),
)
def file_attestation(
    api: Api,
    caller: CurrentCaller,
    body: Annotated[AttestationIn, Depends(json_body(AttestationIn))],
) -> JSONResponse:
    items = api.file_attestation(
        caller, body.record_id, body.report_digest, body.verdict, body.tx_hash
    )
    location = "/v1/record/attestations?" + urlencode({"id": body.record_id})
    return JSONResponse(
        {"record_id": body.record_id, "items": [attestation_json(a) for a in items]},
        status_code=201,
        headers={"Location": location},
    )
