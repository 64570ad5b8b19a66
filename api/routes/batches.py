"""Batches and a batch with its manifest (public: manifests list digests, never ids)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from api.auth import ANONYMOUS
from api.routes.caching import cached_json
from api.routes.deps import DEFAULT_LIMIT, After, Api, Limit
from api.routes.payloads import batch_detail_json, batch_json
from api.routes.schemas import BatchDetailOut, BatchPage, problems
from ledger.service.limits import MAX_CURSOR

router = APIRouter(tags=["batches"])


@router.get("/batches", operation_id="list_batches", response_model=BatchPage, responses=problems())
def list_batches(api: Api, after: After = 0, limit: Limit = DEFAULT_LIMIT) -> BatchPage:
    page = api.batches(after, limit)
    return BatchPage.model_validate(
        {"items": [batch_json(b) for b in page.items], "next_after": page.next_after}
    )


@router.get(
    "/batches/{seq}",
    operation_id="get_batch",
    response_model=BatchDetailOut,
    responses=problems(404),
)
def get_batch(
    request: Request, api: Api, seq: Annotated[int, Path(ge=1, le=MAX_CURSOR)]
) -> Response:
    """A batch and its manifest (public: manifests list digests, never ids); once
    anchored, ``immutable`` (docs/API.md §3.6)."""
    found = BatchDetailOut.model_validate(batch_detail_json(api.batch(seq))).model_dump(mode="json")
    return cached_json(request, ANONYMOUS, found, immutable=found["state"] == "anchored")
