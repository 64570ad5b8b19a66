"""Submitting records (producers) and reading one record and its status.

Identifiers travel in the query string (``?id=``): record ids are URNs and subjects Handle
ids, both of which may contain ``/`` and ``%``, which path segments cannot carry intact.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.routes.body import request_body_doc, require_json
from api.routes.caching import cached_json
from api.routes.deps import OPTIONAL_AUTH, Api, CurrentCaller, RecordId
from api.routes.payloads import record_json, status_json
from api.routes.schemas import ReceiptOut, ReceiptsOut, RecordOut, StatusOut, problems
from api.service import StoredResponse
from ledger.service.limits import MAX_IDEMPOTENCY_KEY_CHARS

router = APIRouter(tags=["records"])

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_CHARS,
        description="client-chosen key; a retry with the same key and body replays the "
        "receipt, another body with the same key is refused (422)",
    ),
]

_SUBMISSION = {
    "type": "object",
    "required": ["format", "view", "signature"],
    "properties": {
        "format": {"type": "string", "enum": ["carbonledger-submission/1"]},
        "view": {"type": "object"},
        "signature": {"type": "object"},
    },
}
_BULK = {
    "type": "object",
    "required": ["format", "submissions"],
    "properties": {
        "format": {"type": "string", "enum": ["carbonledger-submission-batch/1"]},
        "submissions": {"type": "array", "items": _SUBMISSION, "minItems": 1},
    },
}


def _reply(out: StoredResponse, *, bulk: bool) -> Response:
    headers = {"Idempotent-Replayed": "true"} if out.replayed else {}
    if out.status == 201 and not bulk and len(out.record_ids) == 1:
        # RFC 9110 §15.3.2: the created resource. A bulk creates many and names none.
        headers["Location"] = "/v1/record?" + urlencode({"id": out.record_ids[0]})
    return Response(
        out.body, status_code=out.status, media_type="application/json", headers=headers
    )


@router.post(
    "/records",
    operation_id="submit_record",
    status_code=201,
    response_model=ReceiptOut,
    responses=problems(401, 403, 409, 415, 503),
    openapi_extra=request_body_doc(_SUBMISSION, "docs/SUBMISSION.md"),
)
async def submit_record(
    request: Request, api: Api, caller: CurrentCaller, key: IdempotencyKey
) -> Response:
    """Submit one signed record; answers its receipt (producers)."""
    require_json(request)
    body = await request.body()
    out = await run_in_threadpool(api.submit, caller, body, key, bulk=False)
    return _reply(out, bulk=False)


@router.post(
    "/records/bulk",
    operation_id="submit_records",
    status_code=201,
    response_model=ReceiptsOut,
    responses=problems(401, 403, 409, 415, 503),
    openapi_extra=request_body_doc(_BULK, "docs/SUBMISSION.md"),
)
async def submit_records(
    request: Request, api: Api, caller: CurrentCaller, key: IdempotencyKey
) -> Response:
    """Submit a bulk of signed records, all or nothing; answers the receipts in order."""
    require_json(request)
    body = await request.body()
    out = await run_in_threadpool(api.submit, caller, body, key, bulk=True)
    return _reply(out, bulk=True)


@router.get(
    "/record",
    operation_id="get_record",
    openapi_extra=OPTIONAL_AUTH,
    response_model=RecordOut,
    responses=problems(401, 404),
)
def get_record(request: Request, api: Api, caller: CurrentCaller, id: RecordId) -> Response:
    """A record in the caller's view: full or the public redacted view. Once anchored it
    never changes: ``ETag`` and ``Cache-Control: immutable`` (docs/API.md §3.6)."""
    found = RecordOut.model_validate(record_json(api.record(caller, id))).model_dump(mode="json")
    return cached_json(request, caller, found, immutable=found["status"] == "anchored")


@router.get(
    "/record/status",
    operation_id="get_record_status",
    openapi_extra=OPTIONAL_AUTH,
    response_model=StatusOut,
    responses=problems(401, 404),
)
def get_status(api: Api, caller: CurrentCaller, id: RecordId) -> dict[str, Any]:
    """Pending, batched, anchored (seq, tx, block), revoked or superseded."""
    return status_json(api.status(caller, id))
