"""Liveness, readiness and the service description.

``/healthz``: the process answers. ``/readyz``: 200 only when the store answers, the chain
answers and the deployment check passes (the API reads the chain for that check only; it
never sends anything); otherwise 503 with every check's verdict.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse

from api.routes.deps import Api
from api.routes.schemas import HealthOut, ReadyOut, ServiceOut, problems

router = APIRouter(tags=["operations"])
service_router = APIRouter(tags=["service"])


@router.get("/healthz", operation_id="healthz", response_model=HealthOut, responses=problems())
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=ReadyOut,
    responses={
        **problems(),
        503: {"model": ReadyOut, "description": "not ready; the checks say why"},
    },
)
def readyz(api: Api) -> JSONResponse:
    checks = api.readiness()
    ready = all(v == "ok" for v in checks.values())
    headers = {} if ready else {"Retry-After": "5"}
    return JSONResponse(
        {"ready": ready, "checks": checks}, status_code=200 if ready else 503, headers=headers
    )


@service_router.get(
    "/service", operation_id="get_service", response_model=ServiceOut, responses=problems()
)
def service(api: Api) -> dict[str, Any]:
    """The service key that signs receipts, and the chain coordinates bundles name."""
    return api.service_info()
