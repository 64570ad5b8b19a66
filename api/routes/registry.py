"""The registry (docs/API.md §3.8): one search, the listings of enterprises and equipment
with their filters, an enterprise's and a piece of equipment's aggregates, the warning
list, the whitelist of verification bodies, the public register of green enterprises,
the document check, and the enterprise register regulators keep."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.registry import ENTERPRISE_ID_PATTERN, hit_url
from api.routes.body import json_body, model_body_doc
from api.routes.deps import OPTIONAL_AUTH, Api, CurrentCaller, Limit, Subject
from api.routes.registry_payloads import (
    document_json,
    enterprise_detail_json,
    enterprise_row_json,
    equipment_detail_json,
    equipment_json,
    search_json,
    warning_json,
    whitelist_json,
)
from api.routes.registry_schemas import (
    DocumentsOut,
    EnterpriseDetailOut,
    EnterpriseIn,
    EnterprisePage,
    EquipmentDetailOut,
    EquipmentPage,
    SearchOut,
    WarningPage,
    WhitelistOut,
)
from api.routes.schemas import problems
from ledger.service.registry import MAX_PAGE_NUMBER, MAX_QUERY_CHARS
from ledger.service.registrymodels import Listing
from ledger.store.listings import EnterpriseFilter, EquipmentFilter

router = APIRouter(tags=["registry"])

DEFAULT_LIMIT = 50
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER, description="page, from 1")]
Grade = Literal["AAA", "AA", "A", "B", "C"]
Risk = Literal["none", "not-assessable", "blue", "yellow", "red"]
WarningState = Literal["listed", "overdue", "rectified", "clear"]
Region = Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
EnterpriseId = Annotated[str, Query(min_length=1, max_length=400, description="enterprise id")]
RegisteredId = Annotated[
    str, Query(pattern=ENTERPRISE_ID_PATTERN, description="enterprise id (a URN)")
]


def _page(listing: Listing[Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": items,
        "page": listing.page,
        "limit": listing.limit,
        "total": listing.total,
        "pages": listing.pages,
    }


@router.get(
    "/search",
    operation_id="search",
    openapi_extra=OPTIONAL_AUTH,
    response_model=SearchOut,
    responses=problems(401),
)
def search(
    api: Api,
    caller: CurrentCaller,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
) -> dict[str, Any]:
    """A name (part of it, either language), a Handle/OID/Ecode, a record id, a digest, a
    transaction hash or a batch number; what it names."""
    found = api.registry.search(caller, q)
    return search_json(found, [hit_url(h) for h in found.hits])


@router.get(
    "/enterprises",
    operation_id="list_enterprises",
    openapi_extra=OPTIONAL_AUTH,
    response_model=EnterprisePage,
    responses=problems(401),
)
def list_enterprises(
    api: Api,
    caller: CurrentCaller,
    grade: Grade | None = None,
    region: Region | None = None,
    risk: Risk | None = None,
    warning: WarningState | None = None,
    page: PageNumber = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    f = EnterpriseFilter(
        grades=(grade,) if grade else (), region=region, risk=risk, warning=warning
    )
    listing = api.registry.enterprises(f, page=page, limit=limit)
    return _page(listing, [enterprise_row_json(r) for r in listing.items])


@router.get(
    "/registry",
    operation_id="green_registry",
    openapi_extra=OPTIONAL_AUTH,
    response_model=EnterprisePage,
    responses=problems(401),
)
def green_registry(
    api: Api,
    caller: CurrentCaller,
    region: Region | None = None,
    page: PageNumber = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """The public register of green enterprises (rated AAA, AA or A)."""
    listing = api.registry.green(region, page=page, limit=limit)
    return _page(listing, [enterprise_row_json(r) for r in listing.items])


@router.get(
    "/enterprise",
    operation_id="get_enterprise",
    openapi_extra=OPTIONAL_AUTH,
    response_model=EnterpriseDetailOut,
    responses=problems(401, 404),
)
def get_enterprise(api: Api, caller: CurrentCaller, id: EnterpriseId) -> dict[str, Any]:
    return enterprise_detail_json(api.registry.enterprise(caller, id))


@router.put(
    "/enterprise",
    operation_id="register_enterprise",
    response_model=EnterpriseDetailOut,
    responses=problems(401, 403, 404, 415),
    openapi_extra=model_body_doc(EnterpriseIn, "the enterprise's register entry"),
)
def register_enterprise(
    api: Api,
    caller: CurrentCaller,
    id: RegisteredId,
    body: Annotated[EnterpriseIn, Depends(json_body(EnterpriseIn))],
) -> dict[str, Any]:
    """A regulator's register entry: the names in English and Chinese, the region and the
    Handle prefixes whose equipment belongs to the enterprise."""
    return enterprise_detail_json(api.registry.register(caller, id, **body.model_dump()))


@router.get(
    "/equipment",
    operation_id="list_equipment",
    openapi_extra=OPTIONAL_AUTH,
    response_model=EquipmentPage,
    responses=problems(401),
)
def list_equipment(
    api: Api,
    caller: CurrentCaller,
    enterprise: EnterpriseId | None = None,
    region: Region | None = None,
    risk: Risk | None = None,
    grade: Grade | None = None,
    warning: WarningState | None = None,
    page: PageNumber = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    f = EquipmentFilter(
        enterprise_id=enterprise,
        region=region,
        risk=risk,
        grades=(grade,) if grade else (),
        warning=warning,
    )
    listing = api.registry.equipment_list(f, page=page, limit=limit)
    return _page(listing, [equipment_json(e) for e in listing.items])


@router.get(
    "/equipment/item",
    operation_id="get_equipment",
    openapi_extra=OPTIONAL_AUTH,
    response_model=EquipmentDetailOut,
    responses=problems(401, 404),
)
def get_equipment(api: Api, caller: CurrentCaller, subject: Subject) -> dict[str, Any]:
    return equipment_detail_json(api.registry.equipment(caller, subject))


@router.get(
    "/warnings",
    operation_id="list_warnings",
    openapi_extra=OPTIONAL_AUTH,
    response_model=WarningPage,
    responses=problems(401),
)
def list_warnings(
    api: Api,
    caller: CurrentCaller,
    status: Literal["listed", "overdue", "rectified"] | None = None,
    page: PageNumber = 1,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """C-grade enterprises with their deadlines, days left, overdue or rectified."""
    listing = api.registry.warnings(status, page=page, limit=limit)
    return _page(listing, [warning_json(w) for w in listing.items])


@router.get(
    "/whitelist",
    operation_id="list_verification_bodies",
    openapi_extra=OPTIONAL_AUTH,
    response_model=WhitelistOut,
    responses=problems(401),
)
def list_verification_bodies(
    api: Api, caller: CurrentCaller, region: Region | None = None
) -> dict[str, Any]:
    """Accredited verification bodies (the TrustRegistry's), per region."""
    return {"region": region, "items": [whitelist_json(e) for e in api.registry.whitelist(region)]}


@router.get(
    "/documents",
    operation_id="find_document",
    openapi_extra=OPTIONAL_AUTH,
    response_model=DocumentsOut,
    responses=problems(401),
)
def find_document(
    api: Api,
    caller: CurrentCaller,
    sha256: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$", description="document SHA-256")],
) -> dict[str, Any]:
    """The archive records listing a document with this SHA-256."""
    items = api.registry.documents(caller, sha256)
    return {"sha256": sha256, "items": [document_json(m) for m in items]}
