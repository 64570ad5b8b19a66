"""The CBAM supplier-to-declarant package (docs/CBAM.md): JSON or an XLSX workbook."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import access_for, require_role
from api.routes.body import require_json
from api.routes.deps import CurrentCaller
from api.routes.schemas import problems
from ledger.core.canonical import canonicalize, parse_json
from ledger.core.cbam import consignment_ids, parse_request
from ledger.exchange.cbam_workbook import XLSX_MEDIA_TYPE, package_workbook
from ledger.service.cbam import CbamService
from ledger.store.access import ROLES

router = APIRouter(tags=["cbam"])

MAX_REQUEST_BYTES = 4 * 1024 * 1024

_REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "carbonledger-cbam-request/1 (docs/CBAM.md §2)",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "carbonledger-cbam-package/1, or its workbook when Accept asks for XLSX",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/cbam/packages",
    operation_id="cbam_package",
    response_class=Response,
    responses={**_ANSWER, **problems(401, 404, 409, 415)},
    openapi_extra=_REQUEST,
)
async def cbam_package(request: Request, caller: CurrentCaller) -> Response:
    """The package for one CBAM good and one reference period (a calendar year)."""
    require_role(caller, *ROLES)
    require_json(request)
    value = parse_json(await request.body(), root="request", max_bytes=MAX_REQUEST_BYTES)
    service: CbamService = request.app.state.cbam
    package = await run_in_threadpool(service.package, value, access_for(caller))
    if XLSX_MEDIA_TYPE in request.headers.get("accept", ""):
        data = await run_in_threadpool(package_workbook, package)
        return Response(
            data,
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="cbam-package.xlsx"'},
        )
    return Response(canonicalize(package), media_type="application/json")


@router.post(
    "/cbam/bundle",
    operation_id="cbam_bundle",
    response_class=Response,
    responses={
        200: {
            "description": "the bundle of the package's consignments (docs/FORMAT.md §6)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **problems(401, 404, 409, 415),
    },
    openapi_extra=_REQUEST,
)
async def cbam_bundle(request: Request, caller: CurrentCaller) -> Response:
    """The evidence bundle of a package request's consignments, with their closure: what
    ``carbon-verify cbam`` recomputes the package from."""
    require_json(request)
    value = parse_json(await request.body(), root="request", max_bytes=MAX_REQUEST_BYTES)
    ids = consignment_ids(parse_request(value))
    api = request.app.state.api
    data, _ = await run_in_threadpool(api.bundle_records, caller, ids)
    return Response(data, media_type="application/json")
