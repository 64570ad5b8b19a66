"""Prometheus metrics in the text exposition format (version 0.0.4), through
``prometheus_client`` (``api.metrics``; docs/API.md §6).

Aggregates only (no record ids), so the endpoint is open to the scraper without a key.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.metrics import CONTENT_TYPE
from api.routes.deps import Api
from api.routes.schemas import problems

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={
        **problems(),
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
    },
)
async def metrics(api: Api) -> Response:
    body = await run_in_threadpool(api.metrics.render)
    return Response(body, media_type=CONTENT_TYPE)
